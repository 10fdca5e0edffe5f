#include "common/base64.h"
#include "common/secret.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int base64_encode(struct buf *out, const uint8_t *in, size_t len)
{
	size_t enc_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *tmp = malloc(enc_len);
	if (tmp == NULL)
		return -1;
	sodium_bin2base64(tmp, enc_len, in, len, sodium_base64_VARIANT_ORIGINAL);
	int ret = buf_append(out, tmp, enc_len - 1);
	secret_wipe(tmp, enc_len);
	free(tmp);
	return ret;
}

static int base64_decode_with(struct buf *out, const uint8_t *in, size_t len,
			      const char *ignore)
{
	if (len == 0)
		return 1;
	/* libsodium (1.0.18) decodes any byte >= 0x80 as a digit, and finds
	 * the ignore set with strchr(), which matches NUL: refuse both. */
	for (size_t i = 0; i < len; i++)
		if (in[i] == '\0' || in[i] >= 0x80)
			return 0;
	size_t max = len / 4 * 3 + 3;
	uint8_t *tmp = malloc(max);
	if (tmp == NULL)
		return -1;
	size_t bin_len = 0;
	const char *end = NULL;
	int ok = sodium_base642bin(tmp, max, (const char *)in, len, ignore,
				   &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
		 end == (const char *)in + len;
	int ret = 0;
	if (ok)
		ret = buf_append(out, tmp, bin_len) < 0 ? -1 : 1;
	secret_wipe(tmp, max);
	free(tmp);
	return ret;
}

int base64_decode(struct buf *out, const uint8_t *in, size_t len)
{
	return base64_decode_with(out, in, len, NULL);
}

int base64_decode_lenient(struct buf *out, const uint8_t *in, size_t len)
{
	return base64_decode_with(out, in, len, " \t\r\n");
}

int hex_encode(struct buf *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		uint8_t pair[2] = { (uint8_t)digits[in[i] >> 4], (uint8_t)digits[in[i] & 15] };
		if (buf_append(out, pair, 2) < 0)
			return -1;
	}
	return 0;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(struct buf *out, const uint8_t *in, size_t len)
{
	if (len % 2 != 0)
		return 0;
	size_t start = out->len;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
		if (hi < 0 || lo < 0) {
			secret_wipe(out->data + start, out->len - start);
			out->len = start;
			if (out->data != NULL)
				out->data[start] = '\0';
			return 0;
		}
		if (buf_append_byte(out, (uint8_t)(hi << 4 | lo)) < 0)
			return -1;
	}
	return 1;
}
