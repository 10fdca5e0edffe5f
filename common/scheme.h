/* scheme: password schemes as Dovecot 2.3 stores them ({SCHEME}data), for
 * verification, credential extraction and generation. Shared by the daemon
 * and authctl. Formats and vectors: shared/spec/password-schemes.md.
 *
 * Thread-safety: every function here is safe to call from the hash thread
 * pool (no global mutable state after scheme_init()).
 *
 * Error texts (*error_r) are static strings or live in a thread-local
 * buffer that stays valid until the next scheme_* call in the same thread.
 * They name what is wrong, never the password or the stored value.
 *
 * MD4 (PLAIN-MD4, OTP md4): scheme_init() fetches MD4 from OpenSSL's
 * "legacy" provider in a private library context (the process-wide default
 * context is left alone). If that fails, the deprecated low-level MD4()
 * call is used, which OpenSSL 3 still serves without the provider. If the
 * OpenSSL build has no MD4 at all (OPENSSL_NO_MD4), verifying those values
 * returns -1 with "MD4 is not available" and every other scheme works.
 *
 * Nothing here blocks on I/O. The "expensive" schemes (crypt families,
 * PBKDF2, SCRAM, argon2, OTP) cost milliseconds of CPU and, for argon2,
 * as much memory as the stored m= parameter asks for. */
#ifndef COMMON_SCHEME_H
#define COMMON_SCHEME_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct scheme;   /* a registered scheme (opaque, static lifetime) */

enum scheme_encoding {
	SCHEME_ENC_NONE,    /* stored string is used as is */
	SCHEME_ENC_BASE64,
	SCHEME_ENC_HEX,
};

/* How a value without a {SCHEME} prefix is interpreted (spec 2.4). */
enum scheme_prefix_rule {
	SCHEME_PREFIX_PASSWD_FILE,  /* passwd-file/vpopmail: $1$ means MD5-CRYPT */
	SCHEME_PREFIX_FIELD,        /* ldap/sql: no $1$ special case */
};

/* A parsed stored password. Points into the caller's string. */
struct scheme_stored {
	const struct scheme *scheme;
	const char *scheme_name;     /* canonical upper-case name */
	enum scheme_encoding enc;    /* effective encoding */
	bool enc_explicit;           /* .hex/.b64 suffix given */
	const char *data;            /* after the prefix */
	size_t data_len;
};

/* Loads what the schemes need (OpenSSL legacy provider for MD4, sodium_init).
 * Call once at start-up before threads exist. Returns 0, or -1 when
 * libsodium cannot be initialised. A missing MD4 is not an error (see the
 * top of this file). */
int scheme_init(void);

/* Finds a scheme by name, case-insensitively, without encoding suffix.
 * Returns NULL if unknown. */
const struct scheme *scheme_find(const char *name);
/* The canonical upper-case name ("PLAIN" for CLEAR, "SHA1" for SHA,
 * "CRAM-MD5" for HMAC-MD5). Static storage. */
const char *scheme_name(const struct scheme *scheme);
/* The i-th of every accepted name, aliases included (what `doveadm pw -l`
 * lists); NULL when i is past the end. Static storage. */
const char *scheme_list_name(size_t i);
/* True if a and b can serve each other's credentials (password-schemes.md
 * section 4: {PLAIN CLEAR CLEARTEXT PLAIN-TRUNC}, {SHA SHA1},
 * {PLAIN-MD5 LDAP-MD5}, {MD5 MD5-CRYPT}, {CRYPT BLF-CRYPT},
 * {CRAM-MD5 HMAC-MD5}). */
bool scheme_same_credentials(const struct scheme *a, const struct scheme *b);
/* True for schemes built on MD4, MD5, SHA-1 or DES (for a future
 * "refuse weak schemes" setting). */
bool scheme_is_weak(const struct scheme *scheme);

/* Parses stored (len bytes) using default_scheme when there is no prefix.
 * The scheme name is everything between a leading '{' and the first '}',
 * with an optional .hex/.b64/.base64 suffix (case-insensitive); a value
 * starting with '{' without any '}' has no prefix. With
 * SCHEME_PREFIX_PASSWD_FILE a prefix-less "$1$salt$..." value is MD5-CRYPT
 * and is cut after its third '$' segment. default_scheme may carry a
 * suffix too ("SHA256.HEX"); NULL means a prefix is required.
 * For fixed-length schemes without an explicit suffix the encoding is
 * autodetected: exactly 2*L hex digits = hex, anything else = base64.
 * Returns 1, or 0 with *error_r ("Unknown scheme X", "Missing {scheme}
 * prefix") when the scheme is unknown or missing. */
int scheme_parse_stored(const char *stored, size_t len, const char *default_scheme,
			enum scheme_prefix_rule rule, struct scheme_stored *out,
			const char **error_r);

/* True if verifying this scheme costs more than a few microseconds
 * (crypt families, PBKDF2, argon2): the daemon runs those on the hash pool. */
bool scheme_is_expensive(const struct scheme_stored *stored);

/* Removes the encoding layer: appends the raw bytes of stored to raw (for
 * encoding NONE that is the stored text itself) and checks the fixed raw
 * length. Returns 1, -1 with *error_r ("Input isn't valid base64 encoded
 * data", "Input length isn't valid (N instead of L)"), or -1 when raw's
 * limit would be crossed. The caller owns raw (buf_free wipes it). */
int scheme_decode(const struct scheme_stored *stored, struct buf *raw, const char **error_r);

/* Verifies (password, password_len) against a parsed stored value. user is
 * the login name (DIGEST-MD5 stored values need it). Constant time in the
 * password for a given stored value.
 * Returns 1 match, 0 mismatch, -1 invalid stored data (*error_r says why;
 * the text never contains the password or the stored value). */
int scheme_verify(const struct scheme_stored *stored, const uint8_t *password,
		  size_t password_len, const char *user, const char **error_r);

/* CRAM-MD5 / HMAC-MD5 credentials (password-schemes.md 3.10). */
#define SCHEME_CRAM_MD5_CONTEXT_LEN 32u
#define SCHEME_CRAM_MD5_RESPONSE_LEN 16u
/* The stored form of a password: MD5 outer then inner state after one
 * 64-byte key block, each word little-endian. Returns 0. */
int scheme_cram_md5_context(const uint8_t *password, size_t password_len,
			    uint8_t ctx_r[SCHEME_CRAM_MD5_CONTEXT_LEN]);
/* HMAC-MD5(key, challenge) computed from a stored context: the expected
 * CRAM-MD5 response (binary; the wire carries its lowercase hex). */
void scheme_cram_md5_response(const uint8_t ctx[SCHEME_CRAM_MD5_CONTEXT_LEN],
			      const uint8_t *challenge, size_t challenge_len,
			      uint8_t response_r[SCHEME_CRAM_MD5_RESPONSE_LEN]);

#endif
