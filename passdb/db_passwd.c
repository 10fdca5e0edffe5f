/* db_passwd: getpwnam_r / getspnam_r and the args of the system-account
 * drivers (see db_passwd.h). */
#include "passdb/db_passwd.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/passdb.h"
#include "common/secret.h"

#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DB_PASSWD_BUF_START 1024u

int db_passwd_args_parse(struct pool *pool, const char *args, bool templates,
			 struct db_passwd_args *out, const char **error_r)
{
	*out = (struct db_passwd_args){ .blocking = true, .templates = "" };
	const char *p = args != NULL ? args : "";
	while (*p != '\0') {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == 0)
			break;
		const char *word = pool_strndup(pool, p, n);
		p += n;
		if (strncmp(word, "blocking=", 9) == 0) {
			out->blocking = strcasecmp(word + 9, "yes") == 0;
			if (!out->blocking && strcasecmp(word + 9, "no") != 0) {
				*error_r = pool_printf(pool, "Invalid value: %s", word);
				return -1;
			}
		} else if (strncmp(word, "cache_key=", 10) == 0) {
			out->cache_key = word + 10;
		} else if (templates && strchr(word, '=') != NULL) {
			out->templates = *out->templates == '\0' ? word :
					 pool_printf(pool, "%s %s", out->templates, word);
		} else {
			*error_r = pool_printf(pool, "Unknown setting: %s", word);
			return -1;
		}
	}
	return 0;
}

bool db_passwd_hash_usable(const char *hash)
{
	return hash != NULL && hash[0] != '\0' && hash[0] != '*' && hash[0] != '!';
}

/* Calls fn with a growing buffer until it fits. Returns fn's errno-style
 * result (0 or an errno), with the buffer in *buf_r and its size in
 * *size_r (the caller wipes and frees it). */
static int db_passwd_call(int (*fn)(const char *user, void *ent, char *buf, size_t size,
				    void **res), const char *user, void *ent, void **res,
			  char **buf_r, size_t *size_r)
{
	size_t size = DB_PASSWD_BUF_START;
	*buf_r = NULL;
	*size_r = 0;
	for (;;) {
		char *buf = *buf_r;
		if (buf != NULL) {
			secret_wipe(buf, *size_r);
			free(buf);
		}
		buf = malloc(size);
		*buf_r = buf;
		if (buf == NULL)
			return ENOMEM;
		*size_r = size;
		errno = 0;
		int ret = fn(user, ent, buf, size, res);
		if (ret != ERANGE)
			return ret;
		if (size >= DB_PASSWD_BUF_MAX)
			return ERANGE;
		size *= 2;
	}
}

static int db_passwd_pw_fn(const char *user, void *ent, char *buf, size_t size, void **res)
{
	return getpwnam_r(user, ent, buf, size, (struct passwd **)res);
}

static int db_passwd_sp_fn(const char *user, void *ent, char *buf, size_t size, void **res)
{
	return getspnam_r(user, ent, buf, size, (struct spwd **)res);
}

static const char *db_passwd_str(struct pool *pool, const char *s)
{
	return pool_strdup(pool, s != NULL ? s : "");
}

/* Not found: 0 with no entry, or (some NSS modules) ENOENT / ESRCH. */
static int db_passwd_result(struct pool *pool, int err, bool found, const char *fn,
			    const char **error_r)
{
	if (err == 0 || err == ENOENT || err == ESRCH)
		return err == 0 && found ? 1 : 0;
	*error_r = pool_printf(pool, "%s() failed: %s", fn, strerror(err));
	return -1;
}

int db_passwd_getpwnam(struct pool *pool, const char *user, struct db_passwd_entry *entry_r,
		       const char **error_r)
{
	struct passwd pw;
	void *res = NULL;
	char *buf = NULL;
	size_t size = 0;
	int err = db_passwd_call(db_passwd_pw_fn, user, &pw, &res, &buf, &size);
	int ret = db_passwd_result(pool, err, res != NULL, "getpwnam_r", error_r);
	if (ret > 0) {
		*entry_r = (struct db_passwd_entry){
			.name = db_passwd_str(pool, pw.pw_name),
			.passwd = db_passwd_str(pool, pw.pw_passwd),
			.home = db_passwd_str(pool, pw.pw_dir),
			.shell = db_passwd_str(pool, pw.pw_shell),
			.uid = pw.pw_uid,
			.gid = pw.pw_gid,
		};
	}
	if (buf != NULL) {
		secret_wipe(buf, size);
		free(buf);
	}
	return ret;
}

int db_passwd_getspnam(struct pool *pool, const char *user, struct db_passwd_entry *entry_r,
		       const char **error_r)
{
	struct spwd sp;
	void *res = NULL;
	char *buf = NULL;
	size_t size = 0;
	int err = db_passwd_call(db_passwd_sp_fn, user, &sp, &res, &buf, &size);
	int ret = db_passwd_result(pool, err, res != NULL, "getspnam_r", error_r);
	if (ret > 0) {
		*entry_r = (struct db_passwd_entry){
			.name = db_passwd_str(pool, sp.sp_namp),
			.passwd = db_passwd_str(pool, sp.sp_pwdp),
		};
	}
	if (buf != NULL) {
		/* The hash was in there; the pool copy is wiped with the pool. */
		secret_wipe(buf, size);
		free(buf);
	}
	return ret;
}

int db_passwd_passdb_init(struct passdb *db, const char *args, const char **error_r)
{
	struct db_passwd_args *a = pool_alloc(db->pool, sizeof(*a));
	if (db_passwd_args_parse(db->pool, args, false, a, error_r) < 0)
		return -1;
	db->blocking = a->blocking;
	db->default_scheme = DB_PASSWD_SCHEME;
	db->ctx = a;
	return 0;
}

void db_passwd_passdb_lookup(struct auth_request *req, const char *db_name, db_passwd_get_fn *get)
{
	struct db_passwd_entry e;
	const char *error = NULL;
	auth_request_log(req, LOG_LEVEL_DEBUG, db_name, "lookup");
	int ret = get(req->pool, req->user, &e, &error);
	if (ret < 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "%s", error);
		auth_request_passdb_done(req, PASSDB_RESULT_INTERNAL_FAILURE, NULL);
		return;
	}
	if (ret == 0) {
		auth_request_passdb_done(req, PASSDB_RESULT_USER_UNKNOWN, NULL);
		return;
	}
	if (!db_passwd_hash_usable(e.passwd)) {
		auth_request_log(req, LOG_LEVEL_INFO, db_name, "invalid password field");
		auth_request_passdb_done(req, PASSDB_RESULT_USER_DISABLED, NULL);
		return;
	}
	/* The name exactly as the database has it. */
	auth_request_set_passdb_field(req, "user", e.name);
	auth_request_passdb_done(req, PASSDB_RESULT_OK, e.passwd);
}
