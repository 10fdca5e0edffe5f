/* fuzz_codec: base64 (strict and lenient), hex and tab-escaping
 * (common/base64.h, common/tabescape.h) on arbitrary input.
 *
 * Input: the whole input goes through every decoder. Checks: the return
 * conventions (1/0/-1, out untouched on invalid input), strict base64 and
 * hex round trips (decode then encode gives the input back, hex in lower
 * case), lenient decoding equals strict decoding of the input without its
 * whitespace, both decoders give what libsodium's sodium_base642bin gives
 * (the reference base64.c replaced), the output limit is kept,
 * tab_unescape_inplace never grows and tab_escape/unescape is the
 * identity. */
#include "common/base64.h"
#include "common/buf.h"
#include "common/tabescape.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CODEC_MAX 65536u
#define FUZZ_CODEC_SMALL_LIMIT 16u

static bool buf_eq(const struct buf *b, const void *p, size_t len)
{
	return b->len == len && (len == 0 || memcmp(b->data, p, len) == 0);
}

/* out must hold exactly "pre" after a failed decode */
static void check_untouched(const struct buf *out)
{
	if (!buf_eq(out, "pre", 3) || out->data[3] != '\0')
		abort();
}

/* libsodium's answer with the rules base64.c always had: NUL and 8-bit
 * bytes refused, the whole input consumed. Compared with got/out. */
static void check_vs_libsodium(const uint8_t *data, size_t size, const char *ignore, int got,
			       const struct buf *out)
{
	int want = 1;
	size_t bin_len = 0;
	uint8_t *bin = malloc(size / 4 * 3 + 3);
	if (bin == NULL)
		abort();
	for (size_t i = 0; i < size; i++)
		if (data[i] == '\0' || data[i] >= 0x80)
			want = 0;
	if (want == 1 && size > 0) {
		const char *end = NULL;
		want = sodium_base642bin(bin, size / 4 * 3 + 3, (const char *)data, size, ignore,
					 &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) == 0 &&
		       end == (const char *)data + size;
	}
	if (got != want ||
	    (want == 1 && (out->len != 3 + bin_len || memcmp(out->data + 3, bin, bin_len) != 0)))
		abort();
	free(bin);
}

static void fuzz_base64(const uint8_t *data, size_t size)
{
	struct buf strict = BUF_INIT(FUZZ_CODEC_MAX), lenient = BUF_INIT(FUZZ_CODEC_MAX);
	struct buf enc = BUF_INIT(FUZZ_CODEC_MAX * 2), stripped = BUF_INIT(FUZZ_CODEC_MAX);
	buf_append_str(&strict, "pre");
	buf_append_str(&lenient, "pre");
	int rs = base64_decode(&strict, data, size);
	int rl = base64_decode_lenient(&lenient, data, size);
	if (rs < -1 || rs > 1 || rl < -1 || rl > 1)
		abort();
	check_vs_libsodium(data, size, NULL, rs, &strict);
	check_vs_libsodium(data, size, " \t\r\n", rl, &lenient);
	if (rs == 0)
		check_untouched(&strict);
	if (rl == 0)
		check_untouched(&lenient);
	if (rs == 1) {
		/* strict: canonical, so re-encoding gives the input back */
		if (base64_encode(&enc, strict.data + 3, strict.len - 3) != 0 || !buf_eq(&enc, data, size))
			abort();
		/* no whitespace in it: lenient agrees */
		if (rl != 1 || !buf_eq(&lenient, strict.data, strict.len))
			abort();
	}
	/* lenient == strict on the input without " \t\r\n" */
	for (size_t i = 0; i < size; i++)
		if (strchr(" \t\r\n", data[i]) == NULL || data[i] == '\0')
			buf_append_byte(&stripped, data[i]);
	struct buf again = BUF_INIT(FUZZ_CODEC_MAX);
	buf_append_str(&again, "pre");
	int ra = base64_decode(&again, stripped.data != NULL ? stripped.data : (const uint8_t *)"",
			       stripped.len);
	if (ra != rl || (rl == 1 && !buf_eq(&again, lenient.data, lenient.len)))
		abort();
	/* a small limit is kept */
	struct buf small = BUF_INIT(FUZZ_CODEC_SMALL_LIMIT);
	int r = base64_decode(&small, data, size);
	if (small.len > FUZZ_CODEC_SMALL_LIMIT || (r == 1) != (rs == 1 && strict.len - 3 <= FUZZ_CODEC_SMALL_LIMIT))
		abort();
	buf_free(&small);
	buf_free(&again);
	buf_free(&stripped);
	buf_free(&enc);
	buf_free(&strict);
	buf_free(&lenient);
}

static void fuzz_hex(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(FUZZ_CODEC_MAX), enc = BUF_INIT(FUZZ_CODEC_MAX * 2);
	buf_append_str(&out, "pre");
	int r = hex_decode(&out, data, size);
	if (r < -1 || r > 1)
		abort();
	if (r == 0)
		check_untouched(&out);
	if (r == 1) {
		if (out.len - 3 != size / 2 || hex_encode(&enc, out.data + 3, out.len - 3) != 0 ||
		    enc.len != size)
			abort();
		for (size_t i = 0; i < size; i++) {
			uint8_t c = data[i] >= 'A' && data[i] <= 'F' ? (uint8_t)(data[i] + 32) : data[i];
			if (enc.data[i] != c)
				abort();
		}
	}
	buf_free(&out);
	buf_free(&enc);
}

static void fuzz_tab(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size + 1);
	struct buf esc = BUF_INIT(FUZZ_CODEC_MAX * 2 + 2);
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	size_t n = tab_unescape_inplace(copy, size);
	if (n > size)
		abort();
	/* escaping is reversible for any bytes */
	if (tab_escape(&esc, data, size) != 0)
		abort();
	for (size_t i = 0; i < esc.len; i++)
		if (esc.data[i] == '\t' || esc.data[i] == '\n' || esc.data[i] == '\r' || esc.data[i] == 0)
			abort();
	size_t m = tab_unescape_inplace(esc.data != NULL ? esc.data : copy, esc.len);
	if (m != size || (size > 0 && memcmp(esc.data, data, size) != 0))
		abort();
	buf_free(&esc);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_CODEC_MAX)
		return 0;
	fuzz_base64(data, size);
	fuzz_hex(data, size);
	fuzz_tab(data, size);
	return 0;
}
