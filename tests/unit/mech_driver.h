/* mech_driver: drives a SASL mechanism through struct mech the way the
 * request code does (step_count incremented before each step, resume()
 * fed the credentials after MECH_LOOKUP_CREDENTIALS), for the table-driven
 * mechanism tests. Header-only: each test_mech_*.c is its own binary. */
#ifndef TESTS_UNIT_MECH_DRIVER_H
#define TESTS_UNIT_MECH_DRIVER_H

#include "common/buf.h"
#include "common/pool.h"
#include "mechanisms/mech.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MD_MAX_STEPS 6
#define MD_OUT_LIMIT 4096u   /* as the request code's MECH_CHALLENGE_MAX */
#define MD_CRED_MAX 512u

struct md_step {
	const char *in;           /* NULL = absent initial response */
	size_t len;               /* 0: strlen(in) */
	bool resume;              /* call resume() with the case's credentials */
	enum mech_status want;
	const char *want_out;     /* NULL = not checked; else exactly (want_out_len) */
	size_t want_out_len;      /* 0: strlen(want_out) */
	const char *want_prefix;  /* out starts with this (when want_out is NULL) */
};

struct md_case {
	const char *name;
	const struct mech *mech;
	const char *nonce;        /* req->test_nonce */
	const char *service;
	const char *cert_username;
	const char *realms;       /* env->realms; NULL = "" */
	const char *cred;         /* credentials given to resume() */
	size_t cred_len;          /* 0: strlen(cred) */
	const char *cred_hex;     /* or: hex of binary credentials */
	const char *reject_user;  /* the username_check refuses this name */
	struct md_step steps[MD_MAX_STEPS];
	size_t step_count;
	/* checked when non-NULL, after the last step: */
	const char *want_authcid;
	const char *want_authzid;
	const char *want_cred_user;
	const char *want_cred_realm;
	const char *want_password;   /* with want_password_len */
	size_t want_password_len;
	const char *want_reason;     /* fail_reason, exactly */
};

static inline const char *md_status_name(enum mech_status s)
{
	switch (s) {
	case MECH_CONTINUE: return "CONTINUE";
	case MECH_VERIFY_PLAIN: return "VERIFY_PLAIN";
	case MECH_LOOKUP_CREDENTIALS: return "LOOKUP_CREDENTIALS";
	case MECH_SUCCESS: return "SUCCESS";
	case MECH_FAILURE: return "FAILURE";
	}
	return "?";
}

static inline int md_username_check(struct mech_request *req, const uint8_t *name, size_t len)
{
	const struct md_case *c = req->ctx;
	if (c->reject_user != NULL && strlen(c->reject_user) == len &&
	    memcmp(c->reject_user, name, len) == 0)
		return 0;
	return 1;
}

static inline size_t md_hex_decode(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex) / 2;
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	return n;
}

static inline bool md_field_equal(const char *what, const char *name, const char *got,
				  const char *want)
{
	if (want == NULL)
		return true;
	if (got != NULL && strcmp(got, want) == 0)
		return true;
	print_error("%s: %s: got \"%s\", want \"%s\"\n", name, what, got != NULL ? got : "(null)",
		    want);
	return false;
}

static inline bool md_out_ok(const struct md_case *c, size_t i, const struct buf *out)
{
	const struct md_step *s = &c->steps[i];
	if (s->want_out != NULL) {
		size_t wl = s->want_out_len != 0 ? s->want_out_len : strlen(s->want_out);
		if (out->len == wl && memcmp(out->data != NULL ? (const void *)out->data : "",
					     s->want_out, wl) == 0)
			return true;
		print_error("%s: step %zu out: got \"%s\", want \"%.*s\"\n", c->name, i,
			    buf_cstr(out), (int)wl, s->want_out);
		return false;
	}
	if (s->want_prefix != NULL && strncmp(buf_cstr(out), s->want_prefix,
					      strlen(s->want_prefix)) != 0) {
		print_error("%s: step %zu out: got \"%s\", want prefix \"%s\"\n", c->name, i,
			    buf_cstr(out), s->want_prefix);
		return false;
	}
	return true;
}

static inline enum mech_status md_do_step(const struct md_case *c, struct mech_request *req,
					  const struct md_step *s, struct buf *out)
{
	if (s->resume) {
		uint8_t bin[MD_CRED_MAX];
		const uint8_t *cred = (const uint8_t *)c->cred;
		size_t cred_len = c->cred != NULL ? (c->cred_len != 0 ? c->cred_len : strlen(c->cred)) : 0;
		if (c->cred_hex != NULL) {
			cred_len = md_hex_decode(c->cred_hex, bin, sizeof(bin));
			cred = bin;
		}
		return c->mech->resume(req, cred != NULL ? cred : (const uint8_t *)"", cred_len, out);
	}
	size_t len = s->in == NULL ? 0 : s->len != 0 ? s->len : strlen(s->in);
	req->step_count++;
	return c->mech->step(req, s->in != NULL ? (const uint8_t *)s->in : (const uint8_t *)"",
			     len, s->in == NULL, out);
}

static inline bool md_results_ok(const struct md_case *c, const struct mech_request *req)
{
	bool ok = md_field_equal("authcid", c->name, req->authcid, c->want_authcid);
	ok &= md_field_equal("authzid", c->name, req->authzid, c->want_authzid);
	ok &= md_field_equal("cred_user", c->name, req->cred_user, c->want_cred_user);
	ok &= md_field_equal("cred_realm", c->name, req->cred_realm, c->want_cred_realm);
	ok &= md_field_equal("fail_reason", c->name, req->fail_reason, c->want_reason);
	if (c->want_password != NULL &&
	    (req->password_len != c->want_password_len ||
	     memcmp(req->password, c->want_password, c->want_password_len) != 0)) {
		print_error("%s: password: got %zu bytes, want %zu\n", c->name, req->password_len,
			    c->want_password_len);
		ok = false;
	}
	return ok;
}

/* Runs one case; returns true if every step and result matched. */
static inline bool md_run_case(const struct md_case *c)
{
	struct pool *pool = pool_create(0);
	struct mech_env env = { .anonymous_username = "anonymous",
				.realms = c->realms != NULL ? c->realms : "",
				.hostname = "test.example" };
	struct mech_request req = {
		.pool = pool, .mech = c->mech, .env = &env, .username_check = md_username_check,
		.ctx = (void *)c, .service = c->service, .cert_username = c->cert_username,
		.test_nonce = (const uint8_t *)c->nonce,
		.test_nonce_len = c->nonce != NULL ? strlen(c->nonce) : 0,
	};
	bool ok = true;
	for (size_t i = 0; i < c->step_count && ok; i++) {
		struct buf out = BUF_INIT(MD_OUT_LIMIT);
		enum mech_status got = md_do_step(c, &req, &c->steps[i], &out);
		if (got != c->steps[i].want) {
			print_error("%s: step %zu: got %s, want %s (reason: %s)\n", c->name, i,
				    md_status_name(got), md_status_name(c->steps[i].want),
				    req.fail_reason != NULL ? req.fail_reason : "-");
			ok = false;
		} else {
			ok = md_out_ok(c, i, &out);
		}
		buf_free(&out);
	}
	if (ok)
		ok = md_results_ok(c, &req);
	pool_destroy(&pool);
	return ok;
}

/* Runs a table; fails the cmocka test if any case failed. */
static inline void md_run_table(const struct md_case *cases, size_t n)
{
	size_t failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (!md_run_case(&cases[i]))
			failed++;
	}
	if (failed > 0)
		fail_msg("%zu of %zu cases failed", failed, n);
}

#endif
