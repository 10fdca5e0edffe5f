/* scheme_private: what the scheme_*.c files share and nobody else uses
 * (the unit tests include it for the fixed-salt hook).
 *
 * The public view is common/scheme.h. Each family file (scheme_digest.c,
 * scheme_crypt.c, scheme_kdf.c, scheme_sasl.c, scheme_scram.c,
 * scheme_otp.c) provides the
 * verify and generate functions for the table in scheme.c; scheme_generate.c
 * adds the encoding layer and the "{LABEL}" around a generated value,
 * scheme_cred.c derives mechanism credentials. */
#ifndef COMMON_SCHEME_PRIVATE_H
#define COMMON_SCHEME_PRIVATE_H

#include "common/scheme.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest scheme name we look up (the longest real one is 13 chars). */
#define SCHEME_NAME_MAX 32u
/* Largest digest any scheme computes (SHA-512). */
#define SCHEME_DIGEST_MAX 64u

enum scheme_md {
	SCHEME_MD_NONE,
	SCHEME_MD_MD4,
	SCHEME_MD_MD5,
	SCHEME_MD_SHA1,
	SCHEME_MD_SHA256,
	SCHEME_MD_SHA512,
};

/* What a verify function gets: the offered password and the stored value
 * after the encoding layer was removed. */
struct scheme_verify_in {
	const uint8_t *pw;
	size_t pw_len;
	const uint8_t *raw;
	size_t raw_len;
	const char *user;          /* login name, may be NULL */
};

/* Returns 1 match, 0 mismatch, -1 invalid stored data (*error_r set to
 * static or thread-local text without secrets). */
typedef int scheme_verify_fn(const struct scheme *s, const struct scheme_verify_in *in,
			     const char **error_r);

/* What a generate function gets. */
struct scheme_gen_in {
	const uint8_t *pw;
	size_t pw_len;
	const char *user;          /* DIGEST-MD5 "user[@realm]", may be NULL */
	unsigned int rounds;       /* 0 = the scheme's default */
	/* NULL: a random salt. Else a fixed salt (the test hook), in the form
	 * the output shows it: the salt text for the crypt(3) families,
	 * PBKDF2 and OTP (the seed), the raw salt bytes for the salted
	 * digests, SCRAM and argon2 (16 bytes). */
	const uint8_t *salt;
	size_t salt_len;
};

/* Appends the raw (not yet encoded) stored form of in->pw to raw.
 * Returns 0, or -1 with *error_r (static or thread-local text). */
typedef int scheme_generate_fn(const struct scheme *s, const struct scheme_gen_in *in,
			       struct buf *raw, const char **error_r);

struct scheme {
	const char *name;            /* canonical, upper case */
	const char *const *aliases;  /* NULL-terminated list or NULL */
	const char *cred_class;      /* schemes with the same class share
				      * credentials (password-schemes.md 4) */
	enum scheme_encoding default_enc;
	size_t raw_len;              /* fixed decoded length, 0 = variable */
	enum scheme_md md;           /* digest used by shared verifiers */
	bool weak;                   /* see scheme_is_weak() */
	bool expensive;              /* run on the hash pool */
	bool cleartext;              /* PLAIN, CLEAR, CLEARTEXT, PLAIN-TRUNC */
	bool extra;                  /* authd's addition, not in doveadm pw -l */
	const char *gen_label;       /* label of generated values if not the
				      * spec itself (YESCRYPT -> "CRYPT") */
	scheme_verify_fn *verify;
	scheme_generate_fn *generate;
};

/* SALT64 of password-schemes.md: the alphabet of Dovecot's salts. */
#define SCHEME_SALT64 "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
/* Random salt sizes Dovecot uses. */
#define SCHEME_SALTED_SALT_LEN 4u     /* SMD5, SSHA* */
#define SCHEME_SCRAM_SALT_LEN 16u
#define SCHEME_SCRAM_ITERATIONS 4096u

/* Looks up "NAME[.ENC]" (len bytes, any case). Returns 1 with the scheme,
 * the effective encoding and whether a suffix was given, or 0 (unknown
 * name or suffix). */
int scheme_lookup_spec(const char *p, size_t len, const struct scheme **scheme_r,
		       enum scheme_encoding *enc_r, bool *explicit_r);

/* scheme_generate() with a fixed salt (see struct scheme_gen_in; NULL =
 * random), so tests can check generation byte for byte. Same returns. */
int scheme_generate_with_salt(const char *spec, const uint8_t *pw, size_t pw_len,
			      const char *user, unsigned int rounds, const uint8_t *salt,
			      size_t salt_len, struct buf *out, const char **error_r);
/* n bytes from OpenSSL's RAND_bytes. Returns 0, or -1 with *error_r. */
int scheme_random(uint8_t *p, size_t n, const char **error_r);
/* n characters of SCHEME_SALT64 into out (not NUL-terminated), uniformly
 * at random, or the fixed salt of in when it has one (1..n characters of
 * SCHEME_SALT64, copied as they are: a shorter salt leaves the rest of out
 * untouched). Returns 0 or -1 with *error_r. */
int scheme_salt64(const struct scheme_gen_in *in, char *out, size_t n, const char **error_r);

/* scheme_decode() appending to out, which may hold data already (the raw
 * length is checked on what was appended); limit_error is the *error_r
 * text when out's limit is crossed. Same returns. */
int scheme_decode_to(const struct scheme_stored *stored, struct buf *out,
		     const char *limit_error, const char **error_r);

/* True if (p, len) starts with the format marker prefix ("$1$", "$2y$").
 * For markers only, never to compare secrets (use secret_equal()). */
bool scheme_has_prefix(const uint8_t *p, size_t len, const char *prefix);

/* Formats an error into a thread-local buffer (valid until the next
 * formatted error in the same thread). */
const char *scheme_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Digest of the concatenation of n parts. Returns the digest length, or 0
 * when the digest is unavailable (MD4 without any OpenSSL support). */
size_t scheme_digest(enum scheme_md md, const uint8_t *const *parts, const size_t *lens,
		     size_t n, uint8_t out[SCHEME_DIGEST_MAX]);
size_t scheme_md_size(enum scheme_md md);
/* One-shot digest of (p, len). */
size_t scheme_digest1(enum scheme_md md, const uint8_t *p, size_t len,
		      uint8_t out[SCHEME_DIGEST_MAX]);
/* Called by scheme_init(): prepares MD4 through the legacy provider. */
void scheme_digest_init(void);

/* scheme_digest.c */
scheme_verify_fn scheme_plain_verify;
scheme_verify_fn scheme_plain_trunc_verify;
scheme_verify_fn scheme_digest_verify;
scheme_verify_fn scheme_salted_verify;
scheme_verify_fn scheme_md5_verify;
scheme_generate_fn scheme_plain_generate;
scheme_generate_fn scheme_digest_generate;
scheme_generate_fn scheme_salted_generate;
/* PLAIN-TRUNC "N-password": the password part. Returns 0, or -1 with
 * *error_r "PLAIN-TRUNC missing length: prefix". */
int scheme_plain_trunc_split(const uint8_t *raw, size_t raw_len, const uint8_t **pw_r,
			     size_t *pw_len_r, const char **error_r);
/* scheme_crypt.c */
/* Copies (p, len) into a NUL-terminated buffer of size cap. Returns false
 * when it does not fit or contains a NUL (a C API would see less). */
bool scheme_cstr(char *dst, size_t cap, const uint8_t *p, size_t len);
scheme_verify_fn scheme_crypt_verify;
scheme_verify_fn scheme_blf_crypt_verify;
scheme_verify_fn scheme_md5_crypt_verify;
scheme_generate_fn scheme_des_crypt_generate;
scheme_generate_fn scheme_md5_crypt_generate;
scheme_generate_fn scheme_sha_crypt_generate;
scheme_generate_fn scheme_blf_crypt_generate;
scheme_generate_fn scheme_yescrypt_generate;
/* scheme_kdf.c */
scheme_verify_fn scheme_pbkdf2_verify;
scheme_verify_fn scheme_argon2_verify;
scheme_generate_fn scheme_pbkdf2_generate;
scheme_generate_fn scheme_argon2i_generate;
scheme_generate_fn scheme_argon2id_generate;
/* scheme_sasl.c */
scheme_verify_fn scheme_cram_md5_verify;
scheme_verify_fn scheme_digest_md5_verify;
scheme_generate_fn scheme_cram_md5_generate;
scheme_generate_fn scheme_digest_md5_generate;
/* MD5(user ":" realm ":" password) into out. */
void scheme_digest_md5_raw(const char *user, size_t user_len, const char *realm,
			   const uint8_t *pw, size_t pw_len, uint8_t out[16]);
/* scheme_scram.c */
scheme_verify_fn scheme_scram_verify;
scheme_generate_fn scheme_scram_generate;
/* Checks that (raw, len) is a usable "ITER,SALT,STOREDKEY,SERVERKEY" of
 * s's hash. Returns 0, or -1 with a static *error_r. */
int scheme_scram_check(const struct scheme *s, const uint8_t *raw, size_t len,
		       const char **error_r);
/* scheme_otp.c */
scheme_verify_fn scheme_otp_verify;
scheme_generate_fn scheme_otp_generate;

#endif
