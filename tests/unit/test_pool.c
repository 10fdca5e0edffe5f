/* test_pool: the arena (common/pool.h): 16-byte alignment, zeroed memory,
 * strndup/strdup/printf, allocations bigger than a block, reset. */
#include "common/pool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

struct alloc_case {
	const char *name;
	size_t block_size;   /* pool_create argument */
	size_t sizes[8];     /* allocations in order; 0 ends (except first) */
	size_t count;
};

static void test_alloc_alignment(void **state)
{
	static const struct alloc_case cases[] = {
		{ .name = "tiny", .block_size = 0, .sizes = { 1, 1, 1, 3, 5 }, .count = 5 },
		{ .name = "zero size", .block_size = 0, .sizes = { 0, 1, 0, 17 }, .count = 4 },
		{ .name = "odd sizes", .block_size = 64, .sizes = { 7, 9, 15, 17, 31, 33, 63 },
		  .count = 7 },
		{ .name = "bigger than block", .block_size = 32, .sizes = { 8, 100, 8, 1000, 8 },
		  .count = 5 },
		{ .name = "default block exceeded", .block_size = 0,
		  .sizes = { 1500, 1500, 3000, 70000 }, .count = 4 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct alloc_case *c = &cases[i];
		struct pool *pool = pool_create(c->block_size);
		uint8_t *ptrs[8];
		for (size_t j = 0; j < c->count; j++) {
			ptrs[j] = pool_alloc(pool, c->sizes[j]);
			if (ptrs[j] == NULL || ((uintptr_t)ptrs[j] & 15u) != 0) {
				print_error("%s: alloc %zu (size %zu) got %p, want 16-byte aligned\n",
					    c->name, j, c->sizes[j], (void *)ptrs[j]);
				ok = false;
				continue;
			}
			if (!is_zero(ptrs[j], c->sizes[j])) {
				print_error("%s: alloc %zu not zeroed\n", c->name, j);
				ok = false;
			}
			/* fill it: ASan catches overlap with the neighbours */
			memset(ptrs[j], (int)(0xA0 + j), c->sizes[j]);
		}
		/* no allocation was overwritten by a later one */
		for (size_t j = 0; j < c->count; j++) {
			for (size_t k = 0; k < c->sizes[j]; k++) {
				if (ptrs[j][k] != (uint8_t)(0xA0 + j)) {
					print_error("%s: alloc %zu byte %zu got %#x, want %#x\n", c->name,
						    j, k, ptrs[j][k], 0xA0 + (unsigned)j);
					ok = false;
					break;
				}
			}
		}
		pool_destroy(&pool);
		if (pool != NULL) {
			print_error("%s: pool_destroy didn't NULL the pointer\n", c->name);
			ok = false;
		}
	}
	if (!ok)
		fail();
}

struct strndup_case {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
	size_t want_len;
};

static void test_strndup(void **state)
{
	static const struct strndup_case cases[] = {
		{ .name = "whole", .in = "alice", .len = 5, .want = "alice", .want_len = 5 },
		{ .name = "prefix", .in = "alice", .len = 3, .want = "ali", .want_len = 3 },
		{ .name = "empty", .in = "alice", .len = 0, .want = "", .want_len = 0 },
		{ .name = "embedded NUL", .in = "a\0b", .len = 3, .want = "a\0b", .want_len = 3 },
		{ .name = "not terminated source", .in = "abcdef", .len = 2, .want = "ab",
		  .want_len = 2 },
	};
	struct pool *pool = pool_create(0);
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct strndup_case *c = &cases[i];
		char *s = pool_strndup(pool, c->in, c->len);
		if (memcmp(s, c->want, c->want_len) != 0 || s[c->want_len] != '\0') {
			print_error("%s: got \"%.*s\", want \"%s\" NUL-terminated\n", c->name,
				    (int)c->want_len, s, c->want);
			ok = false;
		}
		if (c->len > 0 && s == c->in) {
			print_error("%s: got the source pointer, want a copy\n", c->name);
			ok = false;
		}
	}
	/* NULL source with length 0 is allowed (empty field) */
	char *e = pool_strndup(pool, NULL, 0);
	if (e == NULL || *e != '\0') {
		print_error("NULL/0: got %p, want \"\"\n", (void *)e);
		ok = false;
	}
	pool_destroy(&pool);
	if (!ok)
		fail();
}

static void test_strdup_printf(void **state)
{
	struct pool *pool = pool_create(32);
	(void)state;
	char *s = pool_strdup(pool, "service=smtp");
	assert_string_equal(s, "service=smtp");
	char *p = pool_printf(pool, "%s(%u): %s", "passwd-file", 42u, "unknown user");
	assert_string_equal(p, "passwd-file(42): unknown user");
	/* longer than the block: goes to a block of its own */
	char big[500];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char *q = pool_printf(pool, "<%s>", big);
	assert_int_equal(strlen(q), sizeof(big) + 1);
	assert_int_equal(q[0], '<');
	assert_int_equal(q[sizeof(big)], '>');
	/* earlier strings intact */
	assert_string_equal(s, "service=smtp");
	assert_string_equal(p, "passwd-file(42): unknown user");
	pool_destroy(&pool);
}

static void test_reset(void **state)
{
	struct pool *pool = pool_create(64);
	(void)state;
	for (int round = 0; round < 5; round++) {
		char *a = pool_strdup(pool, "first");
		uint8_t *big = pool_alloc(pool, 4096);   /* forces an extra block */
		memset(big, 0xff, 4096);
		char *b = pool_printf(pool, "round %d", round);
		assert_string_equal(a, "first");
		assert_string_equal(b, pool_printf(pool, "round %d", round));
		pool_reset(pool);
		/* the first block is reused: the next allocation is zeroed */
		uint8_t *z = pool_alloc(pool, 48);
		assert_true(is_zero(z, 48));
		memset(z, 1, 48);
		pool_reset(pool);
	}
	pool_destroy(&pool);
	pool_destroy(&pool);   /* NULL: no-op */
	assert_null(pool);
}

static void test_many_small(void **state)
{
	struct pool *pool = pool_create(0);
	char *strs[2000];
	(void)state;
	for (size_t i = 0; i < N_ELEMS(strs); i++)
		strs[i] = pool_printf(pool, "user%zu@example.com", i);
	for (size_t i = 0; i < N_ELEMS(strs); i++) {
		char want[64];
		snprintf(want, sizeof(want), "user%zu@example.com", i);
		if (strcmp(strs[i], want) != 0) {
			print_error("string %zu: got \"%s\", want \"%s\"\n", i, strs[i], want);
			fail();
		}
	}
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_alignment),
		cmocka_unit_test(test_strndup),
		cmocka_unit_test(test_strdup_printf),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_many_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
