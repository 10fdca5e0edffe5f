/* fuzz_mech_driver: drives one SASL mechanism with fuzz input, as the
 * request code would, for the fuzz_mech_*.c targets. Header-only.
 *
 * Input: byte 0 = flags, then client messages separated by '\n':
 *   bit 0  the first step has an absent initial response (then the first
 *          message is the answer to the empty/first challenge)
 *   bit 1  generate the server nonce/challenge (default: the fixed test
 *          nonce of the target, so inputs can reach the later steps)
 *   bit 2  the message after a LOOKUP_CREDENTIALS is the credential given
 *          to resume() (default: the target's fixed, valid credential)
 *   bit 3  no service (DIGEST-MD5's digest-uri check off)
 *   bits 4-5  target-specific (SCRAM: 0/3 SHA-1, 1 SHA-256, 2 SHA-512)
 * Checks (abort() on violation): the status sequence is one the request
 * code can handle, out stays within its limit, LOOKUP_CREDENTIALS comes
 * with an authcid, VERIFY_PLAIN with authcid and password, SUCCESS and
 * FAILURE end the exchange, FAILURE says why. */
#ifndef TESTS_FUZZ_FUZZ_MECH_DRIVER_H
#define TESTS_FUZZ_FUZZ_MECH_DRIVER_H

#include "common/buf.h"
#include "common/pool.h"
#include "mechanisms/mech.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef FUZZ_MECH_TRACE   /* -DFUZZ_MECH_TRACE: print each status (seed checking) */
#include <stdio.h>
#endif

#define FUZZ_MECH_OUT_LIMIT 4096u   /* the request code's MECH_CHALLENGE_MAX */
#define FUZZ_MECH_STEPS_MAX 8u

struct fuzz_mech_target {
	const struct mech *mech;
	const char *nonce;          /* test nonce (flags bit 1 clear) */
	const uint8_t *cred;        /* valid credential */
	size_t cred_len;
	const char *service;
};

/* Next '\n'-separated message of [*pos, size). Returns false at the end. */
static inline bool fuzz_mech_next(const uint8_t *data, size_t size, size_t *pos,
				  const uint8_t **msg, size_t *len)
{
	if (*pos > size)
		return false;
	const uint8_t *start = data + *pos;
	const uint8_t *nl = memchr(start, '\n', size - *pos);
	*msg = start;
	*len = nl != NULL ? (size_t)(nl - start) : size - *pos;
	*pos += *len + 1;
	return true;
}

static inline void fuzz_mech_check(const struct mech_request *req, enum mech_status st,
				   const struct buf *out)
{
	if (out->len > FUZZ_MECH_OUT_LIMIT)
		abort();
	switch (st) {
	case MECH_CONTINUE:
	case MECH_SUCCESS:
		return;
	case MECH_LOOKUP_CREDENTIALS:
		if (req->authcid == NULL || req->authzid == NULL || req->mech->cred_scheme == NULL)
			abort();
		return;
	case MECH_VERIFY_PLAIN:
		if (req->authcid == NULL || req->authzid == NULL || req->password == NULL)
			abort();
		return;
	case MECH_FAILURE:
		if (req->fail_reason == NULL || out->len != 0)
			abort();
		return;
	}
	abort();
}

static inline int fuzz_mech_run(const struct fuzz_mech_target *t, const uint8_t *data,
				size_t size)
{
	if (size == 0)
		return 0;
	uint8_t flags = data[0];
	struct pool *pool = pool_create(0);
	const struct mech_env env = { .anonymous_username = "anonymous",
				      .realms = "example.com other.test", .hostname = "fuzz.test" };
	struct mech_request req = {
		.pool = pool, .mech = t->mech, .env = &env,
		.service = (flags & 8) != 0 ? NULL : t->service,
		.cert_username = "certuser",
		.test_nonce = (flags & 2) != 0 ? NULL : (const uint8_t *)t->nonce,
		.test_nonce_len = (flags & 2) != 0 || t->nonce == NULL ? 0 : strlen(t->nonce),
	};
	if (req.test_nonce_len == 0)
		req.test_nonce = NULL;
	size_t pos = 1;
	bool absent = (flags & 1) != 0;
	enum mech_status st = MECH_CONTINUE;
	for (unsigned int steps = 0; steps < FUZZ_MECH_STEPS_MAX; steps++) {
		const uint8_t *msg = (const uint8_t *)"";
		size_t len = 0;
		struct buf out = BUF_INIT(FUZZ_MECH_OUT_LIMIT);
		if (st == MECH_LOOKUP_CREDENTIALS) {
			if ((flags & 4) == 0 || !fuzz_mech_next(data, size, &pos, &msg, &len)) {
				msg = t->cred;
				len = t->cred_len;
			}
			st = t->mech->resume(&req, msg, len, &out);
		} else if (absent) {
			absent = false;
			req.step_count++;
			st = t->mech->step(&req, msg, 0, true, &out);
		} else if (fuzz_mech_next(data, size, &pos, &msg, &len)) {
			req.step_count++;
			st = t->mech->step(&req, msg, len, false, &out);
		} else {
			buf_free(&out);
			break;
		}
		fuzz_mech_check(&req, st, &out);
#ifdef FUZZ_MECH_TRACE
		fprintf(stderr, "status %d out \"%s\" reason %s\n", (int)st, buf_cstr(&out),
			req.fail_reason != NULL ? req.fail_reason : "-");
#endif
		buf_free(&out);
		if (st == MECH_SUCCESS || st == MECH_FAILURE || st == MECH_VERIFY_PLAIN)
			break;
	}
	pool_destroy(&pool);
	return 0;
}

#endif
