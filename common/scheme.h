/* scheme: password schemes as Dovecot 2.3 stores them ({SCHEME}data), for
 * verification, credential extraction and generation. Shared by the daemon
 * and authctl. Formats and vectors: shared/spec/password-schemes.md.
 *
 * Thread-safety: every function here is safe to call from the hash thread
 * pool (no global mutable state after scheme_init()). */
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
 * Call once at start-up before threads exist. Returns 0 or -1. */
int scheme_init(void);

/* Finds a scheme by name, case-insensitively, without encoding suffix.
 * Returns NULL if unknown. */
const struct scheme *scheme_find(const char *name);
const char *scheme_name(const struct scheme *scheme);

/* Parses stored (len bytes) using default_scheme when there is no prefix.
 * Returns 1, or 0 with *error_r ("Unknown scheme X") when the scheme is
 * unknown. */
int scheme_parse_stored(const char *stored, size_t len, const char *default_scheme,
			enum scheme_prefix_rule rule, struct scheme_stored *out,
			const char **error_r);

/* True if verifying this scheme costs more than a few microseconds
 * (crypt families, PBKDF2, argon2): the daemon runs those on the hash pool. */
bool scheme_is_expensive(const struct scheme_stored *stored);

/* Verifies (password, password_len) against a parsed stored value. user is
 * the login name (DIGEST-MD5 stored values need it). Constant time in the
 * password for a given stored value.
 * Returns 1 match, 0 mismatch, -1 invalid stored data (*error_r says why;
 * the text never contains the password or the stored value). */
int scheme_verify(const struct scheme_stored *stored, const uint8_t *password,
		  size_t password_len, const char *user, const char **error_r);

#endif
