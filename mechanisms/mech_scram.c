/* SCRAM-SHA-1, SCRAM-SHA-256 (RFC 5802, 7677) and SCRAM-SHA-512 (as Cyrus
 * SASL offers it), spec 6.5. No channel binding (-PLUS): "p=" fails, as in
 * Dovecot 2.3.
 *
 * step 1: an absent initial response gets an empty challenge; then the
 *   client-first-message (mech_scram_parse.c) -> MECH_LOOKUP_CREDENTIALS
 *   for SCRAM-SHA-<n> ("ITER,B64SALT,B64STOREDKEY,B64SERVERKEY").
 * resume: parses the credentials (iterations >= 4096) -> MECH_CONTINUE with
 *   server-first "r=<cnonce><64 server chars>,s=<b64 salt>,i=<iter>"; the
 *   server chars are '!'..'}' with ',' replaced by '~' (as Dovecot).
 * step 2: client-final: c= must be base64 of the gs2 header exactly, r=
 *   the combined nonce, the last field p= a proof of the hash length;
 *   H(ClientSignature XOR proof) compared with StoredKey in constant time
 *   -> MECH_SUCCESS with final data "v=<b64 ServerSignature>".
 * The keys are wiped from the state as soon as the exchange ends. */
#include "mechanisms/mech.h"
#include "mechanisms/mech_scram_private.h"
#include "common/base64.h"
#include "common/csprng.h"
#include "common/pool.h"
#include "common/secret.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define SCRAM_SERVER_NONCE_LEN 64u
#define SCRAM_NONCE_FIRST '!'
#define SCRAM_NONCE_LAST '}'
#define SCRAM_NONCE_RANGE ((unsigned)(SCRAM_NONCE_LAST - SCRAM_NONCE_FIRST + 1))   /* 93 */
#define SCRAM_RANDOM_BATCH 96u
#define SCRAM_GS2_B64_MAX 2048u      /* "c=" + base64 of a gs2 header */

struct scram_hash {
	const EVP_MD *(*md)(void);
	size_t len;
};

static const struct scram_hash scram_sha1 = { EVP_sha1, 20 };
static const struct scram_hash scram_sha256 = { EVP_sha256, 32 };
static const struct scram_hash scram_sha512 = { EVP_sha512, 64 };

enum scram_state {
	SCRAM_STATE_INIT = 0,
	SCRAM_STATE_CREDENTIALS,   /* waiting for resume() */
	SCRAM_STATE_FINAL,         /* server-first sent */
	SCRAM_STATE_DONE,
};

struct scram {
	enum scram_state state;
	const struct scram_hash *hash;
	struct scram_client_first first;   /* spans into pool copies */
	char *server_first;
	size_t server_first_len;
	struct scram_span nonce;           /* cnonce + snonce, inside server_first */
	uint8_t stored_key[SCRAM_HASH_MAX];
	uint8_t server_key[SCRAM_HASH_MAX];
};

static void scram_wipe(struct scram *st)
{
	secret_wipe(st->stored_key, sizeof(st->stored_key));
	secret_wipe(st->server_key, sizeof(st->server_key));
	st->state = SCRAM_STATE_DONE;
}

static enum mech_status scram_fail(struct mech_request *req, struct scram *st, const char *reason)
{
	scram_wipe(st);
	req->fail_reason = reason;
	return MECH_FAILURE;
}

static enum mech_status scram_client_first(struct mech_request *req, struct scram *st,
					   const uint8_t *in, size_t len)
{
	const char *error;
	if (len == 0 || len > SCRAM_MESSAGE_MAX || memchr(in, '\0', len) != NULL)
		return scram_fail(req, st, "Invalid initial client message");
	/* keep a copy: the spans must outlive the caller's buffer */
	const uint8_t *copy = (const uint8_t *)pool_strndup(req->pool, in, len);
	if (scram_parse_client_first(req->pool, copy, len, &st->first, &error) <= 0)
		return scram_fail(req, st, error);
	if (req->username_check != NULL &&
	    req->username_check(req, (const uint8_t *)st->first.username,
				strlen(st->first.username)) <= 0)
		return scram_fail(req, st, "invalid username");
	req->authcid = st->first.username;
	req->authzid = st->first.authzid;
	st->state = SCRAM_STATE_CREDENTIALS;
	return MECH_LOOKUP_CREDENTIALS;
}

/* Appends n server nonce characters to out. Returns 0 or -1. */
static int scram_append_server_nonce(struct buf *out, size_t n)
{
	uint8_t rnd[SCRAM_RANDOM_BATCH];
	size_t have = 0;
	while (have < n) {
		if (csprng_bytes(rnd, sizeof(rnd)) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(rnd) && have < n; i++) {
			if (rnd[i] >= 2 * SCRAM_NONCE_RANGE)
				continue;   /* keep the distribution uniform */
			uint8_t c = (uint8_t)(SCRAM_NONCE_FIRST + rnd[i] % SCRAM_NONCE_RANGE);
			if (buf_append_byte(out, c == ',' ? '~' : c) < 0)
				return -1;
			have++;
		}
	}
	secret_wipe(rnd, sizeof(rnd));
	return 0;
}

/* Builds server-first into a pool copy and out. Returns 0 or -1. */
static int scram_server_first(struct mech_request *req, struct scram *st,
			      const struct scram_credentials *cred, struct buf *out)
{
	struct buf msg = BUF_INIT(SCRAM_MESSAGE_MAX);
	int ret = buf_append_str(&msg, "r=");
	ret = ret < 0 ? -1 : buf_append(&msg, st->first.cnonce.p, st->first.cnonce.len);
	if (ret == 0 && req->test_nonce != NULL)
		ret = buf_append(&msg, req->test_nonce, req->test_nonce_len);
	else if (ret == 0)
		ret = scram_append_server_nonce(&msg, SCRAM_SERVER_NONCE_LEN);
	size_t nonce_len = msg.len - 2;
	ret = ret < 0 ? -1 : buf_append_str(&msg, ",s=");
	ret = ret < 0 ? -1 : buf_append(&msg, cred->salt_b64.p, cred->salt_b64.len);
	ret = ret < 0 ? -1 : buf_printf(&msg, ",i=%u", (unsigned int)cred->iterations);
	ret = ret < 0 ? -1 : buf_append(out, msg.data, msg.len);
	if (ret == 0) {
		st->server_first = pool_strndup(req->pool, msg.data, msg.len);
		st->server_first_len = msg.len;
		st->nonce = (struct scram_span){ st->server_first + 2, nonce_len };
	}
	buf_free(&msg);
	return ret;
}

static enum mech_status scram_resume(struct mech_request *req, const struct scram_hash *hash,
				     const uint8_t *cred, size_t len, struct buf *out)
{
	struct scram *st = req->priv;
	if (st == NULL || st->state != SCRAM_STATE_CREDENTIALS || st->hash != hash) {
		req->fail_reason = "unexpected credentials";
		return MECH_FAILURE;
	}
	struct scram_credentials c;
	const char *error;
	enum mech_status status = MECH_CONTINUE;
	if (scram_parse_credentials(cred, len, hash->len, &c, &error) <= 0) {
		status = scram_fail(req, st, error);
	} else if (scram_server_first(req, st, &c, out) < 0) {
		status = scram_fail(req, st, "server-first message too long");
	} else {
		memcpy(st->stored_key, c.stored_key, hash->len);
		memcpy(st->server_key, c.server_key, hash->len);
		st->state = SCRAM_STATE_FINAL;
	}
	secret_wipe(&c, sizeof(c));
	return status;
}

/* The first two fields of client-final: "c=" base64(gs2 header) and
 * "r=" the combined nonce. Returns 1 or 0. */
static int scram_check_final_fields(const struct scram *st, const struct scram_client_final *f)
{
	struct buf cbind = BUF_INIT(SCRAM_GS2_B64_MAX);
	int ok = buf_append_str(&cbind, "c=") == 0 &&
		 base64_encode(&cbind, (const uint8_t *)st->first.gs2_header.p,
			       st->first.gs2_header.len) == 0 &&
		 secret_equal(f->cbind.p, f->cbind.len, cbind.data, cbind.len);
	buf_free(&cbind);
	return ok && secret_equal(f->nonce.p + 2, f->nonce.len - 2, st->nonce.p, st->nonce.len);
}

/* AuthMessage = client-first-bare "," server-first "," final-without-proof.
 * Returns a pool copy, or NULL when it would be too long. */
static const char *scram_auth_message(struct mech_request *req, const struct scram *st,
				      const struct scram_client_final *f, size_t *len_r)
{
	size_t len = st->first.bare.len + 1 + st->server_first_len + 1 + f->without_proof.len;
	if (len > 3 * SCRAM_MESSAGE_MAX)
		return NULL;
	char *msg = pool_alloc(req->pool, len + 1);
	char *p = msg;
	memcpy(p, st->first.bare.p, st->first.bare.len);
	p += st->first.bare.len;
	*p++ = ',';
	memcpy(p, st->server_first, st->server_first_len);
	p += st->server_first_len;
	*p++ = ',';
	memcpy(p, f->without_proof.p, f->without_proof.len);
	*len_r = len;
	return msg;
}

/* Checks the proof and computes ServerSignature into sig_r.
 * Returns 1 match, 0 mismatch, -1 OpenSSL failure. */
static int scram_verify_proof(const struct scram *st, const uint8_t *proof,
			      const char *msg, size_t msg_len, uint8_t sig_r[SCRAM_HASH_MAX])
{
	const EVP_MD *md = st->hash->md();
	const int hlen = (int)st->hash->len;
	uint8_t client_sig[SCRAM_HASH_MAX], client_key[SCRAM_HASH_MAX], stored[SCRAM_HASH_MAX];
	unsigned int n1 = 0, n2 = 0, n3 = 0;
	int ret = -1;
	if (HMAC(md, st->stored_key, hlen, (const uint8_t *)msg, msg_len, client_sig, &n1) != NULL &&
	    HMAC(md, st->server_key, hlen, (const uint8_t *)msg, msg_len, sig_r, &n2) != NULL &&
	    n1 == (unsigned int)hlen && n2 == (unsigned int)hlen) {
		for (size_t i = 0; i < st->hash->len; i++)
			client_key[i] = proof[i] ^ client_sig[i];
		if (EVP_Digest(client_key, st->hash->len, stored, &n3, md, NULL) == 1 &&
		    n3 == (unsigned int)hlen)
			ret = secret_equal(stored, st->hash->len, st->stored_key, st->hash->len);
	}
	secret_wipe(client_sig, sizeof(client_sig));
	secret_wipe(client_key, sizeof(client_key));
	secret_wipe(stored, sizeof(stored));
	return ret;
}

static enum mech_status scram_client_final(struct mech_request *req, struct scram *st,
					   const uint8_t *in, size_t len, struct buf *out)
{
	struct scram_client_final f;
	const char *error, *msg;
	size_t msg_len;
	uint8_t proof[SCRAM_HASH_MAX], sig[SCRAM_HASH_MAX];
	if (len == 0 || len > SCRAM_MESSAGE_MAX || memchr(in, '\0', len) != NULL)
		return scram_fail(req, st, "Invalid final client message");
	if (scram_parse_client_final(in, len, &f, &error) <= 0)
		return scram_fail(req, st, error);
	if (!scram_check_final_fields(st, &f))
		return scram_fail(req, st, "Invalid channel binding data or nonce");
	if (!scram_base64_decode_exact(f.proof_b64.p, f.proof_b64.len, proof, st->hash->len))
		return scram_fail(req, st, "Invalid ClientProof");
	if ((msg = scram_auth_message(req, st, &f, &msg_len)) == NULL)
		return scram_fail(req, st, "Invalid final client message");
	int ret = scram_verify_proof(st, proof, msg, msg_len, sig);
	if (ret == 1 && (buf_append_str(out, "v=") < 0 || base64_encode(out, sig, st->hash->len) < 0))
		ret = -1;
	secret_wipe(proof, sizeof(proof));
	secret_wipe(sig, sizeof(sig));
	if (ret <= 0) {
		buf_reset(out);
		return scram_fail(req, st, ret == 0 ? "Password mismatch" : "failed to compute the proof");
	}
	scram_wipe(st);
	return MECH_SUCCESS;
}

static enum mech_status scram_step(struct mech_request *req, const struct scram_hash *hash,
				   const uint8_t *in, size_t len, bool absent, struct buf *out)
{
	struct scram *st = req->priv;
	if (st == NULL) {
		req->priv = st = pool_alloc(req->pool, sizeof(*st));
		st->hash = hash;
	}
	if (st->hash != hash)
		return scram_fail(req, st, "unexpected message");
	switch (st->state) {
	case SCRAM_STATE_INIT:
		if (absent)
			return MECH_CONTINUE;   /* empty challenge */
		return scram_client_first(req, st, in, len);
	case SCRAM_STATE_FINAL:
		return scram_client_final(req, st, in, len, out);
	case SCRAM_STATE_CREDENTIALS:
	case SCRAM_STATE_DONE:
		break;
	}
	return scram_fail(req, st, "unexpected message");
}

#define SCRAM_MECH(sfx, wire_name, h)							\
	static enum mech_status mech_scram_##sfx##_step(struct mech_request *req,	\
							const uint8_t *in, size_t len,	\
							bool absent, struct buf *out)	\
	{										\
		return scram_step(req, &(h), in, len, absent, out);			\
	}										\
	static enum mech_status mech_scram_##sfx##_resume(struct mech_request *req,	\
							  const uint8_t *cred,		\
							  size_t len, struct buf *out)	\
	{										\
		return scram_resume(req, &(h), cred, len, out);				\
	}										\
	const struct mech mech_scram_##sfx = {						\
		.name = (wire_name),							\
		.flags = MECH_FLAG_MUTUAL_AUTH,						\
		.cred_scheme = (wire_name),						\
		.step = mech_scram_##sfx##_step,					\
		.resume = mech_scram_##sfx##_resume,					\
	}

SCRAM_MECH(sha1, "SCRAM-SHA-1", scram_sha1);
SCRAM_MECH(sha256, "SCRAM-SHA-256", scram_sha256);
SCRAM_MECH(sha512, "SCRAM-SHA-512", scram_sha512);
