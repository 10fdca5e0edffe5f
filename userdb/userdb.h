/* userdb: the user database interface (USER lookups, LIST iteration) and
 * the driver registry. Drivers set fields on the request with
 * auth_request_set_userdb_field() and finish with auth_request_userdb_done(). */
#ifndef USERDB_USERDB_H
#define USERDB_USERDB_H

#include "authd/settings.h"

#include <stdbool.h>

struct auth_request;
struct event_loop;

enum userdb_result {
	USERDB_RESULT_INTERNAL_FAILURE = -1,
	USERDB_RESULT_USER_UNKNOWN = 0,
	USERDB_RESULT_OK = 1,
};

struct userdb;
struct userdb_iter;

/* iterate_next: no entry ready yet (see struct userdb_driver). */
#define USERDB_ITER_PENDING 2
typedef void userdb_iter_ready_fn(void *ctx);

struct userdb_driver {
	const char *name;
	int (*init)(struct userdb *db, const char *args, const char **error_r);
	void (*deinit)(struct userdb *db);
	void (*lookup)(struct userdb *db, struct auth_request *req);
	/* Optional iteration for LIST. iterate_init returns NULL on error.
	 * iterate_next: 1 with *user_r (valid until the next call), 0 done,
	 * -1 error, or USERDB_ITER_PENDING (asynchronous drivers: nothing
	 * ready yet; the driver calls the ready function given to
	 * iterate_set_ready, from the event loop and never from inside
	 * iterate_next, when iterate_next may be called again). May be called
	 * across event loop turns. */
	struct userdb_iter *(*iterate_init)(struct userdb *db, const char **error_r);
	int (*iterate_next)(struct userdb_iter *it, const char **user_r);
	/* Required when iterate_next can return USERDB_ITER_PENDING; called
	 * right after iterate_init. ready is not called after iterate_deinit. */
	void (*iterate_set_ready)(struct userdb_iter *it, userdb_iter_ready_fn *ready, void *ctx);
	void (*iterate_deinit)(struct userdb_iter **it);
};

struct userdb {
	const struct userdb_driver *driver;
	const struct db_settings *set;
	struct pool *pool;
	unsigned int id;
	struct event_loop *loop;      /* for asynchronous drivers (ldap) */
	void *ctx;
	/* Lookups run in an auth worker process (authd/request_worker.h); set
	 * by the driver's init() (passwd: default yes; args blocking=). */
	bool blocking;
};

/* Returns the userdb, or NULL with *error_r naming file and line. */
struct userdb *userdb_create(const struct db_settings *set, unsigned int id,
			     struct event_loop *loop,
			     const char **error_r);
void userdb_destroy(struct userdb **db);

extern const struct userdb_driver userdb_driver_passwd_file;
extern const struct userdb_driver userdb_driver_static;
extern const struct userdb_driver userdb_driver_ldap;
extern const struct userdb_driver userdb_driver_vpopmail;
extern const struct userdb_driver userdb_driver_passwd;
extern const struct userdb_driver userdb_driver_checkpassword;

#endif
