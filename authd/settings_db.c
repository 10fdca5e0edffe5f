/* settings_db: passdb { } and userdb { } blocks into struct db_settings.
 * Both `passdb {` and Dovecot 2.3's `passdb NAME {` are accepted. Driver
 * names are checked here; driver args are the drivers' business. */
#include "authd/settings_private.h"
#include "common/buf.h"
#include "common/pool.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define D(field) offsetof(struct db_settings, field)

/* Dump order. The defaults are as settings_db_format() prints them. */
const struct db_key settings_db_keys[] = {
	{ "driver", DB_KEY_STRING, D(driver), false, "" },
	{ "name", DB_KEY_STRING, D(name), false, "" },
	{ "args", DB_KEY_STRING, D(args), false, "" },
	{ "default_fields", DB_KEY_STRING, D(default_fields), false, "" },
	{ "override_fields", DB_KEY_STRING, D(override_fields), false, "" },
	{ "mechanisms", DB_KEY_STRING, D(mechanisms), true, "" },
	{ "username_filter", DB_KEY_STRING, D(username_filter), true, "" },
	{ "deny", DB_KEY_BOOL, D(deny), true, "no" },
	{ "master", DB_KEY_BOOL, D(master), true, "no" },
	{ "pass", DB_KEY_BOOL, D(pass), true, "no" },
	{ "skip", DB_KEY_SKIP, D(skip), false, "never" },
	{ "result_success", DB_KEY_RESULT, D(result_success), false, "return-ok" },
	{ "result_failure", DB_KEY_RESULT, D(result_failure), false, "continue" },
	{ "result_internalfail", DB_KEY_RESULT, D(result_internalfail), false, "continue" },
	{ "auth_verbose", DB_KEY_VERBOSE, D(auth_verbose), false, "default" },
};
const size_t settings_db_keys_count = sizeof(settings_db_keys) / sizeof(settings_db_keys[0]);

/* Drivers authd knows (some arrive in later work). */
static const char *const passdb_drivers[] = {
	"passwd-file", "static", "ldap", "vpopmail", "pam", "shadow", "passwd",
	"checkpassword",
};
static const char *const userdb_drivers[] = {
	"passwd-file", "static", "ldap", "vpopmail", "passwd", "checkpassword",
	"prefetch",
};

/* Indexed by enum db_result_action. */
static const char *const settings_db_result_names[] = {
	"return", "return-ok", "return-fail", "continue", "continue-ok", "continue-fail",
};
/* Indexed by enum db_skip. */
static const char *const settings_db_skip_names[] = {
	"never", "authenticated", "unauthenticated", "found", "notfound",
};
/* Indexed by enum db_auth_verbose. */
static const char *const settings_db_verbose_names[] = { "default", "yes", "no" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int name_index(const char *const *names, size_t first, size_t count, const char *value)
{
	for (size_t i = first; i < first + count; i++) {
		if (strcmp(names[i], value) == 0)
			return (int)i;
	}
	return -1;
}

static int db_enum_value(struct settings_ctx *ctx, const struct config_node *node,
			 const struct db_key *key, bool passdb, const char *value,
			 int *value_r, const char **error_r)
{
	const char *const *names = settings_db_verbose_names;
	size_t first = 0, count = COUNT(settings_db_verbose_names);
	const char *hint = "default, yes or no";
	if (key->type == DB_KEY_RESULT) {
		names = settings_db_result_names;
		count = COUNT(settings_db_result_names);
		hint = "return, return-ok, return-fail, continue, continue-ok or continue-fail";
	} else if (key->type == DB_KEY_SKIP) {
		names = settings_db_skip_names;
		first = passdb ? 1 : 3;
		count = 2;
		hint = passdb ? "never, authenticated or unauthenticated" : "never, found or notfound";
	}
	*value_r = name_index(names, first, count, value);
	if (*value_r < 0 && key->type == DB_KEY_SKIP && strcmp(value, "never") == 0)
		*value_r = DB_SKIP_NEVER;
	if (*value_r >= 0)
		return 0;
	return settings_node_fail(node, pool_printf(ctx->set->pool, "invalid value '%.64s' "
				  "(use %s)", value, hint), error_r);
}

static int db_key_value(struct settings_ctx *ctx, struct db_settings *db, bool passdb,
			const struct db_key *key, const struct config_node *node,
			const char **error_r)
{
	const char *value, *error;
	void *field = (char *)db + key->offset;
	int e;
	bool b;
	if (settings_node_value(ctx, node, &value, error_r) < 0)
		return -1;
	switch (key->type) {
	case DB_KEY_STRING:
		*(const char **)field = value;
		return 0;
	case DB_KEY_BOOL:
		if (settings_parse_bool(ctx->set->pool, value, &b, &error) < 0)
			return settings_node_fail(node, error, error_r);
		*(bool *)field = b;
		return 0;
	case DB_KEY_SKIP:
	case DB_KEY_RESULT:
	case DB_KEY_VERBOSE:
		if (db_enum_value(ctx, node, key, passdb, value, &e, error_r) < 0)
			return -1;
		if (key->type == DB_KEY_SKIP)
			db->skip = (enum db_skip)e;
		else if (key->type == DB_KEY_RESULT)
			*(enum db_result_action *)field = (enum db_result_action)e;
		else
			db->auth_verbose = (enum db_auth_verbose)e;
		return 0;
	}
	return -1;
}

static int db_node(struct settings_ctx *ctx, struct db_settings *db, bool passdb,
		   const struct config_node *node, const char **error_r)
{
	const char *kind = passdb ? "passdb" : "userdb";
	if (node->type == CONFIG_NODE_SECTION)
		return settings_node_fail(node, pool_printf(ctx->set->pool, "unexpected section "
					  "inside %s { }", kind), error_r);
	for (size_t i = 0; i < settings_db_keys_count; i++) {
		const struct db_key *key = &settings_db_keys[i];
		if (strcmp(key->name, node->key) == 0 && (passdb || !key->passdb_only))
			return db_key_value(ctx, db, passdb, key, node, error_r);
	}
	return settings_node_fail(node, pool_printf(ctx->set->pool, "unknown %s setting", kind),
				  error_r);
}

static void db_defaults(struct db_settings *db, const struct config_node *section)
{
	db->driver = "";
	db->args = "";
	db->default_fields = "";
	db->override_fields = "";
	db->mechanisms = "";
	db->username_filter = "";
	db->skip = DB_SKIP_NEVER;
	db->result_success = DB_RESULT_RETURN_OK;
	db->result_failure = DB_RESULT_CONTINUE;
	db->result_internalfail = DB_RESULT_CONTINUE;
	db->file = section->file;
	db->line = section->line;
	db->name = section->value;
	db->auth_verbose = DB_AUTH_VERBOSE_DEFAULT;
}

/* The driver and name checks once the block is read. */
static int db_check(struct settings_ctx *ctx, const struct db_settings *db, bool passdb,
		    const struct config_node *section, const char **error_r)
{
	const char *kind = passdb ? "passdb" : "userdb";
	if (!settings_name_valid(db->name))
		return settings_node_fail(section, "invalid characters in the name", error_r);
	if (db->driver[0] == '\0')
		return settings_node_fail(section, "missing driver", error_r);
	if ((passdb ? name_index(passdb_drivers, 0, COUNT(passdb_drivers), db->driver) :
	     name_index(userdb_drivers, 0, COUNT(userdb_drivers), db->driver)) < 0)
		return settings_node_fail(section, pool_printf(ctx->set->pool, "unknown or "
					  "unsupported %s driver '%.64s'", kind, db->driver),
					  error_r);
	return 0;
}

int settings_db_section(struct settings_ctx *ctx, const struct config_node *section,
			const char **error_r)
{
	struct auth_settings *set = ctx->set;
	bool passdb = strcmp(section->key, "passdb") == 0;
	struct db_settings **array = passdb ? &set->passdbs : &set->userdbs;
	size_t *count = passdb ? &set->passdb_count : &set->userdb_count;
	if (*count >= SETTINGS_MAX_DBS)
		return settings_node_fail(section, pool_printf(set->pool, "too many %s blocks "
					  "(limit %u)", section->key, SETTINGS_MAX_DBS), error_r);
	settings_array_grow(ctx, (void **)array, sizeof(**array), *count,
			    passdb ? &ctx->passdb_cap : &ctx->userdb_cap);
	struct db_settings *db = &(*array)[*count];
	db_defaults(db, section);
	db->file = pool_strdup(set->pool, section->file);
	db->name = pool_strdup(set->pool, section->value);
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		if (db_node(ctx, db, passdb, n, error_r) < 0)
			return -1;
	}
	if (db_check(ctx, db, passdb, section, error_r) < 0)
		return -1;
	(*count)++;
	return 0;
}

int settings_db_format(const struct db_settings *db, const struct db_key *key, struct buf *out)
{
	const void *field = (const char *)db + key->offset;
	switch (key->type) {
	case DB_KEY_STRING:
		return settings_format_value(out, *(const char *const *)field);
	case DB_KEY_BOOL:
		return buf_append_str(out, *(const bool *)field ? "yes" : "no");
	case DB_KEY_SKIP:
		return buf_append_str(out, settings_db_skip_names[db->skip]);
	case DB_KEY_RESULT:
		return buf_append_str(out, settings_db_result_names[
			*(const enum db_result_action *)field]);
	case DB_KEY_VERBOSE:
		return buf_append_str(out, settings_db_verbose_names[db->auth_verbose]);
	}
	return -1;
}

const char *settings_db_error(const struct db_settings *db, const char *kind,
			      const char *problem)
{
	static char errbuf[1024];
	snprintf(errbuf, sizeof(errbuf), "%s:%u: %s %s: %s", db->file != NULL ? db->file : "?",
		 db->line, kind, db->driver, problem);
	return errbuf;
}
