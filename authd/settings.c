/* settings: a parsed config tree becomes struct auth_settings.
 *
 * Top-level settings authd uses are in settings_defs[] (name, type, field,
 * Dovecot 2.3.19 default, extra check); other auth_* settings Dovecot knows
 * are there too without a field, so their values are still type-checked.
 * Any other name Dovecot knows (settings_known.c) is accepted and ignored,
 * so a whole dovecot.conf loads; an unknown name is an error. */
#include "authd/settings_private.h"
#include "authd/settings_known.h"
#include "authd/log.h"
#include "common/pool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SETTINGS_CACHE_MIN_SIZE 1024u   /* auth_cache_size: smaller is refused */
#define SETTINGS_MAX_PATH 4096u         /* base_dir after making it absolute */

#define F(field) offsetof(struct auth_settings, field)
#define NS SETTING_NOT_STORED

static int check_mechanisms(struct settings_ctx *, const struct config_node *,
			    const char *, const char **);
static int check_verbose_passwords(struct settings_ctx *, const struct config_node *,
				   const char *, const char **);
static int check_translation(struct settings_ctx *, const struct config_node *,
			     const char *, const char **);
static int check_worker_count(struct settings_ctx *, const struct config_node *,
			      const char *, const char **);
static int check_cache_size(struct settings_ctx *, const struct config_node *,
			    const char *, const char **);
static int check_not_empty(struct settings_ctx *, const struct config_node *,
			   const char *, const char **);
static int check_facility(struct settings_ctx *, const struct config_node *,
			  const char *, const char **);
static int check_hash_threads(struct settings_ctx *, const struct config_node *,
			      const char *, const char **);
static int check_unsupported(struct settings_ctx *, const struct config_node *,
			     const char *, const char **);

/* Sorted by name; settings_dump() prints them in this order. */
const struct setting_def settings_defs[] = {
	{ "auth_allow_weak_schemes", SETTING_BOOL, F(auth_allow_weak_schemes), "yes", NULL },
	{ "auth_anonymous_username", SETTING_STRING, F(auth_anonymous_username), "anonymous", NULL },
	{ "auth_cache_negative_ttl", SETTING_TIME, F(auth_cache_negative_ttl), "1 hours", NULL },
	{ "auth_cache_size", SETTING_SIZE, F(auth_cache_size), "0", check_cache_size },
	{ "auth_cache_ttl", SETTING_TIME, F(auth_cache_ttl), "1 hours", NULL },
	{ "auth_cache_verify_password_with_worker", SETTING_BOOL,
	  F(auth_cache_verify_password_with_worker), "no", NULL },
	{ "auth_debug", SETTING_BOOL, F(auth_debug), "no", NULL },
	{ "auth_debug_passwords", SETTING_BOOL, F(auth_debug_passwords), "no", NULL },
	{ "auth_default_realm", SETTING_STRING, F(auth_default_realm), "", NULL },
	{ "auth_failure_delay", SETTING_TIME, F(auth_failure_delay), "2 secs", NULL },
	{ "auth_gssapi_hostname", SETTING_STRING, NS, "", NULL },
	{ "auth_hash_threads", SETTING_UINT, F(auth_hash_threads), "0", check_hash_threads },
	{ "auth_krb5_keytab", SETTING_STRING, NS, "", NULL },
	{ "auth_master_user_separator", SETTING_STRING, F(auth_master_user_separator), "", NULL },
	{ "auth_mechanisms", SETTING_STRING, F(auth_mechanisms), "plain", check_mechanisms },
	{ "auth_policy_check_after_auth", SETTING_BOOL, NS, "yes", NULL },
	{ "auth_policy_check_before_auth", SETTING_BOOL, NS, "yes", NULL },
	{ "auth_policy_hash_mech", SETTING_STRING, NS, "sha256", NULL },
	{ "auth_policy_hash_nonce", SETTING_STRING, NS, "", NULL },
	{ "auth_policy_hash_truncate", SETTING_UINT, NS, "12", NULL },
	{ "auth_policy_log_only", SETTING_BOOL, NS, "no", NULL },
	{ "auth_policy_reject_on_fail", SETTING_BOOL, NS, "no", NULL },
	{ "auth_policy_report_after_auth", SETTING_BOOL, NS, "yes", NULL },
	{ "auth_policy_request_attributes", SETTING_STRING, NS,
	  "login=%{requested_username} pwhash=%{hashed_password} remote=%{rip} "
	  "device_id=%{client_id} protocol=%s session_id=%{session}", NULL },
	{ "auth_policy_server_api_header", SETTING_STRING, NS, "", NULL },
	{ "auth_policy_server_timeout_msecs", SETTING_UINT, NS, "2000", NULL },
	{ "auth_policy_server_url", SETTING_STRING, NS, "", check_unsupported },
	{ "auth_proxy_self", SETTING_STRING, NS, "", NULL },
	{ "auth_realms", SETTING_STRING, F(auth_realms), "", NULL },
	{ "auth_socket_path", SETTING_STRING, NS, "auth-userdb", NULL },
	{ "auth_ssl_require_client_cert", SETTING_BOOL, F(auth_ssl_require_client_cert), "no", NULL },
	{ "auth_ssl_username_from_cert", SETTING_BOOL, F(auth_ssl_username_from_cert), "no", NULL },
	{ "auth_stats", SETTING_BOOL, NS, "no", NULL },
	{ "auth_use_winbind", SETTING_BOOL, NS, "no", NULL },
	{ "auth_username_chars", SETTING_STRING, F(auth_username_chars),
	  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@", NULL },
	{ "auth_username_format", SETTING_STRING, F(auth_username_format), "%Lu", NULL },
	{ "auth_username_translation", SETTING_STRING, F(auth_username_translation), "",
	  check_translation },
	{ "auth_verbose", SETTING_BOOL, F(auth_verbose), "no", NULL },
	{ "auth_verbose_passwords", SETTING_STRING, F(auth_verbose_passwords), "no",
	  check_verbose_passwords },
	{ "auth_winbind_helper_path", SETTING_STRING, NS, "/usr/bin/ntlm_auth", NULL },
	{ "auth_worker_max_count", SETTING_UINT, F(auth_worker_max_count), "30", check_worker_count },
	{ "base_dir", SETTING_STRING, F(base_dir), "/run/dovecot", check_not_empty },
	{ "debug_log_path", SETTING_STRING, F(debug_log_path), "", NULL },
	{ "default_internal_user", SETTING_STRING, F(default_internal_user), "dovecot",
	  check_not_empty },
	{ "disable_plaintext_auth", SETTING_BOOL, F(disable_plaintext_auth), "yes", NULL },
	{ "info_log_path", SETTING_STRING, F(info_log_path), "", NULL },
	{ "log_path", SETTING_STRING, F(log_path), "syslog", NULL },
	{ "syslog_facility", SETTING_STRING, F(syslog_facility), "mail", check_facility },
};
const size_t settings_defs_count = sizeof(settings_defs) / sizeof(settings_defs[0]);

/* Mechanisms authd implements (auth_mechanisms is case-insensitive). */
static const char *const settings_mechanisms[] = {
	"plain", "login", "cram-md5", "digest-md5", "scram-sha-1", "scram-sha-256",
	"scram-sha-512", "anonymous", "external",
};

/* syslog facilities Dovecot accepts (lib/failures.c). */
static const char *const settings_facilities[] = {
	"auth", "authpriv", "cron", "daemon", "ftp", "kern", "local0", "local1",
	"local2", "local3", "local4", "local5", "local6", "local7", "lpr", "mail",
	"news", "syslog", "user", "uucp",
};

static bool word_in(const char *const *list, size_t count, const char *w, size_t wlen)
{
	for (size_t i = 0; i < count; i++) {
		if (strlen(list[i]) == wlen && strncasecmp(list[i], w, wlen) == 0)
			return true;
	}
	return false;
}

static const struct setting_def *settings_def_find(const char *name)
{
	for (size_t i = 0; i < settings_defs_count; i++) {
		if (strcmp(settings_defs[i].name, name) == 0)
			return &settings_defs[i];
	}
	return NULL;
}

static const char *settings_default_lookup(const char *name)
{
	const struct setting_def *def = settings_def_find(name);
	return def != NULL ? def->def : settings_known_default(name);
}

static char settings_errbuf[CONFIG_MAX_ERROR_LEN];

int settings_fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(settings_errbuf, sizeof(settings_errbuf), fmt, ap);
	va_end(ap);
	*error_r = settings_errbuf;
	return -1;
}

int settings_node_fail(const struct config_node *node, const char *msg, const char **error_r)
{
	*error_r = config_node_error(node, "%s", msg);
	return -1;
}

static int check_mechanisms(struct settings_ctx *ctx, const struct config_node *node,
			    const char *value, const char **error_r)
{
	size_t count = 0;
	for (const char *p = value; *p != '\0';) {
		size_t len = strcspn(p, " \t");
		if (len > 0 && !word_in(settings_mechanisms, sizeof(settings_mechanisms) /
					sizeof(settings_mechanisms[0]), p, len))
			return settings_node_fail(node, pool_printf(ctx->set->pool, "unknown or unsupported "
					 "mechanism '%.*s'", len > 64 ? 64 : (int)len, p), error_r);
		count += len > 0 ? 1 : 0;
		p += len + (p[len] != '\0' ? 1 : 0);
	}
	return count == 0 ? settings_node_fail(node, "no mechanisms listed", error_r) : 0;
}

static int check_verbose_passwords(struct settings_ctx *ctx, const struct config_node *node,
				   const char *value, const char **error_r)
{
	if (strcmp(value, "yes") == 0)
		ctx->set->auth_verbose_passwords = "plain";
	if (strcmp(value, "no") == 0 || strcmp(value, "yes") == 0 ||
	    strcmp(value, "plain") == 0 || strcmp(value, "sha1") == 0)
		return 0;
	unsigned int n;
	const char *error;
	if (strncmp(value, "sha1:", 5) == 0 &&
	    settings_parse_uint(ctx->set->pool, value + 5, &n, &error) == 0 && n > 0)
		return 0;
	return settings_node_fail(node, pool_printf(ctx->set->pool, "invalid value '%.64s' (use no, "
					   "plain, sha1 or sha1:N with N > 0)", value), error_r);
}

static int check_translation(struct settings_ctx *ctx, const struct config_node *node,
			     const char *value, const char **error_r)
{
	(void)ctx;
	if (strlen(value) % 2 != 0)
		return settings_node_fail(node, "the number of characters must be even "
				 "(pairs of from-to characters)", error_r);
	return 0;
}

static int check_worker_count(struct settings_ctx *ctx, const struct config_node *node,
			      const char *value, const char **error_r)
{
	(void)value;
	return ctx->set->auth_worker_max_count == 0 ?
		settings_node_fail(node, "must be above zero", error_r) : 0;
}

static int check_hash_threads(struct settings_ctx *ctx, const struct config_node *node,
			      const char *value, const char **error_r)
{
	(void)value;
	if (ctx->set->auth_hash_threads > SETTINGS_MAX_HASH_THREADS)
		return settings_node_fail(node, pool_printf(ctx->set->pool, "must be at most %u (0 = one "
				 "per online CPU)", SETTINGS_MAX_HASH_THREADS), error_r);
	return 0;
}

/* As Dovecot 2.3: a plain number below 1024 is read as megabytes (with a
 * warning); otherwise 1..1023 bytes is too small to be a cache. */
static int check_cache_size(struct settings_ctx *ctx, const struct config_node *node,
			    const char *value, const char **error_r)
{
	uint64_t n = ctx->set->auth_cache_size;
	if (n > 0 && n < SETTINGS_CACHE_MIN_SIZE && strspn(value, "0123456789") == strlen(value)) {
		settings_warn(ctx, node, "a plain number no longer means megabytes: "
			      "reading it as megabytes; write e.g. 10M");
		ctx->set->auth_cache_size = n * 1024 * 1024;
		return 0;
	}
	if (n > 0 && n < SETTINGS_CACHE_MIN_SIZE)
		return settings_node_fail(node, "value is too small (0 disables the cache, "
				 "else at least 1k)", error_r);
	return 0;
}

static int check_not_empty(struct settings_ctx *ctx, const struct config_node *node,
			   const char *value, const char **error_r)
{
	(void)ctx;
	return value[0] == '\0' ? settings_node_fail(node, "must not be empty", error_r) : 0;
}

static int check_facility(struct settings_ctx *ctx, const struct config_node *node,
			  const char *value, const char **error_r)
{
	if (!word_in(settings_facilities, sizeof(settings_facilities) /
		     sizeof(settings_facilities[0]), value, strlen(value)))
		return settings_node_fail(node, pool_printf(ctx->set->pool, "unknown syslog facility "
						   "'%.64s'", value), error_r);
	return 0;
}

static int check_unsupported(struct settings_ctx *ctx, const struct config_node *node,
			     const char *value, const char **error_r)
{
	(void)error_r;
	if (value[0] != '\0')
		settings_warn(ctx, node, "not supported by authd; ignored");
	return 0;
}

void settings_warn(struct settings_ctx *ctx, const struct config_node *node, const char *msg)
{
	if ((ctx->flags & SETTINGS_LOAD_QUIET) == 0)
		log_warning("%s:%u: %s: %s", node->file, node->line, node->key, msg);
}

void settings_array_grow(struct settings_ctx *ctx, void **array, size_t elem_size,
			 size_t count, size_t *cap)
{
	if (count < *cap)
		return;
	size_t ncap = *cap == 0 ? 4 : *cap * 2;
	void *n = pool_alloc(ctx->set->pool, ncap * elem_size);
	if (count > 0)
		memcpy(n, *array, count * elem_size);
	*array = n;
	*cap = ncap;
}

int settings_node_value(struct settings_ctx *ctx, const struct config_node *node,
			const char **value_r, const char **error_r)
{
	const char *value;
	if (config_node_value(ctx->tree, node, &value, error_r) < 0)
		return -1;
	for (const char *p = value; *p != '\0'; p++) {
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return settings_node_fail(node, "value contains a control character", error_r);
	}
	*value_r = pool_strdup(ctx->set->pool, value);
	return 0;
}

/* Parses value by def's type into its field (if stored). */
static int settings_parse_def(struct auth_settings *set, const struct setting_def *def,
			      const char *value, const char **error_r)
{
	void *field = def->offset == NS ? NULL : (char *)set + def->offset;
	bool b;
	unsigned int u;
	uint64_t size;
	switch (def->type) {
	case SETTING_STRING:
		if (field != NULL)
			*(const char **)field = value;
		return 0;
	case SETTING_BOOL:
		if (settings_parse_bool(set->pool, value, &b, error_r) < 0)
			return -1;
		if (field != NULL)
			*(bool *)field = b;
		return 0;
	case SETTING_UINT:
	case SETTING_TIME:
		if ((def->type == SETTING_UINT ? settings_parse_uint(set->pool, value, &u, error_r) :
		     settings_parse_time(set->pool, value, &u, error_r)) < 0)
			return -1;
		if (field != NULL)
			*(unsigned int *)field = u;
		return 0;
	case SETTING_SIZE:
		if (settings_parse_size(set->pool, value, &size, error_r) < 0)
			return -1;
		if (field != NULL)
			*(uint64_t *)field = size;
		return 0;
	}
	return -1;
}

static int settings_top_key(struct settings_ctx *ctx, const struct config_node *node,
			    const char **error_r)
{
	const struct setting_def *def = settings_def_find(node->key);
	const char *value, *error;
	if (def == NULL) {
		if (settings_known_default(node->key) != NULL)
			return 0;   /* another Dovecot service's setting */
		if (settings_known_obsolete(node->key)) {
			settings_warn(ctx, node, "obsolete Dovecot setting; ignored");
			return 0;
		}
		return settings_node_fail(node, "unknown setting", error_r);
	}
	if (settings_node_value(ctx, node, &value, error_r) < 0)
		return -1;
	if (settings_parse_def(ctx->set, def, value, &error) < 0)
		return settings_node_fail(node, error, error_r);
	return def->check != NULL ? def->check(ctx, node, value, error_r) : 0;
}

/* Whether a filter section holds something authd would need to honour. */
static bool section_has_auth(const struct config_node *section)
{
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_KEY && strncmp(n->key, "auth_", 5) == 0)
			return true;
		if (n->type == CONFIG_NODE_SECTION &&
		    (strcmp(n->key, "passdb") == 0 || strcmp(n->key, "userdb") == 0 ||
		     section_has_auth(n)))
			return true;
	}
	return false;
}

static int settings_top_section(struct settings_ctx *ctx, const struct config_node *node,
				const char **error_r)
{
	if (strcmp(node->key, "passdb") == 0 || strcmp(node->key, "userdb") == 0)
		return settings_db_section(ctx, node, error_r);
	if (strcmp(node->key, "service") == 0)
		return settings_service_section(ctx, node, error_r);
	if (!settings_known_section(node->key))
		return settings_node_fail(node, "unknown section", error_r);
	if ((strcmp(node->key, "protocol") == 0 || strcmp(node->key, "local") == 0 ||
	     strcmp(node->key, "remote") == 0 || strcmp(node->key, "local_name") == 0) &&
	    section_has_auth(node))
		settings_warn(ctx, node, "auth settings, passdbs and userdbs inside this "
			      "block are ignored by authd");
	return 0;   /* other services' sections: syntax-checked only */
}

static void settings_apply_defaults(struct auth_settings *set)
{
	const char *error;
	for (size_t i = 0; i < settings_defs_count; i++) {
		if (settings_parse_def(set, &settings_defs[i], settings_defs[i].def, &error) < 0)
			log_fatal("settings: bad built-in default for %s: %s",
				  settings_defs[i].name, error);
	}
	set->service_auth_worker_user = "";
}

static int settings_make_base_dir_absolute(struct auth_settings *set, const char *name,
					   const char **error_r)
{
	char cwd[SETTINGS_MAX_PATH];
	size_t len = strlen(set->base_dir);
	while (len > 1 && set->base_dir[len - 1] == '/')
		len--;
	if (set->base_dir[0] == '/') {
		set->base_dir = pool_strndup(set->pool, set->base_dir, len);
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return settings_fail(error_r, "%s: base_dir: getcwd() failed: %s", name,
				   strerror(errno));
	if (strlen(cwd) + len + 2 > SETTINGS_MAX_PATH)
		return settings_fail(error_r, "%s: base_dir: path too long", name);
	set->base_dir = pool_printf(set->pool, "%s%s%.*s", cwd, strcmp(cwd, "/") == 0 ? "" : "/",
				    (int)len, set->base_dir);
	return 0;
}

static int settings_finish(struct settings_ctx *ctx, const char *name, const char **error_r)
{
	struct auth_settings *set = ctx->set;
	if (set->auth_debug_passwords)
		set->auth_debug = true;
	if (set->auth_debug)
		set->auth_verbose = true;
	if (!ctx->service_auth_user_set)
		set->service_auth_user = set->default_internal_user;
	if (settings_make_base_dir_absolute(set, name, error_r) < 0)
		return -1;
	if (set->auth_anonymous_username[0] == '\0' &&
	    strcasestr(set->auth_mechanisms, "anonymous") != NULL)
		return settings_fail(error_r, "%s: auth_anonymous_username: must not be empty "
				   "when auth_mechanisms has ANONYMOUS", name);
	return settings_service_finish(ctx, error_r);
}

static int settings_from_tree(struct config_tree *tree, const char *name, unsigned int flags,
			      struct auth_settings **set_r, const char **error_r)
{
	struct pool *pool = pool_create(8192);
	struct auth_settings *set = pool_alloc(pool, sizeof(*set));
	struct settings_ctx ctx = { .set = set, .tree = tree, .flags = flags };
	set->pool = pool;
	settings_apply_defaults(set);
	settings_service_init(&ctx);
	int ret = 0;
	for (const struct config_node *n = tree->root->children; n != NULL && ret == 0; n = n->next) {
		ret = n->type == CONFIG_NODE_KEY ? settings_top_key(&ctx, n, error_r) :
			settings_top_section(&ctx, n, error_r);
	}
	if (ret == 0)
		ret = settings_finish(&ctx, name, error_r);
	if (ret < 0) {
		settings_free(&set);
		return -1;
	}
	*set_r = set;
	return 0;
}

static void settings_parse_opts(unsigned int flags, struct config_parse_opts *opts_r)
{
	opts_r->flags = ((flags & SETTINGS_LOAD_NO_FILES) != 0 ? CONFIG_PARSE_NO_FILES : 0) |
		((flags & SETTINGS_LOAD_QUIET) != 0 ? CONFIG_PARSE_QUIET : 0);
	opts_r->default_lookup = settings_default_lookup;
}

int settings_load(const char *path, struct auth_settings **set_r, const char **error_r)
{
	struct config_parse_opts opts;
	struct config_tree *tree;
	settings_parse_opts(0, &opts);
	if (config_parse_file(path, &opts, &tree, error_r) < 0)
		return -1;
	int ret = settings_from_tree(tree, path, 0, set_r, error_r);
	config_tree_free(&tree);
	return ret;
}

int settings_load_buffer_flags(const char *name, const uint8_t *data, size_t len,
			       unsigned int flags, struct auth_settings **set_r,
			       const char **error_r)
{
	struct config_parse_opts opts;
	struct config_tree *tree;
	settings_parse_opts(flags, &opts);
	if (config_parse_buffer(name, data, len, &opts, &tree, error_r) < 0)
		return -1;
	int ret = settings_from_tree(tree, name, flags, set_r, error_r);
	config_tree_free(&tree);
	return ret;
}

int settings_load_buffer(const char *name, const uint8_t *data, size_t len,
			 struct auth_settings **set_r, const char **error_r)
{
	return settings_load_buffer_flags(name, data, len, 0, set_r, error_r);
}

void settings_free(struct auth_settings **set)
{
	if (*set == NULL)
		return;
	struct pool *pool = (*set)->pool;
	*set = NULL;
	pool_destroy(&pool);
}
