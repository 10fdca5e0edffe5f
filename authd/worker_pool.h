/* worker_pool: the auth process's pool of auth worker processes.
 *
 * Blocking passdb/userdb lookups (PAM, shadow, passwd, checkpassword, any
 * driver with blocking=yes) never run in the auth process: the request code
 * (request_worker.c) turns one into a worker_job and submits it here. The
 * pool keeps up to max_workers workers, started on demand through the root
 * parent (worker_spawn.h) over the control socket, each serving one job at
 * a time; jobs wait in a bounded FIFO queue while all are busy.
 *
 * Every job has a deadline, which its submitter sets below the client's
 * timeout (Postfix waits 10 s). A job still queued then fails; a job still
 * in a worker fails and the worker is killed (by the parent: a root worker
 * cannot be signalled from here) and replaced on demand. A worker that
 * dies, closes its socket or sends anything malformed fails its job the
 * same way. Failures reach the job's done callback with reply NULL and a
 * reason; the request code answers them as temporary failures. Workers
 * that finished a job asking for a restart (PAM max_requests) or that stay
 * idle for WORKER_POOL_IDLE_MS are closed; after a reload all are retired
 * so the new configuration applies.
 *
 * All callbacks run from the event loop (or synchronously from
 * worker_pool_submit() when the job fails at once); nothing here blocks. */
#ifndef AUTHD_WORKER_POOL_H
#define AUTHD_WORKER_POOL_H

#include "authd/event.h"
#include "authd/worker_proto.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define WORKER_POOL_QUEUE_MAX 4096u        /* jobs waiting for a worker */
#define WORKER_POOL_IDLE_MS (60u * 1000u)  /* an idle worker is closed then */
/* After this many workers in a row died without answering, or after the
 * parent could not start one, no new one is started for
 * WORKER_POOL_BACKOFF_MS (queued jobs that no live worker can take fail at
 * once). */
#define WORKER_POOL_DEATHS_MAX 5u
#define WORKER_POOL_BACKOFF_MS 1000u

struct worker_pool;
struct worker_job;

/* reply is the decoded REPLY (valid during the call only; its pool is
 * wiped afterwards), or NULL on failure with error set (static text). The
 * job may be freed by the callback. */
typedef void worker_job_done_fn(struct worker_job *job, const struct worker_msg *reply,
				const char *error);

/* Embedded in or allocated by the submitter, who fills msg, done and ctx;
 * the rest is the pool's. Must stay valid until done is called. msg's
 * strings must stay valid as long (the pool encodes it when a worker takes
 * the job, setting msg.seq). */
struct worker_job {
	struct worker_msg msg;
	worker_job_done_fn *done;
	void *ctx;
	/* private */
	struct worker_pool *pool;
	struct worker_conn *conn;        /* in flight on this worker */
	struct worker_job *next;         /* queue link */
	struct event_timer timer;        /* deadline */
	bool queued;
	uint64_t submitted_ms;
};

/* Creates the pool on the control socket ctl_fd (owned from now on; the
 * pool closes it). Returns NULL on error (errno). */
struct worker_pool *worker_pool_create(struct event_loop *loop, int ctl_fd,
				       unsigned int max_workers);
/* Fails every job (done with "shutting down"; callbacks may submit more,
 * which fail at once), closes the workers and the control socket. */
void worker_pool_destroy(struct worker_pool **pool);

/* Queues job; it runs when a worker is free and fails when not done by
 * deadline_ms (event_now_ms() clock). May call job->done at once (queue
 * full, no worker can be started, shutting down). */
void worker_pool_submit(struct worker_pool *pool, struct worker_job *job, uint64_t deadline_ms);

/* After a configuration reload: closes idle workers, retires busy ones
 * after their current job; sets the new maximum. */
void worker_pool_reload(struct worker_pool *pool, unsigned int max_workers);

/* For tests and logs: live workers, and jobs waiting. */
unsigned int worker_pool_worker_count(const struct worker_pool *pool);
unsigned int worker_pool_queue_length(const struct worker_pool *pool);

#endif
