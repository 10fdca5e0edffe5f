/* db_vpopmail_cache: the files of a vpopmail tree that lookups have
 * needed, keyed by path, each loaded once and reloaded when it changes:
 * a file is stat()ed at most once per second; a different mtime (with
 * nanoseconds), size, inode or device means it is read again and the new
 * content replaces the old. Missing files are remembered as missing (and
 * re-checked the same way); only paths taken from the configuration and
 * from assign entries get here, so their number is bounded by the tree.
 * A file that fails to load (unreadable, too large, corrupt cdb) keeps its
 * error until it changes; the error is logged once per change.
 * Event loop thread only. */
#include "passdb/db_vpopmail.h"
#include "authd/log.h"
#include "common/secret.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CACHE_BUCKETS_MIN 16u
#define CACHE_ERROR_MAX 512u

struct cache_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct vpopmail_cached {
	struct vpopmail_cached *next;
	char *path;
	enum vpopmail_file_kind kind;
	time_t checked;              /* CLOCK_MONOTONIC second of the last stat */
	bool missing;
	struct cache_stamp stamp;
	char *error;                 /* load error for this stamp, or NULL */
	struct vpopmail_text *text;  /* VPASSWD, ASSIGN */
	struct cdb cdb;              /* CDB: mapped when cdb_open; its fd is
				      * closed right after cdb_init (tinycdb
				      * reads the mapping only), so thousands
				      * of domains cost no descriptors */
	bool cdb_open;
	uint32_t limits;             /* LIMITS */
	char *first_line;            /* FIRST_LINE */
	bool warned;                 /* vpopmail_cache_warn_once() since the load */
};

static struct {
	struct vpopmail_cached **buckets;
	size_t nbuckets, count;
	unsigned int refs;
} cache;
static char cache_errbuf[CACHE_ERROR_MAX];

static const char *cache_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *cache_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cache_errbuf, sizeof(cache_errbuf), fmt, ap);
	va_end(ap);
	return cache_errbuf;
}

static time_t cache_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void stamp_set(struct cache_stamp *s, const struct stat *st)
{
	*s = (struct cache_stamp){
		.dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim,
	};
}

static bool stamp_eq(const struct cache_stamp *a, const struct cache_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Drops the loaded content (wiping what may hold password hashes). */
static void cached_clear(struct vpopmail_cached *f)
{
	vpopmail_text_free(&f->text);
	if (f->cdb_open)
		cdb_free(&f->cdb);
	memset(&f->cdb, 0, sizeof(f->cdb));
	f->cdb.cdb_fd = -1;
	f->cdb_open = false;
	free(f->first_line);
	f->first_line = NULL;
	free(f->error);
	f->error = NULL;
	f->limits = 0;
	f->warned = false;
}

/* ------------------------------------------------------------ loading */

/* Opens path read-only for a regular file of at most max bytes. Returns
 * the fd, or -1 with *error_r. */
static int cache_open(const char *path, size_t max, struct stat *st, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*error_r = cache_error("open(%s) failed: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0)
		*error_r = cache_error("fstat(%s) failed: %s", path, strerror(errno));
	else if (!S_ISREG(st->st_mode))
		*error_r = cache_error("%s is not a regular file", path);
	else if ((uint64_t)st->st_size > max)
		*error_r = cache_error("%s is larger than %zu bytes", path, max);
	else
		return fd;
	close(fd);
	return -1;
}

/* Reads all of a regular file of at most max bytes into a new buffer,
 * NUL-terminated after len bytes. Returns 0, or -1 with *error_r. */
static int cache_read(const char *path, size_t max, uint8_t **data_r, size_t *len_r,
		      struct stat *st, const char **error_r)
{
	int fd = cache_open(path, max, st, error_r);
	if (fd < 0)
		return -1;
	size_t cap = (size_t)st->st_size + 1, len = 0;
	uint8_t *data = malloc(cap);
	int ret = data != NULL ? 0 : -1;
	if (ret < 0)
		*error_r = cache_error("%s: out of memory", path);
	while (ret == 0) {
		ssize_t r = read(fd, data + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			*error_r = cache_error("read(%s) failed: %s", path, strerror(errno));
		else if (len + (size_t)r == cap)   /* grew while we read: retry later */
			*error_r = cache_error("%s changed while being read", path);
		if (r <= 0 || len + (size_t)r == cap) {
			ret = r == 0 ? 0 : -1;
			break;
		}
		len += (size_t)r;
	}
	close(fd);
	if (ret < 0 && data != NULL) {
		secret_wipe(data, len);
		free(data);
		return -1;
	}
	data[len] = '\0';   /* len < cap: callers may treat it as a string */
	*data_r = data;
	*len_r = len;
	return ret;
}

static void cache_text_log(void *ctx, unsigned int line, const char *message)
{
	log_warning("vpopmail %s:%u: %s", (const char *)ctx, line, message);
}

static int cache_load_text(struct vpopmail_cached *f, struct stat *st, const char **error_r)
{
	uint8_t *data;
	size_t len;
	if (cache_read(f->path, VPOPMAIL_FILE_MAX, &data, &len, st, error_r) < 0)
		return -1;
	enum vpopmail_text_kind kind = f->kind == VPOPMAIL_FILE_ASSIGN ? VPOPMAIL_TEXT_ASSIGN :
					VPOPMAIL_TEXT_VPASSWD;
	f->text = vpopmail_text_build(data, len, kind, cache_text_log, f->path);
	if (f->text == NULL) {
		*error_r = cache_error("%s: out of memory while indexing", f->path);
		return -1;
	}
	log_debug("vpopmail %s: read %zu entries", f->path, vpopmail_text_count(f->text));
	return 0;
}

static int cache_load_cdb(struct vpopmail_cached *f, struct stat *st, const char **error_r)
{
	int fd = cache_open(f->path, VPOPMAIL_FILE_MAX, st, error_r);
	if (fd < 0)
		return -1;
	int ret = cdb_init(&f->cdb, fd);
	if (ret < 0)
		*error_r = cache_error("%s: not a valid cdb file (truncated or corrupt): %s",
				       f->path, strerror(errno));
	close(fd);
	f->cdb.cdb_fd = -1;
	f->cdb_open = ret == 0;
	return ret < 0 ? -1 : 0;
}

/* Limits and defaultdomain: small files. */
static int cache_load_small(struct vpopmail_cached *f, struct stat *st, const char **error_r)
{
	uint8_t *data;
	size_t len;
	if (cache_read(f->path, VPOPMAIL_SMALL_FILE_MAX, &data, &len, st, error_r) < 0)
		return -1;
	int ret = 0;
	if (f->kind == VPOPMAIL_FILE_LIMITS) {
		f->limits = vpopmail_limits_parse(data, len);
	} else {
		size_t n = 0;
		while (n < len && data[n] != '\n' && data[n] != '\r' && data[n] != ' ' &&
		       data[n] != '\t')
			n++;
		f->first_line = malloc(n + 1);
		if (f->first_line == NULL || memchr(data, '\0', n) != NULL) {
			*error_r = cache_error("%s: out of memory or NUL byte", f->path);
			ret = -1;
		} else {
			memcpy(f->first_line, data, n);
			f->first_line[n] = '\0';
		}
	}
	free(data);
	return ret;
}

/* (Re)loads f. Returns 0, or -1 with *error_r (also kept in f->error and
 * logged). On success the stamp is the one of the data read. */
static int cache_load(struct vpopmail_cached *f, const char **error_r)
{
	struct stat st;
	int ret;
	cached_clear(f);
	switch (f->kind) {
	case VPOPMAIL_FILE_VPASSWD:
	case VPOPMAIL_FILE_ASSIGN:
		ret = cache_load_text(f, &st, error_r);
		break;
	case VPOPMAIL_FILE_CDB:
		ret = cache_load_cdb(f, &st, error_r);
		break;
	default:
		ret = cache_load_small(f, &st, error_r);
		break;
	}
	if (ret == 0) {
		stamp_set(&f->stamp, &st);
		return 0;
	}
	log_error("vpopmail: %s", *error_r);
	f->error = strdup(*error_r);
	return -1;
}

/* ------------------------------------------------------------ registry */

static size_t cache_hash(const char *path)
{
	uint64_t h = 14695981039346656037ull;   /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)h;
}

static int cache_grow(void)
{
	if (cache.count < cache.nbuckets)
		return 0;
	size_t n = cache.nbuckets != 0 ? cache.nbuckets * 2 : CACHE_BUCKETS_MIN;
	struct vpopmail_cached **b = calloc(n, sizeof(*b));
	if (b == NULL)
		return -1;
	for (size_t i = 0; i < cache.nbuckets; i++) {
		while (cache.buckets[i] != NULL) {
			struct vpopmail_cached *f = cache.buckets[i];
			cache.buckets[i] = f->next;
			f->next = b[cache_hash(f->path) & (n - 1)];
			b[cache_hash(f->path) & (n - 1)] = f;
		}
	}
	free(cache.buckets);
	cache.buckets = b;
	cache.nbuckets = n;
	return 0;
}

static struct vpopmail_cached *cache_find_or_add(const char *path, enum vpopmail_file_kind kind)
{
	if (cache.nbuckets != 0) {
		struct vpopmail_cached *f = cache.buckets[cache_hash(path) & (cache.nbuckets - 1)];
		for (; f != NULL; f = f->next)
			if (f->kind == kind && strcmp(f->path, path) == 0)
				return f;
	}
	struct vpopmail_cached *f;
	if (cache_grow() < 0 || (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	if ((f->path = strdup(path)) == NULL) {
		free(f);
		return NULL;
	}
	f->kind = kind;
	f->checked = -1;
	f->cdb.cdb_fd = -1;
	f->cdb_open = false;
	struct vpopmail_cached **head = &cache.buckets[cache_hash(path) & (cache.nbuckets - 1)];
	f->next = *head;
	*head = f;
	cache.count++;
	return f;
}

/* The answer for f as last checked. */
static int cache_result(struct vpopmail_cached *f, struct vpopmail_cached **f_r,
			const char **error_r)
{
	if (f->missing)
		return 0;
	if (f->error != NULL) {
		*error_r = cache_error("%s", f->error);
		return -1;
	}
	*f_r = f;
	return 1;
}

int vpopmail_cache_get(const char *path, enum vpopmail_file_kind kind,
		       struct vpopmail_cached **f_r, const char **error_r)
{
	struct vpopmail_cached *f = cache_find_or_add(path, kind);
	if (f == NULL) {
		*error_r = cache_error("%s: out of memory", path);
		return -1;
	}
	time_t now = cache_now();
	if (f->checked == now)
		return cache_result(f, f_r, error_r);
	struct stat st;
	struct cache_stamp stamp;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			*error_r = cache_error("stat(%s) failed: %s", path, strerror(errno));
			return -1;   /* not cached: try again next time */
		}
		cached_clear(f);
		f->missing = true;
		f->checked = now;
		return 0;
	}
	stamp_set(&stamp, &st);
	if (f->missing || f->checked < 0 || !stamp_eq(&stamp, &f->stamp)) {
		f->missing = false;
		if (cache_load(f, error_r) < 0)
			stamp_set(&f->stamp, &st);   /* keep the error until it changes */
	}
	f->checked = now;
	return cache_result(f, f_r, error_r);
}

void vpopmail_cache_mtime(const struct vpopmail_cached *f, int64_t *sec_r, long *nsec_r)
{
	*sec_r = (int64_t)f->stamp.mtime.tv_sec;
	*nsec_r = f->stamp.mtime.tv_nsec;
}

int vpopmail_cache_text_find(const struct vpopmail_cached *f, const void *key, size_t len,
			     const uint8_t **line_r, size_t *len_r)
{
	return f->text != NULL ? vpopmail_text_find(f->text, key, len, line_r, len_r) : 0;
}

int vpopmail_cache_cdb_find(struct vpopmail_cached *f, const void *key, size_t len,
			    const uint8_t **value_r, size_t *len_r)
{
	if (!f->cdb_open || len > VPOPMAIL_LINE_MAX)
		return !f->cdb_open ? -1 : 0;
	int ret = cdb_find(&f->cdb, key, (unsigned int)len);
	if (ret <= 0)
		return ret < 0 ? -1 : 0;
	const void *v = cdb_get(&f->cdb, cdb_datalen(&f->cdb), cdb_datapos(&f->cdb));
	if (v == NULL)
		return -1;
	*value_r = v;
	*len_r = cdb_datalen(&f->cdb);
	return 1;
}

bool vpopmail_cache_warn_once(struct vpopmail_cached *f)
{
	bool first = !f->warned;
	f->warned = true;
	return first;
}

uint32_t vpopmail_cache_limits(const struct vpopmail_cached *f)
{
	return f->limits;
}

const char *vpopmail_cache_first_line(const struct vpopmail_cached *f)
{
	return f->first_line != NULL ? f->first_line : "";
}

void vpopmail_cache_flush(void)
{
	for (size_t i = 0; i < cache.nbuckets; i++) {
		while (cache.buckets[i] != NULL) {
			struct vpopmail_cached *f = cache.buckets[i];
			cache.buckets[i] = f->next;
			cached_clear(f);
			free(f->path);
			free(f);
		}
	}
	free(cache.buckets);
	cache.buckets = NULL;
	cache.nbuckets = 0;
	cache.count = 0;
}

void vpopmail_cache_ref(void)
{
	cache.refs++;
}

void vpopmail_cache_unref(void)
{
	if (cache.refs > 0 && --cache.refs == 0)
		vpopmail_cache_flush();
}
