/* base64: the base64 half of common/base64.h (hex is in hex.c). Constant
 * time in the data: 16 characters (12 bytes) per vector block
 * (codec_private.h); a last partial block goes through the same code,
 * padded in a stack buffer. The scalar mappings (no vectors, and the one
 * character whose unused bits are checked) rely on >> of a negative int
 * being an arithmetic shift (gcc and clang define it so); test_base64
 * checks every byte value in every position, and both directions against
 * libsodium. */
#include "common/base64.h"
#include "common/codec_private.h"

#include <stdlib.h>
#include <string.h>

#define B64_BLOCK_IN 12u    /* bytes per block */
#define B64_BLOCK_OUT 16u   /* characters per block */
#define B64_CHUNK_BLOCKS (CODEC_CHUNK / B64_BLOCK_IN)

/* A character -> 0..63, or -1 for anything outside the alphabet. */
static inline int b64_value(uint8_t c)
{
	int ch = c, ret = -1;
	ret += (((0x40 - ch) & (ch - 0x5b)) >> 8) & (ch - 64);   /* A-Z */
	ret += (((0x60 - ch) & (ch - 0x7b)) >> 8) & (ch - 70);   /* a-z */
	ret += (((0x2f - ch) & (ch - 0x3a)) >> 8) & (ch + 5);    /* 0-9 */
	ret += (((0x2a - ch) & (ch - 0x2c)) >> 8) & 63;          /* + */
	ret += (((0x2e - ch) & (ch - 0x30)) >> 8) & 64;          /* / */
	return ret;
}

#ifdef CODEC_VECTOR
/* Values of 16 characters; lanes of *bad become non-zero for characters
 * outside the alphabet. */
static inline codec_u8v b64_value_v(codec_u8v c, codec_u8v *bad)
{
	codec_u8v up = (codec_u8v)((c >= 'A') & (c <= 'Z'));
	codec_u8v lo = (codec_u8v)((c >= 'a') & (c <= 'z'));
	codec_u8v di = (codec_u8v)((c >= '0') & (c <= '9'));
	codec_u8v pl = (codec_u8v)(c == '+');
	codec_u8v sl = (codec_u8v)(c == '/');
	*bad |= ~(up | lo | di | pl | sl);
	return (up & (c - 'A')) | (lo & (c - ('a' - 26))) | (di & (c + (52 - '0'))) |
	       (pl & 62) | (sl & 63);
}

/* Decodes blocks of 16 characters into 12 bytes each. True when a
 * character is bad. */
static bool b64_decode_blocks(uint8_t *dst, const uint8_t *in, size_t blocks)
{
	codec_u8v bad = { 0 };
	for (size_t k = 0; k < blocks; k++, in += B64_BLOCK_OUT, dst += B64_BLOCK_IN) {
		codec_u8v c;
		memcpy(&c, in, sizeof(c));
		/* little-endian: lane g holds group g's values a | b<<8 | c<<16 | d<<24 */
		codec_u32v l = (codec_u32v)b64_value_v(c, &bad);
		codec_u32v w = (l & 0x3f) << 18 | ((l >> 8) & 0x3f) << 12 | ((l >> 16) & 0x3f) << 6 |
			       l >> 24;
		for (size_t g = 0; g < 4; g++) {
			dst[3 * g] = (uint8_t)(w[g] >> 16);
			dst[3 * g + 1] = (uint8_t)(w[g] >> 8);
			dst[3 * g + 2] = (uint8_t)w[g];
		}
	}
	return codec_any(bad);
}

/* The characters of 16 values 0..63. */
static inline codec_u8v b64_char_v(codec_u8v x)
{
	codec_u8v c = x + 'A';
	c += (codec_u8v)(x >= 26) & 6;
	c -= (codec_u8v)(x >= 52) & 75;
	c -= (codec_u8v)(x >= 62) & 15;
	c += (codec_u8v)(x >= 63) & 3;
	return c;
}

/* Encodes blocks of 12 bytes into 16 characters each. */
static void b64_encode_blocks(uint8_t *dst, const uint8_t *in, size_t blocks)
{
	for (size_t k = 0; k < blocks; k++, in += B64_BLOCK_IN, dst += B64_BLOCK_OUT) {
		codec_u32v w;
		for (size_t g = 0; g < 4; g++)
			w[g] = (uint32_t)in[3 * g] << 16 | (uint32_t)in[3 * g + 1] << 8 | in[3 * g + 2];
		codec_u32v idx = w >> 18 | ((w >> 12) & 63) << 8 | ((w >> 6) & 63) << 16 |
				 (w & 63) << 24;
		codec_u8v c = b64_char_v((codec_u8v)idx);
		memcpy(dst, &c, sizeof(c));
	}
}
#else
static bool b64_decode_blocks(uint8_t *dst, const uint8_t *in, size_t blocks)
{
	int err = 0;
	for (size_t g = 0; g < 4 * blocks; g++, in += 4, dst += 3) {
		int a = b64_value(in[0]), b = b64_value(in[1]);
		int c = b64_value(in[2]), d = b64_value(in[3]);
		err |= a | b | c | d;
		uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		dst[0] = (uint8_t)(w >> 16);
		dst[1] = (uint8_t)(w >> 8);
		dst[2] = (uint8_t)w;
	}
	return err < 0;
}

/* 0..63 -> its character. */
static inline uint8_t b64_char(unsigned int x)
{
	int v = (int)x, diff = 'A';
	diff += ((25 - v) >> 8) & 6;
	diff -= ((51 - v) >> 8) & 75;
	diff -= ((61 - v) >> 8) & 15;
	diff += ((62 - v) >> 8) & 3;
	return (uint8_t)(v + diff);
}

static void b64_encode_blocks(uint8_t *dst, const uint8_t *in, size_t blocks)
{
	for (size_t g = 0; g < 4 * blocks; g++, in += 3, dst += 4) {
		uint32_t w = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
		dst[0] = b64_char(w >> 18);
		dst[1] = b64_char((w >> 12) & 63);
		dst[2] = b64_char((w >> 6) & 63);
		dst[3] = b64_char(w & 63);
	}
}
#endif

/* Encodes len bytes into dst (BASE64_ENCODED_LEN(len) characters); the
 * last partial block is encoded from a zero-padded copy. */
static size_t b64_encode_part(uint8_t *dst, const uint8_t *in, size_t len)
{
	size_t blocks = len / B64_BLOCK_IN, rest = len % B64_BLOCK_IN;
	b64_encode_blocks(dst, in, blocks);
	dst += B64_BLOCK_OUT * blocks;
	if (rest == 0)
		return B64_BLOCK_OUT * blocks;
	struct {
		uint8_t in[B64_BLOCK_IN], out[B64_BLOCK_OUT];
	} tmp = { .in = { 0 } };
	memcpy(tmp.in, in + B64_BLOCK_IN * blocks, rest);
	b64_encode_blocks(tmp.out, tmp.in, 1);
	size_t n = BASE64_ENCODED_LEN(rest);
	memcpy(dst, tmp.out, n);
	if (rest % 3 != 0) {
		dst[n - 1] = '=';
		if (rest % 3 == 1)
			dst[n - 2] = '=';
	}
	secret_wipe(&tmp, sizeof(tmp));
	return B64_BLOCK_OUT * blocks + n;
}

void base64_encode_str(char *dst, const uint8_t *in, size_t len)
{
	size_t n = b64_encode_part((uint8_t *)dst, in, len);
	dst[n] = '\0';
}

int base64_encode(struct buf *out, const uint8_t *in, size_t len)
{
	if (len > SIZE_MAX / 4u * 3u - 3u || !codec_fits(out, BASE64_ENCODED_LEN(len)))
		return -1;
	uint8_t chunk[BASE64_ENCODED_LEN(CODEC_CHUNK)];
	size_t start = out->len, done = 0;
	int ret = len == 0 ? buf_append(out, "", 0) : 0;
	while (ret == 0 && done < len) {
		size_t n = len - done < CODEC_CHUNK ? len - done : CODEC_CHUNK;
		size_t m = b64_encode_part(chunk, in + done, n);
		ret = buf_append(out, chunk, m);
		done += n;
	}
	/* the first pass wrote the most */
	secret_wipe(chunk, BASE64_ENCODED_LEN(len < CODEC_CHUNK ? len : CODEC_CHUNK));
	if (ret < 0)
		codec_rollback(out, start);
	return ret;
}

/* The last groups (1..4, 4 * groups characters at in, the last group with
 * pad '=' characters) into 3 * groups - pad bytes at dst, through a copy
 * padded with 'A'. The character before the padding must have its unused
 * bits zero (only the canonical form is accepted, as libsodium does).
 * Returns true when invalid. */
static bool b64_decode_tail(uint8_t *dst, const uint8_t *in, size_t groups, size_t pad)
{
	struct {
		uint8_t in[B64_BLOCK_OUT], out[B64_BLOCK_IN];
	} tmp;
	size_t n = 4 * groups;
	int err = 0;
	memset(tmp.in, 'A', sizeof(tmp.in));
	memcpy(tmp.in, in, n);
	if (pad > 0) {
		int v = b64_value(in[n - 1 - pad]);
		err = v | -((v & (pad == 2 ? 15 : 3)) != 0);
		memset(tmp.in + n - pad, 'A', pad);
	}
	bool bad = b64_decode_blocks(tmp.out, tmp.in, 1) || err < 0;
	memcpy(dst, tmp.out, 3 * groups - pad);
	secret_wipe(&tmp, sizeof(tmp));
	return bad;
}

int base64_decode(struct buf *out, const uint8_t *in, size_t len)
{
	if (len == 0)
		return 1;
	if (len % 4 != 0)
		return 0;
	size_t pad = in[len - 1] != '=' ? 0 : in[len - 2] != '=' ? 1 : 2;
	size_t groups = len / 4;
	/* whole blocks, not counting the padded group; the rest is the tail */
	size_t blocks = (groups - (pad > 0)) / 4, tail = groups - 4 * blocks;
	uint8_t chunk[B64_CHUNK_BLOCKS * B64_BLOCK_IN];
	size_t start = out->len, done = 0;
	int ret = 1;   /* 1: fine so far; -1: out is full, still validating */
	while (ret != 0 && done < blocks) {
		size_t n = blocks - done < B64_CHUNK_BLOCKS ? blocks - done : B64_CHUNK_BLOCKS;
		if (b64_decode_blocks(chunk, in + B64_BLOCK_OUT * done, n))
			ret = 0;
		else if (ret == 1 && buf_append(out, chunk, B64_BLOCK_IN * n) < 0)
			ret = -1;
		done += n;
	}
	if (ret != 0 && tail > 0) {
		if (b64_decode_tail(chunk, in + B64_BLOCK_OUT * blocks, tail, pad))
			ret = 0;
		else if (ret == 1 && buf_append(out, chunk, 3 * tail - pad) < 0)
			ret = -1;
	}
	/* the first pass wrote the most */
	size_t used = B64_BLOCK_IN * (blocks < B64_CHUNK_BLOCKS ? blocks : B64_CHUNK_BLOCKS);
	secret_wipe(chunk, used > B64_BLOCK_IN ? used : B64_BLOCK_IN);
	if (ret != 1)
		codec_rollback(out, start);
	return ret;
}

static bool b64_is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int base64_decode_lenient(struct buf *out, const uint8_t *in, size_t len)
{
	size_t i = 0;
	while (i < len && !b64_is_space(in[i]))
		i++;
	if (i == len)
		return base64_decode(out, in, len);
	uint8_t *copy = malloc(len);
	if (copy == NULL)
		return -1;
	size_t n = 0;
	for (i = 0; i < len; i++)
		if (!b64_is_space(in[i]))
			copy[n++] = in[i];
	int ret = base64_decode(out, copy, n);
	secret_wipe(copy, len);
	free(copy);
	return ret;
}
