/* Fuzz target for passdb/db_passwd_file: the input is a passwd-file image.
 * The first byte picks the options (bit 0 userdb, bit 1 single userdb);
 * every entry must then be found again under its own name. */
#include "passdb/db_passwd_file.h"

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
	size_t n = passwd_file_count(pf);
	for (size_t i = 0; i < n; i++) {
		const struct passwd_entry *e = passwd_file_entry(pf, i);
		if (passwd_file_lookup(pf, e->user, strlen(e->user)) != e)
			abort();
		for (size_t k = 0; k < e->extra_count; k++)
			if (e->extra[k][0] == '\0' || strchr(e->extra[k], ' ') != NULL)
				abort();
		if ((e->has_uid && e->uid == 0) || (e->has_gid && e->gid == 0))
			abort();
	}
	if (passwd_file_entry(pf, n) != NULL)
		abort();
	/* Lookups of arbitrary slices of the input. */
	for (size_t i = 0; i + 1 < size && i < 64; i++)
		(void)passwd_file_lookup(pf, (const char *)data + i, size - i < 8 ? size - i : 8);
	passwd_file_free(&pf);
	return 0;
}
