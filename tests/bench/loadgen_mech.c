/* loadgen_mech: the client side of PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5
 * (RFC 2831, md5-sess, qop=auth) and SCRAM-SHA-256 (RFC 5802/7677, no
 * channel binding) for the load generator. Crypto is OpenSSL's. SCRAM's
 * salted password is derived once per user and salt and cached, as real
 * clients may do, so the client does not pay PBKDF2 per request. The
 * digest and MAC algorithms are fetched once per thread and their contexts
 * reused: OpenSSL 3's one-shot HMAC()/EVP_Digest() fetch them per call,
 * which made the client, not the server, the bound of the CRAM-MD5 and
 * DIGEST-MD5 cells. */
#include "tests/bench/loadgen.h"

#include "common/base64.h"
#include "common/secret.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MD5_LEN 16u
#define DIGEST_URI "smtp/localhost"
#define LOGIN_USER_PROMPT "Username:"
#define LOGIN_PASS_PROMPT "Password:"

struct lg_mech_ctx {
	const struct lg_cfg *cfg;
	uint64_t nonce_counter;
	struct lg_scram_keys *scram;      /* [cfg->users], lazily filled */
	EVP_MD *md5;                      /* fetched once */
	EVP_MD_CTX *md;                   /* reused for every MD5 */
	EVP_MAC_CTX *hmac_md5;            /* HMAC-MD5, digest set once */
};

/* The MD5 and HMAC-MD5 objects. Returns 0 or -1. */
static int lg_mech_ctx_crypto(struct lg_mech_ctx *ctx)
{
	ctx->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	ctx->md = EVP_MD_CTX_new();
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx->hmac_md5 = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"MD5", 0),
		OSSL_PARAM_construct_end(),
	};
	if (ctx->md5 == NULL || ctx->md == NULL || ctx->hmac_md5 == NULL ||
	    EVP_MAC_CTX_set_params(ctx->hmac_md5, params) != 1)
		return -1;
	return 0;
}

struct lg_mech_ctx *lg_mech_ctx_create(const struct lg_cfg *cfg)
{
	struct lg_mech_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->cfg = cfg;
	ctx->nonce_counter = (uint64_t)(uintptr_t)ctx ^ lg_now_ns();
	if (lg_mech_ctx_crypto(ctx) < 0) {
		lg_mech_ctx_destroy(&ctx);
		return NULL;
	}
	if (cfg->mech == LG_MECH_SCRAM_SHA_256) {
		ctx->scram = calloc(cfg->users + 1u, sizeof(*ctx->scram));
		if (ctx->scram == NULL) {
			lg_mech_ctx_destroy(&ctx);
			return NULL;
		}
	}
	return ctx;
}

void lg_mech_ctx_destroy(struct lg_mech_ctx **ctxp)
{
	if (*ctxp == NULL)
		return;
	free((*ctxp)->scram);
	EVP_MAC_CTX_free((*ctxp)->hmac_md5);
	EVP_MD_CTX_free((*ctxp)->md);
	EVP_MD_free((*ctxp)->md5);
	free(*ctxp);
	*ctxp = NULL;
}

static void make_cnonce(struct lg_mech_ctx *ctx, struct lg_req *req)
{
	snprintf(req->cnonce, sizeof(req->cnonce), "%016llx%08x",
		 (unsigned long long)(ctx->nonce_counter++ * 0x9e3779b97f4a7c15ull), req->id);
}

static void md5(struct lg_mech_ctx *ctx, const void *data, size_t len, uint8_t out[MD5_LEN])
{
	unsigned int n = MD5_LEN;
	EVP_DigestInit_ex(ctx->md, ctx->md5, NULL);
	EVP_DigestUpdate(ctx->md, data, len);
	EVP_DigestFinal_ex(ctx->md, out, &n);
}

static void to_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* ---- PLAIN, LOGIN, CRAM-MD5 ------------------------------------------- */

static int plain_initial(const struct lg_req *req, struct buf *out)
{
	return authc_plain_message(out, "", req->user_name, (const uint8_t *)req->password,
				   strlen(req->password));
}

static bool chal_is(const uint8_t *chal, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(chal, want, len) == 0;
}

static int login_step(struct lg_req *req, const uint8_t *chal, size_t len, struct buf *out,
		      const char **error_r)
{
	const char *want = req->step == 0 ? LOGIN_USER_PROMPT : LOGIN_PASS_PROMPT;
	if (req->step > 1 || !chal_is(chal, len, want)) {
		*error_r = "LOGIN: unexpected prompt";
		return -1;
	}
	req->step++;
	return buf_append_str(out, req->step == 1 ? req->user_name : req->password);
}

static int cram_step(struct lg_mech_ctx *ctx, struct lg_req *req, const uint8_t *chal,
		     size_t len, struct buf *out, const char **error_r)
{
	uint8_t mac[MD5_LEN];
	size_t maclen = 0;
	char hex[2 * MD5_LEN + 1];

	if (req->step > 0 || len < 3 || chal[0] != '<' || chal[len - 1] != '>') {
		*error_r = "CRAM-MD5: unexpected challenge";
		return -1;
	}
	req->step++;
	if (EVP_MAC_init(ctx->hmac_md5, (const uint8_t *)req->password, strlen(req->password),
			 NULL) != 1 ||
	    EVP_MAC_update(ctx->hmac_md5, chal, len) != 1 ||
	    EVP_MAC_final(ctx->hmac_md5, mac, &maclen, sizeof(mac)) != 1 || maclen != MD5_LEN) {
		*error_r = "CRAM-MD5: HMAC failed";
		return -1;
	}
	to_hex(mac, MD5_LEN, hex);
	if (buf_append_str(out, req->user_name) < 0 || buf_append_byte(out, ' ') < 0)
		return -1;
	return buf_append_str(out, hex);
}

/* ---- DIGEST-MD5 ------------------------------------------------------- */

/* Copies the quoted value of key="..." in the challenge into out. */
static int digest_param(const uint8_t *chal, size_t len, const char *key, char *out,
			size_t out_size)
{
	size_t klen = strlen(key);
	for (size_t i = 0; i + klen + 2 <= len; i++) {
		if ((i > 0 && chal[i - 1] != ',') || memcmp(chal + i, key, klen) != 0 ||
		    chal[i + klen] != '=' || chal[i + klen + 1] != '"')
			continue;
		size_t start = i + klen + 2, end = start;
		while (end < len && chal[end] != '"')
			end++;
		if (end == len || end - start >= out_size)
			return -1;
		memcpy(out, chal + start, end - start);
		out[end - start] = '\0';
		return 0;
	}
	return -1;
}

/* hex(MD5(hex(HA1):nonce:00000001:cnonce:auth:hex(MD5(a2)))) */
static void digest_value(struct lg_mech_ctx *ctx, const char *ha1_hex, const char *nonce, const char *cnonce,
			 const char *a2, char out[2 * MD5_LEN + 1])
{
	char buf[512], a2_hex[2 * MD5_LEN + 1];
	uint8_t h[MD5_LEN];
	md5(ctx, a2, strlen(a2), h);
	to_hex(h, MD5_LEN, a2_hex);
	int n = snprintf(buf, sizeof(buf), "%s:%s:00000001:%s:auth:%s", ha1_hex, nonce, cnonce,
			 a2_hex);
	md5(ctx, buf, (size_t)n, h);
	to_hex(h, MD5_LEN, out);
}

static int digest_step(struct lg_mech_ctx *ctx, struct lg_req *req, const uint8_t *chal,
		       size_t len, struct buf *out, const char **error_r)
{
	char nonce[128], realm[128], buf[512], ha1_hex[2 * MD5_LEN + 1], resp[2 * MD5_LEN + 1];
	uint8_t h[MD5_LEN + 128];

	if (req->step > 0 || digest_param(chal, len, "nonce", nonce, sizeof(nonce)) < 0 ||
	    digest_param(chal, len, "realm", realm, sizeof(realm)) < 0) {
		*error_r = "DIGEST-MD5: unexpected challenge";
		return -1;
	}
	req->step++;
	make_cnonce(ctx, req);
	int n = snprintf(buf, sizeof(buf), "%s:%s:%s", req->user_name, realm, req->password);
	md5(ctx, buf, (size_t)n, h);
	n = snprintf((char *)h + MD5_LEN, sizeof(h) - MD5_LEN, ":%s:%s", nonce, req->cnonce);
	uint8_t ha1[MD5_LEN];
	md5(ctx, h, MD5_LEN + (size_t)n, ha1);
	to_hex(ha1, MD5_LEN, ha1_hex);
	digest_value(ctx, ha1_hex, nonce, req->cnonce, "AUTHENTICATE:" DIGEST_URI, resp);
	char rspauth[2 * MD5_LEN + 1];
	digest_value(ctx, ha1_hex, nonce, req->cnonce, ":" DIGEST_URI, rspauth);
	req->expect_len = (size_t)snprintf(req->expect, sizeof(req->expect), "rspauth=%s", rspauth);
	return buf_printf(out, "username=\"%s\",%s%s%snonce=\"%s\",cnonce=\"%s\",nc=00000001,"
			  "qop=auth,digest-uri=\"" DIGEST_URI "\",response=%s,charset=utf-8",
			  req->user_name, realm[0] != '\0' ? "realm=\"" : "", realm,
			  realm[0] != '\0' ? "\"," : "", nonce, req->cnonce, resp);
}

/* ---- SCRAM-SHA-256 ---------------------------------------------------- */

static int scram_initial(struct lg_mech_ctx *ctx, struct lg_req *req, struct buf *out)
{
	make_cnonce(ctx, req);
	req->auth_msg_len = (size_t)snprintf(req->auth_msg, sizeof(req->auth_msg), "n=%s,r=%s",
					     req->user_name, req->cnonce);
	return buf_printf(out, "n,,%s", req->auth_msg);
}

static void hmac256(const uint8_t *key, size_t klen, const void *data, size_t len,
		    uint8_t out[LG_SCRAM_KEY_LEN])
{
	unsigned int n = LG_SCRAM_KEY_LEN;
	HMAC(EVP_sha256(), key, (int)klen, data, len, out, &n);
}

static int scram_derive(const struct lg_req *req, struct lg_scram_keys *k)
{
	uint8_t salted[LG_SCRAM_KEY_LEN];
	if (PKCS5_PBKDF2_HMAC(req->password, (int)strlen(req->password), k->salt,
			      (int)k->salt_len, (int)k->iter, EVP_sha256(), sizeof(salted),
			      salted) != 1)
		return -1;
	hmac256(salted, sizeof(salted), "Client Key", 10, k->client_key);
	SHA256(k->client_key, sizeof(k->client_key), k->stored_key);
	hmac256(salted, sizeof(salted), "Server Key", 10, k->server_key);
	secret_wipe(salted, sizeof(salted));
	k->valid = true;
	return 0;
}

/* The user's keys for this salt and iteration count (cached unless the
 * password is a wrong one). */
static int scram_keys(struct lg_mech_ctx *ctx, const struct lg_req *req, const struct buf *salt,
		      unsigned int iter, struct lg_scram_keys *tmp, const struct lg_scram_keys **k_r)
{
	unsigned int i = req->user - ctx->cfg->first_user;
	struct lg_scram_keys *k = req->wrong || i >= ctx->cfg->users ? tmp : &ctx->scram[i];
	if (salt->len > sizeof(k->salt))
		return -1;
	if (!k->valid || k->iter != iter || k->salt_len != salt->len ||
	    memcmp(k->salt, salt->data, salt->len) != 0) {
		memcpy(k->salt, salt->data, salt->len);
		k->salt_len = salt->len;
		k->iter = iter;
		if (scram_derive(req, k) < 0)
			return -1;
	}
	*k_r = k;
	return 0;
}

/* Splits server-first "r=...,s=...,i=..." into its parts. */
static int scram_parse_first(const uint8_t *chal, size_t len, const struct lg_req *req,
			     struct buf *salt, unsigned int *iter_r, size_t *r_len_r)
{
	const uint8_t *s = memmem(chal, len, ",s=", 3), *i = memmem(chal, len, ",i=", 3);
	size_t clen = strlen(req->cnonce);
	if (len < 2 + clen || memcmp(chal, "r=", 2) != 0 || memcmp(chal + 2, req->cnonce, clen) != 0 ||
	    s == NULL || i == NULL || i < s)
		return -1;
	*r_len_r = (size_t)(s - chal);
	if (base64_decode(salt, s + 3, (size_t)(i - s - 3)) != 1)
		return -1;
	char num[16];
	size_t nlen = (size_t)(chal + len - (i + 3));
	if (nlen == 0 || nlen >= sizeof(num))
		return -1;
	memcpy(num, i + 3, nlen);
	num[nlen] = '\0';
	*iter_r = (unsigned int)strtoul(num, NULL, 10);
	return *iter_r > 0 ? 0 : -1;
}

static int scram_step(struct lg_mech_ctx *ctx, struct lg_req *req, const uint8_t *chal,
		      size_t len, struct buf *out, const char **error_r)
{
	struct buf salt = BUF_INIT(256), proof64 = BUF_INIT(128);
	struct lg_scram_keys tmp = { .valid = false };
	const struct lg_scram_keys *k;
	unsigned int iter;
	size_t r_len;
	int ret = -1;

	*error_r = "SCRAM: unexpected server-first";
	if (req->step == 0 && scram_parse_first(chal, len, req, &salt, &iter, &r_len) == 0 &&
	    scram_keys(ctx, req, &salt, iter, &tmp, &k) == 0) {
		req->step++;
		char final_wo[LG_AUTH_MSG_MAX];
		int n = snprintf(final_wo, sizeof(final_wo), "c=biws,%.*s", (int)r_len, (const char *)chal);
		int m = snprintf(req->auth_msg + req->auth_msg_len,
				 sizeof(req->auth_msg) - req->auth_msg_len, ",%.*s,%s", (int)len,
				 (const char *)chal, final_wo);
		if (n > 0 && m > 0 && req->auth_msg_len + (size_t)m < sizeof(req->auth_msg)) {
			size_t am_len = req->auth_msg_len + (size_t)m;
			uint8_t sig[LG_SCRAM_KEY_LEN], proof[LG_SCRAM_KEY_LEN], ssig[LG_SCRAM_KEY_LEN];
			hmac256(k->stored_key, LG_SCRAM_KEY_LEN, req->auth_msg, am_len, sig);
			for (size_t j = 0; j < LG_SCRAM_KEY_LEN; j++)
				proof[j] = k->client_key[j] ^ sig[j];
			hmac256(k->server_key, LG_SCRAM_KEY_LEN, req->auth_msg, am_len, ssig);
			struct buf v = BUF_INIT(LG_EXPECT_MAX - 3);
			if (base64_encode(&proof64, proof, sizeof(proof)) == 0 &&
			    base64_encode(&v, ssig, sizeof(ssig)) == 0) {
				req->expect_len = (size_t)snprintf(req->expect, sizeof(req->expect),
								   "v=%s", buf_cstr(&v));
				ret = buf_printf(out, "%s,p=%s", final_wo, buf_cstr(&proof64));
			}
			buf_free(&v);
		}
	}
	secret_wipe(&tmp, sizeof(tmp));
	buf_free(&salt);
	buf_free(&proof64);
	return ret;
}

/* ---- dispatch --------------------------------------------------------- */

int lg_mech_initial(struct lg_mech_ctx *ctx, struct lg_req *req, struct buf *out, bool *has_r)
{
	req->step = 0;
	req->expect_len = 0;
	*has_r = true;
	switch (ctx->cfg->mech) {
	case LG_MECH_PLAIN:
		return plain_initial(req, out);
	case LG_MECH_SCRAM_SHA_256:
		return scram_initial(ctx, req, out);
	case LG_MECH_LOGIN:
	case LG_MECH_CRAM_MD5:
	case LG_MECH_DIGEST_MD5:
		*has_r = false;
		return 0;
	}
	return -1;
}

int lg_mech_step(struct lg_mech_ctx *ctx, struct lg_req *req, const uint8_t *chal, size_t len,
		 struct buf *out, const char **error_r)
{
	switch (ctx->cfg->mech) {
	case LG_MECH_LOGIN:
		return login_step(req, chal, len, out, error_r);
	case LG_MECH_CRAM_MD5:
		return cram_step(ctx, req, chal, len, out, error_r);
	case LG_MECH_DIGEST_MD5:
		return digest_step(ctx, req, chal, len, out, error_r);
	case LG_MECH_SCRAM_SHA_256:
		return scram_step(ctx, req, chal, len, out, error_r);
	case LG_MECH_PLAIN:
		break;
	}
	*error_r = "unexpected CONT";
	return -1;
}

int lg_mech_final(const struct lg_req *req, const uint8_t *data, size_t len,
		  const char **error_r)
{
	if (req->expect_len == 0) {
		if (data != NULL && len > 0) {
			*error_r = "unexpected final data";
			return -1;
		}
		return 0;
	}
	if (data == NULL || len != req->expect_len || memcmp(data, req->expect, len) != 0) {
		*error_r = "wrong or missing final data (rspauth / v=)";
		return -1;
	}
	return 0;
}
