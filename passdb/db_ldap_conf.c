/* db_ldap_conf: the .conf.ext reader (see db_ldap_conf.h). Line syntax
 * follows Dovecot 2.3's settings_read_nosection(). */
#include "passdb/db_ldap_conf.h"
#include "common/buf.h"
#include "common/pool.h"
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define LDAP_ENV_NAME_MAX 128u

struct ldap_conf_ctx {
	struct pool *pool;
	struct ldap_conf *conf;
	ldap_conf_warn_fn *warn;
	void *warn_ctx;
	bool allow_include;
	unsigned int depth, files;
	const char *error;
};

enum ldap_key_type { LK_STR, LK_BOOL, LK_UINT, LK_SCOPE, LK_DEREF, LK_REQCERT };

#define LK(name, type) { #name, type, offsetof(struct ldap_conf, name) }
static const struct ldap_key {
	const char *name;
	enum ldap_key_type type;
	size_t offset;
} ldap_keys[] = {
	LK(hosts, LK_STR), LK(uris, LK_STR), LK(dn, LK_STR), LK(dnpass, LK_STR),
	LK(auth_bind, LK_BOOL), LK(auth_bind_userdn, LK_STR), LK(base, LK_STR),
	LK(scope, LK_SCOPE), LK(deref, LK_DEREF), LK(pass_attrs, LK_STR),
	LK(pass_filter, LK_STR), LK(user_attrs, LK_STR), LK(user_filter, LK_STR),
	LK(iterate_attrs, LK_STR), LK(iterate_filter, LK_STR),
	LK(default_pass_scheme, LK_STR), LK(ldap_version, LK_UINT), LK(tls, LK_BOOL),
	LK(tls_ca_cert_file, LK_STR), LK(tls_ca_cert_dir, LK_STR), LK(tls_cert_file, LK_STR),
	LK(tls_key_file, LK_STR), LK(tls_cipher_suite, LK_STR),
	LK(tls_require_cert, LK_REQCERT), LK(sasl_bind, LK_BOOL), LK(sasl_mech, LK_STR),
	LK(sasl_realm, LK_STR), LK(sasl_authz_id, LK_STR), LK(blocking, LK_BOOL),
	LK(debug_level, LK_UINT), LK(ldaprc_path, LK_STR), LK(userdb_warning_disable, LK_BOOL),
};
#undef LK

static const char *const scope_names[] = { "base", "onelevel", "subtree", NULL };
static const char *const deref_names[] = { "never", "searching", "finding", "always", NULL };
static const char *const reqcert_names[] = { "", "never", "hard", "demand", "allow", "try", NULL };

static int ldap_conf_fail(struct ldap_conf_ctx *ctx, const char *name, unsigned int line,
			  const char *msg)
{
	ctx->error = line > 0 ? pool_printf(ctx->pool, "%s:%u: %s", name, line, msg) :
				pool_printf(ctx->pool, "%s: %s", name, msg);
	return -1;
}

static void ldap_conf_defaults(struct ldap_conf *conf)
{
	*conf = (struct ldap_conf){
		.ldap_version = 3,
		.scope = LDAP_CONF_SCOPE_SUBTREE,
		.deref = LDAP_CONF_DEREF_NEVER,
		.pass_attrs = "uid=user,userPassword=password",
		.pass_filter = "(&(objectClass=posixAccount)(uid=%u))",
		.user_attrs = "homeDirectory=home,uidNumber=uid,gidNumber=gid",
		.user_filter = "(&(objectClass=posixAccount)(uid=%u))",
		.iterate_attrs = "uid=user",
		.iterate_filter = "(objectClass=posixAccount)",
		.default_pass_scheme = "crypt",
	};
}

static int ldap_conf_enum(const char *const *names, const char *value, int *r)
{
	for (int i = 0; names[i] != NULL; i++) {
		if (*names[i] != '\0' && strcasecmp(names[i], value) == 0) {
			*r = i;
			return 0;
		}
	}
	return -1;
}

/* C syntax: 0x.. hex, leading 0 octal, else decimal. Returns 0 or -1. */
static int ldap_conf_number(const char *value, uint64_t *n_r)
{
	if (*value < '0' || *value > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(value, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	*n_r = n;
	return 0;
}

/* Sets one key. Returns NULL or the error text. */
static const char *ldap_conf_set(struct ldap_conf_ctx *ctx, const char *key, const char *value)
{
	const struct ldap_key *k = NULL;
	for (size_t i = 0; i < sizeof(ldap_keys) / sizeof(ldap_keys[0]); i++)
		if (strcmp(ldap_keys[i].name, key) == 0)
			k = &ldap_keys[i];
	if (k == NULL)
		return pool_printf(ctx->pool, "Unknown setting: %s", key);
	void *slot = (char *)ctx->conf + k->offset;
	int e = 0;
	uint64_t n;
	switch (k->type) {
	case LK_STR:
		*(const char **)slot = pool_strdup(ctx->pool, value);
		return NULL;
	case LK_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "no") == 0) {
			*(bool *)slot = strcasecmp(value, "yes") == 0;
			return NULL;
		}
		return pool_printf(ctx->pool, "Invalid boolean value for %s: %s", key, value);
	case LK_UINT:
		if (ldap_conf_number(value, &n) < 0 || n > 65535)
			return pool_printf(ctx->pool, "Invalid number for %s: %s", key, value);
		*(unsigned int *)slot = (unsigned int)n;
		return NULL;
	case LK_SCOPE:
		if (ldap_conf_enum(scope_names, value, &e) < 0)
			return pool_printf(ctx->pool, "Unknown scope option '%s'", value);
		*(enum ldap_conf_scope *)slot = (enum ldap_conf_scope)e;
		return NULL;
	case LK_DEREF:
		if (ldap_conf_enum(deref_names, value, &e) < 0)
			return pool_printf(ctx->pool, "Unknown deref option '%s'", value);
		*(enum ldap_conf_deref *)slot = (enum ldap_conf_deref)e;
		return NULL;
	case LK_REQCERT:
		if (ldap_conf_enum(reqcert_names, value, &e) < 0)
			return pool_printf(ctx->pool, "Unknown tls_require_cert value '%s'", value);
		*(enum ldap_conf_require_cert *)slot = (enum ldap_conf_require_cert)e;
		return NULL;
	}
	return "BUG: key type";
}

/* Dovecot's str_unescape(): \n \r \t, else the next byte itself. */
static void ldap_conf_unescape(char *s)
{
	char *d = s;
	for (; *s != '\0'; s++) {
		if (*s != '\\') {
			*d++ = *s;
			continue;
		}
		if (*++s == '\0')
			break;
		*d++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 't' ? '\t' : *s;
	}
	*d = '\0';
}

/* $ENV:NAME in unquoted values; unset variables expand to "". */
static const char *ldap_conf_expand_env(struct ldap_conf_ctx *ctx, const char *value)
{
	if (strstr(value, "$ENV:") == NULL)
		return value;
	struct buf out = BUF_INIT(LDAP_CONF_LINE_MAX);
	const char *p = value;
	for (const char *hit; (hit = strstr(p, "$ENV:")) != NULL;) {
		buf_append(&out, p, (size_t)(hit - p));
		const char *name = hit + 5;
		size_t n = 0;
		while (name[n] == '_' || (name[n] >= 'A' && name[n] <= 'Z') ||
		       (name[n] >= 'a' && name[n] <= 'z') || (name[n] >= '0' && name[n] <= '9'))
			n++;
		char key[LDAP_ENV_NAME_MAX];
		if (n > 0 && n < sizeof(key)) {
			memcpy(key, name, n);
			key[n] = '\0';
			const char *env = getenv(key);
			buf_append_str(&out, env != NULL ? env : "");
		}
		p = name + n;
	}
	buf_append_str(&out, p);
	const char *r = pool_strndup(ctx->pool, out.data != NULL ? (const char *)out.data : "", out.len);
	buf_free(&out);
	return r;
}

/* Cuts a comment off line (modified in place); warns on a glued '#'. */
static void ldap_conf_strip_comment(struct ldap_conf_ctx *ctx, const char *name,
				    unsigned int lineno, char *line)
{
	for (char *p = line; *p != '\0'; p++) {
		if (*p == '"' || *p == '\'') {
			char quote = *p;
			for (p++; *p != quote && *p != '\0'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				return;
		} else if (*p == '#') {
			if (p > line && p[-1] != ' ' && p[-1] != '\t' && ctx->warn != NULL)
				ctx->warn(ctx->warn_ctx, name, lineno,
					  "Ambiguous '#' character in line, treating it as comment. "
					  "Add a space before it to remove this warning.");
			*p = '\0';
			return;
		}
	}
}

static int ldap_conf_parse_data(struct ldap_conf_ctx *ctx, const char *name,
				const char *data, size_t len);

static int ldap_conf_read_file(struct ldap_conf_ctx *ctx, const char *path, bool try,
			       bool *missing_r)
{
	*missing_r = false;
	if (++ctx->files > LDAP_CONF_FILES_MAX)
		return ldap_conf_fail(ctx, path, 0, "Too many included files");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*missing_r = errno == ENOENT;
		if (try && *missing_r)
			return 0;
		return ldap_conf_fail(ctx, path, 0, pool_printf(ctx->pool, "open() failed: %s",
								  strerror(errno)));
	}
	struct buf data = BUF_INIT(LDAP_CONF_FILE_MAX);
	char chunk[8192];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_append(&data, chunk, (size_t)n) < 0) {
			close(fd);
			buf_free(&data);
			return ldap_conf_fail(ctx, path, 0, "File too large");
		}
	}
	int saved = errno;
	close(fd);
	if (n < 0) {
		buf_free(&data);
		return ldap_conf_fail(ctx, path, 0, pool_printf(ctx->pool, "read() failed: %s",
								  strerror(saved)));
	}
	int ret = ldap_conf_parse_data(ctx, path, data.data != NULL ? (const char *)data.data : "",
				       data.len);
	buf_free(&data);
	return ret;
}

/* !include / !include_try PATTERN, relative to the including file. */
static int ldap_conf_include(struct ldap_conf_ctx *ctx, const char *name, unsigned int lineno,
			     const char *pattern, bool try)
{
	if (!ctx->allow_include)
		return ldap_conf_fail(ctx, name, lineno, "!include is not allowed here");
	if (ctx->depth >= LDAP_CONF_INCLUDE_DEPTH_MAX)
		return ldap_conf_fail(ctx, name, lineno, "Too deeply nested !include");
	const char *full = pattern;
	const char *slash = strrchr(name, '/');
	if (*pattern != '/' && slash != NULL)
		full = pool_printf(ctx->pool, "%.*s/%s", (int)(slash - name), name, pattern);
	glob_t g;
	int gr = glob(full, GLOB_ERR, NULL, &g);
	if (gr == GLOB_NOMATCH) {
		if (try)
			return 0;
		return ldap_conf_fail(ctx, name, lineno,
				      pool_printf(ctx->pool, "No matches: %s", full));
	}
	if (gr != 0)
		return ldap_conf_fail(ctx, name, lineno, pool_printf(ctx->pool, "glob(%s) failed", full));
	int ret = 0;
	ctx->depth++;
	for (size_t i = 0; i < g.gl_pathc && ret == 0; i++) {
		bool missing;
		const char *p = pool_strdup(ctx->pool, g.gl_pathv[i]);
		ret = ldap_conf_read_file(ctx, p, try, &missing);
	}
	ctx->depth--;
	globfree(&g);
	return ret;
}

/* One logical line (comments stripped, trimmed). */
static int ldap_conf_line(struct ldap_conf_ctx *ctx, const char *name, unsigned int lineno,
			  char *line)
{
	char *p = line;
	while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '=')
		p++;
	char *key_end = p;
	while (*p == ' ' || *p == '\t')
		p++;
	char sep = *p;
	*key_end = '\0';
	if (strcmp(line, "!include") == 0 || strcmp(line, "!include_try") == 0)
		return ldap_conf_include(ctx, name, lineno, p, line[8] == '_');
	if (sep != '=')
		return ldap_conf_fail(ctx, name, lineno, "Expecting '='");
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	const char *value = p;
	if (len >= 2 && ((p[0] == '"' && p[len - 1] == '"') || (p[0] == '\'' && p[len - 1] == '\''))) {
		p[len - 1] = '\0';
		ldap_conf_unescape(p + 1);
		value = p + 1;
	} else {
		value = ldap_conf_expand_env(ctx, p);
	}
	const char *error = ldap_conf_set(ctx, line, value);
	return error == NULL ? 0 : ldap_conf_fail(ctx, name, lineno, error);
}

static bool ldap_is_white(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Handles one physical line; full collects continued lines. */
static int ldap_conf_physical(struct ldap_conf_ctx *ctx, const char *name, unsigned int lineno,
			      char *line, struct buf *full)
{
	while (ldap_is_white(*line))
		line++;
	if (*line == '#' || (*line == '\0' && full->len == 0))
		return 0;
	ldap_conf_strip_comment(ctx, name, lineno, line);
	size_t len = strlen(line);
	while (len > 0 && ldap_is_white(line[len - 1]))
		len--;
	line[len] = '\0';
	if (len > 0 && line[len - 1] == '\\') {
		len--;
		while (len > 0 && ldap_is_white(line[len - 1]))
			len--;
		if (buf_append(full, line, len) < 0 || buf_append_byte(full, ' ') < 0)
			return ldap_conf_fail(ctx, name, lineno, "Line too long");
		return 0;
	}
	if (full->len > 0) {
		if (buf_append_str(full, line) < 0)
			return ldap_conf_fail(ctx, name, lineno, "Line too long");
		line = pool_strndup(ctx->pool, full->data, full->len);
		buf_reset(full);
	}
	if (*line == '\0')
		return 0;
	return ldap_conf_line(ctx, name, lineno, line);
}

static int ldap_conf_parse_data(struct ldap_conf_ctx *ctx, const char *name,
				const char *data, size_t len)
{
	if (memchr(data, '\0', len) != NULL)
		return ldap_conf_fail(ctx, name, 0, "File contains a NUL byte");
	struct buf full = BUF_INIT(LDAP_CONF_LINE_MAX);
	char *line = malloc(LDAP_CONF_LINE_MAX + 1);
	if (line == NULL)
		return ldap_conf_fail(ctx, name, 0, "Out of memory");
	unsigned int lineno = 0;
	int ret = 0;
	for (size_t pos = 0; pos < len && ret == 0;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (data + pos)) : len - pos;
		lineno++;
		if (n > LDAP_CONF_LINE_MAX) {
			ret = ldap_conf_fail(ctx, name, lineno, "Line too long");
			break;
		}
		memcpy(line, data + pos, n);
		line[n] = '\0';
		pos += n + 1;
		ret = ldap_conf_physical(ctx, name, lineno, line, &full);
	}
	if (ret == 0 && full.len > 0) {
		/* a file ending in a continuation: use what was collected */
		char *last = pool_strndup(ctx->pool, full.data, full.len);
		ret = ldap_conf_line(ctx, name, lineno, last);
	}
	free(line);
	buf_free(&full);
	return ret;
}

/* Splits a space-separated list into conf->uri_list. */
static int ldap_conf_uris(struct ldap_conf_ctx *ctx, const char *list, bool hosts)
{
	struct ldap_conf *conf = ctx->conf;
	for (const char *p = list; *p != '\0';) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		if (n == 0)
			break;
		if (conf->uri_count >= LDAP_CONF_URIS_MAX)
			return ldap_conf_fail(ctx, conf->path, 0, "Too many uris/hosts");
		const char *item = pool_strndup(ctx->pool, p, n);
		if (hosts) {
			const char *colon = strrchr(item, ':');
			bool v6 = colon != NULL && strchr(item, ':') != colon && item[0] != '[';
			item = v6 || colon == NULL ?
				pool_printf(ctx->pool, v6 ? "ldap://[%s]:%u" : "ldap://%s:%u", item,
					    LDAP_CONF_DEFAULT_PORT) :
				pool_printf(ctx->pool, "ldap://%s", item);
		}
		conf->uri_list[conf->uri_count++] = item;
		p += n;
	}
	return 0;
}

static int ldap_conf_check(struct ldap_conf_ctx *ctx)
{
	struct ldap_conf *conf = ctx->conf;
	if (conf->base == NULL)
		return ldap_conf_fail(ctx, conf->path, 0, "No base given");
	if (conf->uris != NULL && *conf->uris != '\0') {
		if (ldap_conf_uris(ctx, conf->uris, false) < 0)
			return -1;
	} else if (conf->hosts != NULL && ldap_conf_uris(ctx, conf->hosts, true) < 0) {
		return -1;
	}
	if (conf->uri_count == 0)
		return ldap_conf_fail(ctx, conf->path, 0, "No uris or hosts set");
	for (size_t i = 0; i < conf->uri_count; i++) {
		const char *u = conf->uri_list[i];
		if (strncasecmp(u, "ldap://", 7) != 0 && strncasecmp(u, "ldaps://", 8) != 0 &&
		    strncasecmp(u, "ldapi://", 8) != 0)
			return ldap_conf_fail(ctx, conf->path, 0,
					      pool_printf(ctx->pool, "Unsupported URI: %s", u));
		if (conf->tls && strncasecmp(u, "ldaps:", 6) == 0)
			return ldap_conf_fail(ctx, conf->path, 0, "Don't use both tls=yes and ldaps URI");
	}
	if (conf->ldap_version < 3 && (conf->tls || conf->sasl_bind))
		return ldap_conf_fail(ctx, conf->path, 0,
				      "tls and sasl_bind require ldap_version = 3");
	if (conf->ldap_version < 2 || conf->ldap_version > 3)
		return ldap_conf_fail(ctx, conf->path, 0, "ldap_version must be 2 or 3");
	if (conf->auth_bind_userdn != NULL && *conf->auth_bind_userdn == '\0')
		conf->auth_bind_userdn = NULL;
	if (conf->dn != NULL && *conf->dn == '\0')
		conf->dn = NULL;
	return 0;
}

int ldap_conf_parse(struct pool *pool, const char *name, const uint8_t *data, size_t len,
		    bool allow_include, ldap_conf_warn_fn *warn, void *warn_ctx,
		    struct ldap_conf *conf, const char **error_r)
{
	struct ldap_conf_ctx ctx = {
		.pool = pool, .conf = conf, .warn = warn, .warn_ctx = warn_ctx,
		.allow_include = allow_include,
	};
	ldap_conf_defaults(conf);
	conf->path = pool_strdup(pool, name);
	if (ldap_conf_parse_data(&ctx, conf->path, (const char *)data, len) < 0 ||
	    ldap_conf_check(&ctx) < 0) {
		*error_r = ctx.error;
		return -1;
	}
	return 0;
}

int ldap_conf_read(struct pool *pool, const char *path, ldap_conf_warn_fn *warn, void *warn_ctx,
		   struct ldap_conf *conf, const char **error_r)
{
	struct ldap_conf_ctx ctx = {
		.pool = pool, .conf = conf, .warn = warn, .warn_ctx = warn_ctx,
		.allow_include = true,
	};
	bool missing;
	ldap_conf_defaults(conf);
	conf->path = pool_strdup(pool, path);
	if (ldap_conf_read_file(&ctx, conf->path, false, &missing) < 0 || ldap_conf_check(&ctx) < 0) {
		*error_r = ctx.error;
		return -1;
	}
	return 0;
}

static bool ldap_str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && secret_equal(a, strlen(a), b, strlen(b)) == 1);
}

bool ldap_conf_equal(const struct ldap_conf *a, const struct ldap_conf *b)
{
	for (size_t i = 0; i < sizeof(ldap_keys) / sizeof(ldap_keys[0]); i++) {
		const struct ldap_key *k = &ldap_keys[i];
		const void *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;
		switch (k->type) {
		case LK_STR:
			if (!ldap_str_eq(*(const char *const *)pa, *(const char *const *)pb))
				return false;
			break;
		case LK_BOOL:
			if (*(const bool *)pa != *(const bool *)pb)
				return false;
			break;
		default:
			if (memcmp(pa, pb, sizeof(int)) != 0)
				return false;
			break;
		}
	}
	return true;
}
