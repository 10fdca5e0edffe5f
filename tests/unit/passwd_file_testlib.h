/* passwd_file_testlib: what the passwd-file unit tests share: the pool
 * that lookups decode entries into (created and destroyed by the group
 * setup/teardown), writing a file, and loading one through the registry.
 * Include after cmocka.h; everything is static inline so that each test
 * binary uses what it needs. */
#ifndef TESTS_UNIT_PASSWD_FILE_TESTLIB_H
#define TESTS_UNIT_PASSWD_FILE_TESTLIB_H

#include "common/pool.h"
#include "passdb/db_passwd_file.h"

#include <stdbool.h>
#include <stdio.h>

static struct pool *tpool;

static inline int setup_pool(void **state)
{
	(void)state;
	tpool = pool_create(0);
	return 0;
}

static inline int teardown_pool(void **state)
{
	(void)state;
	pool_destroy(&tpool);
	return 0;
}

/* Writes text to path with fopen mode "w" or "a". */
static inline void write_file(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The registry's index of path; fails the test unless it loads. */
static inline const struct passwd_file *get_ok(const char *path, bool userdb)
{
	const struct passwd_file *pf = NULL;
	const char *error = NULL;
	int ret = db_passwd_file_get(path, userdb, false, &pf, &error);
	if (ret != 1)
		fail_msg("db_passwd_file_get(%s): got %d (%s), want 1", path, ret, error ? error : "-");
	return pf;
}

#endif
