/* test_tabescape: Dovecot's field escaping (spec 1.2): every escape code
 * both ways, a round trip of all 256 byte values, the decoder's rules for
 * a lone trailing 0x01 and 0x01 followed by any other byte. */
#include "common/buf.h"
#include "common/tabescape.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Prints bytes as C escapes for got/want messages. */
static const char *show(const uint8_t *p, size_t len, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", p[i]);
	}
	out[o] = '\0';
	return out;
}

struct escape_case {
	const char *name;
	const char *raw;
	size_t raw_len;      /* 0: strlen(raw) */
	const char *esc;
	size_t esc_len;      /* 0: strlen(esc) */
};

/* Each code alone, at both ends and in the middle (spec 1.2 table). */
static const struct escape_case escape_cases[] = {
	{ .name = "plain", .raw = "alice", .esc = "alice" },
	{ .name = "empty", .raw = "", .esc = "" },
	{ .name = "0x01", .raw = "\x01", .esc = "\x01" "1" },
	{ .name = "TAB", .raw = "\t", .esc = "\x01t" },
	{ .name = "CR", .raw = "\r", .esc = "\x01r" },
	{ .name = "LF", .raw = "\n", .esc = "\x01n" },
	{ .name = "NUL", .raw = "\0", .raw_len = 1, .esc = "\x01" "0" },
	{ .name = "reason with TAB and 0x01", .raw = "a\tb\x01" "c", .esc = "a\x01tb\x01" "1c" },
	{ .name = "all codes", .raw = "x\0\x01\t\r\ny", .raw_len = 7,
	  .esc = "x\x01" "0\x01" "1\x01t\x01r\x01ny" },
	{ .name = "backslash not special", .raw = "a\\tb", .esc = "a\\tb" },
	{ .name = "leading and trailing", .raw = "\tmid\n", .esc = "\x01tmid\x01n" },
	{ .name = "doubled", .raw = "\x01\x01", .esc = "\x01" "1\x01" "1" },
	{ .name = "high bytes kept", .raw = "\xc3\xa9\xff", .esc = "\xc3\xa9\xff" },
};

static void test_escape(void **state)
{
	bool ok = true;
	char s1[256], s2[256];
	(void)state;
	for (size_t i = 0; i < N_ELEMS(escape_cases); i++) {
		const struct escape_case *c = &escape_cases[i];
		size_t raw_len = c->raw_len != 0 ? c->raw_len : strlen(c->raw);
		size_t esc_len = c->esc_len != 0 ? c->esc_len : strlen(c->esc);
		struct buf out = BUF_INIT(256);
		int r = tab_escape(&out, (const uint8_t *)c->raw, raw_len);
		if (r != 0 || out.len != esc_len || memcmp(buf_cstr(&out), c->esc, esc_len) != 0) {
			print_error("escape %s: got %d \"%s\", want \"%s\"\n", c->name, r,
				    show(out.data, out.len, s1, sizeof(s1)),
				    show((const uint8_t *)c->esc, esc_len, s2, sizeof(s2)));
			ok = false;
		}
		buf_free(&out);
	}
	if (!ok)
		fail();
}

static void test_unescape(void **state)
{
	bool ok = true;
	char s1[256], s2[256];
	(void)state;
	for (size_t i = 0; i < N_ELEMS(escape_cases); i++) {
		const struct escape_case *c = &escape_cases[i];
		size_t raw_len = c->raw_len != 0 ? c->raw_len : strlen(c->raw);
		size_t esc_len = c->esc_len != 0 ? c->esc_len : strlen(c->esc);
		uint8_t tmp[256];
		memcpy(tmp, c->esc, esc_len);
		size_t n = tab_unescape_inplace(tmp, esc_len);
		if (n != raw_len || memcmp(tmp, c->raw, raw_len) != 0) {
			print_error("unescape %s: got \"%s\", want \"%s\"\n", c->name,
				    show(tmp, n, s1, sizeof(s1)),
				    show((const uint8_t *)c->raw, raw_len, s2, sizeof(s2)));
			ok = false;
		}
	}
	if (!ok)
		fail();
}

struct unescape_case {
	const char *name;
	const char *in;
	size_t in_len;       /* 0: strlen(in) */
	const char *want;
	size_t want_len;     /* 0: strlen(want) */
};

static void test_unescape_decoder_rules(void **state)
{
	static const struct unescape_case cases[] = {
		{ .name = "lone trailing 0x01 dropped", .in = "abc\x01", .want = "abc" },
		{ .name = "only 0x01", .in = "\x01", .want = "" },
		{ .name = "0x01 + other byte gives it", .in = "a\x01x" "b", .want = "axb" },
		{ .name = "0x01 + 0x01 gives 0x01", .in = "\x01\x01", .want = "\x01" },
		{ .name = "0x01 + TAB gives TAB", .in = "\x01\t", .want = "\t" },
		{ .name = "0x01 + l is l (not LF)", .in = "\x01l", .want = "l" },
		{ .name = "0x01 + upper T is T", .in = "\x01T", .want = "T" },
		{ .name = "0x01 + NUL gives NUL", .in = "\x01\0", .in_len = 2, .want = "\0",
		  .want_len = 1 },
		{ .name = "escaped 0x01 then 1", .in = "\x01" "11", .want = "\x01" "1" },
		{ .name = "triple 0x01", .in = "\x01\x01\x01", .want = "\x01" },
		{ .name = "0x01 1 then lone", .in = "\x01" "1\x01", .want = "\x01" },
	};
	bool ok = true;
	char s1[256], s2[256];
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct unescape_case *c = &cases[i];
		size_t in_len = c->in_len != 0 ? c->in_len : strlen(c->in);
		size_t want_len = c->want_len != 0 ? c->want_len : strlen(c->want);
		uint8_t tmp[64];
		memcpy(tmp, c->in, in_len);
		size_t n = tab_unescape_inplace(tmp, in_len);
		if (n != want_len || memcmp(tmp, c->want, want_len) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", c->name, show(tmp, n, s1, sizeof(s1)),
				    show((const uint8_t *)c->want, want_len, s2, sizeof(s2)));
			ok = false;
		}
	}
	if (!ok)
		fail();
}

static void test_round_trip_all_bytes(void **state)
{
	uint8_t all[256];
	struct buf out = BUF_INIT(1024);
	(void)state;
	for (size_t i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(tab_escape(&out, all, sizeof(all)), 0);
	/* 5 bytes gain an escape byte each */
	assert_int_equal(out.len, 256 + 5);
	/* the escaped form has no TAB, CR, LF or NUL left */
	for (size_t i = 0; i < out.len; i++) {
		uint8_t c = out.data[i];
		if (c == '\t' || c == '\r' || c == '\n' || c == '\0') {
			print_error("escaped form has byte %#x at %zu\n", c, i);
			fail();
		}
	}
	size_t n = tab_unescape_inplace(out.data, out.len);
	assert_int_equal(n, 256);
	assert_memory_equal(out.data, all, 256);

	/* each byte alone */
	for (size_t i = 0; i < 256; i++) {
		uint8_t b = (uint8_t)i;
		buf_reset(&out);
		assert_int_equal(tab_escape(&out, &b, 1), 0);
		n = tab_unescape_inplace(out.data, out.len);
		if (n != 1 || out.data[0] != b) {
			print_error("byte %#zx: round trip got len %zu first %#x\n", i, n,
				    n > 0 ? out.data[0] : 0);
			fail();
		}
	}
	buf_free(&out);
}

static void test_escape_limit(void **state)
{
	/* "a\tb" escapes to 4 bytes: a limit of 3 fails */
	struct buf out = BUF_INIT(3);
	(void)state;
	assert_int_equal(tab_escape(&out, (const uint8_t *)"a\tb", 3), -1);
	buf_reset(&out);
	assert_int_equal(tab_escape_str(&out, "abc"), 0);
	assert_string_equal(buf_cstr(&out), "abc");
	buf_free(&out);
}

static void test_escape_str(void **state)
{
	struct buf out = BUF_INIT(64);
	(void)state;
	assert_int_equal(tab_escape_str(&out, "k=v\twith tab"), 0);
	assert_string_equal(buf_cstr(&out), "k=v\x01twith tab");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_unescape),
		cmocka_unit_test(test_unescape_decoder_rules),
		cmocka_unit_test(test_round_trip_all_bytes),
		cmocka_unit_test(test_escape_limit),
		cmocka_unit_test(test_escape_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
