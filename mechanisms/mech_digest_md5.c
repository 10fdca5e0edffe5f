/* DIGEST-MD5 (RFC 2831, server side, authentication only), spec 6.4.
 *
 * step 1 (an initial response is ignored): the challenge
 *   realm="r1",...,nonce="<b64 of 16 random bytes>",qop="auth",
 *   charset="utf-8",algorithm="md5-sess"
 *   with one realm per auth_realms entry, or realm="" when there is none.
 * step 2: the digest-response (parsed by mech_digest_md5_parse.c); the
 *   nonce must be ours (constant-time compare) -> MECH_LOOKUP_CREDENTIALS
 *   for DIGEST-MD5 (16 bytes MD5(cred_user ":" cred_realm ":" password)).
 *   The lookup name (authcid) is username@realm when a realm was given and
 *   the username has no '@', else the username; cred_user/cred_realm are
 *   exactly the strings the client hashed (spec 5.2). A non-empty authzid
 *   is a master-user login (the request code handles it).
 * resume: verifies the md5-sess response; success carries the final data
 *   "rspauth=<32 hex>" (A2 = ":" digest-uri).
 *
 * Decision: digest-uri's service IS checked, unlike Dovecot. The response
 * hash covers digest-uri, so checking its serv-type against the request's
 * service= stops a response made for another kind of server (a rogue IMAP
 * server relaying our challenge to a user's mail client) from being
 * replayed to us as SMTP. The comparison is case-insensitive and knows the
 * names clients use where Dovecot's service name differs: submission ->
 * smtp, pop3 -> pop, managesieve -> sieve. Real clients pass: Postfix and
 * Exim use service=smtp and swaks (Authen::SASL), gsasl and Cyrus clients
 * send digest-uri="smtp/<host>". When the request has no service (NULL or
 * the empty service= the protocol allows) nothing is checked. Because of
 * the check, digest-uri is required (RFC 2831 says it MUST be present;
 * Dovecot tolerates its absence). The host part is not checked: clients
 * use whatever name they connected to. */
/* The low-level MD5 API: a stack context, no EVP fetch or allocation per
 * hash (deprecated in OpenSSL 3 but present; common/scheme_sasl.c needs
 * it anyway for the CRAM-MD5 intermediate states). */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "mechanisms/mech.h"
#include "mechanisms/mech_digest_md5_private.h"
#include "common/base64.h"
#include "common/csprng.h"
#include "common/pool.h"
#include "common/secret.h"

#include <openssl/md5.h>
#include <string.h>
#include <strings.h>

#define DIGEST_MD5_NONCE_BYTES 16u
#define DIGEST_MD5_NONCE_MAX 64u        /* our nonce text (base64 of 16 bytes: 24) */
_Static_assert(BASE64_ENCODED_LEN(DIGEST_MD5_NONCE_BYTES) <= DIGEST_MD5_NONCE_MAX,
	       "the nonce fits");
#define DIGEST_MD5_CRED_LEN 16u         /* MD5(user:realm:pass) */
#define DIGEST_MD5_HASH_LEN 16u
#define DIGEST_MD5_HEX_LEN (2u * DIGEST_MD5_HASH_LEN)

enum digest_md5_state {
	DIGEST_MD5_STATE_INIT = 0,
	DIGEST_MD5_STATE_RESPONSE,     /* challenge sent */
	DIGEST_MD5_STATE_CREDENTIALS,  /* waiting for resume() */
	DIGEST_MD5_STATE_DONE,
};

struct digest_md5 {
	enum digest_md5_state state;
	char nonce[DIGEST_MD5_NONCE_MAX + 1];
	size_t nonce_len;
	struct digest_md5_response resp;
};

/* Dovecot service names whose SASL service name (digest-uri serv-type)
 * differs; every service also accepts its own name. */
static const struct {
	const char *service;
	const char *serv_type;
} digest_md5_service_aliases[] = {
	{ "submission", "smtp" },
	{ "pop3", "pop" },
	{ "managesieve", "sieve" },
};

struct digest_md5_part {
	const void *p;
	size_t len;
};

#define PART_STR(s) ((struct digest_md5_part){ (s), sizeof(s) - 1 })
#define PART_VAL(v) ((struct digest_md5_part){ (v).str, (v).len })

/* Continues ctx with the parts. Returns 0, or -1 if OpenSSL fails. */
static int digest_md5_update(MD5_CTX *ctx, const struct digest_md5_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (MD5_Update(ctx, parts[i].p, parts[i].len) != 1)
			return -1;
	return 0;
}

/* MD5 over the concatenated parts. Returns 0, or -1 if OpenSSL fails. */
static int digest_md5_hash(const struct digest_md5_part *parts, size_t n,
			   uint8_t out[DIGEST_MD5_HASH_LEN])
{
	MD5_CTX ctx;
	int ok = MD5_Init(&ctx) == 1 && digest_md5_update(&ctx, parts, n) == 0 &&
		 MD5_Final(out, &ctx) == 1;
	secret_wipe(&ctx, sizeof(ctx));
	return ok ? 0 : -1;
}

/* Appends realm="..." with '"' and '\' escaped. Returns 0 or -1. */
static int digest_md5_append_realm(struct buf *out, const char *realm, size_t len)
{
	if (buf_append_str(out, "realm=\"") < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((realm[i] == '"' || realm[i] == '\\') && buf_append_byte(out, '\\') < 0)
			return -1;
		if (buf_append_byte(out, (uint8_t)realm[i]) < 0)
			return -1;
	}
	return buf_append_str(out, "\",");
}

static int digest_md5_append_realms(struct buf *out, const char *realms)
{
	size_t count = 0;
	const char *p = realms != NULL ? realms : "";
	while (*p != '\0') {
		size_t skip = strspn(p, " \t");
		p += skip;
		size_t len = strcspn(p, " \t");
		if (len == 0)
			continue;
		if (digest_md5_append_realm(out, p, len) < 0)
			return -1;
		count++;
		p += len;
	}
	return count > 0 ? 0 : digest_md5_append_realm(out, "", 0);
}

static int digest_md5_make_nonce(struct mech_request *req, struct digest_md5 *st)
{
	if (req->test_nonce != NULL) {
		if (req->test_nonce_len > DIGEST_MD5_NONCE_MAX)
			return -1;
		memcpy(st->nonce, req->test_nonce, req->test_nonce_len);
		st->nonce_len = req->test_nonce_len;
		st->nonce[st->nonce_len] = '\0';
		return 0;
	}
	uint8_t raw[DIGEST_MD5_NONCE_BYTES];
	if (csprng_bytes(raw, sizeof(raw)) < 0)
		return -1;
	base64_encode_str(st->nonce, raw, sizeof(raw));
	st->nonce_len = BASE64_ENCODED_LEN(sizeof(raw));
	secret_wipe(raw, sizeof(raw));
	return 0;
}

static enum mech_status digest_md5_challenge(struct mech_request *req, struct digest_md5 *st,
					     struct buf *out)
{
	if (digest_md5_make_nonce(req, st) < 0) {
		req->fail_reason = "failed to make a nonce";
		return MECH_FAILURE;
	}
	if (digest_md5_append_realms(out, req->env != NULL ? req->env->realms : NULL) < 0 ||
	    buf_append_str(out, "nonce=\"") < 0 ||
	    buf_append(out, st->nonce, st->nonce_len) < 0 ||
	    buf_append_str(out, "\",qop=\"auth\",charset=\"utf-8\",algorithm=\"md5-sess\"") < 0) {
		buf_reset(out);
		req->fail_reason = "challenge too long";
		return MECH_FAILURE;
	}
	st->state = DIGEST_MD5_STATE_RESPONSE;
	return MECH_CONTINUE;
}

/* 1 if digest-uri's serv-type fits req->service (or there is none to
 * check), else 0. */
static int digest_md5_service_ok(const struct mech_request *req, const struct digest_md5_value *uri)
{
	const char *service = req->service;
	if (service == NULL || *service == '\0')
		return 1;
	const char *slash = memchr(uri->str, '/', uri->len);
	size_t type_len = (size_t)(slash - uri->str);   /* the parser ensured a '/' */
	if (strlen(service) == type_len && strncasecmp(service, uri->str, type_len) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(digest_md5_service_aliases) / sizeof(digest_md5_service_aliases[0]); i++) {
		const char *type = digest_md5_service_aliases[i].serv_type;
		if (strcasecmp(service, digest_md5_service_aliases[i].service) == 0 &&
		    strlen(type) == type_len && strncasecmp(type, uri->str, type_len) == 0)
			return 1;
	}
	return 0;
}

/* Sets authcid, authzid, cred_user and cred_realm (spec 5.2, 6.4). */
static int digest_md5_set_names(struct mech_request *req, const struct digest_md5_response *r)
{
	const struct digest_md5_value *user = &r->field[DIGEST_MD5_FIELD_USERNAME];
	const struct digest_md5_value *realm = &r->field[DIGEST_MD5_FIELD_REALM];
	const struct digest_md5_value *authzid = &r->field[DIGEST_MD5_FIELD_AUTHZID];
	req->cred_user = user->str;
	req->cred_realm = realm->str != NULL ? realm->str : "";
	if (realm->str != NULL && memchr(user->str, '@', user->len) == NULL)
		req->authcid = pool_printf(req->pool, "%s@%s", user->str, realm->str);
	else
		req->authcid = user->str;
	req->authzid = authzid->str != NULL ? authzid->str : "";
	if (req->username_check != NULL &&
	    req->username_check(req, (const uint8_t *)req->authcid, strlen(req->authcid)) <= 0)
		return 0;
	return 1;
}

static enum mech_status digest_md5_response(struct mech_request *req, struct digest_md5 *st,
					    const uint8_t *in, size_t len)
{
	const char *error;
	struct digest_md5_response *r = &st->resp;
	if (digest_md5_parse_response(req->pool, in, len, r, &error) <= 0) {
		req->fail_reason = error;
		return MECH_FAILURE;
	}
	const struct digest_md5_value *nonce = &r->field[DIGEST_MD5_FIELD_NONCE];
	if (!secret_equal(nonce->str, nonce->len, st->nonce, st->nonce_len)) {
		req->fail_reason = "Invalid nonce";
		return MECH_FAILURE;
	}
	if (!digest_md5_service_ok(req, &r->field[DIGEST_MD5_FIELD_DIGEST_URI])) {
		req->fail_reason = "digest-uri does not match the service";
		return MECH_FAILURE;
	}
	if (digest_md5_set_names(req, r) <= 0) {
		req->fail_reason = "invalid username";
		return MECH_FAILURE;
	}
	st->state = DIGEST_MD5_STATE_CREDENTIALS;
	return MECH_LOOKUP_CREDENTIALS;
}

static enum mech_status mech_digest_md5_step(struct mech_request *req, const uint8_t *in,
					     size_t len, bool absent, struct buf *out)
{
	struct digest_md5 *st = req->priv;
	if (st == NULL)
		req->priv = st = pool_alloc(req->pool, sizeof(*st));
	switch (st->state) {
	case DIGEST_MD5_STATE_INIT:
		return digest_md5_challenge(req, st, out);
	case DIGEST_MD5_STATE_RESPONSE:
		if (absent)
			break;
		st->state = DIGEST_MD5_STATE_DONE;
		return digest_md5_response(req, st, in, len);
	case DIGEST_MD5_STATE_CREDENTIALS:
	case DIGEST_MD5_STATE_DONE:
		break;
	}
	st->state = DIGEST_MD5_STATE_DONE;
	req->fail_reason = "unexpected message";
	return MECH_FAILURE;
}

/* ctx_r = MD5 state after ha1 ":" nonce ":" nc ":" cnonce ":" qop ":", the
 * part the response and rspauth share. Returns 0 or -1. */
static int digest_md5_kd_start(const struct digest_md5 *st, const char ha1[DIGEST_MD5_HEX_LEN],
			       MD5_CTX *ctx_r)
{
	const struct digest_md5_value *f = st->resp.field;
	const struct digest_md5_part kd[] = {
		{ ha1, DIGEST_MD5_HEX_LEN }, PART_STR(":"),
		{ st->nonce, st->nonce_len }, PART_STR(":"),
		PART_VAL(f[DIGEST_MD5_FIELD_NC]), PART_STR(":"),
		PART_VAL(f[DIGEST_MD5_FIELD_CNONCE]), PART_STR(":"),
		PART_VAL(f[DIGEST_MD5_FIELD_QOP]), PART_STR(":"),
	};
	size_t n = sizeof(kd) / sizeof(kd[0]);
	return MD5_Init(ctx_r) == 1 && digest_md5_update(ctx_r, kd, n) == 0 ? 0 : -1;
}

/* hex(MD5(<the shared start> hex(MD5(a2_prefix uri)))): the response
 * (a2_prefix "AUTHENTICATE:") or rspauth (":"). */
static int digest_md5_kd(const struct digest_md5 *st, const MD5_CTX *start,
			 const struct digest_md5_part *a2_prefix, char hex_r[DIGEST_MD5_HEX_LEN + 1])
{
	const struct digest_md5_value *f = st->resp.field;
	uint8_t h[DIGEST_MD5_HASH_LEN];
	char ha2[DIGEST_MD5_HEX_LEN + 1];
	struct digest_md5_part a2[] = { *a2_prefix, PART_VAL(f[DIGEST_MD5_FIELD_DIGEST_URI]) };
	if (digest_md5_hash(a2, 2, h) < 0)
		return -1;
	hex_encode_str(ha2, h, sizeof(h));
	MD5_CTX ctx = *start;
	int ret = MD5_Update(&ctx, ha2, DIGEST_MD5_HEX_LEN) == 1 && MD5_Final(h, &ctx) == 1 ? 0 : -1;
	if (ret == 0)
		hex_encode_str(hex_r, h, sizeof(h));
	secret_wipe(&ctx, sizeof(ctx));
	secret_wipe(h, sizeof(h));
	return ret;
}

/* hex(MD5(cred ":" nonce ":" cnonce [":" authzid])) */
static int digest_md5_ha1(const struct digest_md5 *st, const uint8_t *cred,
			  char hex_r[DIGEST_MD5_HEX_LEN + 1])
{
	const struct digest_md5_value *f = st->resp.field;
	const struct digest_md5_value *authzid = &f[DIGEST_MD5_FIELD_AUTHZID];
	struct digest_md5_part a1[] = {
		{ cred, DIGEST_MD5_CRED_LEN }, PART_STR(":"),
		{ st->nonce, st->nonce_len }, PART_STR(":"),
		PART_VAL(f[DIGEST_MD5_FIELD_CNONCE]), PART_STR(":"),
		PART_VAL(*authzid),
	};
	uint8_t h[DIGEST_MD5_HASH_LEN];
	int ret = digest_md5_hash(a1, authzid->str != NULL ? 7 : 5, h);
	if (ret == 0)
		hex_encode_str(hex_r, h, sizeof(h));
	secret_wipe(h, sizeof(h));
	return ret;
}

/* Verifies the response and appends "rspauth=..." to out.
 * Returns 1 match, 0 mismatch, -1 internal error. */
static int digest_md5_verify(const struct digest_md5 *st, const uint8_t *cred, struct buf *out)
{
	char ha1[DIGEST_MD5_HEX_LEN + 1], want[DIGEST_MD5_HEX_LEN + 1];
	char rspauth[DIGEST_MD5_HEX_LEN + 1];
	const struct digest_md5_part authenticate = PART_STR("AUTHENTICATE:");
	const struct digest_md5_part colon = PART_STR(":");
	const struct digest_md5_value *got = &st->resp.field[DIGEST_MD5_FIELD_RESPONSE];
	MD5_CTX kd_start;
	int ret = -1;
	if (digest_md5_ha1(st, cred, ha1) == 0 && digest_md5_kd_start(st, ha1, &kd_start) == 0 &&
	    digest_md5_kd(st, &kd_start, &authenticate, want) == 0 &&
	    digest_md5_kd(st, &kd_start, &colon, rspauth) == 0) {
		ret = secret_equal(got->str, got->len, want, DIGEST_MD5_HEX_LEN);
		if (ret == 1 && (buf_append_str(out, "rspauth=") < 0 ||
				 buf_append(out, rspauth, DIGEST_MD5_HEX_LEN) < 0)) {
			buf_reset(out);
			ret = -1;
		}
	}
	secret_wipe(&kd_start, sizeof(kd_start));
	secret_wipe(ha1, sizeof(ha1));
	secret_wipe(want, sizeof(want));
	secret_wipe(rspauth, sizeof(rspauth));
	return ret;
}

static enum mech_status mech_digest_md5_resume(struct mech_request *req, const uint8_t *cred,
					       size_t len, struct buf *out)
{
	struct digest_md5 *st = req->priv;
	if (st == NULL || st->state != DIGEST_MD5_STATE_CREDENTIALS) {
		req->fail_reason = "unexpected credentials";
		return MECH_FAILURE;
	}
	st->state = DIGEST_MD5_STATE_DONE;
	int ret = len == DIGEST_MD5_CRED_LEN ? digest_md5_verify(st, cred, out) : -1;
	struct digest_md5_value *resp = &st->resp.field[DIGEST_MD5_FIELD_RESPONSE];
	secret_wipe((char *)resp->str, resp->len);
	if (ret < 0) {
		req->fail_reason = len == DIGEST_MD5_CRED_LEN ? "failed to compute the digest" :
				   "invalid credentials length";
		return MECH_FAILURE;
	}
	if (ret == 0) {
		req->fail_reason = "Password mismatch";
		return MECH_FAILURE;
	}
	return MECH_SUCCESS;
}

const struct mech mech_digest_md5 = {
	.name = "DIGEST-MD5",
	.flags = MECH_FLAG_DICTIONARY | MECH_FLAG_ACTIVE | MECH_FLAG_MUTUAL_AUTH,
	.cred_scheme = "DIGEST-MD5",
	.step = mech_digest_md5_step,
	.resume = mech_digest_md5_resume,
};
