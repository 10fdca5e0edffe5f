/* scheme_otp: verifying a plaintext against an {OTP} entry, and generating one
 * "<algo> <seq> <seed> <hash>" (RFC 2289; password-schemes.md 3.13).
 * The OTP mechanism itself (which also writes back the sequence) is out of
 * scope; this only answers PLAIN/LOGIN against such an entry. */
#include "common/scheme_private.h"
#include "common/secret.h"
#include "common/strnum.h"

#include <stdio.h>
#include <string.h>

#define SCHEME_OTP_SEED_MAX 16u
#define SCHEME_OTP_HASH_LEN 8u
/* Generated entries start at 1024 and count down; the cap keeps a bogus
 * entry from costing seconds of CPU. */
#define SCHEME_OTP_MAX_SEQ 99999u
/* "sha1 99999 <16> <16>" plus slack */
#define SCHEME_OTP_TEXT_MAX 64u

struct scheme_otp {
	enum scheme_md md;
	const char *algo;
	uint32_t seq;
	char seed[SCHEME_OTP_SEED_MAX + 1];
};

static bool scheme_otp_lws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Returns the next token of p (len) starting at *pos, skipping LWS. */
static size_t scheme_otp_token(const uint8_t *p, size_t len, size_t *pos, const uint8_t **tok)
{
	size_t i = *pos;
	while (i < len && scheme_otp_lws(p[i]))
		i++;
	*tok = p + i;
	size_t start = i;
	while (i < len && !scheme_otp_lws(p[i]))
		i++;
	*pos = i;
	return i - start;
}

static bool scheme_otp_seed(const uint8_t *t, size_t n, char seed[SCHEME_OTP_SEED_MAX + 1])
{
	if (n == 0 || n > SCHEME_OTP_SEED_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = t[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 'a' - 'A');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
		seed[i] = (char)c;
	}
	seed[n] = '\0';
	return true;
}

static bool scheme_otp_hex16(const uint8_t *t, size_t n)
{
	if (n != SCHEME_OTP_HASH_LEN * 2)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(t[i] | 0x20);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static int scheme_otp_parse(const uint8_t *p, size_t len, struct scheme_otp *otp)
{
	static const struct { const char *name; enum scheme_md md; } algos[] = {
		{ "md4", SCHEME_MD_MD4 }, { "md5", SCHEME_MD_MD5 }, { "sha1", SCHEME_MD_SHA1 },
	};
	const uint8_t *t;
	size_t pos = 0, n = scheme_otp_token(p, len, &pos, &t);
	otp->algo = NULL;
	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		if (strlen(algos[i].name) == n && scheme_has_prefix(t, n, algos[i].name)) {
			otp->algo = algos[i].name;
			otp->md = algos[i].md;
		}
	}
	if (otp->algo == NULL)
		return -1;
	n = scheme_otp_token(p, len, &pos, &t);
	if (!str_to_uint32(t, n, &otp->seq) || otp->seq > SCHEME_OTP_MAX_SEQ)
		return -1;
	n = scheme_otp_token(p, len, &pos, &t);
	if (!scheme_otp_seed(t, n, otp->seed))
		return -1;
	n = scheme_otp_token(p, len, &pos, &t);
	return scheme_otp_hex16(t, n) ? 0 : -1;
}

/* RFC 2289 folding of a digest to 64 bits. */
static void scheme_otp_fold(enum scheme_md md, const uint8_t *d, uint8_t out[8])
{
	if (md != SCHEME_MD_SHA1) {
		for (size_t i = 0; i < 8; i++)
			out[i] = d[i] ^ d[i + 8];
		return;
	}
	uint8_t tmp[8];
	for (size_t i = 0; i < 4; i++) {
		tmp[i] = d[i] ^ d[i + 8] ^ d[i + 16];
		tmp[i + 4] = d[i + 4] ^ d[i + 12];
	}
	for (size_t i = 0; i < 4; i++) {
		out[i] = tmp[3 - i];
		out[i + 4] = tmp[7 - i];
	}
}

static int scheme_otp_hash(const struct scheme_otp *otp, const uint8_t *pw, size_t pw_len,
			   uint8_t out[SCHEME_OTP_HASH_LEN])
{
	uint8_t d[SCHEME_DIGEST_MAX];
	const uint8_t *parts[2] = { (const uint8_t *)otp->seed, pw };
	size_t lens[2] = { strlen(otp->seed), pw_len };
	if (scheme_digest(otp->md, parts, lens, 2, d) == 0)
		return -1;
	scheme_otp_fold(otp->md, d, out);
	for (uint32_t i = 0; i < otp->seq; i++) {
		if (scheme_digest1(otp->md, out, SCHEME_OTP_HASH_LEN, d) == 0)
			return -1;
		scheme_otp_fold(otp->md, d, out);
	}
	secret_wipe(d, sizeof(d));
	return 0;
}

/* Like Dovecot: recompute, print the entry again and compare the texts
 * case-insensitively. */
int scheme_otp_verify(const struct scheme *s, const struct scheme_verify_in *in,
		      const char **error_r)
{
	(void)s;
	struct scheme_otp otp;
	uint8_t h[SCHEME_OTP_HASH_LEN];
	char gen[SCHEME_OTP_TEXT_MAX], stored[SCHEME_OTP_TEXT_MAX];
	if (scheme_otp_parse(in->raw, in->raw_len, &otp) < 0) {
		*error_r = "Invalid OTP data in passdb";
		return -1;
	}
	if (scheme_otp_hash(&otp, in->pw, in->pw_len, h) < 0) {
		*error_r = "MD4 is not available";
		return -1;
	}
	int n = snprintf(gen, sizeof(gen), "%s %u %s %02x%02x%02x%02x%02x%02x%02x%02x",
			 otp.algo, otp.seq, otp.seed, h[0], h[1], h[2], h[3], h[4], h[5], h[6],
			 h[7]);
	int ret = 0;
	if (n > 0 && in->raw_len < sizeof(stored)) {
		for (size_t i = 0; i < in->raw_len; i++) {
			uint8_t c = in->raw[i];
			stored[i] = (char)(c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c);
		}
		ret = secret_equal(gen, (size_t)n, stored, in->raw_len);
	}
	secret_wipe(h, sizeof(h));
	secret_wipe(gen, sizeof(gen));
	return ret;
}

/* Dovecot's generated entry: sha1, sequence 1024, a seed of 16 lowercase
 * hex digits (8 random bytes; the fixed salt is a seed text instead). */
int scheme_otp_generate(const struct scheme *s, const struct scheme_gen_in *in,
			struct buf *raw, const char **error_r)
{
	(void)s;
	struct scheme_otp otp = { .md = SCHEME_MD_SHA1, .algo = "sha1", .seq = 1024 };
	uint8_t rnd[SCHEME_OTP_SEED_MAX / 2], h[SCHEME_OTP_HASH_LEN];
	if (in->salt != NULL) {
		if (!scheme_otp_seed(in->salt, in->salt_len, otp.seed)) {
			*error_r = "Invalid fixed salt";
			return -1;
		}
	} else {
		if (scheme_random(rnd, sizeof(rnd), error_r) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(otp.seed + 2 * i, 3, "%02x", rnd[i]);
	}
	if (scheme_otp_hash(&otp, in->pw, in->pw_len, h) < 0) {
		*error_r = "OTP hash failed";
		return -1;
	}
	int ret = buf_printf(raw, "%s %u %s %02x%02x%02x%02x%02x%02x%02x%02x", otp.algo, otp.seq,
			     otp.seed, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
	secret_wipe(h, sizeof(h));
	if (ret < 0)
		*error_r = "Out of memory";
	return ret;
}
