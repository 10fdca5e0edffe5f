/* event: the auth process's single epoll loop with timers.
 *
 * Everything that waits (sockets, the hash pool's eventfd, signals through
 * a signalfd, timers) is driven from here; callbacks must not block.
 * Timers live in a binary heap: add/cancel O(log n), so per-request timers
 * (failure delay, abort) are cheap. */
#ifndef AUTHD_EVENT_H
#define AUTHD_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_loop;

struct event_io;
typedef void event_io_fn(struct event_io *io, uint32_t events);

/* Embedded in the owner's struct; the owner keeps it alive while added. */
struct event_io {
	int fd;
	uint32_t events;     /* EPOLLIN / EPOLLOUT currently requested */
	event_io_fn *fn;
	void *ctx;
};

struct event_timer;
typedef void event_timer_fn(struct event_timer *timer);

/* Embedded in the owner's struct. heap_index is 0 when not scheduled. */
struct event_timer {
	uint64_t due_ms;
	size_t heap_index;
	event_timer_fn *fn;
	void *ctx;
};

/* Returns a new loop or NULL (errno set). */
struct event_loop *event_loop_create(void);
void event_loop_destroy(struct event_loop **loop);

/* Registers io->fd for events (EPOLLIN/EPOLLOUT). Returns 0 or -1. */
int event_io_add(struct event_loop *loop, struct event_io *io, uint32_t events);
/* Changes the event mask; no-op when unchanged. Returns 0 or -1. */
int event_io_modify(struct event_loop *loop, struct event_io *io, uint32_t events);
/* Unregisters (does not close the fd). */
void event_io_remove(struct event_loop *loop, struct event_io *io);

/* Monotonic milliseconds, cached per loop iteration. */
uint64_t event_now_ms(struct event_loop *loop);
/* True when the last wakeup reported more than one ready descriptor: work
 * is arriving on several connections at once, so batching output per
 * loop turn pays; false when one peer is all there is, which then waits
 * for our replies to send more (answer it at once). */
bool event_loop_busy(const struct event_loop *loop);
/* Schedules (or reschedules) timer to fire after delay_ms. */
void event_timer_add(struct event_loop *loop, struct event_timer *timer, uint64_t delay_ms);
/* Unschedules; safe on a timer that is not scheduled. */
void event_timer_cancel(struct event_loop *loop, struct event_timer *timer);
static inline bool event_timer_pending(const struct event_timer *t) { return t->heap_index != 0; }

/* Deferred work: runs after the current batch of I/O callbacks, so an
 * object can be freed without invalidating events already fetched for it. */
struct event_defer;
typedef void event_defer_fn(struct event_defer *d);
struct event_defer {
	struct event_defer *next;
	event_defer_fn *fn;
	bool queued;
};
/* Queues d (no-op if already queued). */
void event_defer(struct event_loop *loop, struct event_defer *d, event_defer_fn *fn);

/* Runs the deferred work queued so far (used at shutdown). */
void event_loop_run_deferred(struct event_loop *loop);

/* Runs until event_loop_stop(). Returns 0, or -1 if epoll_wait failed. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif
