/* fuzz_username: username_normalize() with arbitrary names and settings.
 * Input: byte 0 = flags (bit 0: empty auth_username_chars, bit 1: default
 * realm "example.com"), byte 1 = translation length (low 3 bits, rounded
 * down to even), then the translation pairs, then the name.
 * Checks: on success the result is <= USERNAME_MAX_LEN, free of control
 * bytes and made only of allowed bytes; on failure out is empty. */
#include "authd/username.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DEFAULT_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t flags = data[0];
	size_t tlen = data[1] & 6u;
	if (size - 2 < tlen)
		return 0;
	char translation[8];
	size_t t = 0;
	for (size_t i = 0; i + 1 < tlen; i += 2) {
		if (data[2 + i] == 0 || data[3 + i] == 0)
			break;   /* a C string setting cannot hold NUL */
		translation[t++] = (char)data[2 + i];
		translation[t++] = (char)data[3 + i];
	}
	translation[t] = '\0';

	struct username_rules rules;
	const char *error = NULL;
	if (username_rules_init(&rules, (flags & 1) != 0 ? "" : FUZZ_DEFAULT_CHARS,
				translation, (flags & 2) != 0 ? "example.com" : "",
				&error) < 0)
		abort();

	const uint8_t *name = data + 2 + tlen;
	size_t name_len = size - 2 - tlen;
	struct buf out = BUF_INIT((flags & 4) != 0 ? 16 : 1024);
	int ret = username_normalize(&rules, name, name_len, &out, &error);
	if (ret == 1) {
		if (out.len > USERNAME_MAX_LEN)
			abort();
		for (size_t i = 0; i < out.len; i++)
			if (out.data[i] < 0x20 || out.data[i] == 0x7f || !rules.allowed[out.data[i]])
				abort();
	} else if ((ret != 0 && ret != -1) || out.len != 0 || error == NULL) {
		abort();
	}
	(void)username_local_len(buf_cstr(&out), out.len);
	buf_free(&out);
	return 0;
}
