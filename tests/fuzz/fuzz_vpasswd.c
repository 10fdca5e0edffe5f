/* Fuzz target for passdb/db_vpopmail's vpasswd side: the input is a
 * vpasswd image. It is indexed as a text vpasswd; every line that parses
 * must be found again under its name (the first such line wins), each
 * entry's quota goes through the normaliser, and the input's first line is
 * also read as a vpasswd.cdb key/value pair. */
#include "passdb/db_vpopmail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_log(void *ctx, unsigned int line, const char *message)
{
	(void)ctx;
	(void)line;
	for (const char *p = message; *p != '\0'; p++)   /* fixed texts only */
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
}

/* The normaliser's output is "<n>S", "<n>C" or "<n>S,<n>C". */
static void check_quota(const uint8_t *q, size_t len)
{
	char out[VPOPMAIL_QUOTA_OUT_MAX];
	int ret = vpopmail_quota_normalise(q, len, out, sizeof(out));
	if (ret != 1) {
		if (ret != 0 && ret != -1)
			abort();
		return;
	}
	size_t n = strlen(out);
	if (n == 0 || (out[n - 1] != 'S' && out[n - 1] != 'C'))
		abort();
	for (size_t i = 0; i < n; i++)
		if (strchr("0123456789SC,", out[i]) == NULL)
			abort();
}

static void check_line(const struct vpopmail_text *t, const uint8_t *line, size_t len)
{
	struct vpasswd_entry e, found;
	const char *error = NULL;
	if (vpasswd_parse_line(line, len, &e, &error) == 0) {
		if (error == NULL)
			abort();
		return;
	}
	check_quota(e.shell.p, e.shell.len);
	const uint8_t *fl;
	size_t flen;
	if (len > VPOPMAIL_LINE_MAX)
		return;
	if (vpopmail_text_find(t, e.name.p, e.name.len, &fl, &flen) != 1)
		abort();
	if (vpasswd_parse_line(fl, flen, &found, &error) != 1 || found.name.len != e.name.len ||
	    memcmp(found.name.p, e.name.p, e.name.len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > VPOPMAIL_FILE_MAX)
		return 0;
	uint8_t *copy = malloc(size + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	struct vpopmail_text *t = vpopmail_text_build(copy, size, VPOPMAIL_TEXT_VPASSWD, fuzz_log,
						      NULL);
	if (t == NULL)
		abort();
	for (size_t start = 0; start < size;) {
		const uint8_t *lf = memchr(data + start, '\n', size - start);
		size_t end = lf != NULL ? (size_t)(lf - data) : size, len = end - start;
		if (len > 0 && data[end - 1] == '\r')
			len--;
		if (memchr(data + start, '\0', len) == NULL)
			check_line(t, data + start, len);
		start = end + 1;
	}
	/* the first line as a cdb record */
	const uint8_t *colon = memchr(data, ':', size);
	if (colon != NULL) {
		struct vpasswd_entry e;
		const char *error = NULL;
		size_t klen = (size_t)(colon - data);
		(void)vpasswd_parse_cdb(data, klen, colon + 1, size - klen - 1, &e, &error);
	}
	check_quota(data, size < 256 ? size : 256);
	vpopmail_text_free(&t);
	return 0;
}
