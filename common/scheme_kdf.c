/* scheme_kdf: the password KDFs: PBKDF2 (OpenSSL; Dovecot's
 * "$1$salt$rounds$hex" PBKDF2-HMAC-SHA1) and ARGON2I/ARGON2ID (libsodium's
 * PHC strings). Verifying and generating; password-schemes.md 3.8, 3.9. */
#include "common/base64.h"
#include "common/scheme_private.h"
#include "common/secret.h"
#include "common/strnum.h"

#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SCHEME_PBKDF2_HASH_LEN 20u
#define SCHEME_PBKDF2_SALT_MAX 1024u
#define SCHEME_PBKDF2_SALT_CHARS 16u
#define SCHEME_PBKDF2_ROUNDS_DEFAULT 5000u
/* Dovecot's work-around for libsodium 1.0.13: argon2id never below t=3. */
#define SCHEME_ARGON2ID_OPSLIMIT_MIN 3u
#define SCHEME_ARGON2_HASH_LEN 32u

/* Splits "$1$<salt>$<rounds>$<hex>" (PBKDF2-HMAC-SHA1, salt used as text).
 * Returns 1, or -1 with *error_r. */
static int scheme_pbkdf2_parse(const uint8_t *p, size_t len, const uint8_t **salt_r,
			       size_t *salt_len_r, uint32_t *rounds_r,
			       uint8_t hash_r[SCHEME_PBKDF2_HASH_LEN], const char **error_r)
{
	const uint8_t *f[3];
	size_t flen[3], nf = 0, start = 3;
	if (!scheme_has_prefix(p, len, "$1$")) {
		*error_r = "Invalid PBKDF2 passdb entry prefix";
		return -1;
	}
	for (size_t i = 3; i <= len; i++) {
		if (i < len && p[i] != '$')
			continue;
		if (nf == 3) {
			*error_r = "Invalid PBKDF2 passdb entry format";
			return -1;
		}
		f[nf] = p + start;
		flen[nf++] = i - start;
		start = i + 1;
	}
	if (nf != 3 || !str_to_uint32(f[1], flen[1], rounds_r) ||
	    flen[0] > SCHEME_PBKDF2_SALT_MAX) {
		*error_r = "Invalid PBKDF2 passdb entry format";
		return -1;
	}
	struct buf hash = BUF_INIT(SCHEME_PBKDF2_HASH_LEN);
	if (flen[2] != SCHEME_PBKDF2_HASH_LEN * 2 || hex_decode(&hash, f[2], flen[2]) != 1) {
		buf_free(&hash);
		*error_r = "PBKDF2 hash not 160bit hex-encoded";
		return -1;
	}
	memcpy(hash_r, hash.data, SCHEME_PBKDF2_HASH_LEN);
	buf_free(&hash);
	*salt_r = f[0];
	*salt_len_r = flen[0];
	return 1;
}

int scheme_pbkdf2_verify(const struct scheme *s, const struct scheme_verify_in *in,
			 const char **error_r)
{
	(void)s;
	const uint8_t *salt;
	size_t salt_len;
	uint32_t rounds;
	uint8_t want[SCHEME_PBKDF2_HASH_LEN], got[SCHEME_PBKDF2_HASH_LEN];
	if (scheme_pbkdf2_parse(in->raw, in->raw_len, &salt, &salt_len, &rounds, want,
				error_r) < 0)
		return -1;
	int ret = 0;
	if (rounds > 0 && rounds <= INT_MAX && in->pw_len <= INT_MAX &&
	    PKCS5_PBKDF2_HMAC((const char *)in->pw, (int)in->pw_len, salt, (int)salt_len,
			      (int)rounds, EVP_sha1(), (int)sizeof(got), got) == 1)
		ret = secret_equal(got, sizeof(got), want, sizeof(want));
	secret_wipe(got, sizeof(got));
	return ret;
}

/* libsodium picks argon2i or argon2id from the string itself, so the label
 * does not matter. Invalid strings and out-of-memory are mismatches. */
int scheme_argon2_verify(const struct scheme *s, const struct scheme_verify_in *in,
			 const char **error_r)
{
	(void)s;
	(void)error_r;
	char str[crypto_pwhash_STRBYTES];
	if (!scheme_cstr(str, sizeof(str), in->raw, in->raw_len))
		return 0;
	return crypto_pwhash_str_verify(str, (const char *)in->pw, in->pw_len) == 0 ? 1 : 0;
}

/* "$1$<16 salt chars>$<rounds>$<40 lowercase hex>", rounds as given
 * (doveadm does not clamp them), 0 = 5000. */
int scheme_pbkdf2_generate(const struct scheme *s, const struct scheme_gen_in *in,
			   struct buf *raw, const char **error_r)
{
	(void)s;
	unsigned int rounds = in->rounds != 0 ? in->rounds : SCHEME_PBKDF2_ROUNDS_DEFAULT;
	char salt[SCHEME_PBKDF2_SALT_CHARS + 1] = { 0 };
	uint8_t key[SCHEME_PBKDF2_HASH_LEN];
	if (rounds > INT_MAX || in->pw_len > INT_MAX) {
		*error_r = "PBKDF2 rounds or password too large";
		return -1;
	}
	if (scheme_salt64(in, salt, SCHEME_PBKDF2_SALT_CHARS, error_r) < 0)
		return -1;
	if (PKCS5_PBKDF2_HMAC((const char *)in->pw, (int)in->pw_len, (const uint8_t *)salt,
			      SCHEME_PBKDF2_SALT_CHARS, (int)rounds, EVP_sha1(), (int)sizeof(key),
			      key) != 1) {
		*error_r = "PBKDF2 failed";
		return -1;
	}
	int ret = buf_printf(raw, "$1$%s$%u$", salt, rounds) < 0 ||
		  hex_encode(raw, key, sizeof(key)) < 0 ? -1 : 0;
	secret_wipe(key, sizeof(key));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}

struct scheme_argon2_params {
	int (*str)(char out[crypto_pwhash_STRBYTES], const char *pw, unsigned long long pw_len,
		   unsigned long long opslimit, size_t memlimit);
	int alg;                         /* crypto_pwhash_ALG_ARGON2I13 / 2ID13 */
	const char *name;                /* "argon2i" / "argon2id" */
	unsigned long long opslimit;
	size_t memlimit;
};

/* The PHC string libsodium would write for a fixed salt (test hook:
 * libsodium's *_str functions always draw their own salt). */
static int scheme_argon2_fixed(const struct scheme_gen_in *in,
			       const struct scheme_argon2_params *p, struct buf *raw,
			       const char **error_r)
{
	uint8_t hash[SCHEME_ARGON2_HASH_LEN];
	char salt64[64], hash64[64];
	if (in->salt_len != crypto_pwhash_SALTBYTES ||
	    crypto_pwhash(hash, sizeof(hash), (const char *)in->pw, in->pw_len, in->salt,
			  p->opslimit, p->memlimit, p->alg) != 0) {
		*error_r = "Invalid fixed salt";
		return -1;
	}
	sodium_bin2base64(salt64, sizeof(salt64), in->salt, in->salt_len,
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(hash64, sizeof(hash64), hash, sizeof(hash),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	secret_wipe(hash, sizeof(hash));
	int ret = buf_printf(raw, "$%s$v=19$m=%zu,t=%llu,p=1$%s$%s", p->name, p->memlimit / 1024,
			     p->opslimit, salt64, hash64);
	secret_wipe(hash64, sizeof(hash64));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}

static int scheme_argon2_generate(const struct scheme_gen_in *in,
				  const struct scheme_argon2_params *p, struct buf *raw,
				  const char **error_r)
{
	char str[crypto_pwhash_STRBYTES];
	if (in->salt != NULL)
		return scheme_argon2_fixed(in, p, raw, error_r);
	errno = 0;
	if (p->str(str, (const char *)in->pw, in->pw_len, p->opslimit, p->memlimit) != 0) {
		*error_r = scheme_errorf("crypto_pwhash_%s_str failed: %s", p->name,
					 errno == ENOMEM ? "Cannot allocate memory" :
					 "Invalid argument");
		return -1;
	}
	int ret = buf_append_str(raw, str);
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}

/* t = -r (default 4); m from t: >= 8 512 MiB, >= 6 128 MiB, else 32 MiB. */
int scheme_argon2i_generate(const struct scheme *s, const struct scheme_gen_in *in,
			    struct buf *raw, const char **error_r)
{
	(void)s;
	struct scheme_argon2_params p = {
		.str = crypto_pwhash_argon2i_str, .alg = crypto_pwhash_ALG_ARGON2I13,
		.name = "argon2i",
		.opslimit = in->rounds != 0 ? in->rounds :
			    crypto_pwhash_argon2i_OPSLIMIT_INTERACTIVE,
	};
	p.memlimit = p.opslimit >= crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE ?
		     crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE :
		     p.opslimit >= crypto_pwhash_argon2i_OPSLIMIT_MODERATE ?
		     crypto_pwhash_argon2i_MEMLIMIT_MODERATE :
		     crypto_pwhash_argon2i_MEMLIMIT_INTERACTIVE;
	return scheme_argon2_generate(in, &p, raw, error_r);
}

/* t = -r (default 2); m from t: >= 4 1 GiB, >= 3 256 MiB, else 64 MiB;
 * then t raised to 3 (so the default is m=64 MiB, t=3). */
int scheme_argon2id_generate(const struct scheme *s, const struct scheme_gen_in *in,
			     struct buf *raw, const char **error_r)
{
	(void)s;
	struct scheme_argon2_params p = {
		.str = crypto_pwhash_argon2id_str, .alg = crypto_pwhash_ALG_ARGON2ID13,
		.name = "argon2id",
		.opslimit = in->rounds != 0 ? in->rounds :
			    crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	};
	p.memlimit = p.opslimit >= crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE ?
		     crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE :
		     p.opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MODERATE ?
		     crypto_pwhash_argon2id_MEMLIMIT_MODERATE :
		     crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
	if (p.opslimit < SCHEME_ARGON2ID_OPSLIMIT_MIN)
		p.opslimit = SCHEME_ARGON2ID_OPSLIMIT_MIN;
	return scheme_argon2_generate(in, &p, raw, error_r);
}
