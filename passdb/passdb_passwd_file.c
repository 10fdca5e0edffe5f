/* passdb passwd-file: Dovecot's format (spec passwd-file-and-ldap.md A). */
#include "passdb/passdb.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_passwd_file_args.h"

#include <string.h>

static int passdb_passwd_file_init(struct passdb *db, const char *args, const char **error_r)
{
	struct passwd_file_args *a = pool_alloc(db->pool, sizeof(*a));
	if (passwd_file_args_parse(db->pool, args, true, a, error_r) < 0)
		return -1;
	if (!scheme_spec_valid(a->scheme)) {
		*error_r = pool_printf(db->pool, "Unknown scheme: %s", a->scheme);
		return -1;
	}
	db->default_scheme = a->scheme;
	db->prefix_rule = SCHEME_PREFIX_PASSWD_FILE;
	db->blocking = a->blocking;
	db->ctx = a;
	return 0;
}

/* Extra fields are %-expanded per request (spec A.3). */
static void passdb_passwd_file_fields(struct auth_request *req, const struct passwd_entry *e)
{
	for (size_t i = 0; i < e->extra_count; i++) {
		const char *item = e->extra[i];
		const char *eq = strchr(item, '=');
		if (eq == NULL) {
			auth_request_set_passdb_field(req, item, NULL);
			continue;
		}
		const char *key = pool_strndup(req->pool, item, (size_t)(eq - item));
		const char *value = auth_request_expand(req, "passwd-file", eq + 1);
		if (value != NULL)
			auth_request_set_passdb_field(req, key, value);
	}
}

static void passdb_passwd_file_lookup(struct passdb *db, struct auth_request *req)
{
	const struct passwd_file_args *args = db->ctx;
	struct passwd_entry e;
	int ret = passwd_file_args_lookup(args, req, "passwd-file", &e);
	if (ret <= 0) {
		auth_request_passdb_done(req, ret < 0 ? PASSDB_RESULT_INTERNAL_FAILURE :
					 PASSDB_RESULT_USER_UNKNOWN, NULL);
		return;
	}
	/* The password is already a copy in req->pool; the fields are copied
	 * by the setters before anything can reload the file. */
	passdb_passwd_file_fields(req, &e);
	auth_request_passdb_done(req, PASSDB_RESULT_OK, e.password);
}

const struct passdb_driver passdb_driver_passwd_file = {
	.name = "passwd-file",
	.init = passdb_passwd_file_init,
	.lookup = passdb_passwd_file_lookup,
};
