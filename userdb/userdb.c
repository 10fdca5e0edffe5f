#include "userdb/userdb.h"
#include "common/pool.h"
#include "passdb/db_passwd_file_args.h"

#include <stdio.h>
#include <string.h>

static const struct userdb_driver *const userdb_drivers[] = {
	&userdb_driver_passwd_file,
	&userdb_driver_static,
	&userdb_driver_ldap,
	&userdb_driver_vpopmail,
	&userdb_driver_passwd,
	&userdb_driver_checkpassword,
};

static unsigned int userdb_created;

static const struct userdb_driver *userdb_driver_find(const char *name)
{
	for (size_t i = 0; i < sizeof(userdb_drivers) / sizeof(userdb_drivers[0]); i++)
		if (strcmp(userdb_drivers[i]->name, name) == 0)
			return userdb_drivers[i];
	return NULL;
}

struct userdb *userdb_create(const struct db_settings *set, unsigned int id,
			     struct event_loop *loop,
			     const char **error_r)
{
	static char errbuf[1024];
	const struct userdb_driver *driver = userdb_driver_find(set->driver);
	if (driver == NULL) {
		snprintf(errbuf, sizeof(errbuf), "%s:%u: userdb: driver '%s' is not supported yet",
			 set->file != NULL ? set->file : "?", set->line, set->driver);
		*error_r = errbuf;
		return NULL;
	}
	struct pool *pool = pool_create(0);
	struct userdb *db = pool_alloc(pool, sizeof(*db));
	db->pool = pool;
	db->driver = driver;
	db->set = set;
	db->id = id;
	db->loop = loop;
	const char *error = NULL;
	if (driver->init(db, set->args != NULL ? set->args : "", &error) < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s:%u: userdb %s: %s",
			 set->file != NULL ? set->file : "?", set->line, driver->name, error);
		*error_r = errbuf;
		pool_destroy(&pool);
		return NULL;
	}
	passwd_file_args_set_userdb_count(++userdb_created);
	return db;
}

void userdb_destroy(struct userdb **dbp)
{
	struct userdb *db = *dbp;
	if (db == NULL)
		return;
	if (db->driver->deinit != NULL)
		db->driver->deinit(db);
	struct pool *pool = db->pool;
	pool_destroy(&pool);
	*dbp = NULL;
	if (userdb_created > 0)
		passwd_file_args_set_userdb_count(--userdb_created);
}
