/* hashpool: pthreads + one mutex protecting a FIFO job queue and a FIFO
 * completed list; a condition variable wakes idle threads; an eventfd
 * wakes the event loop. See hashpool.h for the contract.
 *
 * Wake-up protocol: a worker writes the eventfd only when it appends to an
 * empty completed list; hashpool_run_done() reads the eventfd *before* it
 * takes the list. So any job appended after the take found the list empty
 * and wrote the eventfd again: no completion is ever left without a
 * wake-up (at worst a wake-up finds an empty list). */
#include "authd/hashpool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct hashpool_list {
	struct hashpool_job *head, *tail;
};

struct hashpool {
	pthread_mutex_t lock;
	pthread_cond_t wake;          /* queue non-empty or stopping */
	struct hashpool_list queue;   /* submitted, not started */
	struct hashpool_list completed;
	bool stopping;
	int efd;
	unsigned int thread_count;
	pthread_t *threads;
};

static void hashpool_list_push(struct hashpool_list *l, struct hashpool_job *job)
{
	job->next = NULL;
	if (l->tail != NULL)
		l->tail->next = job;
	else
		l->head = job;
	l->tail = job;
}

static struct hashpool_job *hashpool_list_take(struct hashpool_list *l)
{
	struct hashpool_job *head = l->head;
	l->head = l->tail = NULL;
	return head;
}

static void hashpool_signal_loop(struct hashpool *pool)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is already huge, i.e. readable: fine */
	while (write(pool->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Appends job to the completed list (lock held). Returns true if the loop
 * must be woken. */
static bool hashpool_complete_locked(struct hashpool *pool, struct hashpool_job *job)
{
	bool was_empty = pool->completed.head == NULL;
	hashpool_list_push(&pool->completed, job);
	return was_empty;
}

static void *hashpool_thread(void *arg)
{
	struct hashpool *pool = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);   /* already inherited; be sure */
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (pool->queue.head == NULL && !pool->stopping)
			pthread_cond_wait(&pool->wake, &pool->lock);
		if (pool->stopping)
			break;   /* what is queued is completed as skipped */
		struct hashpool_job *job = pool->queue.head;
		pool->queue.head = job->next;
		if (pool->queue.head == NULL)
			pool->queue.tail = NULL;
		pthread_mutex_unlock(&pool->lock);

		job->work(job);

		pthread_mutex_lock(&pool->lock);
		if (hashpool_complete_locked(pool, job))
			hashpool_signal_loop(pool);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

static unsigned int hashpool_thread_count(unsigned int threads)
{
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned int)(n < HASHPOOL_MAX_THREADS ? n :
						 HASHPOOL_MAX_THREADS) : 1;
	}
	return threads < HASHPOOL_MAX_THREADS ? threads : HASHPOOL_MAX_THREADS;
}

/* Starts the threads with every signal blocked (they inherit the mask).
 * Returns 0, or -1 after stopping the ones already started. */
static int hashpool_start_threads(struct hashpool *pool, unsigned int wanted)
{
	sigset_t all, old;
	int err = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; pool->thread_count < wanted; pool->thread_count++) {
		err = pthread_create(&pool->threads[pool->thread_count], NULL,
				     hashpool_thread, pool);
		if (err != 0)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err == 0)
		return 0;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned int i = 0; i < pool->thread_count; i++)
		pthread_join(pool->threads[i], NULL);
	errno = err;
	return -1;
}

static void hashpool_free(struct hashpool *pool)
{
	int saved = errno;
	if (pool->efd >= 0)
		close(pool->efd);
	pthread_cond_destroy(&pool->wake);
	pthread_mutex_destroy(&pool->lock);
	free(pool->threads);
	free(pool);
	errno = saved;
}

int hashpool_create(unsigned int threads, struct hashpool **pool_r, const char **error_r)
{
	unsigned int wanted = hashpool_thread_count(threads);
	struct hashpool *pool = calloc(1, sizeof(*pool));

	if (pool == NULL || (pool->threads = calloc(wanted, sizeof(pthread_t))) == NULL) {
		free(pool);
		*error_r = "hashpool: out of memory";
		return -1;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->wake, NULL);
	pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pool->efd < 0) {
		hashpool_free(pool);
		*error_r = "hashpool: eventfd() failed";
		return -1;
	}
	if (hashpool_start_threads(pool, wanted) < 0) {
		hashpool_free(pool);
		*error_r = "hashpool: pthread_create() failed";
		return -1;
	}
	*pool_r = pool;
	return 0;
}

int hashpool_fd(const struct hashpool *pool)
{
	return pool->efd;
}

unsigned int hashpool_threads(const struct hashpool *pool)
{
	return pool->thread_count;
}

void hashpool_submit(struct hashpool *pool, struct hashpool_job *job)
{
	bool wake_loop = false;

	job->skipped = false;
	pthread_mutex_lock(&pool->lock);
	if (pool->stopping) {
		job->skipped = true;
		wake_loop = hashpool_complete_locked(pool, job);
	} else {
		hashpool_list_push(&pool->queue, job);
		pthread_cond_signal(&pool->wake);
	}
	pthread_mutex_unlock(&pool->lock);
	if (wake_loop)
		hashpool_signal_loop(pool);
}

/* Runs done() for a detached list. done() may free the job, so next is
 * read first. */
static void hashpool_run_list(struct hashpool_job *job)
{
	while (job != NULL) {
		struct hashpool_job *next = job->next;
		job->done(job);
		job = next;
	}
}

void hashpool_run_done(struct hashpool *pool)
{
	uint64_t count;

	/* first drain the eventfd, then take the list (see the top comment) */
	while (read(pool->efd, &count, sizeof(count)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&pool->lock);
	struct hashpool_job *done = hashpool_list_take(&pool->completed);
	pthread_mutex_unlock(&pool->lock);
	hashpool_run_list(done);
}

void hashpool_destroy(struct hashpool **poolp)
{
	struct hashpool *pool = poolp != NULL ? *poolp : NULL;
	if (pool == NULL)
		return;

	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	struct hashpool_job *pending = hashpool_list_take(&pool->queue);
	pthread_cond_broadcast(&pool->wake);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned int i = 0; i < pool->thread_count; i++)
		pthread_join(pool->threads[i], NULL);

	/* completed first, then the never-started ones, marked skipped */
	for (struct hashpool_job *j = pending; j != NULL; j = j->next)
		j->skipped = true;
	pthread_mutex_lock(&pool->lock);
	struct hashpool_job *done = hashpool_list_take(&pool->completed);
	pthread_mutex_unlock(&pool->lock);
	hashpool_run_list(done);
	hashpool_run_list(pending);
	/* done callbacks may have submitted more: those are skipped at once */
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		done = hashpool_list_take(&pool->completed);
		pthread_mutex_unlock(&pool->lock);
		if (done == NULL)
			break;
		hashpool_run_list(done);
	}
	hashpool_free(pool);
	*poolp = NULL;
}
