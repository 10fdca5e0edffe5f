/* hex: the hex half of common/base64.h. Constant time in the data: vectors
 * 16 digits (8 bytes) at a time (codec_private.h), branch-free arithmetic
 * for the rest. The scalar mappings rely on >> of a negative int being an
 * arithmetic shift (gcc and clang define it so); test_base64 checks every
 * byte value in every position. */
#include "common/base64.h"
#include "common/codec_private.h"

#include <string.h>

static inline uint8_t hex_digit(unsigned int x)
{
	int v = (int)x;
	return (uint8_t)(v + '0' + (((9 - v) >> 8) & ('a' - '0' - 10)));
}

/* A hex digit (either case) -> 0..15, or -1. */
static inline int hex_value(uint8_t c)
{
	int ch = c;
	int num = ch ^ '0';
	int num_ok = (num - 10) >> 8;
	int alpha = (ch & ~32) - ('A' - 10);
	int alpha_ok = ((alpha - 10) ^ (alpha - 16)) >> 8;
	return (num_ok & num) | (alpha_ok & alpha) | ~(num_ok | alpha_ok);
}

#ifdef CODEC_VECTOR
/* Encodes 8 bytes per block into 16 digits. */
static void hex_encode_blocks(uint8_t *dst, const uint8_t *in, size_t blocks)
{
	for (size_t k = 0; k < blocks; k++, in += 8, dst += 16) {
		codec_u8x8 b;
		memcpy(&b, in, sizeof(b));
		codec_u16v w = __builtin_convertvector(b, codec_u16v);
		/* little-endian: the high nibble becomes the first digit */
		codec_u8v x = (codec_u8v)(w >> 4 | (w & 15) << 8);
		x += '0' + ((codec_u8v)(x > 9) & ('a' - '0' - 10));
		memcpy(dst, &x, sizeof(x));
	}
}

/* Lanes non-zero where c is not a hex digit ('A'-'F' allowed unless
 * lower_only). */
static inline codec_u8v hex_bad_v(codec_u8v c, bool lower_only)
{
	codec_u8v lc = lower_only ? c : c | 0x20;
	codec_u8v di = (codec_u8v)((c >= '0') & (c <= '9'));
	codec_u8v al = (codec_u8v)((lc >= 'a') & (lc <= 'f'));
	return ~(di | al);
}

/* Decodes 16 digits per block into 8 bytes; true when a digit is bad. */
static bool hex_decode_blocks(uint8_t *dst, const uint8_t *in, size_t blocks)
{
	codec_u8v bad = { 0 };
	for (size_t k = 0; k < blocks; k++, in += 16, dst += 8) {
		codec_u8v c;
		memcpy(&c, in, sizeof(c));
		codec_u8v lc = c | 0x20;
		codec_u8v di = (codec_u8v)((c >= '0') & (c <= '9'));
		codec_u8v al = (codec_u8v)((lc >= 'a') & (lc <= 'f'));
		bad |= ~(di | al);
		/* little-endian: lane i holds digit 2i in its low byte */
		codec_u16v v = (codec_u16v)((di & (c - '0')) | (al & (lc - ('a' - 10))));
		codec_u16v byte = (v & 0xf) << 4 | v >> 8;
		for (size_t i = 0; i < 8; i++)
			dst[i] = (uint8_t)byte[i];
	}
	return codec_any(bad);
}
#endif

static void hex_encode_part(uint8_t *dst, const uint8_t *in, size_t len)
{
	size_t i = 0;
#ifdef CODEC_VECTOR
	hex_encode_blocks(dst, in, len / 8);
	i = len / 8 * 8;
#endif
	for (; i < len; i++) {
		dst[2 * i] = hex_digit(in[i] >> 4);
		dst[2 * i + 1] = hex_digit(in[i] & 15);
	}
}

void hex_encode_str(char *dst, const uint8_t *in, size_t len)
{
	hex_encode_part((uint8_t *)dst, in, len);
	dst[2 * len] = '\0';
}

int hex_encode(struct buf *out, const uint8_t *in, size_t len)
{
	if (len > SIZE_MAX / 2 || !codec_fits(out, 2 * len))
		return -1;
	uint8_t chunk[2 * CODEC_CHUNK];
	size_t start = out->len, done = 0;
	int ret = 0;
	while (ret == 0 && done < len) {
		size_t n = len - done < CODEC_CHUNK ? len - done : CODEC_CHUNK;
		hex_encode_part(chunk, in + done, n);
		ret = buf_append(out, chunk, 2 * n);
		done += n;
	}
	/* the first pass wrote the most */
	secret_wipe(chunk, 2 * (len < CODEC_CHUNK ? len : CODEC_CHUNK));
	if (ret < 0)
		codec_rollback(out, start);
	return ret;
}

/* Decodes n bytes (2n digits) into dst; negative when a digit is bad. */
static int hex_decode_part(uint8_t *dst, const uint8_t *in, size_t n)
{
	int err = 0;
	size_t i = 0;
#ifdef CODEC_VECTOR
	err = hex_decode_blocks(dst, in, n / 8) ? -1 : 0;
	i = n / 8 * 8;
#endif
	for (; i < n; i++) {
		int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);
		err |= hi | lo;
		dst[i] = (uint8_t)((unsigned int)hi << 4 | (unsigned int)lo);
	}
	return err;
}

int hex_decode(struct buf *out, const uint8_t *in, size_t len)
{
	if (len % 2 != 0)
		return 0;
	uint8_t chunk[CODEC_CHUNK];
	size_t start = out->len, total = len / 2, done = 0;
	int ret = 1;   /* 1: fine so far; -1: out is full, still validating */
	while (ret != 0 && done < total) {
		size_t n = total - done < CODEC_CHUNK ? total - done : CODEC_CHUNK;
		if (hex_decode_part(chunk, in + 2 * done, n) < 0)
			ret = 0;
		else if (ret == 1 && buf_append(out, chunk, n) < 0)
			ret = -1;
		done += n;
	}
	secret_wipe(chunk, total < CODEC_CHUNK ? total : CODEC_CHUNK);
	if (ret != 1)
		codec_rollback(out, start);
	return ret;
}

static bool hex_check(const uint8_t *p, size_t len, bool lower_only)
{
	int bad = 0;
	size_t i = 0;
#ifdef CODEC_VECTOR
	codec_u8v bad_v = { 0 };
	for (; i + 16 <= len; i += 16) {
		codec_u8v c;
		memcpy(&c, p + i, sizeof(c));
		bad_v |= hex_bad_v(c, lower_only);
	}
	bad = codec_any(bad_v) ? -1 : 0;
#endif
	for (; i < len; i++) {
		int c = p[i];
		int num = c - '0', alpha = (lower_only ? c : c | 0x20) - 'a';
		/* negative when c is '0'..'9' or 'a'..'f' */
		int ok = (~num & (num - 10)) | (~alpha & (alpha - 6));
		bad |= ~ok;
	}
	return bad >= 0;
}

bool hex_is_lower(const uint8_t *p, size_t len)
{
	return hex_check(p, len, true);
}

bool hex_is_valid(const uint8_t *p, size_t len)
{
	return hex_check(p, len, false);
}
