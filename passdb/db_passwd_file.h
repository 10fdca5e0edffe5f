/* db_passwd_file: Dovecot's passwd-file format, loaded into memory and
 * shared by passdb and userdb (spec passwd-file-and-ldap.md part A).
 *
 * A file is parsed completely into an immutable index; reload builds a new
 * index and swaps it in, so a lookup result stays valid until the next
 * db_passwd_file_get() call on the same path. */
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
	bool has_uid, has_gid;      /* userdb columns present and non-empty */
	uid_t uid;
	gid_t gid;
	const char *home;           /* NULL when empty */
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
 * Returns a new index (caller owns; free with passwd_file_free), or NULL
 * when out of memory or the data exceeds PASSWD_FILE_MAX_SIZE. */
struct passwd_file *passwd_file_parse(const uint8_t *data, size_t len,
				      const struct passwd_file_opts *opts);
void passwd_file_free(struct passwd_file **pf);

/* O(1) lookup by exact (case-sensitive) user name. NULL if absent. */
const struct passwd_entry *passwd_file_lookup(const struct passwd_file *pf,
					      const char *user, size_t len);
/* Number of entries and the i-th in file order (for LIST). */
size_t passwd_file_count(const struct passwd_file *pf);
const struct passwd_entry *passwd_file_entry(const struct passwd_file *pf, size_t i);

/* The registry of loaded files, keyed by path, with Dovecot's change
 * detection (stat at most once per second; mtime, size, inode change =>
 * reload). userdb is OR-ed over all users of the path.
 * Returns 1 with *pf_r set, 0 when the file does not exist ("missing passwd
 * file"), -1 on other errors (*error_r set). May block on disk I/O. */
int db_passwd_file_get(const char *path, bool userdb, bool single_userdb,
		       const struct passwd_file **pf_r, const char **error_r);
/* Forgets every cached file (SIGHUP, tests). */
void db_passwd_file_flush_all(void);

#endif
