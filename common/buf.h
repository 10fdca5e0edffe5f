/* buf: a growable byte buffer with a hard size limit.
 *
 * Every buffer that holds peer-controlled data has a limit; appends that
 * would cross it fail instead of growing. The contents are always followed
 * by a NUL byte (not counted in len) so text can be passed to C APIs after
 * it has been validated. buf_free() wipes the memory before freeing it, so
 * a buffer may hold secrets. */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;   /* NULL until the first append; NUL-terminated after */
	size_t len;
	size_t cap;
	size_t limit;    /* maximum len; 0 means BUF_DEFAULT_LIMIT */
};

#define BUF_DEFAULT_LIMIT (16u * 1024u * 1024u)

/* A buffer with the given limit and no storage yet. */
#define BUF_INIT(lim) { .data = NULL, .len = 0, .cap = 0, .limit = (lim) }

/* Appends len bytes. Returns 0, or -1 when the limit would be crossed or
 * memory is exhausted (the buffer is then unchanged). */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_append_byte(struct buf *b, uint8_t c);
/* Grows the contents by n bytes (uninitialised, still NUL-terminated after)
 * for the caller to fill in place. Returns the first of them, or NULL as
 * buf_append fails (buffer unchanged). */
uint8_t *buf_append_space(struct buf *b, size_t n);
/* Shrinks the contents back to len (<= b->len), wiping what is dropped. */
void buf_truncate(struct buf *b, size_t len);
/* Appends v in decimal (no printf on the reply path); 0 or -1 as buf_append. */
int buf_append_uint(struct buf *b, uint64_t v);
/* printf-style append; returns 0 or -1 as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Removes the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Empties the buffer, wiping the old contents; keeps the storage. */
void buf_reset(struct buf *b);
/* Returns the contents as a C string ("" when empty). Owned by b. */
const char *buf_cstr(const struct buf *b);
/* Wipes and frees the storage; the buffer can be reused afterwards. */
void buf_free(struct buf *b);

#endif
