/* test_conn: the bounded line reader and write queue (authd/conn.h) over a
 * socketpair and a real event loop: LF framing and the CR rule, the
 * max_line boundary, pipelined and partial lines, pause/resume, EOF after
 * a full line, output throttling and on_closed called once. */
#include "authd/conn.h"
#include "authd/event.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_LINES 32
#define LINE_COPY_MAX 64
#define SMALL_MAX_LINE 16u
#define SETTLE_MS 5u          /* loop time after each write */
#define WAIT_MS 3000u         /* upper bound for run_until */

struct tconn {
	struct conn conn;
	struct event_loop *loop;
	int peer;                          /* the test's end of the socketpair */
	char lines[MAX_LINES][LINE_COPY_MAX];
	size_t line_lens[MAX_LINES];
	size_t line_count;
	int closed_calls;
	int drained_calls;
	/* behaviour of the line handler */
	const char *pause_on;              /* pause after this line */
	const char *fail_on;               /* return -1 on this line */
	const char *write_on;              /* reply with write_len bytes on this line */
	size_t write_len;
	/* run_until */
	struct event_timer poll, deadline;
	bool (*until)(struct tconn *t);
	bool timed_out;
	bool drain_peer;                   /* poll timer reads everything from peer */
	size_t peer_read;
};

static bool line_is(const uint8_t *line, size_t len, const char *word)
{
	return word != NULL && len == strlen(word) && memcmp(line, word, len) == 0;
}

static int tconn_line(struct conn *conn, uint8_t *line, size_t len)
{
	struct tconn *t = conn->ctx;
	if (t->line_count < MAX_LINES) {
		size_t n = len < LINE_COPY_MAX ? len : LINE_COPY_MAX;
		memcpy(t->lines[t->line_count], line, n);
		t->line_lens[t->line_count++] = len;
	}
	if (line_is(line, len, t->pause_on))
		conn_pause(conn);
	if (line_is(line, len, t->write_on)) {
		uint8_t *big = malloc(t->write_len);
		assert_non_null(big);
		memset(big, 'r', t->write_len);
		conn_write(conn, big, t->write_len);
		free(big);
	}
	return line_is(line, len, t->fail_on) ? -1 : 0;
}

static void tconn_closed(struct conn *conn)
{
	struct tconn *t = conn->ctx;
	t->closed_calls++;
}

static void tconn_drained(struct conn *conn)
{
	struct tconn *t = conn->ctx;
	t->drained_calls++;
}

static void peer_drain(struct tconn *t)
{
	char tmp[65536];
	ssize_t n;
	while ((n = read(t->peer, tmp, sizeof(tmp))) > 0)
		t->peer_read += (size_t)n;
}

static void poll_fn(struct event_timer *timer)
{
	struct tconn *t = timer->ctx;
	if (t->drain_peer)
		peer_drain(t);
	if (t->until != NULL && t->until(t)) {
		event_loop_stop(t->loop);
		return;
	}
	event_timer_add(t->loop, &t->poll, 1);
}

static void deadline_fn(struct event_timer *timer)
{
	struct tconn *t = timer->ctx;
	t->timed_out = true;
	event_loop_stop(t->loop);
}

/* Runs the loop until until(t) holds (checked every ms) or ms pass.
 * Returns true if the condition was met (or until is NULL). */
static bool run_until(struct tconn *t, bool (*until)(struct tconn *t), unsigned int ms)
{
	t->until = until;
	t->timed_out = false;
	event_timer_add(t->loop, &t->poll, 0);
	event_timer_add(t->loop, &t->deadline, ms);
	assert_int_equal(event_loop_run(t->loop), 0);
	event_timer_cancel(t->loop, &t->poll);
	event_timer_cancel(t->loop, &t->deadline);
	t->until = NULL;
	return until == NULL || !t->timed_out;
}

static void settle(struct tconn *t)
{
	run_until(t, NULL, SETTLE_MS);
}

static struct tconn *tconn_new(size_t max_line)
{
	struct tconn *t = calloc(1, sizeof(*t));
	int sv[2];
	assert_non_null(t);
	t->loop = event_loop_create();
	assert_non_null(t->loop);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	t->peer = sv[1];
	assert_int_equal(fcntl(t->peer, F_SETFL, O_NONBLOCK), 0);
	t->poll = (struct event_timer){ .fn = poll_fn, .ctx = t };
	t->deadline = (struct event_timer){ .fn = deadline_fn, .ctx = t };
	assert_int_equal(conn_init(&t->conn, t->loop, sv[0], max_line, tconn_line, tconn_closed, t),
			 0);
	t->conn.on_drained = tconn_drained;
	return t;
}

static void tconn_free(struct tconn *t)
{
	conn_close(&t->conn);
	event_loop_run_deferred(t->loop);
	conn_free(&t->conn);
	if (t->peer >= 0)
		close(t->peer);
	event_loop_destroy(&t->loop);
	free(t);
}

static void peer_write(struct tconn *t, const void *data, size_t len)
{
	assert_int_equal(write(t->peer, data, len), (ssize_t)len);
}

static void peer_close(struct tconn *t)
{
	close(t->peer);
	t->peer = -1;
}

/* got/want of the recorded lines against a NULL-terminated list */
static bool lines_are(const struct tconn *t, const char *const *want, const size_t *want_lens,
		      const char *name)
{
	size_t n = 0;
	while (want[n] != NULL)
		n++;
	bool ok = t->line_count == n;
	for (size_t i = 0; ok && i < n; i++) {
		size_t wl = want_lens != NULL && want_lens[i] != 0 ? want_lens[i] : strlen(want[i]);
		size_t cl = wl < LINE_COPY_MAX ? wl : LINE_COPY_MAX;
		ok = t->line_lens[i] == wl && memcmp(t->lines[i], want[i], cl) == 0;
	}
	if (!ok) {
		print_error("%s: got %zu lines:", name, t->line_count);
		for (size_t i = 0; i < t->line_count; i++)
			print_error(" [%.*s](%zu)", (int)(t->line_lens[i] < LINE_COPY_MAX ?
							  t->line_lens[i] : LINE_COPY_MAX),
				    t->lines[i], t->line_lens[i]);
		print_error("; want %zu:", n);
		for (size_t i = 0; i < n; i++)
			print_error(" [%s]", want[i]);
		print_error("\n");
	}
	return ok;
}

/* --- framing, table-driven --- */

#define X16 "xxxxxxxxxxxxxxxx"
#define Y16 "yyyyyyyyyyyyyyyy"

struct frame_case {
	const char *name;
	const char *chunks[4];       /* written one at a time, the loop runs between */
	size_t chunk_lens[4];        /* 0: strlen */
	bool eof;                    /* peer closes after the chunks */
	const char *fail_on;
	const char *want[8];
	size_t want_lens[8];         /* 0: strlen */
	bool want_closed;
};

static const struct frame_case frame_cases[] = {
	{ .name = "lines split on LF", .chunks = { "a\nbc\n" }, .want = { "a", "bc" } },
	{ .name = "CR before LF removed", .chunks = { "a\r\nb\n" }, .want = { "a", "b" } },
	{ .name = "only one CR removed", .chunks = { "a\r\r\n" }, .want = { "a\r" } },
	{ .name = "lone CR is data", .chunks = { "a\rb\n" }, .want = { "a\rb" } },
	{ .name = "empty line delivered", .chunks = { "\n\r\n" }, .want = { "", "" } },
	{ .name = "NUL kept", .chunks = { "a\0b\n" }, .chunk_lens = { 4 }, .want = { "a\0b" },
	  .want_lens = { 3 } },
	{ .name = "exactly max_line accepted", .chunks = { X16 "\n" }, .want = { X16 } },
	{ .name = "max_line in two writes", .chunks = { "xxxxxxxxxx", "xxxxxx\n" },
	  .want = { X16 } },
	{ .name = "max_line + 1 closes", .chunks = { X16 "x\n" }, .want_closed = true },
	{ .name = "max_line + 1 without LF closes", .chunks = { X16 "x" }, .want_closed = true },
	{ .name = "max_line + CR + LF closes", .chunks = { X16 "\r\n" }, .want_closed = true },
	{ .name = "max_line + 1 across writes closes", .chunks = { "xxxxxxxxxx", "xxxxxxx" },
	  .want_closed = true },
	{ .name = "good line then too long", .chunks = { "ok\n" X16 "x\n" }, .want = { "ok" },
	  .want_closed = true },
	{ .name = "pipelined in one write", .chunks = { "a\nb\nc\n" }, .want = { "a", "b", "c" } },
	{ .name = "pipelined longer than max_line in total",
	  .chunks = { "xxxxxxxxxx\n" Y16 "\nz\n" }, .want = { "xxxxxxxxxx", Y16, "z" } },
	{ .name = "partial lines across writes", .chunks = { "ab", "c\nd", "e\n", "f" },
	  .want = { "abc", "de" } },
	{ .name = "CR and LF in separate writes", .chunks = { "abc\r", "\n" }, .want = { "abc" } },
	{ .name = "EOF after a full line delivers it", .chunks = { "a\nb\n" }, .eof = true,
	  .want = { "a", "b" }, .want_closed = true },
	{ .name = "EOF drops a partial line", .chunks = { "a\nb" }, .eof = true, .want = { "a" },
	  .want_closed = true },
	{ .name = "EOF without data", .eof = true, .want_closed = true },
	{ .name = "handler -1 closes, later lines dropped", .chunks = { "a\nquit\nb\n" },
	  .fail_on = "quit", .want = { "a", "quit" }, .want_closed = true },
};

static void test_framing(void **state)
{
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(frame_cases); i++) {
		const struct frame_case *c = &frame_cases[i];
		struct tconn *t = tconn_new(SMALL_MAX_LINE);
		t->fail_on = c->fail_on;
		for (size_t j = 0; j < N_ELEMS(c->chunks) && c->chunks[j] != NULL; j++) {
			size_t len = c->chunk_lens[j] != 0 ? c->chunk_lens[j] : strlen(c->chunks[j]);
			peer_write(t, c->chunks[j], len);
			settle(t);
		}
		if (c->eof) {
			peer_close(t);
			settle(t);
		}
		ok &= lines_are(t, c->want, c->want_lens, c->name);
		int want_calls = c->want_closed ? 1 : 0;
		if (t->conn.closed != c->want_closed || t->closed_calls != want_calls) {
			print_error("%s: got closed %d (on_closed %d calls), want %d (%d)\n", c->name,
				    t->conn.closed, t->closed_calls, c->want_closed, want_calls);
			ok = false;
		}
		tconn_free(t);
	}
	if (!ok)
		fail();
}

/* --- pause / resume --- */

static bool have_4_lines(struct tconn *t)
{
	return t->line_count >= 4;
}

static void test_pause_resume_keeps_lines(void **state)
{
	struct tconn *t = tconn_new(SMALL_MAX_LINE);
	(void)state;
	t->pause_on = "p";
	peer_write(t, "a\np\nb\n", 6);
	settle(t);
	static const char *const want1[] = { "a", "p", NULL };
	assert_true(lines_are(t, want1, NULL, "paused"));
	assert_true(t->conn.paused);
	/* more input while paused is not lost either */
	peer_write(t, "c\n", 2);
	settle(t);
	assert_true(lines_are(t, want1, NULL, "still paused"));
	/* resumed outside a line callback: buffered lines come without new input */
	conn_resume(&t->conn);
	assert_true(run_until(t, have_4_lines, WAIT_MS));
	static const char *const want2[] = { "a", "p", "b", "c", NULL };
	assert_true(lines_are(t, want2, NULL, "resumed"));
	assert_false(t->conn.closed);
	tconn_free(t);
}

static void test_pause_resume_buffered_only(void **state)
{
	/* everything arrived in one write before the pause: after resume no
	 * EPOLLIN comes, the deferred resume must deliver them */
	struct tconn *t = tconn_new(SMALL_MAX_LINE);
	(void)state;
	t->pause_on = "p";
	peer_write(t, "p\nb\nc\nd\n", 8);
	settle(t);
	assert_int_equal(t->line_count, 1);
	conn_resume(&t->conn);
	assert_true(run_until(t, have_4_lines, WAIT_MS));
	static const char *const want[] = { "p", "b", "c", "d", NULL };
	assert_true(lines_are(t, want, NULL, "buffered"));
	tconn_free(t);
}

static void test_resume_after_close_is_noop(void **state)
{
	struct tconn *t = tconn_new(SMALL_MAX_LINE);
	(void)state;
	t->pause_on = "p";
	peer_write(t, "p\nb\n", 4);
	settle(t);
	conn_close(&t->conn);
	conn_resume(&t->conn);
	settle(t);
	assert_int_equal(t->line_count, 1);
	assert_int_equal(t->closed_calls, 1);
	tconn_free(t);
}

/* --- close --- */

static void test_on_closed_once(void **state)
{
	struct tconn *t = tconn_new(SMALL_MAX_LINE);
	(void)state;
	peer_write(t, "a\n", 2);
	settle(t);
	conn_close(&t->conn);
	conn_close(&t->conn);
	peer_close(t);
	settle(t);
	assert_int_equal(t->closed_calls, 1);
	assert_int_equal(t->conn.io.fd, -1);
	assert_int_equal(conn_write(&t->conn, "x", 1), -1);
	tconn_free(t);
	/* tconn_free closes again: still once (checked by ASan/no crash) */
}

static void test_write_reaches_peer(void **state)
{
	struct tconn *t = tconn_new(SMALL_MAX_LINE);
	char got[32];
	(void)state;
	assert_int_equal(conn_write(&t->conn, "OK\t1\n", 5), 0);
	assert_int_equal(conn_write(&t->conn, "", 0), 0);
	/* Writes are batched until the loop turn ends. */
	event_loop_run_deferred(t->loop);
	assert_int_equal(read(t->peer, got, sizeof(got)), 5);
	assert_memory_equal(got, "OK\t1\n", 5);
	assert_int_equal(t->conn.out.len, 0);
	tconn_free(t);
}

/* --- throttling --- */

#define THROTTLE_REPLY (200u * 1024u)

static bool two_lines_and_drained(struct tconn *t)
{
	return t->line_count >= 2 && t->conn.out.len == 0;
}

static void shrink_sndbuf(struct tconn *t)
{
	int sz = 4096;
	assert_int_equal(setsockopt(t->conn.io.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
}

static void test_throttle_stops_and_resumes_reading(void **state)
{
	struct tconn *t = tconn_new(1024);
	(void)state;
	shrink_sndbuf(t);
	t->write_on = "big";
	t->write_len = THROTTLE_REPLY;
	peer_write(t, "big\n", 4);
	settle(t);
	assert_int_equal(t->line_count, 1);
	if (!t->conn.throttled || t->conn.out.len <= CONN_OUT_HIGH) {
		print_error("after a %u byte reply to a peer that doesn't read: got throttled %d "
			    "with %zu queued, want throttled with > %u\n", THROTTLE_REPLY,
			    t->conn.throttled, t->conn.out.len, CONN_OUT_HIGH);
		fail();
	}
	/* reading stops: a new line stays in the socket */
	peer_write(t, "next\n", 5);
	settle(t);
	assert_int_equal(t->line_count, 1);
	assert_int_equal(t->conn.in.len, 0);
	/* the peer drains: the queue empties, reading resumes */
	t->drain_peer = true;
	assert_true(run_until(t, two_lines_and_drained, WAIT_MS));
	static const char *const want[] = { "big", "next", NULL };
	assert_true(lines_are(t, want, NULL, "after drain"));
	assert_false(t->conn.throttled);
	assert_int_equal(t->drained_calls, 1);
	assert_int_equal(t->peer_read, THROTTLE_REPLY);
	assert_false(t->conn.closed);
	tconn_free(t);
}

static void test_throttle_keeps_pipelined_lines(void **state)
{
	/* the second line is already buffered when the first throttles */
	struct tconn *t = tconn_new(1024);
	(void)state;
	shrink_sndbuf(t);
	t->write_on = "big";
	t->write_len = THROTTLE_REPLY;
	peer_write(t, "big\nnext\n", 9);
	settle(t);
	assert_int_equal(t->line_count, 1);
	assert_true(t->conn.throttled);
	t->drain_peer = true;
	assert_true(run_until(t, two_lines_and_drained, WAIT_MS));
	static const char *const want[] = { "big", "next", NULL };
	assert_true(lines_are(t, want, NULL, "pipelined after throttle"));
	tconn_free(t);
}

static void test_out_max_closes(void **state)
{
	struct tconn *t = tconn_new(1024);
	(void)state;
	shrink_sndbuf(t);
	t->write_on = "huge";
	t->write_len = CONN_OUT_MAX + 1;
	peer_write(t, "huge\n", 5);
	settle(t);
	assert_true(t->conn.closed);
	assert_int_equal(t->closed_calls, 1);
	tconn_free(t);
}

/* A write to a peer that is gone fails, but the connection closes from
 * the deferred queue, not inside conn_write: the caller may be half-way
 * through a request that on_closed would release. */
static void test_write_error_closes_later(void **state)
{
	(void)state;
	struct tconn *t = tconn_new(64);
	close(t->peer);
	t->peer = -1;
	assert_int_equal(conn_write(&t->conn, "OK\t1\n", 5), -1);
	assert_int_equal(t->closed_calls, 0);
	assert_false(t->conn.closed);
	assert_int_equal(conn_write(&t->conn, "OK\t2\n", 5), -1);
	event_loop_run_deferred(t->loop);
	assert_true(t->conn.closed);
	assert_int_equal(t->closed_calls, 1);
	tconn_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_error_closes_later),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_pause_resume_keeps_lines),
		cmocka_unit_test(test_pause_resume_buffered_only),
		cmocka_unit_test(test_resume_after_close_is_noop),
		cmocka_unit_test(test_on_closed_once),
		cmocka_unit_test(test_write_reaches_peer),
		cmocka_unit_test(test_throttle_stops_and_resumes_reading),
		cmocka_unit_test(test_throttle_keeps_pipelined_lines),
		cmocka_unit_test(test_out_max_closes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
