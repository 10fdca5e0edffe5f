/* db_vpopmail: arguments of passdb/userdb vpopmail and the resolution
 * login -> domain (users/cdb or users/assign) -> user (vpasswd.cdb or
 * vpasswd) -> effective flags (.qmailadmin-limits or vlimits.default).
 * See db_vpopmail.h for the rules; spec: shared/spec/vpopmail.md 9.1. */
#include "passdb/db_vpopmail.h"
#include "authd/log.h"
#include "common/pool.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define VPOPMAIL_DEFAULT_DIR "/home/vpopmail"
#define VPOPMAIL_DEFAULT_QMAIL_DIR "/var/qmail"
#define VPOPMAIL_DEFAULT_ASSIGN_CDB "cdb"
#define VPOPMAIL_DEFAULT_MAIL "maildir:~/Maildir"
#define VPOPMAIL_CDB_KEY_MAX (VPOPMAIL_DOMAIN_MAX + 3u)   /* "!" domain "-" */

/* ------------------------------------------------------------ args */

static int args_bool(struct pool *pool, const char *tok, const char *v, bool *out,
		     const char **error_r)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "1") == 0) {
		*out = true;
	} else if (strcmp(v, "no") == 0 || strcmp(v, "0") == 0) {
		*out = false;
	} else {
		*error_r = pool_printf(pool, "Invalid boolean: %s", tok);
		return -1;
	}
	return 0;
}

/* A clean absolute directory (not "/"), stored without a trailing '/'. */
static int args_dir(struct pool *pool, const char *tok, const char *v, const char **out,
		    const char **error_r)
{
	size_t len = strlen(v);
	if (!vpopmail_path_under("", (const uint8_t *)v, len)) {
		*error_r = pool_printf(pool, "Not a clean absolute directory: %s", tok);
		return -1;
	}
	*out = pool_strndup(pool, v, v[len - 1] == '/' ? len - 1 : len);
	return 0;
}

static int args_webmail(struct pool *pool, const char *v, struct vpopmail_args *out,
			const char **error_r)
{
	struct in_addr a4;
	if (inet_pton(AF_INET6, v, out->webmail_ip) == 1) {
		out->webmail_set = true;
	} else if (inet_pton(AF_INET, v, &a4) == 1) {
		memset(out->webmail_ip, 0, 10);
		out->webmail_ip[10] = out->webmail_ip[11] = 0xff;
		memcpy(out->webmail_ip + 12, &a4, 4);
		out->webmail_set = true;
	} else {
		*error_r = pool_printf(pool, "vpopmail: Invalid webmail IP address: %s", v);
		return -1;
	}
	return 0;
}

static int args_quota_template(struct pool *pool, const char *v, struct vpopmail_args *out,
			       const char **error_r)
{
	const char *eq = strchr(v, '=');
	if (eq == NULL || eq == v) {
		*error_r = "vpopmail userdb: quota_template missing '='";
		return -1;
	}
	out->quota_key = pool_strndup(pool, v, (size_t)(eq - v));
	out->quota_template = eq + 1;
	return 0;
}

/* The settings both drivers take. Returns 1 handled, 0 not ours, -1 error. */
static int args_common(struct pool *pool, const char *tok, struct vpopmail_args *out,
		       const char **error_r)
{
	const char *eq = strchr(tok, '=');
	if (eq == NULL)
		return 0;
	const char *v = eq + 1;
	size_t klen = (size_t)(eq - tok);
	bool ignored;
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(tok, k, klen) == 0)
	if (KEY("cache_key"))
		out->cache_key = v;
	else if (KEY("blocking"))   /* always in the auth process: local files */
		return args_bool(pool, tok, v, &ignored, error_r) < 0 ? -1 : 1;
	else if (KEY("vpopmail_dir"))
		return args_dir(pool, tok, v, &out->vpopmail_dir, error_r) < 0 ? -1 : 1;
	else if (KEY("qmail_dir"))
		return args_dir(pool, tok, v, &out->qmail_dir, error_r) < 0 ? -1 : 1;
	else if (KEY("assign_cdb") && *v != '\0' && strchr(v, '/') == NULL &&
		 strcmp(v, ".") != 0 && strcmp(v, "..") != 0)
		out->assign_cdb = v;
	else if (KEY("default_domain") && vpopmail_domain_valid((const uint8_t *)v, strlen(v)))
		out->default_domain = v;
	else
		return 0;
#undef KEY
	return 1;
}

static int args_userdb(struct pool *pool, const char *tok, struct vpopmail_args *out,
		       const char **error_r)
{
	if (strncmp(tok, "quota_template=", 15) == 0)
		return args_quota_template(pool, tok + 15, out, error_r) < 0 ? -1 : 1;
	if (strncmp(tok, "mail=", 5) == 0) {
		out->mail = tok + 5;
		return 1;
	}
	if (strncmp(tok, "last_auth=", 10) == 0)
		return args_bool(pool, tok, tok + 10, &out->last_auth, error_r) < 0 ? -1 : 1;
	if (strncmp(tok, "create_missing_home=", 20) == 0)
		return args_bool(pool, tok, tok + 20, &out->create_missing_home, error_r) < 0 ? -1 : 1;
	return 0;
}

int vpopmail_args_parse(struct pool *pool, const char *args, enum vpopmail_args_for which,
			struct vpopmail_args *out, const char **error_r)
{
	memset(out, 0, sizeof(*out));
	out->vpopmail_dir = VPOPMAIL_DEFAULT_DIR;
	out->qmail_dir = VPOPMAIL_DEFAULT_QMAIL_DIR;
	out->assign_cdb = VPOPMAIL_DEFAULT_ASSIGN_CDB;
	out->mail = VPOPMAIL_DEFAULT_MAIL;
	for (const char *p = args != NULL ? args : ""; *p != '\0';) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == 0)
			break;
		const char *tok = pool_strndup(pool, p, n);
		p += n;
		int ret = args_common(pool, tok, out, error_r);
		if (ret == 0 && which == VPOPMAIL_ARGS_PASSDB && strncmp(tok, "webmail=", 8) == 0)
			ret = args_webmail(pool, tok + 8, out, error_r) < 0 ? -1 : 1;
		if (ret == 0 && which == VPOPMAIL_ARGS_USERDB)
			ret = args_userdb(pool, tok, out, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0) {
			*error_r = pool_printf(pool, "Unknown setting: %s", tok);
			return -1;
		}
	}
	if (out->default_domain != NULL) {
		char *d = pool_strdup(pool, out->default_domain);
		for (char *c = d; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c + ('a' - 'A'));
		out->default_domain = d;
	}
	return 0;
}

/* ------------------------------------------------------------ resolution */

/* Which of a cdb and its text source answers: the cdb when it exists and
 * is not older than the text. Returns 1 cdb (*f_r), 2 text (*f_r), 0
 * neither exists, -1 error (*msg_r). */
static int pick_source(const char *cdb_path, const char *text_path,
		       enum vpopmail_file_kind text_kind, struct pool *pool,
		       struct vpopmail_cached **f_r, const char **msg_r)
{
	struct vpopmail_cached *cdb = NULL, *text = NULL;
	const char *error = NULL;
	int cret = vpopmail_cache_get(cdb_path, VPOPMAIL_FILE_CDB, &cdb, &error);
	if (cret < 0) {
		*msg_r = pool_strdup(pool, error);
		return -1;
	}
	int tret = vpopmail_cache_get(text_path, text_kind, &text, &error);
	if (tret < 0 && cret == 0) {
		*msg_r = pool_strdup(pool, error);
		return -1;
	}
	if (cret > 0 && tret > 0) {
		int64_t cs, ts;
		long cn, tn;
		vpopmail_cache_mtime(cdb, &cs, &cn);
		vpopmail_cache_mtime(text, &ts, &tn);
		if (ts > cs || (ts == cs && tn > cn)) {
			if (vpopmail_cache_warn_once(text))
				log_warning("vpopmail: %s is newer than %s, using %s (%s)", text_path,
					    cdb_path, text_path, text_kind == VPOPMAIL_FILE_ASSIGN ?
					    "run qmail-newu" : "run vmkpasswd");
			*f_r = text;
			return 2;
		}
	}
	if (cret > 0) {
		*f_r = cdb;
		return 1;
	}
	if (tret > 0) {
		*f_r = text;
		return 2;
	}
	return 0;
}

/* Finds the assign entry of domain and fills u's domain fields (pool
 * strings). Returns 1, 0 unknown domain, -1 error (*msg_r). */
static int assign_lookup(const struct vpopmail_args *args, const char *domain,
			 struct pool *pool, struct vpopmail_user *u, const char **msg_r)
{
	char cdb_path[VPOPMAIL_PATH_MAX], text_path[VPOPMAIL_PATH_MAX], key[VPOPMAIL_CDB_KEY_MAX + 1];
	snprintf(cdb_path, sizeof(cdb_path), "%s/users/%s", args->qmail_dir, args->assign_cdb);
	snprintf(text_path, sizeof(text_path), "%s/users/assign", args->qmail_dir);
	struct vpopmail_cached *f = NULL;
	struct vpopmail_assign a;
	const uint8_t *data = NULL;
	size_t len = 0, dlen = strlen(domain);
	const char *error = NULL;
	int ret = pick_source(cdb_path, text_path, VPOPMAIL_FILE_ASSIGN, pool, &f, msg_r);
	if (ret == 0)
		*msg_r = pool_printf(pool, "neither %s nor %s exists", cdb_path, text_path);
	if (ret <= 0)
		return -1;
	bool from_cdb = ret == 1;
	if (from_cdb) {
		snprintf(key, sizeof(key), "!%s-", domain);
		ret = vpopmail_cache_cdb_find(f, key, dlen + 2, &data, &len);
		if (ret > 0 && vpopmail_assign_parse_cdb(data, len, &a, &error) == 0)
			ret = -1;
	} else {
		ret = vpopmail_cache_text_find(f, domain, dlen, &data, &len);
		if (ret > 0 && vpopmail_assign_parse_line(data, len, &a, &error) != VPOPMAIL_ASSIGN_ENTRY)
			ret = -1;
	}
	if (ret < 0) {
		*msg_r = pool_printf(pool, "%s: corrupt file or entry for %s%s%s",
				     from_cdb ? cdb_path : text_path, domain,
				     error != NULL ? ": " : "", error != NULL ? error : "");
		return -1;
	}
	if (ret == 0) {
		*msg_r = pool_printf(pool, "domain %s is not in users/assign", domain);
		return 0;
	}
	u->real_domain = pool_strndup(pool, a.real_domain.p, a.real_domain.len);
	u->domain_dir = pool_strndup(pool, a.dir.p, a.dir.len > 1 && a.dir.p[a.dir.len - 1] == '/' ?
				     a.dir.len - 1 : a.dir.len);
	u->uid = a.uid;
	u->gid = a.gid;
	if (!vpopmail_path_under(args->vpopmail_dir, a.dir.p, a.dir.len)) {
		*msg_r = pool_printf(pool, "domain %s: directory %s is not a clean path under %s",
				     domain, u->domain_dir, args->vpopmail_dir);
		return -1;
	}
	return 1;
}

static void user_fill(struct vpopmail_user *u, const struct vpasswd_entry *e, struct pool *pool)
{
	u->passwd = pool_strndup(pool, e->passwd.p, e->passwd.len);
	u->clear = e->has_clear && e->clear.len > 0 ? pool_strndup(pool, e->clear.p, e->clear.len) :
		   NULL;
	u->gecos = pool_strndup(pool, e->gecos.p, e->gecos.len);
	u->dir = pool_strndup(pool, e->dir.p, e->dir.len);
	u->shell = pool_strndup(pool, e->shell.p, e->shell.len);
	u->gid_flags = e->flags;
	u->flags = e->flags;
}

/* Finds u->user in the domain's vpasswd(.cdb). Returns 1, 0 unknown user,
 * -1 error (*msg_r). */
static int vpasswd_lookup(struct vpopmail_user *u, struct pool *pool, const char **msg_r)
{
	char cdb_path[VPOPMAIL_PATH_MAX + 16], text_path[VPOPMAIL_PATH_MAX + 16];
	snprintf(cdb_path, sizeof(cdb_path), "%s/vpasswd.cdb", u->domain_dir);
	snprintf(text_path, sizeof(text_path), "%s/vpasswd", u->domain_dir);
	struct vpopmail_cached *f = NULL;
	struct vpasswd_entry e;
	const uint8_t *data = NULL;
	size_t len = 0, ulen = strlen(u->user);
	const char *error = NULL;
	int ret = pick_source(cdb_path, text_path, VPOPMAIL_FILE_VPASSWD, pool, &f, msg_r);
	if (ret == 0)
		*msg_r = pool_printf(pool, "domain %s: neither %s nor %s exists", u->domain,
				     cdb_path, text_path);
	if (ret <= 0)
		return -1;
	u->from_cdb = ret == 1;
	if (u->from_cdb) {
		ret = vpopmail_cache_cdb_find(f, u->user, ulen, &data, &len);
		if (ret > 0 && (len > VPOPMAIL_LINE_MAX ||
				vpasswd_parse_cdb((const uint8_t *)u->user, ulen, data, len, &e, &error) == 0))
			ret = -1;
	} else {
		ret = vpopmail_cache_text_find(f, u->user, ulen, &data, &len);
		if (ret > 0 && vpasswd_parse_line(data, len, &e, &error) == 0)
			ret = -1;
	}
	if (ret < 0) {
		*msg_r = pool_printf(pool, "%s: corrupt file or entry for %s%s%s",
				     u->from_cdb ? cdb_path : text_path, u->user,
				     error != NULL ? ": " : "", error != NULL ? error : "");
		return -1;
	}
	if (ret == 0) {
		*msg_r = pool_printf(pool, "user %s is not in %s", u->user,
				     u->from_cdb ? cdb_path : text_path);
		return 0;
	}
	user_fill(u, &e, pool);
	return 1;
}

/* pw_flags: pw_gid, plus the domain's limits unless V_OVERRIDE (spec 5).
 * Returns 0 or -1 (*msg_r). */
static int flags_apply(const struct vpopmail_args *args, struct vpopmail_user *u,
		       struct pool *pool, const char **msg_r)
{
	char path[VPOPMAIL_PATH_MAX + 32];
	struct vpopmail_cached *f = NULL;
	const char *error = NULL;
	if ((u->gid_flags & VPOPMAIL_V_OVERRIDE) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/.qmailadmin-limits", u->domain_dir);
	int ret = vpopmail_cache_get(path, VPOPMAIL_FILE_LIMITS, &f, &error);
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/etc/vlimits.default", args->vpopmail_dir);
		ret = vpopmail_cache_get(path, VPOPMAIL_FILE_LIMITS, &f, &error);
	}
	if (ret < 0) {
		*msg_r = pool_strdup(pool, error);
		return -1;
	}
	if (ret > 0)
		u->flags |= vpopmail_cache_limits(f);
	return 0;
}

/* The domain of a bare login: default_domain= or etc/defaultdomain.
 * Returns 1, 0 none, -1 error. */
static int default_domain(const struct vpopmail_args *args, struct pool *pool,
			  const char **domain_r, const char **msg_r)
{
	char path[VPOPMAIL_PATH_MAX + 32];
	struct vpopmail_cached *f = NULL;
	const char *error = NULL;
	if (args->default_domain != NULL) {
		*domain_r = args->default_domain;
		return 1;
	}
	snprintf(path, sizeof(path), "%s/etc/defaultdomain", args->vpopmail_dir);
	int ret = vpopmail_cache_get(path, VPOPMAIL_FILE_FIRST_LINE, &f, &error);
	if (ret < 0)
		*msg_r = pool_strdup(pool, error);
	if (ret <= 0) {
		if (ret == 0)
			*msg_r = "no domain in the login and no default domain";
		return ret;
	}
	const char *d = vpopmail_cache_first_line(f);
	if (!vpopmail_domain_valid((const uint8_t *)d, strlen(d))) {
		*msg_r = pool_printf(pool, "%s does not hold a valid domain", path);
		return *d == '\0' ? 0 : -1;
	}
	char *lower = pool_strdup(pool, d);
	for (char *c = lower; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + ('a' - 'A'));
	*domain_r = lower;
	return 1;
}

int vpopmail_lookup(const struct vpopmail_args *args, const char *login, struct pool *pool,
		    struct vpopmail_user *user_r, const char **msg_r)
{
	struct vpopmail_login l;
	const char *error = NULL;
	size_t len = strlen(login);
	memset(user_r, 0, sizeof(*user_r));
	if (len > VPOPMAIL_LOGIN_MAX) {
		*msg_r = "login name too long";
		return 0;
	}
	if (vpopmail_login_split((const uint8_t *)login, len, &l, &error) == 0) {
		*msg_r = error;
		return 0;
	}
	user_r->user = pool_strdup(pool, l.user);
	user_r->domain = pool_strdup(pool, l.domain);
	if (l.domain[0] == '\0') {
		int ret = default_domain(args, pool, &user_r->domain, msg_r);
		if (ret <= 0)
			return ret;
	}
	int ret = assign_lookup(args, user_r->domain, pool, user_r, msg_r);
	if (ret > 0)
		ret = vpasswd_lookup(user_r, pool, msg_r);
	if (ret > 0 && flags_apply(args, user_r, pool, msg_r) < 0)
		ret = -1;
	return ret;
}
