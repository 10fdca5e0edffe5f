/* test_proto_fields: splitting protocol lines into TAB-separated fields
 * (authd/proto_fields.h): empty fields, the field limit, unescaping in
 * place, escapes that sit at a field's end. */
#include "authd/proto_fields.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FIELDS 4u

struct split_case {
	const char *name;
	const char *line;
	size_t len;              /* 0: strlen(line) */
	bool unescape;
	size_t want_n;
	const char *want[MAX_FIELDS];
	size_t want_len[MAX_FIELDS];   /* 0: strlen(want[i]) */
};

static void test_split(void **state)
{
	static const struct split_case cases[] = {
		{ .name = "empty line", .line = "", .want_n = 1, .want = { "" } },
		{ .name = "one field", .line = "DONE", .want_n = 1, .want = { "DONE" } },
		{ .name = "two", .line = "OK\t1", .want_n = 2, .want = { "OK", "1" } },
		{ .name = "trailing tab", .line = "a\t", .want_n = 2, .want = { "a", "" } },
		{ .name = "only tabs", .line = "\t\t", .want_n = 3, .want = { "", "", "" } },
		{ .name = "at the limit", .line = "a\tb\tc\td", .want_n = 4,
		  .want = { "a", "b", "c", "d" } },
		{ .name = "over the limit", .line = "a\tb\tc\td\te", .want_n = 0 },
		{ .name = "unescape", .line = "x\x01tz\t\x01" "1\x01r\x01n", .unescape = true,
		  .want_n = 2, .want = { "x\tz", "\x01\r\n" } },
		{ .name = "escaped NUL", .line = "a\x01" "0b", .unescape = true, .want_n = 1,
		  .want = { "a\0b" }, .want_len = { 3 } },
		{ .name = "escape at the end", .line = "ab\x01\tc", .unescape = true, .want_n = 2,
		  .want = { "ab", "c" } },
		{ .name = "unknown escape kept", .line = "\x01q", .unescape = true, .want_n = 1,
		  .want = { "q" } },
		{ .name = "no unescape", .line = "x\x01t", .want_n = 1, .want = { "x\x01t" } },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct split_case *c = &cases[i];
		uint8_t line[64];
		size_t len = c->len != 0 ? c->len : strlen(c->line);
		memcpy(line, c->line, len);
		uint8_t *f[MAX_FIELDS];
		size_t l[MAX_FIELDS];
		size_t n = proto_split(line, len, f, l, MAX_FIELDS, c->unescape);
		if (n != c->want_n) {
			print_error("%s: got %zu fields, want %zu\n", c->name, n, c->want_n);
			ok = false;
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			size_t wl = c->want_len[j] != 0 ? c->want_len[j] : strlen(c->want[j]);
			if (l[j] != wl || memcmp(f[j], c->want[j], wl) != 0) {
				print_error("%s: field %zu: got \"%.*s\", want \"%s\"\n", c->name, j,
					    (int)l[j], (const char *)f[j], c->want[j]);
				ok = false;
			}
		}
	}
	assert_true(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
