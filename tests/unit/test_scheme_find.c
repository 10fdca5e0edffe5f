/* test_scheme_find: scheme name lookups (common/scheme.c's hash index):
 * every name `doveadm pw -l` lists and every extra one in upper, lower and
 * mixed case, aliases, near misses (one character more or less, an
 * embedded NUL), and from threads racing to build the index before
 * scheme_init(). */
#include "common/scheme.h"

#include <ctype.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define NAME_MAX_LEN 64u

/* The i-th of all names: doveadm's, then authd's extra ones; NULL past
 * the end. */
static const char *all_names(size_t i)
{
	size_t n = 0;
	while (scheme_list_name(n) != NULL)
		n++;
	return i < n ? scheme_list_name(i) : scheme_list_extra_name(i - n);
}

/* True when name is found in every case spelling and one more character
 * finds nothing (a prefix match would). */
static bool check_name(const char *name)
{
	const struct scheme *want = scheme_find(name);
	char lower[NAME_MAX_LEN], mixed[NAME_MAX_LEN], longer[NAME_MAX_LEN + 2];
	size_t len = strlen(name);
	if (want == NULL || len == 0 || len >= NAME_MAX_LEN)
		return false;
	for (size_t k = 0; k <= len; k++) {
		lower[k] = (char)tolower((unsigned char)name[k]);
		mixed[k] = k % 2 ? lower[k] : name[k];
	}
	snprintf(longer, sizeof(longer), "%sX", name);
	return scheme_find(lower) == want && scheme_find(mixed) == want &&
	       scheme_find(longer) == NULL;
}

static void test_all_names(void **state)
{
	(void)state;
	size_t failed = 0, count = 0;
	for (const char *name; (name = all_names(count)) != NULL; count++) {
		if (!check_name(name)) {
			print_error("scheme_find(%s) in other cases, or a near miss, is wrong\n", name);
			failed++;
		}
	}
	if (count < 33)
		fail_msg("got %zu names, want at least 33", count);
	if (failed > 0)
		fail_msg("%zu names failed", failed);
}

static void test_aliases_and_misses(void **state)
{
	static const struct {
		const char *name;
		const char *want;   /* canonical name, NULL: not found */
	} cases[] = {
		{ .name = "sha", .want = "SHA1" },
		{ .name = "Clear", .want = "PLAIN" },
		{ .name = "cleartext", .want = "PLAIN" },
		{ .name = "hmac-md5", .want = "HMAC-MD5" },
		{ .name = "CRAM-MD", .want = NULL },
		{ .name = "CRAM_MD5", .want = NULL },
		{ .name = "SHA1.HEX", .want = NULL },
		{ .name = "", .want = NULL },
		{ .name = "{PLAIN}", .want = NULL },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scheme *s = scheme_find(cases[i].name);
		const char *got = s != NULL ? scheme_name(s) : NULL;
		if ((got == NULL) != (cases[i].want == NULL) ||
		    (got != NULL && strcmp(got, cases[i].want) != 0))
			fail_msg("scheme_find(\"%s\"): got %s, want %s", cases[i].name,
				 got != NULL ? got : "NULL", cases[i].want != NULL ? cases[i].want : "NULL");
	}
	/* an embedded NUL never matches */
	struct scheme_stored st;
	const char *error = NULL;
	static const char nul_name[] = "{CRAM\0MD5}00";
	assert_int_equal(scheme_parse_stored(nul_name, sizeof(nul_name) - 1, NULL,
					     SCHEME_PREFIX_FIELD, &st, &error), 0);
}

static void *thread_find(void *arg)
{
	const struct scheme **out = arg;
	*out = scheme_find("digest-md5");
	return NULL;
}

/* Threads racing for the first lookup all get the scheme. */
static void test_first_lookup_threads(void **state)
{
	(void)state;
	pthread_t t[4];
	const struct scheme *got[4] = { NULL };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_find, &got[i]), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_non_null(got[i]);
		assert_string_equal(scheme_name(got[i]), "DIGEST-MD5");
	}
	assert_int_equal(scheme_init(), 0);
	assert_ptr_equal(scheme_find("DIGEST-MD5"), got[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_lookup_threads),
		cmocka_unit_test(test_all_names),
		cmocka_unit_test(test_aliases_and_misses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
