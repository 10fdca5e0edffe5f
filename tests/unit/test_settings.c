/* test_settings: config tree -> struct auth_settings: Dovecot 2.3.19's
 * defaults (`doveconf -d`), typed values (times, sizes, booleans as
 * doveconf accepts them), passdb/userdb blocks, service auth listeners
 * (defaults, merging by name, types from names, paths), a whole
 * dovecot.conf with conf.d includes, and the dump (-n / -a) round trip.
 * Runs from the repository root (tests/run.sh does). */
#include "authd/settings.h"
#include "authd/settings_known.h"
#include "authd/settings_private.h"
#include "common/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURE "tests/fixtures/config/dovecot/dovecot.conf"

static struct auth_settings *load_ok(const char *name, const char *text)
{
	struct auth_settings *set = NULL;
	const char *error = NULL;
	if (settings_load_buffer_flags("t.conf", (const uint8_t *)text, strlen(text),
				       SETTINGS_LOAD_QUIET, &set, &error) < 0)
		fail_msg("%s: load failed: %s", name, error);
	return set;
}

/* ---- defaults ---- */

enum field_kind { K_STR, K_BOOL, K_UINT, K_U64 };

struct field_case {
	const char *name;
	enum field_kind kind;
	size_t offset;
	const char *s;
	uint64_t n;
};

#define S(f, v) { .name = #f, .kind = K_STR, .offset = offsetof(struct auth_settings, f), .s = (v) }
#define B(f, v) { .name = #f, .kind = K_BOOL, .offset = offsetof(struct auth_settings, f), .n = (v) }
#define U(f, v) { .name = #f, .kind = K_UINT, .offset = offsetof(struct auth_settings, f), .n = (v) }
#define U64(f, v) { .name = #f, .kind = K_U64, .offset = offsetof(struct auth_settings, f), .n = (v) }

static const struct field_case default_cases[] = {
	S(base_dir, "/run/dovecot"), S(default_internal_user, "dovecot"),
	S(log_path, "syslog"), S(info_log_path, ""), S(debug_log_path, ""),
	S(syslog_facility, "mail"), S(auth_mechanisms, "plain"),
	S(auth_username_format, "%Lu"),
	S(auth_username_chars, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"),
	S(auth_username_translation, ""), S(auth_default_realm, ""), S(auth_realms, ""),
	S(auth_master_user_separator, ""), S(auth_anonymous_username, "anonymous"),
	U(auth_failure_delay, 2), B(auth_verbose, 0), B(auth_debug, 0),
	B(auth_debug_passwords, 0), S(auth_verbose_passwords, "no"),
	B(disable_plaintext_auth, 1), U(auth_worker_max_count, 30), U(auth_hash_threads, 0),
	B(auth_ssl_require_client_cert, 0), B(auth_ssl_username_from_cert, 0),
	U64(auth_cache_size, 0), U(auth_cache_ttl, 3600), U(auth_cache_negative_ttl, 3600),
	B(auth_allow_weak_schemes, 1), S(service_auth_user, "dovecot"),
	S(service_auth_worker_user, ""),
};

static void check_fields(const char *what, const struct auth_settings *set,
			 const struct field_case *cases, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct field_case *c = &cases[i];
		const char *f = (const char *)set + c->offset;
		uint64_t got = 0;
		if (c->kind == K_STR) {
			const char *s = *(const char *const *)f;
			if (s == NULL || strcmp(s, c->s) != 0)
				fail_msg("%s: %s: got '%s', want '%s'", what, c->name, s, c->s);
			continue;
		}
		got = c->kind == K_BOOL ? *(const bool *)f : c->kind == K_UINT ?
			*(const unsigned int *)f : *(const uint64_t *)f;
		if (got != c->n)
			fail_msg("%s: %s: got %llu, want %llu", what, c->name,
				 (unsigned long long)got, (unsigned long long)c->n);
	}
}

static void test_defaults(void **state)
{
	(void)state;
	struct auth_settings *set = load_ok("empty", "");
	check_fields("defaults", set, default_cases, N_ELEMS(default_cases));
	assert_int_equal(set->passdb_count, 0);
	assert_int_equal(set->userdb_count, 0);
	settings_free(&set);
}

/* authd's defaults are Dovecot's (the generated doveconf -d table), and
 * every auth_* setting Dovecot knows is type-checked by authd. */
static void test_defaults_match_dovecot(void **state)
{
	(void)state;
	static const char *const authd_only[] = { "auth_allow_weak_schemes", "auth_hash_threads" };
	for (size_t i = 0; i < settings_defs_count; i++) {
		const struct setting_def *def = &settings_defs[i];
		const char *dovecot = settings_known_default(def->name);
		bool only = strcmp(def->name, authd_only[0]) == 0 || strcmp(def->name, authd_only[1]) == 0;
		if (dovecot == NULL && !only)
			fail_msg("%s: not a Dovecot 2.3 setting", def->name);
		if (dovecot != NULL && strcmp(dovecot, def->def) != 0)
			fail_msg("%s: authd default '%s', Dovecot's '%s'", def->name, def->def, dovecot);
		if (i > 0 && strcmp(settings_defs[i - 1].name, def->name) >= 0)
			fail_msg("%s: settings_defs[] not sorted", def->name);
	}
	static const char *const auth_names[] = {
		"auth_cache_verify_password_with_worker", "auth_gssapi_hostname", "auth_krb5_keytab",
		"auth_policy_hash_nonce", "auth_proxy_self", "auth_socket_path", "auth_stats",
		"auth_use_winbind", "auth_winbind_helper_path",
	};
	for (size_t i = 0; i < N_ELEMS(auth_names); i++)
		assert_non_null(settings_known_default(auth_names[i]));
	assert_null(settings_known_default("auth_hash_threads"));
	assert_null(settings_known_default("nosuch"));
	assert_true(settings_known_obsolete("ssl_protocols"));
	assert_true(settings_known_section("namespace"));
	assert_false(settings_known_section("auth"));
}

/* ---- typed values ---- */

struct typed_case {
	const char *conf;
	const char *field;
	uint64_t want;
};

static const struct typed_case typed_cases[] = {
	{ .conf = "auth_failure_delay = 2 secs", .field = "delay", .want = 2 },
	{ .conf = "auth_failure_delay = 2s", .field = "delay", .want = 2 },
	{ .conf = "auth_failure_delay = 2secs", .field = "delay", .want = 2 },
	{ .conf = "auth_failure_delay = 2  S", .field = "delay", .want = 2 },
	{ .conf = "auth_failure_delay = 2 Seconds", .field = "delay", .want = 2 },
	{ .conf = "auth_failure_delay = 0", .field = "delay", .want = 0 },
	{ .conf = "auth_failure_delay = 00", .field = "delay", .want = 0 },
	{ .conf = "auth_failure_delay = 0 secs", .field = "delay", .want = 0 },
	{ .conf = "auth_failure_delay = 02s", .field = "delay", .want = 2 },
	{ .conf = "auth_failure_delay = 1 min", .field = "delay", .want = 60 },
	{ .conf = "auth_failure_delay = 1m", .field = "delay", .want = 60 },
	{ .conf = "auth_failure_delay = 3 minutes", .field = "delay", .want = 180 },
	{ .conf = "auth_failure_delay = 1hour", .field = "delay", .want = 3600 },
	{ .conf = "auth_failure_delay = 2 h", .field = "delay", .want = 7200 },
	{ .conf = "auth_failure_delay = 1 d", .field = "delay", .want = 86400 },
	{ .conf = "auth_failure_delay = 2 weeks", .field = "delay", .want = 1209600 },
	{ .conf = "auth_failure_delay = 4294967295 s", .field = "delay", .want = 4294967295u },
	{ .conf = "auth_failure_delay = 71582788 min", .field = "delay", .want = 4294967280u },
	{ .conf = "auth_cache_size = 0", .field = "cache", .want = 0 },
	{ .conf = "auth_cache_size = 10M", .field = "cache", .want = 10485760 },
	{ .conf = "auth_cache_size = 10 m", .field = "cache", .want = 10485760 },
	{ .conf = "auth_cache_size = 1 kB", .field = "cache", .want = 1024 },
	{ .conf = "auth_cache_size = 2 KiB", .field = "cache", .want = 2048 },
	{ .conf = "auth_cache_size = 1G", .field = "cache", .want = 1073741824 },
	{ .conf = "auth_cache_size = 1T", .field = "cache", .want = 1099511627776ull },
	{ .conf = "auth_cache_size = 1024", .field = "cache", .want = 1024 },
	{ .conf = "auth_cache_size = 100", .field = "cache", .want = 104857600 },
	{ .conf = "auth_debug = yes", .field = "debug", .want = 1 },
	{ .conf = "auth_debug = YES", .field = "debug", .want = 1 },
	{ .conf = "auth_debug = y", .field = "debug", .want = 1 },
	{ .conf = "auth_debug = 1", .field = "debug", .want = 1 },
	{ .conf = "auth_debug = No", .field = "debug", .want = 0 },
	{ .conf = "auth_worker_max_count = 030", .field = "workers", .want = 30 },
	{ .conf = "auth_worker_max_count = 4294967295", .field = "workers", .want = 4294967295u },
};

static uint64_t typed_field(const struct auth_settings *set, const char *field)
{
	if (strcmp(field, "delay") == 0)
		return set->auth_failure_delay;
	if (strcmp(field, "cache") == 0)
		return set->auth_cache_size;
	if (strcmp(field, "debug") == 0)
		return set->auth_debug;
	return set->auth_worker_max_count;
}

static void test_typed_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(typed_cases); i++) {
		const struct typed_case *c = &typed_cases[i];
		struct auth_settings *set = load_ok(c->conf, c->conf);
		uint64_t got = typed_field(set, c->field);
		if (got != c->want)
			fail_msg("%s: got %llu, want %llu", c->conf, (unsigned long long)got,
				 (unsigned long long)c->want);
		settings_free(&set);
	}
}

static void test_implied(void **state)
{
	(void)state;
	struct auth_settings *set = load_ok("implied", "auth_debug_passwords = yes\n"
					    "auth_verbose_passwords = yes\n");
	assert_true(set->auth_debug);
	assert_true(set->auth_verbose);
	assert_string_equal(set->auth_verbose_passwords, "plain");
	settings_free(&set);
}

/* ---- listeners ---- */

struct type_case {
	const char *section;   /* "unix_listener NAME" or "inet_listener NAME" */
	enum listener_type want;
};

static const struct type_case type_cases[] = {
	{ .section = "unix_listener auth-client", .want = LISTENER_CLIENT },
	{ .section = "unix_listener auth-login", .want = LISTENER_LOGIN },
	{ .section = "unix_listener login/login", .want = LISTENER_LOGIN },
	{ .section = "unix_listener auth-master", .want = LISTENER_MASTER },
	{ .section = "unix_listener auth-userdb", .want = LISTENER_USERDB },
	{ .section = "unix_listener /var/spool/postfix/private/auth", .want = LISTENER_CLIENT },
	{ .section = "unix_listener postfix-auth", .want = LISTENER_CLIENT },
	{ .section = "unix_listener /srv/x-master/socket-userdb", .want = LISTENER_USERDB },
	{ .section = "unix_listener my-login-dir/client", .want = LISTENER_CLIENT },
	{ .section = "inet_listener auth-tcp", .want = LISTENER_CLIENT },
	{ .section = "inet_listener tcp-login", .want = LISTENER_LOGIN },
	{ .section = "inet_listener master", .want = LISTENER_MASTER },
};

static void test_listener_types(void **state)
{
	(void)state;
	char conf[256];
	for (size_t i = 0; i < N_ELEMS(type_cases); i++) {
		const struct type_case *c = &type_cases[i];
		snprintf(conf, sizeof(conf), "service auth {\n  %s {\n  }\n}\n", c->section);
		struct auth_settings *set = load_ok(c->section, conf);
		const char *name = strchr(c->section, ' ') + 1;
		const struct listener_settings *l = NULL;
		for (size_t j = 0; j < set->listener_count; j++) {
			if (strcmp(set->listeners[j].name, name) == 0)
				l = &set->listeners[j];
		}
		if (l == NULL)
			fail_msg("%s: listener missing", c->section);
		if (l->type != c->want)
			fail_msg("%s: got type %d, want %d", c->section, l->type, c->want);
		settings_free(&set);
	}
}

struct listener_want {
	const char *name, *path, *user, *group;
	mode_t mode;
	bool mode_set, user_explicit, group_explicit;
	enum listener_type type;
};

static void check_listeners(const char *what, const struct auth_settings *set,
			    const struct listener_want *want, size_t count)
{
	if (set->listener_count != count)
		fail_msg("%s: got %zu listeners, want %zu", what, set->listener_count, count);
	for (size_t i = 0; i < count; i++) {
		const struct listener_settings *l = &set->listeners[i];
		const struct listener_want *w = &want[i];
		if (strcmp(l->name, w->name) != 0 || strcmp(l->path, w->path) != 0 ||
		    strcmp(l->user, w->user) != 0 || strcmp(l->group, w->group) != 0 ||
		    l->mode != w->mode || l->mode_set != w->mode_set ||
		    l->user_explicit != w->user_explicit || l->group_explicit != w->group_explicit ||
		    l->type != w->type)
			fail_msg("%s: listener %zu: got %s %s %s:%s %04o %d%d%d type %d, want "
				 "%s %s %s:%s %04o %d%d%d type %d", what, i, l->name, l->path,
				 l->user, l->group, (unsigned int)l->mode, l->mode_set,
				 l->user_explicit, l->group_explicit, l->type, w->name, w->path,
				 w->user, w->group, (unsigned int)w->mode, w->mode_set,
				 w->user_explicit, w->group_explicit, w->type);
	}
}

static void test_listener_defaults(void **state)
{
	(void)state;
	static const struct listener_want want_default[] = {
		{ "auth-client", "/run/dovecot/auth-client", "dovecot", "", 0600, 0, 0, 0, LISTENER_CLIENT },
		{ "auth-login", "/run/dovecot/auth-login", "dovecot", "", 0600, 0, 0, 0, LISTENER_LOGIN },
		{ "auth-master", "/run/dovecot/auth-master", "", "", 0600, 0, 0, 0, LISTENER_MASTER },
		{ "auth-userdb", "/run/dovecot/auth-userdb", "dovecot", "", 0666, 0, 0, 0, LISTENER_USERDB },
	};
	struct auth_settings *set = load_ok("defaults", "");
	check_listeners("defaults", set, want_default, N_ELEMS(want_default));
	settings_free(&set);

	/* merged by name; the default owner follows default_internal_user */
	static const struct listener_want want_merged[] = {
		{ "auth-client", "/srv/a/auth-client", "_authd", "", 0660, 1, 0, 0, LISTENER_CLIENT },
		{ "auth-login", "/srv/a/auth-login", "_authd", "", 0600, 0, 0, 0, LISTENER_LOGIN },
		{ "auth-master", "/srv/a/auth-master", "", "", 0600, 0, 0, 0, LISTENER_MASTER },
		{ "auth-userdb", "/srv/a/auth-userdb", "vmail", "", 0666, 0, 1, 0, LISTENER_USERDB },
		{ "/var/spool/postfix/private/auth", "/var/spool/postfix/private/auth", "postfix",
		  "postfix", 0660, 1, 1, 1, LISTENER_CLIENT },
		{ "sub/x-master", "/srv/a/sub/x-master", "", "", 0600, 0, 0, 0, LISTENER_MASTER },
	};
	set = load_ok("merged", "base_dir = /srv/a/\ndefault_internal_user = _authd\n"
		      "service auth {\n unix_listener auth-userdb {\n  user = vmail\n }\n"
		      " unix_listener /var/spool/postfix/private/auth {\n  mode = 0660\n"
		      "  user = postfix\n  group = postfix\n }\n unix_listener sub/x-master {\n }\n}\n"
		      "service auth {\n unix_listener auth-client {\n  mode = 660\n }\n}\n");
	check_listeners("merged", set, want_merged, N_ELEMS(want_merged));
	assert_string_equal(set->service_auth_user, "_authd");
	settings_free(&set);
}

static void test_listener_inet_and_base_dir(void **state)
{
	(void)state;
	char cwd[1024], want[1100];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	struct auth_settings *set = load_ok("inet", "base_dir = run\nservice auth {\n"
		"  inet_listener auth-tcp {\n    address = 127.0.0.1\n    port = 12345\n  }\n"
		"  inet_listener auth-tcp {\n    reuse_port = yes\n    ssl = no\n  }\n"
		"  user = root\n}\nservice auth-worker {\n  user = $default_internal_user\n}\n");
	snprintf(want, sizeof(want), "%s/run", cwd);
	assert_string_equal(set->base_dir, want);
	snprintf(want, sizeof(want), "%s/run/auth-master", cwd);
	assert_string_equal(set->listeners[2].path, want);
	assert_int_equal(set->listener_count, 5);
	const struct listener_settings *l = &set->listeners[4];
	assert_true(l->inet);
	assert_string_equal(l->name, "auth-tcp");
	assert_string_equal(l->address, "127.0.0.1");
	assert_int_equal(l->port, 12345);
	assert_int_equal(l->type, LISTENER_CLIENT);
	assert_string_equal(set->service_auth_user, "root");
	assert_string_equal(set->service_auth_worker_user, "dovecot");
	settings_free(&set);
}

/* ---- errors specific to blocks (the syntax ones are in test_config) ---- */

struct block_error {
	const char *name;
	const char *conf;
	const char *want;
};

#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10

static const struct block_error block_errors[] = {
	{ "missing driver", "passdb {\n  args = x\n}\n", "t.conf:1: passdb: missing driver" },
	{ "unknown driver", "passdb {\n  driver = sql\n}\n",
	  "t.conf:1: passdb: unknown or unsupported passdb driver 'sql'" },
	{ "pam userdb", "userdb {\n  driver = pam\n}\n",
	  "t.conf:1: userdb: unknown or unsupported userdb driver 'pam'" },
	{ "prefetch passdb", "passdb {\n  driver = prefetch\n}\n",
	  "t.conf:1: passdb: unknown or unsupported passdb driver 'prefetch'" },
	{ "passdb skip", "passdb {\n  driver = static\n  skip = found\n}\n",
	  "t.conf:3: skip: invalid value 'found' (use never, authenticated or unauthenticated)" },
	{ "userdb skip", "userdb {\n  driver = static\n  skip = authenticated\n}\n",
	  "t.conf:3: skip: invalid value 'authenticated' (use never, found or notfound)" },
	{ "result", "passdb {\n  driver = static\n  result_success = ok\n}\n",
	  "t.conf:3: result_success: invalid value 'ok' (use return, return-ok, return-fail, "
	  "continue, continue-ok or continue-fail)" },
	{ "deny bool", "passdb {\n  driver = static\n  deny = maybe\n}\n",
	  "t.conf:3: deny: invalid boolean 'maybe' (use yes or no)" },
	{ "db verbose", "userdb {\n  driver = static\n  auth_verbose = sometimes\n}\n",
	  "t.conf:3: auth_verbose: invalid value 'sometimes' (use default, yes or no)" },
	{ "unknown passdb key", "passdb {\n  driver = static\n  nosuch = 1\n}\n",
	  "t.conf:3: nosuch: unknown passdb setting" },
	{ "passdb-only key in userdb", "userdb {\n  driver = static\n  deny = yes\n}\n",
	  "t.conf:3: deny: unknown userdb setting" },
	{ "section in passdb", "passdb {\n  driver = static\n  x {\n  }\n}\n",
	  "t.conf:3: x: unexpected section inside passdb { }" },
	{ "bad db name", "passdb a\\b {\n  driver = static\n}\n",
	  "t.conf:1: passdb: invalid characters in the name" },
	{ "bad mode", "service auth {\n unix_listener x {\n  mode = 0800\n }\n}\n",
	  "t.conf:3: mode: invalid mode '0800' (octal, e.g. 0660)" },
	{ "mode too big", "service auth {\n unix_listener x {\n  mode = 17777\n }\n}\n",
	  "t.conf:3: mode: invalid mode '17777' (octal, e.g. 0660)" },
	{ "bad port", "service auth {\n inet_listener x {\n  port = 70000\n }\n}\n",
	  "t.conf:3: port: invalid port '70000' (1..65535, or 0 to disable)" },
	{ "negative port", "service auth {\n inet_listener x {\n  port = -1\n }\n}\n",
	  "t.conf:3: port: invalid port '-1' (1..65535, or 0 to disable)" },
	{ "mode on inet", "service auth {\n inet_listener x {\n  mode = 0600\n }\n}\n",
	  "t.conf:3: mode: unknown listener setting" },
	{ "haproxy", "service auth {\n inet_listener x {\n  haproxy = yes\n }\n}\n",
	  "t.conf:3: haproxy: not supported by authd" },
	{ "no listener name", "service auth {\n unix_listener {\n }\n}\n",
	  "t.conf:2: unix_listener: missing listener name" },
	{ "token listener", "service auth {\n unix_listener token-login/tokenlogin {\n }\n}\n",
	  "t.conf:2: unix_listener token-login/tokenlogin: token listeners are not supported by authd" },
	{ "unknown service key", "service auth {\n  process_limitt = 1\n}\n",
	  "t.conf:2: process_limitt: unknown service setting" },
	{ "unknown service section", "service auth {\n  foo_listener x {\n  }\n}\n",
	  "t.conf:2: foo_listener: unknown section inside service auth { }" },
	{ "duplicate path", "base_dir = /srv\nservice auth {\n unix_listener /srv/auth-client {\n }\n}\n",
	  "t.conf:3: unix_listener /srv/auth-client: the same socket path as unix_listener auth-client" },
	{ "path too long", "service auth {\n unix_listener /" A50 A50 A10 " {\n }\n}\n",
	  "t.conf:2: unix_listener /" A50 A50 A10 ": socket path /" A50 A50 A10
	  " is too long (limit 107 bytes)" },
};

static void test_block_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(block_errors); i++) {
		const struct block_error *c = &block_errors[i];
		struct auth_settings *set = NULL;
		const char *error = NULL;
		if (settings_load_buffer_flags("t.conf", (const uint8_t *)c->conf, strlen(c->conf),
					       SETTINGS_LOAD_QUIET, &set, &error) != -1)
			fail_msg("%s: got success, want '%s'", c->name, c->want);
		if (strcmp(error, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->name, error, c->want);
	}
}

/* ---- a whole dovecot.conf ---- */

static const struct field_case fixture_cases[] = {
	S(base_dir, "/run/dovecot-test"), S(default_internal_user, "dovecot"),
	S(log_path, "/var/log/dovecot.log"), S(info_log_path, "/var/log/dovecot-info.log"),
	S(auth_mechanisms, "plain login cram-md5"), S(auth_realms, "example.com example.net"),
	S(auth_default_realm, "example.com"), S(auth_username_translation, "%@"),
	S(auth_master_user_separator, "*"), S(auth_verbose_passwords, "sha1:8"),
	U(auth_failure_delay, 3), B(auth_verbose, 1), B(disable_plaintext_auth, 0),
	U(auth_worker_max_count, 12), U64(auth_cache_size, 10485760), U(auth_cache_ttl, 3600),
	U(auth_cache_negative_ttl, 300), U(auth_hash_threads, 4), B(auth_allow_weak_schemes, 0),
	S(service_auth_user, "dovecot"), S(service_auth_worker_user, "root"),
};

static void test_dovecot_conf(void **state)
{
	(void)state;
	struct auth_settings *set = NULL;
	const char *error = NULL;
	if (settings_load(FIXTURE, &set, &error) < 0)
		fail_msg("load: %s", error);
	check_fields("fixture", set, fixture_cases, N_ELEMS(fixture_cases));
	assert_int_equal(set->passdb_count, 2);
	assert_string_equal(set->passdbs[0].driver, "passwd-file");
	assert_string_equal(set->passdbs[0].args, "scheme=CRYPT username_format=%u /etc/dovecot/users");
	assert_string_equal(set->passdbs[0].file,
			    "tests/fixtures/config/dovecot/conf.d/auth-passwdfile.conf.ext");
	assert_int_equal(set->passdbs[0].line, 6);
	assert_string_equal(set->passdbs[1].name, "master");
	assert_true(set->passdbs[1].master && set->passdbs[1].pass && !set->passdbs[1].deny);
	assert_int_equal(set->passdbs[1].result_failure, DB_RESULT_RETURN_FAIL);
	assert_int_equal(set->passdbs[1].result_success, DB_RESULT_RETURN_OK);
	assert_int_equal(set->userdb_count, 2);
	assert_string_equal(set->userdbs[0].default_fields, "uid=vmail gid=vmail home=/home/vmail/%d/%n");
	assert_int_equal(set->userdbs[1].skip, DB_SKIP_FOUND);
	static const struct listener_want want[] = {
		{ "auth-client", "/run/dovecot-test/auth-client", "dovecot", "", 0600, 0, 0, 0, LISTENER_CLIENT },
		{ "auth-login", "/run/dovecot-test/auth-login", "dovecot", "", 0600, 0, 0, 0, LISTENER_LOGIN },
		{ "auth-master", "/run/dovecot-test/auth-master", "", "", 0600, 0, 0, 0, LISTENER_MASTER },
		{ "auth-userdb", "/run/dovecot-test/auth-userdb", "vmail", "vmail", 0660, 1, 1, 1,
		  LISTENER_USERDB },
		{ "/var/spool/postfix/private/auth", "/var/spool/postfix/private/auth", "postfix",
		  "postfix", 0660, 1, 1, 1, LISTENER_CLIENT },
		{ "auth-tcp", "", "", "", 0600, 0, 0, 0, LISTENER_CLIENT },
	};
	check_listeners("fixture", set, want, N_ELEMS(want));
	assert_int_equal(set->listeners[5].port, 12345);
	settings_free(&set);
}

/* ---- dump ---- */

static struct auth_settings *reload(const char *what, const struct buf *text)
{
	struct auth_settings *set = NULL;
	const char *error = NULL;
	if (settings_load_buffer_flags("dump", text->data, text->len, SETTINGS_LOAD_QUIET,
				       &set, &error) < 0)
		fail_msg("%s: reloading the dump failed: %s\n%s", what, error, buf_cstr(text));
	return set;
}

static void check_round_trip(const char *what, const struct auth_settings *set)
{
	for (int all = 0; all <= 1; all++) {
		struct buf text = BUF_INIT(0), again = BUF_INIT(0);
		assert_int_equal(settings_dump_buf(set, all, &text), 0);
		struct auth_settings *set2 = reload(what, &text);
		if (!settings_equal(set, set2))
			fail_msg("%s: -%c dump does not load back equal:\n%s", what, all ? 'a' : 'n',
				 buf_cstr(&text));
		assert_int_equal(settings_dump_buf(set2, all, &again), 0);
		assert_string_equal(buf_cstr(&text), buf_cstr(&again));
		settings_free(&set2);
		buf_free(&text);
		buf_free(&again);
	}
}

static const char *const round_trip_cases[] = {
	"",
	"auth_realms = \" lead\"\nauth_default_realm = 'a#b'\nauth_username_format = \"%Lu \"\n"
	"auth_master_user_separator = \"$\"\nauth_anonymous_username = \"a\\\\\"\n"
	"auth_username_translation = '\"<'\nlog_path = <tests/fixtures/config/dovecot/conf.d/realms.txt\n",
	"auth_verbose_passwords = yes\nauth_failure_delay = 90s\nauth_cache_size = 1536\n"
	"auth_cache_ttl = 0\nauth_debug_passwords = yes\nbase_dir = relative/dir\n",
	"passdb \"my db\" {\n driver = static\n args = password=\"x y\" # c\n deny = yes\n"
	" mechanisms = plain\n username_filter = *@example.com !root\n result_internalfail = return\n"
	" skip = unauthenticated\n auth_verbose = no\n}\nuserdb {\n name = u\n driver = prefetch\n"
	" override_fields = home=/h/%u\n skip = notfound\n}\n",
	"passdb \"=<<\" {\n driver = static\n}\nservice auth {\n unix_listener \"=x\" {\n }\n}\n",
	"default_internal_user = x\nservice auth {\n user = \n unix_listener auth-master {\n"
	"  user = dovecot\n }\n unix_listener \"with space\" {\n  group = \"$g\"\n }\n"
	" inet_listener t {\n }\n}\nservice auth-worker {\n user = nobody\n}\n",
};

static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(round_trip_cases); i++) {
		char what[32];
		snprintf(what, sizeof(what), "case %zu", i);
		struct auth_settings *set = load_ok(what, round_trip_cases[i]);
		check_round_trip(what, set);
		settings_free(&set);
	}
	struct auth_settings *set = NULL;
	const char *error;
	assert_int_equal(settings_load(FIXTURE, &set, &error), 0);
	check_round_trip("fixture", set);
	settings_free(&set);
}

static void test_dump_text(void **state)
{
	(void)state;
	struct auth_settings *set = load_ok("dump", "auth_mechanisms = plain login\n"
		"auth_failure_delay = 1 min\nauth_cache_size = 2048k\nauth_realms = \"#x\"\n"
		"passdb {\n driver = static\n args = nopassword\n}\nservice auth {\n"
		" unix_listener auth-userdb {\n  mode = 0600\n }\n}\n");
	struct buf text = BUF_INIT(0);
	assert_int_equal(settings_dump_buf(set, false, &text), 0);
	assert_string_equal(buf_cstr(&text),
		"# authd: settings changed from the defaults (authd -n)\n"
		"auth_cache_size = 2 M\nauth_failure_delay = 1 mins\n"
		"auth_mechanisms = plain login\nauth_realms = \"#x\"\n"
		"passdb {\n  driver = static\n  args = nopassword\n}\n"
		"service auth {\n  unix_listener auth-userdb {\n    mode = 0600\n  }\n}\n");
	/* the fd variant writes the same bytes */
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(settings_dump(set, false, fileno(f)), 0);
	char got[1024] = "";
	rewind(f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	assert_string_equal(got, buf_cstr(&text));
	fclose(f);
	assert_int_equal(settings_dump(set, false, -1), -1);
	buf_free(&text);
	settings_free(&set);
	settings_free(&set);   /* NULL-safe */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_match_dovecot),
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_implied),
		cmocka_unit_test(test_listener_types),
		cmocka_unit_test(test_listener_defaults),
		cmocka_unit_test(test_listener_inet_and_base_dir),
		cmocka_unit_test(test_block_errors),
		cmocka_unit_test(test_dovecot_conf),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_dump_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
