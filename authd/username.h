/* username: the user name checks and rewrites of spec section 7.2,
 * steps 3-4, plus authd's own hard limits. Step 5 (auth_username_format)
 * is a var_expand() of the result done by the request code.
 *
 * Independently of auth_username_chars, names longer than USERNAME_MAX_LEN
 * or containing NUL, TAB, CR, LF or any other control byte are refused
 * before any backend sees them. */
#ifndef AUTHD_USERNAME_H
#define AUTHD_USERNAME_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USERNAME_MAX_LEN 255

struct username_rules {
	bool allowed[256];        /* from auth_username_chars; all true if empty */
	uint8_t translate[256];   /* identity unless auth_username_translation maps it */
	const char *default_realm;/* "" = none */
};

/* Builds the rules from the three settings. Returns 0, or -1 with *error_r
 * when translation has an odd number of bytes. */
int username_rules_init(struct username_rules *rules, const char *chars,
			const char *translation, const char *default_realm,
			const char **error_r);

/* Appends realm (if needed) and translation to (in, len), checks every byte,
 * and writes the result to out (replacing its contents).
 * Returns 1 ok, 0 rejected (*error_r = static reason for the log, e.g.
 * "Username character disallowed by auth_username_chars: 0x20 (username: al ice)"
 * is NOT produced; the reason never contains the name), -1 buffer limit. */
int username_normalize(const struct username_rules *rules, const uint8_t *in, size_t len,
		       struct buf *out, const char **error_r);

/* Splits user@domain: returns the length of the local part (len if no '@'). */
size_t username_local_len(const char *user, size_t len);

#endif
