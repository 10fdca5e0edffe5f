/* db_passwd_file: Dovecot's passwd-file format, loaded into memory and
 * shared by passdb and userdb (spec passwd-file-and-ldap.md part A).
 *
 * A file is parsed completely into an immutable index; reload builds a new
 * index and swaps it in, so a lookup result stays valid until the next
 * db_passwd_file_get() call on the same path.
 *
 * Parsing (db_passwd_file.c) follows Dovecot 2.3's loader: lines end at LF
 * (one CR before it is dropped; a last line without LF counts); empty lines
 * and lines starting with ':' or '#' are skipped, nothing else (leading
 * spaces make part of a user name); fields split on every ':'. Deviations,
 * both for safety: a line longer than PASSWD_FILE_MAX_LINE and a line
 * containing a NUL byte are logged and ignored (Dovecot would read such a
 * line as a C string, i.e. cut at the NUL). A "[xy]" password suffix with
 * non-digits is treated like any other [NN] number (-> CRYPT), as Dovecot
 * does.
 *
 * The index (db_passwd_file_index.h describes the layout) is compact: one
 * byte-packed record per user in one mmap'd arena, repeated values (scheme
 * prefixes, home directories, extra fields) interned, and a bucketed hash
 * table of 32-bit offsets with keyed SipHash, so a crafted file cannot
 * force collisions and a lookup costs about two cache misses whatever the
 * number of users. Entries are decoded into a caller's struct passwd_entry.
 * An index is read-only after parsing and may be read from several threads.
 * The registry parses files with passwd_file_read() (db_passwd_file_read.c),
 * which streams them through a small buffer.
 *
 * The registry (db_passwd_file_registry.c) is for the event loop thread
 * only. */
#ifndef PASSDB_DB_PASSWD_FILE_H
#define PASSDB_DB_PASSWD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pool;

#define PASSWD_FILE_MAX_LINE (64u * 1024u)
#define PASSWD_FILE_MAX_SIZE (1024u * 1024u * 1024u)
#define PASSWD_FILE_STAT_INTERVAL_MS 100

struct passwd_entry {
	const char *user;           /* NUL-terminated key (in the index) */
	const char *password;       /* NULL when absent; "" when empty. Already
				     * rewritten for the [NN] suffix forms
				     * (e.g. "{PLAIN-MD5}8efb..."). A copy in
				     * the caller's pool (wiped with it) */
	bool has_uid, has_gid;      /* userdb columns present and non-empty
				     * (only parsed when opts.userdb) */
	uid_t uid;
	gid_t gid;
	const char *home;           /* NULL when empty (only set when
				     * opts.userdb, like Dovecot); in the pool */
	bool has_userdb;            /* line reached the gid field */
	const char *const *extra;   /* extra fields "key=value" / "key", in order,
				     * old format already turned into userdb_mail=;
				     * the array is in the pool, the strings in
				     * the index */
	size_t extra_count;
};

struct passwd_file;   /* one parsed file (immutable) */

/* Log sink for load-time problems ("User alice exists more than once").
 * The message never contains passwords. */
typedef void passwd_file_log_fn(void *ctx, const char *path, unsigned int line,
				const char *message);

struct passwd_file_opts {
	const char *path;           /* for messages */
	bool userdb;                /* validate uid/gid (reject bad lines) */
	bool single_userdb;         /* log "User X is missing userdb info" */
	passwd_file_log_fn *log;    /* may be NULL */
	void *log_ctx;
};

/* Parses a whole file image. Bad lines are logged and skipped, never fatal.
 * With opts->userdb, uid/gid names are resolved through NSS
 * (getpwnam_r/getgrnam_r), which may block.
 * Returns a new index (caller owns; free with passwd_file_free, which wipes
 * and unmaps it), or NULL when out of memory or the data exceeds
 * PASSWD_FILE_MAX_SIZE. */
struct passwd_file *passwd_file_parse(const uint8_t *data, size_t len,
				      const struct passwd_file_opts *opts);
void passwd_file_free(struct passwd_file **pf);
/* Reads fd (a regular file of about size_hint bytes) to its end and parses
 * it as passwd_file_parse() parses a whole image, but through a 1 MiB
 * buffer (db_passwd_file_read.c): the file is never in memory whole.
 * Returns 0 with *pf_r (caller owns), or -1 with *error_r (static text,
 * valid until the next call on this thread): read error, larger than
 * PASSWD_FILE_MAX_SIZE, out of memory. Blocks on disk I/O (and on NSS, as
 * passwd_file_parse). */
int passwd_file_read(int fd, uint64_t size_hint, const struct passwd_file_opts *opts,
		     struct passwd_file **pf_r, const char **error_r);

/* O(1) lookup by exact (case-sensitive) user name (len bytes, need not be
 * NUL-terminated). Returns 1 and fills *entry_r, or 0 when absent (then
 * *entry_r is untouched). user and the extra strings point into pf and stay
 * valid while pf lives; password, home and the extra array are allocated
 * from pool. Never blocks; safe from several threads. */
int passwd_file_lookup(const struct passwd_file *pf, const char *user, size_t len,
		       struct pool *pool, struct passwd_entry *entry_r);
/* Number of entries. */
size_t passwd_file_count(const struct passwd_file *pf);
/* The i-th entry in file order (for LIST), decoded as by
 * passwd_file_lookup. Returns 1, or 0 when i >= count. Costs at most
 * a few record skips (a sparse offset table marks every 16th). */
int passwd_file_entry(const struct passwd_file *pf, size_t i, struct pool *pool,
		      struct passwd_entry *entry_r);
/* The i-th user name in file order (pointing into pf), or NULL when
 * i >= count. */
const char *passwd_file_user(const struct passwd_file *pf, size_t i);
/* Bytes of memory the index maps (for logs and to decide how to free). */
size_t passwd_file_memory(const struct passwd_file *pf);

/* The registry of loaded files, keyed by path, with Dovecot's change
 * detection (mtime with nanoseconds, size, inode change => reload), but
 * stat()ing at most every PASSWD_FILE_STAT_INTERVAL_MS instead of once per
 * second, so that a change is served within a second. userdb and
 * single_userdb are OR-ed over all users of the path (a new flag forces
 * one re-read). Load-time problems are logged with
 * log_error("passwd-file PATH: ...").
 * Returns 1 with *pf_r set (owned by the registry), 0 when the file does
 * not exist ("missing passwd file"), -1 on other errors (EACCES, not a
 * regular file, too large, out of memory); *error_r names the path and
 * stays valid until the next call. Missing or failing files are dropped
 * from the registry. May block on disk I/O and NSS. */
int db_passwd_file_get(const char *path, bool userdb, bool single_userdb,
		       const struct passwd_file **pf_r, const char **error_r);
/* Forgets every cached file (SIGHUP, tests). */
void db_passwd_file_flush_all(void);

#endif
