/* csprng: per-thread buffered RAND_bytes output; see csprng.h. */
#include "common/csprng.h"
#include "common/secret.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

struct csprng_state {
	unsigned int generation;   /* csprng_generation when filled */
	size_t avail;              /* unused bytes: buf[0 .. avail) */
	uint8_t buf[CSPRNG_BLOCK];
};

static _Thread_local struct csprng_state csprng_state;
/* Starts at 1: a thread's zeroed state is of no generation. */
static atomic_uint csprng_generation = 1;
static pthread_once_t csprng_once = PTHREAD_ONCE_INIT;
static bool csprng_buffered;   /* the fork handler is in place */

void csprng_wipe(void)
{
	secret_wipe(csprng_state.buf, sizeof(csprng_state.buf));
	csprng_state.avail = 0;
}

/* Runs in the child of fork(): every buffer the parent's threads filled is
 * of the old generation now. The forking thread is the only thread left;
 * its buffer is wiped at once. */
static void csprng_atfork_child(void)
{
	atomic_fetch_add_explicit(&csprng_generation, 1, memory_order_relaxed);
	csprng_wipe();
}

static void csprng_register(void)
{
	csprng_buffered = pthread_atfork(NULL, NULL, csprng_atfork_child) == 0;
}

static int csprng_direct(uint8_t *out, size_t n)
{
	while (n > 0) {
		int chunk = n > (size_t)CSPRNG_BLOCK ? (int)CSPRNG_BLOCK : (int)n;
		if (RAND_bytes(out, chunk) != 1)
			return -1;
		out += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/* Makes at least n bytes available. Returns 0 or -1. */
static int csprng_fill(struct csprng_state *st, size_t n)
{
	unsigned int gen = atomic_load_explicit(&csprng_generation, memory_order_relaxed);
	if (st->generation != gen) {
		csprng_wipe();
		st->generation = gen;
	}
	if (st->avail >= n)
		return 0;
	/* The few bytes left are dropped rather than stitched together. */
	if (RAND_bytes(st->buf, (int)sizeof(st->buf)) != 1) {
		csprng_wipe();
		return -1;
	}
	st->avail = sizeof(st->buf);
	return 0;
}

int csprng_bytes(uint8_t *out, size_t n)
{
	int ret;
	if (n == 0)
		return 0;
	pthread_once(&csprng_once, csprng_register);
	if (n >= CSPRNG_DIRECT_MIN || !csprng_buffered) {
		ret = csprng_direct(out, n);
	} else {
		struct csprng_state *st = &csprng_state;
		ret = csprng_fill(st, n);
		if (ret == 0) {
			st->avail -= n;
			memcpy(out, st->buf + st->avail, n);
			secret_wipe(st->buf + st->avail, n);
		}
	}
	if (ret < 0)
		secret_wipe(out, n);
	return ret;
}
