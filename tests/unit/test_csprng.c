/* test_csprng: common/csprng.h: no 16-byte draw repeats across buffer
 * refills, request sizes around the buffer's limits, every byte value
 * shows up, threads get different bytes, and the fork rule: after fork()
 * the child never hands out what the parent hands out next (without the
 * fork handler both would take the same bytes from the inherited buffer). */
#include "common/csprng.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define DRAW 16u
/* Draws spanning several refills of the buffer. */
#define DRAWS (3u * CSPRNG_BLOCK / DRAW + 7u)

static int cmp_draw(const void *a, const void *b)
{
	return memcmp(a, b, DRAW);
}

static void test_no_repeats(void **state)
{
	(void)state;
	uint8_t (*d)[DRAW] = calloc(DRAWS, DRAW);
	assert_non_null(d);
	for (size_t i = 0; i < DRAWS; i++)
		assert_int_equal(csprng_bytes(d[i], DRAW), 0);
	qsort(d, DRAWS, DRAW, cmp_draw);
	for (size_t i = 1; i < DRAWS; i++)
		if (memcmp(d[i - 1], d[i], DRAW) == 0)
			fail_msg("draw repeated after sorting at %zu of %u", i, DRAWS);
	free(d);
}

static void test_sizes(void **state)
{
	static const struct {
		size_t len;
	} cases[] = {
		{ .len = 0 }, { .len = 1 }, { .len = DRAW },
		{ .len = CSPRNG_DIRECT_MIN - 1 }, { .len = CSPRNG_DIRECT_MIN },
		{ .len = CSPRNG_BLOCK - 1 }, { .len = CSPRNG_BLOCK },
		{ .len = 2 * CSPRNG_BLOCK + 3 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len;
		uint8_t *a = calloc(1, len + 1), *b = calloc(1, len + 1);
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(csprng_bytes(a, len), 0);
		assert_int_equal(csprng_bytes(b, len), 0);
		if (len >= 8 && memcmp(a, b, len) == 0)
			fail_msg("len %zu: got the same bytes twice", len);
		free(a);
		free(b);
	}
}

/* 64 KiB of 2-byte draws: each byte value appears (expected ~256 times;
 * a miss would mean a broken generator, chance about 256 * e^-256). */
static void test_all_byte_values(void **state)
{
	(void)state;
	unsigned int count[256] = { 0 };
	for (size_t i = 0; i < 32768; i++) {
		uint8_t two[2];
		assert_int_equal(csprng_bytes(two, 2), 0);
		count[two[0]]++;
		count[two[1]]++;
	}
	for (size_t v = 0; v < 256; v++)
		if (count[v] == 0)
			fail_msg("byte value %zu never seen in 65536 bytes", v);
}

static void *thread_draw(void *arg)
{
	uint8_t *out = arg;
	if (csprng_bytes(out, DRAW) < 0)
		memset(out, 0, DRAW);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	uint8_t mine[DRAW], theirs[2][DRAW];
	pthread_t t[2];
	assert_int_equal(csprng_bytes(mine, DRAW), 0);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_draw, theirs[i]), 0);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_memory_not_equal(theirs[0], theirs[1], DRAW);
	assert_memory_not_equal(mine, theirs[0], DRAW);
	assert_memory_not_equal(mine, theirs[1], DRAW);
}

/* Parent and child each draw right after fork(); with the buffer the
 * parent filled before the fork both would get the same bytes. Also after
 * csprng_wipe() in the parent before forking. */
static void test_fork(void **state)
{
	(void)state;
	for (int wipe = 0; wipe <= 1; wipe++) {
		uint8_t before[DRAW], parent[DRAW], child[DRAW];
		int fds[2];
		assert_int_equal(csprng_bytes(before, DRAW), 0);   /* buffer filled */
		if (wipe)
			csprng_wipe();
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			uint8_t mine[DRAW];
			int ok = csprng_bytes(mine, DRAW) == 0 &&
				 write(fds[1], mine, DRAW) == (ssize_t)DRAW;
			_exit(ok ? 0 : 1);
		}
		close(fds[1]);
		assert_int_equal(csprng_bytes(parent, DRAW), 0);
		assert_int_equal(read(fds[0], child, DRAW), (ssize_t)DRAW);
		close(fds[0]);
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (memcmp(parent, child, DRAW) == 0)
			fail_msg("wipe=%d: parent and child drew the same bytes after fork", wipe);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_repeats),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_all_byte_values),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fork),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
