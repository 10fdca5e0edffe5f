/* db_passwd_file_read: parsing a passwd-file straight from its file
 * descriptor through one PF_READ_BUF buffer, so that a big file's image is
 * never in memory whole: no page zeroing, copying and wiping of a buffer
 * the size of the file, and the bytes being parsed stay in the CPU cache.
 * Lines are handed to the parser (db_passwd_file.c) once they end in LF; a
 * partial line moves to the front of the buffer for the next read. A line
 * longer than PASSWD_FILE_MAX_LINE is skipped without being buffered, and
 * logged as the whole-image parser logs it. The hash index is sized from
 * the entry lines of the first block, scaled to the file size (it grows if
 * that was short). */
#include "passdb/db_passwd_file.h"
#include "passdb/db_passwd_file_index.h"
#include "common/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PF_READ_BUF (1024u * 1024u)
#define PF_ERROR_MAX 256u

_Static_assert(PF_READ_BUF > 2u * PASSWD_FILE_MAX_LINE, "a line fits the buffer");

struct pf_reader {
	int fd;
	uint8_t *buf;
	size_t have;                 /* bytes in buf */
	uint64_t total;              /* bytes read */
	bool eof;
	bool skipping;               /* inside an over-long line */
	size_t skip_len;             /* its bytes so far */
	bool skip_cr;                /* the last of them is CR */
};

static __thread char pf_read_errbuf[PF_ERROR_MAX];

/* One read() into the free part of the buffer. Returns 0 or -1. */
static int pf_fill(struct pf_reader *r, const char **error_r)
{
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->have, PF_READ_BUF - r->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(pf_read_errbuf, sizeof(pf_read_errbuf), "read() failed: %s",
				 strerror(errno));
			*error_r = pf_read_errbuf;
			return -1;
		}
		r->eof = n == 0;
		r->have += (size_t)n;
		r->total += (uint64_t)n;
		if (r->total <= PASSWD_FILE_MAX_SIZE)
			return 0;
		snprintf(pf_read_errbuf, sizeof(pf_read_errbuf), "larger than %u bytes",
			 PASSWD_FILE_MAX_SIZE);
		*error_r = pf_read_errbuf;
		return -1;
	}
}

/* Entries to size the index for: exact when the first block is the whole
 * file, else its entry lines scaled to the file size (the table is sized
 * for PF_LOAD_PERCENT and grows only past PF_LOAD_MAX_PERCENT, which
 * leaves room for a fifth more entries than estimated). */
static size_t pf_estimate(const struct pf_reader *r, uint64_t size_hint)
{
	size_t lines = passwd_file_count_entry_lines(r->buf, r->have);
	if (r->eof || r->have == 0 || size_hint <= r->have)
		return lines;
	uint64_t est = (uint64_t)lines * size_hint / r->have;
	return est > PASSWD_FILE_MAX_SIZE ? PASSWD_FILE_MAX_SIZE : (size_t)est + 1u;
}

static void pf_consume(struct pf_reader *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->have - n);
	r->have -= n;
}

/* Inside an over-long line: drops bytes up to its LF (logging it then).
 * Returns true when the line ended (or the file did). */
static bool pf_skip(struct pf_reader *r, struct pf_parse *p)
{
	const uint8_t *nl = memchr(r->buf, '\n', r->have);
	size_t n = nl != NULL ? (size_t)(nl - r->buf) : r->have;
	bool cr = n > 0 ? r->buf[n - 1] == '\r' : r->skip_cr;
	r->skip_len += n;
	r->skip_cr = cr;
	pf_consume(r, nl != NULL ? n + 1 : n);
	if (nl == NULL && !r->eof)
		return false;
	/* As the whole-image parser: a CR before the LF is not counted. */
	passwd_file_parse_long_line(p, r->skip_len - (nl != NULL && cr ? 1u : 0u));
	r->skipping = false;
	return true;
}

/* Parses what the buffer holds. Returns 0, or -1 when out of memory. */
static int pf_parse_buffer(struct pf_reader *r, struct pf_parse *p)
{
	if (r->skipping && !pf_skip(r, p))
		return 0;
	ssize_t used = passwd_file_parse_lines(p, r->buf, r->have, r->eof);
	if (used < 0)
		return -1;
	pf_consume(r, (size_t)used);
	/* Longer than the limit even if its last byte is a CR before LF. */
	if (!r->eof && r->have > PASSWD_FILE_MAX_LINE + 1u) {
		r->skipping = true;
		r->skip_len = 0;
		(void)pf_skip(r, p);
	}
	return 0;
}

int passwd_file_read(int fd, uint64_t size_hint, const struct passwd_file_opts *opts,
		     struct passwd_file **pf_r, const char **error_r)
{
	struct pf_reader r = { .fd = fd, .buf = malloc(PF_READ_BUF) };
	struct pf_parse *p = NULL;
	int ret = 0;
	*error_r = "out of memory";
	if (r.buf == NULL)
		return -1;
	while (ret == 0) {
		if (pf_fill(&r, error_r) < 0) {
			ret = -1;
			break;
		}
		if (p == NULL && (p = passwd_file_parse_begin(opts, size_hint > PASSWD_FILE_MAX_SIZE ?
							      0 : (size_t)size_hint,
							      pf_estimate(&r, size_hint))) == NULL)
			ret = -1;
		else if (pf_parse_buffer(&r, p) < 0)
			ret = -1;
		else if (r.eof)
			break;
	}
	secret_wipe(r.buf, PF_READ_BUF);
	free(r.buf);
	if (ret < 0) {
		passwd_file_parse_abort(&p);
		return -1;
	}
	*pf_r = passwd_file_parse_end(&p);
	return *pf_r != NULL ? 0 : -1;
}
