/* passdb: the password database interface, the driver registry and the
 * per-instance state built from a `passdb { }` block.
 *
 * A driver's lookup() finds the user and reports, through
 * auth_request_passdb_done(), the stored password (with the instance's
 * default scheme for prefix-less values) and the extra fields it set on the
 * request. The request code verifies the password with the scheme module
 * (on the hash pool when expensive) and runs the chain rules. Drivers that
 * can only verify (PAM) implement verify_plain() instead. */
#ifndef PASSDB_PASSDB_H
#define PASSDB_PASSDB_H

#include "authd/settings.h"
#include "common/scheme.h"

#include <stdbool.h>

struct auth_request;
struct event_loop;

enum passdb_result {
	PASSDB_RESULT_INTERNAL_FAILURE = -1,
	PASSDB_RESULT_SCHEME_NOT_AVAILABLE = -2,
	PASSDB_RESULT_USER_UNKNOWN = -3,
	PASSDB_RESULT_USER_DISABLED = -4,
	PASSDB_RESULT_PASS_EXPIRED = -5,
	PASSDB_RESULT_NEXT = -6,          /* noauthenticate: only fields */
	PASSDB_RESULT_PASSWORD_MISMATCH = 0,
	PASSDB_RESULT_OK = 1,
};

enum passdb_flag {
	PASSDB_FLAG_BLOCKING = 1u << 0,       /* runs in a worker process */
	PASSDB_FLAG_NO_CREDENTIALS = 1u << 1, /* can only verify (PAM) */
};

struct passdb;

struct passdb_driver {
	const char *name;
	unsigned int flags;
	/* Parses args. Returns 0, or -1 with *error_r (static or pool text). */
	int (*init)(struct passdb *db, const char *args, const char **error_r);
	void (*deinit)(struct passdb *db);
	/* Finds the user; must end with auth_request_passdb_done(), now or later. */
	void (*lookup)(struct passdb *db, struct auth_request *req);
	/* Optional: verifies req's password itself; ends with
	 * auth_request_passdb_verified(). */
	void (*verify_plain)(struct passdb *db, struct auth_request *req);
};

struct passdb {
	const struct passdb_driver *driver;
	const struct db_settings *set;
	struct pool *pool;            /* lives as long as the passdb */
	unsigned int id;
	struct event_loop *loop;      /* for asynchronous drivers (ldap) */              /* 1-based position, %! */
	const char *default_scheme;   /* for prefix-less stored passwords */
	enum scheme_prefix_rule prefix_rule;
	void *ctx;                    /* the driver's */
	/* Lookups run in an auth worker process (authd/request_worker.h).
	 * passdb_create() sets it from PASSDB_FLAG_BLOCKING; init() may change
	 * it (args blocking=yes|no). */
	bool blocking;
};

/* Creates a passdb from its settings. Returns the passdb, or NULL with
 * *error_r "FILE:LINE: passdb passwd-file: problem". */
struct passdb *passdb_create(const struct db_settings *set, unsigned int id,
			     struct event_loop *loop,
			     const char **error_r);
void passdb_destroy(struct passdb **db);

extern const struct passdb_driver passdb_driver_passwd_file;
extern const struct passdb_driver passdb_driver_ldap;
extern const struct passdb_driver passdb_driver_vpopmail;
extern const struct passdb_driver passdb_driver_pam;
extern const struct passdb_driver passdb_driver_shadow;
extern const struct passdb_driver passdb_driver_passwd;
extern const struct passdb_driver passdb_driver_checkpassword;

#endif
