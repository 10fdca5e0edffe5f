/* test_username: spec 7.2 steps 3-4 and the hard limits, including the
 * observed quirk of transcript 13 (default realm + translation '+@'). */
#include "authd/username.h"
#include "common/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* Dovecot 2.3's default auth_username_chars */
#define DEFAULT_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"

struct norm_case {
	const char *name;
	const char *chars;        /* auth_username_chars */
	const char *translation;  /* auth_username_translation */
	const char *realm;        /* auth_default_realm */
	const char *in;
	size_t in_len;            /* 0: strlen(in) */
	const char *want;         /* NULL: rejected */
	const char *want_error;   /* for rejections; NULL = any */
};

static void run_norm_case(const struct norm_case *c)
{
	struct username_rules rules;
	const char *error = NULL;
	struct buf out = BUF_INIT(1024);
	size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
	bool ok = true;

	assert_int_equal(username_rules_init(&rules, c->chars, c->translation, c->realm,
					     &error), 0);
	int ret = username_normalize(&rules, (const uint8_t *)c->in, len, &out, &error);
	if (c->want != NULL && (ret != 1 || out.len != strlen(c->want) ||
				memcmp(buf_cstr(&out), c->want, out.len) != 0)) {
		print_error("%s: got %d \"%s\" (%s), want \"%s\"\n", c->name, ret,
			    buf_cstr(&out), ret == 1 ? "-" : error, c->want);
		ok = false;
	}
	if (c->want == NULL && (ret != 0 || out.len != 0 ||
				(c->want_error != NULL && strcmp(error, c->want_error) != 0))) {
		print_error("%s: got %d \"%s\" (%s), want rejection (%s)\n", c->name, ret,
			    buf_cstr(&out), ret == 1 ? "-" : error,
			    c->want_error != NULL ? c->want_error : "any");
		ok = false;
	}
	/* the reason never quotes the name */
	if (c->want == NULL && ret == 0 && len > 2 && strlen(c->in) == len &&
	    strstr(error, c->in) != NULL) {
		print_error("%s: error \"%s\" contains the user name\n", c->name, error);
		ok = false;
	}
	buf_free(&out);
	if (!ok)
		fail();
}

static void test_normalize(void **state)
{
	static const struct norm_case cases[] = {
		{ .name = "plain", .chars = DEFAULT_CHARS, .in = "alice", .want = "alice" },
		{ .name = "case kept (format lower-cases)", .chars = DEFAULT_CHARS,
		  .in = "John.Smith@Example.COM", .want = "John.Smith@Example.COM" },
		{ .name = "realm appended", .chars = DEFAULT_CHARS, .realm = "example.com",
		  .in = "bob", .want = "bob@example.com" },
		{ .name = "realm not appended with @", .chars = DEFAULT_CHARS,
		  .realm = "example.com", .in = "bob@example.org", .want = "bob@example.org" },
		{ .name = "translation", .chars = DEFAULT_CHARS, .translation = "%@",
		  .in = "carol%example.com", .want = "carol@example.com" },
		{ .name = "quirk: realm before translation", .chars = DEFAULT_CHARS,
		  .translation = "+@", .realm = "example.com", .in = "zed+example.com",
		  .want = "zed@example.com@example.com" },
		{ .name = "translation into disallowed", .chars = DEFAULT_CHARS,
		  .translation = "a ", .in = "alice", .want = NULL,
		  .want_error = "Username character disallowed by auth_username_chars" },
		{ .name = "translation out of disallowed", .chars = DEFAULT_CHARS,
		  .translation = " _", .in = "al ice", .want = "al_ice" },
		{ .name = "space rejected by default chars", .chars = DEFAULT_CHARS,
		  .in = "al ice", .want = NULL,
		  .want_error = "Username character disallowed by auth_username_chars" },
		{ .name = "star rejected by default chars", .chars = DEFAULT_CHARS,
		  .in = "star*", .want = NULL },
		{ .name = "utf-8 rejected by default chars", .chars = DEFAULT_CHARS,
		  .in = "j\xc3\xa9r\xc3\xb4me", .want = NULL },
		{ .name = "empty chars allows all", .chars = "", .in = "al ice*(\xc3\xa9)",
		  .want = "al ice*(\xc3\xa9)" },
		{ .name = "NULL chars allows all", .in = "al ice", .want = "al ice" },
		{ .name = "realm checked too", .chars = "abc@", .realm = "x.org", .in = "abc",
		  .want = NULL },
		{ .name = "TAB even with empty chars", .chars = "", .in = "a\tb", .want = NULL,
		  .want_error = "Username contains a control character" },
		{ .name = "CR", .chars = "", .in = "a\rb", .want = NULL },
		{ .name = "LF", .chars = "", .in = "a\nb", .want = NULL },
		{ .name = "0x01", .chars = "", .in = "a\x01" "b", .want = NULL },
		{ .name = "DEL", .chars = "", .in = "a\x7f" "b", .want = NULL },
		{ .name = "NUL", .chars = "", .in = "a\0b", .in_len = 3, .want = NULL,
		  .want_error = "Username contains a control character" },
		{ .name = "NUL in chars setting is impossible", .chars = DEFAULT_CHARS,
		  .in = "\0", .in_len = 1, .want = NULL },
		{ .name = "translation into TAB", .chars = "", .translation = "_\t",
		  .in = "a_b", .want = NULL, .want_error = "Username contains a control character" },
		{ .name = "translation from TAB", .chars = "", .translation = "\t_",
		  .in = "a\tb", .want = NULL, .want_error = "Username contains a control character" },
		{ .name = "empty name kept (step 6 rejects it)", .chars = DEFAULT_CHARS,
		  .in = "", .want = "" },
		{ .name = "empty name gets realm", .chars = DEFAULT_CHARS, .realm = "ex.com",
		  .in = "", .want = "@ex.com" },
	};
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		run_norm_case(&cases[i]);
}

static void test_length(void **state)
{
	char name[USERNAME_MAX_LEN + 2];
	struct username_rules rules;
	struct buf out = BUF_INIT(0);
	const char *error = NULL;
	(void)state;

	memset(name, 'a', sizeof(name));
	assert_int_equal(username_rules_init(&rules, DEFAULT_CHARS, "", "", &error), 0);
	assert_int_equal(username_normalize(&rules, (const uint8_t *)name, 255, &out, &error), 1);
	assert_int_equal(out.len, 255);
	assert_int_equal(username_normalize(&rules, (const uint8_t *)name, 256, &out, &error), 0);
	assert_string_equal(error, "Username too long");
	assert_int_equal(out.len, 0);

	/* the realm counts: 243 + "@example.com" = 255, 244 + 12 = 256 */
	assert_int_equal(username_rules_init(&rules, DEFAULT_CHARS, "", "example.com", &error), 0);
	assert_int_equal(username_normalize(&rules, (const uint8_t *)name, 243, &out, &error), 1);
	assert_int_equal(out.len, 255);
	assert_int_equal(username_normalize(&rules, (const uint8_t *)name, 244, &out, &error), 0);
	assert_string_equal(error, "Username too long");

	/* out's limit */
	struct buf small = BUF_INIT(4);
	assert_int_equal(username_normalize(&rules, (const uint8_t *)"a@b.c", 5, &small, &error),
			 -1);
	assert_int_equal(small.len, 0);
	buf_free(&small);

	/* out is replaced, not appended to */
	assert_int_equal(username_normalize(&rules, (const uint8_t *)"x@y", 3, &out, &error), 1);
	assert_string_equal(buf_cstr(&out), "x@y");
	buf_free(&out);
}

static void test_rules_init(void **state)
{
	struct username_rules rules;
	const char *error = NULL;
	(void)state;

	assert_int_equal(username_rules_init(&rules, "", "%@+", "", &error), -1);
	assert_non_null(error);
	assert_int_equal(username_rules_init(&rules, DEFAULT_CHARS, "%@+-", NULL, &error), 0);
	assert_int_equal(rules.translate['%'], '@');
	assert_int_equal(rules.translate['+'], '-');
	assert_int_equal(rules.translate['a'], 'a');
	assert_true(rules.allowed['@']);
	assert_false(rules.allowed[' ']);
	assert_string_equal(rules.default_realm, "");
}

static void test_local_len(void **state)
{
	static const struct {
		const char *user;
		size_t want;
	} cases[] = {
		{ .user = "alice", .want = 5 },
		{ .user = "alice@example.com", .want = 5 },
		{ .user = "a@b@c", .want = 1 },
		{ .user = "@x", .want = 0 },
		{ .user = "", .want = 0 },
	};
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		size_t got = username_local_len(cases[i].user, strlen(cases[i].user));
		if (got != cases[i].want)
			fail_msg("username_local_len(\"%s\") = %zu, want %zu", cases[i].user, got,
				 cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_rules_init),
		cmocka_unit_test(test_local_len),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
