/* scheme_crypt: the crypt(3) family through libxcrypt (CRYPT, BLF-CRYPT,
 * DES-CRYPT, MD5-CRYPT, SHA256-CRYPT, SHA512-CRYPT, and authd's YESCRYPT):
 * verifying and generating. Formats, defaults and clamping:
 * password-schemes.md 3.7 and 6. */
#include "common/scheme_private.h"
#include "common/secret.h"

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEME_BLF_MIN_LEN 30u
#define SCHEME_BLF_COST_DEFAULT 5u
#define SCHEME_BLF_COST_MIN 4u
#define SCHEME_BLF_COST_MAX 31u
#define SCHEME_BLF_RAND_LEN 16u      /* random bytes of a bcrypt salt */
#define SCHEME_BLF_SALT_CHARS 22u
#define SCHEME_SHA_CRYPT_ROUNDS_DEFAULT 5000u
#define SCHEME_SHA_CRYPT_ROUNDS_MIN 1000u
#define SCHEME_SHA_CRYPT_ROUNDS_MAX 999999999u
#define SCHEME_SHA_CRYPT_SALT_CHARS 16u
#define SCHEME_MD5_CRYPT_SALT_CHARS 8u
#define SCHEME_DES_SALT_CHARS 2u
#define SCHEME_YESCRYPT_COST_MAX 11u   /* libxcrypt: 1..11, 0 = its default (5) */
#define SCHEME_YESCRYPT_RAND_LEN 16u

bool scheme_cstr(char *dst, size_t cap, const uint8_t *p, size_t len)
{
	if (len >= cap || memchr(p, '\0', len) != NULL)
		return false;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return true;
}

/* Runs crypt_rn(password, stored-as-setting) and compares the result with
 * the stored value. Returns 1/0, or -1 when libxcrypt rejects the setting
 * and strict is set (bcrypt). Empty stored values never match. */
static int scheme_crypt_compare(const struct scheme_verify_in *in, bool strict,
				const char **error_r)
{
	if (in->raw_len == 0)
		return 0;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	int ret = 0;
	if (scheme_cstr(cd->setting, sizeof(cd->setting), in->raw, in->raw_len) &&
	    scheme_cstr(cd->input, sizeof(cd->input), in->pw, in->pw_len)) {
		const char *out = crypt_rn(cd->input, cd->setting, cd, (int)sizeof(*cd));
		if (out != NULL && out[0] != '*')
			ret = secret_equal(out, strlen(out), in->raw, in->raw_len);
		else if (strict) {
			*error_r = "crypt_blowfish_rn failed: Invalid argument";
			ret = -1;
		}
	}
	secret_wipe(cd, sizeof(*cd));
	free(cd);
	return ret;
}

/* "$2" + any char + "$": Dovecot hands these to its own bcrypt, which
 * reports bad settings as errors instead of mismatches. */
static bool scheme_looks_bcrypt(const uint8_t *p, size_t len)
{
	return len >= 4 && p[0] == '$' && p[1] == '2' && p[3] == '$';
}

int scheme_crypt_verify(const struct scheme *s, const struct scheme_verify_in *in,
			const char **error_r)
{
	(void)s;
	return scheme_crypt_compare(in, scheme_looks_bcrypt(in->raw, in->raw_len), error_r);
}

int scheme_blf_crypt_verify(const struct scheme *s, const struct scheme_verify_in *in,
			    const char **error_r)
{
	(void)s;
	const uint8_t *p = in->raw;
	if (in->raw_len < SCHEME_BLF_MIN_LEN || p[0] != '$' || p[1] != '2' ||
	    p[2] < 'a' || p[2] > 'z' || p[3] != '$') {
		*error_r = "Password is not blowfish password";
		return -1;
	}
	return scheme_crypt_compare(in, true, error_r);
}

/* Only md5-crypt values can match: {MD5-CRYPT}$6$... is a mismatch. */
int scheme_md5_crypt_verify(const struct scheme *s, const struct scheme_verify_in *in,
			    const char **error_r)
{
	(void)s;
	if (!scheme_has_prefix(in->raw, in->raw_len, "$1$"))
		return 0;
	return scheme_crypt_compare(in, false, error_r);
}

/* ---- generation ---- */

/* crypt_rn(pw, setting) appended to raw. Returns 0 or -1. */
static int scheme_crypt_run(const struct scheme_gen_in *in, const char *setting,
			    struct buf *raw, const char **error_r)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (cd == NULL) {
		*error_r = "Out of memory";
		return -1;
	}
	int ret = -1;
	*error_r = "crypt() failed: Invalid argument";
	if (!scheme_cstr(cd->input, sizeof(cd->input), in->pw, in->pw_len)) {
		*error_r = "Password contains a NUL byte or is too long for crypt()";
	} else {
		const char *out = crypt_rn(cd->input, setting, cd, (int)sizeof(*cd));
		if (out != NULL && out[0] != '*')
			ret = buf_append_str(raw, out);
		if (ret < 0 && out != NULL && out[0] != '*')
			*error_r = "Out of memory";
	}
	secret_wipe(cd, sizeof(*cd));
	free(cd);
	return ret;
}

int scheme_des_crypt_generate(const struct scheme *s, const struct scheme_gen_in *in,
			      struct buf *raw, const char **error_r)
{
	(void)s;
	char setting[SCHEME_DES_SALT_CHARS + 1] = { 0 };
	if (scheme_salt64(in, setting, SCHEME_DES_SALT_CHARS, error_r) < 0)
		return -1;
	return scheme_crypt_run(in, setting, raw, error_r);
}

/* MD5 and MD5-CRYPT: "$1$" + 8 salt characters. */
int scheme_md5_crypt_generate(const struct scheme *s, const struct scheme_gen_in *in,
			      struct buf *raw, const char **error_r)
{
	(void)s;
	char setting[3 + SCHEME_MD5_CRYPT_SALT_CHARS + 1] = "$1$";
	if (scheme_salt64(in, setting + 3, SCHEME_MD5_CRYPT_SALT_CHARS, error_r) < 0)
		return -1;
	return scheme_crypt_run(in, setting, raw, error_r);
}

/* "$5$" or "$6$", "rounds=N$" unless N is the default, 16 salt chars. */
int scheme_sha_crypt_generate(const struct scheme *s, const struct scheme_gen_in *in,
			      struct buf *raw, const char **error_r)
{
	unsigned int rounds = in->rounds;
	char salt[SCHEME_SHA_CRYPT_SALT_CHARS + 1] = { 0 }, setting[64];
	if (rounds == 0)
		rounds = SCHEME_SHA_CRYPT_ROUNDS_DEFAULT;
	else if (rounds < SCHEME_SHA_CRYPT_ROUNDS_MIN)
		rounds = SCHEME_SHA_CRYPT_ROUNDS_MIN;
	else if (rounds > SCHEME_SHA_CRYPT_ROUNDS_MAX)
		rounds = SCHEME_SHA_CRYPT_ROUNDS_MAX;
	if (scheme_salt64(in, salt, SCHEME_SHA_CRYPT_SALT_CHARS, error_r) < 0)
		return -1;
	const char *magic = s->md == SCHEME_MD_SHA256 ? "$5$" : "$6$";
	if (rounds == SCHEME_SHA_CRYPT_ROUNDS_DEFAULT)
		snprintf(setting, sizeof(setting), "%s%s", magic, salt);
	else
		snprintf(setting, sizeof(setting), "%srounds=%u$%s", magic, rounds, salt);
	return scheme_crypt_run(in, setting, raw, error_r);
}

/* A fixed salt of n characters from alphabet into dst. */
static int scheme_fixed_salt(const struct scheme_gen_in *in, size_t n, char *dst,
			     const char *alphabet, const char **error_r)
{
	if (in->salt_len != n || memchr(in->salt, '\0', n) != NULL) {
		*error_r = "Invalid fixed salt";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (strchr(alphabet, in->salt[i]) == NULL) {
			*error_r = "Invalid fixed salt";
			return -1;
		}
	memcpy(dst, in->salt, n);
	dst[n] = '\0';
	return 0;
}

/* Setting from crypt_gensalt_rn(prefix, count) with random bytes. */
static int scheme_gensalt(const char *prefix, unsigned long count, size_t nrand,
			  char *setting, size_t size, const char **error_r)
{
	uint8_t rnd[SCHEME_BLF_RAND_LEN];
	if (nrand > sizeof(rnd) || scheme_random(rnd, nrand, error_r) < 0)
		return -1;
	const char *ret = crypt_gensalt_rn(prefix, count, (const char *)rnd, (int)nrand,
					   setting, (int)size);
	secret_wipe(rnd, sizeof(rnd));
	if (ret == NULL) {
		*error_r = "crypt_gensalt() failed";
		return -1;
	}
	return 0;
}

/* CRYPT and BLF-CRYPT: "$2y$CC$" + 16 random bytes in bcrypt's base64. */
int scheme_blf_crypt_generate(const struct scheme *s, const struct scheme_gen_in *in,
			      struct buf *raw, const char **error_r)
{
	(void)s;
	static const char bcrypt64[] =
		"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned int cost = in->rounds;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], salt[SCHEME_BLF_SALT_CHARS + 1];
	if (cost == 0)
		cost = SCHEME_BLF_COST_DEFAULT;
	else if (cost < SCHEME_BLF_COST_MIN)
		cost = SCHEME_BLF_COST_MIN;
	else if (cost > SCHEME_BLF_COST_MAX)
		cost = SCHEME_BLF_COST_MAX;
	if (in->salt != NULL) {
		if (scheme_fixed_salt(in, SCHEME_BLF_SALT_CHARS, salt, bcrypt64, error_r) < 0)
			return -1;
		snprintf(setting, sizeof(setting), "$2y$%02u$%s", cost, salt);
	} else if (scheme_gensalt("$2y$", cost, SCHEME_BLF_RAND_LEN, setting, sizeof(setting),
				  error_r) < 0) {
		return -1;
	}
	return scheme_crypt_run(in, setting, raw, error_r);
}

/* YESCRYPT: libxcrypt's preferred method, "$y$" + parameters + salt. */
int scheme_yescrypt_generate(const struct scheme *s, const struct scheme_gen_in *in,
			     struct buf *raw, const char **error_r)
{
	(void)s;
	unsigned int cost = in->rounds;
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	if (cost > SCHEME_YESCRYPT_COST_MAX)
		cost = SCHEME_YESCRYPT_COST_MAX;
	if (scheme_gensalt("$y$", cost, SCHEME_YESCRYPT_RAND_LEN, setting, sizeof(setting),
			   error_r) < 0)
		return -1;
	if (in->salt != NULL) {
		/* Keep "$y$<params>$", replace the salt. */
		char *salt = strrchr(setting, '$') + 1;
		size_t room = sizeof(setting) - (size_t)(salt - setting) - 1;
		if (in->salt_len > room || scheme_fixed_salt(in, in->salt_len, salt,
							     SCHEME_SALT64, error_r) < 0) {
			*error_r = "Invalid fixed salt";
			return -1;
		}
	}
	return scheme_crypt_run(in, setting, raw, error_r);
}
