/* test_strnum: strict number parsing (common/strnum.h): bounds, signs,
 * spaces, digit counts, empty input, octal. */
#include "common/strnum.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct num_case {
	const char *name;
	const char *in;
	size_t in_len;     /* 0: strlen(in) */
	int want_ret;
	uint64_t want;
};

static void test_uint32(void **state)
{
	static const struct num_case cases[] = {
		{ .name = "zero", .in = "0", .want_ret = 1, .want = 0 },
		{ .name = "one", .in = "1", .want_ret = 1, .want = 1 },
		{ .name = "max", .in = "4294967295", .want_ret = 1, .want = 4294967295u },
		{ .name = "max + 1", .in = "4294967296", .want_ret = 0 },
		{ .name = "10 digits over", .in = "9999999999", .want_ret = 0 },
		{ .name = "11 digits", .in = "10000000000", .want_ret = 0 },
		{ .name = "11 digits leading zero", .in = "00000000001", .want_ret = 0 },
		{ .name = "10 digits leading zeros", .in = "0000000042", .want_ret = 1, .want = 42 },
		{ .name = "leading zero", .in = "010", .want_ret = 1, .want = 10 },
		{ .name = "plus", .in = "+1", .want_ret = 0 },
		{ .name = "minus", .in = "-1", .want_ret = 0 },
		{ .name = "minus zero", .in = "-0", .want_ret = 0 },
		{ .name = "leading space", .in = " 1", .want_ret = 0 },
		{ .name = "trailing space", .in = "1 ", .want_ret = 0 },
		{ .name = "trailing LF", .in = "1\n", .want_ret = 0 },
		{ .name = "empty", .in = "", .want_ret = 0 },
		{ .name = "hex", .in = "0x10", .want_ret = 0 },
		{ .name = "letters", .in = "abc", .want_ret = 0 },
		{ .name = "digit then letter", .in = "12a", .want_ret = 0 },
		{ .name = "embedded NUL", .in = "1\0" "2", .in_len = 3, .want_ret = 0 },
		{ .name = "prefix only counted", .in = "123456", .in_len = 3, .want_ret = 1,
		  .want = 123 },
		{ .name = "non-ASCII digit", .in = "\xd9\xa1", .want_ret = 0 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct num_case *c = &cases[i];
		size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
		uint32_t got = 77777;
		int ret = str_to_uint32((const uint8_t *)c->in, len, &got);
		if (ret != c->want_ret || (ret == 1 && got != c->want)) {
			print_error("%s: got %d %u, want %d %llu\n", c->name, ret, got, c->want_ret,
				    (unsigned long long)c->want);
			ok = false;
		}
		if (ret == 0 && got != 77777) {
			print_error("%s: rejected input changed *num_r to %u\n", c->name, got);
			ok = false;
		}
	}
	if (!ok)
		fail();
}

static void test_uint64(void **state)
{
	static const struct num_case cases[] = {
		{ .name = "zero", .in = "0", .want_ret = 1, .want = 0 },
		{ .name = "uint32 max + 1", .in = "4294967296", .want_ret = 1,
		  .want = 4294967296ull },
		{ .name = "max", .in = "18446744073709551615", .want_ret = 1, .want = UINT64_MAX },
		{ .name = "max + 1", .in = "18446744073709551616", .want_ret = 0 },
		{ .name = "20 digits over", .in = "99999999999999999999", .want_ret = 0 },
		{ .name = "21 digits", .in = "000000000000000000001", .want_ret = 0 },
		{ .name = "plus", .in = "+5", .want_ret = 0 },
		{ .name = "minus", .in = "-5", .want_ret = 0 },
		{ .name = "space", .in = "5 ", .want_ret = 0 },
		{ .name = "empty", .in = "", .want_ret = 0 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct num_case *c = &cases[i];
		size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
		uint64_t got = 77777;
		int ret = str_to_uint64((const uint8_t *)c->in, len, &got);
		if (ret != c->want_ret || (ret == 1 && got != c->want)) {
			print_error("%s: got %d %llu, want %d %llu\n", c->name, ret,
				    (unsigned long long)got, c->want_ret, (unsigned long long)c->want);
			ok = false;
		}
	}
	if (!ok)
		fail();
}

static void test_octal(void **state)
{
	static const struct num_case cases[] = {
		{ .name = "0600", .in = "0600", .want_ret = 1, .want = 0600 },
		{ .name = "0666", .in = "0666", .want_ret = 1, .want = 0666 },
		{ .name = "no leading zero", .in = "755", .want_ret = 1, .want = 0755 },
		{ .name = "zero", .in = "0", .want_ret = 1, .want = 0 },
		{ .name = "digit 8", .in = "0680", .want_ret = 0 },
		{ .name = "digit 9", .in = "9", .want_ret = 0 },
		{ .name = "minus", .in = "-1", .want_ret = 0 },
		{ .name = "plus", .in = "+7", .want_ret = 0 },
		{ .name = "space", .in = " 0600", .want_ret = 0 },
		{ .name = "empty", .in = "", .want_ret = 0 },
		{ .name = "0o prefix", .in = "0o600", .want_ret = 0 },
		{ .name = "max 11 digits", .in = "37777777777", .want_ret = 1, .want = UINT32_MAX },
		{ .name = "over uint32", .in = "40000000000", .want_ret = 0 },
		{ .name = "12 digits", .in = "000000000001", .want_ret = 0 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct num_case *c = &cases[i];
		size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
		uint32_t got = 77777;
		int ret = str_to_octal((const uint8_t *)c->in, len, &got);
		if (ret != c->want_ret || (ret == 1 && got != c->want)) {
			print_error("%s: got %d %#o, want %d %#llo\n", c->name, ret, got, c->want_ret,
				    (unsigned long long)c->want);
			ok = false;
		}
	}
	if (!ok)
		fail();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint32),
		cmocka_unit_test(test_uint64),
		cmocka_unit_test(test_octal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
