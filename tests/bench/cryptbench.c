/* cryptbench: the benchmark's ceiling for the hash cells.
 *
 * cryptbench [SECONDS [SCHEME]]
 *
 * Verifies one SHA512-CRYPT (rounds=5000, Dovecot's default) and one
 * BLF-CRYPT (cost 5, `doveadm pw`'s default) hash with libxcrypt's
 * crypt_rn() directly, first on one thread, then on one thread per online
 * CPU, for SECONDS (default 2) each, and prints one JSON object:
 *   {"cpus": N, "SHA512-CRYPT": {"1": v/s, "all": v/s}, "BLF-CRYPT": {...}}
 * Those are the most verifications per second this machine can do; an auth
 * server's hash cells are measured against the "all" figure. With SCHEME,
 * only that one (bench.py measures it right before each hash cell, so that
 * other load on the machine skews both alike). */
#include <crypt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CB_MAX_THREADS 64
/* The shape of the benchmark users' passwords (pw<i>): SHA512-CRYPT's cost
 * depends on the password length. */
#define CB_PASSWORD "pw500"

struct cb_arg {
	const char *hash;
	double seconds;
	uint64_t count;
	bool bad;
	pthread_t tid;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *cb_thread(void *p)
{
	struct cb_arg *a = p;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	size_t hlen = strlen(a->hash);
	if (cd == NULL) {
		a->bad = true;
		return NULL;
	}
	double end = now_s() + a->seconds;
	while (now_s() < end) {
		const char *h = crypt_rn(CB_PASSWORD, a->hash, cd, (int)sizeof(*cd));
		if (h == NULL || strlen(h) != hlen || memcmp(h, a->hash, hlen) != 0) {
			a->bad = true;
			break;
		}
		a->count++;
	}
	free(cd);
	return NULL;
}

/* Verifications per second with n threads, or -1. */
static double cb_rate(const char *hash, unsigned int n, double seconds)
{
	struct cb_arg args[CB_MAX_THREADS];
	uint64_t total = 0;
	double start = now_s();
	for (unsigned int i = 0; i < n; i++) {
		args[i] = (struct cb_arg){ .hash = hash, .seconds = seconds };
		pthread_create(&args[i].tid, NULL, cb_thread, &args[i]);
	}
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(args[i].tid, NULL);
		if (args[i].bad)
			return -1;
		total += args[i].count;
	}
	return (double)total / (now_s() - start);
}

static int cb_hash(const char *prefix, unsigned long rounds, char *out, size_t size)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	memset(&cd, 0, sizeof(cd));
	if (crypt_gensalt_rn(prefix, rounds, NULL, 0, setting, sizeof(setting)) == NULL)
		return -1;
	const char *h = crypt_rn(CB_PASSWORD, setting, &cd, (int)sizeof(cd));
	if (h == NULL || h[0] == '*' || strlen(h) >= size)
		return -1;
	strcpy(out, h);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name, *prefix; unsigned long rounds; } schemes[] = {
		{ "SHA512-CRYPT", "$6$", 5000 },
		{ "BLF-CRYPT", "$2y$", 5 },
	};
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	if (cpus > CB_MAX_THREADS)
		cpus = CB_MAX_THREADS;
	printf("{\"cpus\": %ld", cpus);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		char hash[CRYPT_OUTPUT_SIZE];
		if (argc > 2 && strcmp(argv[2], schemes[i].name) != 0)
			continue;
		if (cb_hash(schemes[i].prefix, schemes[i].rounds, hash, sizeof(hash)) < 0) {
			fprintf(stderr, "cryptbench: cannot hash %s\n", schemes[i].name);
			return 1;
		}
		double one = cb_rate(hash, 1, seconds), all = cb_rate(hash, (unsigned int)cpus, seconds);
		if (one < 0 || all < 0) {
			fprintf(stderr, "cryptbench: %s verification failed\n", schemes[i].name);
			return 1;
		}
		printf(", \"%s\": {\"1\": %.1f, \"all\": %.1f}", schemes[i].name, one, all);
	}
	printf("}\n");
	return 0;
}
