/* settings_private: what the settings_*.c files share; not for other modules.
 *
 *   settings.c          loading: top-level settings table, defaults, checks
 *   settings_value.c    typed values: bool, number, time, size, mode, port
 *   settings_db.c       passdb { } and userdb { } blocks
 *   settings_service.c  service auth { } / auth-worker { } and listeners
 *   settings_dump.c     Dovecot-syntax output and comparison */
#ifndef AUTHD_SETTINGS_PRIVATE_H
#define AUTHD_SETTINGS_PRIVATE_H

#include "authd/config.h"
#include "authd/settings.h"

struct buf;

#define SETTINGS_MAX_DBS        64u     /* passdb or userdb blocks */
#define SETTINGS_MAX_LISTENERS  64u     /* listeners of service auth */
#define SETTINGS_MAX_HASH_THREADS 1024u /* auth_hash_threads */
#define SETTINGS_ERROR_VALUE_MAX 64     /* bytes of a bad value in an error */

enum setting_type {
	SETTING_STRING,
	SETTING_BOOL,
	SETTING_UINT,
	SETTING_TIME,    /* seconds */
	SETTING_SIZE,    /* bytes, uint64_t */
};

struct settings_ctx;

/* A top-level setting authd understands. */
struct setting_def {
	const char *name;
	enum setting_type type;
	size_t offset;        /* in struct auth_settings, or SETTING_NOT_STORED */
	const char *def;      /* default, as Dovecot writes it */
	/* Extra validation after the value was parsed (and stored); NULL if
	 * none. value is the text; returns 0 or -1 with *error_r set. */
	int (*check)(struct settings_ctx *ctx, const struct config_node *node,
		     const char *value, const char **error_r);
};

#define SETTING_NOT_STORED ((size_t)-1)

extern const struct setting_def settings_defs[];
extern const size_t settings_defs_count;

/* State while one config tree becomes settings. */
struct settings_ctx {
	struct auth_settings *set;
	struct config_tree *tree;
	unsigned int flags;              /* enum settings_load_flags */
	bool service_auth_user_set;
	size_t passdb_cap, userdb_cap, listener_cap;
};

/* settings_value.c. Each returns 0, or -1 with *error_r set to a problem
 * description (without location) allocated from pool. */
int settings_parse_bool(struct pool *pool, const char *value, bool *b_r, const char **error_r);
int settings_parse_uint(struct pool *pool, const char *value, unsigned int *num_r,
			const char **error_r);
int settings_parse_time(struct pool *pool, const char *value, unsigned int *secs_r,
			const char **error_r);
int settings_parse_size(struct pool *pool, const char *value, uint64_t *bytes_r,
			const char **error_r);
int settings_parse_mode(struct pool *pool, const char *value, mode_t *mode_r,
			const char **error_r);
int settings_parse_port(struct pool *pool, const char *value, unsigned int *port_r,
			const char **error_r);
/* Appends secs/bytes as Dovecot prints them ("2 secs", "1 hours", "10 M"). */
int settings_format_time(struct buf *out, unsigned int secs);
int settings_format_size(struct buf *out, uint64_t bytes);
/* Appends value quoted for a config file when it needs quoting. */
int settings_format_value(struct buf *out, const char *value);
/* Whether a section name authd stores (passdb name, listener name) is
 * free of quotes, backslashes, '#', braces and control characters. */
bool settings_name_valid(const char *name);
/* Appends a valid section name, quoted when it has white space. */
int settings_format_name(struct buf *out, const char *name);

/* settings.c: formats "fmt..." into the settings error buffer (static,
 * valid until the next settings or config call); returns -1. */
int settings_fail(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same as "FILE:LINE: KEY: msg" for node. */
int settings_node_fail(const struct config_node *node, const char *msg, const char **error_r);
/* settings.c: the node's value (a `<file` read, no control characters),
 * owned by the settings' pool. Returns 0 or -1 with *error_r set to the
 * full "FILE:LINE: KEY: problem" text. */
int settings_node_value(struct settings_ctx *ctx, const struct config_node *node,
			const char **value_r, const char **error_r);
/* Logs a warning about node unless SETTINGS_LOAD_QUIET. */
void settings_warn(struct settings_ctx *ctx, const struct config_node *node, const char *msg);
/* Grows *array (of elem_size elements, *cap of them) to hold count + 1. */
void settings_array_grow(struct settings_ctx *ctx, void **array, size_t elem_size,
			 size_t count, size_t *cap);

/* settings_db.c: a passdb or userdb section at the top level. */
int settings_db_section(struct settings_ctx *ctx, const struct config_node *section,
			const char **error_r);

enum db_key_type {
	DB_KEY_STRING,
	DB_KEY_BOOL,
	DB_KEY_SKIP,
	DB_KEY_RESULT,
	DB_KEY_VERBOSE,
};

/* A setting inside passdb { } / userdb { }. */
struct db_key {
	const char *name;
	enum db_key_type type;
	size_t offset;          /* in struct db_settings */
	bool passdb_only;
	const char *def;        /* default, as settings_db_format() prints it */
};
extern const struct db_key settings_db_keys[];
extern const size_t settings_db_keys_count;
/* Appends the value of key in db as config text. Returns 0 or -1 (limit). */
int settings_db_format(const struct db_settings *db, const struct db_key *key, struct buf *out);

/* settings_service.c */
void settings_service_init(struct settings_ctx *ctx);
int settings_service_section(struct settings_ctx *ctx, const struct config_node *section,
			     const char **error_r);
/* After everything is read: default owners, paths, types. */
int settings_service_finish(struct settings_ctx *ctx, const char **error_r);
/* The index of a built-in listener name (auth-client ...), or -1. */
int settings_default_listener(const char *name);
/* Defaults of built-in listener i: mode and whether the default owner is
 * default_internal_user. */
mode_t settings_default_listener_mode(int i);
bool settings_default_listener_owned(int i);

#endif
