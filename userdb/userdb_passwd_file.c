/* userdb passwd-file: uid, gid, home columns and userdb_* extra fields
 * (spec passwd-file-and-ldap.md A.1, A.3). */
#include "userdb/userdb.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_passwd_file_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int userdb_passwd_file_init(struct userdb *db, const char *args, const char **error_r)
{
	struct passwd_file_args *a = pool_alloc(db->pool, sizeof(*a));
	if (passwd_file_args_parse(db->pool, args, false, a, error_r) < 0)
		return -1;
	passwd_file_args_mark_userdb(a->path);
	db->blocking = a->blocking;
	db->ctx = a;
	return 0;
}

static void userdb_passwd_file_fields(struct auth_request *req, const struct passwd_entry *e)
{
	char num[32];
	if (e->has_uid) {
		snprintf(num, sizeof(num), "%lu", (unsigned long)e->uid);
		auth_request_set_userdb_field(req, "uid", num);
	}
	if (e->has_gid) {
		snprintf(num, sizeof(num), "%lu", (unsigned long)e->gid);
		auth_request_set_userdb_field(req, "gid", num);
	}
	if (e->home != NULL)
		auth_request_set_userdb_field(req, "home", e->home);
	for (size_t i = 0; i < e->extra_count; i++) {
		const char *item = e->extra[i];
		if (strncmp(item, "userdb_", 7) != 0)
			continue;
		item += 7;
		const char *eq = strchr(item, '=');
		if (eq == NULL) {
			auth_request_set_userdb_field(req, item, NULL);
			continue;
		}
		const char *key = pool_strndup(req->pool, item, (size_t)(eq - item));
		const char *value = auth_request_expand(req, "passwd-file", eq + 1);
		if (value != NULL)
			auth_request_set_userdb_field(req, key, value);
	}
}

static void userdb_passwd_file_lookup(struct userdb *db, struct auth_request *req)
{
	const struct passwd_file_args *args = db->ctx;
	struct passwd_entry e;
	int ret = passwd_file_args_lookup(args, req, "passwd-file", &e);
	if (ret < 0) {
		auth_request_userdb_done(req, USERDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	if (ret == 0 || !e.has_userdb) {
		auth_request_userdb_done(req, USERDB_RESULT_USER_UNKNOWN);
		return;
	}
	userdb_passwd_file_fields(req, &e);
	auth_request_userdb_done(req, USERDB_RESULT_OK);
}

struct userdb_iter {
	const struct passwd_file_args *args;
	size_t pos;
	char *user;   /* copy of the current name */
};

static struct userdb_iter *userdb_passwd_file_iterate_init(struct userdb *db, const char **error_r)
{
	const struct passwd_file_args *args = db->ctx;
	if (args->path_has_vars) {
		*error_r = "User iteration is not supported with variables in the path";
		return NULL;
	}
	struct userdb_iter *it = calloc(1, sizeof(*it));
	if (it == NULL) {
		*error_r = "Out of memory";
		return NULL;
	}
	it->args = args;
	return it;
}

/* Each step re-fetches the file (a cheap stat at most every
 * PASSWD_FILE_STAT_INTERVAL_MS): when it was reloaded meanwhile, iteration
 * continues at the same position of the new contents. */
static int userdb_passwd_file_iterate_next(struct userdb_iter *it, const char **user_r)
{
	const struct passwd_file *pf;
	const char *error = NULL;
	int ret = db_passwd_file_get(it->args->path, true, false, &pf, &error);
	if (ret <= 0)
		return ret;
	const char *user = passwd_file_user(pf, it->pos);
	if (user == NULL)
		return 0;
	it->pos++;
	free(it->user);
	it->user = strdup(user);
	if (it->user == NULL)
		return -1;
	*user_r = it->user;
	return 1;
}

static void userdb_passwd_file_iterate_deinit(struct userdb_iter **itp)
{
	if (*itp == NULL)
		return;
	free((*itp)->user);
	free(*itp);
	*itp = NULL;
}

static void userdb_passwd_file_deinit(struct userdb *db)
{
	const struct passwd_file_args *args = db->ctx;
	passwd_file_args_unmark_userdb(args->path);
}

const struct userdb_driver userdb_driver_passwd_file = {
	.name = "passwd-file",
	.init = userdb_passwd_file_init,
	.deinit = userdb_passwd_file_deinit,
	.lookup = userdb_passwd_file_lookup,
	.iterate_init = userdb_passwd_file_iterate_init,
	.iterate_next = userdb_passwd_file_iterate_next,
	.iterate_deinit = userdb_passwd_file_iterate_deinit,
};
