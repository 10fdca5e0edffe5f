/* Tests for scheme_credentials() (common/scheme_cred.c): the matrix of
 * password-schemes.md section 4 cell by cell, the CRAM-MD5 context, the
 * DIGEST-MD5 vectors, SCRAM keys against the RFC 5802 / RFC 7677 /
 * draft-melnikov-scram-sha-512 exchanges, the error texts and which pairs
 * are expensive. */
#include "common/base64.h"
#include "common/buf.h"
#include "common/scheme.h"
#include "common/scheme_private.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

enum want_kind {
	W_FAIL,        /* 0: "Requested X scheme, but we have only Y" */
	W_ERROR,       /* -1 with error */
	W_TEXT,        /* 1: out == want (text) */
	W_HEX,         /* 1: hex(out) == want */
	W_CRAM,        /* 1: out == scheme_cram_md5_context(pw) */
	W_SCRAM,       /* 1: fresh SCRAM keys that verify pw */
};

struct cred_case {
	const char *stored;
	const char *deflt;       /* default scheme, NULL = "PLAIN" */
	const char *wanted;
	const char *user;        /* digest_user, NULL = "user" */
	const char *realm;       /* NULL = "example.com"; "-" = NULL */
	enum want_kind kind;
	const char *want;        /* W_TEXT/W_HEX value, W_FAIL/W_ERROR error text */
	const char *pw;          /* W_CRAM/W_SCRAM password, NULL = "secret" */
};

#define CRAM_SECRET "cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"
#define DIGEST_SECRET "30969131580e626606ce70ceaab77719"   /* user:example.com:secret */
#define SCRAM1 "4096,AAECAwQFBgcICQoLDA0ODw==,Y70Wjxts9xDvZXVZpf765VU+gt4=,6tMKK7QnVeI0U1t+EDZXP1e5Qys="
#define SCRAM256 "4096,AAECAwQFBgcICQoLDA0ODw==,THoPhoTAuqyoQsK4dUHncUzgfD8fdmhsgKZhWVqNP5U=,7YiHMMi2OcXGRogub03Ek06JRZ9bkhTOdCzHa5iPLiQ="
#define SHA512CRYPT "$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3xgvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1"
#define NOT(w, have) "Requested " w " scheme, but we have only " have

/* Rows: the stored schemes of section 4; columns: PLAIN (APOP), CRAM-MD5,
 * DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256, SCRAM-SHA-512. */
static const struct cred_case matrix[] = {
	/* cleartext: everything */
	{ .stored = "{PLAIN}secret", .wanted = "PLAIN", .kind = W_TEXT, .want = "secret" },
	{ .stored = "{PLAIN}secret", .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{PLAIN}secret", .wanted = "DIGEST-MD5", .kind = W_HEX, .want = DIGEST_SECRET },
	{ .stored = "{PLAIN}secret", .wanted = "SCRAM-SHA-1", .kind = W_SCRAM },
	{ .stored = "{PLAIN}secret", .wanted = "SCRAM-SHA-256", .kind = W_SCRAM },
	{ .stored = "{PLAIN}secret", .wanted = "SCRAM-SHA-512", .kind = W_SCRAM },
	{ .stored = "{CLEAR}secret", .wanted = "PLAIN", .kind = W_TEXT, .want = "secret" },
	{ .stored = "{CLEAR}secret", .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{CLEAR}secret", .wanted = "DIGEST-MD5", .kind = W_HEX, .want = DIGEST_SECRET },
	{ .stored = "{CLEAR}secret", .wanted = "SCRAM-SHA-256", .kind = W_SCRAM },
	{ .stored = "{CLEARTEXT}secret", .wanted = "PLAIN", .kind = W_TEXT, .want = "secret" },
	{ .stored = "{CLEARTEXT}secret", .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{CLEARTEXT}secret", .wanted = "DIGEST-MD5", .kind = W_HEX, .want = DIGEST_SECRET },
	{ .stored = "{CLEARTEXT}secret", .wanted = "SCRAM-SHA-1", .kind = W_SCRAM },
	{ .stored = "{PLAIN.B64}c2VjcmV0", .wanted = "PLAIN", .kind = W_TEXT, .want = "secret" },
	{ .stored = "{PLAIN.HEX}736563726574", .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{plain.b64}c2VjcmV0", .wanted = "SCRAM-SHA-256", .kind = W_SCRAM },
	{ .stored = "secret", .wanted = "CRAM-MD5", .kind = W_CRAM },
	/* PLAIN-TRUNC: from the password without the length prefix */
	{ .stored = "{PLAIN-TRUNC}6-secret", .wanted = "PLAIN", .kind = W_TEXT, .want = "secret" },
	{ .stored = "{PLAIN-TRUNC}6-secret", .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{PLAIN-TRUNC}6-secret", .wanted = "DIGEST-MD5", .kind = W_HEX, .want = DIGEST_SECRET },
	{ .stored = "{PLAIN-TRUNC}6-secret", .wanted = "SCRAM-SHA-1", .kind = W_SCRAM },
	{ .stored = "{PLAIN-TRUNC}6-secret", .wanted = "SCRAM-SHA-256", .kind = W_SCRAM },
	{ .stored = "{PLAIN-TRUNC}3-sec", .wanted = "PLAIN", .kind = W_TEXT, .want = "sec" },
	{ .stored = "{PLAIN-TRUNC}-", .wanted = "PLAIN", .kind = W_TEXT, .want = "" },
	{ .stored = "{PLAIN-TRUNC}secret", .wanted = "CRAM-MD5", .kind = W_ERROR,
	  .want = "PLAIN-TRUNC missing length: prefix" },
	{ .stored = "{PLAIN-TRUNC}secret", .wanted = "PLAIN", .kind = W_ERROR,
	  .want = "PLAIN-TRUNC missing length: prefix" },
	/* CRAM-MD5 / HMAC-MD5: only CRAM-MD5 */
	{ .stored = "{CRAM-MD5}" CRAM_SECRET, .wanted = "PLAIN", .kind = W_FAIL, .want = NOT("PLAIN", "CRAM-MD5") },
	{ .stored = "{CRAM-MD5}" CRAM_SECRET, .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{CRAM-MD5}" CRAM_SECRET, .wanted = "DIGEST-MD5", .kind = W_FAIL, .want = NOT("DIGEST-MD5", "CRAM-MD5") },
	{ .stored = "{CRAM-MD5}" CRAM_SECRET, .wanted = "SCRAM-SHA-1", .kind = W_FAIL, .want = NOT("SCRAM-SHA-1", "CRAM-MD5") },
	{ .stored = "{CRAM-MD5}" CRAM_SECRET, .wanted = "SCRAM-SHA-256", .kind = W_FAIL, .want = NOT("SCRAM-SHA-256", "CRAM-MD5") },
	{ .stored = "{HMAC-MD5}" CRAM_SECRET, .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{HMAC-MD5}" CRAM_SECRET, .wanted = "DIGEST-MD5", .kind = W_FAIL, .want = NOT("DIGEST-MD5", "HMAC-MD5") },
	{ .stored = "{CRAM-MD5.B64}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=", .wanted = "CRAM-MD5", .kind = W_CRAM },
	{ .stored = "{CRAM-MD5}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=", .wanted = "cram-md5", .kind = W_CRAM },
	{ .stored = "{cram-md5.b64}zTun3qrW5cojRIukLjeXR6ng9/H7wAyKgbuqw5VzG1Y=", .wanted = "SCRAM-SHA-256", .kind = W_FAIL, .want = NOT("SCRAM-SHA-256", "cram-md5.b64") },
	{ .stored = "{CRAM-MD5}00", .wanted = "CRAM-MD5", .kind = W_ERROR, .want = "Input isn't valid base64 encoded data" },
	/* DIGEST-MD5: only DIGEST-MD5, the stored bytes whatever the user */
	{ .stored = "{DIGEST-MD5}" DIGEST_SECRET, .wanted = "PLAIN", .kind = W_FAIL, .want = NOT("PLAIN", "DIGEST-MD5") },
	{ .stored = "{DIGEST-MD5}" DIGEST_SECRET, .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "DIGEST-MD5") },
	{ .stored = "{DIGEST-MD5}" DIGEST_SECRET, .wanted = "DIGEST-MD5", .kind = W_HEX, .want = DIGEST_SECRET },
	{ .stored = "{DIGEST-MD5}" DIGEST_SECRET, .wanted = "DIGEST-MD5", .user = "other", .realm = "-", .kind = W_HEX, .want = DIGEST_SECRET },
	{ .stored = "{DIGEST-MD5.B64}MJaRMVgOYmYGznDOqrd3GQ==", .wanted = "DIGEST-MD5", .kind = W_HEX, .want = DIGEST_SECRET },
	{ .stored = "{DIGEST-MD5}" DIGEST_SECRET, .wanted = "SCRAM-SHA-1", .kind = W_FAIL, .want = NOT("SCRAM-SHA-1", "DIGEST-MD5") },
	{ .stored = "{DIGEST-MD5}" DIGEST_SECRET, .wanted = "SCRAM-SHA-256", .kind = W_FAIL, .want = NOT("SCRAM-SHA-256", "DIGEST-MD5") },
	/* SCRAM: only the same hash, as stored */
	{ .stored = "{SCRAM-SHA-1}" SCRAM1, .wanted = "PLAIN", .kind = W_FAIL, .want = NOT("PLAIN", "SCRAM-SHA-1") },
	{ .stored = "{SCRAM-SHA-1}" SCRAM1, .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "SCRAM-SHA-1") },
	{ .stored = "{SCRAM-SHA-1}" SCRAM1, .wanted = "DIGEST-MD5", .kind = W_FAIL, .want = NOT("DIGEST-MD5", "SCRAM-SHA-1") },
	{ .stored = "{SCRAM-SHA-1}" SCRAM1, .wanted = "SCRAM-SHA-1", .kind = W_TEXT, .want = SCRAM1 },
	{ .stored = "{SCRAM-SHA-1}" SCRAM1, .wanted = "SCRAM-SHA-256", .kind = W_FAIL, .want = NOT("SCRAM-SHA-256", "SCRAM-SHA-1") },
	{ .stored = "{SCRAM-SHA-256}" SCRAM256, .wanted = "PLAIN", .kind = W_FAIL, .want = NOT("PLAIN", "SCRAM-SHA-256") },
	{ .stored = "{SCRAM-SHA-256}" SCRAM256, .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "SCRAM-SHA-256") },
	{ .stored = "{SCRAM-SHA-256}" SCRAM256, .wanted = "DIGEST-MD5", .kind = W_FAIL, .want = NOT("DIGEST-MD5", "SCRAM-SHA-256") },
	{ .stored = "{SCRAM-SHA-256}" SCRAM256, .wanted = "SCRAM-SHA-1", .kind = W_FAIL, .want = NOT("SCRAM-SHA-1", "SCRAM-SHA-256") },
	{ .stored = "{SCRAM-SHA-256}" SCRAM256, .wanted = "SCRAM-SHA-256", .kind = W_TEXT, .want = SCRAM256 },
	{ .stored = "{SCRAM-SHA-256}" SCRAM256, .wanted = "SCRAM-SHA-512", .kind = W_FAIL, .want = NOT("SCRAM-SHA-512", "SCRAM-SHA-256") },
	{ .stored = "{SCRAM-SHA-256}1000,AAECAwQFBgcICQoLDA0ODw==,THoPhoTAuqyoQsK4dUHncUzgfD8fdmhsgKZhWVqNP5U=,7YiHMMi2OcXGRogub03Ek06JRZ9bkhTOdCzHa5iPLiQ=",
	  .wanted = "SCRAM-SHA-256", .kind = W_ERROR, .want = "Invalid SCRAM-SHA-256 iteration count in passdb" },
	{ .stored = "{SCRAM-SHA-1}4096,abc", .wanted = "SCRAM-SHA-1", .kind = W_ERROR, .want = "Invalid SCRAM-SHA-1 passdb entry format" },
	/* one-way hashes: nothing but verify-plain */
	{ .stored = "{SHA512-CRYPT}" SHA512CRYPT, .wanted = "PLAIN", .kind = W_FAIL, .want = NOT("PLAIN", "SHA512-CRYPT") },
	{ .stored = "{SHA512-CRYPT}" SHA512CRYPT, .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "SHA512-CRYPT") },
	{ .stored = "{SHA512-CRYPT}" SHA512CRYPT, .wanted = "DIGEST-MD5", .kind = W_FAIL, .want = NOT("DIGEST-MD5", "SHA512-CRYPT") },
	{ .stored = "{SHA512-CRYPT}" SHA512CRYPT, .wanted = "SCRAM-SHA-1", .kind = W_FAIL, .want = NOT("SCRAM-SHA-1", "SHA512-CRYPT") },
	{ .stored = "{SHA512-CRYPT}" SHA512CRYPT, .wanted = "SCRAM-SHA-256", .kind = W_FAIL, .want = NOT("SCRAM-SHA-256", "SHA512-CRYPT") },
	{ .stored = SHA512CRYPT, .deflt = "CRYPT", .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "CRYPT") },
	{ .stored = "{sha512-crypt}" SHA512CRYPT, .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "sha512-crypt") },
	{ .stored = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//", .deflt = "CRYPT", .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "MD5-CRYPT") },
	{ .stored = "{SSHA}uJDd0BIdJ9Z7yDCZNWdgYeb33+cBAgME", .wanted = "SCRAM-SHA-256", .kind = W_FAIL, .want = NOT("SCRAM-SHA-256", "SSHA") },
	{ .stored = "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=", .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "SHA1") },
	{ .stored = "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69", .wanted = "DIGEST-MD5", .kind = W_FAIL, .want = NOT("DIGEST-MD5", "PLAIN-MD5") },
	{ .stored = "{PBKDF2}$1$saltsaltsaltsalt$5000$8e455ae73af786d64f3a0b291ef71a407519dbe8", .wanted = "SCRAM-SHA-1", .kind = W_FAIL, .want = NOT("SCRAM-SHA-1", "PBKDF2") },
	{ .stored = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$MDEyMzQ1Njc4OWFiY2RlZg$iDjJp0vfyxy5j/Z0pBRNSMahvrjhBoaRI/gy7RpOWHc", .wanted = "PLAIN", .kind = W_FAIL, .want = NOT("PLAIN", "ARGON2ID") },
	{ .stored = "{OTP}sha1 1024 135dca78a05735a2 dd50eae13155c50b", .wanted = "CRAM-MD5", .kind = W_FAIL, .want = NOT("CRAM-MD5", "OTP") },
	{ .stored = "{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a", .wanted = "SCRAM-SHA-256", .kind = W_FAIL, .want = NOT("SCRAM-SHA-256", "BLF-CRYPT") },
	/* aliases share their data (the .suffix only changes the decoding) */
	{ .stored = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", .wanted = "SHA1", .kind = W_HEX, .want = "e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4" },
	{ .stored = "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==", .wanted = "PLAIN-MD5", .kind = W_HEX, .want = "5ebe2294ecd0e0f08eab7690d2a6ee69" },
	{ .stored = "{MD5}$1$saltsalt$9xy1btjgzLYfb7hivXtC//", .wanted = "MD5-CRYPT", .kind = W_TEXT, .want = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//" },
	{ .stored = "{BLF-CRYPT.HEX}2432", .wanted = "CRYPT", .kind = W_TEXT, .want = "$2" },
	/* other wanted forms from a cleartext */
	{ .stored = "{PLAIN}secret", .wanted = "SHA256", .kind = W_HEX, .want = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b" },
	{ .stored = "{PLAIN}secret", .wanted = "CLEAR", .kind = W_TEXT, .want = "secret" },
	{ .stored = "{PLAIN}secret", .wanted = "NOSUCH", .kind = W_ERROR, .want = "Requested unknown scheme NOSUCH" },
	{ .stored = "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=", .wanted = "NOSUCH", .kind = W_FAIL, .want = NOT("NOSUCH", "SHA1") },
	/* DIGEST-MD5 from a cleartext: user and realm exactly as given */
	{ .stored = "{PLAIN}secret", .wanted = "DIGEST-MD5", .user = "alice", .realm = "-", .kind = W_HEX, .want = "cc3a3506aba601d2feee7bf9b34237ce" },
	{ .stored = "{PLAIN}secret", .wanted = "DIGEST-MD5", .user = "alice", .realm = "", .kind = W_HEX, .want = "cc3a3506aba601d2feee7bf9b34237ce" },
	{ .stored = "{PLAIN}secret", .wanted = "DIGEST-MD5", .user = "alice@example.com", .realm = "realm.test", .kind = W_HEX, .want = "af80815f44fe05fbb5759b7edfd47662" },
	{ .stored = "{PLAIN}oscarpw", .wanted = "DIGEST-MD5", .user = "oscar", .realm = "example.com", .kind = W_HEX, .want = "2b6082202a1a31978ba774b9164fbdd0" },
	{ .stored = "{PLAIN}Password123!", .wanted = "DIGEST-MD5", .kind = W_HEX, .want = "0e80d1941972dc8526b10ee9df658dc8" },
	{ .stored = "{PLAIN}secret", .wanted = "DIGEST-MD5", .user = "", .realm = "", .kind = W_HEX, .want = "a5db0679d7fb553691d5f75c98f4418f" },
	{ .stored = "{PLAIN.B64}!!!!", .wanted = "DIGEST-MD5", .kind = W_ERROR, .want = "Input isn't valid base64 encoded data" },
	/* CRAM-MD5 from other passwords */
	{ .stored = "{PLAIN}", .wanted = "CRAM-MD5", .kind = W_CRAM, .pw = "" },
	{ .stored = "{PLAIN}tanstaaftanstaaf", .wanted = "CRAM-MD5", .kind = W_CRAM, .pw = "tanstaaftanstaaf" },
	{ .stored = "{PLAIN}Password123!", .wanted = "SCRAM-SHA-1", .kind = W_SCRAM, .pw = "Password123!" },
};

static void check_cram(const char *label, const struct buf *out, const char *pw)
{
	uint8_t ctx[SCHEME_CRAM_MD5_CONTEXT_LEN];
	scheme_cram_md5_context((const uint8_t *)pw, strlen(pw), ctx);
	if (out->len != sizeof(ctx) || memcmp(out->data, ctx, sizeof(ctx)) != 0)
		fail_msg("%s: got %zu bytes, want the CRAM-MD5 context of '%s'", label, out->len, pw);
}

/* out must be SCRAM keys of wanted's hash that verify pw. */
static void check_scram(const char *label, const char *wanted, const struct buf *out,
			const char *pw)
{
	char value[512];
	struct scheme_stored st;
	const char *error = NULL;
	int n = snprintf(value, sizeof(value), "{%s}%s", wanted, buf_cstr(out));
	assert_true(n > 0 && (size_t)n < sizeof(value));
	if (strncmp(buf_cstr(out), "4096,", 5) != 0)
		fail_msg("%s: got '%s', want 4096 iterations", label, buf_cstr(out));
	assert_int_equal(scheme_parse_stored(value, (size_t)n, NULL, SCHEME_PREFIX_FIELD, &st,
					     &error), 1);
	int got = scheme_verify(&st, (const uint8_t *)pw, strlen(pw), NULL, &error);
	if (got != 1)
		fail_msg("%s: %s does not verify '%s': %d %s", label, value, pw, got, error);
}

static void check_case(const struct cred_case *c)
{
	struct scheme_stored st;
	struct buf out = BUF_INIT(0), hex = BUF_INIT(0);
	const char *error = NULL, *pw = c->pw != NULL ? c->pw : "secret";
	const char *realm = c->realm == NULL ? "example.com" :
			    strcmp(c->realm, "-") == 0 ? NULL : c->realm;
	char label[256];
	snprintf(label, sizeof(label), "%s -> %s", c->stored, c->wanted);
	assert_int_equal(scheme_parse_stored(c->stored, strlen(c->stored),
					     c->deflt != NULL ? c->deflt : "PLAIN",
					     SCHEME_PREFIX_PASSWD_FILE, &st, &error), 1);
	int want_ret = c->kind == W_FAIL ? 0 : c->kind == W_ERROR ? -1 : 1;
	int got = scheme_credentials(&st, c->wanted, c->user != NULL ? c->user : "user", realm,
				     &out, &error);
	if (got != want_ret)
		fail_msg("%s: got %d (%s), want %d", label, got, got != 1 ? error : "-", want_ret);
	switch (c->kind) {
	case W_FAIL:
	case W_ERROR:
		if (strcmp(error, c->want) != 0)
			fail_msg("%s: got error '%s', want '%s'", label, error, c->want);
		if (out.len != 0)
			fail_msg("%s: failed but wrote %zu bytes", label, out.len);
		break;
	case W_TEXT:
		if (out.len != strlen(c->want) || memcmp(buf_cstr(&out), c->want, out.len) != 0)
			fail_msg("%s: got '%s', want '%s'", label, buf_cstr(&out), c->want);
		break;
	case W_HEX:
		assert_int_equal(hex_encode(&hex, out.data, out.len), 0);
		if (strcmp(buf_cstr(&hex), c->want) != 0)
			fail_msg("%s: got %s, want %s", label, buf_cstr(&hex), c->want);
		break;
	case W_CRAM:
		check_cram(label, &out, pw);
		break;
	case W_SCRAM:
		check_scram(label, c->wanted, &out, pw);
		break;
	}
	buf_free(&out);
	buf_free(&hex);
}

static void test_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++)
		check_case(&matrix[i]);
}

static int cred(const char *stored, const char *wanted, const char *user, const char *realm,
		struct buf *out, const char **error_r)
{
	struct scheme_stored st;
	assert_int_equal(scheme_parse_stored(stored, strlen(stored), "PLAIN", SCHEME_PREFIX_FIELD,
					     &st, error_r), 1);
	return scheme_credentials(&st, wanted, user, realm, out, error_r);
}

/* Fresh salts every time; out is appended to, and left alone on failure. */
static void test_fresh_and_append(void **state)
{
	(void)state;
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	const char *error;
	assert_int_equal(cred("{PLAIN}secret", "SCRAM-SHA-256", NULL, NULL, &a, &error), 1);
	assert_int_equal(cred("{PLAIN}secret", "SCRAM-SHA-256", NULL, NULL, &b, &error), 1);
	assert_string_not_equal(buf_cstr(&a), buf_cstr(&b));
	buf_free(&a);
	buf_free(&b);
	assert_int_equal(buf_append_str(&a, "x"), 0);
	assert_int_equal(cred("{PLAIN}secret", "PLAIN", NULL, NULL, &a, &error), 1);
	assert_string_equal(buf_cstr(&a), "xsecret");
	assert_int_equal(cred("{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=", "PLAIN", NULL, NULL, &a,
			      &error), 0);
	assert_int_equal(cred("{PLAIN}secret", "DIGEST-MD5", NULL, NULL, &a, &error), -1);
	assert_string_equal(error, "DIGEST-MD5 credentials need the user name");
	assert_string_equal(buf_cstr(&a), "xsecret");
	buf_free(&a);
	/* A full buffer: -1, nothing half-written. */
	struct buf small = BUF_INIT(4);
	assert_int_equal(cred("{PLAIN}secret", "CRAM-MD5", NULL, NULL, &small, &error), -1);
	assert_int_equal(small.len, 0);
	buf_free(&small);
}

static void test_expensive(void **state)
{
	(void)state;
	static const struct {
		const char *stored;
		const char *wanted;
		bool want;
	} cases[] = {
		{ "{PLAIN}secret", "SCRAM-SHA-1", true },
		{ "{PLAIN}secret", "SCRAM-SHA-256", true },
		{ "{PLAIN-TRUNC}6-secret", "SCRAM-SHA-512", true },
		{ "{PLAIN}secret", "CRAM-MD5", false },
		{ "{PLAIN}secret", "DIGEST-MD5", false },
		{ "{PLAIN}secret", "PLAIN", false },
		{ "{PLAIN}secret", "NOSUCH", false },
		{ "{SCRAM-SHA-256}" SCRAM256, "SCRAM-SHA-256", false },
		{ "{SHA512-CRYPT}" SHA512CRYPT, "SCRAM-SHA-256", false },
		{ "{CRAM-MD5}" CRAM_SECRET, "CRAM-MD5", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scheme_stored st;
		const char *error;
		assert_int_equal(scheme_parse_stored(cases[i].stored, strlen(cases[i].stored), NULL,
						     SCHEME_PREFIX_FIELD, &st, &error), 1);
		if (scheme_credentials_expensive(&st, cases[i].wanted) != cases[i].want)
			fail_msg("%s -> %s: got expensive %d, want %d", cases[i].stored,
				 cases[i].wanted, !cases[i].want, cases[i].want);
	}
}

/* The scheme as written, for the log line and `doveadm pw -t`. */
static void test_spec(void **state)
{
	(void)state;
	static const struct {
		const char *stored;
		const char *deflt;
		enum scheme_prefix_rule rule;
		int want;
		const char *spec;    /* NULL: no spec */
	} cases[] = {
		{ "{sha256.HEX}ab", NULL, SCHEME_PREFIX_FIELD, 1, "sha256.HEX" },
		{ "abc", "crypt", SCHEME_PREFIX_FIELD, 1, "crypt" },
		{ "$1$s$h$x", "PLAIN", SCHEME_PREFIX_PASSWD_FILE, 1, "MD5-CRYPT" },
		{ "{}x", NULL, SCHEME_PREFIX_FIELD, 0, "" },
		{ "{nosuch}x", NULL, SCHEME_PREFIX_FIELD, 0, "nosuch" },
		{ "{SHA1.xyz}x", NULL, SCHEME_PREFIX_FIELD, 0, "SHA1.xyz" },
		{ "abc", NULL, SCHEME_PREFIX_FIELD, 0, NULL },
		{ "{abc", NULL, SCHEME_PREFIX_PASSWD_FILE, 0, NULL },
		{ "$1$abc", NULL, SCHEME_PREFIX_PASSWD_FILE, 0, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scheme_stored st;
		const char *error;
		int got = scheme_parse_stored(cases[i].stored, strlen(cases[i].stored),
					      cases[i].deflt, cases[i].rule, &st, &error);
		assert_int_equal(got, cases[i].want);
		if (cases[i].spec == NULL) {
			if (st.spec != NULL)
				fail_msg("%s: got spec '%.*s', want none", cases[i].stored,
					 (int)st.spec_len, st.spec);
			continue;
		}
		if (st.spec == NULL || st.spec_len != strlen(cases[i].spec) ||
		    memcmp(st.spec, cases[i].spec, st.spec_len) != 0)
			fail_msg("%s: got spec '%.*s', want '%s'", cases[i].stored,
				 st.spec != NULL ? (int)st.spec_len : 0, st.spec ? st.spec : "",
				 cases[i].spec);
	}
}

struct scram_rfc {
	const char *scheme;
	const EVP_MD *(*md)(void);
	const char *salt_b64;
	const char *client_first_bare, *server_first, *client_final_no_proof;
	const char *proof_b64, *verifier_b64;
};

/* RFC 5802 section 5, RFC 7677 section 3, draft-melnikov-scram-sha-512
 * section 5: user "user", password "pencil", 4096 iterations. */
static const struct scram_rfc scram_rfcs[] = {
	{ .scheme = "SCRAM-SHA-1", .md = EVP_sha1, .salt_b64 = "QSXCR+Q6sek8bf92",
	  .client_first_bare = "n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	  .server_first = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
	  .client_final_no_proof = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
	  .proof_b64 = "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", .verifier_b64 = "rmF9pqV8S7suAoZWja4dJRkFsKQ=" },
	{ .scheme = "SCRAM-SHA-256", .md = EVP_sha256, .salt_b64 = "W22ZaJ0SNY7soEsUEjb6gQ==",
	  .client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO",
	  .server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	  .client_final_no_proof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
	  .proof_b64 = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	  .verifier_b64 = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" },
	{ .scheme = "SCRAM-SHA-512", .md = EVP_sha512,
	  .salt_b64 = "Yin2FuHTt/M0kJWb0t9OI32n2VmOGi3m+JfjOvuDF88=",
	  .client_first_bare = "n=user,r=rOprNGfwEbeRWgbNEkqO",
	  .server_first = "r=rOprNGfwEbeRWgbNEkqO02431b08-2f89-4bad-a4e6-80c0564ec865,s=Yin2FuHTt/M0kJWb0t9OI32n2VmOGi3m+JfjOvuDF88=,i=4096",
	  .client_final_no_proof = "c=biws,r=rOprNGfwEbeRWgbNEkqO02431b08-2f89-4bad-a4e6-80c0564ec865",
	  .proof_b64 = "Hc5yec3NmCD7t+kFRw4/3yD6/F3SQHc7AVYschRja+Bc3sbdjlA0eH1OjJc0DD4ghn1tnXN5/Wr6qm9xmaHt4A==",
	  .verifier_b64 = "BQuhnKHqYDwQWS5jAw4sZed+C9KFUALsbrq81bB0mh+bcUUbbMPNNmBIupnS2AmyyDnG5CTBQtkjJ9kyY4kzmw==" },
};

static void b64dec(const char *s, struct buf *out)
{
	assert_int_equal(base64_decode(out, (const uint8_t *)s, strlen(s)), 1);
}

/* Field i (0-based) of "ITER,SALT,STOREDKEY,SERVERKEY", decoded. */
static void scram_field(const char *text, int i, struct buf *out)
{
	char copy[512];
	snprintf(copy, sizeof(copy), "%s", text);
	char *save = NULL, *tok = strtok_r(copy, ",", &save);
	while (i-- > 0)
		tok = strtok_r(NULL, ",", &save);
	assert_non_null(tok);
	b64dec(tok, out);
}

/* Keys generated with the RFC salt (through the fixed-salt hook) and
 * served by scheme_credentials() reproduce the RFC's ClientProof check and
 * ServerSignature. */
static void check_scram_rfc(const struct scram_rfc *r)
{
	struct buf salt = BUF_INIT(0), gen = BUF_INIT(0), cred_out = BUF_INIT(0);
	struct buf sk = BUF_INIT(0), svk = BUF_INIT(0), proof = BUF_INIT(0), v = BUF_INIT(0);
	const char *error = NULL;
	b64dec(r->salt_b64, &salt);
	assert_int_equal(scheme_generate_with_salt(r->scheme, (const uint8_t *)"pencil", 6, NULL, 0,
						   salt.data, salt.len, &gen, &error), 1);
	assert_int_equal(cred(buf_cstr(&gen), r->scheme, NULL, NULL, &cred_out, &error), 1);
	const char *text = buf_cstr(&cred_out);
	scram_field(text, 2, &sk);
	scram_field(text, 3, &svk);
	b64dec(r->proof_b64, &proof);
	b64dec(r->verifier_b64, &v);
	char auth[512];
	snprintf(auth, sizeof(auth), "%s,%s,%s", r->client_first_bare, r->server_first,
		 r->client_final_no_proof);
	uint8_t sig[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE], h[EVP_MAX_MD_SIZE];
	unsigned int sig_len = 0, h_len = 0;
	HMAC(r->md(), sk.data, (int)sk.len, (const uint8_t *)auth, strlen(auth), sig, &sig_len);
	assert_int_equal(sig_len, proof.len);
	for (size_t i = 0; i < sig_len; i++)
		client_key[i] = proof.data[i] ^ sig[i];
	EVP_Digest(client_key, sig_len, h, &h_len, r->md(), NULL);
	if (h_len != sk.len || memcmp(h, sk.data, h_len) != 0)
		fail_msg("%s: the RFC's ClientProof does not match our StoredKey", r->scheme);
	HMAC(r->md(), svk.data, (int)svk.len, (const uint8_t *)auth, strlen(auth), sig, &sig_len);
	if (sig_len != v.len || memcmp(sig, v.data, sig_len) != 0)
		fail_msg("%s: our ServerKey gives another ServerSignature than the RFC", r->scheme);
	struct buf *all[] = { &salt, &gen, &cred_out, &sk, &svk, &proof, &v };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		buf_free(all[i]);
}

static void test_scram_rfc(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scram_rfcs) / sizeof(scram_rfcs[0]); i++)
		check_scram_rfc(&scram_rfcs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_fresh_and_append),
		cmocka_unit_test(test_expensive),
		cmocka_unit_test(test_scram_rfc),
	};
	if (scheme_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
