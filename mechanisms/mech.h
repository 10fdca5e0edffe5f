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
	MECH_SUCCESS,             /* out may hold final data for the client */
	MECH_FAILURE,             /* req->fail_reason says why (for the log) */
};

struct mech_request;

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
	mech_username_check_fn *username_check;
	void *ctx;                   /* the owning request */
	void *priv;                  /* mechanism state */
	unsigned int step_count;
	/* results, allocated from pool: */
	const char *authcid;         /* login name as the client sent it */
	const char *authzid;         /* "" when none */
	uint8_t *password;           /* verify-plain password; pool-owned */
	size_t password_len;
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
	/* After MECH_LOOKUP_CREDENTIALS: the credentials (scheme data). */
	enum mech_status (*resume)(struct mech_request *req, const uint8_t *cred, size_t len,
				   struct buf *out);
};

/* Finds a built-in mechanism by name, case-insensitively. NULL if unknown. */
const struct mech *mech_find(const char *name, size_t len);
/* Appends "MECH\tNAME[\tflag...]\n" for mech. Returns 0 or -1 (limit). */
int mech_handshake_line(struct buf *out, const struct mech *mech);

extern const struct mech mech_plain;
extern const struct mech mech_login;

#endif
