#include "passdb/db_passwd_file_args.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"

#include <stdlib.h>
#include <string.h>

#define PASSWD_FILE_MAX_USERDB_PATHS 64
#define PASSWD_FILE_PATH_MAX 4096

/* Paths used by a userdb, with a count of the userdbs using each: owned
 * copies, so a reload that frees the old settings leaves no stale pointer. */
static struct {
	char *path;
	unsigned int refs;
} userdb_paths[PASSWD_FILE_MAX_USERDB_PATHS];
static unsigned int userdb_total;

void passwd_file_args_mark_userdb(const char *path)
{
	size_t free_slot = PASSWD_FILE_MAX_USERDB_PATHS;
	for (size_t i = 0; i < PASSWD_FILE_MAX_USERDB_PATHS; i++) {
		if (userdb_paths[i].path == NULL) {
			if (free_slot == PASSWD_FILE_MAX_USERDB_PATHS)
				free_slot = i;
		} else if (strcmp(userdb_paths[i].path, path) == 0) {
			userdb_paths[i].refs++;
			return;
		}
	}
	if (free_slot == PASSWD_FILE_MAX_USERDB_PATHS)
		return;   /* only affects uid/gid validation of passdb-only users */
	userdb_paths[free_slot].path = strdup(path);
	userdb_paths[free_slot].refs = userdb_paths[free_slot].path != NULL ? 1 : 0;
}

void passwd_file_args_unmark_userdb(const char *path)
{
	for (size_t i = 0; i < PASSWD_FILE_MAX_USERDB_PATHS; i++) {
		if (userdb_paths[i].path == NULL || strcmp(userdb_paths[i].path, path) != 0)
			continue;
		if (--userdb_paths[i].refs == 0) {
			free(userdb_paths[i].path);
			userdb_paths[i].path = NULL;
		}
		return;
	}
}

void passwd_file_args_set_userdb_count(unsigned int count)
{
	userdb_total = count;
}

static bool passwd_file_is_userdb_path(const char *tmpl)
{
	for (size_t i = 0; i < PASSWD_FILE_MAX_USERDB_PATHS; i++)
		if (userdb_paths[i].path != NULL && strcmp(userdb_paths[i].path, tmpl) == 0)
			return true;
	return false;
}

int passwd_file_args_parse(struct pool *pool, const char *args, bool passdb,
			   struct passwd_file_args *out, const char **error_r)
{
	memset(out, 0, sizeof(*out));
	out->username_format = "%u";
	out->scheme = "CRYPT";
	const char *p = args != NULL ? args : "";
	while (*p != '\0') {
		p += strspn(p, " \t");
		/* The first token starting with '/' (or "./", an authd addition
		 * for the demo) begins the path, which runs to the end. */
		if (*p == '/' || (p[0] == '.' && p[1] == '/')) {
			out->path = pool_strdup(pool, p);
			break;
		}
		size_t n = strcspn(p, " \t");
		const char *tok = pool_strndup(pool, p, n);
		p += n;
		if (strncmp(tok, "username_format=", 16) == 0) {
			out->username_format = tok + 16;
		} else if (passdb && strncmp(tok, "scheme=", 7) == 0) {
			out->scheme = tok + 7;
		} else if (strcmp(tok, "blocking=yes") == 0 || strcmp(tok, "blocking=no") == 0) {
			out->blocking = tok[9] == 'y';
		} else if (*tok != '\0') {
			*error_r = pool_printf(pool, "Unknown setting: %s", tok);
			return -1;
		}
	}
	if (out->path == NULL || *out->path == '\0') {
		*error_r = "args: passwd-file path is missing";
		return -1;
	}
	out->path_has_vars = var_has_variables(out->path);
	return 0;
}

/* Variable values in a path are cut at their first '/' (spec A.5). */
static int passwd_file_path_escape(struct buf *out, const char *value, void *ctx)
{
	(void)ctx;
	return buf_append(out, value, strcspn(value, "/"));
}

/* Refuses "", "." and ".." path components after expansion: a user's
 * domain must not walk out of the configured tree. */
static bool passwd_file_path_safe(const char *path)
{
	const char *p = path + (*path == '/');
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.' && p != path) || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static const char *passwd_file_expand_path(const struct passwd_file_args *args,
					   struct auth_request *req, const char *db_name)
{
	if (!args->path_has_vars)
		return args->path;
	struct var_entry vars[AUTH_REQUEST_VARS_MAX];
	struct var_expand_ctx ctx;
	struct buf out = BUF_INIT(PASSWD_FILE_PATH_MAX);
	const char *error = NULL, *path = NULL;
	auth_request_var_ctx(req, vars, &ctx);
	ctx.escape = passwd_file_path_escape;
	int ret = var_expand(&out, args->path, &ctx, &error);
	if (ret > 0 && passwd_file_path_safe(buf_cstr(&out)))
		path = pool_strndup(req->pool, out.data, out.len);
	else if (ret > 0)
		auth_request_log(req, LOG_LEVEL_INFO, db_name, "refusing unsafe passwd file path");
	else
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "Failed to expand path: %s",
				 error != NULL ? error : "too long");
	buf_free(&out);
	return path;
}

int passwd_file_args_lookup(const struct passwd_file_args *args, struct auth_request *req,
			    const char *db_name, struct passwd_entry *entry_r)
{
	/* "%u", the default, is the user name itself: skip the expander. */
	const char *key = strcmp(args->username_format, "%u") == 0 ? req->user :
			  auth_request_expand(req, db_name, args->username_format);
	if (key == NULL)
		return -1;
	const char *path = passwd_file_expand_path(args, req, db_name);
	if (path == NULL)
		return args->path_has_vars ? 0 : -1;
	const struct passwd_file *pf;
	const char *error = NULL;
	int ret = db_passwd_file_get(path, passwd_file_is_userdb_path(args->path),
				     userdb_total == 1, &pf, &error);
	if (ret < 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "%s", error);
		return -1;
	}
	if (ret == 0) {
		auth_request_log(req, LOG_LEVEL_INFO, db_name, "missing passwd file: %s", path);
		return 0;
	}
	return passwd_file_lookup(pf, key, strlen(key), req->pool, entry_r);
}
