/* Fuzz target for passdb/db_passwd_file: the input is a passwd-file image.
 * The first byte picks the options (bit 0 userdb, bit 1 single userdb);
 * every entry (LIST order) must then be found again under its own name and
 * decode to the same values. */
#include "passdb/db_passwd_file.h"
#include "common/pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_log(void *ctx, const char *path, unsigned int line, const char *message)
{
	size_t *count = ctx;
	(void)path;
	(void)line;
	/* Messages are escaped: no control characters may get through. */
	for (const char *p = message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			abort();
	(*count)++;
}

static bool same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The lookup result must equal the LIST result. */
static void check_same(const struct passwd_entry *a, const struct passwd_entry *b)
{
	if (a->user != b->user || !same_str(a->password, b->password) ||
	    !same_str(a->home, b->home) || a->has_userdb != b->has_userdb ||
	    a->has_uid != b->has_uid || a->has_gid != b->has_gid ||
	    (a->has_uid && a->uid != b->uid) || (a->has_gid && a->gid != b->gid) ||
	    a->extra_count != b->extra_count)
		abort();
	for (size_t k = 0; k < a->extra_count; k++)
		if (!same_str(a->extra[k], b->extra[k]))
			abort();
}

static void check_entry(const struct passwd_file *pf, size_t i, struct pool *pool)
{
	struct passwd_entry e, found;
	if (passwd_file_entry(pf, i, pool, &e) != 1 || passwd_file_user(pf, i) != e.user)
		abort();
	if (passwd_file_lookup(pf, e.user, strlen(e.user), pool, &found) != 1)
		abort();
	check_same(&e, &found);
	for (size_t k = 0; k < e.extra_count; k++)
		if (e.extra[k][0] == '\0' || strchr(e.extra[k], ' ') != NULL)
			abort();
	if ((e.has_uid && e.uid == 0) || (e.has_gid && e.gid == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t logs = 0;
	struct passwd_file_opts opts = {
		.path = "fuzz", .userdb = size > 0 && (data[0] & 1) != 0,
		.single_userdb = size > 0 && (data[0] & 2) != 0, .log = fuzz_log, .log_ctx = &logs,
	};
	struct passwd_file *pf = passwd_file_parse(data, size, &opts);
	if (pf == NULL)
		abort();
	struct pool *pool = pool_create(0);
	struct passwd_entry e;
	size_t n = passwd_file_count(pf);
	for (size_t i = 0; i < n; i++)
		check_entry(pf, i, pool);
	if (passwd_file_entry(pf, n, pool, &e) != 0 || passwd_file_user(pf, n) != NULL)
		abort();
	/* Lookups of arbitrary slices of the input. */
	for (size_t i = 0; i + 1 < size && i < 64; i++)
		(void)passwd_file_lookup(pf, (const char *)data + i, size - i < 8 ? size - i : 8,
					 pool, &e);
	pool_destroy(&pool);
	passwd_file_free(&pf);
	return 0;
}
