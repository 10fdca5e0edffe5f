/* Unit tests of client/authc (the auth protocol client library) and of
 * authctl's wildcard matching: reply-line parsing, handshake parsing, and
 * connections to a scripted fake server thread on a unix socket (bytes
 * sent, replies read, error cases: no DONE, bad VERSION, wrong socket
 * family, overlong lines, timeouts, request limits). */
#include "client/authc.h"
#include "client/authctl.h"
#include "common/buf.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#define ARGS_MAX 16
#define LINE_MAX_TEST 256
#define FAKE_RECV_MAX 65536

/* ---- reply-line parsing ------------------------------------------------- */

struct parse_case {
	const char *name;
	const char *line;          /* without LF; may contain \x01 escapes */
	size_t len;                /* 0 = strlen(line) */
	int ret;
	enum authc_reply_type type;
	bool has_id;
	uint32_t id;
	size_t field_count;
	const char *fields[4];     /* wanted fields after the id */
	size_t field_lens[4];      /* 0 = strlen */
};

static const struct parse_case parse_cases[] = {
	{ .name = "ok with trailing empty field", .line = "OK\t1\tuser=alice\t", .ret = 1,
	  .type = AUTHC_REPLY_OK, .has_id = true, .id = 1, .field_count = 2,
	  .fields = { "user=alice", "" } },
	{ .name = "fail unescaped", .line = "FAIL\t2\tuser=a\x01tb\tcode=temp_fail", .ret = 1,
	  .type = AUTHC_REPLY_FAIL, .has_id = true, .id = 2, .field_count = 2,
	  .fields = { "user=a\tb", "code=temp_fail" } },
	{ .name = "all escapes", .line = "USER\t7\tx\x01" "1\x01r\x01n\x01t\x01q", .ret = 1,
	  .type = AUTHC_REPLY_USER, .has_id = true, .id = 7, .field_count = 1,
	  .fields = { "x\x01\r\n\tq" } },
	{ .name = "escaped NUL keeps length", .line = "PASS\t3\tk=a\x01" "0b", .ret = 1,
	  .type = AUTHC_REPLY_PASS, .has_id = true, .id = 3, .field_count = 1,
	  .fields = { "k=a\0b" }, .field_lens = { 5 } },
	{ .name = "lone trailing escape dropped", .line = "LIST\t9\tbob\x01", .ret = 1,
	  .type = AUTHC_REPLY_LIST, .has_id = true, .id = 9, .field_count = 1,
	  .fields = { "bob" } },
	{ .name = "empty challenge", .line = "CONT\t5\t", .ret = 1, .type = AUTHC_REPLY_CONT,
	  .has_id = true, .id = 5, .field_count = 1, .fields = { "" } },
	{ .name = "notfound", .line = "NOTFOUND\t3", .ret = 1, .type = AUTHC_REPLY_NOTFOUND,
	  .has_id = true, .id = 3, .field_count = 0 },
	{ .name = "done", .line = "DONE\t10\t", .ret = 1, .type = AUTHC_REPLY_DONE,
	  .has_id = true, .id = 10, .field_count = 1, .fields = { "" } },
	{ .name = "crlf", .line = "OK\t1\tuser=x\r", .ret = 1, .type = AUTHC_REPLY_OK,
	  .has_id = true, .id = 1, .field_count = 1, .fields = { "user=x" } },
	{ .name = "max id", .line = "OK\t4294967295", .ret = 1, .type = AUTHC_REPLY_OK,
	  .has_id = true, .id = 4294967295u, .field_count = 0 },
	{ .name = "id overflow is no id", .line = "OK\t4294967296\tx", .ret = 1,
	  .type = AUTHC_REPLY_OK, .has_id = false, .field_count = 2,
	  .fields = { "4294967296", "x" } },
	{ .name = "non-numeric id", .line = "FAIL\t-1", .ret = 1, .type = AUTHC_REPLY_FAIL,
	  .has_id = false, .field_count = 1, .fields = { "-1" } },
	{ .name = "bare command", .line = "DONE", .ret = 1, .type = AUTHC_REPLY_DONE,
	  .has_id = false, .field_count = 0 },
	{ .name = "handshake line", .line = "MECH\tPLAIN\tplaintext", .ret = 1,
	  .type = AUTHC_REPLY_OTHER, .has_id = false, .field_count = 2,
	  .fields = { "PLAIN", "plaintext" } },
	{ .name = "command is case-sensitive", .line = "ok\t1", .ret = 1,
	  .type = AUTHC_REPLY_OTHER, .has_id = true, .id = 1, .field_count = 0 },
	{ .name = "empty line", .line = "", .ret = -1 },
	{ .name = "only CR", .line = "\r", .ret = -1 },
	{ .name = "too many fields", .line = "OK\t1\ta\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl\tm\tn\to\tp",
	  .ret = -1 },
};

static void test_line_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		uint8_t line[LINE_MAX_TEST];
		struct authc_str args[ARGS_MAX];
		struct authc_reply r;
		const char *error = NULL;
		size_t len = c->len != 0 ? c->len : strlen(c->line);

		memcpy(line, c->line, len);
		line[len] = '\n';
		int got = authc_line_parse(line, len, args, ARGS_MAX, &r, &error);
		if (got != c->ret)
			fail_msg("%s: got ret %d, want %d (%s)", c->name, got, c->ret,
				 error != NULL ? error : "");
		if (got < 0) {
			if (error == NULL)
				fail_msg("%s: no error text", c->name);
			continue;
		}
		if (r.type != c->type || r.has_id != c->has_id || (c->has_id && r.id != c->id))
			fail_msg("%s: got type %d has_id %d id %u, want %d %d %u", c->name,
				 r.type, r.has_id, r.id, c->type, c->has_id, c->id);
		if (r.field_count != c->field_count)
			fail_msg("%s: got %zu fields, want %zu", c->name, r.field_count,
				 c->field_count);
		for (size_t f = 0; f < c->field_count; f++) {
			size_t wl = c->field_lens[f] != 0 ? c->field_lens[f] : strlen(c->fields[f]);
			if (r.fields[f].len != wl || memcmp(r.fields[f].s, c->fields[f], wl) != 0 ||
			    r.fields[f].s[wl] != '\0')
				fail_msg("%s: field %zu got %.*s (%zu), want %s (%zu)", c->name, f,
					 (int)r.fields[f].len, r.fields[f].s, r.fields[f].len,
					 c->fields[f], wl);
		}
	}
}

static void test_field_find(void **state)
{
	(void)state;
	struct authc_str fields[] = { { "nologin", 7 }, { "reason=x=y", 10 }, { "reasonable=1", 12 } };
	struct authc_str v;
	assert_int_equal(authc_field_find(fields, 3, "reason", &v), 1);
	if (v.len != 3 || memcmp(v.s, "x=y", 3) != 0)
		fail_msg("reason: got %.*s, want x=y", (int)v.len, v.s);
	assert_int_equal(authc_field_find(fields, 3, "nologin", &v), 0);
	assert_int_equal(authc_field_find(fields, 3, "reasonab", &v), 0);
}

/* ---- handshake parsing -------------------------------------------------- */

#define HS_LINES_MAX 80
struct hs_case {
	const char *name;
	enum authc_kind kind;
	const char *lines[HS_LINES_MAX];   /* NULL-terminated */
	enum authc_hs_status want;         /* status after the last line */
	const char *error_part;            /* substring of the error text */
};

#define CLIENT_GREETING_HEAD "VERSION\t1\t2", "MECH\tPLAIN\tplaintext", \
	"MECH\tDIGEST-MD5\tdictionary\tactive\tmutual-auth", "MECH\tAPOP\tprivate\tdictionary\tactive"
#define CLIENT_GREETING_TAIL "SPID\t16557", "CUID\t5", "COOKIE\t38d502208d72fcfc29e154d5ec4eefe3"

static const struct hs_case hs_cases[] = {
	{ .name = "dovecot client greeting", .kind = AUTHC_KIND_CLIENT,
	  .lines = { CLIENT_GREETING_HEAD, CLIENT_GREETING_TAIL, "DONE" }, .want = AUTHC_HS_DONE },
	{ .name = "unknown lines ignored", .kind = AUTHC_KIND_CLIENT,
	  .lines = { CLIENT_GREETING_HEAD, "FUTURE\tthing", CLIENT_GREETING_TAIL, "DONE" },
	  .want = AUTHC_HS_DONE },
	{ .name = "no DONE yet", .kind = AUTHC_KIND_CLIENT,
	  .lines = { CLIENT_GREETING_HEAD, CLIENT_GREETING_TAIL }, .want = AUTHC_HS_MORE },
	{ .name = "bad major", .kind = AUTHC_KIND_CLIENT, .lines = { "VERSION\t2\t0" },
	  .want = AUTHC_HS_ERROR, .error_part = "not compatible" },
	{ .name = "bare VERSION", .kind = AUTHC_KIND_CLIENT, .lines = { "VERSION" },
	  .want = AUTHC_HS_ERROR, .error_part = "not compatible" },
	{ .name = "no VERSION first", .kind = AUTHC_KIND_CLIENT, .lines = { "MECH\tPLAIN" },
	  .want = AUTHC_HS_ERROR, .error_part = "VERSION" },
	{ .name = "master greeting on client", .kind = AUTHC_KIND_CLIENT,
	  .lines = { "VERSION\t1\t1", "SPID\t16557" }, .want = AUTHC_HS_WRONG_SOCKET },
	{ .name = "DONE without mechanisms", .kind = AUTHC_KIND_CLIENT,
	  .lines = { "VERSION\t1\t2", "COOKIE\t38d502208d72fcfc29e154d5ec4eefe3", "DONE" },
	  .want = AUTHC_HS_ERROR, .error_part = "no mechanisms" },
	{ .name = "DONE without cookie", .kind = AUTHC_KIND_CLIENT,
	  .lines = { "VERSION\t1\t2", "MECH\tPLAIN", "SPID\t1", "DONE" },
	  .want = AUTHC_HS_ERROR, .error_part = "cookie" },
	{ .name = "broken cookie", .kind = AUTHC_KIND_CLIENT,
	  .lines = { "VERSION\t1\t2", "MECH\tPLAIN", "COOKIE\txyz" },
	  .want = AUTHC_HS_ERROR, .error_part = "COOKIE" },
	{ .name = "broken SPID", .kind = AUTHC_KIND_CLIENT,
	  .lines = { "VERSION\t1\t2", "MECH\tPLAIN", "SPID\tabc" },
	  .want = AUTHC_HS_ERROR, .error_part = "PID" },
	{ .name = "empty MECH", .kind = AUTHC_KIND_CLIENT, .lines = { "VERSION\t1\t2", "MECH" },
	  .want = AUTHC_HS_ERROR, .error_part = "MECH" },
	{ .name = "reply inside handshake", .kind = AUTHC_KIND_CLIENT,
	  .lines = { "VERSION\t1\t2", "OK\t1\tuser=x" }, .want = AUTHC_HS_ERROR,
	  .error_part = "before the handshake" },
	{ .name = "VERSION twice", .kind = AUTHC_KIND_CLIENT,
	  .lines = { "VERSION\t1\t2", "VERSION\t1\t2" }, .want = AUTHC_HS_ERROR,
	  .error_part = "twice" },
	{ .name = "master greeting", .kind = AUTHC_KIND_MASTER,
	  .lines = { "VERSION\t1\t1", "SPID\t16557" }, .want = AUTHC_HS_DONE },
	{ .name = "master bare VERSION major", .kind = AUTHC_KIND_MASTER,
	  .lines = { "VERSION\t1", "SPID\t16557" }, .want = AUTHC_HS_DONE },
	{ .name = "master bad major", .kind = AUTHC_KIND_MASTER, .lines = { "VERSION\t3\t1" },
	  .want = AUTHC_HS_ERROR, .error_part = "version mismatch" },
	{ .name = "client greeting on master", .kind = AUTHC_KIND_MASTER,
	  .lines = { "VERSION\t1\t2", "MECH\tPLAIN\tplaintext" }, .want = AUTHC_HS_WRONG_SOCKET },
	{ .name = "CUID on master", .kind = AUTHC_KIND_MASTER,
	  .lines = { "VERSION\t1\t2", "CUID\t1" }, .want = AUTHC_HS_WRONG_SOCKET },
};

static enum authc_hs_status feed_lines(struct authc_handshake *hs, const char *const *lines,
				       const char **error_r)
{
	enum authc_hs_status st = AUTHC_HS_MORE;
	for (size_t i = 0; lines[i] != NULL; i++) {
		uint8_t line[LINE_MAX_TEST];
		struct authc_str args[ARGS_MAX];
		struct authc_reply r;
		size_t len = strlen(lines[i]);
		memcpy(line, lines[i], len + 1);
		assert_int_equal(authc_line_parse(line, len, args, ARGS_MAX, &r, error_r), 1);
		st = authc_handshake_feed(hs, &r, error_r);
		if (st != AUTHC_HS_MORE)
			return st;
	}
	return st;
}

static void test_handshake_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hs_cases) / sizeof(hs_cases[0]); i++) {
		const struct hs_case *c = &hs_cases[i];
		struct authc_handshake hs;
		const char *error = "";
		authc_handshake_init(&hs, c->kind);
		enum authc_hs_status got = feed_lines(&hs, c->lines, &error);
		if (got != c->want)
			fail_msg("%s: got status %d, want %d (%s)", c->name, got, c->want, error);
		if (c->error_part != NULL && strstr(error, c->error_part) == NULL)
			fail_msg("%s: error %s does not mention %s", c->name, error, c->error_part);
	}
}

static void test_handshake_values(void **state)
{
	(void)state;
	const char *lines[] = { CLIENT_GREETING_HEAD, CLIENT_GREETING_TAIL, "DONE", NULL };
	struct authc_handshake hs;
	const char *error = "";

	authc_handshake_init(&hs, AUTHC_KIND_CLIENT);
	assert_int_equal(feed_lines(&hs, lines, &error), AUTHC_HS_DONE);
	assert_int_equal(hs.major, 1);
	assert_int_equal(hs.minor, 2);
	assert_int_equal(hs.spid, 16557);
	assert_int_equal(hs.cuid, 5);
	assert_string_equal(hs.cookie, "38d502208d72fcfc29e154d5ec4eefe3");
	assert_int_equal(hs.mech_count, 3);
	const struct authc_mech *m = authc_handshake_find_mech(&hs, "digest-md5");
	assert_non_null(m);
	unsigned int want = AUTHC_MECH_DICTIONARY | AUTHC_MECH_ACTIVE | AUTHC_MECH_MUTUAL_AUTH;
	if (m->flags != want)
		fail_msg("DIGEST-MD5 flags: got %#x, want %#x", m->flags, want);
	m = authc_handshake_find_mech(&hs, "APOP");
	assert_true(m != NULL && (m->flags & AUTHC_MECH_PRIVATE) != 0);
	assert_null(authc_handshake_find_mech(&hs, "CRAM-MD5"));
}

static void test_handshake_too_many_mechs(void **state)
{
	(void)state;
	struct authc_handshake hs;
	const char *error = "";
	const char *v[] = { "VERSION\t1\t2", NULL };
	authc_handshake_init(&hs, AUTHC_KIND_CLIENT);
	assert_int_equal(feed_lines(&hs, v, &error), AUTHC_HS_MORE);
	enum authc_hs_status st = AUTHC_HS_MORE;
	for (unsigned int i = 0; i <= AUTHC_MECHS_MAX && st == AUTHC_HS_MORE; i++) {
		char name[32];
		snprintf(name, sizeof(name), "MECH\tX%u", i);
		const char *l[] = { name, NULL };
		st = feed_lines(&hs, l, &error);
	}
	if (st != AUTHC_HS_ERROR || hs.mech_count != AUTHC_MECHS_MAX)
		fail_msg("got status %d with %zu mechs, want error at %u", st, hs.mech_count,
			 AUTHC_MECHS_MAX);
}

/* ---- fake server -------------------------------------------------------- */

struct fake_server {
	char dir[64];
	char path[96];
	int listen_fd;
	pthread_t thread;
	const char *greeting;     /* sent on accept */
	size_t greeting_len;      /* 0 = strlen */
	unsigned int wait_lines;  /* LFs to receive before sending reply */
	const char *reply;        /* may be NULL */
	size_t reply_len;         /* 0 = strlen */
	bool hold_open;           /* keep the connection until the client closes */
	char received[FAKE_RECV_MAX];
	size_t received_len;
};

static void send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static unsigned int count_lf(const char *p, size_t len)
{
	unsigned int n = 0;
	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

static void *fake_main(void *arg)
{
	struct fake_server *f = arg;
	int fd = accept(f->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (f->greeting != NULL)
		send_all(fd, f->greeting, f->greeting_len != 0 ? f->greeting_len :
			 strlen(f->greeting));
	while (count_lf(f->received, f->received_len) < f->wait_lines &&
	       f->received_len < sizeof(f->received)) {
		ssize_t n = recv(fd, f->received + f->received_len,
				 sizeof(f->received) - f->received_len, 0);
		if (n <= 0)
			break;
		f->received_len += (size_t)n;
	}
	if (f->reply != NULL)
		send_all(fd, f->reply, f->reply_len != 0 ? f->reply_len : strlen(f->reply));
	while (f->hold_open && f->received_len < sizeof(f->received)) {
		ssize_t n = recv(fd, f->received + f->received_len,
				 sizeof(f->received) - f->received_len, 0);
		if (n <= 0)
			break;
		f->received_len += (size_t)n;
	}
	close(fd);
	return NULL;
}

static void fake_start(struct fake_server *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_authc.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->listen_fd, 4), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

/* Joins the thread (the client must have closed or the script ended). */
static void fake_stop(struct fake_server *f)
{
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	unlink(f->path);
	rmdir(f->dir);
}

static void assert_received(const struct fake_server *f, const char *want, size_t want_len)
{
	if (f->received_len != want_len || memcmp(f->received, want, want_len) != 0)
		fail_msg("server got %zu bytes: %.*s\nwant %zu bytes: %.*s", f->received_len,
			 (int)f->received_len, f->received, want_len, (int)want_len, want);
}

#define CLIENT_GREETING "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\n" \
	"SPID\t42\nCUID\t7\nCOOKIE\t0123456789abcdef0123456789abcdef\nDONE\n"
#define MASTER_GREETING "VERSION\t1\t1\nSPID\t42\n"
#define TIMEOUT_MSECS 5000
#define SHORT_TIMEOUT_MSECS 200

static void test_conn_auth_plain(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = CLIENT_GREETING, .wait_lines = 3,
				 .reply = "OK\t1\tuser=alice\t\n", .hold_open = true };
	struct buf msg = BUF_INIT(0);
	struct authc_reply r;
	const char *error = "";
	const char *params[] = { "debug", "foo=a\tb", NULL };
	uint32_t id = 0;

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_CLIENT, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_handshake_wait(conn, &error), 1);
	const struct authc_handshake *hs = authc_conn_handshake(conn);
	assert_int_equal(hs->mech_count, 2);
	assert_int_equal(hs->spid, 42);
	assert_int_equal(authc_plain_message(&msg, "alice", "alice",
					     (const uint8_t *)"pw", 2), 0);
	struct authc_auth_request req = { .mech = "PLAIN", .service = "doveadm",
		.params = params, .has_initial_response = true,
		.initial_response = msg.data, .initial_response_len = msg.len };
	assert_int_equal(authc_auth_send(conn, &req, &id, &error), 1);
	buf_free(&msg);
	assert_int_equal(id, 1);
	if (authc_wait_reply(conn, id, &r, &error) != 1)
		fail_msg("wait_reply: %s", error);
	assert_int_equal(r.type, AUTHC_REPLY_OK);
	assert_int_equal(r.field_count, 2);
	assert_string_equal(r.fields[0].s, "user=alice");
	authc_conn_destroy(&conn);
	assert_null(conn);
	fake_stop(&f);

	char want[256];
	int n = snprintf(want, sizeof(want), "VERSION\t1\t2\nCPID\t%ld\nAUTH\t1\tPLAIN\t"
			 "service=doveadm\tdebug\tfoo=a\x01tb\tresp=YWxpY2UAYWxpY2UAcHc=\n",
			 (long)getpid());
	assert_received(&f, want, (size_t)n);
}

static void test_conn_no_done_eof(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = "VERSION\t1\t2\nMECH\tPLAIN\nSPID\t1\n",
				 .wait_lines = 2 };
	const char *error = "";

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_CLIENT, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_handshake_wait(conn, &error), -1);
	if (strstr(error, "Disconnected") == NULL)
		fail_msg("got error %s, want a disconnect", error);
	assert_false(authc_conn_connect_failed(conn));
	authc_conn_destroy(&conn);
	fake_stop(&f);
}

static void test_conn_no_done_timeout(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = "VERSION\t1\t2\nMECH\tPLAIN\n", .hold_open = true };
	const char *error = "";

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_CLIENT,
						    SHORT_TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_handshake_wait(conn, &error), -1);
	if (strstr(error, "Timeout") == NULL)
		fail_msg("got error %s, want a timeout", error);
	authc_conn_destroy(&conn);
	fake_stop(&f);
}

static void test_conn_bad_version(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = "VERSION\t2\t0\nMECH\tPLAIN\n", .hold_open = true };
	const char *error = "";

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_CLIENT, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_handshake_wait(conn, &error), -1);
	if (strstr(error, "not compatible") == NULL)
		fail_msg("got error %s, want lib-auth's version text", error);
	authc_conn_destroy(&conn);
	fake_stop(&f);
}

/* A line that fills the whole input buffer without LF is refused; one byte
 * less (16383 + LF) is accepted. */
static void overlong_case(size_t line_len, int want)
{
	size_t total = strlen("VERSION\t1\t2\nX\t") + line_len + 1 + 128;
	char *greeting = malloc(total);
	struct fake_server f = { .greeting = greeting, .hold_open = true };
	const char *error = "";
	size_t off = (size_t)sprintf(greeting, "VERSION\t1\t2\nX\t");
	memset(greeting + off, 'a', line_len - 2);
	off += line_len - 2;
	off += (size_t)sprintf(greeting + off, "\nMECH\tPLAIN\n"
			       "COOKIE\t0123456789abcdef0123456789abcdef\nDONE\n");
	f.greeting_len = off;

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_CLIENT, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	int got = authc_handshake_wait(conn, &error);
	if (got != want)
		fail_msg("line of %zu bytes: got %d (%s), want %d", line_len, got, error, want);
	if (want < 0 && strstr(error, "more than 16384 bytes") == NULL)
		fail_msg("line of %zu bytes: error %s", line_len, error);
	authc_conn_destroy(&conn);
	fake_stop(&f);
	free(greeting);
}

static void test_conn_overlong_line(void **state)
{
	(void)state;
	overlong_case(AUTHC_CLIENT_IN_MAX - 1, 1);
	overlong_case(AUTHC_CLIENT_IN_MAX, -1);
}

static void test_conn_master_user(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = MASTER_GREETING, .wait_lines = 2,
		.reply = "USER\t1\talice\tuid=1000\thome=/home/a\x01tb\n", .hold_open = true };
	struct authc_reply r;
	const char *error = "";
	const char *params[] = { "rip=1.2.3.4", NULL };
	uint32_t id;

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_MASTER, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_master_send(conn, AUTHC_MASTER_USER, "alice", "doveadm",
					   params, &id, &error), 1);
	if (authc_wait_reply(conn, id, &r, &error) != 1)
		fail_msg("wait_reply: %s", error);
	assert_int_equal(r.type, AUTHC_REPLY_USER);
	assert_int_equal(r.field_count, 3);
	assert_string_equal(r.fields[0].s, "alice");
	assert_string_equal(r.fields[2].s, "home=/home/a\tb");
	assert_true(authc_conn_handshake(conn)->done);
	authc_conn_destroy(&conn);
	fake_stop(&f);
	const char want[] = "VERSION\t1\t0\nUSER\t1\talice\tservice=doveadm\trip=1.2.3.4\n";
	assert_received(&f, want, sizeof(want) - 1);
}

static void test_conn_master_list(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = MASTER_GREETING, .wait_lines = 2,
		.reply = "LIST\t1\talice\nLIST\t1\tb\x01tob\nDONE\t1\t\n", .hold_open = true };
	struct authc_reply r;
	const char *error = "";
	const char *want_names[] = { "alice", "b\tob" };
	uint32_t id;

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_MASTER, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_master_send(conn, AUTHC_MASTER_LIST, "a*", "doveadm", NULL,
					   &id, &error), 1);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(authc_wait_reply(conn, id, &r, &error), 1);
		assert_int_equal(r.type, AUTHC_REPLY_LIST);
		assert_string_equal(r.fields[0].s, want_names[i]);
	}
	assert_int_equal(authc_wait_reply(conn, id, &r, &error), 1);
	assert_int_equal(r.type, AUTHC_REPLY_DONE);
	authc_conn_destroy(&conn);
	fake_stop(&f);
	const char want[] = "VERSION\t1\t0\nLIST\t1\tuser=a*\tservice=doveadm\n";
	assert_received(&f, want, sizeof(want) - 1);
}

static void test_conn_master_on_client_socket(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = CLIENT_GREETING, .hold_open = true };
	struct authc_reply r;
	const char *error = "";
	uint32_t id;

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_MASTER, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_master_send(conn, AUTHC_MASTER_PASS, "alice", "doveadm", NULL,
					   &id, &error), 1);
	assert_int_equal(authc_wait_reply(conn, id, &r, &error), -1);
	if (strstr(error, "is an auth client socket. It should be a master socket.") == NULL)
		fail_msg("got error %s", error);
	authc_conn_destroy(&conn);
	fake_stop(&f);
}

static void test_conn_client_on_master_socket(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = MASTER_GREETING, .hold_open = true };
	const char *error = "";

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_CLIENT, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_handshake_wait(conn, &error), -1);
	if (strstr(error, "is an auth master socket") == NULL)
		fail_msg("got error %s", error);
	authc_conn_destroy(&conn);
	fake_stop(&f);
}

static void test_conn_unexpected_id(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = MASTER_GREETING, .wait_lines = 2,
				 .reply = "USER\t7\talice\n", .hold_open = true };
	struct authc_reply r;
	const char *error = "";
	uint32_t id;

	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_MASTER, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_master_send(conn, AUTHC_MASTER_USER, "alice", "x", NULL, &id,
					   &error), 1);
	assert_int_equal(authc_wait_reply(conn, id, &r, &error), -1);
	if (strstr(error, "Unexpected input: USER\\x097\\x09alice") == NULL)
		fail_msg("got error %s", error);
	authc_conn_destroy(&conn);
	fake_stop(&f);
}

static void test_conn_request_limits(void **state)
{
	(void)state;
	struct fake_server f = { .greeting = MASTER_GREETING, .hold_open = true };
	char user[AUTHC_MASTER_REQUEST_MAX + 1];
	const char *error = "";
	uint32_t id;

	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	fake_start(&f);
	struct authc_conn *conn = authc_conn_create(f.path, AUTHC_KIND_MASTER, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), 1);
	assert_int_equal(authc_master_send(conn, AUTHC_MASTER_USER, user, "doveadm", NULL,
					   &id, &error), -1);
	if (strstr(error, "longer than the server accepts") == NULL)
		fail_msg("got error %s", error);
	/* the longest line the server takes: "USER\t2\t" + name + "\tservice=x" */
	user[AUTHC_MASTER_REQUEST_MAX - strlen("USER\t2\t\tservice=x")] = '\0';
	assert_int_equal(authc_master_queue(conn, AUTHC_MASTER_USER, user, "x", NULL, &id,
					    &error), 1);
	authc_conn_destroy(&conn);
	fake_stop(&f);
	/* nothing of the refused request was sent, and the second never flushed */
	assert_received(&f, "", 0);
}

static void test_conn_connect_failure(void **state)
{
	(void)state;
	const char *error = "";
	struct authc_conn *conn = authc_conn_create("/nonexistent/authc-test/sock",
						    AUTHC_KIND_CLIENT, TIMEOUT_MSECS);
	assert_int_equal(authc_connect(conn, &error), -1);
	assert_true(authc_conn_connect_failed(conn));
	assert_string_equal(error, "connect(/nonexistent/authc-test/sock) failed: "
			    "No such file or directory");
	authc_conn_destroy(&conn);
}

/* ---- authctl wildcard matching ------------------------------------------ */

struct wild_case {
	const char *data, *mask;
	bool want;
};

static const struct wild_case wild_cases[] = {
	{ .data = "alice", .mask = "*", .want = true },
	{ .data = "", .mask = "*", .want = true },
	{ .data = "", .mask = "**", .want = true },
	{ .data = "", .mask = "?", .want = false },
	{ .data = "alice", .mask = "a*", .want = true },
	{ .data = "ALICE", .mask = "a*e", .want = true },
	{ .data = "alice", .mask = "A*", .want = true },
	{ .data = "bob", .mask = "?ob", .want = true },
	{ .data = "bob", .mask = "??", .want = false },
	{ .data = "bob", .mask = "b?b?", .want = false },
	{ .data = "dave@example.com", .mask = "*@example.com", .want = true },
	{ .data = "dave@example.co", .mask = "*@example.com", .want = false },
	{ .data = "aXbXc", .mask = "*X*X*", .want = true },
	{ .data = "abcabd", .mask = "*abd", .want = true },
	{ .data = "alice", .mask = "alice", .want = true },
	{ .data = "alice", .mask = "alic", .want = false },
	{ .data = "alice", .mask = "alice*", .want = true },
	{ .data = "mississippi", .mask = "m*iss*ppi", .want = true },
	{ .data = "mississippi", .mask = "m*iss*ppx", .want = false },
};

static void test_wildcard(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(wild_cases) / sizeof(wild_cases[0]); i++) {
		const struct wild_case *c = &wild_cases[i];
		bool got = authctl_wildcard_match(c->data, strlen(c->data), c->mask);
		if (got != c->want)
			fail_msg("match(%s, %s): got %d, want %d", c->data, c->mask, got, c->want);
	}
}

static void test_plain_message(void **state)
{
	(void)state;
	struct buf b = BUF_INIT(0);
	assert_int_equal(authc_plain_message(&b, "alice", "admin", (const uint8_t *)"p\0w", 3), 0);
	const char want[] = "alice\0admin\0p\0w";
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.data, want, sizeof(want) - 1);
	buf_free(&b);
	struct buf small = BUF_INIT(4);
	assert_int_equal(authc_plain_message(&small, "alice", "alice", (const uint8_t *)"x", 1), -1);
	buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_parse),
		cmocka_unit_test(test_field_find),
		cmocka_unit_test(test_handshake_cases),
		cmocka_unit_test(test_handshake_values),
		cmocka_unit_test(test_handshake_too_many_mechs),
		cmocka_unit_test(test_conn_auth_plain),
		cmocka_unit_test(test_conn_no_done_eof),
		cmocka_unit_test(test_conn_no_done_timeout),
		cmocka_unit_test(test_conn_bad_version),
		cmocka_unit_test(test_conn_overlong_line),
		cmocka_unit_test(test_conn_master_user),
		cmocka_unit_test(test_conn_master_list),
		cmocka_unit_test(test_conn_master_on_client_socket),
		cmocka_unit_test(test_conn_client_on_master_socket),
		cmocka_unit_test(test_conn_unexpected_id),
		cmocka_unit_test(test_conn_request_limits),
		cmocka_unit_test(test_conn_connect_failure),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_plain_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
