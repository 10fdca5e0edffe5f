/* test_base64: common/base64.h: RFC 4648 section 10 vectors both ways,
 * strict decoding rejects (bad characters, missing or extra padding,
 * whitespace), lenient decoding skips whitespace, output limits, and hex
 * encode/decode. The branch-free character mappings are checked over all
 * 256 byte values, and the decoders against libsodium's (the reference
 * they replaced) on generated valid and broken inputs. */
#include "common/base64.h"
#include "common/buf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 4648 section 10 */
static const struct {
	const char *raw;
	const char *b64;
	const char *hex;
} rfc_vectors[] = {
	{ .raw = "", .b64 = "", .hex = "" },
	{ .raw = "f", .b64 = "Zg==", .hex = "66" },
	{ .raw = "fo", .b64 = "Zm8=", .hex = "666f" },
	{ .raw = "foo", .b64 = "Zm9v", .hex = "666f6f" },
	{ .raw = "foob", .b64 = "Zm9vYg==", .hex = "666f6f62" },
	{ .raw = "fooba", .b64 = "Zm9vYmE=", .hex = "666f6f6261" },
	{ .raw = "foobar", .b64 = "Zm9vYmFy", .hex = "666f6f626172" },
};

static bool buf_equals(const struct buf *b, const void *want, size_t want_len)
{
	return b->len == want_len && (want_len == 0 || memcmp(b->data, want, want_len) == 0);
}

static void test_rfc4648_vectors(void **state)
{
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(rfc_vectors); i++) {
		const char *raw = rfc_vectors[i].raw, *b64 = rfc_vectors[i].b64;
		struct buf enc = BUF_INIT(64), dec = BUF_INIT(64), dec2 = BUF_INIT(64);
		int r = base64_encode(&enc, (const uint8_t *)raw, strlen(raw));
		if (r != 0 || strcmp(buf_cstr(&enc), b64) != 0) {
			print_error("encode \"%s\": got %d \"%s\", want \"%s\"\n", raw, r,
				    buf_cstr(&enc), b64);
			ok = false;
		}
		r = base64_decode(&dec, (const uint8_t *)b64, strlen(b64));
		if (r != 1 || !buf_equals(&dec, raw, strlen(raw))) {
			print_error("decode \"%s\": got %d \"%s\", want 1 \"%s\"\n", b64, r,
				    buf_cstr(&dec), raw);
			ok = false;
		}
		r = base64_decode_lenient(&dec2, (const uint8_t *)b64, strlen(b64));
		if (r != 1 || !buf_equals(&dec2, raw, strlen(raw))) {
			print_error("lenient decode \"%s\": got %d \"%s\", want 1 \"%s\"\n", b64, r,
				    buf_cstr(&dec2), raw);
			ok = false;
		}
		buf_free(&enc);
		buf_free(&dec);
		buf_free(&dec2);
	}
	if (!ok)
		fail();
}

struct decode_case {
	const char *name;
	const char *in;
	size_t in_len;          /* 0: strlen(in) */
	int want_strict;        /* base64_decode result */
	int want_lenient;       /* base64_decode_lenient result */
	const char *want;       /* decoded bytes when accepted */
	size_t want_len;        /* 0: strlen(want) */
};

static void test_decode_rules(void **state)
{
	static const struct decode_case cases[] = {
		{ .name = "bad char !", .in = "Zm9v!", .want_strict = 0, .want_lenient = 0 },
		{ .name = "bad chars @@@@", .in = "@@@@", .want_strict = 0, .want_lenient = 0 },
		{ .name = "url-safe alphabet -", .in = "-_-_", .want_strict = 0, .want_lenient = 0 },
		{ .name = "missing padding 1", .in = "Zg", .want_strict = 0, .want_lenient = 0 },
		{ .name = "missing padding 2", .in = "Zm8", .want_strict = 0, .want_lenient = 0 },
		{ .name = "half padding", .in = "Zg=", .want_strict = 0, .want_lenient = 0 },
		{ .name = "extra padding", .in = "Zm9v====", .want_strict = 0, .want_lenient = 0 },
		{ .name = "too much padding", .in = "Zg===", .want_strict = 0, .want_lenient = 0 },
		{ .name = "data after padding", .in = "Zg==Zg==", .want_strict = 0,
		  .want_lenient = 0 },
		{ .name = "lone =", .in = "=", .want_strict = 0, .want_lenient = 0 },
		{ .name = "single char", .in = "Z", .want_strict = 0, .want_lenient = 0 },
		{ .name = "trailing LF", .in = "Zm9v\n", .want_strict = 0, .want_lenient = 1,
		  .want = "foo" },
		{ .name = "leading space", .in = " Zm9v", .want_strict = 0, .want_lenient = 1,
		  .want = "foo" },
		{ .name = "space inside", .in = "Zm 9v", .want_strict = 0, .want_lenient = 1,
		  .want = "foo" },
		{ .name = "tab and CRLF inside", .in = "Zm9v\tYm\r\nFy", .want_strict = 0,
		  .want_lenient = 1, .want = "foobar" },
		{ .name = "space before padding", .in = "Zg =\n=", .want_strict = 0,
		  .want_lenient = 1, .want = "f" },
		{ .name = "only whitespace", .in = " \n", .want_strict = 0, .want_lenient = 1,
		  .want = "" },
		{ .name = "NUL byte", .in = "Zm9v\0", .in_len = 5, .want_strict = 0, .want_lenient = 0 },
		{ .name = "8-bit byte (libsodium 1.0.18 took it as a digit)", .in = "QQQ\x80",
		  .want_strict = 0, .want_lenient = 0 },
		{ .name = "8-bit bytes in a full group", .in = "00f\xbb\xc8\x99\xc7" "0",
		  .want_strict = 0, .want_lenient = 0 },
		{ .name = "0xff", .in = "Zm9v\xff\xff==", .want_strict = 0, .want_lenient = 0 },
		{ .name = "vertical tab not whitespace", .in = "Zm9v\v", .want_strict = 0,
		  .want_lenient = 0 },
		{ .name = "PLAIN message", .in = "AGFsaWNlAGFsaWNlcHc=", .want_strict = 1,
		  .want_lenient = 1, .want = "\0alice\0alicepw", .want_len = 14 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct decode_case *c = &cases[i];
		size_t len = c->in_len != 0 ? c->in_len : strlen(c->in);
		size_t want_len = c->want == NULL ? 0 :
				  c->want_len != 0 ? c->want_len : strlen(c->want);
		for (int lenient = 0; lenient <= 1; lenient++) {
			/* a prefix already in out must survive both outcomes */
			struct buf out = BUF_INIT(256);
			buf_append_str(&out, "pre:");
			int want = lenient ? c->want_lenient : c->want_strict;
			int got = lenient ? base64_decode_lenient(&out, (const uint8_t *)c->in, len) :
					    base64_decode(&out, (const uint8_t *)c->in, len);
			bool content_ok = out.len >= 4 && memcmp(out.data, "pre:", 4) == 0 &&
					  (want == 1 ? out.len == 4 + want_len &&
						       memcmp(out.data + 4, c->want, want_len) == 0 :
						       out.len == 4);
			if (got != want || !content_ok) {
				print_error("%s (%s): got %d len %zu, want %d len %zu\n", c->name,
					    lenient ? "lenient" : "strict", got, out.len, want,
					    4 + (want == 1 ? want_len : 0));
				ok = false;
			}
			buf_free(&out);
		}
	}
	if (!ok)
		fail();
}

static void test_decode_limit(void **state)
{
	/* "foobar" is 6 bytes: a limit of 5 is -1 and leaves out unchanged */
	struct buf out = BUF_INIT(5);
	(void)state;
	assert_int_equal(base64_decode(&out, (const uint8_t *)"Zm9vYmFy", 8), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(base64_decode(&out, (const uint8_t *)"Zm9vYmE=", 8), 1);
	assert_int_equal(out.len, 5);
	buf_free(&out);
}

static void test_encode_limit(void **state)
{
	struct buf out = BUF_INIT(7);
	(void)state;
	assert_int_equal(base64_encode(&out, (const uint8_t *)"foobar", 6), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(base64_encode(&out, (const uint8_t *)"foob", 4), -1);
	assert_int_equal(base64_encode(&out, (const uint8_t *)"foo", 3), 0);
	assert_string_equal(buf_cstr(&out), "Zm9v");
	buf_free(&out);
}

static void test_round_trip_binary(void **state)
{
	uint8_t raw[300];
	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(255 - i * 13);
	for (size_t len = 0; len <= sizeof(raw); len += (len < 40 ? 1 : 37)) {
		struct buf enc = BUF_INIT(0), dec = BUF_INIT(0);
		assert_int_equal(base64_encode(&enc, raw, len), 0);
		assert_int_equal(enc.len, (len + 2) / 3 * 4);
		int r = base64_decode(&dec, enc.data != NULL ? enc.data : (const uint8_t *)"", enc.len);
		if (r != 1 || !buf_equals(&dec, raw, len)) {
			print_error("round trip len %zu: got %d len %zu\n", len, r, dec.len);
			fail();
		}
		buf_free(&enc);
		buf_free(&dec);
	}
}

static void test_hex_vectors(void **state)
{
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(rfc_vectors); i++) {
		const char *raw = rfc_vectors[i].raw, *hex = rfc_vectors[i].hex;
		struct buf enc = BUF_INIT(64), dec = BUF_INIT(64);
		int r = hex_encode(&enc, (const uint8_t *)raw, strlen(raw));
		if (r != 0 || strcmp(buf_cstr(&enc), hex) != 0) {
			print_error("hex encode \"%s\": got %d \"%s\", want \"%s\"\n", raw, r,
				    buf_cstr(&enc), hex);
			ok = false;
		}
		r = hex_decode(&dec, (const uint8_t *)hex, strlen(hex));
		if (r != 1 || !buf_equals(&dec, raw, strlen(raw))) {
			print_error("hex decode \"%s\": got %d \"%s\", want \"%s\"\n", hex, r,
				    buf_cstr(&dec), raw);
			ok = false;
		}
		buf_free(&enc);
		buf_free(&dec);
	}
	if (!ok)
		fail();
}

struct hex_case {
	const char *name;
	const char *in;
	int want_ret;
	const char *want;   /* decoded, for want_ret == 1 */
	size_t want_len;
};

static void test_hex_decode_rules(void **state)
{
	static const struct hex_case cases[] = {
		{ .name = "lower", .in = "00ff7f80", .want_ret = 1, .want = "\x00\xff\x7f\x80",
		  .want_len = 4 },
		{ .name = "upper", .in = "00FF7F80", .want_ret = 1, .want = "\x00\xff\x7f\x80",
		  .want_len = 4 },
		{ .name = "mixed", .in = "aBcD", .want_ret = 1, .want = "\xab\xcd", .want_len = 2 },
		{ .name = "empty", .in = "", .want_ret = 1, .want = "", .want_len = 0 },
		{ .name = "odd length", .in = "abc", .want_ret = 0 },
		{ .name = "bad char g", .in = "0g", .want_ret = 0 },
		{ .name = "bad char late", .in = "0011223x", .want_ret = 0 },
		{ .name = "space", .in = "00 1", .want_ret = 0 },
		{ .name = "0x prefix", .in = "0x00", .want_ret = 0 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct hex_case *c = &cases[i];
		struct buf out = BUF_INIT(64);
		buf_append_str(&out, "pre");
		int r = hex_decode(&out, (const uint8_t *)c->in, strlen(c->in));
		size_t want_len = 3 + (c->want_ret == 1 ? c->want_len : 0);
		if (r != c->want_ret || out.len != want_len || memcmp(out.data, "pre", 3) != 0 ||
		    (c->want_ret == 1 && memcmp(out.data + 3, c->want, c->want_len) != 0) ||
		    out.data[out.len] != '\0') {
			print_error("%s: got %d len %zu, want %d len %zu\n", c->name, r, out.len,
				    c->want_ret, want_len);
			ok = false;
		}
		buf_free(&out);
	}
	if (!ok)
		fail();
}

static void test_hex_encode_all_bytes(void **state)
{
	uint8_t all[256];
	struct buf enc = BUF_INIT(0), dec = BUF_INIT(0);
	(void)state;
	for (size_t i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(hex_encode(&enc, all, sizeof(all)), 0);
	assert_int_equal(enc.len, 512);
	for (size_t i = 0; i < 256; i++) {
		char want[3];
		snprintf(want, sizeof(want), "%02zx", i);
		if (memcmp(enc.data + 2 * i, want, 2) != 0)
			fail_msg("hex of byte %zu: got %.2s, want %s", i, enc.data + 2 * i, want);
	}
	for (size_t off = 0; off < 24; off++) {   /* every offset/length mix of block and tail */
		char str[2 * 24 + 1];
		hex_encode_str(str, all + off, 24 - off);
		assert_int_equal(strlen(str), 2 * (24 - off));
		assert_memory_equal(str, enc.data + 2 * off, 2 * (24 - off));
	}
	assert_memory_equal(enc.data, "000102", 6);
	assert_memory_equal(enc.data + 506, "fdfeff", 6);
	assert_int_equal(hex_decode(&dec, enc.data, enc.len), 1);
	assert_true(buf_equals(&dec, all, sizeof(all)));
	buf_free(&enc);
	buf_free(&dec);
}

static void test_hex_limit(void **state)
{
	struct buf out = BUF_INIT(3);
	(void)state;
	assert_int_equal(hex_encode(&out, (const uint8_t *)"ab", 2), -1);
	buf_reset(&out);
	assert_int_equal(hex_decode(&out, (const uint8_t *)"01020304", 8), -1);
	buf_free(&out);
}

/* Every byte value in every position of a 16-character block (the
 * decoder's vector width) and of a lone group: accepted exactly when it is
 * in the alphabet, and decoded to its index. */
static void test_base64_all_bytes(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	bool ok = true;
	(void)state;
	for (unsigned int c = 0; c < 256; c++) {
		const char *at = c != 0 ? memchr(alphabet, (int)c, 64) : NULL;
		for (size_t len = 4; len <= 16; len += 12) {
			for (size_t pos = 0; pos < len; pos++) {
				uint8_t in[16];
				memset(in, 'A', sizeof(in));
				in[pos] = (uint8_t)c;
				/* "AAA=" is the padded form of two zero bytes */
				bool padded = c == '=' && pos == len - 1;
				int want = at != NULL || padded ? 1 : 0;
				uint8_t want_bytes[12] = { 0 };
				uint32_t v = at != NULL ? (uint32_t)(at - alphabet) << (6 * (3 - pos % 4)) : 0;
				want_bytes[3 * (pos / 4)] = (uint8_t)(v >> 16);
				want_bytes[3 * (pos / 4) + 1] = (uint8_t)(v >> 8);
				want_bytes[3 * (pos / 4) + 2] = (uint8_t)v;
				size_t want_len = len / 4 * 3 - (padded ? 1 : 0);
				struct buf out = BUF_INIT(16);
				int got = base64_decode(&out, in, len);
				if (got != want || (want == 1 && !buf_equals(&out, want_bytes, want_len)) ||
				    (want == 0 && out.len != 0)) {
					print_error("byte 0x%02x at %zu of %zu: got %d len %zu, want %d\n",
						    c, pos, len, got, out.len, want);
					ok = false;
				}
				buf_free(&out);
			}
		}
	}
	for (unsigned int x = 0; x < 64; x++) {
		uint8_t raw[3] = { (uint8_t)(x << 2), 0, 0 };
		char enc[BASE64_ENCODED_LEN(3) + 1];
		base64_encode_str(enc, raw, sizeof(raw));
		if (enc[0] != alphabet[x]) {
			print_error("encode index %u: got '%c', want '%c'\n", x, enc[0], alphabet[x]);
			ok = false;
		}
	}
	if (!ok)
		fail();
}

/* Non-canonical final groups (unused bits set) are refused, as libsodium
 * does. */
static void test_base64_canonical(void **state)
{
	static const struct decode_case cases[] = {
		{ .name = "Zh== (bits left)", .in = "Zh==", .want_strict = 0 },
		{ .name = "Zm9=", .in = "Zm9=", .want_strict = 0 },
		{ .name = "Zm8=", .in = "Zm8=", .want_strict = 1, .want = "fo" },
		{ .name = "Zg==", .in = "Zg==", .want_strict = 1, .want = "f" },
		{ .name = "=== only", .in = "====", .want_strict = 0 },
		{ .name = "pad in the middle", .in = "Zg=a", .want_strict = 0 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct buf out = BUF_INIT(16);
		int got = base64_decode(&out, (const uint8_t *)cases[i].in, strlen(cases[i].in));
		const char *want = cases[i].want != NULL ? cases[i].want : "";
		if (got != cases[i].want_strict || !buf_equals(&out, want, got == 1 ? strlen(want) : 0)) {
			print_error("%s: got %d len %zu, want %d\n", cases[i].name, got, out.len,
				    cases[i].want_strict);
			ok = false;
		}
		buf_free(&out);
	}
	if (!ok)
		fail();
}

/* The reference: libsodium's decoder with the rules base64.c had before
 * (NUL and 8-bit bytes refused up front; the whole input consumed). */
static int sodium_decode(const uint8_t *in, size_t len, const char *ignore, uint8_t *bin,
			 size_t max, size_t *bin_len)
{
	*bin_len = 0;
	if (len == 0)
		return 1;
	for (size_t i = 0; i < len; i++)
		if (in[i] == '\0' || in[i] >= 0x80)
			return 0;
	const char *end = NULL;
	return sodium_base642bin(bin, max, (const char *)in, len, ignore, bin_len, &end,
				 sodium_base64_VARIANT_ORIGINAL) == 0 && end == (const char *)in + len;
}

/* Random bytes encoded as libsodium encodes them; then one random change
 * to the encoding (replace, insert or delete a byte, biased towards '=',
 * whitespace and alphabet edges): our decoding must be libsodium's. */
static void test_base64_vs_libsodium(void **state)
{
	static const uint8_t picks[] = { '=', ' ', '\n', '\t', '\r', 'A', 'Z', 'a', 'z', '0',
					 '9', '+', '/', '-', '_', '@', '[', '`', '{', 0, 0x80, 0xff };
	uint8_t raw[64], enc[128], bin[128];
	bool ok = true;
	(void)state;
	assert_true(sodium_init() >= 0);
	for (unsigned int iter = 0; iter < 20000 && ok; iter++) {
		size_t raw_len = randombytes_uniform(sizeof(raw) + 1);
		randombytes_buf(raw, raw_len);
		char tmp[BASE64_ENCODED_LEN(sizeof(raw)) + 1], ref[sizeof(tmp)];
		base64_encode_str(tmp, raw, raw_len);
		sodium_bin2base64(ref, sizeof(ref), raw, raw_len, sodium_base64_VARIANT_ORIGINAL);
		if (strcmp(tmp, ref) != 0) {
			print_error("encode %zu bytes: got \"%s\", libsodium \"%s\"\n", raw_len, tmp, ref);
			ok = false;
		}
		size_t len = strlen(tmp);
		memcpy(enc, tmp, len);
		uint32_t what = randombytes_uniform(4), at = randombytes_uniform((uint32_t)len + 1);
		uint8_t ch = randombytes_uniform(2) ? picks[randombytes_uniform(sizeof(picks))] :
			     (uint8_t)randombytes_uniform(256);
		if (what == 1 && at < len) {
			enc[at] = ch;
		} else if (what == 2) {
			memmove(enc + at + 1, enc + at, len - at);
			enc[at] = ch;
			len++;
		} else if (what == 3 && at < len) {
			memmove(enc + at, enc + at + 1, len - at - 1);
			len--;
		}
		for (int lenient = 0; lenient <= 1; lenient++) {
			size_t want_len;
			int want = sodium_decode(enc, len, lenient ? " \t\r\n" : NULL, bin,
						 sizeof(bin), &want_len);
			struct buf out = BUF_INIT(0);
			int got = lenient ? base64_decode_lenient(&out, enc, len) :
					    base64_decode(&out, enc, len);
			if (got != want || !buf_equals(&out, bin, want == 1 ? want_len : 0)) {
				print_error("\"%.*s\" (%s): got %d len %zu, libsodium %d len %zu\n",
					    (int)len, (const char *)enc, lenient ? "lenient" : "strict",
					    got, out.len, want, want_len);
				ok = false;
			}
			buf_free(&out);
		}
	}
	if (!ok)
		fail();
}

/* A failed append leaves out as it was; invalid input beyond the limit is
 * still "invalid" (0), not "limit" (-1). */
static void test_decode_limit_rollback(void **state)
{
	uint8_t raw[600];
	struct buf enc = BUF_INIT(0);
	(void)state;
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i * 7);
	assert_int_equal(base64_encode(&enc, raw, sizeof(raw)), 0);
	struct buf out = BUF_INIT(300);
	assert_int_equal(buf_append_str(&out, "pre"), 0);
	assert_int_equal(base64_decode(&out, enc.data, enc.len), -1);
	assert_int_equal(out.len, 3);
	assert_int_equal(out.data[3], '\0');
	enc.data[enc.len - 5] = '!';
	assert_int_equal(base64_decode(&out, enc.data, enc.len), 0);
	assert_int_equal(out.len, 3);
	struct buf hex = BUF_INIT(0);
	assert_int_equal(hex_encode(&hex, raw, sizeof(raw)), 0);
	assert_int_equal(hex_decode(&out, hex.data, hex.len), -1);
	assert_int_equal(out.len, 3);
	hex.data[hex.len - 1] = 'g';
	assert_int_equal(hex_decode(&out, hex.data, hex.len), 0);
	assert_int_equal(out.len, 3);
	assert_int_equal(hex_encode(&out, raw, sizeof(raw)), -1);
	assert_int_equal(out.len, 3);
	assert_int_equal(base64_encode(&out, raw, sizeof(raw)), -1);
	assert_int_equal(out.len, 3);
	buf_free(&hex);
	buf_free(&out);
	buf_free(&enc);
}

/* Every byte value as a hex digit in every position of a lone pair and of
 * a 16-digit block (the decoder's vector width); hex_is_lower and
 * hex_encode_str on every byte value. */
static void test_hex_all_bytes(void **state)
{
	bool ok = true;
	(void)state;
	for (unsigned int c = 0; c < 256; c++) {
		int want_v = c >= '0' && c <= '9' ? (int)c - '0' :
			     c >= 'a' && c <= 'f' ? (int)c - 'a' + 10 :
			     c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
		for (size_t len = 2; len <= 16; len += 14) {
			for (size_t pos = 0; pos < len; pos++) {
				uint8_t in[16];
				memset(in, '0', sizeof(in));
				in[pos] = (uint8_t)c;
				uint8_t want_bytes[8] = { 0 };
				if (want_v >= 0)
					want_bytes[pos / 2] = (uint8_t)(pos % 2 == 0 ? want_v << 4 : want_v);
				struct buf out = BUF_INIT(16);
				int got = hex_decode(&out, in, len);
				if (got != (want_v >= 0 ? 1 : 0) ||
				    (got == 1 && !buf_equals(&out, want_bytes, len / 2)) ||
				    (got == 0 && out.len != 0)) {
					print_error("hex byte 0x%02x at %zu of %zu: got %d, want value %d\n",
						    c, pos, len, got, want_v);
					ok = false;
				}
				buf_free(&out);
				bool lower = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
				if (hex_is_lower(in, len) != lower || hex_is_valid(in, len) != (want_v >= 0)) {
					print_error("hex_is_lower/valid byte 0x%02x at %zu of %zu: got %d/%d\n",
						    c, pos, len, hex_is_lower(in, len), hex_is_valid(in, len));
					ok = false;
				}
			}
		}
		uint8_t b = (uint8_t)c;
		char str[3], want[3];
		hex_encode_str(str, &b, 1);
		snprintf(want, sizeof(want), "%02x", c);
		if (strcmp(str, want) != 0) {
			print_error("hex_encode_str 0x%02x: got \"%s\", want \"%s\"\n", c, str, want);
			ok = false;
		}
	}
	if (!ok)
		fail();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_decode_rules),
		cmocka_unit_test(test_decode_limit),
		cmocka_unit_test(test_encode_limit),
		cmocka_unit_test(test_round_trip_binary),
		cmocka_unit_test(test_hex_vectors),
		cmocka_unit_test(test_hex_decode_rules),
		cmocka_unit_test(test_hex_encode_all_bytes),
		cmocka_unit_test(test_hex_limit),
		cmocka_unit_test(test_base64_all_bytes),
		cmocka_unit_test(test_base64_canonical),
		cmocka_unit_test(test_base64_vs_libsodium),
		cmocka_unit_test(test_decode_limit_rollback),
		cmocka_unit_test(test_hex_all_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
