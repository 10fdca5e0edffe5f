#include "userdb/userdb.h"
#include "common/pool.h"

#include <string.h>

static const struct userdb_driver *const userdb_drivers[] = {
	&userdb_driver_passwd_file,
	&userdb_driver_static,
	&userdb_driver_ldap,
	&userdb_driver_vpopmail,
	&userdb_driver_passwd,
	&userdb_driver_checkpassword,
};

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
	const struct userdb_driver *driver = userdb_driver_find(set->driver);
	if (driver == NULL) {
		*error_r = settings_db_error(set, "userdb", "unknown driver");
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
		*error_r = settings_db_error(set, "userdb", error);
		pool_destroy(&pool);
		return NULL;
	}
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
}
