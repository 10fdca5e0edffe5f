/* scheme_generate: `doveadm pw -s` as a function. Looks the spec up, runs
 * the scheme's generator (in its family file), applies the .hex/.b64
 * encoding and writes "{LABEL}encoded". Also the randomness helpers every
 * generator uses (OpenSSL RAND_bytes, Dovecot's SALT64 alphabet). */
#include "common/base64.h"
#include "common/scheme_private.h"

#include <openssl/rand.h>
#include <string.h>

int scheme_random(uint8_t *p, size_t n, const char **error_r)
{
	if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1) {
		*error_r = "RAND_bytes() failed";
		return -1;
	}
	return 0;
}

int scheme_salt64(const struct scheme_gen_in *in, char *out, size_t n, const char **error_r)
{
	static const char alphabet[] = SCHEME_SALT64;
	if (in->salt != NULL) {
		if (in->salt_len == 0 || in->salt_len > n)
			goto bad_salt;
		for (size_t i = 0; i < in->salt_len; i++) {
			if (in->salt[i] == '\0' || strchr(alphabet, in->salt[i]) == NULL)
				goto bad_salt;
			out[i] = (char)in->salt[i];
		}
		return 0;
	}
	uint8_t rnd[64];
	for (size_t done = 0; done < n; done += sizeof(rnd)) {
		size_t k = n - done < sizeof(rnd) ? n - done : sizeof(rnd);
		if (scheme_random(rnd, k, error_r) < 0)
			return -1;
		/* 64 characters: the low 6 bits of a byte are uniform. */
		for (size_t i = 0; i < k; i++)
			out[done + i] = alphabet[rnd[i] & 63];
	}
	return 0;
bad_salt:
	*error_r = "Invalid fixed salt";
	return -1;
}

/* Appends raw in the encoding enc. Returns 0 or -1. */
static int scheme_encode(struct buf *out, enum scheme_encoding enc, const struct buf *raw)
{
	const uint8_t *p = raw->data != NULL ? raw->data : (const uint8_t *)"";
	switch (enc) {
	case SCHEME_ENC_HEX:
		return hex_encode(out, p, raw->len);
	case SCHEME_ENC_BASE64:
		return base64_encode(out, p, raw->len);
	case SCHEME_ENC_NONE:
	default:
		return buf_append(out, p, raw->len);
	}
}

/* "{LABEL}": spec upper-cased, or the scheme's gen_label with spec's
 * suffix upper-cased. */
static int scheme_label(struct buf *out, const struct scheme *s, const char *spec)
{
	const char *dot = strchr(spec, '.');
	const char *p = spec;
	int ret = buf_append_byte(out, '{');
	if (s->gen_label != NULL) {
		ret |= buf_append_str(out, s->gen_label);
		p = dot != NULL ? dot : "";
	}
	for (; *p != '\0'; p++) {
		char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
		ret |= buf_append_byte(out, (uint8_t)c);
	}
	ret |= buf_append_byte(out, '}');
	return ret < 0 ? -1 : 0;
}

int scheme_generate_with_salt(const char *spec, const uint8_t *pw, size_t pw_len,
			      const char *user, unsigned int rounds, const uint8_t *salt,
			      size_t salt_len, struct buf *out, const char **error_r)
{
	const struct scheme *s;
	enum scheme_encoding enc;
	bool explicit_enc;
	size_t spec_len = strlen(spec);
	if (spec_len > SCHEME_SPEC_MAX ||
	    scheme_lookup_spec(spec, spec_len, &s, &enc, &explicit_enc) == 0) {
		*error_r = "Unknown scheme";
		return 0;
	}
	struct scheme_gen_in in = {
		.pw = pw != NULL ? pw : (const uint8_t *)"", .pw_len = pw_len, .user = user,
		.rounds = rounds, .salt = salt, .salt_len = salt_len,
	};
	struct buf raw = BUF_INIT(BUF_DEFAULT_LIMIT);
	size_t start = out->len;
	int ret = s->generate(s, &in, &raw, error_r);
	if (ret == 0 && (scheme_label(out, s, spec) < 0 || scheme_encode(out, enc, &raw) < 0)) {
		*error_r = "Out of memory";
		ret = -1;
	}
	buf_free(&raw);
	if (ret < 0) {
		buf_truncate(out, start);   /* drop a partial value */
		return -1;
	}
	return 1;
}

int scheme_generate(const char *spec, const uint8_t *pw, size_t pw_len, const char *user,
		    unsigned int rounds, struct buf *out, const char **error_r)
{
	return scheme_generate_with_salt(spec, pw, pw_len, user, rounds, NULL, 0, out, error_r);
}
