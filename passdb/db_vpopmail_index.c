/* db_vpopmail_index: a text vpasswd or assign file as an immutable index
 * of its valid lines, sorted by key and then by position, so a binary
 * search finds the first occurrence of a key (vpopmail's and qmail's
 * "first entry wins"). Sorting instead of hashing: no hash flooding from a
 * crafted file, O(log n) lookups, one allocation for the whole index. */
#include "passdb/db_vpopmail.h"
#include "common/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_LOG_MAX 10u           /* problems logged per file, then a count */
#define TEXT_LINES_START 256u
#define TEXT_MSG_MAX 160u

struct text_line {
	uint32_t key_off, key_len;
	uint32_t line_off, line_len;
};

struct vpopmail_text {
	uint8_t *data;
	size_t len;
	struct text_line *lines;
	size_t count, cap;
};

struct text_build {
	struct vpopmail_text *t;
	enum vpopmail_text_kind kind;
	vpopmail_log_fn *log;
	void *log_ctx;
	unsigned int lineno, problems;
};

static void text_problem(struct text_build *b, const char *reason)
{
	if (b->log != NULL && ++b->problems <= TEXT_LOG_MAX)
		b->log(b->log_ctx, b->lineno, reason);
}

static int text_add(struct vpopmail_text *t, size_t key_off, size_t key_len, size_t line_off,
		    size_t line_len)
{
	if (t->count == t->cap) {
		size_t cap = t->cap != 0 ? t->cap * 2 : TEXT_LINES_START;
		if (cap > SIZE_MAX / sizeof(*t->lines))
			return -1;
		struct text_line *n = realloc(t->lines, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		t->lines = n;
		t->cap = cap;
	}
	/* every offset fits: len <= VPOPMAIL_FILE_MAX < 2^32 */
	t->lines[t->count++] = (struct text_line){
		.key_off = (uint32_t)key_off, .key_len = (uint32_t)key_len,
		.line_off = (uint32_t)line_off, .line_len = (uint32_t)line_len,
	};
	return 0;
}

/* One line (without LF/CR). Returns 1 to go on, 0 at assign's end marker,
 * -1 when out of memory. */
static int text_line(struct text_build *b, size_t off, size_t len)
{
	uint8_t *line = b->t->data + off;
	const char *error = NULL;
	if (len > VPOPMAIL_LINE_MAX) {
		text_problem(b, "line too long, skipped");
		return 1;
	}
	if (b->kind == VPOPMAIL_TEXT_VPASSWD) {
		struct vpasswd_entry e;
		if (len == 0)
			return 1;
		if (vpasswd_parse_line(line, len, &e, &error) == 0) {
			text_problem(b, error);
			return 1;
		}
		return text_add(b->t, off, e.name.len, off, len) < 0 ? -1 : 1;
	}
	struct vpopmail_assign a;
	switch (vpopmail_assign_parse_line(line, len, &a, &error)) {
	case VPOPMAIL_ASSIGN_END:
		return 0;
	case VPOPMAIL_ASSIGN_IGNORE:
		return 1;
	case VPOPMAIL_ASSIGN_INVALID:
		text_problem(b, error);
		return 1;
	case VPOPMAIL_ASSIGN_ENTRY:
		break;
	}
	size_t key_off = (size_t)(a.domain.p - b->t->data);
	for (size_t i = 0; i < a.domain.len; i++)   /* keys compare case-insensitively */
		if (line[1 + i] >= 'A' && line[1 + i] <= 'Z')
			line[1 + i] = (uint8_t)(line[1 + i] + ('a' - 'A'));
	return text_add(b->t, key_off, a.domain.len, off, len) < 0 ? -1 : 1;
}

static int text_cmp_key(const struct vpopmail_text *t, const struct text_line *l,
			const void *key, size_t key_len)
{
	size_t n = l->key_len < key_len ? l->key_len : key_len;
	int c = memcmp(t->data + l->key_off, key, n);
	if (c != 0)
		return c;
	return l->key_len < key_len ? -1 : l->key_len > key_len ? 1 : 0;
}

static int text_cmp(const void *a, const void *b, void *ctx)
{
	const struct vpopmail_text *t = ctx;
	const struct text_line *la = a, *lb = b;
	int c = text_cmp_key(t, la, t->data + lb->key_off, lb->key_len);
	if (c != 0)
		return c;
	return la->line_off < lb->line_off ? -1 : la->line_off > lb->line_off ? 1 : 0;
}

/* Walks the lines of t->data. Returns 0 or -1 (out of memory). */
static int text_scan(struct text_build *b)
{
	struct vpopmail_text *t = b->t;
	size_t start = 0;
	while (start < t->len) {
		const uint8_t *lf = memchr(t->data + start, '\n', t->len - start);
		size_t end = lf != NULL ? (size_t)(lf - t->data) : t->len;
		size_t len = end - start;
		b->lineno++;
		if (len > 0 && t->data[end - 1] == '\r')
			len--;
		int ret = 1;
		if (memchr(t->data + start, '\0', len) != NULL)
			text_problem(b, "NUL byte in line, skipped");
		else
			ret = text_line(b, start, len);
		if (ret < 0)
			return -1;
		if (ret == 0)
			break;
		start = end + 1;
	}
	return 0;
}

struct vpopmail_text *vpopmail_text_build(uint8_t *data, size_t len,
					  enum vpopmail_text_kind kind,
					  vpopmail_log_fn *log, void *log_ctx)
{
	struct vpopmail_text *t = NULL;
	if (len <= VPOPMAIL_FILE_MAX)
		t = calloc(1, sizeof(*t));
	if (t == NULL) {
		if (data != NULL)
			secret_wipe(data, len);
		free(data);
		return NULL;
	}
	t->data = data;
	t->len = data != NULL ? len : 0;
	struct text_build b = { .t = t, .kind = kind, .log = log, .log_ctx = log_ctx };
	if (text_scan(&b) < 0) {
		vpopmail_text_free(&t);
		return NULL;
	}
	if (b.problems > TEXT_LOG_MAX && log != NULL) {
		char msg[TEXT_MSG_MAX];
		snprintf(msg, sizeof(msg), "%u more invalid lines not shown",
			 b.problems - TEXT_LOG_MAX);
		log(log_ctx, b.lineno, msg);
	}
	if (t->count > 1)
		qsort_r(t->lines, t->count, sizeof(*t->lines), text_cmp, t);
	return t;
}

void vpopmail_text_free(struct vpopmail_text **tp)
{
	struct vpopmail_text *t = *tp;
	if (t == NULL)
		return;
	if (t->data != NULL)
		secret_wipe(t->data, t->len);
	free(t->data);
	free(t->lines);
	free(t);
	*tp = NULL;
}

int vpopmail_text_find(const struct vpopmail_text *t, const void *key, size_t key_len,
		       const uint8_t **line_r, size_t *len_r)
{
	size_t lo = 0, hi = t->count;
	while (lo < hi) {   /* lower bound: the first line with key >= key */
		size_t mid = lo + (hi - lo) / 2;
		if (text_cmp_key(t, &t->lines[mid], key, key_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->count || text_cmp_key(t, &t->lines[lo], key, key_len) != 0)
		return 0;
	*line_r = t->data + t->lines[lo].line_off;
	*len_r = t->lines[lo].line_len;
	return 1;
}

size_t vpopmail_text_count(const struct vpopmail_text *t)
{
	return t->count;
}
