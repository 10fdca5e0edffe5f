/* test_secret: secret_equal (equal, unequal, different lengths, empty,
 * NULs inside), secret_wipe and secret_free_str. */
#include "common/secret.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct equal_case {
	const char *name;
	const char *a;
	size_t alen;
	const char *b;
	size_t blen;
	int want;
};

static void test_equal(void **state)
{
	static const struct equal_case cases[] = {
		{ .name = "equal", .a = "secret", .alen = 6, .b = "secret", .blen = 6, .want = 1 },
		{ .name = "last byte differs", .a = "secret", .alen = 6, .b = "secreT", .blen = 6,
		  .want = 0 },
		{ .name = "first byte differs", .a = "Secret", .alen = 6, .b = "secret", .blen = 6,
		  .want = 0 },
		{ .name = "a is a prefix", .a = "secr", .alen = 4, .b = "secret", .blen = 6,
		  .want = 0 },
		{ .name = "b is a prefix", .a = "secret", .alen = 6, .b = "secr", .blen = 4,
		  .want = 0 },
		{ .name = "both empty", .a = "", .alen = 0, .b = "", .blen = 0, .want = 1 },
		{ .name = "a empty", .a = "", .alen = 0, .b = "x", .blen = 1, .want = 0 },
		{ .name = "b empty", .a = "x", .alen = 1, .b = "", .blen = 0, .want = 0 },
		{ .name = "NUL inside, equal", .a = "a\0b", .alen = 3, .b = "a\0b", .blen = 3,
		  .want = 1 },
		{ .name = "NUL inside, differs after NUL", .a = "a\0b", .alen = 3, .b = "a\0c",
		  .blen = 3, .want = 0 },
		{ .name = "high bytes", .a = "\xff\x80", .alen = 2, .b = "\xff\x80", .blen = 2,
		  .want = 1 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct equal_case *c = &cases[i];
		int got = secret_equal(c->a, c->alen, c->b, c->blen);
		if (got != c->want) {
			print_error("%s: got %d, want %d\n", c->name, got, c->want);
			ok = false;
		}
	}
	if (!ok)
		fail();
}

static void test_equal_null_empty(void **state)
{
	(void)state;
	/* an empty stored value with a NULL pointer */
	assert_int_equal(secret_equal(NULL, 0, NULL, 0), 1);
	assert_int_equal(secret_equal("x", 1, NULL, 0), 0);
}

static void test_equal_long(void **state)
{
	uint8_t a[4096], b[4096];
	(void)state;
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)(i * 31);
	assert_int_equal(secret_equal(a, sizeof(a), b, sizeof(b)), 1);
	b[2048] ^= 1;
	assert_int_equal(secret_equal(a, sizeof(a), b, sizeof(b)), 0);
}

static void test_wipe(void **state)
{
	uint8_t p[32];
	(void)state;
	memset(p, 0xAA, sizeof(p));
	secret_wipe(p + 8, 16);
	for (size_t i = 0; i < sizeof(p); i++) {
		uint8_t want = i >= 8 && i < 24 ? 0 : 0xAA;
		if (p[i] != want) {
			print_error("byte %zu: got %#x, want %#x\n", i, p[i], want);
			fail();
		}
	}
	secret_wipe(NULL, 10);   /* harmless */
	secret_wipe(p, 0);
}

static void test_free_str(void **state)
{
	char *s = strdup("password");
	char *n = NULL;
	(void)state;
	assert_non_null(s);
	secret_free_str(&s);
	assert_null(s);
	secret_free_str(&n);
	assert_null(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_equal_null_empty),
		cmocka_unit_test(test_equal_long),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_free_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
