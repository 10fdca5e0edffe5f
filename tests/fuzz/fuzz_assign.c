/* Fuzz target for passdb/db_vpopmail's assign side and the other small
 * parsers: the input is indexed as a qmail users/assign text (every '+'
 * entry before the "." line must be found again under its lower-cased
 * domain), read as a users/cdb value and a limits file, and split as a
 * login name and checked as a path, whose outputs must respect the path
 * safety rules (no '/', no "..", no control characters). */
#include "passdb/db_vpopmail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ROOT "/home/vpopmail"

static void check_login(const uint8_t *data, size_t size)
{
	struct vpopmail_login l;
	const char *error = NULL;
	if (vpopmail_login_split(data, size, &l, &error) != 1)
		return;
	if (l.user[0] == '\0' || l.user[0] == '.' || strstr(l.user, "..") != NULL ||
	    strstr(l.domain, "..") != NULL || l.domain[0] == '.')
		abort();
	for (const char *p = l.user; *p != '\0'; p++)
		if (*p == '/' || *p == '@' || *p == '%' || (unsigned char)*p <= ' ' ||
		    (*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x7f)
			abort();
	for (const char *p = l.domain; *p != '\0'; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyz0123456789.-", *p) == NULL)
			abort();
}

static void check_path(const uint8_t *data, size_t size)
{
	if (!vpopmail_path_under(FUZZ_ROOT, data, size))
		return;
	if (size <= strlen(FUZZ_ROOT) + 1 || memcmp(data, FUZZ_ROOT "/", strlen(FUZZ_ROOT) + 1) != 0 ||
	    memmem(data, size, "/../", 4) != NULL || memmem(data, size, "//", 2) != NULL ||
	    memmem(data, size, "/./", 3) != NULL || memchr(data, '\0', size) != NULL)
		abort();
	if (size >= 3 && memcmp(data + size - 3, "/..", 3) == 0)
		abort();
}

static void check_assign(const struct vpopmail_text *t, const uint8_t *data, size_t size)
{
	for (size_t start = 0; start < size;) {
		const uint8_t *lf = memchr(data + start, '\n', size - start);
		size_t end = lf != NULL ? (size_t)(lf - data) : size, len = end - start;
		if (len > 0 && data[end - 1] == '\r')
			len--;
		struct vpopmail_assign a;
		const char *error = NULL;
		enum vpopmail_assign_line kind = vpopmail_assign_parse_line(data + start, len, &a, &error);
		if (kind == VPOPMAIL_ASSIGN_END)
			break;
		if (kind == VPOPMAIL_ASSIGN_ENTRY && len <= VPOPMAIL_LINE_MAX &&
		    memchr(data + start, '\0', len) == NULL) {
			char key[VPOPMAIL_DOMAIN_MAX];
			const uint8_t *line;
			size_t llen;
			if (a.domain.len > sizeof(key))
				abort();
			for (size_t i = 0; i < a.domain.len; i++)
				key[i] = (char)(a.domain.p[i] >= 'A' && a.domain.p[i] <= 'Z' ?
						a.domain.p[i] + 32 : a.domain.p[i]);
			if (vpopmail_text_find(t, key, a.domain.len, &line, &llen) != 1)
				abort();
		}
		start = end + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > VPOPMAIL_FILE_MAX)
		return 0;
	uint8_t *copy = malloc(size + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	struct vpopmail_text *t = vpopmail_text_build(copy, size, VPOPMAIL_TEXT_ASSIGN, NULL, NULL);
	if (t == NULL)
		abort();
	check_assign(t, data, size);
	vpopmail_text_free(&t);

	struct vpopmail_assign a;
	const char *error = NULL;
	if (vpopmail_assign_parse_cdb(data, size, &a, &error) == 1 &&
	    (a.dir.len == 0 || a.dir.p[0] != '/'))
		abort();
	(void)vpopmail_limits_parse(data, size);
	check_login(data, size);
	check_path(data, size);
	return 0;
}
