/* Fuzz target for common/scheme: the input is "<stored value>\0<password>"
 * (no NUL: empty password). The stored value is parsed with both prefix
 * rules, verified, and asked for every mechanism's credentials (except the
 * pairs that cost a KDF); for the cheap schemes the password is also
 * generated under the parsed scheme and must verify again. Values that would make one run slow (argon2, bcrypt
 * cost > 4, sha-crypt or PBKDF2 rounds > 1000, yescrypt/scrypt and other
 * tunable crypt methods, OTP seq > 1000) are skipped here, by looking at
 * the decoded value before verifying; the library itself accepts them. */
#include "common/buf.h"
#include "common/scheme.h"
#include "common/strnum.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_ROUNDS 1000u
#define FUZZ_MAX_BCRYPT_COST 4u

static bool has_prefix(const uint8_t *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(p, prefix, n) == 0;
}

/* Decimal number at p (up to a non-digit); UINT32_MAX if none/too big. */
static uint32_t number_at(const uint8_t *p, size_t len)
{
	size_t n = 0;
	uint32_t v;
	while (n < len && p[n] >= '0' && p[n] <= '9')
		n++;
	return str_to_uint32(p, n, &v) ? v : UINT32_MAX;
}

/* The value after the n-th occurrence of sep (0 = start). */
static uint32_t number_after(const uint8_t *p, size_t len, uint8_t sep, unsigned int n)
{
	size_t i = 0;
	for (; i < len && n > 0; i++)
		if (p[i] == sep)
			n--;
	return n == 0 ? number_at(p + i, len - i) : UINT32_MAX;
}

static bool crypt_too_slow(const uint8_t *p, size_t len)
{
	if (len == 0 || (p[0] != '$' && p[0] != '_'))
		return false;   /* DES, or an invalid setting */
	if (has_prefix(p, len, "$1$") || has_prefix(p, len, "$3$"))
		return false;
	if (len >= 7 && p[1] == '2' && p[3] == '$')
		return number_at(p + 4, 2) > FUZZ_MAX_BCRYPT_COST;
	if (has_prefix(p, len, "$5$rounds=") || has_prefix(p, len, "$6$rounds="))
		return number_at(p + 10, len - 10) > FUZZ_MAX_ROUNDS;
	return true;   /* default sha-crypt rounds, yescrypt, scrypt, _, $md5, ... */
}

static bool too_slow(const char *name, const uint8_t *p, size_t len)
{
	if (strncmp(name, "ARGON2", 6) == 0)
		return true;
	if (strcmp(name, "PBKDF2") == 0)
		return number_after(p, len, '$', 3) > FUZZ_MAX_ROUNDS;
	if (strncmp(name, "SCRAM-", 6) == 0)
		return number_at(p, len) > 4096;
	if (strcmp(name, "OTP") == 0)
		return number_after(p, len, ' ', 1) > FUZZ_MAX_ROUNDS;
	if (strstr(name, "CRYPT") != NULL || strcmp(name, "MD5") == 0)
		return crypt_too_slow(p, len);
	return false;
}

static const char *const fuzz_wanted[] = {
	"PLAIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512",
};

/* Every credentials request keeps the return convention; out is only
 * written on success. */
static void fuzz_credentials(const struct scheme_stored *st)
{
	for (size_t i = 0; i < sizeof(fuzz_wanted) / sizeof(fuzz_wanted[0]); i++) {
		struct buf out = BUF_INIT(0);
		const char *error = NULL;
		if (scheme_credentials_expensive(st, fuzz_wanted[i]))
			continue;
		int ret = scheme_credentials(st, fuzz_wanted[i], "user", "example.com", &out,
					     &error);
		if (ret < -1 || ret > 1 || (ret != 1 && (error == NULL || out.len != 0)))
			abort();
		buf_free(&out);
	}
}

/* A cheap scheme's generated value of pw verifies pw. */
static void fuzz_generate(const struct scheme_stored *st, const uint8_t *pw, size_t pw_len)
{
	struct buf out = BUF_INIT(0);
	struct scheme_stored gen;
	const char *error = NULL;
	if (scheme_is_expensive(st) || strcmp(st->scheme_name, "PLAIN-TRUNC") == 0)
		return;
	int ret = scheme_generate(st->scheme_name, pw, pw_len, "user@example.com", 0, &out,
				  &error);
	if (ret != 1 && !(ret == -1 && error != NULL))
		abort();
	if (ret == 1 &&
	    (scheme_parse_stored((const char *)out.data, out.len, NULL, SCHEME_PREFIX_FIELD, &gen,
				 &error) != 1 ||
	     scheme_verify(&gen, pw, pw_len, "user@example.com", &error) != 1))
		abort();
	buf_free(&out);
}

static void fuzz_one(const char *stored, size_t stored_len, const uint8_t *pw, size_t pw_len,
		     enum scheme_prefix_rule rule, const char *deflt)
{
	struct scheme_stored st;
	struct buf raw = BUF_INIT(0);
	const char *error = NULL;
	if (scheme_parse_stored(stored, stored_len, deflt, rule, &st, &error) != 1)
		return;
	if (scheme_decode(&st, &raw, &error) == 1 &&
	    !too_slow(st.scheme_name, raw.data != NULL ? raw.data : (const uint8_t *)"", raw.len)) {
		int ret = scheme_verify(&st, pw, pw_len, "user@example.com", &error);
		if (ret < -1 || ret > 1 || (ret == -1 && error == NULL))
			abort();
	}
	buf_free(&raw);
	fuzz_credentials(&st);
	fuzz_generate(&st, pw, pw_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialised;
	if (!initialised) {
		if (scheme_init() < 0)
			abort();
		initialised = true;
	}
	const uint8_t *nul = memchr(data, '\0', size);
	size_t stored_len = nul != NULL ? (size_t)(nul - data) : size;
	const uint8_t *pw = nul != NULL ? nul + 1 : data + size;
	size_t pw_len = size - (size_t)(pw - data);
	/* A private copy so ASan sees reads past the stored value. */
	char *stored = malloc(stored_len + 1);
	if (stored == NULL)
		return 0;
	if (stored_len > 0)
		memcpy(stored, data, stored_len);
	stored[stored_len] = '\0';
	fuzz_one(stored, stored_len, pw, pw_len, SCHEME_PREFIX_PASSWD_FILE, "CRYPT");
	fuzz_one(stored, stored_len, pw, pw_len, SCHEME_PREFIX_FIELD, "PLAIN");
	free(stored);
	return 0;
}
