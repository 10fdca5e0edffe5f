/* test_ldap_escape: RFC 4515 / 4514 escaping of user input (spec B.5):
 * Dovecot's observed filters, every byte value, the limit. */
#include "common/buf.h"
#include "passdb/db_ldap_escape.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in, *want;
} escape_cases[] = {
	{ .in = "alice", .want = "alice" },
	{ .in = "", .want = "" },
	{ .in = "star*", .want = "star\\2A" },
	{ .in = "*", .want = "\\2A" },
	{ .in = "alice)(uid=*", .want = "alice\\29\\28uid\\3D\\2A" },
	{ .in = "ali*", .want = "ali\\2A" },
	{ .in = "a,b", .want = "a\\2Cb" },
	{ .in = "back\\slash", .want = "back\\5Cslash" },
	{ .in = "#+<>;\" =", .want = "\\23\\2B\\3C\\3E\\3B\\22\\20\\3D" },
	{ .in = "\xc3\xa9", .want = "\\C3\\A9" },
	{ .in = "tab\there", .want = "tab\\09here" },
	{ .in = "del\x7f", .want = "del\\7F" },
	{ .in = "user@example.com", .want = "user@example.com" },
	{ .in = "a-b_c.d", .want = "a-b_c.d" },
};

static void test_escape_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(escape_cases); i++) {
		struct buf out = BUF_INIT(0);
		assert_int_equal(ldap_escape_var(&out, escape_cases[i].in, NULL), 0);
		if (strcmp(buf_cstr(&out), escape_cases[i].want) != 0)
			fail_msg("escape(%s): got %s, want %s", escape_cases[i].in, buf_cstr(&out),
				 escape_cases[i].want);
		buf_free(&out);
	}
}

/* No byte that is special in a filter or a DN survives unescaped. */
static void test_escape_all_bytes(void **state)
{
	(void)state;
	for (unsigned int c = 1; c < 256; c++) {
		uint8_t in = (uint8_t)c;
		struct buf out = BUF_INIT(0);
		assert_int_equal(ldap_escape_bytes(&out, &in, 1), 0);
		bool special = c < 0x20 || c >= 0x7f || strchr("*,\\#+<>;\"()= ", (int)c) != NULL;
		if (special) {
			char want[4];
			snprintf(want, sizeof(want), "\\%02X", c);
			if (strcmp(buf_cstr(&out), want) != 0)
				fail_msg("byte 0x%02x: got %s, want %s", c, buf_cstr(&out), want);
		} else if (out.len != 1 || out.data[0] != in) {
			fail_msg("byte 0x%02x: got %s, want it unchanged", c, buf_cstr(&out));
		}
		for (size_t i = 0; i < out.len; i++)
			if (strchr("*()\n", out.data[i]) != NULL && out.data[i] != '\0')
				fail_msg("byte 0x%02x: special %c in output", c, out.data[i]);
		buf_free(&out);
	}
}

/* A NUL in (data, len) input is escaped too. */
static void test_escape_nul(void **state)
{
	(void)state;
	struct buf out = BUF_INIT(0);
	assert_int_equal(ldap_escape_bytes(&out, (const uint8_t *)"a\0b", 3), 0);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "a\\00b", 5);
	buf_free(&out);
}

/* Crossing the limit fails and leaves what was there. */
static void test_escape_limit(void **state)
{
	(void)state;
	struct buf out = BUF_INIT(8);
	assert_int_equal(buf_append_str(&out, "pre"), 0);
	assert_int_equal(ldap_escape_var(&out, "***", NULL), -1);
	assert_string_equal(buf_cstr(&out), "pre");
	assert_int_equal(ldap_escape_var(&out, "ab", NULL), 0);
	assert_string_equal(buf_cstr(&out), "preab");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_cases),
		cmocka_unit_test(test_escape_all_bytes),
		cmocka_unit_test(test_escape_nul),
		cmocka_unit_test(test_escape_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
