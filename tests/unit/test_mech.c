/* test_mech: PLAIN and LOGIN (spec 6.1, 6.2) driven through the struct
 * mech interface with a pool-backed struct mech_request, as the request
 * code drives them: step_count is incremented before each step. Also the
 * registry (mech_find) and the handshake MECH lines. */
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
#define MAX_STEPS 4
#define REJECTED_NAME "bad name"   /* the test's username_check refuses it */

static const char *status_name(enum mech_status s)
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

struct step {
	const char *in;          /* NULL = absent initial response */
	size_t len;              /* 0: strlen(in) */
	enum mech_status want;
	const char *want_out;    /* challenge; NULL = "" */
};

struct mech_case {
	const char *name;
	const char *mech;
	struct step steps[MAX_STEPS];
	size_t step_count;
	/* results after the last step (VERIFY_PLAIN) */
	const char *want_authcid;
	const char *want_authzid;
	const char *want_password;
	size_t want_password_len;    /* 0: strlen(want_password) */
	int want_checks;             /* username_check calls; -1 = don't care */
};

struct check_state {
	int calls;
	char last[64];
	size_t last_len;
};

static int test_username_check(struct mech_request *req, const uint8_t *name, size_t len)
{
	struct check_state *cs = req->ctx;
	cs->calls++;
	cs->last_len = len < sizeof(cs->last) ? len : sizeof(cs->last);
	memcpy(cs->last, name, cs->last_len);
	return !(len == strlen(REJECTED_NAME) && memcmp(name, REJECTED_NAME, len) == 0);
}

static const struct mech_env test_env = {
	.anonymous_username = "anonymous",
	.realms = "",
	.hostname = "test.example",
};

static const struct mech_case cases[] = {
	/* PLAIN, spec 6.1 */
	{ .name = "PLAIN no authzid", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "\0alice\0alicepw", .len = 14, .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "alicepw" },
	{ .name = "PLAIN authzid == authcid ignored", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "alice\0alice\0pw", .len = 14, .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "pw" },
	{ .name = "PLAIN authzid differs (master login)", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "alice\0admin\0adminpw", .len = 19, .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "admin", .want_authzid = "alice", .want_password = "adminpw" },
	{ .name = "PLAIN authzid prefix of authcid is kept", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "ali\0alice\0pw", .len = 12, .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "ali", .want_password = "pw" },
	{ .name = "PLAIN empty password", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "\0alice\0", .len = 7, .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "" },
	{ .name = "PLAIN password with spaces and 8-bit", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "\0bob\0p w\xc3\xa9", .len = 10, .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "bob", .want_authzid = "", .want_password = "p w\xc3\xa9" },
	{ .name = "PLAIN one NUL fails", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "alice\0pw", .len = 8, .want = MECH_FAILURE } } },
	{ .name = "PLAIN no NUL fails", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "alice", .want = MECH_FAILURE } } },
	{ .name = "PLAIN three NULs fail (NUL in password)", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "\0alice\0pw\0x", .len = 11, .want = MECH_FAILURE } } },
	{ .name = "PLAIN trailing NUL fails", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "\0alice\0pw\0", .len = 10, .want = MECH_FAILURE } } },
	{ .name = "PLAIN only NULs", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "\0\0\0", .len = 3, .want = MECH_FAILURE } } },
	{ .name = "PLAIN empty authcid fails", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "\0\0pw", .len = 4, .want = MECH_FAILURE } } },
	{ .name = "PLAIN empty authcid with authzid fails", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "alice\0\0pw", .len = 9, .want = MECH_FAILURE } } },
	{ .name = "PLAIN present empty fails", .mech = "PLAIN", .step_count = 1,
	  .steps = { { .in = "", .want = MECH_FAILURE } } },
	{ .name = "PLAIN absent: empty challenge, then data", .mech = "PLAIN", .step_count = 2,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "" },
		     { .in = "\0alice\0pw", .len = 9, .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "pw" },
	{ .name = "PLAIN absent then empty fails", .mech = "PLAIN", .step_count = 2,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "" },
		     { .in = "", .want = MECH_FAILURE } } },
	/* LOGIN, spec 6.2 */
	{ .name = "LOGIN absent: both prompts", .mech = "LOGIN", .step_count = 3,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "Username:" },
		     { .in = "alice", .want = MECH_CONTINUE, .want_out = "Password:" },
		     { .in = "alicepw", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "alicepw",
	  .want_checks = 1 },
	{ .name = "LOGIN initial response is the user name", .mech = "LOGIN", .step_count = 2,
	  .steps = { { .in = "alice", .want = MECH_CONTINUE, .want_out = "Password:" },
		     { .in = "alicepw", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "alicepw",
	  .want_checks = 1 },
	{ .name = "LOGIN empty initial response prompts", .mech = "LOGIN", .step_count = 3,
	  .steps = { { .in = "", .want = MECH_CONTINUE, .want_out = "Username:" },
		     { .in = "bob", .want = MECH_CONTINUE, .want_out = "Password:" },
		     { .in = "bobpw", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "bob", .want_authzid = "", .want_password = "bobpw",
	  .want_checks = 1 },
	{ .name = "LOGIN empty user name at the prompt fails", .mech = "LOGIN", .step_count = 2,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "Username:" },
		     { .in = "", .want = MECH_FAILURE } },
	  .want_checks = 0 },
	{ .name = "LOGIN rejected name fails before the password prompt", .mech = "LOGIN",
	  .step_count = 2,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "Username:" },
		     { .in = REJECTED_NAME, .want = MECH_FAILURE } },
	  .want_checks = 1 },
	{ .name = "LOGIN rejected initial-response name fails at once", .mech = "LOGIN",
	  .step_count = 1,
	  .steps = { { .in = REJECTED_NAME, .want = MECH_FAILURE } },
	  .want_checks = 1 },
	{ .name = "LOGIN empty password is verified", .mech = "LOGIN", .step_count = 2,
	  .steps = { { .in = "carol", .want = MECH_CONTINUE, .want_out = "Password:" },
		     { .in = "", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "carol", .want_authzid = "", .want_password = "",
	  .want_checks = 1 },
	{ .name = "LOGIN password with TAB passed through", .mech = "LOGIN", .step_count = 2,
	  .steps = { { .in = "dave", .want = MECH_CONTINUE, .want_out = "Password:" },
		     { .in = "a\tb", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "dave", .want_authzid = "", .want_password = "a\tb",
	  .want_checks = 1 },
};

static bool check_step(const struct mech_case *c, size_t i, enum mech_status got,
		       const struct buf *out)
{
	const struct step *s = &c->steps[i];
	const char *want_out = s->want_out != NULL ? s->want_out : "";
	bool ok = true;
	if (got != s->want) {
		print_error("%s: step %zu: got %s, want %s\n", c->name, i + 1, status_name(got),
			    status_name(s->want));
		ok = false;
	}
	if (got == MECH_CONTINUE &&
	    (out->len != strlen(want_out) || memcmp(buf_cstr(out), want_out, out->len) != 0)) {
		print_error("%s: step %zu: got challenge \"%s\", want \"%s\"\n", c->name, i + 1,
			    buf_cstr(out), want_out);
		ok = false;
	}
	return ok;
}

static bool check_results(const struct mech_case *c, const struct mech_request *req,
			  enum mech_status last, const struct check_state *cs)
{
	bool ok = true;
	if (last == MECH_VERIFY_PLAIN) {
		size_t pw_len = c->want_password_len != 0 ? c->want_password_len :
			       strlen(c->want_password);
		if (req->authcid == NULL || strcmp(req->authcid, c->want_authcid) != 0 ||
		    req->authzid == NULL || strcmp(req->authzid, c->want_authzid) != 0) {
			print_error("%s: got authcid \"%s\" authzid \"%s\", want \"%s\" \"%s\"\n",
				    c->name, req->authcid != NULL ? req->authcid : "(null)",
				    req->authzid != NULL ? req->authzid : "(null)", c->want_authcid,
				    c->want_authzid);
			ok = false;
		}
		if (req->password == NULL || req->password_len != pw_len ||
		    memcmp(req->password, c->want_password, pw_len) != 0 ||
		    req->password[pw_len] != '\0') {
			print_error("%s: got password len %zu, want \"%s\" (%zu), NUL-terminated\n",
				    c->name, req->password_len, c->want_password, pw_len);
			ok = false;
		}
	}
	if (last == MECH_FAILURE && req->fail_reason == NULL) {
		print_error("%s: FAILURE without fail_reason\n", c->name);
		ok = false;
	}
	if (last == MECH_FAILURE && req->password != NULL) {
		print_error("%s: FAILURE left a password behind\n", c->name);
		ok = false;
	}
	if (c->want_checks >= 0 && cs->calls != c->want_checks &&
	    strcmp(c->mech, "LOGIN") == 0) {
		print_error("%s: got %d username_check calls, want %d\n", c->name, cs->calls,
			    c->want_checks);
		ok = false;
	}
	return ok;
}

static bool run_case(const struct mech_case *c)
{
	const struct mech *mech = mech_find(c->mech, strlen(c->mech));
	struct pool *pool = pool_create(0);
	struct check_state cs = { 0 };
	struct mech_request req = {
		.pool = pool,
		.mech = mech,
		.env = &test_env,
		.username_check = test_username_check,
		.ctx = &cs,
	};
	enum mech_status got = MECH_FAILURE;
	bool ok = mech != NULL;
	for (size_t i = 0; ok && i < c->step_count; i++) {
		const struct step *s = &c->steps[i];
		struct buf out = BUF_INIT(4096);
		size_t len = s->in == NULL ? 0 : s->len != 0 ? s->len : strlen(s->in);
		req.step_count++;
		got = mech->step(&req, (const uint8_t *)(s->in != NULL ? s->in : ""), len,
				 s->in == NULL, &out);
		ok = check_step(c, i, got, &out);
		buf_free(&out);
	}
	if (ok)
		ok = check_results(c, &req, got, &cs);
	pool_destroy(&pool);
	return ok;
}

static void test_mech_cases(void **state)
{
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		ok &= run_case(&cases[i]);
	if (!ok)
		fail();
}

static void test_login_without_username_check(void **state)
{
	struct pool *pool = pool_create(0);
	struct mech_request req = { .pool = pool, .mech = &mech_login, .env = &test_env };
	struct buf out = BUF_INIT(64);
	(void)state;
	req.step_count = 1;
	assert_int_equal(mech_login.step(&req, (const uint8_t *)"x", 1, false, &out),
			 MECH_CONTINUE);
	assert_string_equal(buf_cstr(&out), "Password:");
	buf_free(&out);
	pool_destroy(&pool);
}

struct find_case {
	const char *name;
	size_t len;              /* 0: strlen */
	const struct mech *want;
};

static void test_mech_find(void **state)
{
	static const struct find_case finds[] = {
		{ .name = "PLAIN", .want = &mech_plain },
		{ .name = "plain", .want = &mech_plain },
		{ .name = "pLaIn", .want = &mech_plain },
		{ .name = "LOGIN", .want = &mech_login },
		{ .name = "login", .want = &mech_login },
		{ .name = "PLAI", .want = NULL },
		{ .name = "PLAINX", .want = NULL },
		{ .name = "PLAINX", .len = 5, .want = &mech_plain },   /* length-bounded */
		{ .name = "", .want = NULL },
		{ .name = "NTLMSSP", .len = 4, .want = NULL },
		{ .name = "PLAIN\0", .len = 6, .want = NULL },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(finds); i++) {
		const struct find_case *c = &finds[i];
		size_t len = c->len != 0 ? c->len : strlen(c->name);
		const struct mech *got = mech_find(c->name, len);
		if (got != c->want) {
			print_error("mech_find(\"%.*s\"): got %s, want %s\n", (int)len, c->name,
				    got != NULL ? got->name : "NULL",
				    c->want != NULL ? c->want->name : "NULL");
			ok = false;
		}
	}
	if (!ok)
		fail();
}

static void test_handshake_lines_and_flags(void **state)
{
	struct buf out = BUF_INIT(256);
	(void)state;
	assert_int_equal(mech_handshake_line(&out, &mech_plain), 0);
	assert_int_equal(mech_handshake_line(&out, &mech_login), 0);
	assert_string_equal(buf_cstr(&out), "MECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n");
	/* spec 2.2 table: PLAIN allows NULs in client data, LOGIN does not */
	assert_true((mech_plain.flags & MECH_FLAG_ALLOW_NULS) != 0);
	assert_true((mech_login.flags & MECH_FLAG_ALLOW_NULS) == 0);
	assert_null(mech_plain.cred_scheme);
	assert_null(mech_login.cred_scheme);
	buf_free(&out);

	/* the limit is honoured */
	struct buf small = BUF_INIT(10);
	assert_int_equal(mech_handshake_line(&small, &mech_plain), -1);
	buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mech_cases),
		cmocka_unit_test(test_login_without_username_check),
		cmocka_unit_test(test_mech_find),
		cmocka_unit_test(test_handshake_lines_and_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
