/* test_mech_cram_md5: CRAM-MD5 (RFC 2195, spec 6.3) through struct mech:
 * the RFC 2195 example, a real Dovecot exchange (transcript 03), the
 * challenge format, and malformed responses. */
#include "tests/unit/mech_driver.h"

#include <ctype.h>
#include <stdlib.h>

/* RFC 2195 section 2: tim / tanstaaftanstaaf */
#define RFC_CHALLENGE "<1896.697170952@postoffice.reston.mci.net>"
#define RFC_RESPONSE "tim b913a602c7eda7a495b4e6e7334d3890"
/* {CRAM-MD5} of "tanstaaftanstaaf" (password-schemes.md 3.10) */
#define CTX_TANSTAAF "d06d4e1b26fccaa4b0b61801132340a354b21152711fb604ca3e035e7015116b"
/* {CRAM-MD5} of "secret" */
#define CTX_SECRET "cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"
/* transcript 03-mech1.txt "CRAM-MD5 alice (stored PLAIN)", password secret */
#define T_CHALLENGE "<7841765515047019.1795254183@vm>"
#define T_RESPONSE "alice af83e6f0fb6994da4ee354ac082dadc9"

#define CHALLENGE_STEP { .in = NULL, .want = MECH_CONTINUE, .want_out = RFC_CHALLENGE }
#define RESUME(w) { .resume = true, .want = (w) }
#define FAILS(text, n) { .in = (text), .len = (n), .want = MECH_FAILURE }

static const struct md_case cases[] = {
	{ .name = "RFC 2195 example", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .cred_hex = CTX_TANSTAAF, .step_count = 3,
	  .steps = { CHALLENGE_STEP,
		     { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     RESUME(MECH_SUCCESS) },
	  .want_authcid = "tim", .want_authzid = "" },
	{ .name = "Dovecot transcript alice", .mech = &mech_cram_md5, .nonce = T_CHALLENGE,
	  .cred_hex = CTX_SECRET, .step_count = 3,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE, .want_out = T_CHALLENGE },
		     { .in = T_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     RESUME(MECH_SUCCESS) },
	  .want_authcid = "alice" },
	{ .name = "initial response is ignored", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .cred_hex = CTX_TANSTAAF, .step_count = 3,
	  .steps = { { .in = "foo", .want = MECH_CONTINUE, .want_out = RFC_CHALLENGE },
		     { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     RESUME(MECH_SUCCESS) } },
	{ .name = "empty initial response is ignored", .mech = &mech_cram_md5,
	  .nonce = RFC_CHALLENGE, .step_count = 1,
	  .steps = { { .in = "", .want = MECH_CONTINUE, .want_out = RFC_CHALLENGE } } },
	{ .name = "wrong password", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .cred_hex = CTX_SECRET, .step_count = 3,
	  .steps = { CHALLENGE_STEP,
		     { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     RESUME(MECH_FAILURE) },
	  .want_reason = "Password mismatch" },
	{ .name = "digest for another challenge", .mech = &mech_cram_md5, .nonce = T_CHALLENGE,
	  .cred_hex = CTX_TANSTAAF, .step_count = 3,
	  .steps = { { .in = NULL, .want = MECH_CONTINUE },
		     { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     RESUME(MECH_FAILURE) } },
	{ .name = "last space splits", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .step_count = 2,
	  .steps = { CHALLENGE_STEP,
		     { .in = "tim  van der x b913a602c7eda7a495b4e6e7334d3890",
		       .want = MECH_LOOKUP_CREDENTIALS } },
	  .want_authcid = "tim  van der x" },
	{ .name = "credentials of wrong length", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .cred_hex = "00112233445566778899aabbccddeeff", .step_count = 3,
	  .steps = { CHALLENGE_STEP,
		     { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     RESUME(MECH_FAILURE) },
	  .want_reason = "invalid credentials length" },
	{ .name = "no space", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("timb913a602c7eda7a495b4e6e7334d3890", 0) },
	  .want_reason = "missing digest" },
	{ .name = "empty message", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("", 0) }, .want_reason = "missing digest" },
	{ .name = "short digest", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("tim b913a602c7eda7a495b4e6e7334d389", 0) },
	  .want_reason = "invalid digest" },
	{ .name = "long digest", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("tim b913a602c7eda7a495b4e6e7334d38900", 0) },
	  .want_reason = "invalid digest" },
	{ .name = "non-hex digest", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("tim g913a602c7eda7a495b4e6e7334d3890", 0) },
	  .want_reason = "invalid digest" },
	{ .name = "upper-case hex digest", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("tim B913A602C7EDA7A495B4E6E7334D3890", 0) },
	  .want_reason = "invalid digest" },
	{ .name = "trailing space", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS(RFC_RESPONSE " ", 0) },
	  .want_reason = "invalid digest" },
	{ .name = "empty username", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS(" b913a602c7eda7a495b4e6e7334d3890", 0) },
	  .want_reason = "empty username" },
	{ .name = "NUL in username", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("t\0m b913a602c7eda7a495b4e6e7334d3890", 36) },
	  .want_reason = "NUL byte in response" },
	{ .name = "NUL in digest", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE, .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS("tim b913a602c7eda7a495b4e6e7334d389\0", 36) } },
	{ .name = "username refused by the check", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .reject_user = "tim", .step_count = 2,
	  .steps = { CHALLENGE_STEP, FAILS(RFC_RESPONSE, 0) }, .want_reason = "invalid username" },
	{ .name = "resume before the response", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .cred_hex = CTX_TANSTAAF, .step_count = 2,
	  .steps = { CHALLENGE_STEP, RESUME(MECH_FAILURE) } },
	{ .name = "a third message", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
	  .step_count = 3,
	  .steps = { CHALLENGE_STEP, { .in = RFC_RESPONSE, .want = MECH_LOOKUP_CREDENTIALS },
		     FAILS("x", 0) } },
};

static void test_cram_md5_table(void **state)
{
	(void)state;
	md_run_table(cases, N_ELEMS(cases));
}

/* An over-long response fails before anything else. */
static void test_cram_md5_long_response(void **state)
{
	(void)state;
	size_t len = 3000;
	char *big = malloc(len + 1);
	assert_non_null(big);
	memset(big, 'u', len);
	memcpy(big + len - 33, " b913a602c7eda7a495b4e6e7334d3890", 33);
	big[len] = '\0';
	const struct md_case c = {
		.name = "3000-byte response", .mech = &mech_cram_md5, .nonce = RFC_CHALLENGE,
		.step_count = 2,
		.steps = { CHALLENGE_STEP, FAILS(big, len) }, .want_reason = "response too long",
	};
	assert_true(md_run_case(&c));
	free(big);
}

/* The generated challenge: "<" 16 digits "." unix time "@" hostname ">". */
static void test_cram_md5_challenge_format(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	const struct mech_env env = { .hostname = "mx.example" };
	char first[128] = "";
	for (int round = 0; round < 2; round++) {
		struct mech_request req = { .pool = pool, .mech = &mech_cram_md5, .env = &env };
		struct buf out = BUF_INIT(MD_OUT_LIMIT);
		req.step_count = 1;
		assert_int_equal(mech_cram_md5.step(&req, (const uint8_t *)"", 0, true, &out),
				 MECH_CONTINUE);
		const char *s = buf_cstr(&out);
		size_t len = out.len;
		assert_true(len > 20);
		assert_int_equal(s[0], '<');
		for (size_t i = 1; i <= 16; i++)
			assert_true(isdigit((unsigned char)s[i]));
		assert_int_equal(s[17], '.');
		char *end;
		unsigned long long t = strtoull(s + 18, &end, 10);
		assert_true(t > 1600000000ull);
		assert_string_equal(end, "@mx.example>");
		if (round == 0)
			snprintf(first, sizeof(first), "%s", s);
		else if (strcmp(first, s) == 0)
			fail_msg("two challenges are equal: got %s twice", s);
		buf_free(&out);
	}
	pool_destroy(&pool);
}

/* The 16 digits are uniform: over 300 challenges every position shows
 * every digit, leading zeros included (a miss has odds of about 1e-12). */
static void test_cram_md5_challenge_digits(void **state)
{
	(void)state;
	struct pool *pool = pool_create(0);
	const struct mech_env env = { .hostname = "h" };
	unsigned int seen[16] = { 0 };
	for (int round = 0; round < 300; round++) {
		struct mech_request req = { .pool = pool, .mech = &mech_cram_md5, .env = &env };
		struct buf out = BUF_INIT(MD_OUT_LIMIT);
		req.step_count = 1;
		assert_int_equal(mech_cram_md5.step(&req, (const uint8_t *)"", 0, true, &out),
				 MECH_CONTINUE);
		const char *s = buf_cstr(&out);
		for (size_t i = 0; i < 16; i++) {
			assert_true(isdigit((unsigned char)s[1 + i]));
			seen[i] |= 1u << (s[1 + i] - '0');
		}
		buf_free(&out);
	}
	for (size_t i = 0; i < 16; i++)
		if (seen[i] != 0x3ff)
			fail_msg("digit position %zu: got digit set 0x%03x, want 0x3ff", i, seen[i]);
	pool_destroy(&pool);
}

static void test_cram_md5_flags(void **state)
{
	(void)state;
	struct buf out = BUF_INIT(256);
	assert_int_equal(mech_handshake_line(&out, &mech_cram_md5), 0);
	assert_string_equal(buf_cstr(&out), "MECH\tCRAM-MD5\tdictionary\tactive\n");
	assert_string_equal(mech_cram_md5.cred_scheme, "CRAM-MD5");
	assert_ptr_equal(mech_find("cram-md5", 8), &mech_cram_md5);
	assert_int_equal(mech_cram_md5.flags & MECH_FLAG_ALLOW_NULS, 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cram_md5_table),
		cmocka_unit_test(test_cram_md5_long_response),
		cmocka_unit_test(test_cram_md5_challenge_format),
		cmocka_unit_test(test_cram_md5_challenge_digits),
		cmocka_unit_test(test_cram_md5_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
