/* codec_private: what base64.c and hex.c share (common/base64.h is the
 * public view): the appending rules and the generic vector types.
 *
 * Vectors: the compiler's generic vectors (gcc and clang) give SSE2 code
 * on x86-64, NEON on arm64 and plain code elsewhere, with no intrinsics and
 * no run-time dispatch. Comparisons yield all-ones or zero lanes, so the
 * vector code has neither branches nor tables on the data. The byte order
 * tricks (reading a vector of bytes as wider lanes) assume little-endian;
 * elsewhere CODEC_VECTOR stays undefined and the scalar code runs. */
#ifndef COMMON_CODEC_PRIVATE_H
#define COMMON_CODEC_PRIVATE_H

#include "common/buf.h"
#include "common/secret.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes decoded or encoded per pass through a stack buffer. */
#define CODEC_CHUNK 192u

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CODEC_VECTOR 1
typedef uint8_t codec_u8x8 __attribute__((vector_size(8)));
typedef uint8_t codec_u8v __attribute__((vector_size(16)));
typedef uint16_t codec_u16v __attribute__((vector_size(16)));
typedef uint32_t codec_u32v __attribute__((vector_size(16)));

/* True when any lane of v is non-zero. */
static inline bool codec_any(codec_u8v v)
{
	codec_u32v w = (codec_u32v)v;
	return (w[0] | w[1] | w[2] | w[3]) != 0;
}
#endif

/* Whether n more bytes fit under b's limit. */
static inline bool codec_fits(const struct buf *b, size_t n)
{
	size_t limit = b->limit != 0 ? b->limit : BUF_DEFAULT_LIMIT;
	return n <= limit && b->len <= limit - n;
}

/* Drops what was appended since start (wiped): the buffer as it was. */
static inline void codec_rollback(struct buf *b, size_t start)
{
	if (b->data == NULL)
		return;
	secret_wipe(b->data + start, b->len - start);
	b->len = start;
	b->data[start] = '\0';
}

#endif
