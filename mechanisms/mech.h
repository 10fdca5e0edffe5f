/* mech: the SASL mechanism interface and registry.
 *
 * Mechanisms are pure state machines (DESIGN.md): they never call a passdb.
 * step() consumes one client message and returns what happens next: a
 * challenge for the client, "verify this password for this user", "fetch
 * credentials of cred_scheme for this user", success or failure. The
 * request code does the lookups and, for credentials, calls resume(). This
 * keeps asynchrony and privilege handling out of here, and lets tests
 * drive a mechanism with byte arrays. */
#ifndef MECHANISMS_MECH_H
#define MECHANISMS_MECH_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Wire flags (spec 2.2), in the order they appear on MECH lines. */
enum mech_flag {
	MECH_FLAG_PRIVATE = 1u << 0,
	MECH_FLAG_ANONYMOUS = 1u << 1,
	MECH_FLAG_PLAINTEXT = 1u << 2,
	MECH_FLAG_DICTIONARY = 1u << 3,
	MECH_FLAG_ACTIVE = 1u << 4,
	MECH_FLAG_FORWARD_SECRECY = 1u << 5,
	MECH_FLAG_MUTUAL_AUTH = 1u << 6,
	/* internal, not on the wire: NUL bytes allowed in client messages */
	MECH_FLAG_ALLOW_NULS = 1u << 16,
};

enum mech_status {
	MECH_CONTINUE,            /* out holds a challenge; wait for the client */
	MECH_VERIFY_PLAIN,        /* req->authcid/authzid/password set */
	MECH_LOOKUP_CREDENTIALS,  /* need mech->cred_scheme credentials for authcid */
	MECH_SUCCESS,             /* out may hold final data for the client;
				   * ANONYMOUS sets authcid */
	MECH_FAILURE,             /* req->fail_reason says why (for the log);
				   * out is left empty. "Password mismatch"
				   * is a wrong password (CRAM-MD5, DIGEST-MD5,
				   * SCRAM), anything else bad input */
};

struct mech_request;

/* Longest user name or authzid a mechanism accepts from the client; the
 * request code applies the real limit (authd/username.h) afterwards. */
#define MECH_NAME_MAX 1024u

/* Checks a user name as soon as a mechanism learns it (LOGIN refuses a bad
 * name before prompting for the password). Returns 1 ok, 0 rejected. */
typedef int mech_username_check_fn(struct mech_request *req, const uint8_t *name, size_t len);

/* Settings a mechanism may read. */
struct mech_env {
	const char *anonymous_username;
	const char *realms;          /* space separated */
	const char *hostname;
};

struct mech_request {
	struct pool *pool;           /* the request's pool; wiped when freed */
	const struct mech *mech;
	const struct mech_env *env;
	mech_username_check_fn *username_check;   /* LOGIN, CRAM-MD5, DIGEST-MD5,
						   * SCRAM call it with authcid */
	void *ctx;                   /* the owning request */
	void *priv;                  /* mechanism state */
	unsigned int step_count;
	/* inputs from the request code: */
	const char *cert_username;   /* EXTERNAL: TLS certificate user, NULL if none */
	const char *service;         /* the AUTH service= value; DIGEST-MD5 checks
				      * digest-uri against it (NULL/"" = unchecked) */
	/* Test only (tests/unit, tests/fuzz; the request code never sets it):
	 * when non-NULL, replaces the random value a mechanism would generate:
	 * CRAM-MD5 the whole challenge text, DIGEST-MD5 the nonce text, SCRAM
	 * the server part of the nonce (text appended to the client nonce). */
	const uint8_t *test_nonce;
	size_t test_nonce_len;
	/* results, allocated from pool: */
	const char *authcid;         /* login name to look up (DIGEST-MD5: with
				      * @realm appended per spec 6.4) */
	const char *authzid;         /* "" when none; else master-user login */
	uint8_t *password;           /* verify-plain password; pool-owned */
	size_t password_len;
	const char *cred_user;       /* DIGEST-MD5: user and realm exactly as the */
	const char *cred_realm;      /* client hashed them (for credentials) */
	const char *fail_reason;     /* static text for the log */
};

struct mech {
	const char *name;            /* upper case */
	unsigned int flags;
	const char *cred_scheme;     /* for MECH_LOOKUP_CREDENTIALS, else NULL */
	/* One client message. absent: the client sent no initial response
	 * (first step only). */
	enum mech_status (*step)(struct mech_request *req, const uint8_t *in, size_t len,
				 bool absent, struct buf *out);
	/* After MECH_LOOKUP_CREDENTIALS: the credentials, as
	 * scheme_credentials() produces them for cred_scheme (common/scheme.h):
	 * CRAM-MD5 32-byte HMAC-MD5 context, DIGEST-MD5 16-byte MD5,
	 * SCRAM-SHA-* text "ITER,B64SALT,B64STOREDKEY,B64SERVERKEY". May return
	 * MECH_CONTINUE (SCRAM's server-first message). */
	enum mech_status (*resume)(struct mech_request *req, const uint8_t *cred, size_t len,
				   struct buf *out);
};

/* Finds a built-in mechanism by name, case-insensitively. NULL if unknown. */
const struct mech *mech_find(const char *name, size_t len);
/* Appends "MECH\tNAME[\tflag...]\n" for mech. Returns 0 or -1 (limit). */
int mech_handshake_line(struct buf *out, const struct mech *mech);

extern const struct mech mech_plain;
extern const struct mech mech_login;
extern const struct mech mech_cram_md5;
extern const struct mech mech_digest_md5;
extern const struct mech mech_scram_sha1;
extern const struct mech mech_scram_sha256;
extern const struct mech mech_scram_sha512;
extern const struct mech mech_anonymous;
extern const struct mech mech_external;

#endif
