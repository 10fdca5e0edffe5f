#include "common/buf.h"
#include "common/secret.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t buf_limit(const struct buf *b)
{
	return b->limit != 0 ? b->limit : BUF_DEFAULT_LIMIT;
}

/* Grows the storage to hold at least need bytes plus the NUL. Growing
 * copies into fresh memory and wipes the old block, so no stale copy of a
 * secret is left in freed memory. */
static int buf_reserve(struct buf *b, size_t need)
{
	if (need < b->cap)
		return 0;
	size_t cap = b->cap != 0 ? b->cap : 64;
	while (cap <= need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	uint8_t *p = malloc(cap);
	if (p == NULL)
		return -1;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		secret_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	uint8_t *p = buf_append_space(b, len);
	if (p == NULL)
		return -1;
	if (len > 0)
		memcpy(p, data, len);
	return 0;
}

uint8_t *buf_append_space(struct buf *b, size_t n)
{
	if (n > buf_limit(b) || b->len > buf_limit(b) - n)
		return NULL;
	if (buf_reserve(b, b->len + n) < 0)
		return NULL;
	uint8_t *p = b->data + b->len;
	b->len += n;
	b->data[b->len] = '\0';
	return p;
}

void buf_truncate(struct buf *b, size_t len)
{
	if (b->data == NULL || len >= b->len)
		return;
	secret_wipe(b->data + len, b->len - len);
	b->len = len;
	b->data[len] = '\0';
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_append_uint(struct buf *b, uint64_t v)
{
	char digits[20];   /* UINT64_MAX has 20 */
	size_t i = sizeof(digits);
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return buf_append(b, digits + i, sizeof(digits) - i);
}

int buf_append_byte(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (big == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int ret = buf_append(b, big, (size_t)n);
	free(big);
	return ret;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	secret_wipe(b->data + b->len, n);
	b->data[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		secret_wipe(b->data, b->len);
		b->data[0] = '\0';
	}
	b->len = 0;
}

const char *buf_cstr(const struct buf *b)
{
	return b->data != NULL ? (const char *)b->data : "";
}

void buf_free(struct buf *b)
{
	if (b->data != NULL) {
		secret_wipe(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
