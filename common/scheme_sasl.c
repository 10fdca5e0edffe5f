/* scheme_sasl: the SASL credential schemes CRAM-MD5/HMAC-MD5 and
 * DIGEST-MD5 (password-schemes.md 3.10, 3.11); SCRAM is in scheme_scram.c.
 *
 * CRAM-MD5 stores MD5 intermediate states, which no EVP interface exposes,
 * so this file uses OpenSSL's low-level MD5_CTX (deprecated in 3.0 but
 * present; the fields A..D, Nl, Nh, num are the documented layout). */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "common/scheme_private.h"
#include "common/secret.h"

#include <openssl/md5.h>
#include <string.h>

#define SCHEME_HMAC_BLOCK 64u

static void scheme_put_le32(uint8_t *p, MD5_LONG v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
	p[2] = (uint8_t)((v >> 16) & 0xff);
	p[3] = (uint8_t)((v >> 24) & 0xff);
}

static MD5_LONG scheme_get_le32(const uint8_t *p)
{
	return (MD5_LONG)p[0] | (MD5_LONG)p[1] << 8 | (MD5_LONG)p[2] << 16 |
	       (MD5_LONG)p[3] << 24;
}

/* State after compressing one block (key XOR pad), serialised A B C D. */
static void scheme_md5_block_state(const uint8_t key[SCHEME_HMAC_BLOCK], uint8_t pad,
				   uint8_t out[16])
{
	uint8_t block[SCHEME_HMAC_BLOCK];
	MD5_CTX ctx;
	for (size_t i = 0; i < SCHEME_HMAC_BLOCK; i++)
		block[i] = key[i] ^ pad;
	MD5_Init(&ctx);
	MD5_Update(&ctx, block, sizeof(block));
	scheme_put_le32(out, ctx.A);
	scheme_put_le32(out + 4, ctx.B);
	scheme_put_le32(out + 8, ctx.C);
	scheme_put_le32(out + 12, ctx.D);
	secret_wipe(block, sizeof(block));
	secret_wipe(&ctx, sizeof(ctx));
}

int scheme_cram_md5_context(const uint8_t *password, size_t password_len,
			    uint8_t ctx_r[SCHEME_CRAM_MD5_CONTEXT_LEN])
{
	uint8_t key[SCHEME_HMAC_BLOCK] = { 0 };
	if (password_len > SCHEME_HMAC_BLOCK) {
		uint8_t digest[SCHEME_DIGEST_MAX];
		scheme_digest1(SCHEME_MD_MD5, password, password_len, digest);
		memcpy(key, digest, 16);
		secret_wipe(digest, sizeof(digest));
	} else if (password_len > 0) {
		memcpy(key, password, password_len);
	}
	scheme_md5_block_state(key, 0x5c, ctx_r);        /* outer first */
	scheme_md5_block_state(key, 0x36, ctx_r + 16);   /* then inner */
	secret_wipe(key, sizeof(key));
	return 0;
}

/* Resumes an MD5 state that has processed one 64-byte block. */
static void scheme_md5_resume(MD5_CTX *ctx, const uint8_t state[16])
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->A = scheme_get_le32(state);
	ctx->B = scheme_get_le32(state + 4);
	ctx->C = scheme_get_le32(state + 8);
	ctx->D = scheme_get_le32(state + 12);
	ctx->Nl = SCHEME_HMAC_BLOCK * 8;
	ctx->Nh = 0;
	ctx->num = 0;
}

void scheme_cram_md5_response(const uint8_t ctx[SCHEME_CRAM_MD5_CONTEXT_LEN],
			      const uint8_t *challenge, size_t challenge_len,
			      uint8_t response_r[SCHEME_CRAM_MD5_RESPONSE_LEN])
{
	MD5_CTX md;
	uint8_t inner[MD5_DIGEST_LENGTH];
	scheme_md5_resume(&md, ctx + 16);
	MD5_Update(&md, challenge, challenge_len);
	MD5_Final(inner, &md);
	scheme_md5_resume(&md, ctx);
	MD5_Update(&md, inner, sizeof(inner));
	MD5_Final(response_r, &md);
	secret_wipe(inner, sizeof(inner));
	secret_wipe(&md, sizeof(md));
}

int scheme_cram_md5_verify(const struct scheme *s, const struct scheme_verify_in *in,
			   const char **error_r)
{
	(void)s;
	(void)error_r;
	uint8_t ctx[SCHEME_CRAM_MD5_CONTEXT_LEN];
	scheme_cram_md5_context(in->pw, in->pw_len, ctx);
	int ret = secret_equal(ctx, sizeof(ctx), in->raw, in->raw_len);
	secret_wipe(ctx, sizeof(ctx));
	return ret;
}

void scheme_digest_md5_raw(const char *user, size_t user_len, const char *realm,
			   const uint8_t *pw, size_t pw_len, uint8_t out[16])
{
	const uint8_t *parts[5] = {
		(const uint8_t *)user, (const uint8_t *)":", (const uint8_t *)realm,
		(const uint8_t *)":", pw,
	};
	size_t lens[5] = { user_len, 1, strlen(realm), 1, pw_len };
	uint8_t digest[SCHEME_DIGEST_MAX];
	scheme_digest(SCHEME_MD_MD5, parts, lens, 5, digest);
	memcpy(out, digest, 16);
	secret_wipe(digest, sizeof(digest));
}

/* Dovecot's digest_md5_generate(): "user[@realm]" split at the last '@'
 * ("alice@example.com@realm.test" -> "alice@example.com", "realm.test"). */
static void scheme_digest_md5_user(const char *login, const uint8_t *pw, size_t pw_len,
				   uint8_t out[16])
{
	const char *at = strrchr(login, '@');
	size_t user_len = at != NULL ? (size_t)(at - login) : strlen(login);
	scheme_digest_md5_raw(login, user_len, at != NULL ? at + 1 : "", pw, pw_len, out);
}

int scheme_digest_md5_verify(const struct scheme *s, const struct scheme_verify_in *in,
			     const char **error_r)
{
	(void)s;
	uint8_t digest[16];
	if (in->user == NULL) {
		*error_r = "DIGEST-MD5 verification needs the user name";
		return -1;
	}
	scheme_digest_md5_user(in->user, in->pw, in->pw_len, digest);
	int ret = secret_equal(digest, sizeof(digest), in->raw, in->raw_len);
	secret_wipe(digest, sizeof(digest));
	return ret;
}

int scheme_digest_md5_generate(const struct scheme *s, const struct scheme_gen_in *in,
			       struct buf *raw, const char **error_r)
{
	(void)s;
	uint8_t digest[16];
	if (in->user == NULL) {
		*error_r = "digest_md5_generate(): username not given";
		return -1;
	}
	scheme_digest_md5_user(in->user, in->pw, in->pw_len, digest);
	int ret = buf_append(raw, digest, sizeof(digest));
	secret_wipe(digest, sizeof(digest));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}

int scheme_cram_md5_generate(const struct scheme *s, const struct scheme_gen_in *in,
			     struct buf *raw, const char **error_r)
{
	(void)s;
	uint8_t ctx[SCHEME_CRAM_MD5_CONTEXT_LEN];
	scheme_cram_md5_context(in->pw, in->pw_len, ctx);
	int ret = buf_append(raw, ctx, sizeof(ctx));
	secret_wipe(ctx, sizeof(ctx));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}
