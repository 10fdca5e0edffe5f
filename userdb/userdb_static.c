/* userdb static: the same templated fields for every user
 * (`args = uid=vmail gid=vmail home=/var/vmail/%d/%n`). Without
 * allow_all_users=yes a USER lookup first asks the passdbs whether the user
 * exists, as Dovecot does, so unknown users get NOTFOUND. */
#include "userdb/userdb.h"
#include "authd/auth.h"
#include "authd/request.h"
#include "authd/request_fields.h"
#include "common/pool.h"

#include <string.h>

struct userdb_static {
	const char *templates;   /* "k=tmpl k2=tmpl2" without allow_all_users */
	bool allow_all_users;
};

static int userdb_static_init(struct userdb *db, const char *args, const char **error_r)
{
	struct userdb_static *st = pool_alloc(db->pool, sizeof(*st));
	struct buf kept = BUF_INIT(64 * 1024);
	for (const char *p = args; *p != '\0';) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n >= 16 && strncmp(p, "allow_all_users=", 16) == 0)
			st->allow_all_users = n == 19 && strncmp(p + 16, "yes", 3) == 0;
		else if (buf_append(&kept, p, n) < 0 || buf_append_byte(&kept, ' ') < 0) {
			buf_free(&kept);
			*error_r = "args too long";
			return -1;
		}
		p += n;
	}
	st->templates = pool_strdup(db->pool, buf_cstr(&kept));
	buf_free(&kept);
	db->ctx = st;
	return 0;
}

static void userdb_static_finish(struct userdb *db, struct auth_request *req)
{
	const struct userdb_static *st = db->ctx;
	auth_request_apply_userdb_templates(req, st->templates);
	auth_request_userdb_done(req, USERDB_RESULT_OK);
}

static void userdb_static_lookup(struct userdb *db, struct auth_request *req)
{
	const struct userdb_static *st = db->ctx;
	if (st->allow_all_users || req->kind != AUTH_REQUEST_USER) {
		userdb_static_finish(db, req);
		return;
	}
	auth_request_passdb_chain_start(req, true);
}

void auth_request_userdb_existence_checked(struct auth_request *req, enum passdb_result result)
{
	struct userdb *db = req->auth->userdbs[req->userdb_index];
	switch (result) {
	case PASSDB_RESULT_OK:
		userdb_static_finish(db, req);
		break;
	case PASSDB_RESULT_INTERNAL_FAILURE:
		auth_request_userdb_done(req, USERDB_RESULT_INTERNAL_FAILURE);
		break;
	default:
		auth_request_userdb_done(req, USERDB_RESULT_USER_UNKNOWN);
		break;
	}
}

const struct userdb_driver userdb_driver_static = {
	.name = "static",
	.init = userdb_static_init,
	.lookup = userdb_static_lookup,
};
