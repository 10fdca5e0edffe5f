/* db_passwd_file_registry: the loaded passwd-files keyed by path, with
 * Dovecot's change detection (passwd-file-and-ldap.md A.6): a changed mtime
 * (with nanoseconds), size or inode means a fresh index is built and
 * swapped in, then the old one is freed. Dovecot stats at most once per
 * second; we stat at most every PASSWD_FILE_STAT_INTERVAL_MS per path
 * (timed with the coarse monotonic clock, a vDSO read), so a change is
 * served well within a second while a busy path still costs only a few
 * stat()s per second. Missing and unreadable files are not kept, so
 * per-domain paths of nonexistent domains cost nothing. Used from the
 * event loop thread only.
 *
 * A changed file of PF_BACKGROUND_MIN_SIZE bytes or more (a million users)
 * is re-read on a thread of its own while lookups go on with the old index;
 * the first lookup after the thread finished swaps the new one in. Smaller
 * files are re-read at once, so a change is visible to the very next
 * lookup. A replaced index of PF_FREE_ASYNC_MIN bytes or more is wiped and
 * unmapped on a thread of its own, so the loop never waits for it. */
#include "passdb/db_passwd_file.h"
#include "authd/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PF_RELOAD_WARN_SECS 10
#define PF_STARTUP_WARN_SECS 60
#define PF_ERROR_MAX 4200u
#define PF_REG_BUCKETS_MIN 16u
#define PF_BACKGROUND_MIN_SIZE (4u * 1024u * 1024u)
#define PF_JOB_ERROR_MAX 512u
#define PF_FREE_ASYNC_MIN (1024u * 1024u)
#define PF_THREAD_NICE 10
#define PF_NEVER_CHECKED (INT64_MIN / 2)   /* "long ago", without overflow */

struct pf_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* A background re-read. Owned jointly by the registry entry and the
 * thread; the last to let go frees it (and an unused result). */
struct pf_job {
	atomic_int refs;
	atomic_bool done;
	char *path;
	bool userdb, single_userdb;
	struct passwd_file *pf;      /* the result, NULL if it failed */
	struct pf_stamp stamp;
	int ret;                     /* as pf_read_file() */
	int64_t started, took_ms;    /* pf_now_ms() at the start; read + parse time */
	int64_t cpu_ms;              /* CPU time of the thread for it */
	char error[PF_JOB_ERROR_MAX];
};

struct pf_reg {
	struct pf_reg *next;
	struct pf_job *job;          /* re-read in progress, or NULL */
	char *path;
	struct passwd_file *pf;
	bool userdb, single_userdb;
	int64_t checked;             /* pf_now_ms() of the last stat */
	struct pf_stamp stamp;
};

static struct {
	struct pf_reg **buckets;     /* chained; nbuckets is a power of two */
	size_t nbuckets, count;
} pf_registry;
static __thread char pf_errbuf[PF_ERROR_MAX];

static const char *pf_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *pf_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pf_errbuf, sizeof(pf_errbuf), fmt, ap);
	va_end(ap);
	return pf_errbuf;
}

static int64_t pf_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts a detached thread with every signal blocked (signals stay with
 * the loop). Returns 0 or -1. */
static int pf_thread_start(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int err = pthread_create(&tid, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err == 0 ? 0 : -1;
}

/* Clean-up work (wiping and unmapping) yields to the event loop when they
 * share a CPU; the re-read itself runs at normal priority, as it bounds
 * how soon a change is served. */
static void pf_thread_lower_priority(void)
{
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), PF_THREAD_NICE);
}

static void *pf_free_run(void *arg)
{
	struct passwd_file *pf = arg;
	pf_thread_lower_priority();
	passwd_file_free(&pf);
	return NULL;
}

/* Frees a replaced index; a big one on a thread (wiping it takes
 * milliseconds), a small one, or when no thread starts, at once. */
static void pf_free_later(struct passwd_file **pf)
{
	if (*pf != NULL && passwd_file_memory(*pf) >= PF_FREE_ASYNC_MIN &&
	    pf_thread_start(pf_free_run, *pf) == 0) {
		*pf = NULL;
		return;
	}
	passwd_file_free(pf);
}

static void pf_stamp_set(struct pf_stamp *s, const struct stat *st)
{
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime = st->st_mtim;
}

static bool pf_stamp_eq(const struct pf_stamp *a, const struct pf_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static void pf_log_error(void *ctx, const char *path, unsigned int line, const char *message)
{
	(void)ctx;
	(void)line;
	log_error("passwd-file %s: %s", path, message);
}

/* Opens path and parses it with opts (streamed, never whole in memory).
 * Returns 1 with *pf_r and *stamp_r, 0 if it does not exist, -1 on error. */
static int pf_read_file(const char *path, const struct passwd_file_opts *opts,
			struct passwd_file **pf_r, struct pf_stamp *stamp_r, const char **error_r)
{
	struct stat st, st2;
	const char *error = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = pf_error("open(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	int ret = -1;
	if (fstat(fd, &st) < 0)
		*error_r = pf_error("fstat(%s) failed: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		*error_r = pf_error("%s is not a regular file", path);
	else if ((uint64_t)st.st_size > PASSWD_FILE_MAX_SIZE)
		*error_r = pf_error("%s is larger than %u bytes", path, PASSWD_FILE_MAX_SIZE);
	else if (passwd_file_read(fd, (uint64_t)st.st_size, opts, pf_r, &error) < 0)
		*error_r = pf_error("%s: %s", path, error);
	else
		ret = 1;
	if (ret == 1) {
		pf_stamp_set(stamp_r, &st);
		/* Changed while we read: make the next check reload it. */
		if (fstat(fd, &st2) < 0 || st2.st_size != st.st_size ||
		    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec || st2.st_mtim.tv_sec != st.st_mtim.tv_sec)
			stamp_r->mtime.tv_nsec = -1;
	}
	close(fd);
	return ret;
}

/* Builds a fresh index for r. Returns 1, 0 (file vanished) or -1. */
static int pf_reg_load(struct pf_reg *r, bool startup, const char **error_r)
{
	struct passwd_file *pf = NULL;
	struct pf_stamp stamp;
	struct passwd_file_opts opts = {
		.path = r->path, .userdb = r->userdb, .single_userdb = r->single_userdb,
		.log = pf_log_error,
	};
	int64_t start = pf_now_ms();
	int ret = pf_read_file(r->path, &opts, &pf, &stamp, error_r);
	if (ret <= 0)
		return ret;
	pf_free_later(&r->pf);   /* the old index goes after the swap */
	r->pf = pf;
	r->stamp = stamp;
	int64_t ms = pf_now_ms() - start;
	if (ms > (startup ? PF_STARTUP_WARN_SECS : PF_RELOAD_WARN_SECS) * 1000)
		log_warning("passwd-file %s: Reading %zu users took %u secs", r->path,
			    passwd_file_count(pf), (unsigned int)(ms / 1000));
	else
		log_debug("passwd-file %s: Read %zu users in %u ms (%zu kB)", r->path,
			  passwd_file_count(pf), (unsigned int)ms, passwd_file_memory(pf) / 1024);
	return 1;
}

static void pf_job_unref(struct pf_job *job)
{
	if (atomic_fetch_sub(&job->refs, 1) != 1)
		return;
	passwd_file_free(&job->pf);
	free(job->path);
	free(job);
}

/* The thread: read and parse, touching nothing but the job. */
static void *pf_job_run(void *arg)
{
	struct pf_job *job = arg;
	const char *error = NULL;
	struct passwd_file_opts opts = {
		.path = job->path, .userdb = job->userdb, .single_userdb = job->single_userdb,
		.log = pf_log_error,
	};
	int64_t start = pf_now_ms();
	job->ret = pf_read_file(job->path, &opts, &job->pf, &job->stamp, &error);
	if (job->ret < 0)
		snprintf(job->error, sizeof(job->error), "%s", error != NULL ? error : "failed");
	job->took_ms = pf_now_ms() - start;
	struct timespec cpu;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	job->cpu_ms = (int64_t)cpu.tv_sec * 1000 + cpu.tv_nsec / 1000000;
	atomic_store(&job->done, true);
	pf_job_unref(job);
	return NULL;
}

/* Starts a background re-read of r. Returns 0, or -1 (then the caller
 * reads synchronously). */
static int pf_job_start(struct pf_reg *r)
{
	struct pf_job *job = calloc(1, sizeof(*job));
	if (job == NULL || (job->path = strdup(r->path)) == NULL) {
		free(job);
		return -1;
	}
	atomic_init(&job->refs, 2);
	atomic_init(&job->done, false);
	job->userdb = r->userdb;
	job->single_userdb = r->single_userdb;
	job->started = pf_now_ms();
	if (pf_thread_start(pf_job_run, job) < 0) {
		free(job->path);
		free(job);
		return -1;
	}
	r->job = job;
	log_debug("passwd-file %s: changed, re-reading in the background", r->path);
	return 0;
}

/* Swaps in a finished background re-read. */
static void pf_job_collect(struct pf_reg *r)
{
	struct pf_job *job = r->job;
	if (job == NULL || !atomic_load(&job->done))
		return;
	r->job = NULL;
	if (job->ret > 0) {
		pf_free_later(&r->pf);
		r->pf = job->pf;
		job->pf = NULL;
		r->stamp = job->stamp;
		log_info("passwd-file %s: Read %zu users in the background (%u ms, %u ms CPU, "
			 "in use after %u ms)", r->path, passwd_file_count(r->pf),
			 (unsigned int)job->took_ms, (unsigned int)job->cpu_ms,
			 (unsigned int)(pf_now_ms() - job->started));
	} else if (job->ret < 0) {
		/* Keep serving the old contents; the next check tries again. */
		log_error("passwd-file %s: %s", r->path, job->error);
	}
	pf_job_unref(job);
}

/* FNV-1a: only existing files are registered, so collisions cannot be
 * forced by request data. */
static size_t pf_reg_hash(const char *path)
{
	uint64_t h = 14695981039346656037ull;
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)h;
}

static struct pf_reg **pf_reg_find(const char *path)
{
	static struct pf_reg *none;
	if (pf_registry.nbuckets == 0)
		return &none;
	struct pf_reg **rp = &pf_registry.buckets[pf_reg_hash(path) & (pf_registry.nbuckets - 1)];
	while (*rp != NULL && strcmp((*rp)->path, path) != 0)
		rp = &(*rp)->next;
	return rp;
}

static void pf_reg_remove(struct pf_reg **rp)
{
	struct pf_reg *r = *rp;
	if (r == NULL)
		return;
	*rp = r->next;
	pf_registry.count--;
	if (r->job != NULL)
		pf_job_unref(r->job);   /* the thread finishes on its own */
	passwd_file_free(&r->pf);
	free(r->path);
	free(r);
}

/* Keeps the load factor at most 1. Returns 0 or -1. */
static int pf_reg_grow(void)
{
	if (pf_registry.count < pf_registry.nbuckets)
		return 0;
	size_t n = pf_registry.nbuckets != 0 ? pf_registry.nbuckets * 2 : PF_REG_BUCKETS_MIN;
	struct pf_reg **b = calloc(n, sizeof(*b));
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < pf_registry.nbuckets; i++) {
		while (pf_registry.buckets[i] != NULL) {
			struct pf_reg *r = pf_registry.buckets[i];
			pf_registry.buckets[i] = r->next;
			r->next = b[pf_reg_hash(r->path) & (n - 1)];
			b[pf_reg_hash(r->path) & (n - 1)] = r;
		}
	}
	free(pf_registry.buckets);
	pf_registry.buckets = b;
	pf_registry.nbuckets = n;
	return 0;
}

static struct pf_reg *pf_reg_add(const char *path)
{
	struct pf_reg *r;
	if (pf_reg_grow() < 0 || (r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->path = strdup(path)) == NULL) {
		free(r);
		return NULL;
	}
	struct pf_reg **head = &pf_registry.buckets[pf_reg_hash(path) & (pf_registry.nbuckets - 1)];
	r->checked = PF_NEVER_CHECKED;
	r->next = *head;
	*head = r;
	pf_registry.count++;
	return r;
}

/* Finds or creates the entry for path; NULL when out of memory. Sets
 * *reload_r when the file must be (re)read regardless of its stamp. */
static struct pf_reg *pf_reg_get(const char *path, bool userdb, bool single_userdb,
				 bool *reload_r)
{
	struct pf_reg *r = *pf_reg_find(path);
	*reload_r = r == NULL;
	if (r == NULL && (r = pf_reg_add(path)) == NULL)
		return NULL;
	if ((userdb && !r->userdb) || (single_userdb && !r->single_userdb))
		*reload_r = true;
	r->userdb |= userdb;
	r->single_userdb |= single_userdb;
	return r;
}

int db_passwd_file_get(const char *path, bool userdb, bool single_userdb,
		       const struct passwd_file **pf_r, const char **error_r)
{
	bool reload;
	int64_t now = pf_now_ms();
	struct stat st;
	struct pf_stamp stamp;
	struct pf_reg *r = pf_reg_get(path, userdb, single_userdb, &reload);
	if (r == NULL) {
		*error_r = pf_error("%s: out of memory", path);
		return -1;
	}
	pf_job_collect(r);
	if (!reload && (now - r->checked < PASSWD_FILE_STAT_INTERVAL_MS || r->job != NULL)) {
		*pf_r = r->pf;
		return 1;
	}
	bool startup = r->pf == NULL;
	int ret = 1;
	if (stat(path, &st) < 0) {
		ret = errno == ENOENT ? 0 : -1;
		if (ret < 0)
			*error_r = pf_error("stat(%s) failed: %s", path, strerror(errno));
	} else {
		pf_stamp_set(&stamp, &st);
		bool changed = reload || !pf_stamp_eq(&stamp, &r->stamp);
		/* A big file changed: keep answering from the old index
		 * while a thread builds the new one. */
		if (changed && !reload && !startup && (uint64_t)st.st_size >= PF_BACKGROUND_MIN_SIZE &&
		    pf_job_start(r) == 0) {
			r->checked = now;
			*pf_r = r->pf;
			return 1;
		}
		if (changed)
			ret = pf_reg_load(r, startup, error_r);
	}
	if (ret <= 0) {
		/* Missing or unreadable: forget it, so a file that comes back is
		 * read fresh and missing per-domain files cost no memory. */
		pf_reg_remove(pf_reg_find(path));
		return ret;
	}
	r->checked = now;
	*pf_r = r->pf;
	return 1;
}

void db_passwd_file_flush_all(void)
{
	for (size_t i = 0; i < pf_registry.nbuckets; i++)
		while (pf_registry.buckets[i] != NULL)
			pf_reg_remove(&pf_registry.buckets[i]);
	free(pf_registry.buckets);
	pf_registry.buckets = NULL;
	pf_registry.nbuckets = 0;
	pf_registry.count = 0;
}
