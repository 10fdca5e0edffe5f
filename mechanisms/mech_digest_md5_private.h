/* mech_digest_md5_private: the DIGEST-MD5 digest-response parser
 * (mech_digest_md5_parse.c), shared by mech_digest_md5.c and its tests.
 * Not part of the mechanism interface. */
#ifndef MECHANISMS_MECH_DIGEST_MD5_PRIVATE_H
#define MECHANISMS_MECH_DIGEST_MD5_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

struct pool;

/* Limits of the client's digest-response (RFC 2831 2.1.2). */
#define DIGEST_MD5_RESPONSE_MAX 4096u   /* whole message, bytes */
#define DIGEST_MD5_DIRECTIVES_MAX 32u   /* list elements, empty ones included */
#define DIGEST_MD5_KEY_MAX 32u          /* directive name length */
#define DIGEST_MD5_VALUE_MAX 1024u      /* one value after unescaping */
#define DIGEST_MD5_RESPONSE_HEX_LEN 32u /* response=<32 LHEX> */

/* The directives the server uses; the others (cipher, unknown keys) are
 * skipped. All but realm may appear at most once. */
enum digest_md5_field {
	DIGEST_MD5_FIELD_USERNAME,
	DIGEST_MD5_FIELD_REALM,
	DIGEST_MD5_FIELD_NONCE,
	DIGEST_MD5_FIELD_CNONCE,
	DIGEST_MD5_FIELD_NC,
	DIGEST_MD5_FIELD_QOP,
	DIGEST_MD5_FIELD_DIGEST_URI,
	DIGEST_MD5_FIELD_RESPONSE,
	DIGEST_MD5_FIELD_MAXBUF,
	DIGEST_MD5_FIELD_CHARSET,
	DIGEST_MD5_FIELD_AUTHZID,
	DIGEST_MD5_FIELD_COUNT
};

/* A directive value, unescaped, NUL-terminated (it never contains NUL);
 * str == NULL when the directive was absent. */
struct digest_md5_value {
	const char *str;
	size_t len;
};

struct digest_md5_response {
	struct digest_md5_value field[DIGEST_MD5_FIELD_COUNT];
};

/* Parses a client digest-response and checks every rule that needs no
 * server state: syntax (comma list of key=value, quoted values with
 * backslash escapes, LWS around tokens, keys case-insensitive), the limits
 * above, duplicates, username/nonce/cnonce/response required, username,
 * cnonce and authzid non-empty, nc exactly 00000001, qop auth only, charset
 * utf-8 only, maxbuf a positive number, digest-uri present with a '/', and
 * response 32 lowercase hex digits. Absent nc and qop are filled in with
 * their defaults "00000001" and "auth"; realm keeps its first non-empty
 * value. Values are allocated from pool.
 * Returns 1, or 0 with *error_r (static text) when the response is
 * invalid. Never blocks. */
int digest_md5_parse_response(struct pool *pool, const uint8_t *in, size_t len,
			      struct digest_md5_response *resp_r, const char **error_r);

#endif
