/* hashpool: a fixed set of threads that run expensive password work
 * (crypt(3) families, PBKDF2, argon2, SCRAM key derivation) off the event
 * loop, which never blocks (DESIGN.md).
 *
 * A job is a struct the caller embeds in its own request struct, so a
 * submission allocates nothing. work() runs on a pool thread; done() runs
 * later on the thread that calls hashpool_run_done() (the event loop),
 * which does so when hashpool_fd() becomes readable. Jobs are started in
 * submission order (FIFO) and their done() callbacks run in completion
 * order. The pool threads block every signal, so signals reach the loop.
 *
 * Ownership: the job's memory belongs to the caller and must stay valid
 * from hashpool_submit() until its done() has returned. work() must only
 * touch the job's own data (and thread-safe libraries); done() may free the
 * job, submit new jobs or do anything the loop thread may do. */
#ifndef AUTHD_HASHPOOL_H
#define AUTHD_HASHPOOL_H

#include <stdbool.h>

/* Upper bound on threads (a config typo must not start 10^6 threads). */
#define HASHPOOL_MAX_THREADS 256

struct hashpool;
struct hashpool_job;

typedef void hashpool_fn(struct hashpool_job *job);

struct hashpool_job {
	struct hashpool_job *next;   /* the pool's; don't touch while submitted */
	hashpool_fn *work;           /* runs on a pool thread; not NULL */
	hashpool_fn *done;           /* runs on the loop thread; not NULL */
	bool skipped;                /* set by the pool: true when done() runs
				      * because the pool was destroyed before
				      * work() started (work() never ran) */
};

/* Starts threads (0 = the number of online CPUs, capped at
 * HASHPOOL_MAX_THREADS). Returns 0 with *pool_r set, or -1 with *error_r
 * (static text; errno is kept). May block briefly (thread creation). */
int hashpool_create(unsigned int threads, struct hashpool **pool_r, const char **error_r);

/* An eventfd (non-blocking, close-on-exec) owned by the pool that is
 * readable when completed jobs are waiting for hashpool_run_done(). */
int hashpool_fd(const struct hashpool *pool);

/* Queues job; its work() will run on a pool thread. Never blocks for long
 * (a mutex); never fails. Thread-safe. If called while hashpool_destroy()
 * runs (from a done callback), the job is completed as skipped. */
void hashpool_submit(struct hashpool *pool, struct hashpool_job *job);

/* Drains the eventfd and runs done() of every job completed so far, in
 * completion order, on the calling thread. Call it when hashpool_fd() is
 * readable (spurious calls are harmless). Never blocks. */
void hashpool_run_done(struct hashpool *pool);

/* Number of pool threads. */
unsigned int hashpool_threads(const struct hashpool *pool);

/* Stops the pool: jobs not yet started are not run; jobs being worked on
 * are finished (this waits for them: blocks up to one job's duration);
 * then, on the calling thread, done() runs for every submitted job whose
 * done() has not run yet: first the completed ones (skipped = false) in
 * completion order, then the never-started ones (skipped = true) in
 * submission order, so every owner gets its callback and can free its
 * memory. Closes the eventfd, frees the pool and NULLs *pool. NULL or
 * *pool == NULL is a no-op. Must not be called from work() or done(). */
void hashpool_destroy(struct hashpool **pool);

#endif
