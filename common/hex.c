/* hex: the hex half of common/base64.h, on libsodium's constant-time
 * sodium_bin2hex / sodium_hex2bin, writing straight into the caller's
 * buffer. The digit checks are branch-free over the bytes. */
#include "common/base64.h"

#include <sodium.h>

int hex_encode(struct buf *out, const uint8_t *in, size_t len)
{
	if (len > SIZE_MAX / 2)
		return -1;
	uint8_t *dst = buf_append_space(out, 2 * len);
	if (dst == NULL)
		return -1;
	/* 2 * len + 1 bytes: the NUL lands on the buffer's spare byte. */
	sodium_bin2hex((char *)dst, 2 * len + 1, in, len);
	return 0;
}

void hex_encode_str(char *dst, const uint8_t *in, size_t len)
{
	sodium_bin2hex(dst, 2 * len + 1, in, len);
}

/* 0xff when lo <= c <= hi, else 0, without a branch on c: c - lo and
 * hi - c wrap around to values with bit 31 set when c is out of range. */
static uint8_t hex_in_range(uint8_t c, uint8_t lo, uint8_t hi)
{
	uint32_t out = (((uint32_t)c - lo) | ((uint32_t)hi - c)) >> 31;
	return (uint8_t)(out - 1u);
}

static bool hex_all(const uint8_t *p, size_t len, bool upper_too)
{
	uint8_t bad = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		uint8_t ok = hex_in_range(c, '0', '9') | hex_in_range(c, 'a', 'f');
		if (upper_too)
			ok |= hex_in_range(c, 'A', 'F');
		bad |= (uint8_t)~ok;
	}
	return bad == 0;
}

bool hex_is_lower(const uint8_t *p, size_t len)
{
	return hex_all(p, len, false);
}

bool hex_is_valid(const uint8_t *p, size_t len)
{
	return hex_all(p, len, true);
}

int hex_decode(struct buf *out, const uint8_t *in, size_t len)
{
	/* libsodium stops at the first non-digit; check all of them first so
	 * that "ab\0cd" or "abcd " is invalid, not a shorter value. */
	if (len % 2 != 0 || !hex_is_valid(in, len))
		return 0;
	size_t start = out->len;
	uint8_t *dst = buf_append_space(out, len / 2);
	if (dst == NULL)
		return -1;
	size_t bin_len = 0;
	const char *end = NULL;
	if (sodium_hex2bin(dst, len / 2, (const char *)in, len, NULL, &bin_len, &end) != 0 ||
	    bin_len != len / 2) {
		buf_truncate(out, start);
		return 0;
	}
	return 1;
}
