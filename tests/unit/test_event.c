/* test_event: the epoll loop (authd/event.h): timers fire in due order,
 * cancel and reschedule, the timer heap against a reference model under
 * random add/cancel, deferred work after the I/O batch in FIFO order, and
 * io callbacks on a socketpair. */
#include "authd/event.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define WATCHDOG_MS 5000u
#define LOG_MAX 64

/* What happened, in order, as short strings. */
struct trace {
	const char *items[LOG_MAX];
	size_t count;
};

static void trace_add(struct trace *t, const char *what)
{
	if (t->count < LOG_MAX)
		t->items[t->count++] = what;
}

/* Compares a trace with a NULL-terminated list of wanted items. */
static bool trace_is(const struct trace *t, const char *const *want, const char *name)
{
	size_t n = 0;
	while (want[n] != NULL)
		n++;
	bool ok = t->count == n;
	for (size_t i = 0; ok && i < n; i++)
		ok = strcmp(t->items[i], want[i]) == 0;
	if (!ok) {
		print_error("%s: got", name);
		for (size_t i = 0; i < t->count; i++)
			print_error(" %s", t->items[i]);
		print_error(", want");
		for (size_t i = 0; i < n; i++)
			print_error(" %s", want[i]);
		print_error("\n");
	}
	return ok;
}

/* --- loop helpers --- */

struct fixture {
	struct event_loop *loop;
	struct event_timer watchdog;
	bool watchdog_fired;
	struct trace trace;
};

static void watchdog_fn(struct event_timer *t)
{
	struct fixture *f = t->ctx;
	f->watchdog_fired = true;
	event_loop_stop(f->loop);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	f->loop = event_loop_create();
	if (f->loop == NULL)
		return -1;
	f->watchdog = (struct event_timer){ .fn = watchdog_fn, .ctx = f };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	event_timer_cancel(f->loop, &f->watchdog);
	event_loop_destroy(&f->loop);
	free(f);
	return 0;
}

/* Runs the loop until something stops it; fails on the watchdog. */
static void run_loop(struct fixture *f)
{
	f->watchdog_fired = false;
	event_timer_add(f->loop, &f->watchdog, WATCHDOG_MS);
	assert_int_equal(event_loop_run(f->loop), 0);
	event_timer_cancel(f->loop, &f->watchdog);
	if (f->watchdog_fired) {
		print_error("loop ran into the %u ms watchdog\n", WATCHDOG_MS);
		fail();
	}
}

/* --- timers --- */

struct named_timer {
	struct event_timer timer;
	struct fixture *f;
	const char *name;
	bool stop;          /* stop the loop when fired */
	int fired;
};

static void named_timer_fn(struct event_timer *t)
{
	struct named_timer *nt = t->ctx;
	nt->fired++;
	trace_add(&nt->f->trace, nt->name);
	if (nt->stop)
		event_loop_stop(nt->f->loop);
}

static void named_timer_init(struct named_timer *nt, struct fixture *f, const char *name,
			     bool stop)
{
	*nt = (struct named_timer){ .f = f, .name = name, .stop = stop };
	nt->timer = (struct event_timer){ .fn = named_timer_fn, .ctx = nt };
}

struct timer_case {
	const char *name;
	uint64_t delays[6];
	const char *names[6];
	size_t count;
	int cancel;          /* index to cancel after adding, -1 none */
	int reschedule;      /* index to re-add with reschedule_ms, -1 none */
	uint64_t reschedule_ms;
	const char *want[8];
};

static const struct timer_case timer_cases[] = {
	{ .name = "in due order", .count = 4, .delays = { 30, 10, 20, 0 },
	  .names = { "t30", "t10", "t20", "t0" }, .cancel = -1, .reschedule = -1,
	  .want = { "t0", "t10", "t20", "t30", NULL } },
	{ .name = "cancel middle", .count = 3, .delays = { 5, 15, 25 },
	  .names = { "a", "b", "c" }, .cancel = 1, .reschedule = -1,
	  .want = { "a", "c", NULL } },
	{ .name = "cancel first", .count = 3, .delays = { 5, 15, 25 },
	  .names = { "a", "b", "c" }, .cancel = 0, .reschedule = -1,
	  .want = { "b", "c", NULL } },
	{ .name = "reschedule earlier", .count = 3, .delays = { 40, 20, 60 },
	  .names = { "a", "b", "c" }, .cancel = -1, .reschedule = 0, .reschedule_ms = 1,
	  .want = { "a", "b", "c", NULL } },
	{ .name = "reschedule later", .count = 3, .delays = { 5, 20, 40 },
	  .names = { "a", "b", "c" }, .cancel = -1, .reschedule = 0, .reschedule_ms = 30,
	  .want = { "b", "a", "c", NULL } },
};

static void test_timer_order(void **state)
{
	struct fixture *f = *state;
	bool ok = true;
	for (size_t i = 0; i < N_ELEMS(timer_cases); i++) {
		const struct timer_case *c = &timer_cases[i];
		struct named_timer timers[6];
		uint64_t max_delay = 0;
		f->trace.count = 0;
		for (size_t j = 0; j < c->count; j++) {
			named_timer_init(&timers[j], f, c->names[j], false);
			event_timer_add(f->loop, &timers[j].timer, c->delays[j]);
			assert_true(event_timer_pending(&timers[j].timer));
		}
		if (c->cancel >= 0) {
			event_timer_cancel(f->loop, &timers[c->cancel].timer);
			assert_false(event_timer_pending(&timers[c->cancel].timer));
			/* cancelling twice is harmless */
			event_timer_cancel(f->loop, &timers[c->cancel].timer);
		}
		if (c->reschedule >= 0)
			event_timer_add(f->loop, &timers[c->reschedule].timer, c->reschedule_ms);
		for (size_t j = 0; j < c->count; j++) {
			uint64_t d = (int)j == c->reschedule ? c->reschedule_ms : c->delays[j];
			if ((int)j != c->cancel && d >= max_delay)
				max_delay = d;
		}
		struct named_timer last;
		named_timer_init(&last, f, "stop", true);
		event_timer_add(f->loop, &last.timer, max_delay + 20);
		run_loop(f);
		const char *want[9];
		size_t n = 0;
		for (; c->want[n] != NULL; n++)
			want[n] = c->want[n];
		want[n++] = "stop";
		want[n] = NULL;
		ok &= trace_is(&f->trace, want, c->name);
		for (size_t j = 0; j < c->count; j++) {
			int want_fired = (int)j == c->cancel ? 0 : 1;
			if (timers[j].fired != want_fired || event_timer_pending(&timers[j].timer)) {
				print_error("%s: timer %s fired %d times (pending %d), want %d\n",
					    c->name, c->names[j], timers[j].fired,
					    event_timer_pending(&timers[j].timer), want_fired);
				ok = false;
			}
		}
	}
	if (!ok)
		fail();
}

static void test_timer_due_time(void **state)
{
	struct fixture *f = *state;
	struct named_timer t;
	named_timer_init(&t, f, "t", true);
	uint64_t before = event_now_ms(f->loop);
	event_timer_add(f->loop, &t.timer, 50);
	assert_int_equal(t.timer.due_ms, before + 50);
	run_loop(f);
	/* not early: the loop's clock passed the due time */
	assert_true(event_now_ms(f->loop) >= before + 50);
	assert_int_equal(t.fired, 1);
}

/* --- heap against a reference model --- */

#define MODEL_TIMERS 400
#define MODEL_OPS 4000
#define MODEL_MAX_DELAY 40

struct model_timer {
	struct event_timer timer;
	bool scheduled;        /* reference model */
	uint64_t due;          /* reference model */
	int fired;
};

struct model {
	struct fixture *f;
	struct model_timer t[MODEL_TIMERS];
	size_t remaining;
	uint64_t last_due;
	bool order_ok;
	size_t fired_total;
};

static struct model *the_model;

static void model_timer_fn(struct event_timer *timer)
{
	struct model_timer *mt = timer->ctx;
	struct model *m = the_model;
	if (!mt->scheduled || mt->fired != 0 || timer->due_ms != mt->due ||
	    timer->due_ms < m->last_due || timer->due_ms > event_now_ms(m->f->loop))
		m->order_ok = false;
	m->last_due = timer->due_ms;
	mt->fired++;
	mt->scheduled = false;
	m->fired_total++;
	if (--m->remaining == 0)
		event_loop_stop(m->f->loop);
}

static void test_timer_heap_model(void **state)
{
	struct fixture *f = *state;
	struct model *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	the_model = m;
	m->f = f;
	m->order_ok = true;
	srand(12345);
	for (size_t i = 0; i < MODEL_TIMERS; i++)
		m->t[i].timer = (struct event_timer){ .fn = model_timer_fn, .ctx = &m->t[i] };
	uint64_t now = event_now_ms(f->loop);
	for (size_t op = 0; op < MODEL_OPS; op++) {
		struct model_timer *mt = &m->t[(size_t)rand() % MODEL_TIMERS];
		if (rand() % 3 == 0) {
			event_timer_cancel(f->loop, &mt->timer);
			mt->scheduled = false;
		} else {
			uint64_t d = (uint64_t)(rand() % MODEL_MAX_DELAY);
			event_timer_add(f->loop, &mt->timer, d);
			mt->scheduled = true;
			mt->due = now + d;
		}
		/* the pending flag always matches the model */
		for (size_t i = 0; i < MODEL_TIMERS; i += 37) {
			if (event_timer_pending(&m->t[i].timer) != m->t[i].scheduled) {
				print_error("op %zu: timer %zu pending %d, model says %d\n", op, i,
					    event_timer_pending(&m->t[i].timer), m->t[i].scheduled);
				fail();
			}
		}
	}
	size_t want_fired = 0;
	for (size_t i = 0; i < MODEL_TIMERS; i++)
		want_fired += m->t[i].scheduled;
	m->remaining = want_fired;
	assert_true(want_fired > 0);
	run_loop(f);
	if (!m->order_ok || m->fired_total != want_fired) {
		print_error("heap: order ok %d, fired %zu, want %zu in due order\n", m->order_ok,
			    m->fired_total, want_fired);
		fail();
	}
	for (size_t i = 0; i < MODEL_TIMERS; i++) {
		if (event_timer_pending(&m->t[i].timer) || m->t[i].fired > 1) {
			print_error("timer %zu: pending %d fired %d\n", i,
				    event_timer_pending(&m->t[i].timer), m->t[i].fired);
			fail();
		}
	}
	free(m);
	the_model = NULL;
}

/* A timer callback that adds and cancels other timers. */
struct chain {
	struct fixture *f;
	struct named_timer a, b, c;
};

static struct chain *the_chain;

static void chain_a_fn(struct event_timer *t)
{
	struct chain *ch = the_chain;
	named_timer_fn(t);
	event_timer_cancel(ch->f->loop, &ch->b.timer);      /* pending: dropped */
	event_timer_add(ch->f->loop, &ch->c.timer, 5);       /* new: fires later */
}

static void test_timer_callbacks_modify_heap(void **state)
{
	struct fixture *f = *state;
	struct chain ch = { .f = f };
	the_chain = &ch;
	named_timer_init(&ch.a, f, "a", false);
	ch.a.timer.fn = chain_a_fn;
	named_timer_init(&ch.b, f, "b", false);
	named_timer_init(&ch.c, f, "c", true);
	f->trace.count = 0;
	event_timer_add(f->loop, &ch.a.timer, 1);
	event_timer_add(f->loop, &ch.b.timer, 10);
	run_loop(f);
	static const char *const want[] = { "a", "c", NULL };
	assert_true(trace_is(&f->trace, want, "modify heap"));
	assert_false(event_timer_pending(&ch.b.timer));
	the_chain = NULL;
}

/* --- io --- */

struct io_end {
	struct event_io io;
	struct fixture *f;
	const char *name;
	int other_fd;          /* peer end, owned by the test */
	uint32_t events_seen;
	int calls;
	char got[64];
	size_t got_len;
	bool stop_on_read;
};

static void io_end_fn(struct event_io *io, uint32_t events)
{
	struct io_end *e = io->ctx;
	e->calls++;
	e->events_seen |= events;
	trace_add(&e->f->trace, e->name);
	if ((events & EPOLLIN) != 0) {
		ssize_t n = read(io->fd, e->got + e->got_len, sizeof(e->got) - 1 - e->got_len);
		if (n > 0)
			e->got_len += (size_t)n;
		if (e->stop_on_read)
			event_loop_stop(e->f->loop);
	}
	if ((events & EPOLLOUT) != 0) {
		event_io_modify(e->f->loop, io, EPOLLIN);
		event_loop_stop(e->f->loop);
	}
}

static void io_end_open(struct io_end *e, struct fixture *f, const char *name)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	*e = (struct io_end){ .f = f, .name = name, .other_fd = sv[1] };
	e->io = (struct event_io){ .fd = sv[0], .fn = io_end_fn, .ctx = e };
}

static void io_end_close(struct io_end *e)
{
	event_io_remove(e->f->loop, &e->io);
	close(e->io.fd);
	close(e->other_fd);
}

static void test_io_socketpair(void **state)
{
	struct fixture *f = *state;
	struct io_end e;
	io_end_open(&e, f, "e");
	e.stop_on_read = true;
	assert_int_equal(event_io_add(f->loop, &e.io, EPOLLIN), 0);
	assert_int_equal(e.io.events, EPOLLIN);
	assert_int_equal(write(e.other_fd, "hello", 5), 5);
	run_loop(f);
	assert_int_equal(e.calls, 1);
	assert_true((e.events_seen & EPOLLIN) != 0);
	assert_int_equal(e.got_len, 5);
	assert_memory_equal(e.got, "hello", 5);

	/* EPOLLOUT: a socket with room is writable at once */
	e.events_seen = 0;
	assert_int_equal(event_io_modify(f->loop, &e.io, EPOLLIN | EPOLLOUT), 0);
	assert_int_equal(event_io_modify(f->loop, &e.io, EPOLLIN | EPOLLOUT), 0);   /* no-op */
	run_loop(f);
	assert_true((e.events_seen & EPOLLOUT) != 0);
	assert_int_equal(e.io.events, EPOLLIN);

	/* removed: no more callbacks even with data waiting */
	int calls = e.calls;
	event_io_remove(f->loop, &e.io);
	assert_int_equal(e.io.events, 0);
	assert_int_equal(write(e.other_fd, "x", 1), 1);
	struct named_timer stop;
	named_timer_init(&stop, f, "stop", true);
	event_timer_add(f->loop, &stop.timer, 30);
	run_loop(f);
	assert_int_equal(e.calls, calls);
	close(e.io.fd);
	close(e.other_fd);
}

static void test_io_add_bad_fd(void **state)
{
	struct fixture *f = *state;
	struct io_end e = { .f = f };
	e.io = (struct event_io){ .fd = -1, .fn = io_end_fn, .ctx = &e };
	assert_int_equal(event_io_add(f->loop, &e.io, EPOLLIN), -1);
}

/* --- deferred work --- */

struct deferred_item {
	struct event_defer d;
	struct fixture *f;
	const char *name;
	struct deferred_item *queue_next;   /* queued from this one's callback */
};

static void deferred_fn(struct event_defer *d)
{
	struct deferred_item *it = (struct deferred_item *)d;
	trace_add(&it->f->trace, it->name);
	if (it->queue_next != NULL)
		event_defer(it->f->loop, &it->queue_next->d, deferred_fn);
}

struct defer_io {
	struct io_end end;
	struct deferred_item *items[3];
};

static void defer_io_fn(struct event_io *io, uint32_t events)
{
	struct defer_io *di = io->ctx;
	char tmp[16];
	(void)events;
	trace_add(&di->end.f->trace, di->end.name);
	if (read(io->fd, tmp, sizeof(tmp)) < 0)
		return;
	for (size_t i = 0; i < 3 && di->items[i] != NULL; i++)
		event_defer(di->end.f->loop, &di->items[i]->d, deferred_fn);
}

static void stop_deferred_fn(struct event_defer *d)
{
	struct deferred_item *it = (struct deferred_item *)d;
	trace_add(&it->f->trace, it->name);
	event_loop_stop(it->f->loop);
}

static void test_deferred_fifo_after_batch(void **state)
{
	struct fixture *f = *state;
	struct deferred_item d1 = { .f = f, .name = "d1" }, d2 = { .f = f, .name = "d2" },
			     d3 = { .f = f, .name = "d3" }, d4 = { .f = f, .name = "d4" },
			     stop = { .f = f, .name = "stop" };
	struct defer_io x, y;
	/* d2 queues d4 from its callback: d4 runs in the same drain, last */
	d2.queue_next = &d4;
	io_end_open(&x.end, f, "io-x");
	io_end_open(&y.end, f, "io-y");
	x.end.io.fn = defer_io_fn;
	x.end.io.ctx = &x;
	y.end.io.fn = defer_io_fn;
	y.end.io.ctx = &y;
	x.items[0] = &d1;
	x.items[1] = &d2;
	x.items[2] = &d1;      /* queued twice: runs once */
	y.items[0] = &d3;
	y.items[1] = NULL;
	y.items[2] = NULL;
	assert_int_equal(event_io_add(f->loop, &x.end.io, EPOLLIN), 0);
	assert_int_equal(event_io_add(f->loop, &y.end.io, EPOLLIN), 0);
	/* both readable before the loop runs: one epoll batch */
	assert_int_equal(write(x.end.other_fd, "1", 1), 1);
	assert_int_equal(write(y.end.other_fd, "1", 1), 1);
	f->trace.count = 0;
	/* queued before the batch: runs first in the drain after it */
	event_defer(f->loop, &stop.d, stop_deferred_fn);
	run_loop(f);
	/* epoll's order of the two ios is not defined: accept either */
	static const char *const want_xy[] = { "io-x", "io-y", "stop", "d1", "d2", "d3", "d4",
					       NULL };
	static const char *const want_yx[] = { "io-y", "io-x", "stop", "d3", "d1", "d2", "d4",
					       NULL };
	bool xy = f->trace.count > 0 && strcmp(f->trace.items[0], "io-x") == 0;
	assert_true(trace_is(&f->trace, xy ? want_xy : want_yx, "deferred"));
	assert_false(d1.d.queued);
	io_end_close(&x.end);
	io_end_close(&y.end);
}

static void test_run_deferred_directly(void **state)
{
	struct fixture *f = *state;
	struct deferred_item a = { .f = f, .name = "a" }, b = { .f = f, .name = "b" };
	f->trace.count = 0;
	event_defer(f->loop, &a.d, deferred_fn);
	event_defer(f->loop, &b.d, deferred_fn);
	event_loop_run_deferred(f->loop);
	event_loop_run_deferred(f->loop);   /* empty: nothing */
	static const char *const want[] = { "a", "b", NULL };
	assert_true(trace_is(&f->trace, want, "run_deferred"));
}

/* --- fairness: a timer that re-arms itself with 0 ms --- */

struct rearm {
	struct event_timer timer;
	struct fixture *f;
	int wake_fd;           /* written on the first firing */
	int fired;
	bool io_seen_before_limit;
	int io_calls;
};

#define REARM_LIMIT 1000

static void rearm_fn(struct event_timer *t)
{
	struct rearm *r = t->ctx;
	/* the socket becomes readable while the timer keeps re-arming */
	if (++r->fired == 1 && write(r->wake_fd, "x", 1) != 1)
		r->fired = REARM_LIMIT;
	if (r->fired < REARM_LIMIT)
		event_timer_add(r->f->loop, t, 0);
	else
		event_loop_stop(r->f->loop);
}

static void rearm_io_fn(struct event_io *io, uint32_t events)
{
	struct rearm *r = io->ctx;
	char tmp[8];
	(void)events;
	if (read(io->fd, tmp, sizeof(tmp)) < 0)
		return;
	r->io_calls++;
	if (r->fired < REARM_LIMIT)
		r->io_seen_before_limit = true;
}

/* A timer re-added with 0 ms from its own callback must wait for the next
 * loop turn; otherwise one such timer starves every socket (the loop never
 * leaves the timer pass). */
static void test_timer_zero_rearm_does_not_starve_io(void **state)
{
	struct fixture *f = *state;
	struct rearm r = { .f = f };
	struct io_end e;
	io_end_open(&e, f, "e");
	e.io.fn = rearm_io_fn;
	e.io.ctx = &r;
	r.timer = (struct event_timer){ .fn = rearm_fn, .ctx = &r };
	r.wake_fd = e.other_fd;
	assert_int_equal(event_io_add(f->loop, &e.io, EPOLLIN), 0);
	event_timer_add(f->loop, &r.timer, 0);
	run_loop(f);
	if (!r.io_seen_before_limit) {
		print_error("0 ms self-rearming timer fired %d times before the readable "
			    "socket got a callback (io calls %d), want the socket served "
			    "between firings\n", r.fired, r.io_calls);
		io_end_close(&e);
		fail();
	}
	io_end_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timer_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_due_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_heap_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_callbacks_modify_heap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_socketpair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_add_bad_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_fifo_after_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_deferred_directly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_zero_rearm_does_not_starve_io, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
