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
	mode_t mode;          /* unix: default 0600 (0666 for auth-userdb) */
	bool mode_set;
	const char *user;     /* unix: owner name; "" = keep */
	const char *group;    /* unix: group name; "" = keep */
	const char *address;  /* inet: "" = all */
	unsigned int port;    /* inet: 0 = disabled */
	enum listener_type type;
	const char *file;
	unsigned int line;
};

struct auth_settings {
	struct pool *pool;

	const char *base_dir;                 /* /var/run/dovecot */
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
	const char *auth_verbose_passwords;   /* "no", "plain", "sha1", "sha1:N" */
	bool disable_plaintext_auth;          /* accepted, not enforced (spec 2.10) */
	unsigned int auth_worker_max_count;   /* 30 */
	unsigned int auth_hash_threads;       /* 0 = number of online cores */
	bool auth_ssl_require_client_cert, auth_ssl_username_from_cert;

	const char *service_auth_user;        /* service auth { user }; default
					       * $default_internal_user */

	struct db_settings *passdbs;          /* in config order */
	size_t passdb_count;
	struct db_settings *userdbs;
	size_t userdb_count;
	struct listener_settings *listeners;
	size_t listener_count;
};

/* Reads path (with !include etc.) and builds settings.
 * Returns 0, or -1 with *error_r set to "FILE:LINE: setting: problem"
 * (owned by a static buffer valid until the next call). */
int settings_load(const char *path, struct auth_settings **set_r, const char **error_r);

/* Frees everything and NULLs *set. */
void settings_free(struct auth_settings **set);

/* Writes the settings as Dovecot-syntax text: all of them (all=true, like
 * `doveconf -a`) or only those differing from the defaults (`doveconf -n`).
 * Returns 0 or -1 on write error. */
int settings_dump(const struct auth_settings *set, bool all, int fd);

#endif
