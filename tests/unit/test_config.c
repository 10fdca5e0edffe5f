/* test_config: the Dovecot 2.3 syntax (config.c) as seen through
 * settings_load_buffer(): values, comments, quoting, continuations,
 * $variables, includes, `<file`, and every error class with its exact
 * "FILE:LINE: KEY: problem" text. The expected values were checked against
 * doveconf 2.3.19 (`doveconf -x -c FILE -n`) where Dovecot has an opinion.
 * Runs from the repository root (tests/run.sh does). */
#include "authd/config.h"
#include "authd/settings.h"

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
#define FIXTURES "tests/fixtures/config"
#define QUIET SETTINGS_LOAD_QUIET

static int load(const char *text, unsigned int flags, struct auth_settings **set_r,
		const char **error_r)
{
	return settings_load_buffer_flags("t.conf", (const uint8_t *)text, strlen(text),
					  flags | QUIET, set_r, error_r);
}

/* ---- values: what auth_realms ends up as ---- */

struct value_case {
	const char *name;
	const char *conf;
	const char *want;   /* auth_realms */
};

static const struct value_case value_cases[] = {
	{ .name = "plain", .conf = "auth_realms = a b\n", .want = "a b" },
	{ .name = "no spaces", .conf = "auth_realms=x\n", .want = "x" },
	{ .name = "tabs", .conf = "\tauth_realms\t=\tx y \t\n", .want = "x y" },
	{ .name = "no final newline", .conf = "auth_realms = x", .want = "x" },
	{ .name = "crlf", .conf = "auth_realms = x\r\n", .want = "x" },
	{ .name = "comment line", .conf = "  # auth_realms = y\nauth_realms = x\n", .want = "x" },
	{ .name = "comment after", .conf = "auth_realms = a #b\n", .want = "a" },
	{ .name = "ambiguous #", .conf = "auth_realms = a#b\n", .want = "a" },
	{ .name = "# in double quotes", .conf = "auth_realms = \"a #b\"\n", .want = "a #b" },
	{ .name = "# in single quotes", .conf = "auth_realms = 'a #b'\n", .want = "a #b" },
	{ .name = "comment after quotes", .conf = "auth_realms = \"a\" # x\n", .want = "a" },
	{ .name = "escaped quote", .conf = "auth_realms = \"a\\\"b\"\n", .want = "a\"b" },
	{ .name = "backslash drops", .conf = "auth_realms = \"a\\tb\"\n", .want = "atb" },
	{ .name = "escaped backslash", .conf = "auth_realms = \"a\\\\b\"\n", .want = "a\\b" },
	{ .name = "unquoted backslash", .conf = "auth_realms = \\Drafts\n", .want = "\\Drafts" },
	{ .name = "unterminated quote", .conf = "auth_realms = \"ab\n", .want = "\"ab" },
	{ .name = "inner quotes", .conf = "auth_realms = x\"ab\"\n", .want = "x\"ab\"" },
	{ .name = "two quoted", .conf = "auth_realms = \"ab\" \"cd\"\n", .want = "ab\" \"cd" },
	{ .name = "open quote protects #", .conf = "auth_realms = a'b # c\n", .want = "a'b # c" },
	{ .name = "lone quote", .conf = "auth_realms = \"\n", .want = "" },
	{ .name = "empty", .conf = "auth_realms = \n", .want = "" },
	{ .name = "empty quoted", .conf = "auth_realms = \"\"\n", .want = "" },
	{ .name = "equals in value", .conf = "auth_realms = a=b c\n", .want = "a=b c" },
	{ .name = "brace value", .conf = "auth_realms = }\n", .want = "}" },
	{ .name = "continuation", .conf = "auth_realms = a \\\n   b\n", .want = "a b" },
	{ .name = "continuation tight", .conf = "auth_realms = a\\\nb\\\nc\n", .want = "a b c" },
	{ .name = "continuation then comment", .conf = "auth_realms = a \\\n# c\nauth_realms = z\n",
	  .want = "z" },
	{ .name = "continuation at eof", .conf = "auth_realms = q\nauth_realms = a \\\n", .want = "q" },
	{ .name = "last wins", .conf = "auth_realms = a\nauth_realms = b\n", .want = "b" },
	{ .name = "$ default", .conf = "auth_realms = $default_internal_user\n", .want = "dovecot" },
	{ .name = "$ set before", .conf = "default_internal_user = vmail\n"
	  "auth_realms = $default_internal_user\n", .want = "vmail" },
	{ .name = "$ set after", .conf = "auth_realms = $default_internal_user\n"
	  "default_internal_user = vmail\n", .want = "dovecot" },
	{ .name = "$ tokens", .conf = "auth_realms = a$default_internal_user b $default_internal_user x\n",
	  .want = "a$default_internal_user b dovecot x" },
	{ .name = "$ self", .conf = "auth_realms = x\nauth_realms = $auth_realms y\n", .want = "x y" },
	{ .name = "$ other service", .conf = "auth_realms = $protocols imap\n", .want = " imap" },
	{ .name = "$ authd setting", .conf = "auth_realms = $auth_failure_delay\n", .want = "2 secs" },
	{ .name = "$ quoted", .conf = "auth_realms = \"$default_internal_user\"\n",
	  .want = "$default_internal_user" },
	{ .name = "$ENV", .conf = "auth_realms = $ENV:AUTHD_TEST_ENV x\n", .want = "from-env x" },
	{ .name = "$ENV unset", .conf = "auth_realms = $ENV:AUTHD_TEST_UNSET\n", .want = "" },
	{ .name = "$ in section", .conf = "service auth {\n user = $auth_mechanisms\n}\n"
	  "auth_realms = $auth_mechanisms\n", .want = "plain" },
	{ .name = "ignored sections", .conf = "namespace inbox {\n mailbox \"Sent Messages\" {\n"
	  "  special_use = \\Sent\n }\n}\nplugin {\n anything = goes\n}\nauth_realms = r\n", .want = "r" },
	{ .name = "brace alone", .conf = "plugin {\n}\nprotocol imap {\n  mail_plugins = x\n}\n"
	  "auth_realms = r\n", .want = "r" },
};

static void test_values(void **state)
{
	(void)state;
	setenv("AUTHD_TEST_ENV", "from-env", 1);
	unsetenv("AUTHD_TEST_UNSET");
	for (size_t i = 0; i < N_ELEMS(value_cases); i++) {
		const struct value_case *c = &value_cases[i];
		struct auth_settings *set = NULL;
		const char *error = NULL;
		if (load(c->conf, 0, &set, &error) < 0)
			fail_msg("%s: load failed: %s", c->name, error);
		if (strcmp(set->auth_realms, c->want) != 0)
			fail_msg("%s: got '%s', want '%s'", c->name, set->auth_realms, c->want);
		settings_free(&set);
		assert_null(set);
	}
}

/* ---- errors ---- */

struct error_case {
	const char *name;
	const char *conf;
	unsigned int flags;
	const char *want;
};

static const struct error_case error_cases[] = {
	{ .name = "unknown setting", .conf = "auth_mechanismz = plain\n",
	  .want = "t.conf:1: auth_mechanismz: unknown setting" },
	{ .name = "unknown setting line 3", .conf = "# c\n\nfoo_bar = 1\n",
	  .want = "t.conf:3: foo_bar: unknown setting" },
	{ .name = "bad bool", .conf = "auth_debug = maybe\n",
	  .want = "t.conf:1: auth_debug: invalid boolean 'maybe' (use yes or no)" },
	{ .name = "bad bool 0", .conf = "auth_verbose = 0\n",
	  .want = "t.conf:1: auth_verbose: invalid boolean '0' (use yes or no)" },
	{ .name = "bad bool in ignored auth_ setting", .conf = "auth_stats = maybe\n",
	  .want = "t.conf:1: auth_stats: invalid boolean 'maybe' (use yes or no)" },
	{ .name = "bad time", .conf = "auth_failure_delay = 2 lightyears\n",
	  .want = "t.conf:1: auth_failure_delay: invalid time '2 lightyears'" },
	{ .name = "time without unit", .conf = "auth_failure_delay = 2\n",
	  .want = "t.conf:1: auth_failure_delay: invalid time '2' (missing unit, e.g. 's' for seconds)" },
	{ .name = "time in ms", .conf = "auth_failure_delay = 500 ms\n",
	  .want = "t.conf:1: auth_failure_delay: invalid time '500 ms' (milliseconds are not "
		  "supported for this setting)" },
	{ .name = "time too large", .conf = "auth_cache_ttl = 4294967296 s\n",
	  .want = "t.conf:1: auth_cache_ttl: invalid time '4294967296 s' (too large)" },
	{ .name = "negative time", .conf = "auth_cache_negative_ttl = -1s\n",
	  .want = "t.conf:1: auth_cache_negative_ttl: invalid time '-1s'" },
	{ .name = "bad number", .conf = "auth_worker_max_count = -1\n",
	  .want = "t.conf:1: auth_worker_max_count: invalid number '-1'" },
	{ .name = "number too large", .conf = "auth_hash_threads = 4294967296\n",
	  .want = "t.conf:1: auth_hash_threads: invalid number '4294967296'" },
	{ .name = "zero workers", .conf = "auth_worker_max_count = 0\n",
	  .want = "t.conf:1: auth_worker_max_count: must be above zero" },
	{ .name = "too many hash threads", .conf = "auth_hash_threads = 5000\n",
	  .want = "t.conf:1: auth_hash_threads: must be at most 1024 (0 = one per online CPU)" },
	{ .name = "bad size", .conf = "auth_cache_size = 10x\n",
	  .want = "t.conf:1: auth_cache_size: invalid size '10x'" },
	{ .name = "cache too small", .conf = "auth_cache_size = 1 B\n",
	  .want = "t.conf:1: auth_cache_size: value is too small (0 disables the cache, "
		  "else at least 1k)" },
	{ .name = "unknown mechanism", .conf = "auth_mechanisms = plain gssapi\n",
	  .want = "t.conf:1: auth_mechanisms: unknown or unsupported mechanism 'gssapi'" },
	{ .name = "comma mechanisms", .conf = "auth_mechanisms = plain,login\n",
	  .want = "t.conf:1: auth_mechanisms: unknown or unsupported mechanism 'plain,login'" },
	{ .name = "no mechanisms", .conf = "auth_mechanisms =\n",
	  .want = "t.conf:1: auth_mechanisms: no mechanisms listed" },
	{ .name = "verbose passwords", .conf = "auth_verbose_passwords = sha1:0\n",
	  .want = "t.conf:1: auth_verbose_passwords: invalid value 'sha1:0' (use no, plain, "
		  "sha1 or sha1:N with N > 0)" },
	{ .name = "verbose passwords case", .conf = "auth_verbose_passwords = SHA1\n",
	  .want = "t.conf:1: auth_verbose_passwords: invalid value 'SHA1' (use no, plain, "
		  "sha1 or sha1:N with N > 0)" },
	{ .name = "odd translation", .conf = "auth_username_translation = abc\n",
	  .want = "t.conf:1: auth_username_translation: the number of characters must be even "
		  "(pairs of from-to characters)" },
	{ .name = "facility", .conf = "syslog_facility = foo\n",
	  .want = "t.conf:1: syslog_facility: unknown syslog facility 'foo'" },
	{ .name = "empty internal user", .conf = "default_internal_user =\n",
	  .want = "t.conf:1: default_internal_user: must not be empty" },
	{ .name = "control character", .conf = "auth_realms = a\x01z\n",
	  .want = "t.conf:1: auth_realms: value contains a control character" },
	{ .name = "anonymous without name", .conf = "auth_mechanisms = anonymous\n"
	  "auth_anonymous_username =\n", .want = "t.conf: auth_anonymous_username: must not be "
	  "empty when auth_mechanisms has ANONYMOUS" },
	/* syntax */
	{ .name = "unterminated section", .conf = "passdb {\n  driver = static\n",
	  .want = "t.conf:1: passdb: section not closed (missing '}')" },
	{ .name = "unterminated inner", .conf = "service auth {\n unix_listener x {\n}\n",
	  .want = "t.conf:1: service: section not closed (missing '}')" },
	{ .name = "stray brace", .conf = "auth_verbose = yes\n}\n", .want = "t.conf:2: unexpected '}'" },
	{ .name = "garbage after brace", .conf = "passdb {\n driver = static\n} x\n",
	  .want = "t.conf:3: garbage after '}'" },
	{ .name = "missing =", .conf = "auth_mechanisms plain\n",
	  .want = "t.conf:1: auth_mechanisms: missing '='" },
	{ .name = "bare word", .conf = "auth_verbose\n", .want = "t.conf:1: auth_verbose: missing '='" },
	{ .name = "missing name", .conf = "= x\n",
	  .want = "t.conf:1: missing setting name before '='" },
	{ .name = "one-line section", .conf = "passdb { driver = static }\n",
	  .want = "t.conf:1: passdb: garbage after '{'" },
	{ .name = "brace glued", .conf = "passdb{\n}\n", .want = "t.conf:1: passdb{: missing '='" },
	{ .name = "two names", .conf = "passdb a b {\n}\n",
	  .want = "t.conf:1: passdb: expecting '{' after the section name" },
	{ .name = "unterminated name", .conf = "passdb \"a b {\n}\n",
	  .want = "t.conf:1: passdb: unterminated quoted section name" },
	{ .name = "nul byte", .conf = NULL, .want = "t.conf:2: NUL byte in line" },
	{ .name = "$unknown", .conf = "auth_realms = $nosuch\n",
	  .want = "t.conf:1: auth_realms: unknown variable '$nosuch'" },
	{ .name = "$ glued", .conf = "auth_realms = $default_internal_user,b\n",
	  .want = "t.conf:1: auth_realms: unknown variable '$default_internal_user,b'" },
	{ .name = "$ section setting", .conf = "passdb {\n driver = static\n args = $driver\n}\n",
	  .want = "t.conf:3: args: unknown variable '$driver'" },
	{ .name = "unknown section", .conf = "foo {\n}\n", .want = "t.conf:1: foo: unknown section" },
	{ .name = "old auth section", .conf = "auth default {\n}\n",
	  .want = "t.conf:1: auth: unknown section" },
	{ .name = "include missing", .conf = "!include tests/fixtures/config/nonexistent.conf\n",
	  .want = "t.conf:1: !include: no file matches 'tests/fixtures/config/nonexistent.conf'" },
	{ .name = "include glob missing", .conf = "!include tests/fixtures/config/nonexistent/*.conf\n",
	  .want = "t.conf:1: !include: no file matches 'tests/fixtures/config/nonexistent/*.conf'" },
	{ .name = "include directory", .conf = "!include tests/fixtures/config\n",
	  .want = "t.conf:1: !include: can't read tests/fixtures/config: Is a directory" },
	{ .name = "value file missing", .conf = "auth_realms = <tests/fixtures/config/nonexistent\n",
	  .want = "t.conf:1: auth_realms: can't read tests/fixtures/config/nonexistent: "
		  "No such file or directory" },
	{ .name = "includes disabled", .conf = "!include_try x.conf\n", .flags = SETTINGS_LOAD_NO_FILES,
	  .want = "t.conf:1: !include_try: includes are disabled here" },
	{ .name = "value files disabled", .conf = "auth_realms = <x\n", .flags = SETTINGS_LOAD_NO_FILES,
	  .want = "t.conf:1: auth_realms: reading values from files is disabled here" },
};

static void check_error(const char *name, const char *conf, size_t len, unsigned int flags,
			const char *want)
{
	struct auth_settings *set = NULL;
	const char *error = NULL;
	int ret = settings_load_buffer_flags("t.conf", (const uint8_t *)conf, len,
					     flags | QUIET, &set, &error);
	if (ret != -1)
		fail_msg("%s: got success, want error '%s'", name, want);
	assert_null(set);
	if (error == NULL || strcmp(error, want) != 0)
		fail_msg("%s: got error '%s', want '%s'", name, error, want);
}

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		if (c->conf == NULL) {
			static const char nul[] = "auth_verbose = yes\nauth_realms = a\0b\n";
			check_error(c->name, nul, sizeof(nul) - 1, c->flags, c->want);
			continue;
		}
		check_error(c->name, c->conf, strlen(c->conf), c->flags, c->want);
	}
}

/* ---- limits, built at run time ---- */

static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t plen = strlen(prefix), ulen = strlen(unit), slen = strlen(suffix);
	char *s = malloc(plen + ulen * n + slen + 1);
	assert_non_null(s);
	memcpy(s, prefix, plen);
	for (size_t i = 0; i < n; i++)
		memcpy(s + plen + i * ulen, unit, ulen);
	memcpy(s + plen + n * ulen, suffix, slen + 1);
	return s;
}

static void test_limits(void **state)
{
	(void)state;
	char *s = repeat("auth_realms = ", "x", CONFIG_MAX_LINE_LEN, "\n");
	check_error("long line", s, strlen(s), 0, "t.conf:1: line too long (limit 8192 bytes)");
	free(s);
	s = repeat("auth_realms = ", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx \\\n", 300, "y\n");
	check_error("long continued line", s, strlen(s), 0,
		    "t.conf:222: line too long (limit 8192 bytes)");
	free(s);
	s = repeat("", "auth_verbose = yes\n", CONFIG_MAX_NODES + 1, "");
	check_error("too many settings", s, strlen(s), 0,
		    "t.conf:10001: too many settings (limit 10000)");
	free(s);
	s = repeat("", "plugin {\n", CONFIG_MAX_SECTION_DEPTH + 1, "");
	check_error("deep sections", s, strlen(s), 0,
		    "t.conf:9: plugin: sections nested too deeply (limit 8)");
	free(s);
	/* $expansion cannot blow up memory: values are limited in total */
	char *big = repeat("auth_realms = ", "x", 8000, "\n"
			   "auth_realms = $auth_realms $auth_realms\n"
			   "auth_realms = $auth_realms $auth_realms\n"
			   "auth_realms = $auth_realms $auth_realms\n");
	s = repeat(big, "auth_default_realm = $auth_realms\n", 70, "");
	check_error("total size", s, strlen(s), 0,
		    "t.conf:68: values too large in total (limit 4194304 bytes)");
	free(big);
	free(s);
	/* a line of exactly the limit is fine */
	s = repeat("auth_realms = ", "x", CONFIG_MAX_LINE_LEN - 14, "\n");
	struct auth_settings *set = NULL;
	const char *error;
	if (load(s, 0, &set, &error) < 0)
		fail_msg("line at the limit: %s", error);
	assert_int_equal(strlen(set->auth_realms), CONFIG_MAX_LINE_LEN - 14);
	settings_free(&set);
	free(s);
}

/* ---- files ---- */

static void test_include_loop(void **state)
{
	(void)state;
	struct auth_settings *set = NULL;
	const char *error = NULL;
	assert_int_equal(settings_load(FIXTURES "/loop/a.conf", &set, &error), -1);
	assert_string_equal(error, FIXTURES "/loop/b.conf:2: !include: include loop: "
			    FIXTURES "/loop/a.conf is already being read");
	assert_int_equal(settings_load(FIXTURES "/loop/self.conf", &set, &error), -1);
	assert_string_equal(error, FIXTURES "/loop/self.conf:1: !include: include loop: "
			    FIXTURES "/loop/self.conf is already being read");
	assert_int_equal(settings_load(FIXTURES "/nonexistent.conf", &set, &error), -1);
	assert_string_equal(error, FIXTURES "/nonexistent.conf: can't read: No such file or directory");
	assert_null(set);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A chain d0 -> d1 -> ... -> d17 in a temporary directory: 16 nested
 * includes work, the 17th is refused. Files are found relative to the
 * including file, not the working directory. */
static void test_include_depth(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_config.XXXXXX", path[64], text[64], want[160];
	assert_non_null(mkdtemp(dir));
	for (unsigned int i = 0; i <= CONFIG_MAX_INCLUDE_DEPTH + 1; i++) {
		snprintf(path, sizeof(path), "%s/d%u.conf", dir, i);
		snprintf(text, sizeof(text), "!include d%u.conf\n", i + 1);
		write_file(path, i == CONFIG_MAX_INCLUDE_DEPTH + 1 ? "auth_verbose = yes\n" : text);
	}
	struct auth_settings *set = NULL;
	const char *error = NULL;
	snprintf(path, sizeof(path), "%s/d0.conf", dir);
	assert_int_equal(settings_load(path, &set, &error), -1);
	snprintf(want, sizeof(want), "%s/d16.conf:1: !include: include depth limit (16) exceeded", dir);
	assert_string_equal(error, want);
	snprintf(path, sizeof(path), "%s/d1.conf", dir);
	if (settings_load(path, &set, &error) < 0)
		fail_msg("depth 16: %s", error);
	assert_true(set->auth_verbose);
	settings_free(&set);
	for (unsigned int i = 0; i <= CONFIG_MAX_INCLUDE_DEPTH + 1; i++) {
		snprintf(path, sizeof(path), "%s/d%u.conf", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

static void test_include_try(void **state)
{
	(void)state;
	struct auth_settings *set = NULL;
	const char *error = NULL;
	const char *conf = "!include_try tests/fixtures/config/nonexistent.conf\n"
		"!include_try tests/fixtures/config/nonexistent/*.conf\n"
		"!include tests/fixtures/config/dovecot/conf.d/10-auth.conf\n"
		"auth_username_translation = ++\n";
	if (load(conf, 0, &set, &error) < 0)
		fail_msg("include_try: %s", error);
	/* 10-auth.conf's <realms.txt is relative to conf.d/, not the cwd */
	assert_string_equal(set->auth_realms, "example.com example.net");
	assert_string_equal(set->auth_username_translation, "++");
	assert_int_equal(set->passdb_count, 2);
	settings_free(&set);
}

/* The tree API directly: node types, names, values, positions. */
static void test_tree(void **state)
{
	(void)state;
	static const char text[] = "a = 1\nservice auth {\n  unix_listener \"x y\" {\n"
		"  }\n}\nb = <file\n";
	struct config_tree *tree = NULL;
	const char *error;
	const struct config_parse_opts opts = { .flags = CONFIG_PARSE_QUIET };
	assert_int_equal(config_parse_buffer("t", (const uint8_t *)text, sizeof(text) - 1, &opts,
					     &tree, &error), 0);
	const struct config_node *a = tree->root->children, *svc = a->next, *b = svc->next;
	assert_int_equal(a->type, CONFIG_NODE_KEY);
	assert_string_equal(a->value, "1");
	assert_int_equal(svc->type, CONFIG_NODE_SECTION);
	assert_string_equal(svc->key, "service");
	assert_string_equal(svc->value, "auth");
	assert_int_equal(svc->line, 2);
	assert_string_equal(svc->children->key, "unix_listener");
	assert_string_equal(svc->children->value, "x y");
	assert_ptr_equal(svc->children->parent, svc);
	assert_null(svc->children->children);
	assert_true(b->value_file);
	assert_string_equal(b->value, "file");
	assert_int_equal(b->line, 6);
	assert_null(b->next);
	config_tree_free(&tree);
	assert_null(tree);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_include_loop),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_include_try),
		cmocka_unit_test(test_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
