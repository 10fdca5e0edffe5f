/* test_worker_pool: the auth process's worker pool (authd/worker_pool.h)
 * against a fake root parent and fake workers played by the test over
 * SOCK_SEQPACKET socketpairs: a job's round trip, auth_worker_max_count and
 * the FIFO queue, a queued job's deadline, a stuck worker killed through
 * the parent, a worker that dies or sends garbage or a reply for another
 * request, the restart flag, SPAWN_FAILED, a malformed control message,
 * reload, and shutdown with a job in flight. */
#include "authd/event.h"
#include "authd/worker_pool.h"
#include "authd/worker_proto.h"
#include "common/buf.h"
#include "common/pool.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define FAKE_WORKERS_MAX 8
#define FAKE_PID_BASE 40000
#define WAIT_MS 2000

struct fake {
	struct event_loop *loop;
	struct worker_pool *pool;
	int parent;                         /* the test's end of the control socket */
	int worker[FAKE_WORKERS_MAX];       /* the test's ends of the workers' sockets */
	size_t nworkers;
	struct event_timer stop;
};

struct test_job {
	struct worker_job job;
	struct fake *f;
	struct pool *pool;
	bool done, ok;
	int32_t result;
	char error[128], field[128];
};

static void fake_stop(struct event_timer *t)
{
	event_loop_stop(t->ctx);
}

static struct fake *fake_new(unsigned int max)
{
	static struct fake f;
	int sv[2];
	memset(&f, 0, sizeof(f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	f.loop = event_loop_create();
	assert_non_null(f.loop);
	f.pool = worker_pool_create(f.loop, sv[0], max);
	assert_non_null(f.pool);
	f.parent = sv[1];
	f.stop = (struct event_timer){ .fn = fake_stop, .ctx = f.loop };
	return &f;
}

static void fake_free(struct fake *f)
{
	worker_pool_destroy(&f->pool);
	event_loop_run_deferred(f->loop);
	close(f->parent);
	for (size_t i = 0; i < f->nworkers; i++)
		if (f->worker[i] >= 0)
			close(f->worker[i]);
	event_loop_destroy(&f->loop);
}

/* Runs the pool's loop for up to ms (a finished job stops it early). */
static void fake_run(struct fake *f, uint64_t ms)
{
	event_timer_add(f->loop, &f->stop, ms);
	event_loop_run(f->loop);
	event_timer_cancel(f->loop, &f->stop);
	event_loop_run_deferred(f->loop);
}

static void fake_run_until(struct fake *f, const bool *flag)
{
	for (int i = 0; i < 50 && !*flag; i++)
		fake_run(f, 100);
	assert_true(*flag);
}

static void job_done(struct worker_job *job, const struct worker_msg *reply, const char *error)
{
	struct test_job *tj = job->ctx;
	tj->done = true;
	tj->ok = reply != NULL;
	if (reply != NULL) {
		tj->result = reply->result;
		if (reply->field_count > 0)
			snprintf(tj->field, sizeof(tj->field), "%s=%s", reply->fields[0].key,
				 reply->fields[0].value != NULL ? reply->fields[0].value : "");
	} else {
		snprintf(tj->error, sizeof(tj->error), "%s", error);
	}
	event_loop_stop(tj->f->loop);
}

static void job_submit(struct fake *f, struct test_job *tj, const char *user, uint64_t ms)
{
	memset(tj, 0, sizeof(*tj));
	tj->f = f;
	tj->job.msg = (struct worker_msg){ .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 1,
					   .has_db_id = true, .driver = "passwd-file", .args = "",
					   .user = user };
	tj->job.done = job_done;
	tj->job.ctx = tj;
	worker_pool_submit(f->pool, &tj->job, event_now_ms(f->loop) + ms);
}

/* --- the fake parent and workers --- */

static void fake_send(int fd, const struct worker_msg *msg, int pass)
{
	struct buf out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	assert_int_equal(worker_msg_encode(msg, &out, &error), 0);
	assert_int_equal(worker_msg_send(fd, out.data, out.len, pass), 0);
	buf_free(&out);
}

/* Next message on fd within ms: 1 decoded into *msg, 0 EOF, -1 nothing. */
static int fake_read(int fd, struct pool *p, struct worker_msg *msg, int ms)
{
	static uint8_t buf[WORKER_MSG_MAX + 1];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	ssize_t n = worker_msg_recv(fd, buf, sizeof(buf), NULL);
	if (n <= 0)
		return n == 0 ? 0 : -1;
	const char *error = NULL;
	assert_int_equal(worker_msg_decode(buf, (size_t)n, p, msg, &error), 0);
	return 1;
}

static uint32_t fake_expect(struct fake *f, enum worker_msg_type type, struct pool *p)
{
	struct worker_msg msg;
	assert_int_equal(fake_read(f->parent, p, &msg, WAIT_MS), 1);
	if (msg.type != type)
		fail_msg("control message: got %s, want %s", worker_msg_type_name(msg.type),
			 worker_msg_type_name(type));
	return type == WORKER_MSG_KILL ? msg.pid : msg.seq;
}

/* Answers a SPAWN: a new fake worker. Returns its index. */
static size_t fake_spawn(struct fake *f, struct pool *p)
{
	uint32_t seq = fake_expect(f, WORKER_MSG_SPAWN, p);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	size_t i = f->nworkers++;
	struct worker_msg msg = { .type = WORKER_MSG_SPAWNED, .seq = seq, .has_seq = true,
				  .pid = FAKE_PID_BASE + (uint32_t)i, .has_pid = true };
	fake_send(f->parent, &msg, sv[1]);
	close(sv[1]);
	f->worker[i] = sv[0];
	fake_run(f, 50);   /* the pool takes the worker and sends it a job */
	return i;
}

/* A request on worker i; returns its seq. */
static uint32_t fake_request(struct fake *f, size_t i, struct pool *p, const char *user)
{
	struct worker_msg msg;
	assert_int_equal(fake_read(f->worker[i], p, &msg, WAIT_MS), 1);
	assert_int_equal(msg.type, WORKER_MSG_PASSDB_LOOKUP);
	assert_string_equal(msg.user, user);
	return msg.seq;
}

static void fake_reply(struct fake *f, size_t i, uint32_t seq, uint32_t flags)
{
	struct pool *p = pool_create(0);
	struct worker_msg msg = { .type = WORKER_MSG_REPLY, .seq = seq, .has_seq = true,
				  .result = 1, .has_result = true, .flags = flags,
				  .has_flags = true };
	worker_msg_add_field(&msg, p, WORKER_TAG_PASSDB_FIELD, "home", "/home/x");
	fake_send(f->worker[i], &msg, -1);
	pool_destroy(&p);
}

static bool fake_nothing(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, ms) == 0;
}

/* --- tests --- */

static void test_round_trip(void **state)
{
	struct fake *f = fake_new(4);
	struct pool *p = pool_create(0);
	struct test_job a;
	(void)state;
	job_submit(f, &a, "alice", 5000);
	size_t w = fake_spawn(f, p);
	uint32_t seq = fake_request(f, w, p, "alice");
	fake_reply(f, w, seq, 0);
	fake_run_until(f, &a.done);
	assert_true(a.ok);
	assert_int_equal(a.result, 1);
	assert_string_equal(a.field, "home=/home/x");
	assert_int_equal(worker_pool_worker_count(f->pool), 1);
	/* the idle worker takes the next job, no new SPAWN */
	struct test_job b;
	job_submit(f, &b, "bob", 5000);
	fake_run(f, 20);
	seq = fake_request(f, w, p, "bob");
	assert_true(fake_nothing(f->parent, 50));
	fake_reply(f, w, seq, 0);
	fake_run_until(f, &b.done);
	assert_true(b.ok);
	pool_destroy(&p);
	fake_free(f);
}

static void test_max_workers_and_fifo(void **state)
{
	struct fake *f = fake_new(2);
	struct pool *p = pool_create(0);
	struct test_job j[3];
	(void)state;
	job_submit(f, &j[0], "u0", 5000);
	job_submit(f, &j[1], "u1", 5000);
	job_submit(f, &j[2], "u2", 5000);
	size_t w0 = fake_spawn(f, p);
	size_t w1 = fake_spawn(f, p);
	assert_true(fake_nothing(f->parent, 100));   /* no third SPAWN */
	uint32_t s0 = fake_request(f, w0, p, "u0");
	uint32_t s1 = fake_request(f, w1, p, "u1");
	assert_int_equal(worker_pool_queue_length(f->pool), 1);
	fake_reply(f, w1, s1, 0);
	fake_run_until(f, &j[1].done);
	fake_run(f, 20);
	uint32_t s2 = fake_request(f, w1, p, "u2");   /* FIFO: u2 on the freed worker */
	fake_reply(f, w0, s0, 0);
	fake_reply(f, w1, s2, 0);
	fake_run_until(f, &j[0].done);
	fake_run_until(f, &j[2].done);
	assert_true(j[0].ok && j[1].ok && j[2].ok);
	pool_destroy(&p);
	fake_free(f);
}

static void test_queued_job_deadline(void **state)
{
	struct fake *f = fake_new(1);
	struct pool *p = pool_create(0);
	struct test_job a, b;
	(void)state;
	job_submit(f, &a, "a", 5000);
	job_submit(f, &b, "b", 150);
	size_t w = fake_spawn(f, p);
	(void)fake_request(f, w, p, "a");
	fake_run_until(f, &b.done);
	assert_false(b.ok);
	assert_non_null(strstr(b.error, "waiting for a free auth worker"));
	assert_false(a.done);
	assert_true(fake_nothing(f->parent, 50));    /* nobody killed */
	pool_destroy(&p);
	fake_free(f);
	assert_true(a.done);                          /* failed at shutdown */
	assert_string_equal(a.error, "shutting down");
}

static void test_stuck_worker_killed(void **state)
{
	struct fake *f = fake_new(2);
	struct pool *p = pool_create(0);
	struct test_job a;
	(void)state;
	job_submit(f, &a, "a", 150);
	size_t w = fake_spawn(f, p);
	(void)fake_request(f, w, p, "a");
	fake_run_until(f, &a.done);
	assert_false(a.ok);
	assert_non_null(strstr(a.error, "timed out"));
	assert_int_equal(fake_expect(f, WORKER_MSG_KILL, p), FAKE_PID_BASE + w);
	struct worker_msg msg;
	assert_int_equal(fake_read(f->worker[w], p, &msg, WAIT_MS), 0);   /* closed */
	assert_int_equal(worker_pool_worker_count(f->pool), 0);
	pool_destroy(&p);
	fake_free(f);
}

static void test_dead_worker_replaced(void **state)
{
	struct fake *f = fake_new(1);
	struct pool *p = pool_create(0);
	struct test_job a, b;
	(void)state;
	job_submit(f, &a, "a", 5000);
	job_submit(f, &b, "b", 5000);
	size_t w = fake_spawn(f, p);
	(void)fake_request(f, w, p, "a");
	close(f->worker[w]);
	f->worker[w] = -1;
	fake_run_until(f, &a.done);
	assert_false(a.ok);
	assert_non_null(strstr(a.error, "failed"));
	assert_int_equal(fake_expect(f, WORKER_MSG_KILL, p), FAKE_PID_BASE + w);
	size_t w2 = fake_spawn(f, p);                 /* refilled for b */
	uint32_t seq = fake_request(f, w2, p, "b");
	fake_reply(f, w2, seq, 0);
	fake_run_until(f, &b.done);
	assert_true(b.ok);
	pool_destroy(&p);
	fake_free(f);
}

static void test_bad_replies(void **state)
{
	static const struct {
		const char *name;
		const uint8_t data[16];
		size_t len;
		bool wrong_seq;
	} cases[] = {
		{ .name = "garbage", .data = "garbage", .len = 7 },
		{ .name = "SPAWN instead of REPLY", .data = { 1, 5, 1, 0, 0, 0, 4, 0, 0, 0, 1 },
		  .len = 11 },
		{ .name = "reply for another request", .wrong_seq = true },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake *f = fake_new(1);
		struct pool *p = pool_create(0);
		struct test_job a;
		job_submit(f, &a, "a", 5000);
		size_t w = fake_spawn(f, p);
		uint32_t seq = fake_request(f, w, p, "a");
		if (cases[i].wrong_seq)
			fake_reply(f, w, seq + 1, 0);
		else
			assert_int_equal(worker_msg_send(f->worker[w], cases[i].data, cases[i].len, -1),
					 0);
		fake_run_until(f, &a.done);
		if (a.ok)
			fail_msg("%s: the job succeeded", cases[i].name);
		assert_int_equal(fake_expect(f, WORKER_MSG_KILL, p), FAKE_PID_BASE + w);
		pool_destroy(&p);
		fake_free(f);
	}
}

static void test_restart_flag(void **state)
{
	struct fake *f = fake_new(1);
	struct pool *p = pool_create(0);
	struct test_job a, b;
	struct worker_msg msg;
	(void)state;
	job_submit(f, &a, "a", 5000);
	size_t w = fake_spawn(f, p);
	fake_reply(f, w, fake_request(f, w, p, "a"), WORKER_FLAG_RESTART);
	fake_run_until(f, &a.done);
	assert_true(a.ok);
	assert_int_equal(fake_read(f->worker[w], p, &msg, WAIT_MS), 0);   /* closed, not killed */
	assert_true(fake_nothing(f->parent, 50));
	job_submit(f, &b, "b", 5000);
	size_t w2 = fake_spawn(f, p);
	fake_reply(f, w2, fake_request(f, w2, p, "b"), 0);
	fake_run_until(f, &b.done);
	assert_true(b.ok);
	pool_destroy(&p);
	fake_free(f);
}

static void test_spawn_failed(void **state)
{
	struct fake *f = fake_new(1);
	struct pool *p = pool_create(0);
	struct test_job a;
	(void)state;
	job_submit(f, &a, "a", 5000);
	uint32_t seq = fake_expect(f, WORKER_MSG_SPAWN, p);
	struct worker_msg msg = { .type = WORKER_MSG_SPAWN_FAILED, .seq = seq, .has_seq = true,
				  .result = EAGAIN, .has_result = true };
	fake_send(f->parent, &msg, -1);
	fake_run_until(f, &a.done);
	assert_false(a.ok);
	assert_non_null(strstr(a.error, "no auth worker could be started"));
	pool_destroy(&p);
	fake_free(f);
}

static void test_malformed_control(void **state)
{
	struct fake *f = fake_new(1);
	struct pool *p = pool_create(0);
	struct test_job a, b;
	struct worker_msg got;
	(void)state;
	job_submit(f, &a, "a", 5000);
	uint32_t seq = fake_expect(f, WORKER_MSG_SPAWN, p);
	/* SPAWNED without the worker's socket */
	struct worker_msg msg = { .type = WORKER_MSG_SPAWNED, .seq = seq, .has_seq = true,
				  .pid = 1, .has_pid = true };
	fake_send(f->parent, &msg, -1);
	fake_run_until(f, &a.done);
	assert_false(a.ok);
	assert_int_equal(fake_read(f->parent, p, &got, WAIT_MS), 0);   /* channel closed */
	job_submit(f, &b, "b", 5000);                                 /* fails at once */
	assert_true(b.done);
	assert_false(b.ok);
	pool_destroy(&p);
	fake_free(f);
}

static void test_reload_and_shutdown(void **state)
{
	struct fake *f = fake_new(2);
	struct pool *p = pool_create(0);
	struct test_job a, b;
	struct worker_msg msg;
	(void)state;
	job_submit(f, &a, "a", 5000);
	size_t w = fake_spawn(f, p);
	fake_reply(f, w, fake_request(f, w, p, "a"), 0);
	fake_run_until(f, &a.done);
	worker_pool_reload(f->pool, 2);                               /* idle: closed */
	assert_int_equal(fake_read(f->worker[w], p, &msg, WAIT_MS), 0);
	job_submit(f, &b, "b", 5000);
	size_t w2 = fake_spawn(f, p);
	(void)fake_request(f, w2, p, "b");
	worker_pool_destroy(&f->pool);                                /* b in flight */
	assert_true(b.done);
	assert_string_equal(b.error, "shutting down");
	assert_int_equal(fake_expect(f, WORKER_MSG_KILL, p), FAKE_PID_BASE + w2);
	pool_destroy(&p);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_max_workers_and_fifo),
		cmocka_unit_test(test_queued_job_deadline),
		cmocka_unit_test(test_stuck_worker_killed),
		cmocka_unit_test(test_dead_worker_replaced),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_restart_flag),
		cmocka_unit_test(test_spawn_failed),
		cmocka_unit_test(test_malformed_control),
		cmocka_unit_test(test_reload_and_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
