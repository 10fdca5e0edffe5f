/* scheme_scram: SCRAM stored keys "<iter>,<salt-b64>,<StoredKey-b64>,
 * <ServerKey-b64>" (RFC 5802 / 7677; password-schemes.md 3.12) for
 * SCRAM-SHA-1, SCRAM-SHA-256 and authd's SCRAM-SHA-512: verifying a
 * plaintext, generating, and checking a stored value for the mechanism.
 * PBKDF2 and HMAC come from OpenSSL. */
#include "common/base64.h"
#include "common/scheme_private.h"
#include "common/secret.h"
#include "common/strnum.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define SCHEME_SCRAM_MIN_ITER 4096u
#define SCHEME_SCRAM_SALT_MAX 1024u
#define SCHEME_SCRAM_FIELDS 4u

struct scheme_scram {
	uint32_t iter;
	uint8_t salt[SCHEME_SCRAM_SALT_MAX];
	size_t salt_len;
	uint8_t stored_key[SCHEME_DIGEST_MAX];
	size_t key_len;
};

struct scheme_scram_keys {
	uint8_t stored_key[SCHEME_DIGEST_MAX];
	uint8_t server_key[SCHEME_DIGEST_MAX];
	size_t len;
};

static const EVP_MD *scheme_scram_md(const struct scheme *s)
{
	return s->md == SCHEME_MD_SHA1 ? EVP_sha1() :
	       s->md == SCHEME_MD_SHA256 ? EVP_sha256() : EVP_sha512();
}

/* Decodes one base64 field into out (at most max bytes). Returns 1 or 0. */
static int scheme_b64_field(const uint8_t *p, size_t len, uint8_t *out, size_t max,
			    size_t *len_r)
{
	struct buf b = BUF_INIT(max);
	int ret = base64_decode(&b, p, len) == 1;
	if (ret && b.len > 0)
		memcpy(out, b.data, b.len);
	*len_r = b.len;
	buf_free(&b);
	return ret;
}

enum scheme_scram_err {
	SCHEME_SCRAM_ERR_FORMAT,
	SCHEME_SCRAM_ERR_ITER,
	SCHEME_SCRAM_ERR_SALT,
	SCHEME_SCRAM_ERR_STORED_KEY,
	SCHEME_SCRAM_ERR_SERVER_KEY,
};

/* Static texts: verify may run on a hash thread and its caller reads the
 * error later. */
static int scheme_scram_error(const struct scheme *s, enum scheme_scram_err err,
			      const char **error_r)
{
	static const char *const sha1[] = {
		"Invalid SCRAM-SHA-1 passdb entry format",
		"Invalid SCRAM-SHA-1 iteration count in passdb",
		"Invalid SCRAM-SHA-1 salt in passdb",
		"Invalid SCRAM-SHA-1 StoredKey in passdb",
		"Invalid SCRAM-SHA-1 ServerKey in passdb",
	};
	static const char *const sha256[] = {
		"Invalid SCRAM-SHA-256 passdb entry format",
		"Invalid SCRAM-SHA-256 iteration count in passdb",
		"Invalid SCRAM-SHA-256 salt in passdb",
		"Invalid SCRAM-SHA-256 StoredKey in passdb",
		"Invalid SCRAM-SHA-256 ServerKey in passdb",
	};
	static const char *const sha512[] = {
		"Invalid SCRAM-SHA-512 passdb entry format",
		"Invalid SCRAM-SHA-512 iteration count in passdb",
		"Invalid SCRAM-SHA-512 salt in passdb",
		"Invalid SCRAM-SHA-512 StoredKey in passdb",
		"Invalid SCRAM-SHA-512 ServerKey in passdb",
	};
	*error_r = s->md == SCHEME_MD_SHA1 ? sha1[err] :
		   s->md == SCHEME_MD_SHA256 ? sha256[err] : sha512[err];
	return -1;
}

/* Splits p at ','. Returns the number of fields (at most max + 1). */
static size_t scheme_scram_split(const uint8_t *p, size_t len, const uint8_t **f, size_t *flen,
				 size_t max)
{
	size_t nf = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != ',')
			continue;
		if (nf == max)
			return max + 1;
		f[nf] = p + start;
		flen[nf++] = i - start;
		start = i + 1;
	}
	return nf;
}

/* "<iter>,<salt-b64>,<StoredKey-b64>,<ServerKey-b64>". Returns 1 or -1. */
static int scheme_scram_parse(const struct scheme *s, const uint8_t *p, size_t len,
			      struct scheme_scram *out, const char **error_r)
{
	const uint8_t *f[SCHEME_SCRAM_FIELDS];
	size_t flen[SCHEME_SCRAM_FIELDS], dlen = scheme_md_size(s->md), key_len;
	uint8_t server_key[SCHEME_DIGEST_MAX];
	if (scheme_scram_split(p, len, f, flen, SCHEME_SCRAM_FIELDS) != SCHEME_SCRAM_FIELDS)
		return scheme_scram_error(s, SCHEME_SCRAM_ERR_FORMAT, error_r);
	if (!str_to_uint32(f[0], flen[0], &out->iter) || out->iter < SCHEME_SCRAM_MIN_ITER ||
	    out->iter > INT_MAX)
		return scheme_scram_error(s, SCHEME_SCRAM_ERR_ITER, error_r);
	if (!scheme_b64_field(f[1], flen[1], out->salt, sizeof(out->salt), &out->salt_len))
		return scheme_scram_error(s, SCHEME_SCRAM_ERR_SALT, error_r);
	if (!scheme_b64_field(f[2], flen[2], out->stored_key, dlen, &out->key_len) ||
	    out->key_len != dlen)
		return scheme_scram_error(s, SCHEME_SCRAM_ERR_STORED_KEY, error_r);
	if (!scheme_b64_field(f[3], flen[3], server_key, dlen, &key_len) || key_len != dlen)
		return scheme_scram_error(s, SCHEME_SCRAM_ERR_SERVER_KEY, error_r);
	return 1;
}

/* SaltedPassword = Hi(password, salt, iter); StoredKey = H(HMAC(SP,
 * "Client Key")); ServerKey = HMAC(SP, "Server Key"). Returns 0 or -1. */
static int scheme_scram_keys(const struct scheme *s, const uint8_t *pw, size_t pw_len,
			     const uint8_t *salt, size_t salt_len, uint32_t iter,
			     struct scheme_scram_keys *keys)
{
	const EVP_MD *md = scheme_scram_md(s);
	uint8_t salted[SCHEME_DIGEST_MAX], client_key[SCHEME_DIGEST_MAX];
	unsigned int ck_len = 0, sk_len = 0;
	size_t dlen = scheme_md_size(s->md);
	int ok = pw_len <= INT_MAX && salt_len <= INT_MAX && iter <= INT_MAX &&
		 PKCS5_PBKDF2_HMAC((const char *)pw, (int)pw_len, salt, (int)salt_len, (int)iter,
				   md, (int)dlen, salted) == 1 &&
		 HMAC(md, salted, (int)dlen, (const uint8_t *)"Client Key", 10, client_key,
		      &ck_len) != NULL &&
		 HMAC(md, salted, (int)dlen, (const uint8_t *)"Server Key", 10, keys->server_key,
		      &sk_len) != NULL &&
		 scheme_digest1(s->md, client_key, ck_len, keys->stored_key) == dlen;
	keys->len = dlen;
	secret_wipe(salted, sizeof(salted));
	secret_wipe(client_key, sizeof(client_key));
	return ok ? 0 : -1;
}

int scheme_scram_verify(const struct scheme *s, const struct scheme_verify_in *in,
			const char **error_r)
{
	struct scheme_scram sc;
	struct scheme_scram_keys keys;
	int ret = 0;
	if (scheme_scram_parse(s, in->raw, in->raw_len, &sc, error_r) < 0)
		return -1;
	if (scheme_scram_keys(s, in->pw, in->pw_len, sc.salt, sc.salt_len, sc.iter, &keys) == 0)
		ret = secret_equal(keys.stored_key, keys.len, sc.stored_key, sc.key_len);
	secret_wipe(&keys, sizeof(keys));
	secret_wipe(&sc, sizeof(sc));
	return ret;
}

int scheme_scram_check(const struct scheme *s, const uint8_t *raw, size_t len,
		       const char **error_r)
{
	struct scheme_scram sc;
	int ret = scheme_scram_parse(s, raw, len, &sc, error_r);
	secret_wipe(&sc, sizeof(sc));
	return ret < 0 ? -1 : 0;
}

/* 16 random salt bytes (or the fixed ones), always 4096 iterations. */
int scheme_scram_generate(const struct scheme *s, const struct scheme_gen_in *in,
			  struct buf *raw, const char **error_r)
{
	uint8_t rnd[SCHEME_SCRAM_SALT_LEN];
	const uint8_t *salt = in->salt != NULL ? in->salt : rnd;
	size_t salt_len = in->salt != NULL ? in->salt_len : sizeof(rnd);
	struct scheme_scram_keys keys;
	if (in->salt == NULL && scheme_random(rnd, sizeof(rnd), error_r) < 0)
		return -1;
	if (scheme_scram_keys(s, in->pw, in->pw_len, salt, salt_len, SCHEME_SCRAM_ITERATIONS,
			      &keys) < 0) {
		*error_r = "SCRAM key derivation failed";
		return -1;
	}
	int ret = buf_printf(raw, "%u,", SCHEME_SCRAM_ITERATIONS) < 0 ||
		  base64_encode(raw, salt, salt_len) < 0 || buf_append_byte(raw, ',') < 0 ||
		  base64_encode(raw, keys.stored_key, keys.len) < 0 ||
		  buf_append_byte(raw, ',') < 0 ||
		  base64_encode(raw, keys.server_key, keys.len) < 0 ? -1 : 0;
	secret_wipe(&keys, sizeof(keys));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}
