/* passdb shadow: the password hash of a system account from getspnam_r
 * (Dovecot 2.3's passdb-shadow.c). Blocking: runs in an auth worker, which
 * is root by default and can read /etc/shadow. The hash is verified in the
 * auth process like any stored password (default scheme CRYPT). A locked
 * or empty hash ("!", "*", "") answers user disabled, as Dovecot does. */
#include "passdb/passdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_passwd.h"

static int passdb_shadow_init(struct passdb *db, const char *args, const char **error_r)
{
	struct db_passwd_args *a = pool_alloc(db->pool, sizeof(*a));
	if (db_passwd_args_parse(db->pool, args, false, a, error_r) < 0)
		return -1;
	db->blocking = a->blocking;
	db->default_scheme = DB_PASSWD_SCHEME;
	db->ctx = a;
	return 0;
}

static void passdb_shadow_lookup(struct passdb *db, struct auth_request *req)
{
	struct db_passwd_entry e;
	const char *error = NULL;
	(void)db;
	auth_request_log(req, LOG_LEVEL_DEBUG, "shadow", "lookup");
	int ret = db_passwd_getspnam(req->pool, req->user, &e, &error);
	if (ret < 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, "shadow", "%s", error);
		auth_request_passdb_done(req, PASSDB_RESULT_INTERNAL_FAILURE, NULL);
		return;
	}
	if (ret == 0) {
		auth_request_passdb_done(req, PASSDB_RESULT_USER_UNKNOWN, NULL);
		return;
	}
	if (!db_passwd_hash_usable(e.passwd)) {
		auth_request_log(req, LOG_LEVEL_INFO, "shadow", "invalid password field");
		auth_request_passdb_done(req, PASSDB_RESULT_USER_DISABLED, NULL);
		return;
	}
	/* The name exactly as the database has it. */
	auth_request_set_passdb_field(req, "user", e.name);
	auth_request_passdb_done(req, PASSDB_RESULT_OK, e.passwd);
}

const struct passdb_driver passdb_driver_shadow = {
	.name = "shadow",
	.flags = PASSDB_FLAG_BLOCKING,
	.init = passdb_shadow_init,
	.lookup = passdb_shadow_lookup,
};
