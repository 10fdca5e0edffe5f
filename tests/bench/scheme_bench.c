/* scheme_bench: verify cost through common/scheme (parse + scheme_verify)
 * against the library called directly, for the expensive schemes the hash
 * pool runs: SHA512-CRYPT and BLF-CRYPT (libxcrypt crypt_rn), ARGON2ID
 * (libsodium crypto_pwhash_str_verify) and PBKDF2 (OpenSSL
 * PKCS5_PBKDF2_HMAC). Not part of `make check` (timings are not
 * assertions); the ratio should be ~1.0: the scheme layer only parses and
 * compares.
 *
 * Build and run (optimised, no sanitizers), from the repository root:
 *   cc -std=gnu11 -O2 -D_GNU_SOURCE -I. tests/bench/scheme_bench.c \
 *      common/scheme*.c common/base64.c common/buf.c common/secret.c \
 *      common/strnum.c -lcrypto -lsodium -lcrypt -o /tmp/scheme_bench
 *   /tmp/scheme_bench [rounds]     (rounds per measurement, default 20)
 *
 * Each scheme is measured in alternating batches (scheme, direct, scheme,
 * direct, ...) and the median batch time of each side is reported, so
 * frequency scaling and noise hit both sides alike. */
#include "common/buf.h"
#include "common/scheme.h"
#include "common/secret.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_BATCHES 7
#define BENCH_PW "correct horse battery staple"
#define BENCH_PBKDF2_HASH_LEN 20

struct bench {
	const char *name;
	const char *spec;
	unsigned int rounds;
	int (*direct)(const char *value);    /* value without the {SCHEME} prefix */
};

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* libxcrypt as an application would call it: crypt_rn, then compare. */
static int direct_crypt(const char *value)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		abort();
	const char *out = crypt_rn(BENCH_PW, value, cd, (int)sizeof(*cd));
	int ok = out != NULL && secret_equal(out, strlen(out), value, strlen(value));
	free(cd);
	return ok;
}

static int direct_argon2(const char *value)
{
	return crypto_pwhash_str_verify(value, BENCH_PW, strlen(BENCH_PW)) == 0;
}

/* "$1$<salt>$<rounds>$<hex>": split by hand, derive, compare. */
static int direct_pbkdf2(const char *value)
{
	const char *salt = value + 3, *rounds = strchr(salt, '$') + 1;
	const char *hex = strchr(rounds, '$') + 1;
	uint8_t got[BENCH_PBKDF2_HASH_LEN], want[BENCH_PBKDF2_HASH_LEN];
	for (size_t i = 0; i < sizeof(want); i++)
		sscanf(hex + 2 * i, "%2hhx", &want[i]);
	PKCS5_PBKDF2_HMAC(BENCH_PW, (int)strlen(BENCH_PW), (const uint8_t *)salt,
			  (int)(rounds - 1 - salt), atoi(rounds), EVP_sha1(), (int)sizeof(got), got);
	return secret_equal(got, sizeof(got), want, sizeof(want));
}

static int via_scheme(const char *stored)
{
	struct scheme_stored st;
	const char *error;
	if (scheme_parse_stored(stored, strlen(stored), NULL, SCHEME_PREFIX_FIELD, &st, &error) != 1)
		return 0;
	return scheme_verify(&st, (const uint8_t *)BENCH_PW, strlen(BENCH_PW), NULL, &error);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void run(const struct bench *b, int n)
{
	struct buf stored = BUF_INIT(0);
	const char *error;
	if (scheme_generate(b->spec, (const uint8_t *)BENCH_PW, strlen(BENCH_PW), NULL, b->rounds,
			    &stored, &error) != 1) {
		fprintf(stderr, "%s: %s\n", b->name, error);
		exit(1);
	}
	const char *value = strchr(buf_cstr(&stored), '}') + 1;
	double t_scheme[BENCH_BATCHES], t_direct[BENCH_BATCHES];
	if (via_scheme(buf_cstr(&stored)) != 1 || b->direct(value) != 1) {
		fprintf(stderr, "%s: a verification failed\n", b->name);
		exit(1);
	}
	for (int k = 0; k < BENCH_BATCHES; k++) {
		double t0 = now_sec();
		for (int i = 0; i < n; i++)
			if (via_scheme(buf_cstr(&stored)) != 1)
				abort();
		double t1 = now_sec();
		for (int i = 0; i < n; i++)
			if (b->direct(value) != 1)
				abort();
		double t2 = now_sec();
		t_scheme[k] = (t1 - t0) / n;
		t_direct[k] = (t2 - t1) / n;
	}
	qsort(t_scheme, BENCH_BATCHES, sizeof(double), cmp_double);
	qsort(t_direct, BENCH_BATCHES, sizeof(double), cmp_double);
	double s = t_scheme[BENCH_BATCHES / 2], d = t_direct[BENCH_BATCHES / 2];
	printf("%-13s %-40.40s %10.3f ms %10.3f ms %7.3f\n", b->name, value, s * 1e3, d * 1e3,
	       s / d);
	buf_free(&stored);
}

int main(int argc, char **argv)
{
	static const struct bench benches[] = {
		{ .name = "SHA512-CRYPT", .spec = "SHA512-CRYPT", .direct = direct_crypt },
		{ .name = "BLF-CRYPT", .spec = "BLF-CRYPT", .direct = direct_crypt },
		{ .name = "BLF-CRYPT/10", .spec = "BLF-CRYPT", .rounds = 10, .direct = direct_crypt },
		{ .name = "ARGON2ID", .spec = "ARGON2ID", .direct = direct_argon2 },
		{ .name = "PBKDF2", .spec = "PBKDF2", .direct = direct_pbkdf2 },
	};
	int n = argc > 1 ? atoi(argv[1]) : 20;
	if (n <= 0 || scheme_init() < 0)
		return 1;
	printf("%-13s %-40s %13s %13s %7s\n", "scheme", "stored value (start)", "scheme_verify",
	       "direct", "ratio");
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		run(&benches[i], n);
	return 0;
}
