/* passdb passwd: the password field of a system account from getpwnam_r
 * (Dovecot 2.3's passdb-passwd.c): useful with NSS backends that return a
 * hash there, or old systems without shadow. Blocking (an auth worker);
 * default scheme CRYPT; a locked or empty field answers user disabled. */
#include "passdb/passdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_passwd.h"

static int passdb_passwd_init(struct passdb *db, const char *args, const char **error_r)
{
	struct db_passwd_args *a = pool_alloc(db->pool, sizeof(*a));
	if (db_passwd_args_parse(db->pool, args, false, a, error_r) < 0)
		return -1;
	db->blocking = a->blocking;
	db->default_scheme = DB_PASSWD_SCHEME;
	db->ctx = a;
	return 0;
}

static void passdb_passwd_lookup(struct passdb *db, struct auth_request *req)
{
	struct db_passwd_entry e;
	const char *error = NULL;
	(void)db;
	auth_request_log(req, LOG_LEVEL_DEBUG, "passwd", "lookup");
	int ret = db_passwd_getpwnam(req->pool, req->user, &e, &error);
	if (ret < 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, "passwd", "%s", error);
		auth_request_passdb_done(req, PASSDB_RESULT_INTERNAL_FAILURE, NULL);
		return;
	}
	if (ret == 0) {
		auth_request_passdb_done(req, PASSDB_RESULT_USER_UNKNOWN, NULL);
		return;
	}
	if (!db_passwd_hash_usable(e.passwd)) {
		auth_request_log(req, LOG_LEVEL_INFO, "passwd", "invalid password field");
		auth_request_passdb_done(req, PASSDB_RESULT_USER_DISABLED, NULL);
		return;
	}
	auth_request_set_passdb_field(req, "user", e.name);
	auth_request_passdb_done(req, PASSDB_RESULT_OK, e.passwd);
}

const struct passdb_driver passdb_driver_passwd = {
	.name = "passwd",
	.flags = PASSDB_FLAG_BLOCKING,
	.init = passdb_passwd_init,
	.lookup = passdb_passwd_lookup,
};
