/* Tests for passdb/db_passwd_file_registry.c timing: the stat interval and
 * the background re-read of a big file (test_passwd_file.c has the basic
 * registry behaviour). */
#include "common/pool.h"
#include "passdb/db_passwd_file.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/passwd_file_testlib.h"

#define BIG_USERS 100000
#define BIG_WAIT_MS 30000


static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000L * 1000L };
	nanosleep(&ts, NULL);
}

/* The registry stats a path at most every PASSWD_FILE_STAT_INTERVAL_MS
 * (coarse monotonic clock, a few ms of slack). */
static void wait_stat_interval(void)
{
	sleep_ms(PASSWD_FILE_STAT_INTERVAL_MS + 20);
}

static bool has_user(const struct passwd_file *pf, const char *user)
{
	struct passwd_entry e;
	return passwd_file_lookup(pf, user, strlen(user), tpool, &e) == 1;
}

/* A change is not looked for again within PASSWD_FILE_STAT_INTERVAL_MS
 * (checked only when the machine was quick enough to tell), and is seen
 * after it. */
static void test_registry_interval(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_passwd_file.XXXXXX", path[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/passwd", dir);
	write_file(path, "a:{PLAIN}1\n", "w");
	int64_t start = mono_ms();
	const struct passwd_file *pf = get_ok(path, false);
	write_file(path, "b:{PLAIN}2\n", "a");
	pf = get_ok(path, false);
	if (mono_ms() - start < PASSWD_FILE_STAT_INTERVAL_MS - 10)
		assert_false(has_user(pf, "b"));
	wait_stat_interval();
	assert_true(has_user(get_ok(path, false), "b"));
	db_passwd_file_flush_all();
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* BIG_USERS users (and fresh, when asked), written to tmp and renamed. */
static void write_big(const char *path, const char *tmp, bool fresh)
{
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	for (int i = 0; i < BIG_USERS; i++)
		fprintf(f, "user%d:{PLAIN}password%d:%d:%d::/home/user%d::\n", i, i, i + 1, i + 1, i);
	if (fresh)
		fprintf(f, "fresh:{PLAIN}x\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* A big file is re-read on a thread: the old contents are served until a
 * later lookup swaps the new index in (and the old one is freed on a
 * thread). */
static void test_registry_background(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_passwd_file.XXXXXX", path[128], tmp[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/passwd", dir);
	snprintf(tmp, sizeof(tmp), "%s/passwd.new", dir);
	write_big(path, tmp, false);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size >= 4 * 1024 * 1024);   /* PF_BACKGROUND_MIN_SIZE */
	assert_true(has_user(get_ok(path, true), "user99999"));
	write_big(path, tmp, true);
	wait_stat_interval();
	int64_t deadline = mono_ms() + BIG_WAIT_MS;
	const struct passwd_file *pf = get_ok(path, true);
	while (!has_user(pf, "fresh") && mono_ms() < deadline) {
		assert_true(has_user(pf, "user5"));
		sleep_ms(5);
		pf = get_ok(path, true);
	}
	assert_true(has_user(pf, "fresh"));
	assert_int_equal(passwd_file_count(pf), BIG_USERS + 1);
	db_passwd_file_flush_all();
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_interval),
		cmocka_unit_test(test_registry_background),
	};
	return cmocka_run_group_tests(tests, setup_pool, teardown_pool);
}
