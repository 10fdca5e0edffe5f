/* worker_pool: the auth process's auth workers (see worker_pool.h). */
#include "authd/worker_pool.h"
#include "authd/log.h"
#include "common/buf.h"
#include "common/pool.h"
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define WORKER_POOL_CTL_BATCH 64   /* control messages handled per wakeup */

struct worker_conn {
	struct worker_pool *pool;
	struct event_io io;
	pid_t pid;
	uint32_t seq;                 /* of the job in flight */
	struct worker_job *job;       /* NULL: idle */
	struct event_timer idle;
	struct event_defer free_defer;
	bool retiring, closed;
	struct worker_conn *next;
};

struct worker_pool {
	struct event_loop *loop;
	struct event_io ctl_io;       /* fd -1 once closed */
	unsigned int max_workers, conn_count, spawning, queue_len, deaths;
	uint32_t spawn_seq, spawn_acked, next_seq;
	uint64_t backoff_until_ms;
	bool shutting_down;
	struct worker_conn *conns;
	struct worker_job *queue_head, *queue_tail;
	uint8_t rx[WORKER_MSG_MAX + 1];
};

static void worker_pool_dispatch(struct worker_pool *pool);

/* --- jobs and the queue --- */

static void worker_job_finish(struct worker_job *job, const struct worker_msg *reply,
			      const char *error)
{
	event_timer_cancel(job->pool->loop, &job->timer);
	job->conn = NULL;
	job->queued = false;
	job->done(job, reply, error);
}

static void worker_queue_push(struct worker_pool *pool, struct worker_job *job, bool front)
{
	job->queued = true;
	job->next = NULL;
	if (pool->queue_head == NULL) {
		pool->queue_head = pool->queue_tail = job;
	} else if (front) {
		job->next = pool->queue_head;
		pool->queue_head = job;
	} else {
		pool->queue_tail->next = job;
		pool->queue_tail = job;
	}
	pool->queue_len++;
}

static void worker_queue_remove(struct worker_pool *pool, struct worker_job *job)
{
	struct worker_job **p = &pool->queue_head, *prev = NULL;
	while (*p != NULL && *p != job) {
		prev = *p;
		p = &(*p)->next;
	}
	if (*p == NULL)
		return;
	*p = job->next;
	if (pool->queue_tail == job)
		pool->queue_tail = prev;
	job->next = NULL;
	job->queued = false;
	pool->queue_len--;
}

static struct worker_job *worker_queue_pop(struct worker_pool *pool)
{
	struct worker_job *job = pool->queue_head;
	if (job != NULL)
		worker_queue_remove(pool, job);
	return job;
}

/* Fails the queued jobs one by one (callbacks may queue more). */
static void worker_pool_fail_queue(struct worker_pool *pool, const char *error)
{
	struct worker_job *job;
	while ((job = worker_queue_pop(pool)) != NULL)
		worker_job_finish(job, NULL, error);
}

/* --- the control socket to the root parent --- */

static int worker_pool_ctl_send(struct worker_pool *pool, const struct worker_msg *msg)
{
	if (pool->ctl_io.fd < 0)
		return -1;
	struct buf out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	int ret = worker_msg_encode(msg, &out, &error);
	if (ret == 0 && (ret = worker_msg_send(pool->ctl_io.fd, out.data, out.len, -1)) < 0)
		log_error("auth-worker control: %s failed: %s", worker_msg_type_name(msg->type),
			  strerror(errno));
	buf_free(&out);
	return ret;
}

static void worker_pool_kill(struct worker_pool *pool, pid_t pid)
{
	struct worker_msg msg = { .type = WORKER_MSG_KILL, .pid = (uint32_t)pid, .has_pid = true };
	(void)worker_pool_ctl_send(pool, &msg);
}

static bool worker_pool_can_spawn(struct worker_pool *pool)
{
	if (pool->ctl_io.fd < 0 || pool->shutting_down)
		return false;
	if (pool->deaths >= WORKER_POOL_DEATHS_MAX) {
		if (event_now_ms(pool->loop) < pool->backoff_until_ms)
			return false;
		pool->deaths = 0;
	}
	return true;
}

/* Starts workers for the jobs nobody serves yet, within max_workers. */
static void worker_pool_spawn_needed(struct worker_pool *pool)
{
	while (pool->queue_len > pool->spawning &&
	       pool->conn_count + pool->spawning < pool->max_workers &&
	       worker_pool_can_spawn(pool)) {
		struct worker_msg msg = { .type = WORKER_MSG_SPAWN, .seq = pool->spawn_seq + 1,
					  .has_seq = true };
		if (worker_pool_ctl_send(pool, &msg) < 0)
			break;
		pool->spawn_seq++;
		pool->spawning++;
	}
	if (pool->queue_len > 0 && pool->conn_count == 0 && pool->spawning == 0)
		worker_pool_fail_queue(pool, "no auth worker could be started");
}

static void worker_pool_ctl_close(struct worker_pool *pool)
{
	if (pool->ctl_io.fd < 0)
		return;
	event_io_remove(pool->loop, &pool->ctl_io);
	close(pool->ctl_io.fd);
	pool->ctl_io.fd = -1;
	pool->spawning = 0;
}

/* --- workers --- */

static void worker_conn_free(struct event_defer *d)
{
	free((struct worker_conn *)((char *)d - offsetof(struct worker_conn, free_defer)));
}

/* Closes a worker's socket (it exits on EOF); with kill, the parent also
 * SIGKILLs it. The conn must have no job. */
static void worker_conn_close(struct worker_conn *c, bool kill)
{
	struct worker_pool *pool = c->pool;
	if (kill)
		worker_pool_kill(pool, c->pid);
	event_io_remove(pool->loop, &c->io);
	close(c->io.fd);
	c->closed = true;
	event_timer_cancel(pool->loop, &c->idle);
	for (struct worker_conn **p = &pool->conns; *p != NULL; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pool->conn_count--;
	if (pool->shutting_down)
		free(c);
	else
		event_defer(pool->loop, &c->free_defer, worker_conn_free);
}

/* The worker went away or broke the protocol: its job fails. */
static void worker_conn_lost(struct worker_conn *c, const char *why)
{
	struct worker_pool *pool = c->pool;
	struct worker_job *job = c->job;
	c->job = NULL;
	if (job != NULL) {
		log_error("auth-worker(%ld): %s during a request", (long)c->pid, why);
		if (++pool->deaths == WORKER_POOL_DEATHS_MAX)
			pool->backoff_until_ms = event_now_ms(pool->loop) + WORKER_POOL_BACKOFF_MS;
	}
	worker_conn_close(c, true);
	if (job != NULL)
		worker_job_finish(job, NULL, "the auth worker failed");
	worker_pool_dispatch(pool);
}

static void worker_conn_idle_timeout(struct event_timer *t)
{
	struct worker_conn *c = t->ctx;
	if (c->job == NULL)
		worker_conn_close(c, false);
}

static void worker_conn_reply(struct worker_conn *c, const uint8_t *data, size_t len)
{
	struct worker_pool *pool = c->pool;
	struct pool *mp = pool_create(0);
	struct worker_msg msg;
	const char *error = NULL;
	int ret = worker_msg_decode(data, len, mp, &msg, &error);
	if (ret == 0 && (msg.type != WORKER_MSG_REPLY || c->job == NULL || msg.seq != c->seq)) {
		error = "unexpected reply";
		ret = -1;
	}
	if (ret < 0) {
		log_error("auth-worker(%ld): malformed reply: %s", (long)c->pid, error);
		pool_destroy(&mp);
		worker_conn_lost(c, "malformed reply");
		return;
	}
	struct worker_job *job = c->job;
	c->job = NULL;
	pool->deaths = 0;
	if ((msg.flags & WORKER_FLAG_RESTART) != 0 || c->retiring)
		worker_conn_close(c, false);
	else
		event_timer_add(pool->loop, &c->idle, WORKER_POOL_IDLE_MS);
	worker_job_finish(job, &msg, NULL);
	pool_destroy(&mp);   /* wipes the stored password */
	worker_pool_dispatch(pool);
}

static void worker_conn_input(struct event_io *io, uint32_t events)
{
	struct worker_conn *c = io->ctx;
	struct worker_pool *pool = c->pool;
	(void)events;
	if (c->closed)
		return;
	ssize_t n = worker_msg_recv(io->fd, pool->rx, sizeof(pool->rx), NULL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		worker_conn_lost(c, n == 0 ? "the process exited" : strerror(errno));
		return;
	}
	worker_conn_reply(c, pool->rx, (size_t)n);
	secret_wipe(pool->rx, (size_t)n);
}

static void worker_conn_new(struct worker_pool *pool, int fd, pid_t pid)
{
	struct worker_conn *c = calloc(1, sizeof(*c));
	if (c == NULL || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		log_error("auth-worker(%ld): setup failed", (long)pid);
		free(c);
		close(fd);
		worker_pool_kill(pool, pid);
		return;
	}
	c->pool = pool;
	c->pid = pid;
	c->io = (struct event_io){ .fd = fd, .fn = worker_conn_input, .ctx = c };
	c->idle = (struct event_timer){ .fn = worker_conn_idle_timeout, .ctx = c };
	if (event_io_add(pool->loop, &c->io, EPOLLIN) < 0) {
		log_error("auth-worker(%ld): epoll failed: %s", (long)pid, strerror(errno));
		close(fd);
		free(c);
		worker_pool_kill(pool, pid);
		return;
	}
	c->next = pool->conns;
	pool->conns = c;
	pool->conn_count++;
	event_timer_add(pool->loop, &c->idle, WORKER_POOL_IDLE_MS);
}

/* Sends job to c. Returns 0, -1 if the worker's socket failed, -2 if the
 * job itself cannot be encoded. */
static int worker_conn_send(struct worker_conn *c, struct worker_job *job)
{
	struct worker_pool *pool = c->pool;
	if (++pool->next_seq == 0)
		pool->next_seq = 1;
	job->msg.seq = pool->next_seq;
	job->msg.has_seq = true;
	struct buf out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	int ret = worker_msg_encode(&job->msg, &out, &error) < 0 ? -2 : 0;
	if (ret == -2)
		log_error("auth-worker: can't encode a request: %s", error);
	else if (worker_msg_send(c->io.fd, out.data, out.len, -1) < 0)
		ret = -1;
	buf_free(&out);   /* wipes the password */
	if (ret == 0) {
		c->job = job;
		c->seq = job->msg.seq;
		job->conn = c;
		event_timer_cancel(pool->loop, &c->idle);
	}
	return ret;
}

static struct worker_conn *worker_pool_idle_conn(struct worker_pool *pool)
{
	for (struct worker_conn *c = pool->conns; c != NULL; c = c->next)
		if (c->job == NULL && !c->retiring && !c->closed)
			return c;
	return NULL;
}

static void worker_pool_dispatch(struct worker_pool *pool)
{
	struct worker_conn *c;
	while (pool->queue_head != NULL && (c = worker_pool_idle_conn(pool)) != NULL) {
		struct worker_job *job = worker_queue_pop(pool);
		int ret = worker_conn_send(c, job);
		if (ret == -1) {
			worker_queue_push(pool, job, true);
			worker_conn_close(c, true);
		} else if (ret == -2) {
			worker_job_finish(job, NULL, "request too large for an auth worker");
		}
	}
	worker_pool_spawn_needed(pool);
}

/* --- control input --- */

/* SPAWNED / SPAWN_FAILED in the order of our SPAWNs. Returns -1 when
 * malformed. Takes fd. */
static int worker_pool_ctl_message(struct worker_pool *pool, const uint8_t *data, size_t len,
				   int fd)
{
	struct pool *mp = pool_create(512);
	struct worker_msg msg;
	const char *error = NULL;
	int ret = worker_msg_decode(data, len, mp, &msg, &error);
	bool spawned = ret == 0 && msg.type == WORKER_MSG_SPAWNED;
	if (ret == 0 && ((!spawned && msg.type != WORKER_MSG_SPAWN_FAILED) ||
			 pool->spawning == 0 || msg.seq != pool->spawn_acked + 1 ||
			 spawned != (fd >= 0) || (spawned && (msg.pid == 0 || msg.pid > INT32_MAX)))) {
		error = "unexpected message";
		ret = -1;
	}
	pool_destroy(&mp);
	if (ret < 0) {
		log_error("auth-worker control: malformed message from the parent: %s", error);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pool->spawn_acked++;
	pool->spawning--;
	if (spawned) {
		worker_conn_new(pool, fd, (pid_t)msg.pid);
	} else {
		/* No retry storm: wait for WORKER_POOL_BACKOFF_MS; jobs nobody
		 * can serve meanwhile fail at once. */
		log_error("auth-worker: the parent could not start a worker: %s",
			  strerror(msg.result > 0 ? msg.result : EAGAIN));
		pool->deaths = WORKER_POOL_DEATHS_MAX;
		pool->backoff_until_ms = event_now_ms(pool->loop) + WORKER_POOL_BACKOFF_MS;
	}
	worker_pool_dispatch(pool);
	return 0;
}

static void worker_pool_ctl_input(struct event_io *io, uint32_t events)
{
	struct worker_pool *pool = io->ctx;
	(void)events;
	for (int i = 0; i < WORKER_POOL_CTL_BATCH && pool->ctl_io.fd >= 0; i++) {
		int fd = -1;
		ssize_t n = worker_msg_recv(pool->ctl_io.fd, pool->rx, sizeof(pool->rx), &fd);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			log_error("auth-worker control: %s", n == 0 ? "the parent closed the channel" :
				  strerror(errno));
		if (n <= 0 || worker_pool_ctl_message(pool, pool->rx, (size_t)n, fd) < 0) {
			worker_pool_ctl_close(pool);
			worker_pool_spawn_needed(pool);
			return;
		}
	}
}

/* --- public --- */

struct worker_pool *worker_pool_create(struct event_loop *loop, int ctl_fd,
				       unsigned int max_workers)
{
	struct worker_pool *pool = calloc(1, sizeof(*pool));
	if (pool == NULL) {
		close(ctl_fd);
		return NULL;
	}
	pool->loop = loop;
	pool->max_workers = max_workers > 0 ? max_workers : 1;
	pool->ctl_io = (struct event_io){ .fd = ctl_fd, .fn = worker_pool_ctl_input, .ctx = pool };
	if (event_io_add(loop, &pool->ctl_io, EPOLLIN) < 0) {
		int err = errno;
		close(ctl_fd);
		free(pool);
		errno = err;
		return NULL;
	}
	return pool;
}

void worker_pool_destroy(struct worker_pool **pp)
{
	struct worker_pool *pool = *pp;
	if (pool == NULL)
		return;
	pool->shutting_down = true;
	while (pool->conns != NULL) {
		struct worker_conn *c = pool->conns;
		struct worker_job *job = c->job;
		c->job = NULL;
		worker_conn_close(c, job != NULL);
		if (job != NULL)
			worker_job_finish(job, NULL, "shutting down");
	}
	worker_pool_fail_queue(pool, "shutting down");
	worker_pool_ctl_close(pool);
	secret_wipe(pool->rx, sizeof(pool->rx));
	free(pool);
	*pp = NULL;
}

static void worker_job_timeout(struct event_timer *t)
{
	struct worker_job *job = t->ctx;
	struct worker_pool *pool = job->pool;
	if (job->queued) {
		worker_queue_remove(pool, job);
		worker_job_finish(job, NULL, "timed out waiting for a free auth worker");
		return;
	}
	struct worker_conn *c = job->conn;
	log_error("auth-worker(%ld): request timed out after %llu ms; killing the worker",
		  (long)c->pid,
		  (unsigned long long)(event_now_ms(pool->loop) - job->submitted_ms));
	c->job = NULL;
	worker_conn_close(c, true);
	worker_job_finish(job, NULL, "the auth worker timed out");
	worker_pool_dispatch(pool);
}

void worker_pool_submit(struct worker_pool *pool, struct worker_job *job, uint64_t deadline_ms)
{
	uint64_t now = event_now_ms(pool->loop);
	job->pool = pool;
	job->conn = NULL;
	job->next = NULL;
	job->queued = false;
	job->submitted_ms = now;
	job->timer.fn = worker_job_timeout;
	job->timer.ctx = job;
	if (pool->shutting_down || pool->queue_len >= WORKER_POOL_QUEUE_MAX) {
		job->done(job, NULL, pool->shutting_down ? "shutting down" :
			  "too many requests waiting for auth workers");
		return;
	}
	worker_queue_push(pool, job, false);
	event_timer_add(pool->loop, &job->timer, deadline_ms > now ? deadline_ms - now : 0);
	worker_pool_dispatch(pool);
}

void worker_pool_reload(struct worker_pool *pool, unsigned int max_workers)
{
	pool->max_workers = max_workers > 0 ? max_workers : 1;
	struct worker_conn *next;
	for (struct worker_conn *c = pool->conns; c != NULL; c = next) {
		next = c->next;
		if (c->job == NULL)
			worker_conn_close(c, false);
		else
			c->retiring = true;
	}
}

unsigned int worker_pool_worker_count(const struct worker_pool *pool)
{
	return pool->conn_count;
}

unsigned int worker_pool_queue_length(const struct worker_pool *pool)
{
	return pool->queue_len;
}
