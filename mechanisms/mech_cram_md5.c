/* CRAM-MD5 (RFC 2195), spec 6.3.
 *
 * step 1 (any input, an initial response is ignored): the challenge
 *   "<" 16 random decimal digits "." unix time "@" hostname ">".
 * step 2: "user SP 32 lowercase hex digits"; the LAST space separates, so
 *   user names may contain spaces. -> MECH_LOOKUP_CREDENTIALS (CRAM-MD5:
 *   the 32-byte HMAC-MD5 context of common/scheme.h).
 * resume: HMAC-MD5 of the challenge continued from the context, its hex
 *   compared in constant time with the client's. No final data. */
#include "mechanisms/mech.h"
#include "common/base64.h"
#include "common/csprng.h"
#include "common/pool.h"
#include "common/scheme.h"
#include "common/secret.h"

#include <string.h>
#include <time.h>

#define CRAM_MD5_RANDOM_DIGITS 16u
#define CRAM_MD5_DIGEST_HEX_LEN (2u * SCHEME_CRAM_MD5_RESPONSE_LEN)
/* The whole response: user name, one space, the digest. */
#define CRAM_MD5_RESPONSE_MAX (MECH_NAME_MAX + 1u + CRAM_MD5_DIGEST_HEX_LEN)
/* The 16 random digits are a number below 10^16, drawn uniformly from 64
 * random bits: values at or above the largest multiple of 10^16 that fits
 * (1844 * 10^16) are drawn again (a chance of 1 in 2700). */
#define CRAM_MD5_DIGITS_RANGE 10000000000000000ull
#define CRAM_MD5_DIGITS_LIMIT (UINT64_MAX / CRAM_MD5_DIGITS_RANGE * CRAM_MD5_DIGITS_RANGE)
/* Decimal digits of a 64-bit number. */
#define CRAM_MD5_U64_DIGITS 20u
/* The challenge without the host name: "<" digits "." time "@" ">". */
#define CRAM_MD5_CHALLENGE_FIXED (CRAM_MD5_RANDOM_DIGITS + CRAM_MD5_U64_DIGITS + 4u)

enum cram_md5_state {
	CRAM_MD5_STATE_INIT = 0,
	CRAM_MD5_STATE_RESPONSE,     /* challenge sent */
	CRAM_MD5_STATE_CREDENTIALS,  /* waiting for resume() */
	CRAM_MD5_STATE_DONE,
};

struct cram_md5 {
	enum cram_md5_state state;
	char *challenge;             /* pool-owned */
	size_t challenge_len;
	char digest[CRAM_MD5_DIGEST_HEX_LEN];   /* the client's, validated */
};

/* Fills digits with CRAM_MD5_RANDOM_DIGITS uniformly random decimal
 * digits. Returns 0 or -1. */
static int cram_md5_random_digits(char digits[CRAM_MD5_RANDOM_DIGITS])
{
	uint64_t r;
	do {
		if (csprng_bytes((uint8_t *)&r, sizeof(r)) < 0)
			return -1;
	} while (r >= CRAM_MD5_DIGITS_LIMIT);
	r %= CRAM_MD5_DIGITS_RANGE;
	for (size_t i = CRAM_MD5_RANDOM_DIGITS; i-- > 0;) {
		digits[i] = (char)('0' + r % 10);
		r /= 10;
	}
	return 0;
}

/* Writes v in decimal to dst; returns the digits written. */
static size_t cram_md5_put_u64(char *dst, uint64_t v)
{
	char tmp[CRAM_MD5_U64_DIGITS];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (size_t i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

/* "<" digits "." unix time "@" host ">" into the request's pool. Returns
 * 0, or -1 when no random bytes could be had. */
static int cram_md5_make_challenge(struct mech_request *req, struct cram_md5 *st)
{
	char digits[CRAM_MD5_RANDOM_DIGITS];
	if (cram_md5_random_digits(digits) < 0)
		return -1;
	const char *host = req->env != NULL && req->env->hostname != NULL ?
			   req->env->hostname : "localhost";
	size_t host_len = strlen(host);   /* a config value, not peer data */
	char *p = pool_alloc(req->pool, CRAM_MD5_CHALLENGE_FIXED + host_len + 1);
	st->challenge = p;
	*p++ = '<';
	memcpy(p, digits, sizeof(digits));
	p += sizeof(digits);
	*p++ = '.';
	p += cram_md5_put_u64(p, (uint64_t)time(NULL));
	*p++ = '@';
	memcpy(p, host, host_len);
	p += host_len;
	*p++ = '>';
	*p = '\0';
	st->challenge_len = (size_t)(p - st->challenge);
	return 0;
}

static enum mech_status cram_md5_challenge(struct mech_request *req, struct cram_md5 *st,
					   struct buf *out)
{
	if (req->test_nonce != NULL) {
		st->challenge = pool_strndup(req->pool, req->test_nonce, req->test_nonce_len);
		st->challenge_len = req->test_nonce_len;
	} else if (cram_md5_make_challenge(req, st) < 0) {
		req->fail_reason = "RAND_bytes() failed";
		return MECH_FAILURE;
	}
	if (buf_append(out, st->challenge, st->challenge_len) < 0) {
		req->fail_reason = "challenge too long";
		return MECH_FAILURE;
	}
	st->state = CRAM_MD5_STATE_RESPONSE;
	return MECH_CONTINUE;
}

static enum mech_status cram_md5_response(struct mech_request *req, struct cram_md5 *st,
					  const uint8_t *in, size_t len)
{
	if (len > CRAM_MD5_RESPONSE_MAX) {
		req->fail_reason = "response too long";
		return MECH_FAILURE;
	}
	if (memchr(in, '\0', len) != NULL) {
		req->fail_reason = "NUL byte in response";
		return MECH_FAILURE;
	}
	const uint8_t *space = memrchr(in, ' ', len);
	if (space == NULL) {
		req->fail_reason = "missing digest";
		return MECH_FAILURE;
	}
	size_t user_len = (size_t)(space - in);
	const uint8_t *digest = space + 1;
	size_t digest_len = len - user_len - 1;
	if (digest_len != CRAM_MD5_DIGEST_HEX_LEN || !hex_is_lower(digest, digest_len)) {
		req->fail_reason = "invalid digest";
		return MECH_FAILURE;
	}
	if (user_len == 0) {
		req->fail_reason = "empty username";
		return MECH_FAILURE;
	}
	if (req->username_check != NULL && req->username_check(req, in, user_len) <= 0) {
		req->fail_reason = "invalid username";
		return MECH_FAILURE;
	}
	memcpy(st->digest, digest, CRAM_MD5_DIGEST_HEX_LEN);
	req->authcid = pool_strndup(req->pool, in, user_len);
	req->authzid = "";
	st->state = CRAM_MD5_STATE_CREDENTIALS;
	return MECH_LOOKUP_CREDENTIALS;
}

static enum mech_status mech_cram_md5_step(struct mech_request *req, const uint8_t *in,
					   size_t len, bool absent, struct buf *out)
{
	struct cram_md5 *st = req->priv;
	if (st == NULL)
		req->priv = st = pool_alloc(req->pool, sizeof(*st));
	switch (st->state) {
	case CRAM_MD5_STATE_INIT:
		return cram_md5_challenge(req, st, out);
	case CRAM_MD5_STATE_RESPONSE:
		if (absent)
			break;
		st->state = CRAM_MD5_STATE_DONE;
		return cram_md5_response(req, st, in, len);
	case CRAM_MD5_STATE_CREDENTIALS:
	case CRAM_MD5_STATE_DONE:
		break;
	}
	st->state = CRAM_MD5_STATE_DONE;
	req->fail_reason = "unexpected message";
	return MECH_FAILURE;
}

static enum mech_status mech_cram_md5_resume(struct mech_request *req, const uint8_t *cred,
					     size_t len, struct buf *out)
{
	(void)out;
	struct cram_md5 *st = req->priv;
	if (st == NULL || st->state != CRAM_MD5_STATE_CREDENTIALS) {
		req->fail_reason = "unexpected credentials";
		return MECH_FAILURE;
	}
	st->state = CRAM_MD5_STATE_DONE;
	if (len != SCHEME_CRAM_MD5_CONTEXT_LEN) {
		secret_wipe(st->digest, sizeof(st->digest));
		req->fail_reason = "invalid credentials length";
		return MECH_FAILURE;
	}
	uint8_t want[SCHEME_CRAM_MD5_RESPONSE_LEN];
	char want_hex[CRAM_MD5_DIGEST_HEX_LEN + 1];
	scheme_cram_md5_response(cred, (const uint8_t *)st->challenge, st->challenge_len, want);
	hex_encode_str(want_hex, want, sizeof(want));
	int equal = secret_equal(st->digest, sizeof(st->digest), want_hex, CRAM_MD5_DIGEST_HEX_LEN);
	secret_wipe(want, sizeof(want));
	secret_wipe(want_hex, sizeof(want_hex));
	secret_wipe(st->digest, sizeof(st->digest));
	if (!equal) {
		req->fail_reason = "Password mismatch";
		return MECH_FAILURE;
	}
	return MECH_SUCCESS;
}

const struct mech mech_cram_md5 = {
	.name = "CRAM-MD5",
	.flags = MECH_FLAG_DICTIONARY | MECH_FLAG_ACTIVE,
	.cred_scheme = "CRAM-MD5",
	.step = mech_cram_md5_step,
	.resume = mech_cram_md5_resume,
};
