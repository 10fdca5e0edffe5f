#include "authd/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define EVENT_MAX_BATCH 256

struct event_loop {
	int epfd;
	bool stop;
	uint64_t now_ms;
	/* 1-based binary min-heap of timers by due_ms */
	struct event_timer **heap;
	size_t heap_len, heap_cap;
	struct event_defer *deferred, **deferred_tail;   /* FIFO */
	int ready;           /* descriptors the last epoll_wait reported */
};

void event_defer(struct event_loop *loop, struct event_defer *d, event_defer_fn *fn)
{
	if (d->queued)
		return;
	d->fn = fn;
	d->queued = true;
	/* FIFO, so an object's own deferred work queued before its deferred
	 * free always runs first. */
	d->next = NULL;
	if (loop->deferred == NULL)
		loop->deferred_tail = &loop->deferred;
	*loop->deferred_tail = d;
	loop->deferred_tail = &d->next;
}

static void event_run_deferred(struct event_loop *loop)
{
	while (loop->deferred != NULL) {
		struct event_defer *d = loop->deferred;
		loop->deferred = d->next;
		if (loop->deferred == NULL)
			loop->deferred_tail = &loop->deferred;
		d->queued = false;
		d->fn(d);
	}
}

static uint64_t event_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct event_loop *event_loop_create(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	loop->now_ms = event_clock_ms();
	return loop;
}

void event_loop_destroy(struct event_loop **loop)
{
	if (*loop == NULL)
		return;
	close((*loop)->epfd);
	free((*loop)->heap);
	free(*loop);
	*loop = NULL;
}

int event_io_add(struct event_loop *loop, struct event_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0)
		return -1;
	io->events = events;
	return 0;
}

int event_io_modify(struct event_loop *loop, struct event_io *io, uint32_t events)
{
	if (io->events == events)
		return 0;
	struct epoll_event ev = { .events = events, .data.ptr = io };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -1;
	io->events = events;
	return 0;
}

void event_io_remove(struct event_loop *loop, struct event_io *io)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->events = 0;
}

bool event_loop_busy(const struct event_loop *loop)
{
	return loop->ready > 1;
}

uint64_t event_now_ms(struct event_loop *loop)
{
	return loop->now_ms;
}

static void heap_set(struct event_loop *loop, size_t i, struct event_timer *t)
{
	loop->heap[i] = t;
	t->heap_index = i;
}

static void heap_up(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i];
	while (i > 1 && loop->heap[i / 2]->due_ms > t->due_ms) {
		heap_set(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct event_loop *loop, size_t i)
{
	struct event_timer *t = loop->heap[i];
	for (;;) {
		size_t c = i * 2;
		if (c > loop->heap_len)
			break;
		if (c + 1 <= loop->heap_len && loop->heap[c + 1]->due_ms < loop->heap[c]->due_ms)
			c++;
		if (loop->heap[c]->due_ms >= t->due_ms)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void event_timer_cancel(struct event_loop *loop, struct event_timer *timer)
{
	size_t i = timer->heap_index;
	if (i == 0)
		return;
	struct event_timer *last = loop->heap[loop->heap_len--];
	timer->heap_index = 0;
	if (last == timer)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_index);
}

void event_timer_add(struct event_loop *loop, struct event_timer *timer, uint64_t delay_ms)
{
	event_timer_cancel(loop, timer);
	if (loop->heap_len + 1 >= loop->heap_cap) {
		size_t cap = loop->heap_cap != 0 ? loop->heap_cap * 2 : 64;
		struct event_timer **h = realloc(loop->heap, cap * sizeof(*h));
		if (h == NULL)
			abort();
		loop->heap = h;
		loop->heap_cap = cap;
	}
	timer->due_ms = loop->now_ms + delay_ms;
	loop->heap_len++;
	heap_set(loop, loop->heap_len, timer);
	heap_up(loop, loop->heap_len);
}

static int event_next_timeout(struct event_loop *loop)
{
	if (loop->heap_len == 0)
		return -1;
	uint64_t due = loop->heap[1]->due_ms;
	uint64_t now = event_clock_ms();
	if (due <= now)
		return 0;
	uint64_t wait = due - now;
	return wait > 60000 ? 60000 : (int)wait;
}

static void event_run_timers(struct event_loop *loop)
{
	/* At most as many firings as timers scheduled now: a timer re-added
	 * with 0 ms from its callback waits for the next turn, not starving
	 * the sockets. */
	for (size_t n = loop->heap_len;
	     n > 0 && loop->heap_len > 0 && loop->heap[1]->due_ms <= loop->now_ms && !loop->stop; n--) {
		struct event_timer *t = loop->heap[1];
		event_timer_cancel(loop, t);
		t->fn(t);
	}
}

void event_loop_run_deferred(struct event_loop *loop)
{
	event_run_deferred(loop);
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event evs[EVENT_MAX_BATCH];
	loop->stop = false;
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, evs, EVENT_MAX_BATCH, event_next_timeout(loop));
		if (n < 0 && errno != EINTR)
			return -1;
		loop->now_ms = event_clock_ms();
		loop->ready = n;
		for (int i = 0; i < n && !loop->stop; i++) {
			struct event_io *io = evs[i].data.ptr;
			io->fn(io, evs[i].events);
		}
		event_run_deferred(loop);
		event_run_timers(loop);
		event_run_deferred(loop);
	}
	return 0;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}
