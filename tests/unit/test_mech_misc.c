/* test_mech_misc: ANONYMOUS (RFC 4505, spec 6.6) and EXTERNAL (RFC 4422
 * appendix A, spec 6.7) through struct mech, and the registry entries of
 * every issue-4 mechanism. */
#include "tests/unit/mech_driver.h"

static const struct md_case cases[] = {
	/* ANONYMOUS */
	{ .name = "ANONYMOUS with trace", .mech = &mech_anonymous, .step_count = 1,
	  .steps = { { .in = "someone@example.org", .want = MECH_SUCCESS, .want_out = "" } },
	  .want_authcid = "anonymous", .want_authzid = "" },
	{ .name = "ANONYMOUS empty initial response", .mech = &mech_anonymous, .step_count = 1,
	  .steps = { { .in = "", .want = MECH_SUCCESS } }, .want_authcid = "anonymous" },
	{ .name = "ANONYMOUS absent, then empty", .mech = &mech_anonymous, .step_count = 2,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "" },
		     { .in = "", .want = MECH_SUCCESS } },
	  .want_authcid = "anonymous" },
	{ .name = "ANONYMOUS trace with NUL bytes", .mech = &mech_anonymous, .step_count = 1,
	  .steps = { { .in = "a\0b\0", .len = 4, .want = MECH_SUCCESS } },
	  .want_authcid = "anonymous" },
	{ .name = "ANONYMOUS trace is not a user name", .mech = &mech_anonymous,
	  .cert_username = "alice", .step_count = 1,
	  .steps = { { .in = "root", .want = MECH_SUCCESS } }, .want_authcid = "anonymous" },
	/* EXTERNAL */
	{ .name = "EXTERNAL without certificate user", .mech = &mech_external, .step_count = 1,
	  .steps = { { .in = "", .want = MECH_FAILURE } }, .want_reason = "username not known" },
	{ .name = "EXTERNAL with empty certificate user", .mech = &mech_external,
	  .cert_username = "", .step_count = 1,
	  .steps = { { .in = "", .want = MECH_FAILURE } }, .want_reason = "username not known" },
	{ .name = "EXTERNAL without certificate ignores the authzid", .mech = &mech_external,
	  .step_count = 1, .steps = { { .in = "alice", .want = MECH_FAILURE } } },
	{ .name = "EXTERNAL empty message", .mech = &mech_external, .cert_username = "alice",
	  .step_count = 1, .steps = { { .in = "", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "",
	  .want_password_len = 0 },
	{ .name = "EXTERNAL absent, then empty", .mech = &mech_external, .cert_username = "alice",
	  .step_count = 2,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = "" },
		     { .in = "", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "alice", .want_authzid = "", .want_password = "" },
	{ .name = "EXTERNAL authzid", .mech = &mech_external, .cert_username = "admin",
	  .step_count = 1, .steps = { { .in = "bob", .want = MECH_VERIFY_PLAIN } },
	  .want_authcid = "admin", .want_authzid = "bob", .want_password = "" },
	{ .name = "EXTERNAL NUL in authzid", .mech = &mech_external, .cert_username = "alice",
	  .step_count = 1, .steps = { { .in = "b\0b", .len = 3, .want = MECH_FAILURE } },
	  .want_reason = "invalid authzid" },
	{ .name = "EXTERNAL lone NUL", .mech = &mech_external, .cert_username = "alice",
	  .step_count = 1, .steps = { { .in = "\0", .len = 1, .want = MECH_FAILURE } } },
};

static void test_misc_table(void **state)
{
	(void)state;
	md_run_table(cases, N_ELEMS(cases));
}

static void test_anonymous_without_username(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	const struct mech_env env = { .anonymous_username = "" };
	struct mech_request req = { .pool = pool, .mech = &mech_anonymous, .env = &env };
	struct buf out = BUF_INIT(64);
	assert_int_equal(mech_anonymous.step(&req, (const uint8_t *)"x", 1, false, &out),
			 MECH_FAILURE);
	buf_free(&out);
	pool_destroy(&pool);
}

static void test_external_long_authzid(void **state)
{
	(void)state;
	static char authzid[MECH_NAME_MAX + 2];
	memset(authzid, 'a', MECH_NAME_MAX + 1);
	const struct md_case c = {
		.name = "EXTERNAL authzid over MECH_NAME_MAX", .mech = &mech_external,
		.cert_username = "alice", .step_count = 1,
		.steps = { { .in = authzid, .want = MECH_FAILURE } },
		.want_reason = "invalid authzid",
	};
	assert_true(md_run_case(&c));
}

/* MECH lines (spec 2.2's table), credential schemes and registry lookup of
 * every mechanism of issue 4. */
static void test_registry(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const struct mech *mech;
		const char *line;
		const char *cred_scheme;
		bool allow_nuls;
	} want[] = {
		{ "cram-md5", &mech_cram_md5, "MECH\tCRAM-MD5\tdictionary\tactive\n", "CRAM-MD5", false },
		{ "DIGEST-MD5", &mech_digest_md5, "MECH\tDIGEST-MD5\tdictionary\tactive\tmutual-auth\n",
		  "DIGEST-MD5", false },
		{ "scram-sha-1", &mech_scram_sha1, "MECH\tSCRAM-SHA-1\tmutual-auth\n", "SCRAM-SHA-1",
		  false },
		{ "Scram-Sha-256", &mech_scram_sha256, "MECH\tSCRAM-SHA-256\tmutual-auth\n",
		  "SCRAM-SHA-256", false },
		{ "SCRAM-SHA-512", &mech_scram_sha512, "MECH\tSCRAM-SHA-512\tmutual-auth\n",
		  "SCRAM-SHA-512", false },
		{ "anonymous", &mech_anonymous, "MECH\tANONYMOUS\tanonymous\n", NULL, true },
		{ "external", &mech_external, "MECH\tEXTERNAL\n", NULL, false },
	};
	for (size_t i = 0; i < N_ELEMS(want); i++) {
		struct buf out = BUF_INIT(256);
		const struct mech *m = mech_find(want[i].name, strlen(want[i].name));
		assert_ptr_equal(m, want[i].mech);
		assert_int_equal(mech_handshake_line(&out, m), 0);
		if (strcmp(buf_cstr(&out), want[i].line) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", want[i].name, buf_cstr(&out),
				 want[i].line);
		if (want[i].cred_scheme == NULL)
			assert_null(m->cred_scheme);
		else
			assert_string_equal(m->cred_scheme, want[i].cred_scheme);
		assert_int_equal((m->flags & MECH_FLAG_ALLOW_NULS) != 0, want[i].allow_nuls);
		assert_true((m->cred_scheme != NULL) == (m->resume != NULL));
		buf_free(&out);
	}
	assert_null(mech_find("SCRAM-SHA-1-PLUS", 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_misc_table),
		cmocka_unit_test(test_anonymous_without_username),
		cmocka_unit_test(test_external_long_authzid),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
