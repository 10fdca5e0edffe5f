/* test_hashpool: jobs run on pool threads, done callbacks on the thread
 * that calls hashpool_run_done(), each exactly once, in completion order;
 * destroy completes every job; pool threads block signals. */
#include "authd/hashpool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MANY_JOBS 5000
#define WAIT_MS 10000

struct test_job {
	struct hashpool_job job;     /* embedded: no allocation per job */
	unsigned int id;
	uint64_t input, result;
	int work_runs, done_runs;
	bool work_on_main, done_off_main, signals_unblocked;
	sem_t *gate;                 /* work waits on it when set */
	unsigned int *done_order;    /* done appends id here */
	unsigned int *done_count;
};

static pthread_t main_thread;

static struct test_job *test_job_of(struct hashpool_job *job)
{
	return (struct test_job *)((char *)job - offsetof(struct test_job, job));
}

static void test_work(struct hashpool_job *job)
{
	struct test_job *t = test_job_of(job);
	sigset_t cur;

	__atomic_add_fetch(&t->work_runs, 1, __ATOMIC_SEQ_CST);
	t->work_on_main = pthread_equal(pthread_self(), main_thread) != 0;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	t->signals_unblocked = !sigismember(&cur, SIGTERM) || !sigismember(&cur, SIGHUP) ||
			       !sigismember(&cur, SIGINT) || !sigismember(&cur, SIGCHLD);
	if (t->gate != NULL)
		while (sem_wait(t->gate) < 0 && errno == EINTR)
			;
	uint64_t x = t->input;   /* some work: 1000 rounds of xorshift */
	for (int i = 0; i < 1000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	t->result = x;
}

static void test_done(struct hashpool_job *job)
{
	struct test_job *t = test_job_of(job);
	t->done_runs++;
	t->done_off_main = pthread_equal(pthread_self(), main_thread) == 0;
	if (t->done_order != NULL)
		t->done_order[(*t->done_count)++] = t->id;
	else if (t->done_count != NULL)
		(*t->done_count)++;
}

static void init_jobs(struct test_job *jobs, unsigned int n, unsigned int *order,
		      unsigned int *count)
{
	memset(jobs, 0, sizeof(*jobs) * n);
	for (unsigned int i = 0; i < n; i++) {
		jobs[i].job.work = test_work;
		jobs[i].job.done = test_done;
		jobs[i].id = i;
		jobs[i].input = i + 1;
		jobs[i].done_order = order;
		jobs[i].done_count = count;
	}
}

/* Runs the loop side until *count reaches want (or WAIT_MS passes). */
static void wait_done(struct hashpool *pool, unsigned int *count, unsigned int want)
{
	struct pollfd pfd = { .fd = hashpool_fd(pool), .events = POLLIN };
	for (int waited = 0; *count < want && waited < WAIT_MS; waited += 10) {
		if (poll(&pfd, 1, 10) > 0)
			hashpool_run_done(pool);
	}
	assert_int_equal(*count, want);
}

static void test_many_jobs(void **state)
{
	struct test_job *jobs = calloc(MANY_JOBS, sizeof(*jobs));
	unsigned int *order = calloc(MANY_JOBS, sizeof(*order));
	unsigned int count = 0;
	struct hashpool *pool = NULL;
	const char *error = NULL;
	(void)state;

	assert_non_null(jobs);
	assert_non_null(order);
	init_jobs(jobs, MANY_JOBS, order, &count);
	assert_int_equal(hashpool_create(4, &pool, &error), 0);
	assert_int_equal(hashpool_threads(pool), 4);
	for (unsigned int i = 0; i < MANY_JOBS; i++)
		hashpool_submit(pool, &jobs[i].job);
	wait_done(pool, &count, MANY_JOBS);

	bool *seen = calloc(MANY_JOBS, sizeof(*seen));
	assert_non_null(seen);
	for (unsigned int i = 0; i < MANY_JOBS; i++) {
		const struct test_job *t = &jobs[i];
		if (t->work_runs != 1 || t->done_runs != 1 || t->work_on_main ||
		    t->done_off_main || t->job.skipped || t->signals_unblocked || t->result == 0)
			fail_msg("job %u: work_runs=%d done_runs=%d work_on_main=%d "
				 "done_off_main=%d skipped=%d signals_unblocked=%d, want 1 1 0 0 0 0",
				 i, t->work_runs, t->done_runs, t->work_on_main, t->done_off_main,
				 t->job.skipped, t->signals_unblocked);
		assert_false(seen[order[i]]);
		seen[order[i]] = true;
	}
	/* nothing left: a spurious call is harmless */
	hashpool_run_done(pool);
	assert_int_equal(count, MANY_JOBS);
	hashpool_destroy(&pool);
	assert_null(pool);
	free(seen);
	free(order);
	free(jobs);
}

static void test_fifo_single_thread(void **state)
{
	struct test_job jobs[50];
	unsigned int order[N_ELEMS(jobs)], count = 0;
	struct hashpool *pool = NULL;
	const char *error = NULL;
	(void)state;

	init_jobs(jobs, N_ELEMS(jobs), order, &count);
	assert_int_equal(hashpool_create(1, &pool, &error), 0);
	for (unsigned int i = 0; i < N_ELEMS(jobs); i++)
		hashpool_submit(pool, &jobs[i].job);
	wait_done(pool, &count, N_ELEMS(jobs));
	for (unsigned int i = 0; i < N_ELEMS(jobs); i++)
		if (order[i] != i)
			fail_msg("done order[%u] = %u, want %u", i, order[i], i);
	hashpool_destroy(&pool);
}

static void test_fd_readiness(void **state)
{
	struct test_job job;
	unsigned int count = 0;
	struct hashpool *pool = NULL;
	const char *error = NULL;
	(void)state;

	init_jobs(&job, 1, NULL, &count);
	assert_int_equal(hashpool_create(2, &pool, &error), 0);
	struct pollfd pfd = { .fd = hashpool_fd(pool), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0);   /* idle: not readable */
	hashpool_submit(pool, &job.job);
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	assert_int_equal(count, 0);               /* done waits for run_done */
	hashpool_run_done(pool);
	assert_int_equal(count, 1);
	assert_int_equal(poll(&pfd, 1, 0), 0);   /* drained */
	hashpool_destroy(&pool);
}

static void *open_gate_later(void *arg)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	sem_post(arg);
	return NULL;
}

static void test_destroy_pending(void **state)
{
	struct test_job jobs[11];
	unsigned int order[N_ELEMS(jobs)], count = 0;
	struct hashpool *pool = NULL;
	const char *error = NULL;
	sem_t gate;
	pthread_t opener;
	(void)state;

	assert_int_equal(sem_init(&gate, 0, 0), 0);
	init_jobs(jobs, N_ELEMS(jobs), order, &count);
	jobs[0].gate = &gate;   /* occupies the only thread */
	assert_int_equal(hashpool_create(1, &pool, &error), 0);
	for (unsigned int i = 0; i < N_ELEMS(jobs); i++)
		hashpool_submit(pool, &jobs[i].job);
	/* let job 0 start, then destroy while it runs and 1..10 are queued */
	for (int i = 0; i < WAIT_MS && __atomic_load_n(&jobs[0].work_runs, __ATOMIC_SEQ_CST) == 0;
	     i++)
		usleep(1000);
	assert_int_equal(pthread_create(&opener, NULL, open_gate_later, &gate), 0);
	hashpool_destroy(&pool);
	assert_null(pool);
	pthread_join(opener, NULL);

	assert_int_equal(count, N_ELEMS(jobs));
	for (unsigned int i = 0; i < N_ELEMS(jobs); i++) {
		const struct test_job *t = &jobs[i];
		bool want_skipped = i != 0;
		if (order[i] != i || t->done_runs != 1 || t->job.skipped != want_skipped ||
		    t->work_runs != (want_skipped ? 0 : 1) || t->done_off_main)
			fail_msg("job %u: order=%u done_runs=%d skipped=%d work_runs=%d, "
				 "want order %u, 1 done, skipped=%d", i, order[i], t->done_runs,
				 t->job.skipped, t->work_runs, i, want_skipped);
	}
	sem_destroy(&gate);
}

/* A done callback that submits another job (and frees heap jobs). */
struct chain_job {
	struct hashpool_job job;
	struct hashpool *pool;
	unsigned int *skipped_count, *done_count;
	int depth;
};

static void chain_work(struct hashpool_job *job)
{
	(void)job;
}

static void chain_done(struct hashpool_job *job)
{
	struct chain_job *c = (struct chain_job *)job;
	(*c->done_count)++;
	if (job->skipped)
		(*c->skipped_count)++;
	if (c->depth > 0) {
		struct chain_job *next = calloc(1, sizeof(*next));
		assert_non_null(next);
		*next = (struct chain_job){ .job = { .work = chain_work, .done = chain_done },
					    .pool = c->pool, .skipped_count = c->skipped_count,
					    .done_count = c->done_count, .depth = c->depth - 1 };
		hashpool_submit(c->pool, &next->job);
	}
	free(c);
}

static void test_submit_from_done(void **state)
{
	unsigned int skipped = 0, done = 0;
	struct hashpool *pool = NULL;
	const char *error = NULL;
	(void)state;

	assert_int_equal(hashpool_create(2, &pool, &error), 0);
	struct chain_job *first = calloc(1, sizeof(*first));
	assert_non_null(first);
	*first = (struct chain_job){ .job = { .work = chain_work, .done = chain_done },
				     .pool = pool, .skipped_count = &skipped,
				     .done_count = &done, .depth = 3 };
	hashpool_submit(pool, &first->job);
	wait_done(pool, &done, 4);   /* the chain runs on the loop side */
	assert_int_equal(skipped, 0);

	/* during destroy, submissions from done callbacks are skipped */
	first = calloc(1, sizeof(*first));
	assert_non_null(first);
	*first = (struct chain_job){ .job = { .work = chain_work, .done = chain_done },
				     .pool = pool, .skipped_count = &skipped,
				     .done_count = &done, .depth = 2 };
	hashpool_submit(pool, &first->job);
	hashpool_destroy(&pool);
	assert_int_equal(done, 7);
	assert_true(skipped >= 2);
}

static void test_thread_counts(void **state)
{
	struct hashpool *pool = NULL;
	const char *error = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	(void)state;

	assert_int_equal(hashpool_create(0, &pool, &error), 0);
	assert_int_equal(hashpool_threads(pool),
			 cpus < 1 ? 1 : cpus > HASHPOOL_MAX_THREADS ? HASHPOOL_MAX_THREADS : cpus);
	hashpool_destroy(&pool);

	assert_int_equal(hashpool_create(100000, &pool, &error), 0);
	assert_int_equal(hashpool_threads(pool), HASHPOOL_MAX_THREADS);
	hashpool_destroy(&pool);

	hashpool_destroy(&pool);   /* NULL: no-op */
	hashpool_destroy(NULL);
}

int main(void)
{
	main_thread = pthread_self();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_jobs),
		cmocka_unit_test(test_fifo_single_thread),
		cmocka_unit_test(test_fd_readiness),
		cmocka_unit_test(test_destroy_pending),
		cmocka_unit_test(test_submit_from_done),
		cmocka_unit_test(test_thread_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
