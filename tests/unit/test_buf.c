/* test_buf: the bounded buffer (common/buf.h): limit enforcement leaves
 * the contents intact, NUL termination, consume, reset, printf growth. */
#include "common/buf.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Checks len, contents and the NUL after them. Returns true if all match. */
static bool buf_is(const struct buf *b, const void *want, size_t want_len, const char *name)
{
	if (b->len != want_len) {
		print_error("%s: got len %zu, want %zu\n", name, b->len, want_len);
		return false;
	}
	if (want_len > 0 && memcmp(b->data, want, want_len) != 0) {
		print_error("%s: got \"%.*s\", want \"%.*s\"\n", name, (int)b->len,
			    buf_cstr(b), (int)want_len, (const char *)want);
		return false;
	}
	if (b->data != NULL && b->data[b->len] != '\0') {
		print_error("%s: contents not NUL-terminated\n", name);
		return false;
	}
	if (b->data != NULL && b->cap <= b->len) {
		print_error("%s: cap %zu leaves no room for the NUL after len %zu\n", name,
			    b->cap, b->len);
		return false;
	}
	return true;
}

struct append_case {
	const char *name;
	size_t limit;
	const char *first;     /* appended first (must succeed) */
	const char *second;    /* then this */
	int want_ret;          /* of the second append */
	const char *want;      /* contents afterwards */
};

static void test_append_limit(void **state)
{
	static const struct append_case cases[] = {
		{ .name = "fits", .limit = 8, .first = "abc", .second = "defgh", .want_ret = 0,
		  .want = "abcdefgh" },
		{ .name = "one over", .limit = 8, .first = "abc", .second = "defghi", .want_ret = -1,
		  .want = "abc" },
		{ .name = "empty append at limit", .limit = 3, .first = "abc", .second = "",
		  .want_ret = 0, .want = "abc" },
		{ .name = "byte over at limit", .limit = 3, .first = "abc", .second = "d",
		  .want_ret = -1, .want = "abc" },
		{ .name = "default limit", .limit = 0, .first = "x", .second = "y", .want_ret = 0,
		  .want = "xy" },
		{ .name = "limit 1", .limit = 1, .first = "", .second = "ab", .want_ret = -1,
		  .want = "" },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct append_case *c = &cases[i];
		struct buf b = BUF_INIT(c->limit);
		if (buf_append_str(&b, c->first) != 0) {
			print_error("%s: first append failed\n", c->name);
			ok = false;
		}
		int ret = buf_append_str(&b, c->second);
		if (ret != c->want_ret) {
			print_error("%s: got ret %d, want %d\n", c->name, ret, c->want_ret);
			ok = false;
		}
		ok &= buf_is(&b, c->want, strlen(c->want), c->name);
		buf_free(&b);
	}
	if (!ok)
		fail();
}

static void test_append_huge_len(void **state)
{
	/* A length near SIZE_MAX must fail cleanly (no overflow in the check). */
	struct buf b = BUF_INIT(0);
	(void)state;
	assert_int_equal(buf_append_str(&b, "ab"), 0);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 1), -1);
	assert_true(buf_is(&b, "ab", 2, "huge"));
	buf_free(&b);
}

static void test_append_byte_and_growth(void **state)
{
	struct buf b = BUF_INIT(1000);
	uint8_t want[1000];
	(void)state;
	for (size_t i = 0; i < sizeof(want); i++) {
		want[i] = (uint8_t)(i * 7 + 1);
		assert_int_equal(buf_append_byte(&b, want[i]), 0);
		/* the NUL after the contents is kept at every size */
		assert_int_equal(b.data[b.len], 0);
	}
	assert_int_equal(buf_append_byte(&b, 'z'), -1);
	assert_true(buf_is(&b, want, sizeof(want), "bytes"));
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_binary_nul(void **state)
{
	struct buf b = BUF_INIT(0);
	(void)state;
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_true(buf_is(&b, "a\0b", 3, "binary"));
	buf_free(&b);
}

static void test_cstr_empty(void **state)
{
	struct buf b = BUF_INIT(16);
	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_free(&b);
	assert_string_equal(buf_cstr(&b), "");
}

struct consume_case {
	const char *name;
	const char *in;
	size_t n;
	const char *want;
};

static void test_consume(void **state)
{
	static const struct consume_case cases[] = {
		{ .name = "none", .in = "hello", .n = 0, .want = "hello" },
		{ .name = "some", .in = "hello", .n = 2, .want = "llo" },
		{ .name = "all but one", .in = "hello", .n = 4, .want = "o" },
		{ .name = "all", .in = "hello", .n = 5, .want = "" },
		{ .name = "empty", .in = "", .n = 0, .want = "" },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct consume_case *c = &cases[i];
		struct buf b = BUF_INIT(64);
		buf_append_str(&b, c->in);
		size_t old_len = b.len;
		buf_consume(&b, c->n);
		ok &= buf_is(&b, c->want, strlen(c->want), c->name);
		/* the consumed tail is wiped (the buffer may hold secrets) */
		for (size_t j = b.len; b.data != NULL && j < old_len; j++) {
			if (b.data[j] != 0) {
				print_error("%s: byte %zu after consume not wiped\n", c->name, j);
				ok = false;
				break;
			}
		}
		/* still usable */
		buf_append_str(&b, "!");
		char want2[32];
		snprintf(want2, sizeof(want2), "%s!", c->want);
		ok &= buf_is(&b, want2, strlen(want2), c->name);
		buf_free(&b);
	}
	if (!ok)
		fail();
}

static void test_reset(void **state)
{
	struct buf b = BUF_INIT(64);
	(void)state;
	buf_append_str(&b, "secret");
	uint8_t *data = b.data;
	size_t cap = b.cap;
	buf_reset(&b);
	assert_true(buf_is(&b, "", 0, "reset"));
	/* storage kept, old contents wiped */
	assert_ptr_equal(b.data, data);
	assert_int_equal(b.cap, cap);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(b.data[i], 0);
	assert_int_equal(buf_append_str(&b, "again"), 0);
	assert_true(buf_is(&b, "again", 5, "after reset"));
	buf_free(&b);
	buf_reset(&b);   /* on a freed buffer: harmless */
	assert_int_equal(b.len, 0);
}

struct printf_case {
	const char *name;
	size_t limit;
	size_t pad;        /* %*s width */
	int want_ret;
	size_t want_len;
};

static void test_printf(void **state)
{
	static const struct printf_case cases[] = {
		{ .name = "small", .limit = 0, .pad = 3, .want_ret = 0, .want_len = 3 + 4 },
		{ .name = "just under stack buffer", .limit = 0, .pad = 251, .want_ret = 0,
		  .want_len = 255 },
		{ .name = "exactly stack buffer", .limit = 0, .pad = 252, .want_ret = 0,
		  .want_len = 256 },
		{ .name = "big (heap path)", .limit = 0, .pad = 10000, .want_ret = 0,
		  .want_len = 10004 },
		{ .name = "over limit small", .limit = 5, .pad = 3, .want_ret = -1, .want_len = 0 },
		{ .name = "over limit big", .limit = 1000, .pad = 5000, .want_ret = -1,
		  .want_len = 0 },
		{ .name = "exactly limit big", .limit = 5004, .pad = 5000, .want_ret = 0,
		  .want_len = 5004 },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct printf_case *c = &cases[i];
		struct buf b = BUF_INIT(c->limit);
		int ret = buf_printf(&b, "%*s-%03d", (int)c->pad, "x", 7);
		if (ret != c->want_ret || b.len != c->want_len) {
			print_error("%s: got ret %d len %zu, want %d len %zu\n", c->name, ret, b.len,
				    c->want_ret, c->want_len);
			ok = false;
		} else if (ret == 0 && (memcmp(b.data + b.len - 5, "x-007", 5) != 0 ||
					b.data[b.len] != '\0')) {
			print_error("%s: got tail \"%s\", want \"x-007\"\n", c->name,
				    (const char *)b.data + b.len - 5);
			ok = false;
		}
		buf_free(&b);
	}
	if (!ok)
		fail();
}

static void test_printf_appends(void **state)
{
	struct buf b = BUF_INIT(0);
	(void)state;
	buf_append_str(&b, "FAIL\t");
	assert_int_equal(buf_printf(&b, "%u\t%s", 42u, "user=a"), 0);
	assert_string_equal(buf_cstr(&b), "FAIL\t42\tuser=a");
	buf_free(&b);
}

static void test_append_uint(void **state)
{
	static const struct {
		uint64_t v;
		const char *want;
	} cases[] = {
		{ 0, "0" }, { 7, "7" }, { 10, "10" }, { 4294967295u, "4294967295" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT(64);
		assert_int_equal(buf_append_str(&b, "id="), 0);
		assert_int_equal(buf_append_uint(&b, cases[i].v), 0);
		assert_string_equal(buf_cstr(&b) + 3, cases[i].want);
		buf_free(&b);
	}
	struct buf small = BUF_INIT(3);
	assert_int_equal(buf_append_uint(&small, 1234), -1);
	assert_int_equal(small.len, 0);
	buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_limit),
		cmocka_unit_test(test_append_huge_len),
		cmocka_unit_test(test_append_byte_and_growth),
		cmocka_unit_test(test_binary_nul),
		cmocka_unit_test(test_cstr_empty),
		cmocka_unit_test(test_consume),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_printf_appends),
		cmocka_unit_test(test_append_uint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
