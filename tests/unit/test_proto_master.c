/* test_proto_master: the auth-master / auth-userdb protocol (spec section
 * 3) in process, through tests/unit/daemon_harness.h: the handshake,
 * USER/PASS/LIST/CACHE-FLUSH replies, the close rules of 3.8, commands per
 * socket type (3.2), the 0666 peer restriction and the REQUEST login
 * handoff (3.6). */
#include "tests/unit/daemon_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <grp.h>
#include <sys/wait.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define WAIT_MS 3000u
#define QUIET_MS 20u
#define LINE_MAX_TEST 512
#define ALICE_B64 "AGFsaWNlAGFsaWNlcHc="      /* \0alice\0alicepw */
#define ALICE_BAD_B64 "AGFsaWNlAHdyb25n"      /* \0alice\0wrong */
#define NOBODY_ID 65534            /* the restricted peer's uid and gid */
#define ALICE_USER "alice\tuid=1001\tgid=1001\thome=/home/alice\tmail=maildir:~/Maildir"

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

static bool line_matches(const char *got, const char *want)
{
	size_t wl = strlen(want);
	if (wl > 0 && want[wl - 1] == '*')
		return strncmp(got, want, wl - 1) == 0;
	return strcmp(got, want) == 0;
}

/* Reads the two greeting lines; returns true if they are VERSION 1.1 and
 * SPID with this process's pid. */
static bool read_greeting(struct dh_peer *p)
{
	char got[LINE_MAX_TEST], spid[32];
	snprintf(spid, sizeof(spid), "SPID\t%ld", (long)getpid());
	if (!dh_wait_lines(p, 2, WAIT_MS))
		return false;
	dh_read_line(p, got, sizeof(got), NULL);
	if (strcmp(got, "VERSION\t1\t1") != 0) {
		print_error("greeting: got \"%s\", want \"VERSION\\t1\\t1\"\n", got);
		return false;
	}
	dh_read_line(p, got, sizeof(got), NULL);
	if (strcmp(got, spid) != 0) {
		print_error("greeting: got \"%s\", want \"%s\"\n", got, spid);
		return false;
	}
	return true;
}

struct dialogue {
	const char *name;
	bool userdb;                  /* auth-userdb type instead of auth-master */
	bool restricted;              /* 0666 socket of another owner */
	bool same_group;              /* ... but of this process's group */
	const char *send;             /* including the client's VERSION line */
	const char *want[12];         /* "x*" = prefix */
	bool want_closed;
	const char *want_log;
};

static const struct dialogue dialogues[] = {
	/* 3.1 handshake */
	{ .name = "VERSION 1 alone is enough",
	  .send = "VERSION\t1\nCACHE-FLUSH\t1\n", .want = { "OK\t1\t0" } },
	{ .name = "VERSION minor is free",
	  .send = "VERSION\t1\t99\tx\nCACHE-FLUSH\t1\n", .want = { "OK\t1\t0" } },
	{ .name = "VERSION 2 closes", .send = "VERSION\t2\t0\nCACHE-FLUSH\t1\n", .want_closed = true,
	  .want_log = "Master not compatible" },
	{ .name = "command before VERSION closes", .send = "USER\t1\talice\tservice=lda\n",
	  .want_closed = true },
	{ .name = "CPID closes", .send = "VERSION\t1\t0\nCPID\t123\n", .want_closed = true,
	  .want_log = "trying to connect to master socket" },
	{ .name = "empty line closes", .send = "VERSION\t1\t0\n\n", .want_closed = true },
	{ .name = "unknown command closes", .send = "VERSION\t1\t0\nHELLO\t1\n",
	  .want_closed = true, .want_log = "unknown or unallowed command" },
	/* 3.3 USER */
	{ .name = "USER (LDA bytes)", .send = "VERSION\t1\t0\nUSER\t1\talice\tservice=lda\n",
	  .want = { "USER\t1\t" ALICE_USER } },
	{ .name = "USER id 0 is allowed", .send = "VERSION\t1\t0\nUSER\t0\talice\tservice=lda\n",
	  .want = { "USER\t0\t" ALICE_USER } },
	{ .name = "USER id 4294967295", .send = "VERSION\t1\t0\nUSER\t4294967295\talice\tservice=lda\n",
	  .want = { "USER\t4294967295\t" ALICE_USER } },
	{ .name = "USER name normalised", .send = "VERSION\t1\t0\nUSER\t2\tALICE\tservice=lda\n",
	  .want = { "USER\t2\t" ALICE_USER } },
	{ .name = "USER unknown", .send = "VERSION\t1\t0\nUSER\t3\tnosuch\tservice=lda\n",
	  .want = { "NOTFOUND\t3" } },
	{ .name = "USER rejected name is NOTFOUND",
	  .send = "VERSION\t1\t0\nUSER\t4\tal ice\tservice=lda\n", .want = { "NOTFOUND\t4" } },
	{ .name = "USER name with escaped TAB is NOTFOUND",
	  .send = "VERSION\t1\t0\nUSER\t4\tal\x01tice\tservice=lda\n", .want = { "NOTFOUND\t4" } },
	{ .name = "USER name with escaped NUL is NOTFOUND",
	  .send = "VERSION\t1\t0\nUSER\t4\talice\x01" "0\tservice=lda\n", .want = { "NOTFOUND\t4" } },
	{ .name = "USER without userdb info is NOTFOUND",
	  .send = "VERSION\t1\t0\nUSER\t5\tdave\tservice=lda\n", .want = { "NOTFOUND\t5" } },
	{ .name = "USER userdb_ override", .send = "VERSION\t1\t0\nUSER\t6\tuma\tservice=lda\n",
	  .want = { "USER\t6\tuma\tuid=2020\tgid=1020\thome=/home/uma" } },
	{ .name = "USER unknown params ignored",
	  .send = "VERSION\t1\t0\nUSER\t7\talice\tservice=doveadm\tdebug\tfoo=bar\trip=x\n",
	  .want = { "USER\t7\t" ALICE_USER } },
	{ .name = "USER protocol= counts as service",
	  .send = "VERSION\t1\t0\nUSER\t7\talice\tprotocol=lda\n", .want = { "USER\t7\t" ALICE_USER } },
	{ .name = "USER without service closes", .send = "VERSION\t1\t0\nUSER\t1\talice\n",
	  .want_closed = true },
	{ .name = "USER without name closes", .send = "VERSION\t1\t0\nUSER\t1\n", .want_closed = true },
	{ .name = "USER bad id closes", .send = "VERSION\t1\t0\nUSER\tx\talice\tservice=lda\n",
	  .want_closed = true },
	{ .name = "USER id too big closes",
	  .send = "VERSION\t1\t0\nUSER\t4294967296\talice\tservice=lda\n", .want_closed = true },
	{ .name = "pipelined USERs answered in order",
	  .send = "VERSION\t1\t0\nUSER\t1\talice\tservice=lda\nUSER\t2\tnosuch\tservice=lda\n"
		  "USER\t3\tuma\tservice=lda\n",
	  .want = { "USER\t1\t" ALICE_USER, "NOTFOUND\t2", "USER\t3\tuma*" } },
	/* 3.4 PASS */
	{ .name = "PASS hides the password", .send = "VERSION\t1\t0\nPASS\t5\talice\tservice=doveadm\n",
	  .want = { "PASS\t5\tuser=alice" } },
	{ .name = "PASS unknown", .send = "VERSION\t1\t0\nPASS\t6\tnosuch\tservice=doveadm\n",
	  .want = { "NOTFOUND\t6" } },
	{ .name = "PASS extra fields, nologin/proxy bare",
	  .send = "VERSION\t1\t0\nPASS\t7\tgina\tservice=doveadm\n",
	  .want = { "PASS\t7\tuser=gina\tnologin\treason=Account*" } },
	{ .name = "PASS escapes TAB and 0x01 in values",
	  .send = "VERSION\t1\t0\nPASS\t8\ttabby\tservice=doveadm\n",
	  .want = { "PASS\t8\tuser=tabby\treason=a\x01tb\x01" "1c" } },
	{ .name = "PASS without service closes", .send = "VERSION\t1\t0\nPASS\t1\talice\n",
	  .want_closed = true },
	/* 3.5 LIST */
	{ .name = "LIST every user", .send = "VERSION\t1\t0\nLIST\t10\tuser=*\tservice=doveadm\n",
	  .want = { "LIST\t10\talice", "LIST\t10\tbob", "LIST\t10\tdave", "LIST\t10\tgina",
		    "LIST\t10\tolga@example.com", "LIST\t10\tsam", "LIST\t10\ttabby",
		    "LIST\t10\tuma", "DONE\t10\t" } },
	{ .name = "commands after LIST wait for DONE",
	  .send = "VERSION\t1\t0\nLIST\t1\nUSER\t2\tnosuch\tservice=lda\n",
	  .want = { "LIST\t1\talice", "LIST\t1\tbob", "LIST\t1\tdave", "LIST\t1\tgina",
		    "LIST\t1\tolga@example.com", "LIST\t1\tsam", "LIST\t1\ttabby", "LIST\t1\tuma",
		    "DONE\t1\t", "NOTFOUND\t2" } },
	{ .name = "LIST bad id closes", .send = "VERSION\t1\t0\nLIST\tx\n", .want_closed = true },
	/* 3.7 CACHE-FLUSH */
	{ .name = "CACHE-FLUSH with users", .send = "VERSION\t1\t0\nCACHE-FLUSH\t3\talice\tbob\n",
	  .want = { "OK\t3\t0" } },
	{ .name = "CACHE-FLUSH bad id closes", .send = "VERSION\t1\t0\nCACHE-FLUSH\n",
	  .want_closed = true },
	/* 3.2 commands per socket type */
	{ .name = "userdb socket: USER", .userdb = true,
	  .send = "VERSION\t1\t0\nUSER\t1\talice\tservice=lda\n", .want = { "USER\t1\t" ALICE_USER } },
	{ .name = "userdb socket: PASS and LIST", .userdb = true,
	  .send = "VERSION\t1\t0\nPASS\t1\tbob\tservice=x\nLIST\t2\tuser=b*\n",
	  .want = { "PASS\t1\tuser=bob", "LIST\t2\talice*" } },
	{ .name = "userdb socket: REQUEST closes", .userdb = true,
	  .send = "VERSION\t1\t0\nREQUEST\t1\t1\t1\t00000000000000000000000000000000\n",
	  .want_closed = true },
	{ .name = "userdb socket: CACHE-FLUSH closes", .userdb = true,
	  .send = "VERSION\t1\t0\nCACHE-FLUSH\t1\n", .want_closed = true },
	/* 3.6 REQUEST syntax */
	{ .name = "REQUEST too few args closes", .send = "VERSION\t1\t1\nREQUEST\t1\t1\t1\n",
	  .want_closed = true },
	{ .name = "REQUEST bad hex cookie closes",
	  .send = "VERSION\t1\t1\nREQUEST\t1\t1\t1\t0000000000000000000000000000000g\n",
	  .want_closed = true },
	{ .name = "REQUEST short cookie closes",
	  .send = "VERSION\t1\t1\nREQUEST\t1\t1\t1\t00\n", .want_closed = true },
	{ .name = "REQUEST unknown pid fails",
	  .send = "VERSION\t1\t1\nREQUEST\t7\t999999\t1\t00000000000000000000000000000000\n",
	  .want = { "FAIL\t7" } },
};

/* 3.2 restricted peers (0666 socket, peer neither owner nor group, not
 * root): run by test_restricted_peers as a non-root user. */
static const struct dialogue restricted_dialogues[] = {
	{ .name = "restricted: USER of another uid fails", .userdb = true, .restricted = true,
	  .send = "VERSION\t1\t0\nUSER\t1\talice\tservice=lda\n", .want = { "FAIL\t1" } },
	{ .name = "restricted: NOTFOUND stays NOTFOUND", .userdb = true, .restricted = true,
	  .send = "VERSION\t1\t0\nUSER\t1\tnosuch\tservice=lda\n", .want = { "NOTFOUND\t1" } },
	{ .name = "restricted: PASS fails", .userdb = true, .restricted = true,
	  .send = "VERSION\t1\t0\nPASS\t1\talice\tservice=lda\n", .want = { "FAIL\t1" } },
	{ .name = "restricted: LIST fails", .userdb = true, .restricted = true,
	  .send = "VERSION\t1\t0\nLIST\t1\n", .want = { "DONE\t1\tfail" } },
	{ .name = "restricted: USER of the peer's own uid works", .userdb = true,
	  .restricted = true, .send = "VERSION\t1\t0\nUSER\t1\tnobody\tservice=lda\n",
	  .want = { "USER\t1\tnobody\tuid=*" } },
	{ .name = "unrestricted 0666 peer: the group matches", .userdb = true,
	  .restricted = true, .same_group = true,
	  .send = "VERSION\t1\t0\nPASS\t1\tbob\tservice=x\n", .want = { "PASS\t1\tuser=bob" } },
};

static bool run_dialogue(struct dh *h, const struct dialogue *d)
{
	/* a 0666 socket owned by nobody this process is */
	uid_t owner = d->restricted ? getuid() + 1 : getuid();
	gid_t group = d->restricted && !d->same_group ? getgid() + 1 : getgid();
	struct dh_peer *p = dh_connect_ex(h, d->userdb ? LISTENER_USERDB : LISTENER_MASTER,
					  d->restricted, owner, group);
	char got[LINE_MAX_TEST];
	size_t want_n = 0;
	bool ok = p != NULL && read_greeting(p);
	if (!ok) {
		print_error("%s: no greeting\n", d->name);
		if (p != NULL)
			dh_peer_close(p);
		return false;
	}
	while (want_n < N_ELEMS(d->want) && d->want[want_n] != NULL)
		want_n++;
	dh_send_str(p, d->send);
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
	/* a want ending in '*' may stand for the rest of a LIST */
	bool open_list = want_n > 0 && d->want[want_n - 1][strlen(d->want[want_n - 1]) - 1] == '*';
	while (ok && !open_list && dh_read_line(p, got, sizeof(got), NULL)) {
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
	const char *only = getenv("TEST_ONLY");
	bool ok = true;
	for (size_t i = 0; i < N_ELEMS(dialogues); i++)
		if (only == NULL || strstr(dialogues[i].name, only) != NULL)
			ok &= run_dialogue(h, &dialogues[i]);
	if (!ok)
		fail();
}

/* 3.1: a line of 1023 bytes + LF is read, 1024 closes */
static void send_user_of_length(struct dh_peer *p, size_t total)
{
	const char *head = "USER\t1\talice\tservice=lda\tx=";
	char *line = malloc(total + 1);
	assert_non_null(line);
	memcpy(line, head, strlen(head));
	memset(line + strlen(head), 'a', total - strlen(head));
	line[total] = '\n';
	dh_send(p, line, total + 1);
	free(line);
}

static void test_line_limit(void **state)
{
	struct dh *h = *state;
	char got[LINE_MAX_TEST];
	struct dh_peer *p = dh_connect(h, LISTENER_MASTER);
	assert_non_null(p);
	assert_true(read_greeting(p));
	dh_send_str(p, "VERSION\t1\t0\n");
	send_user_of_length(p, PROTO_MASTER_MAX_LINE);
	assert_true(dh_wait_lines(p, 1, WAIT_MS));
	assert_true(dh_read_line(p, got, sizeof(got), NULL));
	assert_string_equal(got, "USER\t1\t" ALICE_USER);
	send_user_of_length(p, PROTO_MASTER_MAX_LINE + 1);
	assert_true(dh_wait_eof(p, WAIT_MS));
	assert_int_equal(dh_lines_pending(p), 0);
	dh_peer_close(p);
}

/* --- REQUEST: the login handoff (3.6) --- */

struct login {
	struct dh_peer *p;
	char cookie[33];
};

/* A login connection with CPID pid that authenticated id 1 as alice
 * (or failed with a wrong password). */
static void login_connect(struct dh *h, struct login *l, enum listener_type type,
			  unsigned long pid, bool good_password)
{
	char line[LINE_MAX_TEST];
	l->p = dh_connect(h, type);
	assert_non_null(l->p);
	l->cookie[0] = '\0';
	for (;;) {
		assert_true(dh_wait_lines(l->p, 1, WAIT_MS));
		dh_read_line(l->p, line, sizeof(line), NULL);
		if (strncmp(line, "COOKIE\t", 7) == 0)
			snprintf(l->cookie, sizeof(l->cookie), "%.32s", line + 7);
		if (strcmp(line, "DONE") == 0)
			break;
	}
	assert_int_equal(strlen(l->cookie), 32);
	snprintf(line, sizeof(line),
		 "VERSION\t1\t2\nCPID\t%lu\nAUTH\t1\tPLAIN\tservice=imap\tno-penalty\tresp=%s\n", pid,
		 good_password ? ALICE_B64 : ALICE_BAD_B64);
	dh_send_str(l->p, line);
	assert_true(dh_wait_lines(l->p, 1, WAIT_MS));
	dh_read_line(l->p, line, sizeof(line), NULL);
	assert_string_equal(line, good_password ? "OK\t1\tuser=alice" : "FAIL\t1\tuser=alice");
}

/* Sends REQUEST on a new master connection; returns the reply in got. */
static void master_request(struct dh *h, unsigned int id, unsigned long pid, unsigned int cid,
			   const char *cookie, const char *extra, char *got, size_t size)
{
	char line[LINE_MAX_TEST];
	struct dh_peer *m = dh_connect(h, LISTENER_MASTER);
	assert_non_null(m);
	assert_true(read_greeting(m));
	snprintf(line, sizeof(line), "VERSION\t1\t1\nREQUEST\t%u\t%lu\t%u\t%s%s\n", id, pid, cid,
		 cookie, extra);
	dh_send_str(m, line);
	if (!dh_wait_lines(m, 1, WAIT_MS) || !dh_read_line(m, got, size, NULL))
		snprintf(got, size, "(nothing%s)", m->eof ? ", closed" : "");
	dh_peer_close(m);
}

static void test_request_handoff(void **state)
{
	struct dh *h = *state;
	struct login l;
	char got[LINE_MAX_TEST], sp[64];
	login_connect(h, &l, LISTENER_LOGIN, 4242, true);
	snprintf(sp, sizeof(sp), "\tsession_pid=%ld", (long)getpid());
	master_request(h, 100, 4242, 1, l.cookie, sp, got, sizeof(got));
	/* spec 3.6: userdb fields the passdb pre-set (userdb_mail) come first */
	assert_string_equal(got, "USER\t100\talice\tmail=maildir:~/Maildir\tuid=1001\tgid=1001"
				 "\thome=/home/alice\tauth_mech=PLAIN");
	/* consumed: a second REQUEST fails */
	master_request(h, 101, 4242, 1, l.cookie, "", got, sizeof(got));
	assert_string_equal(got, "FAIL\t101");
	dh_peer_close(l.p);
}

struct request_case {
	const char *name;
	enum listener_type login_type;
	bool good_password;
	unsigned long pid_delta;     /* added to the login's CPID in REQUEST */
	unsigned int cid;            /* client id in REQUEST */
	bool bad_cookie;
	bool bad_session_pid;
	const char *want;
};

static void test_request_failures(void **state)
{
	static const struct request_case cases[] = {
		{ .name = "wrong cookie", .login_type = LISTENER_LOGIN, .good_password = true,
		  .cid = 1, .bad_cookie = true, .want = "FAIL\t9" },
		{ .name = "wrong pid", .login_type = LISTENER_LOGIN, .good_password = true,
		  .pid_delta = 1, .cid = 1, .want = "FAIL\t9" },
		{ .name = "wrong client id", .login_type = LISTENER_LOGIN, .good_password = true,
		  .cid = 2, .want = "FAIL\t9" },
		{ .name = "failed login", .login_type = LISTENER_LOGIN, .good_password = false,
		  .cid = 1, .want = "FAIL\t9" },
		{ .name = "plain client socket", .login_type = LISTENER_CLIENT, .good_password = true,
		  .cid = 1, .want = "FAIL\t9" },
		{ .name = "session_pid mismatch", .login_type = LISTENER_LOGIN, .good_password = true,
		  .cid = 1, .bad_session_pid = true, .want = "FAIL\t9" },
	};
	struct dh *h = *state;
	char got[LINE_MAX_TEST];
	bool ok = true;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct request_case *c = &cases[i];
		struct login l;
		unsigned long pid = 5000 + i;
		login_connect(h, &l, c->login_type, pid, c->good_password);
		if (c->bad_cookie)
			l.cookie[0] = l.cookie[0] == '0' ? '1' : '0';
		master_request(h, 9, pid + c->pid_delta, c->cid, l.cookie,
			       c->bad_session_pid ? "\tsession_pid=1" : "", got, sizeof(got));
		if (strcmp(got, c->want) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", c->name, got, c->want);
			ok = false;
		}
		dh_peer_close(l.p);
		dh_run(h, NULL, NULL, 1);
	}
	if (!ok)
		fail();
}

/* Waits for n lines and checks that the n-th is want. */
static bool last_line_is(struct dh_peer *p, size_t n, const char *want)
{
	char got[LINE_MAX_TEST] = "";
	if (!dh_wait_lines(p, n, WAIT_MS))
		return false;
	for (size_t i = 0; i < n; i++)
		dh_read_line(p, got, sizeof(got), NULL);
	if (strcmp(got, want) != 0) {
		print_error("line %zu: got \"%s\", want \"%s\"\n", n, got, want);
		return false;
	}
	return true;
}

/* 2.3: on a login socket the CPID must not be another live login
 * connection's; a plain client socket ignores it. */
static void test_login_cpid_unique(void **state)
{
	struct dh *h = *state;
	struct login a;
	login_connect(h, &a, LISTENER_LOGIN, 7777, true);
	struct dh_peer *b = dh_connect(h, LISTENER_LOGIN);
	assert_non_null(b);
	dh_send_str(b, "VERSION\t1\t2\nCPID\t7777\n");
	assert_true(dh_wait_eof(b, WAIT_MS));
	dh_peer_close(b);
	struct dh_peer *c = dh_connect(h, LISTENER_CLIENT);
	assert_non_null(c);
	dh_send_str(c, "VERSION\t1\t2\nCPID\t7777\nAUTH\t1\tPLAIN\tservice=smtp\tno-penalty\tresp="
		       ALICE_B64 "\n");
	assert_true(last_line_is(c, 8, "OK\t1\tuser=alice"));
	assert_false(c->eof);
	dh_peer_close(c);
	/* the first one's peer hangs up: its CPID is free again */
	dh_peer_close(a.p);
	dh_run(h, NULL, NULL, QUIET_MS);
	struct dh_peer *d = dh_connect(h, LISTENER_LOGIN);
	assert_non_null(d);
	dh_send_str(d, "VERSION\t1\t2\nCPID\t7777\nAUTH\t1\tPLAIN\tservice=imap\tno-penalty\tresp="
		       ALICE_B64 "\n");
	assert_true(last_line_is(d, 8, "OK\t1\tuser=alice"));
	assert_false(d->eof);
	dh_peer_close(d);
}

/* Child side of test_restricted_peers. Returns the exit code. */
static int restricted_child(void)
{
	struct dh h;
	struct dh_options o = { 0 };
	char users[sizeof(DH_DEFAULT_USERS) + 128];
	bool ok = true;
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) < 0 || setgid(NOBODY_ID) < 0 || setuid(NOBODY_ID) < 0))
		return 2;
	/* a user with the peer's own uid */
	snprintf(users, sizeof(users), "%snobody:{PLAIN}pw:%u:%u::/nonexistent\n", DH_DEFAULT_USERS,
		 (unsigned int)getuid(), (unsigned int)getgid());
	o.users = users;
	if (dh_init(&h, &o) < 0) {
		fprintf(stderr, "harness as uid %u: %s\n", (unsigned int)getuid(), h.error);
		return 3;
	}
	for (size_t i = 0; i < N_ELEMS(restricted_dialogues); i++)
		ok &= run_dialogue(&h, &restricted_dialogues[i]);
	dh_deinit(&h);
	return ok ? 0 : 1;
}

/* The peer's uid comes from SO_PEERCRED of the socketpair, i.e. this
 * process: a child drops root first (root is never restricted). */
static void test_restricted_peers(void **state)
{
	struct dh *h = *state;
	if (getuid() == 0) {
		/* as root the same connection is not restricted (as in Dovecot) */
		static const struct dialogue root = {
			.name = "root is never restricted", .userdb = true, .restricted = true,
			.send = "VERSION\t1\t0\nPASS\t1\tbob\tservice=x\n",
			.want = { "PASS\t1\tuser=bob" } };
		assert_true(run_dialogue(h, &root));
	}
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(restricted_child());
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("restricted peer dialogues (child as uid %d): got %s %d, want exit 0\n",
			    NOBODY_ID, WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		fail();
	}
}

/* --- LIST through the throttled output queue --- */

#define LIST_USERS 30000u

/* Child side of test_list_large: returns the exit code (0 = ok). */
static int list_large_child(void)
{
	struct buf users = BUF_INIT(0), got = BUF_INIT(0);
	struct dh h;
	struct dh_options o = { 0 };
	char line[LINE_MAX_TEST];
	for (unsigned int i = 0; i < LIST_USERS; i++)
		buf_printf(&users, "user%05u@example.com:{PLAIN}pw%u:%u:%u::/home/u%u\n", i, i,
			   2000 + i, 2000 + i, i);
	o.users = buf_cstr(&users);
	if (dh_init(&h, &o) < 0)
		return 2;
	struct dh_peer *p = dh_connect(&h, LISTENER_MASTER);
	if (p == NULL || !read_greeting(p))
		return 3;
	/* the USER waits until the LIST is DONE (spec 3.5) */
	dh_send_str(p, "VERSION\t1\t0\nLIST\t1\nUSER\t2\tuser00007@example.com\tservice=lda\n");
	if (!dh_wait_lines(p, LIST_USERS + 2, 20000))
		return 4;
	for (unsigned int i = 0; i < LIST_USERS; i++) {
		char want[64];
		snprintf(want, sizeof(want), "LIST\t1\tuser%05u@example.com", i);
		if (!dh_read_line(p, line, sizeof(line), NULL) || strcmp(line, want) != 0) {
			fprintf(stderr, "LIST line %u: got \"%s\", want \"%s\"\n", i, line, want);
			return 5;
		}
	}
	if (!dh_read_line(p, line, sizeof(line), NULL) || strcmp(line, "DONE\t1\t") != 0)
		return 6;
	if (!dh_read_line(p, line, sizeof(line), NULL) ||
	    strncmp(line, "USER\t2\tuser00007@example.com\tuid=2007", 37) != 0) {
		fprintf(stderr, "after LIST: got \"%s\"\n", line);
		return 7;
	}
	dh_deinit(&h);
	buf_free(&users);
	buf_free(&got);
	return 0;
}

/* In a child process: one harness per process (see test_proto_client's
 * test_auth_recreated). */
static void test_list_large(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(list_large_child());
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("LIST of %u users: child got %s %d, want exit 0\n", LIST_USERS,
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		fail();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dialogues),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_request_handoff),
		cmocka_unit_test(test_request_failures),
		cmocka_unit_test(test_login_cpid_unique),
		cmocka_unit_test(test_restricted_peers),
		cmocka_unit_test(test_list_large),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
