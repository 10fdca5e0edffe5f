/* settings_service: `service auth { }` (process user, listeners) and
 * `service auth-worker { user }`. Other services are syntax-checked only.
 *
 * As in Dovecot 2.3, service auth always has the listeners auth-client,
 * auth-login, auth-master and auth-userdb (in base_dir); a configured
 * listener of the same name (and kind) changes their attributes, other
 * names add listeners. A listener's type comes from its name (spec 1.5). */
#include "authd/settings_private.h"
#include "common/pool.h"

#include <string.h>
#include <sys/un.h>

#define SETTINGS_BUILTIN_FILE "(built-in)"

struct default_listener {
	const char *name;
	mode_t mode;
	bool owned;     /* default owner: default_internal_user (else "") */
};

/* doveconf -d, 2.3.19 (login/login and token-login/tokenlogin, which only
 * Dovecot's own login processes use, are left out). */
static const struct default_listener default_listeners[] = {
	{ "auth-client", 0600, true },
	{ "auth-login", 0600, true },
	{ "auth-master", 0600, false },
	{ "auth-userdb", 0666, true },
};

/* Service-level settings of Dovecot 2.3; accepted, authd has no use for
 * them (it is one process with its own limits). */
static const char *const service_keys[] = {
	"chroot", "client_limit", "drop_priv_before_exec", "executable", "extra_groups",
	"group", "idle_kill", "privileged_group", "process_limit", "process_min_avail",
	"protocol", "service_count", "type", "user", "vsz_limit",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int settings_default_listener(const char *name)
{
	for (size_t i = 0; i < COUNT(default_listeners); i++) {
		if (strcmp(default_listeners[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

mode_t settings_default_listener_mode(int i)
{
	return default_listeners[i].mode;
}

bool settings_default_listener_owned(int i)
{
	return default_listeners[i].owned;
}

static struct listener_settings *listener_add(struct settings_ctx *ctx, const char *name,
					      bool inet)
{
	struct auth_settings *set = ctx->set;
	settings_array_grow(ctx, (void **)&set->listeners, sizeof(*set->listeners),
			    set->listener_count, &ctx->listener_cap);
	struct listener_settings *l = &set->listeners[set->listener_count++];
	memset(l, 0, sizeof(*l));
	l->name = pool_strdup(set->pool, name);
	l->inet = inet;
	l->mode = 0600;
	l->user = "";
	l->group = "";
	l->address = "";
	l->path = "";
	l->file = SETTINGS_BUILTIN_FILE;
	return l;
}

void settings_service_init(struct settings_ctx *ctx)
{
	for (size_t i = 0; i < COUNT(default_listeners); i++)
		listener_add(ctx, default_listeners[i].name, false)->mode = default_listeners[i].mode;
}

static bool name_in(const char *const *list, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(list[i], name) == 0)
			return true;
	}
	return false;
}

/* A bool setting authd only accepts as "no" (haproxy, ssl). */
static int listener_refuse_yes(struct settings_ctx *ctx, const struct config_node *node,
			       const char *value, const char **error_r)
{
	bool b;
	const char *error;
	if (settings_parse_bool(ctx->set->pool, value, &b, &error) < 0)
		return settings_node_fail(node, error, error_r);
	return b ? settings_node_fail(node, "not supported by authd", error_r) : 0;
}

static int listener_key(struct settings_ctx *ctx, struct listener_settings *l,
			const struct config_node *node, const char **error_r)
{
	const char *value, *error = NULL;
	const char *k = node->key;
	if (settings_node_value(ctx, node, &value, error_r) < 0)
		return -1;
	if (!l->inet && strcmp(k, "mode") == 0) {
		l->mode_set = true;
		if (settings_parse_mode(ctx->set->pool, value, &l->mode, &error) < 0)
			return settings_node_fail(node, error, error_r);
	} else if (!l->inet && strcmp(k, "user") == 0) {
		l->user = value;
		l->user_explicit = true;
	} else if (!l->inet && strcmp(k, "group") == 0) {
		l->group = value;
		l->group_explicit = true;
	} else if (l->inet && strcmp(k, "address") == 0) {
		l->address = value;
	} else if (l->inet && strcmp(k, "port") == 0) {
		if (settings_parse_port(ctx->set->pool, value, &l->port, &error) < 0)
			return settings_node_fail(node, error, error_r);
	} else if (l->inet && strcmp(k, "reuse_port") == 0) {
		bool b;
		if (settings_parse_bool(ctx->set->pool, value, &b, &error) < 0)
			return settings_node_fail(node, error, error_r);
	} else if (l->inet && (strcmp(k, "haproxy") == 0 || strcmp(k, "ssl") == 0)) {
		return listener_refuse_yes(ctx, node, value, error_r);
	} else {
		return settings_node_fail(node, "unknown listener setting", error_r);
	}
	return 0;
}

static int listener_section(struct settings_ctx *ctx, const struct config_node *section,
			    bool inet, const char **error_r)
{
	struct auth_settings *set = ctx->set;
	struct listener_settings *l = NULL;
	if (section->value[0] == '\0')
		return settings_node_fail(section, "missing listener name", error_r);
	if (!settings_name_valid(section->value))
		return settings_node_fail(section, "invalid characters in the name", error_r);
	for (size_t i = 0; i < set->listener_count && l == NULL; i++) {
		if (set->listeners[i].inet == inet && strcmp(set->listeners[i].name, section->value) == 0)
			l = &set->listeners[i];
	}
	if (l == NULL && set->listener_count >= SETTINGS_MAX_LISTENERS)
		return settings_node_fail(section, "too many listeners", error_r);
	if (l == NULL)
		l = listener_add(ctx, section->value, inet);
	l->file = pool_strdup(set->pool, section->file);
	l->line = section->line;
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_SECTION)
			return settings_node_fail(n, "unexpected section inside a listener", error_r);
		if (listener_key(ctx, l, n, error_r) < 0)
			return -1;
	}
	return 0;
}

static int service_auth_node(struct settings_ctx *ctx, const struct config_node *node,
			     const char **error_r)
{
	if (node->type == CONFIG_NODE_SECTION) {
		if (strcmp(node->key, "unix_listener") == 0 || strcmp(node->key, "inet_listener") == 0)
			return listener_section(ctx, node, node->key[0] == 'i', error_r);
		if (strcmp(node->key, "fifo_listener") == 0) {
			settings_warn(ctx, node, "not used by authd; ignored");
			return 0;
		}
		return settings_node_fail(node, "unknown section inside service auth { }", error_r);
	}
	if (strcmp(node->key, "user") == 0) {
		ctx->service_auth_user_set = true;
		return settings_node_value(ctx, node, &ctx->set->service_auth_user, error_r);
	}
	if (!name_in(service_keys, COUNT(service_keys), node->key))
		return settings_node_fail(node, "unknown service setting", error_r);
	return 0;
}

static int service_worker_node(struct settings_ctx *ctx, const struct config_node *node,
			       const char **error_r)
{
	if (node->type == CONFIG_NODE_SECTION) {
		if (strcmp(node->key, "unix_listener") == 0 || strcmp(node->key, "inet_listener") == 0 ||
		    strcmp(node->key, "fifo_listener") == 0)
			return 0;   /* authd's workers are its own children */
		return settings_node_fail(node, "unknown section inside service auth-worker { }",
					  error_r);
	}
	if (strcmp(node->key, "user") == 0)
		return settings_node_value(ctx, node, &ctx->set->service_auth_worker_user, error_r);
	if (!name_in(service_keys, COUNT(service_keys), node->key))
		return settings_node_fail(node, "unknown service setting", error_r);
	return 0;
}

int settings_service_section(struct settings_ctx *ctx, const struct config_node *section,
			     const char **error_r)
{
	int (*fn)(struct settings_ctx *, const struct config_node *, const char **);
	if (strcmp(section->value, "auth") == 0)
		fn = service_auth_node;
	else if (strcmp(section->value, "auth-worker") == 0)
		fn = service_worker_node;
	else
		return 0;   /* another Dovecot service */
	for (const struct config_node *n = section->children; n != NULL; n = n->next) {
		if (fn(ctx, n, error_r) < 0)
			return -1;
	}
	return 0;
}

/* Spec 1.5: the part after the last '/', then after the last '-'. */
static int listener_type(const char *name, enum listener_type *type_r)
{
	const char *p = strrchr(name, '/');
	p = p != NULL ? p + 1 : name;
	const char *dash = strrchr(p, '-');
	p = dash != NULL ? dash + 1 : p;
	if (strcmp(p, "login") == 0)
		*type_r = LISTENER_LOGIN;
	else if (strcmp(p, "master") == 0)
		*type_r = LISTENER_MASTER;
	else if (strcmp(p, "userdb") == 0)
		*type_r = LISTENER_USERDB;
	else if (strcmp(p, "token") == 0 || strcmp(p, "tokenlogin") == 0)
		return -1;
	else
		*type_r = LISTENER_CLIENT;
	return 0;
}

static int listener_finish(struct settings_ctx *ctx, struct listener_settings *l,
			   const char **error_r)
{
	struct auth_settings *set = ctx->set;
	const char *kind = l->inet ? "inet_listener" : "unix_listener";
	int def = l->inet ? -1 : settings_default_listener(l->name);
	if (listener_type(l->name, &l->type) < 0)
		return settings_fail(error_r, "%s:%u: %s %s: token listeners are not supported "
				     "by authd", l->file, l->line, kind, l->name);
	if (def >= 0 && !l->user_explicit && default_listeners[def].owned)
		l->user = set->default_internal_user;
	if (l->inet)
		return 0;
	l->path = l->name[0] == '/' ? l->name : pool_printf(set->pool, "%s%s%s", set->base_dir,
		strcmp(set->base_dir, "/") == 0 ? "" : "/", l->name);
	if (strlen(l->path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return settings_fail(error_r, "%s:%u: %s %s: socket path %s is too long (limit %zu "
				     "bytes)", l->file, l->line, kind, l->name, l->path,
				     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	return 0;
}

int settings_service_finish(struct settings_ctx *ctx, const char **error_r)
{
	struct auth_settings *set = ctx->set;
	for (size_t i = 0; i < set->listener_count; i++) {
		if (listener_finish(ctx, &set->listeners[i], error_r) < 0)
			return -1;
	}
	for (size_t i = 0; i < set->listener_count; i++) {
		const struct listener_settings *a = &set->listeners[i];
		for (size_t j = i + 1; j < set->listener_count && !a->inet; j++) {
			const struct listener_settings *b = &set->listeners[j];
			if (!b->inet && strcmp(a->path, b->path) == 0)
				return settings_fail(error_r, "%s:%u: unix_listener %s: the same "
						     "socket path as unix_listener %s", b->file,
						     b->line, b->name, a->name);
		}
	}
	return 0;
}
