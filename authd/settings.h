/* settings: authd's typed settings, built from a parsed config tree.
 *
 * config.c parses Dovecot 2.3 syntax into a tree (config.h); settings.c
 * turns that tree into these structs, applies Dovecot 2.3.19's defaults and
 * validates values. All strings are owned by the settings' pool and live
 * until settings_free(). */
#ifndef AUTHD_SETTINGS_H
#define AUTHD_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

struct pool;

/* result_success / result_failure / result_internalfail values */
enum db_result_action {
	DB_RESULT_RETURN,         /* "return" */
	DB_RESULT_RETURN_OK,      /* "return-ok" */
	DB_RESULT_RETURN_FAIL,    /* "return-fail" */
	DB_RESULT_CONTINUE,       /* "continue" */
	DB_RESULT_CONTINUE_OK,    /* "continue-ok" */
	DB_RESULT_CONTINUE_FAIL,  /* "continue-fail" */
};

/* passdb skip = never|authenticated|unauthenticated;
 * userdb skip = never|found|notfound */
enum db_skip {
	DB_SKIP_NEVER,
	DB_SKIP_AUTHENTICATED,    /* passdb */
	DB_SKIP_UNAUTHENTICATED,  /* passdb */
	DB_SKIP_FOUND,            /* userdb */
	DB_SKIP_NOTFOUND,         /* userdb */
};

/* passdb/userdb { auth_verbose = default|yes|no } */
enum db_auth_verbose {
	DB_AUTH_VERBOSE_DEFAULT,  /* follow the global auth_verbose */
	DB_AUTH_VERBOSE_YES,
	DB_AUTH_VERBOSE_NO,
};

struct db_settings {
	const char *driver;            /* "passwd-file", "static", ... */
	const char *args;              /* raw args string, "" if unset */
	const char *default_fields;    /* raw, space separated key=value templates */
	const char *override_fields;
	const char *mechanisms;        /* passdb only; "" = all */
	const char *username_filter;   /* passdb only; "" = all */
	enum db_skip skip;
	enum db_result_action result_success;      /* default RETURN_OK */
	enum db_result_action result_failure;      /* default CONTINUE */
	enum db_result_action result_internalfail; /* default CONTINUE */
	bool deny;                     /* passdb only */
	bool master;                   /* passdb only */
	bool pass;                     /* passdb only */
	const char *file;              /* where the block starts, for messages */
	unsigned int line;
	const char *name;              /* `passdb NAME {`, "" if none */
	enum db_auth_verbose auth_verbose;
};

enum listener_type {
	LISTENER_CLIENT,   /* auth-client protocol, plain client (Postfix, Exim) */
	LISTENER_LOGIN,    /* auth-client protocol, login type (REQUEST allowed) */
	LISTENER_MASTER,   /* master protocol, all commands */
	LISTENER_USERDB,   /* master protocol, USER/PASS/LIST only */
};

struct listener_settings {
	const char *name;     /* as written in the config */
	bool inet;            /* inet_listener */
	const char *path;     /* unix: absolute path (base_dir applied) */
	mode_t mode;          /* unix: default 0600 (0666 for auth-userdb);
			       * always the mode to apply */
	bool mode_set;        /* mode written in the config */
	const char *user;     /* unix: owner name; "" = keep. Defaults:
			       * default_internal_user for auth-client,
			       * auth-login, auth-userdb; "" otherwise */
	const char *group;    /* unix: group name; "" = keep */
	bool user_explicit;   /* user written in the config (apply it even
			       * when not started as root) */
	bool group_explicit;  /* group written in the config */
	const char *address;  /* inet: "" = all */
	unsigned int port;    /* inet: 0 = disabled */
	enum listener_type type;
	const char *file;
	unsigned int line;
};

struct auth_settings {
	struct pool *pool;

	const char *base_dir;                 /* /run/dovecot (Debian build; absolute) */
	const char *default_internal_user;    /* dovecot */
	const char *log_path, *info_log_path, *debug_log_path, *syslog_facility;

	const char *auth_mechanisms;          /* "plain" */
	const char *auth_username_format;     /* "%Lu" */
	const char *auth_username_chars;      /* Dovecot's default set */
	const char *auth_username_translation;
	const char *auth_default_realm;
	const char *auth_realms;
	const char *auth_master_user_separator;
	const char *auth_anonymous_username;  /* "anonymous" */
	unsigned int auth_failure_delay;      /* seconds, default 2 */
	bool auth_verbose, auth_debug, auth_debug_passwords;
	const char *auth_verbose_passwords;   /* "no", "plain", "sha1", "sha1:N"
					       * ("yes" is stored as "plain") */
	bool disable_plaintext_auth;          /* accepted, not enforced (spec 2.10) */
	unsigned int auth_worker_max_count;   /* 30 */
	unsigned int auth_hash_threads;       /* 0 = number of online cores */
	bool auth_ssl_require_client_cert, auth_ssl_username_from_cert;
	uint64_t auth_cache_size;             /* bytes, 0 = no cache (default) */
	unsigned int auth_cache_ttl;          /* seconds, default 3600 */
	unsigned int auth_cache_negative_ttl; /* seconds, default 3600 */
	bool auth_cache_verify_password_with_worker; /* accepted; authd's cache
						      * check is one keyed hash */
	bool auth_allow_weak_schemes;         /* authd-only (2.4 name), default yes */

	const char *service_auth_user;        /* service auth { user }; default
					       * $default_internal_user */
	const char *service_auth_worker_user; /* service auth-worker { user };
					       * default "" = stay root */

	struct db_settings *passdbs;          /* in config order */
	size_t passdb_count;
	struct db_settings *userdbs;
	size_t userdb_count;
	struct listener_settings *listeners;
	size_t listener_count;
};

/* Reads path (with !include etc.) and builds settings.
 * Returns 0, or -1 with *error_r set to "FILE:LINE: setting: problem"
 * (owned by a static buffer valid until the next call).
 *
 * Besides the fields' own defaults (Dovecot 2.3.19's, `doveconf -d`):
 * - auth_debug_passwords=yes implies auth_debug=yes, which implies
 *   auth_verbose=yes (as Dovecot's auth process does);
 * - base_dir is made absolute against the working directory;
 * - listeners: auth-client, auth-login, auth-master and auth-userdb always
 *   exist (as in Dovecot); a configured listener of the same name changes
 *   their attributes; every listener's path is absolute.
 * Warnings (ambiguous '#', obsolete settings, auth settings inside
 * protocol/local/remote blocks, which authd ignores) go to the log.
 * Blocks on reading the files. */
int settings_load(const char *path, struct auth_settings **set_r, const char **error_r);

enum settings_load_flags {
	SETTINGS_LOAD_NO_FILES = 1u << 0,  /* refuse !include and `key = <file` */
	SETTINGS_LOAD_QUIET    = 1u << 1,  /* no warnings to the log */
};

/* Same for a config held in memory (untrusted bytes: tests, fuzzing);
 * name appears in error messages; relative includes are resolved against
 * the working directory. */
int settings_load_buffer(const char *name, const uint8_t *data, size_t len,
			 struct auth_settings **set_r, const char **error_r);
/* With flags (enum settings_load_flags). */
int settings_load_buffer_flags(const char *name, const uint8_t *data, size_t len,
			       unsigned int flags, struct auth_settings **set_r,
			       const char **error_r);

/* Formats a problem of a passdb/userdb block as "FILE:LINE: KIND DRIVER:
 * problem" (kind "passdb" or "userdb") into a static buffer valid until the
 * next call; returns it. */
const char *settings_db_error(const struct db_settings *db, const char *kind,
			      const char *problem);

/* Frees everything and NULLs *set. */
void settings_free(struct auth_settings **set);

/* Writes the settings as Dovecot-syntax text: all of them (all=true, like
 * `doveconf -a`) or only those differing from the defaults (`doveconf -n`).
 * The text loads back (settings_load) to equal settings (settings_equal).
 * With all=true, listener attributes that were not written in the config
 * appear as comments with their effective value. Returns 0 or -1 on write
 * error (errno set). May block on fd. */
int settings_dump(const struct auth_settings *set, bool all, int fd);

struct buf;
/* Same into a buffer. Returns 0 or -1 when the buffer's limit is hit. */
int settings_dump_buf(const struct auth_settings *set, bool all, struct buf *out);

/* Whether a and b are the same settings, ignoring where they came from
 * (file and line fields). */
bool settings_equal(const struct auth_settings *a, const struct auth_settings *b);

#endif
