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
 * does. Lookups are O(1) (open addressing, keyed SipHash so a crafted file
 * cannot force collisions). An index is read-only after parsing and may be
 * read from several threads.
 *
 * The registry (db_passwd_file_registry.c) is for the event loop thread
 * only. */
#ifndef PASSDB_DB_PASSWD_FILE_H
#define PASSDB_DB_PASSWD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PASSWD_FILE_MAX_LINE (64u * 1024u)
#define PASSWD_FILE_MAX_SIZE (1024u * 1024u * 1024u)

struct passwd_entry {
	const char *user;           /* NUL-terminated key */
	const char *password;       /* NULL when absent; "" when empty. Already
				     * rewritten for the [NN] suffix forms
				     * (e.g. "{PLAIN-MD5}8efb...") */
	bool has_uid, has_gid;      /* userdb columns present and non-empty
				     * (only parsed when opts.userdb) */
	uid_t uid;
	gid_t gid;
	const char *home;           /* NULL when empty (only set when
				     * opts.userdb, like Dovecot) */
	bool has_userdb;            /* line reached the gid field */
	const char *const *extra;   /* extra fields "key=value" / "key", in order,
				     * old format already turned into userdb_mail= */
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
 * it), or NULL when out of memory or the data exceeds PASSWD_FILE_MAX_SIZE. */
struct passwd_file *passwd_file_parse(const uint8_t *data, size_t len,
				      const struct passwd_file_opts *opts);
void passwd_file_free(struct passwd_file **pf);

/* O(1) lookup by exact (case-sensitive) user name (len bytes, need not be
 * NUL-terminated). NULL if absent. The entry is owned by pf. */
const struct passwd_entry *passwd_file_lookup(const struct passwd_file *pf,
					      const char *user, size_t len);
/* Number of entries and the i-th in file order (for LIST). */
size_t passwd_file_count(const struct passwd_file *pf);
const struct passwd_entry *passwd_file_entry(const struct passwd_file *pf, size_t i);

/* The registry of loaded files, keyed by path, with Dovecot's change
 * detection (stat at most once per second; mtime with nanoseconds, size,
 * inode change => reload). userdb and single_userdb are OR-ed over all
 * users of the path (a new flag forces one re-read). Load-time problems are
 * logged with log_error("passwd-file PATH: ...").
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
