/* test_proto_client: the auth-client protocol (spec section 2) in process,
 * through tests/unit/daemon_harness.h: the handshake bytes, AUTH parsing
 * with the close-vs-FAIL rules of 2.9, resp= by minor version (2.5),
 * CONT and CANCEL (2.7), PLAIN and LOGIN end to end against a passwd-file.
 * The Python tests in tests/daemon/ cover the same over real sockets; this
 * is the fast layer that runs under the sanitizers. */
#include "tests/unit/daemon_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS 3000u
#define QUIET_MS 20u         /* how long "no more replies" is watched */
#define LINE_MAX_TEST 512

/* base64 of "\0alice\0alicepw" and friends */
#define ALICE_B64 "AGFsaWNlAGFsaWNlcHc="
#define ALICE_BAD_B64 "AGFsaWNlAHdyb25n"      /* \0alice\0wrong */
#define ALICE_UPPER_B64 "AEFMSUNFAGFsaWNlcHc="  /* \0ALICE\0alicepw */
#define TABBY_B64 "AHRhYmJ5AHRhYmJ5cHc="      /* \0tabby\0tabbypw */
#define USERNAME_B64 "VXNlcm5hbWU6"           /* Username: */
#define PASSWORD_B64 "UGFzc3dvcmQ6"           /* Password: */
#define NUL_MECH_LINE "AUTH\t1\tPLAIN\0\tservice=smtp\tno-penalty\n"

/* One harness for the whole binary: creating a second auth in the same
 * process is what test_auth_recreated does (in a child process). */
static int group_setup(void **state)
{
	struct dh *h = calloc(1, sizeof(*h));
	struct dh_options o = { 0 };
	if (h == NULL)
		return -1;
	if (dh_init(h, &o) < 0) {
		print_error("harness: %s\n", h->error);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static int group_teardown(void **state)
{
	struct dh *h = *state;
	dh_deinit(h);
	free(h);
	return 0;
}

/* Reads the server handshake up to DONE. Returns the number of lines, or 0
 * when it didn't arrive. */
static size_t read_handshake(struct dh_peer *p, char lines[][LINE_MAX_TEST], size_t max)
{
	size_t n = 0;
	while (n < max) {
		if (!dh_wait_lines(p, 1, WAIT_MS))
			return 0;
		dh_read_line(p, lines[n], LINE_MAX_TEST, NULL);
		if (strcmp(lines[n++], "DONE") == 0)
			return n;
	}
	return 0;
}

/* A client connection past the handshake with VERSION 1.minor and CPID. */
static struct dh_peer *client_ready(struct dh *h, unsigned int minor)
{
	char hs[16][LINE_MAX_TEST];
	char hello[64];
	struct dh_peer *p = dh_connect(h, LISTENER_CLIENT);
	assert_non_null(p);
	assert_true(read_handshake(p, hs, N_ELEMS(hs)) > 0);
	snprintf(hello, sizeof(hello), "VERSION\t1\t%u\nCPID\t%ld\n", minor, (long)getpid());
	assert_int_equal(dh_send_str(p, hello), 0);
	return p;
}

/* --- handshake --- */

static bool is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void test_handshake_bytes(void **state)
{
	struct dh *h = *state;
	char hs[16][LINE_MAX_TEST], hs2[16][LINE_MAX_TEST];
	char want_spid[32];
	struct dh_peer *p = dh_connect(h, LISTENER_CLIENT);
	struct dh_peer *p2 = dh_connect(h, LISTENER_CLIENT);
	assert_non_null(p);
	assert_non_null(p2);
	size_t n = read_handshake(p, hs, N_ELEMS(hs));
	size_t n2 = read_handshake(p2, hs2, N_ELEMS(hs2));
	snprintf(want_spid, sizeof(want_spid), "SPID\t%ld", (long)getpid());
	/* spec 2.2: fixed order, MECH lines in auth_mechanisms order */
	static const char *const want[] = { "VERSION\t1\t2", "MECH\tPLAIN\tplaintext",
					    "MECH\tLOGIN\tplaintext", NULL, "CUID\t*", "COOKIE\t*",
					    "DONE" };
	if (n != N_ELEMS(want)) {
		print_error("handshake: got %zu lines, want %zu\n", n, N_ELEMS(want));
		fail();
	}
	for (size_t i = 0; i < n; i++) {
		const char *w = i == 3 ? want_spid : want[i];
		size_t wl = strlen(w);
		bool prefix = w[wl - 1] == '*';
		if (prefix ? strncmp(hs[i], w, wl - 1) != 0 : strcmp(hs[i], w) != 0) {
			print_error("handshake line %zu: got \"%s\", want \"%s\"\n", i, hs[i], w);
			fail();
		}
	}
	assert_true(is_lower_hex(hs[5] + 7, 32));
	/* CUID counts connections; the cookie is per connection */
	assert_int_equal(n2, n);
	unsigned long cuid1 = strtoul(hs[4] + 5, NULL, 10), cuid2 = strtoul(hs2[4] + 5, NULL, 10);
	assert_true(cuid1 >= 1);
	assert_int_equal(cuid2, cuid1 + 1);
	assert_string_not_equal(hs[5], hs2[5]);
	/* the handshake is sent before the client says anything, and is all */
	assert_int_equal(dh_lines_pending(p), 0);
}

/* --- table-driven dialogues --- */

struct dialogue {
	const char *name;
	unsigned int minor;           /* client VERSION minor */
	const char *send;             /* after VERSION/CPID; may hold NULs */
	size_t send_len;              /* 0: strlen(send) */
	bool send_eof;                /* half-close after sending */
	const char *want[6];          /* reply lines in order; "x*" = prefix "x" */
	bool want_closed;
	const char *want_log;         /* substring of the log; NULL = no check */
};

static const struct dialogue dialogues[] = {
	/* spec 2.4 step 1: ids */
	{ .name = "AUTH id 0 closes", .send = "AUTH\t0\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want_closed = true, .want_log = "broken AUTH request" },
	{ .name = "AUTH non-numeric id closes",
	  .send = "AUTH\tabc\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n", .want_closed = true },
	{ .name = "AUTH id 4294967296 closes",
	  .send = "AUTH\t4294967296\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want_closed = true },
	{ .name = "AUTH id -1 closes", .send = "AUTH\t-1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want_closed = true },
	{ .name = "AUTH id with space closes",
	  .send = "AUTH\t 1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n", .want_closed = true },
	{ .name = "AUTH without mechanism closes", .send = "AUTH\t1\n", .want_closed = true },
	{ .name = "AUTH id 4294967295 works",
	  .send = "AUTH\t4294967295\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "OK\t4294967295\tuser=alice" } },
	/* step 2: mechanism */
	{ .name = "unknown mechanism closes",
	  .send = "AUTH\t1\tFOO\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n", .want_closed = true,
	  .want_log = "Unsupported authentication mechanism" },
	{ .name = "disabled mechanism closes", .send = "AUTH\t1\tCRAM-MD5\tservice=smtp\tno-penalty\n",
	  .want_closed = true },
	{ .name = "mechanism name with NUL closes", .send = NUL_MECH_LINE,
	  .send_len = sizeof(NUL_MECH_LINE) - 1, .want_closed = true },
	{ .name = "mechanism is case-insensitive",
	  .send = "AUTH\t1\tpLaIn\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "OK\t1\tuser=alice" } },
	/* step 3-4: parameters */
	{ .name = "missing service closes", .send = "AUTH\t1\tPLAIN\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want_closed = true, .want_log = "didn't specify service" },
	{ .name = "empty service is enough", .send = "AUTH\t1\tPLAIN\tservice=\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "OK\t1\tuser=alice" } },
	{ .name = "protocol= counts as service (2.4)",
	  .send = "AUTH\t1\tPLAIN\tprotocol=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "OK\t1\tuser=alice" } },
	{ .name = "field after resp closes",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\tlip=127.0.0.1\n",
	  .want_closed = true, .want_log = "parameters after 'resp'" },
	{ .name = "unknown params ignored",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tfoo=bar\tbare\tnologin\tlip=NULL\t"
		  "x=\x01t\tresp=" ALICE_B64 "\n",
	  .want = { "OK\t1\tuser=alice" } },
	{ .name = "duplicate pending id closes",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\nAUTH\t1\tPLAIN\tservice=smtp\tno-penalty\n",
	  .want = { "CONT\t1\t" }, .want_closed = true, .want_log = "duplicate ID" },
	{ .name = "finished id may be reused",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n"
		  "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "OK\t1\tuser=alice", "OK\t1\tuser=alice" } },
	/* spec 2.5: initial response by minor version */
	{ .name = "minor 0: resp= empty is absent", .minor = 0,
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=\n", .want = { "CONT\t1\t" } },
	{ .name = "minor 1: resp= empty is absent", .minor = 1,
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=\n", .want = { "CONT\t1\t" } },
	{ .name = "minor 2: resp= empty is present (PLAIN fails)", .minor = 2,
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=\n", .want = { "FAIL\t1" } },
	{ .name = "resp== is present empty (PLAIN fails)", .minor = 0,
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp==\n", .want = { "FAIL\t1" } },
	{ .name = "resp== with LOGIN prompts", .minor = 0,
	  .send = "AUTH\t1\tLOGIN\tservice=smtp\tno-penalty\tresp==\n", .want = { "CONT\t1\t" USERNAME_B64 } },
	{ .name = "minor 2: resp= empty with LOGIN prompts", .minor = 2,
	  .send = "AUTH\t1\tLOGIN\tservice=smtp\tno-penalty\tresp=\n", .want = { "CONT\t1\t" USERNAME_B64 } },
	{ .name = "no resp: PLAIN empty challenge", .minor = 2,
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\n", .want = { "CONT\t1\t" } },
	/* spec 2.4 step 7: invalid base64 is a FAIL, not a close */
	{ .name = "invalid base64 in resp",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=@@@@\n"
		  "AUTH\t2\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "FAIL\t1\tcode=invalid_base64\treason=Invalid base64 data in initial response",
		    "OK\t2\tuser=alice" } },
	{ .name = "base64 missing padding is invalid",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=AGFsaWNlAGFsaWNlcHc\n",
	  .want = { "FAIL\t1\tcode=invalid_base64\treason=Invalid base64 data in initial response" } },
	{ .name = "base64 with an 8-bit byte is invalid",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=AGFsaWNlAGFsaWNlcH\xc3=\n",
	  .want = { "FAIL\t1\tcode=invalid_base64\treason=Invalid base64 data in initial response" } },
	/* spec 2.7: CONT */
	{ .name = "PLAIN over CONT",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\nCONT\t1\t" ALICE_B64 "\n",
	  .want = { "CONT\t1\t", "OK\t1\tuser=alice" } },
	{ .name = "CONT unknown id",
	  .send = "CONT\t7\t" ALICE_B64 "\nAUTH\t2\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "FAIL\t7\treason=Authentication request timed out", "OK\t2\tuser=alice" } },
	{ .name = "CONT after the request finished",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\nCONT\t1\t\n",
	  .want = { "OK\t1\tuser=alice", "FAIL\t1\treason=Authentication request timed out" } },
	{ .name = "CONT without second TAB closes", .send = "CONT\t7\n", .want_closed = true },
	{ .name = "CONT with bad id closes", .send = "CONT\tx\t" ALICE_B64 "\n",
	  .want_closed = true },
	{ .name = "CONT with empty id closes", .send = "CONT\t\t" ALICE_B64 "\n",
	  .want_closed = true },
	{ .name = "CONT invalid base64",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\nCONT\t1\t!!!!\nCONT\t1\t" ALICE_B64 "\n",
	  .want = { "CONT\t1\t",
		    "FAIL\t1\tcode=invalid_base64\treason=Invalid base64 data in continued response",
		    "FAIL\t1\treason=Authentication request timed out" } },
	{ .name = "CONT data is not tab-unescaped",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\nCONT\t1\t\x01" "1AGFsaWNlAGFsaWNlcHc=\n",
	  .want = { "CONT\t1\t",
		    "FAIL\t1\tcode=invalid_base64\treason=Invalid base64 data in continued response" } },
	{ .name = "CONT empty data for PLAIN fails",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\nCONT\t1\t\n", .want = { "CONT\t1\t", "FAIL\t1" } },
	/* CANCEL */
	{ .name = "CANCEL silences a waiting request",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\nCANCEL\t1\nCONT\t1\t" ALICE_B64 "\n",
	  .want = { "CONT\t1\t", "FAIL\t1\treason=Authentication request timed out" } },
	{ .name = "CANCEL frees the id",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\nCANCEL\t1\n"
		  "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "CONT\t1\t", "OK\t1\tuser=alice" } },
	{ .name = "CANCEL unknown id is ignored",
	  .send = "CANCEL\t99\nAUTH\t2\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n",
	  .want = { "OK\t2\tuser=alice" } },
	{ .name = "CANCEL bad id closes", .send = "CANCEL\tx\n", .want_closed = true },
	{ .name = "CANCEL without id closes", .send = "CANCEL\n", .want_closed = true },
	/* framing */
	{ .name = "unknown command closes", .send = "HELLO\n", .want_closed = true,
	  .want_log = "unknown command" },
	{ .name = "empty line closes", .send = "\n", .want_closed = true },
	{ .name = "lower-case auth closes", .send = "auth\t1\tPLAIN\tservice=smtp\tno-penalty\n",
	  .want_closed = true },
	{ .name = "CRLF lines", .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\r\n",
	  .want = { "OK\t1\tuser=alice" } },
	/* end to end: PLAIN, LOGIN, names, escaping */
	{ .name = "PLAIN wrong password",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_BAD_B64 "\n",
	  .want = { "FAIL\t1\tuser=alice" } },
	{ .name = "PLAIN unknown user looks the same",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=AG5vYm9keQB4\n",   /* \0nobody\0x */
	  .want = { "FAIL\t1\tuser=nobody" } },
	{ .name = "PLAIN malformed: FAIL without user",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=YWxpY2U=\n", .want = { "FAIL\t1" } },
	{ .name = "PLAIN user name normalised (%Lu)",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_UPPER_B64 "\n",
	  .want = { "OK\t1\tuser=alice\toriginal_user=ALICE" } },
	{ .name = "PLAIN SHA256 stored password",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=AHNhbQBzYW1wdw==\n",   /* \0sam\0sampw */
	  .want = { "OK\t1\tuser=sam" } },
	{ .name = "extra field with TAB and 0x01 escaped",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" TABBY_B64 "\n",
	  .want = { "OK\t1\tuser=tabby\treason=a\x01tb\x01" "1c" } },
	{ .name = "LOGIN dialogue",
	  .send = "AUTH\t1\tLOGIN\tservice=smtp\tno-penalty\nCONT\t1\tYWxpY2U=\nCONT\t1\tYWxpY2Vwdw==\n",
	  .want = { "CONT\t1\t" USERNAME_B64, "CONT\t1\t" PASSWORD_B64, "OK\t1\tuser=alice" } },
	{ .name = "LOGIN initial response is the name",
	  .send = "AUTH\t1\tLOGIN\tservice=smtp\tno-penalty\tresp=YWxpY2U=\nCONT\t1\tYWxpY2Vwdw==\n",
	  .want = { "CONT\t1\t" PASSWORD_B64, "OK\t1\tuser=alice" } },
	{ .name = "LOGIN NUL in the password fails",
	  .send = "AUTH\t1\tLOGIN\tservice=smtp\tno-penalty\tresp=YWxpY2U=\nCONT\t1\tYWxpAGNl\n",
	  .want = { "CONT\t1\t" PASSWORD_B64, "FAIL\t1*" } },
	{ .name = "LOGIN name with space is rejected before the password",
	  .send = "AUTH\t1\tLOGIN\tservice=smtp\tno-penalty\tresp=YWwgaWNl\n",   /* "al ice" */
	  .want = { "FAIL\t1\tuser=al ice\toriginal_user=al ice" } },
	/* Exim: everything in one write, then EOF */
	{ .name = "pipelined then EOF still answers",
	  .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tnologin\tlip=127.0.0.1\trip=127.0.0.1\t"
		  "resp=" ALICE_B64 "\n",
	  .send_eof = true, .want = { "OK\t1\tuser=alice" }, .want_closed = true },
};

static bool line_matches(const char *got, const char *want)
{
	size_t wl = strlen(want);
	if (wl > 0 && want[wl - 1] == '*')
		return strncmp(got, want, wl - 1) == 0;
	return strcmp(got, want) == 0;
}

static bool run_dialogue(struct dh *h, const struct dialogue *d)
{
	struct dh_peer *p = client_ready(h, d->minor);
	size_t len = d->send_len != 0 ? d->send_len : strlen(d->send);
	size_t want_n = 0;
	bool ok = true;
	char got[LINE_MAX_TEST];
	while (want_n < N_ELEMS(d->want) && d->want[want_n] != NULL)
		want_n++;
	dh_send(p, d->send, len);
	if (d->send_eof)
		dh_send_eof(p);
	dh_wait_lines(p, want_n, WAIT_MS);
	for (size_t i = 0; i < want_n; i++) {
		if (!dh_read_line(p, got, sizeof(got), NULL)) {
			print_error("%s: reply %zu: got nothing%s, want \"%s\"\n", d->name, i + 1,
				    p->eof ? " (closed)" : "", d->want[i]);
			ok = false;
			break;
		}
		if (!line_matches(got, d->want[i])) {
			print_error("%s: reply %zu: got \"%s\", want \"%s\"\n", d->name, i + 1, got,
				    d->want[i]);
			ok = false;
		}
	}
	if (d->want_closed)
		dh_wait_eof(p, WAIT_MS);
	else
		dh_run(h, NULL, NULL, QUIET_MS);
	while (ok && dh_read_line(p, got, sizeof(got), NULL)) {
		print_error("%s: unexpected reply \"%s\"\n", d->name, got);
		ok = false;
	}
	if (p->eof != d->want_closed) {
		print_error("%s: got %s, want %s\n", d->name, p->eof ? "closed" : "open",
			    d->want_closed ? "closed" : "open");
		ok = false;
	}
	if (d->want_log != NULL && !dh_log_contains(h, d->want_log)) {
		print_error("%s: log lacks \"%s\"\n", d->name, d->want_log);
		ok = false;
	}
	dh_peer_close(p);
	dh_run(h, NULL, NULL, 1);
	return ok;
}

static void test_dialogues(void **state)
{
	struct dh *h = *state;
	bool ok = true;
	const char *only = getenv("TEST_ONLY");
	for (size_t i = 0; i < N_ELEMS(dialogues); i++)
		if (only == NULL || strstr(dialogues[i].name, only) != NULL)
			ok &= run_dialogue(h, &dialogues[i]);
	if (!ok)
		fail();
}

/* --- client handshake errors (spec 2.3) --- */

struct hello_case {
	const char *name;
	const char *send;
	bool want_closed;
};

static void test_client_handshake_errors(void **state)
{
	static const struct hello_case cases[] = {
		{ .name = "major 2", .send = "VERSION\t2\t0\n", .want_closed = true },
		{ .name = "VERSION without minor", .send = "VERSION\t1\n", .want_closed = true },
		{ .name = "VERSION extra field", .send = "VERSION\t1\t0\tx\n", .want_closed = true },
		{ .name = "VERSION non-numeric", .send = "VERSION\tone\t0\n", .want_closed = true },
		{ .name = "AUTH before VERSION", .send = "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\n",
		  .want_closed = true },
		{ .name = "CPID 0", .send = "VERSION\t1\t0\nCPID\t0\n", .want_closed = true },
		{ .name = "CPID non-numeric", .send = "VERSION\t1\t0\nCPID\tabc\n",
		  .want_closed = true },
		{ .name = "AUTH before CPID",
		  .send = "VERSION\t1\t0\nAUTH\t1\tPLAIN\tservice=smtp\tno-penalty\n", .want_closed = true },
		{ .name = "CONT before CPID", .send = "VERSION\t1\t0\nCONT\t1\t\n",
		  .want_closed = true },
		{ .name = "good, any minor", .send = "VERSION\t1\t77\nCPID\t1\n",
		  .want_closed = false },
		{ .name = "VERSION+CPID in one write with CRLF",
		  .send = "VERSION\t1\t0\r\nCPID\t4242\r\n", .want_closed = false },
	};
	struct dh *h = *state;
	char hs[16][LINE_MAX_TEST];
	bool ok = true;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct hello_case *c = &cases[i];
		struct dh_peer *p = dh_connect(h, LISTENER_CLIENT);
		assert_non_null(p);
		assert_true(read_handshake(p, hs, N_ELEMS(hs)) > 0);
		dh_send_str(p, c->send);
		if (c->want_closed)
			dh_wait_eof(p, WAIT_MS);
		else
			dh_run(h, NULL, NULL, QUIET_MS);
		if (p->eof != c->want_closed || dh_lines_pending(p) != 0) {
			print_error("%s: got %s with %zu replies, want %s and none\n", c->name,
				    p->eof ? "closed" : "open", dh_lines_pending(p),
				    c->want_closed ? "closed" : "open");
			ok = false;
		}
		dh_peer_close(p);
		dh_run(h, NULL, NULL, 1);
	}
	if (!ok)
		fail();
}

/* --- line limits (spec 2.9: 16383 bytes + LF) --- */

static void send_auth_of_length(struct dh_peer *p, size_t total, uint32_t id)
{
	char head[64];
	const char *tail = "\tresp=" ALICE_B64;
	int hl = snprintf(head, sizeof(head), "AUTH\t%u\tPLAIN\tservice=smtp\tno-penalty\tx=", id);
	size_t pad = total - (size_t)hl - strlen(tail);
	char *line = malloc(total + 1);
	assert_non_null(line);
	memcpy(line, head, (size_t)hl);
	memset(line + hl, 'a', pad);
	memcpy(line + (size_t)hl + pad, tail, strlen(tail));
	line[total] = '\n';
	dh_send(p, line, total + 1);
	free(line);
}

static void test_line_limit(void **state)
{
	struct dh *h = *state;
	char got[LINE_MAX_TEST];
	struct dh_peer *p = client_ready(h, 2);
	send_auth_of_length(p, PROTO_CLIENT_MAX_LINE, 1);
	assert_true(dh_wait_lines(p, 1, WAIT_MS));
	assert_true(dh_read_line(p, got, sizeof(got), NULL));
	assert_string_equal(got, "OK\t1\tuser=alice");
	send_auth_of_length(p, PROTO_CLIENT_MAX_LINE + 1, 2);
	assert_true(dh_wait_eof(p, WAIT_MS));
	assert_int_equal(dh_lines_pending(p), 0);
	dh_peer_close(p);
}

static void test_too_many_fields_closes(void **state)
{
	struct dh *h = *state;
	struct buf line = BUF_INIT(0);
	struct dh_peer *p = client_ready(h, 2);
	buf_append_str(&line, "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty");
	for (unsigned int i = 0; i < PROTO_CLIENT_MAX_FIELDS; i++)
		buf_printf(&line, "\tx%u=1", i);
	buf_append_str(&line, "\n");
	dh_send(p, line.data, line.len);
	assert_true(dh_wait_eof(p, WAIT_MS));
	assert_int_equal(dh_lines_pending(p), 0);
	buf_free(&line);
	dh_peer_close(p);
}

/* Many requests pipelined on one connection (Postfix shares one). */
static void test_many_pipelined_requests(void **state)
{
	struct dh *h = *state;
	struct buf out = BUF_INIT(0);
	char got[LINE_MAX_TEST], want[64];
	struct dh_peer *p = client_ready(h, 0);
	for (unsigned int i = 1; i <= 300; i++)
		buf_printf(&out, "AUTH\t%u\tPLAIN\tservice=smtp\tno-penalty\tresp=%s\n", i,
			   i % 3 == 0 ? ALICE_BAD_B64 : ALICE_B64);
	dh_send(p, out.data, out.len);
	assert_true(dh_wait_lines(p, 300, WAIT_MS));
	for (unsigned int i = 1; i <= 300; i++) {
		assert_true(dh_read_line(p, got, sizeof(got), NULL));
		snprintf(want, sizeof(want), i % 3 == 0 ? "FAIL\t%u\tuser=alice" : "OK\t%u\tuser=alice",
			 i);
		if (strcmp(got, want) != 0) {
			print_error("request %u: got \"%s\", want \"%s\"\n", i, got, want);
			fail();
		}
	}
	buf_free(&out);
	dh_peer_close(p);
}

/* A peer that goes away with a request waiting for CONT: nothing leaks
 * (ASan) and other connections go on. */
static void test_disconnect_with_pending_request(void **state)
{
	struct dh *h = *state;
	char got[LINE_MAX_TEST];
	struct dh_peer *p = client_ready(h, 2);
	struct dh_peer *q = client_ready(h, 2);
	dh_send_str(p, "AUTH\t1\tLOGIN\tservice=smtp\tno-penalty\n");
	assert_true(dh_wait_lines(p, 1, WAIT_MS));
	dh_peer_close(p);
	dh_run(h, NULL, NULL, QUIET_MS);
	dh_send_str(q, "AUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp=" ALICE_B64 "\n");
	assert_true(dh_wait_lines(q, 1, WAIT_MS));
	assert_true(dh_read_line(q, got, sizeof(got), NULL));
	assert_string_equal(got, "OK\t1\tuser=alice");
	dh_peer_close(q);
}

/* --- auth state rebuilt (SIGHUP reload does this) --- */

/* Runs dh_init/dh_deinit twice in a child: a reload must not touch memory
 * of the auth it replaced. The child's ASan report (if any) is above. */
static void test_auth_recreated(void **state)
{
	char tmp[] = "/tmp/authd-harness-child.XXXXXX";
	(void)state;
	/* the child's files go here: removed even if it crashes */
	assert_non_null(mkdtemp(tmp));
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("TMPDIR", tmp, 1);
		for (int i = 0; i < 2; i++) {
			struct dh h;
			struct dh_options o = { 0 };
			if (dh_init(&h, &o) < 0)
				_exit(3);
			struct dh_peer *p = dh_connect(&h, LISTENER_CLIENT);
			if (p == NULL || !dh_wait_lines(p, 7, WAIT_MS))
				_exit(4);
			dh_deinit(&h);
		}
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	dh_remove_tree(tmp);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("building the auth state a second time in one process: got %s %d, "
			    "want exit 0 (see the sanitizer report above)\n",
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		fail();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_bytes),
		cmocka_unit_test(test_dialogues),
		cmocka_unit_test(test_client_handshake_errors),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_too_many_fields_closes),
		cmocka_unit_test(test_many_pipelined_requests),
		cmocka_unit_test(test_disconnect_with_pending_request),
		cmocka_unit_test(test_auth_recreated),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
