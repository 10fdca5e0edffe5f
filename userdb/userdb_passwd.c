/* userdb passwd: uid, gid and home of a system account from getpwnam_r
 * (Dovecot 2.3's userdb-passwd.c), plus system_groups_user so mail
 * processes get the account's groups. Blocking by default (an auth worker);
 * args: blocking=yes|no, cache_key=, and Dovecot's deprecated key=value
 * templates, applied after the lookup. User iteration is not supported. */
#include "userdb/userdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "authd/request_fields.h"
#include "common/pool.h"
#include "passdb/db_passwd.h"

#include <stdio.h>

static int userdb_passwd_init(struct userdb *db, const char *args, const char **error_r)
{
	struct db_passwd_args *a = pool_alloc(db->pool, sizeof(*a));
	if (db_passwd_args_parse(db->pool, args, true, a, error_r) < 0)
		return -1;
	if (*a->templates != '\0')
		log_warning("userdb passwd: Move templates args to override_fields setting");
	db->blocking = a->blocking;
	db->ctx = a;
	return 0;
}

static void userdb_passwd_lookup(struct userdb *db, struct auth_request *req)
{
	const struct db_passwd_args *a = db->ctx;
	struct db_passwd_entry e;
	const char *error = NULL;
	char num[32];
	auth_request_log(req, LOG_LEVEL_DEBUG, "passwd", "lookup");
	int ret = db_passwd_getpwnam(req->pool, req->user, &e, &error);
	if (ret <= 0) {
		if (ret < 0)
			auth_request_log(req, LOG_LEVEL_ERROR, "passwd", "%s", error);
		auth_request_userdb_done(req, ret < 0 ? USERDB_RESULT_INTERNAL_FAILURE :
					 USERDB_RESULT_USER_UNKNOWN);
		return;
	}
	auth_request_set_passdb_field(req, "user", e.name);
	auth_request_set_userdb_field(req, "system_groups_user", e.name);
	snprintf(num, sizeof(num), "%lu", (unsigned long)e.uid);
	auth_request_set_userdb_field(req, "uid", num);
	snprintf(num, sizeof(num), "%lu", (unsigned long)e.gid);
	auth_request_set_userdb_field(req, "gid", num);
	auth_request_set_userdb_field(req, "home", e.home);
	auth_request_apply_userdb_templates(req, a->templates);
	auth_request_userdb_done(req, USERDB_RESULT_OK);
}

const struct userdb_driver userdb_driver_passwd = {
	.name = "passwd",
	.init = userdb_passwd_init,
	.lookup = userdb_passwd_lookup,
};
