/* scheme_digest: cleartext and plain/salted digest schemes (PLAIN, CLEAR,
 * CLEARTEXT, PLAIN-TRUNC, SHA*, PLAIN-MD4, PLAIN-MD5, LDAP-MD5, MD5, SMD5,
 * SSHA*): verifying and generating; and the digest helper every family
 * uses.
 * Formats: password-schemes.md 3.1-3.6. */

/* MD4() is deprecated in OpenSSL 3 but is the fallback when the legacy
 * provider cannot be loaded (see scheme.h). */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "common/scheme_private.h"
#include "common/secret.h"

#include <openssl/evp.h>
#include <openssl/provider.h>
#ifndef OPENSSL_NO_MD4
#include <openssl/md4.h>
#endif
#include <string.h>

/* Written once by scheme_init() before threads exist; read-only after. */
static EVP_MD *scheme_md4_evp;

/* Loads "legacy" next to "default" into the process-wide library context
 * (loading any provider explicitly stops OpenSSL from loading "default" on
 * its own), so EVP_md4() works everywhere, e.g. for %{md4:...} in vars.c. */
void scheme_digest_init(void)
{
	if (scheme_md4_evp != NULL)
		return;
	if (OSSL_PROVIDER_load(NULL, "default") == NULL ||
	    OSSL_PROVIDER_load(NULL, "legacy") == NULL)
		return;   /* scheme_md4_lowlevel() is used instead */
	scheme_md4_evp = EVP_MD_fetch(NULL, "MD4", NULL);
}

static const EVP_MD *scheme_evp_md(enum scheme_md md)
{
	switch (md) {
	case SCHEME_MD_MD4: return scheme_md4_evp;
	case SCHEME_MD_MD5: return EVP_md5();
	case SCHEME_MD_SHA1: return EVP_sha1();
	case SCHEME_MD_SHA256: return EVP_sha256();
	case SCHEME_MD_SHA512: return EVP_sha512();
	case SCHEME_MD_NONE: break;
	}
	return NULL;
}

size_t scheme_md_size(enum scheme_md md)
{
	switch (md) {
	case SCHEME_MD_MD4:
	case SCHEME_MD_MD5: return 16;
	case SCHEME_MD_SHA1: return 20;
	case SCHEME_MD_SHA256: return 32;
	case SCHEME_MD_SHA512: return 64;
	case SCHEME_MD_NONE: break;
	}
	return 0;
}

static size_t scheme_md4_lowlevel(const uint8_t *const *parts, const size_t *lens, size_t n,
				  uint8_t out[SCHEME_DIGEST_MAX])
{
#ifdef OPENSSL_NO_MD4
	(void)parts; (void)lens; (void)n; (void)out;
	return 0;
#else
	MD4_CTX ctx;
	if (MD4_Init(&ctx) != 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		MD4_Update(&ctx, parts[i], lens[i]);
	int ok = MD4_Final(out, &ctx) == 1;
	secret_wipe(&ctx, sizeof(ctx));
	return ok ? 16 : 0;
#endif
}

size_t scheme_digest(enum scheme_md md, const uint8_t *const *parts, const size_t *lens,
		     size_t n, uint8_t out[SCHEME_DIGEST_MAX])
{
	const EVP_MD *evp = scheme_evp_md(md);
	if (evp == NULL)
		return md == SCHEME_MD_MD4 ? scheme_md4_lowlevel(parts, lens, n, out) : 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok = ctx != NULL && EVP_DigestInit_ex(ctx, evp, NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1;
	EVP_MD_CTX_free(ctx);   /* cleanses the state */
	return ok ? len : 0;
}

size_t scheme_digest1(enum scheme_md md, const uint8_t *p, size_t len,
		      uint8_t out[SCHEME_DIGEST_MAX])
{
	return scheme_digest(md, &p, &len, 1, out);
}

int scheme_plain_verify(const struct scheme *s, const struct scheme_verify_in *in,
			const char **error_r)
{
	(void)s;
	(void)error_r;
	return secret_equal(in->pw, in->pw_len, in->raw, in->raw_len);
}

int scheme_plain_trunc_split(const uint8_t *raw, size_t raw_len, const uint8_t **pw_r,
			     size_t *pw_len_r, const char **error_r)
{
	size_t i = 0;
	while (i < raw_len && raw[i] >= '0' && raw[i] <= '9')
		i++;
	if (i == raw_len || raw[i] != '-') {
		*error_r = "PLAIN-TRUNC missing length: prefix";
		return -1;
	}
	*pw_r = raw + i + 1;
	*pw_len_r = raw_len - i - 1;
	return 0;
}

/* "<N>-<password>": if the stored part is N bytes long and the offered
 * password at least N, only the first N bytes count. */
int scheme_plain_trunc_verify(const struct scheme *s, const struct scheme_verify_in *in,
			      const char **error_r)
{
	(void)s;
	const uint8_t *stored;
	size_t stored_len, trunc_len = 0;
	bool overflow = false;
	if (scheme_plain_trunc_split(in->raw, in->raw_len, &stored, &stored_len, error_r) < 0)
		return -1;
	for (size_t i = 0; in->raw[i] != '-'; i++) {
		size_t d = (size_t)(in->raw[i] - '0');
		if (trunc_len > (SIZE_MAX - d) / 10)
			overflow = true;
		else
			trunc_len = trunc_len * 10 + d;
	}
	if (!overflow && stored_len == trunc_len && in->pw_len >= trunc_len)
		return secret_equal(in->pw, trunc_len, stored, stored_len);
	return secret_equal(in->pw, in->pw_len, stored, stored_len);
}

/* PLAIN, CLEAR, CLEARTEXT and (doveadm's quirk) PLAIN-TRUNC: the password. */
int scheme_plain_generate(const struct scheme *s, const struct scheme_gen_in *in,
			  struct buf *raw, const char **error_r)
{
	(void)s;
	if (buf_append(raw, in->pw, in->pw_len) < 0) {
		*error_r = "Password is too long";
		return -1;
	}
	return 0;
}

static int scheme_digest_error(const char **error_r)
{
	*error_r = "MD4 is not available";
	return -1;
}

int scheme_digest_verify(const struct scheme *s, const struct scheme_verify_in *in,
			 const char **error_r)
{
	uint8_t digest[SCHEME_DIGEST_MAX];
	size_t len = scheme_digest1(s->md, in->pw, in->pw_len, digest);
	if (len == 0)
		return scheme_digest_error(error_r);
	int ret = secret_equal(digest, len, in->raw, in->raw_len);
	secret_wipe(digest, sizeof(digest));
	return ret;
}

/* raw = H(password || salt) || salt, salt = everything after the digest. */
int scheme_salted_verify(const struct scheme *s, const struct scheme_verify_in *in,
			 const char **error_r)
{
	size_t dlen = scheme_md_size(s->md);
	if (in->raw_len <= dlen) {
		*error_r = s->md == SCHEME_MD_MD5 ? "SMD5 password is too short" :
			   s->md == SCHEME_MD_SHA1 ? "SSHA password is too short" :
			   s->md == SCHEME_MD_SHA256 ? "SSHA256 password is too short" :
			   "SSHA512 password is too short";
		return -1;
	}
	uint8_t digest[SCHEME_DIGEST_MAX];
	const uint8_t *parts[2] = { in->pw, in->raw + dlen };
	size_t lens[2] = { in->pw_len, in->raw_len - dlen };
	if (scheme_digest(s->md, parts, lens, 2, digest) != dlen)
		return scheme_digest_error(error_r);
	int ret = secret_equal(digest, dlen, in->raw, dlen);
	secret_wipe(digest, sizeof(digest));
	return ret;
}

int scheme_digest_generate(const struct scheme *s, const struct scheme_gen_in *in,
			   struct buf *raw, const char **error_r)
{
	uint8_t digest[SCHEME_DIGEST_MAX];
	size_t len = scheme_digest1(s->md, in->pw, in->pw_len, digest);
	if (len == 0)
		return scheme_digest_error(error_r);
	int ret = buf_append(raw, digest, len);
	secret_wipe(digest, sizeof(digest));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}

/* raw = H(password || salt) || salt with 4 random salt bytes. */
int scheme_salted_generate(const struct scheme *s, const struct scheme_gen_in *in,
			   struct buf *raw, const char **error_r)
{
	uint8_t digest[SCHEME_DIGEST_MAX], rnd[SCHEME_SALTED_SALT_LEN];
	const uint8_t *salt = in->salt;
	size_t salt_len = in->salt_len;
	if (salt == NULL) {
		if (scheme_random(rnd, sizeof(rnd), error_r) < 0)
			return -1;
		salt = rnd;
		salt_len = sizeof(rnd);
	}
	const uint8_t *parts[2] = { in->pw, salt };
	size_t lens[2] = { in->pw_len, salt_len };
	size_t dlen = scheme_digest(s->md, parts, lens, 2, digest);
	if (dlen == 0)
		return scheme_digest_error(error_r);
	int ret = buf_append(raw, digest, dlen) < 0 || buf_append(raw, salt, salt_len) < 0 ?
		  -1 : 0;
	secret_wipe(digest, sizeof(digest));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}

/* MD5: "$1$..." is md5-crypt, anything else must decode as PLAIN-MD5. */
int scheme_md5_verify(const struct scheme *s, const struct scheme_verify_in *in,
		      const char **error_r)
{
	if (scheme_has_prefix(in->raw, in->raw_len, "$1$"))
		return scheme_md5_crypt_verify(s, in, error_r);
	const struct scheme *md5 = scheme_find("PLAIN-MD5");
	struct scheme_stored st = {
		.scheme = md5, .scheme_name = md5->name, .data = (const char *)in->raw,
		.data_len = in->raw_len,
	};
	bool hex = true;
	for (size_t i = 0; i < in->raw_len && hex; i++)
		hex = (in->raw[i] >= '0' && in->raw[i] <= '9') ||
		      ((in->raw[i] | 0x20) >= 'a' && (in->raw[i] | 0x20) <= 'f');
	st.enc = in->raw_len == 32 && hex ? SCHEME_ENC_HEX : SCHEME_ENC_BASE64;
	struct buf raw = BUF_INIT(in->raw_len + 1);
	const char *error;
	if (scheme_decode(&st, &raw, &error) < 0) {
		buf_free(&raw);
		*error_r = "Not a valid MD5-CRYPT or PLAIN-MD5 password";
		return -1;
	}
	struct scheme_verify_in md5_in = *in;
	md5_in.raw = raw.data;
	md5_in.raw_len = raw.len;
	int ret = scheme_digest_verify(md5, &md5_in, error_r);
	buf_free(&raw);
	return ret;
}
