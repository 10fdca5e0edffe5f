/* mech_scram_private: the SCRAM message parsers (mech_scram_parse.c),
 * shared by mech_scram.c and its tests. Not part of the mechanism
 * interface. RFC 5802 section 7 grammar, spec 6.5. */
#ifndef MECHANISMS_MECH_SCRAM_PRIVATE_H
#define MECHANISMS_MECH_SCRAM_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

#define SCRAM_MESSAGE_MAX 4096u        /* one client message, bytes */
#define SCRAM_ITERATIONS_MIN 4096u     /* spec 5.2: smaller is invalid passdb data */
#define SCRAM_ITERATIONS_MAX 2147483647u   /* INT_MAX, as Dovecot */
#define SCRAM_SALT_B64_MAX 1024u       /* salt text in the credentials */
#define SCRAM_HASH_MAX 64u             /* SHA-512 */

/* A byte range of the input or of a pool copy. */
struct scram_span {
	const char *p;
	size_t len;
};

/* client-first-message = gs2-header client-first-message-bare */
struct scram_client_first {
	struct scram_span gs2_header;   /* "n,," / "y,a=x," including both commas */
	struct scram_span bare;         /* client-first-message-bare */
	struct scram_span cnonce;       /* the r= value */
	const char *username;           /* unescaped, pool-allocated */
	const char *authzid;            /* unescaped, pool-allocated; "" if none */
};

/* client-final-message = without-proof "," proof */
struct scram_client_final {
	struct scram_span cbind;        /* "c=..." field */
	struct scram_span nonce;        /* "r=..." field */
	struct scram_span without_proof;
	struct scram_span proof_b64;    /* after "p=" */
};

/* The text credentials of scheme_credentials() for SCRAM-SHA-*:
 * "ITER,B64SALT,B64STOREDKEY,B64SERVERKEY". */
struct scram_credentials {
	uint32_t iterations;
	struct scram_span salt_b64;     /* points into the input */
	uint8_t stored_key[SCRAM_HASH_MAX];
	uint8_t server_key[SCRAM_HASH_MAX];
};

/* Parses a client-first-message (in, len): gs2 flag "n" or "y" ("p=..."
 * channel binding and anything else fail), optional a=authzid, no "m="
 * extension, n=username, r=cnonce (printable, no ','), extensions ignored;
 * "=2C"/"=3D" unescaped in username and authzid, other '=' sequences
 * fail. Spans point into in; names are copied to pool.
 * Returns 1, or 0 with *error_r (static text). Never blocks. */
int scram_parse_client_first(struct pool *pool, const uint8_t *in, size_t len,
			     struct scram_client_first *r, const char **error_r);

/* Splits a client-final-message: at least three fields, the first two
 * must start "c=" and "r=", the last "p=". Spans point into in. Contents
 * are compared by the caller. Returns 1, or 0 with *error_r. */
int scram_parse_client_final(const uint8_t *in, size_t len, struct scram_client_final *r,
			     const char **error_r);

/* Parses credentials for a hash of hash_len bytes: iterations within
 * SCRAM_ITERATIONS_MIN..MAX, valid non-empty base64 salt, keys of exactly
 * hash_len bytes. Returns 1, or 0 with *error_r. The caller wipes r. */
int scram_parse_credentials(const uint8_t *in, size_t len, size_t hash_len,
			    struct scram_credentials *r, const char **error_r);

/* Strictly decodes base64 (b64, len) that must give exactly want bytes
 * into out. Returns 1, or 0 (invalid or other length; out then holds no
 * decoded bytes). */
int scram_base64_decode_exact(const char *b64, size_t len, uint8_t *out, size_t want);

#endif
