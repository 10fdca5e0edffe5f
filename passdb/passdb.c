#include "passdb/passdb.h"
#include "common/pool.h"

#include <stdlib.h>
#include <string.h>

static const struct passdb_driver *const passdb_drivers[] = {
	&passdb_driver_passwd_file,
	&passdb_driver_ldap,
	&passdb_driver_vpopmail,
	&passdb_driver_pam,
	&passdb_driver_shadow,
	&passdb_driver_passwd,
	&passdb_driver_checkpassword,
};

static const struct passdb_driver *passdb_driver_find(const char *name)
{
	for (size_t i = 0; i < sizeof(passdb_drivers) / sizeof(passdb_drivers[0]); i++)
		if (strcmp(passdb_drivers[i]->name, name) == 0)
			return passdb_drivers[i];
	return NULL;
}

struct passdb *passdb_create(const struct db_settings *set, unsigned int id,
			     struct event_loop *loop,
			     const char **error_r)
{
	const struct passdb_driver *driver = passdb_driver_find(set->driver);
	if (driver == NULL) {
		*error_r = settings_db_error(set, "passdb", "unknown driver");
		return NULL;
	}
	struct pool *pool = pool_create(0);
	struct passdb *db = pool_alloc(pool, sizeof(*db));
	db->pool = pool;
	db->driver = driver;
	db->set = set;
	db->id = id;
	db->loop = loop;
	db->default_scheme = "CRYPT";
	db->prefix_rule = SCHEME_PREFIX_PASSWD_FILE;
	db->blocking = (driver->flags & PASSDB_FLAG_BLOCKING) != 0;
	const char *error = NULL;
	if (driver->init(db, set->args != NULL ? set->args : "", &error) < 0) {
		*error_r = settings_db_error(set, "passdb", error);
		pool_destroy(&pool);
		return NULL;
	}
	return db;
}

void passdb_destroy(struct passdb **dbp)
{
	struct passdb *db = *dbp;
	if (db == NULL)
		return;
	if (db->driver->deinit != NULL)
		db->driver->deinit(db);
	struct pool *pool = db->pool;
	pool_destroy(&pool);
	*dbp = NULL;
}
