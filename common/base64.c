/* base64: the base64 half of common/base64.h, on libsodium's constant-time
 * codec (sodium_bin2base64 / sodium_base642bin), writing straight into the
 * caller's buffer: no allocation and no copy of the (secret) bytes. */
#include "common/base64.h"

#include "common/secret.h"

#include <sodium.h>
#include <stdlib.h>

int base64_encode(struct buf *out, const uint8_t *in, size_t len)
{
	size_t enc_len = BASE64_ENCODED_LEN(len);
	uint8_t *dst = buf_append_space(out, enc_len);
	if (dst == NULL)
		return -1;
	/* libsodium writes enc_len + 1 bytes (the NUL): the buffer keeps one
	 * spare byte after its contents for exactly that. */
	sodium_bin2base64((char *)dst, enc_len + 1, in, len, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

void base64_encode_str(char *dst, const uint8_t *in, size_t len)
{
	sodium_bin2base64(dst, BASE64_ENCODED_LEN(len) + 1, in, len,
			  sodium_base64_VARIANT_ORIGINAL);
}

/* libsodium (1.0.18) decodes any byte >= 0x80 as a digit, and finds the
 * ignore set with strchr(), which matches NUL: refuse both first. */
static bool base64_plain_ascii(const uint8_t *in, size_t len)
{
	uint8_t bad = 0;
	for (size_t i = 0; i < len; i++)
		bad |= (uint8_t)((in[i] & 0x80) | (uint8_t)(in[i] == '\0'));
	return bad == 0;
}

/* Decodes into dst (max bytes); true when all of (in, len) was base64. */
static bool base64_decode_into(uint8_t *dst, size_t max, const uint8_t *in, size_t len,
			       const char *ignore, size_t *bin_len_r)
{
	const char *end = NULL;
	*bin_len_r = 0;
	return sodium_base642bin(dst, max, (const char *)in, len, ignore, bin_len_r, &end,
				 sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       end == (const char *)in + len;
}

/* Near out's limit the worst-case room may not fit while the real result
 * does: decode on the side (wiped) and append what came out. */
static int base64_decode_near_limit(struct buf *out, const uint8_t *in, size_t len,
				    const char *ignore, size_t max)
{
	uint8_t *tmp = malloc(max);
	if (tmp == NULL)
		return -1;
	size_t bin_len;
	int ret = 0;
	if (base64_decode_into(tmp, max, in, len, ignore, &bin_len))
		ret = buf_append(out, tmp, bin_len) < 0 ? -1 : 1;
	secret_wipe(tmp, max);
	free(tmp);
	return ret;
}

static int base64_decode_with(struct buf *out, const uint8_t *in, size_t len,
			      const char *ignore)
{
	if (len == 0)
		return 1;
	if (!base64_plain_ascii(in, len))
		return 0;
	size_t start = out->len;
	size_t max = len / 4 * 3 + 3;
	uint8_t *dst = buf_append_space(out, max);
	if (dst == NULL)
		return base64_decode_near_limit(out, in, len, ignore, max);
	size_t bin_len;
	bool ok = base64_decode_into(dst, max, in, len, ignore, &bin_len);
	buf_truncate(out, ok ? start + bin_len : start);
	return ok ? 1 : 0;
}

int base64_decode(struct buf *out, const uint8_t *in, size_t len)
{
	return base64_decode_with(out, in, len, NULL);
}

int base64_decode_lenient(struct buf *out, const uint8_t *in, size_t len)
{
	return base64_decode_with(out, in, len, " \t\r\n");
}
