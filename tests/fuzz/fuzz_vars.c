/* fuzz_vars: var_expand() with an arbitrary template.
 * Input: byte 0 = flags (bit 0: LDAP-style escape callback, bit 1: small
 * output limit), the rest = the template (cut at the first NUL).
 * Checks: the return convention, out restored on failure, the limit kept,
 * an error text on every failure. */
#include "authd/vars.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TEMPLATE_MAX 2048

static const struct var_entry fuzz_table[] = {
	{ .key = 'u', .long_key = "user", .value = "john.smith@example.com" },
	{ .key = 'n', .long_key = "username", .value = "john.smith" },
	{ .key = 'd', .long_key = "domain", .value = "example.com" },
	{ .key = 's', .long_key = "service", .value = "imap" },
	{ .key = 'r', .long_key = "rip", .value = "192.0.2.7" },
	{ .key = 'a', .long_key = "lport", .value = "143" },
	{ .key = 'w', .long_key = "password", .value = "se*cr(et)\\" },
	{ .key = 'c', .long_key = "secured", .value = "" },
	{ .key = 'b', .long_key = "rport", .value = NULL },
	{ .key = 'v', .long_key = "evil", .value = "%u%{if;1;==;1;a;b}%" },
	{ .key = '\0', .long_key = "orig_user", .value = "John.Smith@Example.COM" },
};

static const char *fuzz_lookup(void *ctx, const char *name)
{
	(void)ctx;
	if (strncmp(name, "passdb:", 7) == 0)
		return name + 7;
	return NULL;
}

static int fuzz_escape(struct buf *out, const char *value, void *ctx)
{
	(void)ctx;
	for (const char *p = value; *p != '\0'; p++) {
		uint8_t c = (uint8_t)*p;
		int ret = strchr("*()\\", c) != NULL || c >= 0x80 ?
			  buf_printf(out, "\\%02X", c) : buf_append_byte(out, c);
		if (ret < 0)
			return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	size_t len = size - 1;
	if (len > FUZZ_TEMPLATE_MAX)
		len = FUZZ_TEMPLATE_MAX;
	char *tmpl = malloc(len + 1);
	if (tmpl == NULL)
		return 0;
	memcpy(tmpl, data + 1, len);
	tmpl[len] = '\0';

	struct var_expand_ctx ctx = {
		.table = fuzz_table,
		.count = sizeof(fuzz_table) / sizeof(fuzz_table[0]),
		.lookup = fuzz_lookup,
		.escape = (flags & 1) != 0 ? fuzz_escape : NULL,
	};
	size_t limit = (flags & 2) != 0 ? 64 : 65536;
	struct buf out = BUF_INIT(limit);
	const char *error = NULL;
	int ret = var_expand(&out, tmpl, &ctx, &error);
	if (ret < -1 || ret > 1)
		abort();
	if (ret != 1 && (error == NULL || out.len != 0))
		abort();
	if (out.len > limit)
		abort();
	(void)var_has_variables(tmpl);
	buf_free(&out);
	free(tmpl);
	return 0;
}
