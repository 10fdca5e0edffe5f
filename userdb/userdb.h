/* userdb: the user database interface (USER lookups, LIST iteration) and
 * the driver registry. Drivers set fields on the request with
 * auth_request_set_userdb_field() and finish with auth_request_userdb_done(). */
#ifndef USERDB_USERDB_H
#define USERDB_USERDB_H

#include "authd/settings.h"

#include <stdbool.h>

struct auth_request;

enum userdb_result {
	USERDB_RESULT_INTERNAL_FAILURE = -1,
	USERDB_RESULT_USER_UNKNOWN = 0,
	USERDB_RESULT_OK = 1,
};

struct userdb;
struct userdb_iter;

struct userdb_driver {
	const char *name;
	int (*init)(struct userdb *db, const char *args, const char **error_r);
	void (*deinit)(struct userdb *db);
	void (*lookup)(struct userdb *db, struct auth_request *req);
	/* Optional iteration for LIST. iterate_init returns NULL on error.
	 * iterate_next: 1 with *user_r (valid until the next call), 0 done,
	 * -1 error. May be called across event loop turns. */
	struct userdb_iter *(*iterate_init)(struct userdb *db, const char **error_r);
	int (*iterate_next)(struct userdb_iter *it, const char **user_r);
	void (*iterate_deinit)(struct userdb_iter **it);
};

struct userdb {
	const struct userdb_driver *driver;
	const struct db_settings *set;
	struct pool *pool;
	unsigned int id;
	void *ctx;
};

/* Returns the userdb, or NULL with *error_r naming file and line. */
struct userdb *userdb_create(const struct db_settings *set, unsigned int id,
			     const char **error_r);
void userdb_destroy(struct userdb **db);

extern const struct userdb_driver userdb_driver_passwd_file;
extern const struct userdb_driver userdb_driver_static;

#endif
