/* db_vpopmail: reading a vpopmail tree (qmail users/assign or users/cdb,
 * domains/<domain>/vpasswd or vpasswd.cdb, .qmailadmin-limits,
 * etc/defaultdomain) without libvchkpw, for passdb and userdb vpopmail.
 * Formats and expected answers: shared/spec/vpopmail.md.
 *
 * Layers, one file each:
 *   db_vpopmail_parse.c  pure parsers of untrusted bytes: a vpasswd line or
 *                        cdb value, an assign line or cdb value, limits,
 *                        the quota normaliser, login names, path checks;
 *   db_vpopmail_index.c  a text file (vpasswd, assign) as an immutable
 *                        sorted index of its lines (first entry wins);
 *   db_vpopmail_cache.c  the loaded files keyed by path with change
 *                        detection (stat at most once a second; mtime with
 *                        nanoseconds, size, inode) and the open cdb files;
 *   db_vpopmail.c        arguments and resolution login -> domain -> user;
 *   db_vpopmail_write.c  the opt-in writes: lastauth and home creation.
 *
 * Which file answers: the cdb form (users/cdb, vpasswd.cdb) when it exists
 * and is not older than its text form, else the text form (a warning is
 * logged once per change when the text is newer: someone forgot qmail-newu
 * or vmkpasswd). A truncated or corrupt cdb is an error for that domain
 * (logged, internal failure), never a crash: tinycdb bounds-checks every
 * read. The cdb files are mmap()ed by tinycdb (no descriptor stays
 * open); vpopmail and qmail-newu replace them by rename(), which is safe;
 * truncating one in place while authd runs is not (SIGBUS, as for every
 * mmap reader of cdb files).
 *
 * Path safety: the login's user and domain are checked (characters,
 * length, no '/', no "..", no control characters) before any file is
 * opened; user and domain are only ever used as lookup keys. Directories
 * come from the data (assign's domain directory, vpasswd's pw_dir) and
 * must be absolute, free of "." / ".." / empty components and control
 * characters, and lie under vpopmail_dir; others are refused and logged.
 *
 * Threads: everything here is for the event loop thread only (the cache is
 * global and unlocked). Lookups stat and read local files; they may block
 * on disk I/O like passwd-file does. */
#ifndef PASSDB_DB_VPOPMAIL_H
#define PASSDB_DB_VPOPMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Limits. */
#define VPOPMAIL_USER_MAX 64u          /* vpopmail 5.6 MAX_PW_NAME */
#define VPOPMAIL_DOMAIN_MAX 253u       /* a DNS name */
#define VPOPMAIL_LOGIN_MAX (VPOPMAIL_USER_MAX + 1u + VPOPMAIL_DOMAIN_MAX)
#define VPOPMAIL_LINE_MAX 4096u        /* longer vpasswd/assign lines are skipped */
#define VPOPMAIL_PATH_MAX 1024u        /* directories from the data, our paths */
#define VPOPMAIL_FILE_MAX (1024u * 1024u * 1024u)  /* text and cdb files */
#define VPOPMAIL_SMALL_FILE_MAX (64u * 1024u)     /* limits, defaultdomain */
#define VPOPMAIL_QUOTA_OUT_MAX 48u     /* "<u64>S,<u64>C" + NUL */

/* vpasswd pw_gid flag bits (vpopmail.h, identical in 5.4 and 5.6). */
enum vpopmail_flag {
	VPOPMAIL_NO_PASSWD_CHNG = 0x00001,
	VPOPMAIL_NO_POP = 0x00002,
	VPOPMAIL_NO_WEBMAIL = 0x00004,
	VPOPMAIL_NO_IMAP = 0x00008,
	VPOPMAIL_BOUNCE_MAIL = 0x00010,
	VPOPMAIL_NO_RELAY = 0x00020,
	VPOPMAIL_NO_DIALUP = 0x00040,
	VPOPMAIL_NO_SMTP = 0x00800,
	VPOPMAIL_QA_ADMIN = 0x01000,
	VPOPMAIL_V_OVERRIDE = 0x02000,
	VPOPMAIL_NO_SPAMASSASSIN = 0x04000,
	VPOPMAIL_DELETE_SPAM = 0x08000,
	VPOPMAIL_SA_ADMIN = 0x10000,
	VPOPMAIL_SA_EXPERT = 0x20000,
	VPOPMAIL_NO_MAILDROP = 0x40000,
};

/* Every access bit set: authd refuses the account for every service (a
 * stricter reading than Dovecot's, which checked only imap/pop3/smtp). */
#define VPOPMAIL_ALL_ACCESS_DISABLED \
	(VPOPMAIL_NO_POP | VPOPMAIL_NO_WEBMAIL | VPOPMAIL_NO_IMAP | VPOPMAIL_NO_SMTP)

/* ------------------------------------------------------------ parsers */

/* A slice of the input (not NUL-terminated). */
struct vpopmail_span {
	const uint8_t *p;
	size_t len;
};

/* One vpasswd entry; every span points into the parsed input. */
struct vpasswd_entry {
	struct vpopmail_span name, passwd, gecos, dir, shell, clear;
	bool has_clear;        /* an 8th field exists (may be empty) */
	uint32_t uid_field;    /* pw_uid: 1 POP, 2 APOP; not a uid, unused */
	uint32_t flags;        /* pw_gid: the flag bitmask (atoi semantics) */
};

/* A text vpasswd line "name:passwd:uid:gid:gecos:dir:shell[:clear]"
 * without its LF. Like vpopmail's vgetent, a line with fewer than 6 colons
 * is refused; the clear field runs to the next ':' or the end.
 * Returns 1, or 0 with *error_r (static text) when the line is refused
 * (fewer than 6 colons, empty or invalid name, NUL byte). Never blocks. */
int vpasswd_parse_line(const uint8_t *line, size_t len, struct vpasswd_entry *e_r,
		       const char **error_r);
/* The vpasswd.cdb form: key = name, value = the rest of the line after the
 * first ':'. Missing trailing fields are empty (vpopmail's cdb reader).
 * Returns 1, or 0 with *error_r for an invalid name or a NUL byte. */
int vpasswd_parse_cdb(const uint8_t *name, size_t name_len, const uint8_t *value,
		      size_t value_len, struct vpasswd_entry *e_r, const char **error_r);

/* One domain of users/assign. */
struct vpopmail_assign {
	struct vpopmail_span domain;        /* the key (text form only) */
	struct vpopmail_span real_domain;   /* the domain an alias points to */
	struct vpopmail_span dir;           /* the domain directory */
	uint32_t uid, gid;
};

enum vpopmail_assign_line {
	VPOPMAIL_ASSIGN_IGNORE,    /* '=' lines: not a vpopmail domain */
	VPOPMAIL_ASSIGN_INVALID,   /* *error_r says why */
	VPOPMAIL_ASSIGN_ENTRY,     /* "+domain-:real:uid:gid:dir:-::" */
	VPOPMAIL_ASSIGN_END,       /* the "." line: nothing after it counts */
};

/* An assign line without its LF (spec 2.1). The domain key keeps the case
 * of the input. Never blocks. */
enum vpopmail_assign_line vpopmail_assign_parse_line(const uint8_t *line, size_t len,
						     struct vpopmail_assign *a_r,
						     const char **error_r);
/* The users/cdb value of key "!domain-": NUL-separated real domain, uid,
 * gid, dir, ... Returns 1, or 0 with *error_r. */
int vpopmail_assign_parse_cdb(const uint8_t *value, size_t len, struct vpopmail_assign *a_r,
			      const char **error_r);

/* The flags a .qmailadmin-limits / vlimits.default file adds (disable_pop,
 * disable_imap, ...; separators space, tab, ':'). Unknown lines are
 * ignored. Never fails. */
uint32_t vpopmail_limits_parse(const uint8_t *data, size_t len);

/* vpopmail 5.6's format_maildirquota (spec section 8): out gets
 * "<bytes>S", "<count>C" or "<bytes>S,<count>C". Returns 1 with out set,
 * 0 when there is no quota (empty or NOQUOTA), -1 when the value is
 * invalid (no size and no count, or a size overflowing 64 bits).
 * out_size must be at least VPOPMAIL_QUOTA_OUT_MAX. */
int vpopmail_quota_normalise(const uint8_t *q, size_t len, char *out, size_t out_size);

/* A login split into lower-cased user and domain. */
struct vpopmail_login {
	char user[VPOPMAIL_USER_MAX + 1];
	char domain[VPOPMAIL_DOMAIN_MAX + 1];   /* "" when the login has none */
};

/* Splits (login, len) at the first '@', else the first '%', and
 * lower-cases both parts. The user must be 1..VPOPMAIL_USER_MAX of
 * vpopmail's user characters minus '/', not start with '.' and not contain
 * ".."; a domain (if any) must pass vpopmail_domain_valid(). Returns 1, or
 * 0 with *error_r (static text). Never blocks. */
int vpopmail_login_split(const uint8_t *login, size_t len, struct vpopmail_login *out,
			 const char **error_r);
/* True for 1..VPOPMAIL_DOMAIN_MAX bytes of [A-Za-z0-9.-] that neither
 * start with '.' nor contain "..". */
bool vpopmail_domain_valid(const uint8_t *d, size_t len);
/* True if path (len bytes) is absolute, shorter than VPOPMAIL_PATH_MAX,
 * free of control characters and of empty, "." and ".." components (one
 * trailing '/' allowed), and lies strictly under root (a clean absolute
 * directory without trailing '/'). */
bool vpopmail_path_under(const char *root, const uint8_t *path, size_t len);

/* ------------------------------------------------------------ text index */

enum vpopmail_text_kind {
	VPOPMAIL_TEXT_VPASSWD,   /* key = name (exact case) */
	VPOPMAIL_TEXT_ASSIGN,    /* key = domain of '+' lines, lower-cased */
};

struct vpopmail_text;       /* an indexed text file (immutable) */

/* Load-time problems ("line 12: fewer than 6 fields"); never secrets. */
typedef void vpopmail_log_fn(void *ctx, unsigned int line, const char *message);

/* Indexes a whole file image. Takes ownership of data (malloc'ed), which
 * is wiped and freed by vpopmail_text_free (or here on failure). Lines end
 * at LF (one CR before it is dropped); lines longer than VPOPMAIL_LINE_MAX,
 * with NUL bytes or that the kind's parser refuses are skipped and logged
 * (at most a few messages per file, then a count). Returns the index, or
 * NULL when out of memory or len > VPOPMAIL_FILE_MAX. Never blocks. */
struct vpopmail_text *vpopmail_text_build(uint8_t *data, size_t len,
					  enum vpopmail_text_kind kind,
					  vpopmail_log_fn *log, void *log_ctx);
void vpopmail_text_free(struct vpopmail_text **t);
/* Finds the first line whose key equals (key, key_len) (pass assign keys
 * lower-cased). Returns 1 with the line (without LF) in *line_r and *len_r,
 * owned by t, or 0. O(log n). */
int vpopmail_text_find(const struct vpopmail_text *t, const void *key, size_t key_len,
		       const uint8_t **line_r, size_t *len_r);
size_t vpopmail_text_count(const struct vpopmail_text *t);

/* ------------------------------------------------------------ the tree */

struct vpopmail_args {
	const char *vpopmail_dir;     /* default /home/vpopmail */
	const char *qmail_dir;        /* default /var/qmail */
	const char *assign_cdb;       /* name under users/, default "cdb" */
	const char *default_domain;   /* NULL: first line of etc/defaultdomain */
	const char *cache_key;        /* kept for the auth cache; NULL none */
	/* passdb */
	bool webmail_set;
	uint8_t webmail_ip[16];       /* IPv4 as ::ffff:a.b.c.d */
	/* userdb */
	const char *quota_key;        /* from quota_template=KEY=TEMPLATE */
	const char *quota_template;
	const char *mail;             /* default "maildir:~/Maildir"; "" = none */
	bool last_auth;               /* write <home>/lastauth */
	bool create_missing_home;     /* create <domain dir>/<user> for empty pw_dir */
};

enum vpopmail_args_for {
	VPOPMAIL_ARGS_PASSDB,
	VPOPMAIL_ARGS_USERDB,
};

/* Parses space-separated key=value args. passdb: cache_key= webmail=IP
 * blocking=yes|no and the tree settings vpopmail_dir= qmail_dir=
 * assign_cdb= default_domain=; userdb: cache_key= quota_template=K=T
 * mail= last_auth=yes|no create_missing_home=yes|no blocking= and the tree
 * settings. Unknown settings are errors (as in Dovecot). Returns 0, or -1
 * with *error_r (pool text). */
int vpopmail_args_parse(struct pool *pool, const char *args, enum vpopmail_args_for which,
			struct vpopmail_args *out, const char **error_r);

/* A resolved user; strings live in the lookup's pool. */
struct vpopmail_user {
	const char *user, *domain;    /* lower-cased login parts (domain after
				       * the default domain was applied) */
	const char *real_domain;      /* assign's (differs for alias domains) */
	const char *domain_dir;
	uint32_t uid, gid;            /* assign's */
	const char *passwd;           /* pw_passwd ("" possible) */
	const char *clear;            /* pw_clear_passwd, NULL when absent or empty */
	const char *gecos, *dir, *shell;   /* dir "" when never created */
	uint32_t gid_flags;           /* pw_gid */
	uint32_t flags;               /* effective: pw_gid | limits unless V_OVERRIDE */
	bool from_cdb;                /* vpasswd.cdb answered */
};

/* Resolves login (user@domain, user%domain, or user + default domain).
 * Returns 1 with *user_r filled (strings in pool), 0 when the user is
 * unknown (invalid name, no domain, domain not in assign, user not in
 * vpasswd; *msg_r says which, static or pool text, for a debug line), -1
 * on an internal error (unreadable or corrupt file, broken tree; *msg_r
 * names the path, for the caller's error line). Never writes. May block on
 * local disk I/O. Event loop thread only. */
int vpopmail_lookup(const struct vpopmail_args *args, const char *login, struct pool *pool,
		    struct vpopmail_user *user_r, const char **msg_r);

/* Instances using the cache: the last unref frees every cached file. */
void vpopmail_cache_ref(void);
void vpopmail_cache_unref(void);

/* ------------------------------------------------------------ writes */

/* Writes content to <dir>/lastauth through a temporary file and rename(),
 * owned by the assign uid/gid (fchown only when they differ from the
 * file's; needs root or the process being that uid). Returns 0, or -1 with
 * *error_r (pool text). Blocks on disk I/O (a few syscalls). */
int vpopmail_write_lastauth(const struct vpopmail_user *u, const char *content,
			    struct pool *pool, const char **error_r);
/* For an empty pw_dir: creates <domain dir>/<user> and its
 * Maildir/{cur,new,tmp} (mode 0700, owned by the assign uid/gid) and sets
 * u->dir. Does not write vpasswd. Refuses one-character user names (they
 * collide with vpopmail's hash directories). Returns 0, or -1 with
 * *error_r (pool text). Blocks on disk I/O. */
int vpopmail_create_home(const struct vpopmail_args *args, struct vpopmail_user *u,
			 struct pool *pool, const char **error_r);

/* ------------------------------------------------------------ cache (internal) */

struct vpopmail_cached;    /* one cached file */

enum vpopmail_file_kind {
	VPOPMAIL_FILE_VPASSWD,      /* text, indexed */
	VPOPMAIL_FILE_ASSIGN,       /* text, indexed */
	VPOPMAIL_FILE_CDB,          /* tinycdb */
	VPOPMAIL_FILE_LIMITS,       /* flags mask */
	VPOPMAIL_FILE_FIRST_LINE,   /* etc/defaultdomain */
};

/* Gets the cached file at path, (re)loading it when it changed. Returns 1
 * with *f_r, 0 when the file does not exist, -1 when it cannot be read or
 * loaded (*error_r names the path; also logged once per change). *f_r is
 * valid until the next vpopmail_cache_get() or unref. */
int vpopmail_cache_get(const char *path, enum vpopmail_file_kind kind,
		       struct vpopmail_cached **f_r, const char **error_r);
/* mtime of a cached file (for "cdb not older than text"). */
void vpopmail_cache_mtime(const struct vpopmail_cached *f, int64_t *sec_r, long *nsec_r);
/* Lookups in a loaded file. text: 1 with the line, 0 none. cdb: 1 with
 * the value (pointing into the mapping), 0 none, -1 corrupt file. */
int vpopmail_cache_text_find(const struct vpopmail_cached *f, const void *key, size_t len,
			     const uint8_t **line_r, size_t *len_r);
int vpopmail_cache_cdb_find(struct vpopmail_cached *f, const void *key, size_t len,
			    const uint8_t **value_r, size_t *len_r);
uint32_t vpopmail_cache_limits(const struct vpopmail_cached *f);
/* True the first time it is called after each (re)load of f: for warnings
 * that should appear once per change of the file. */
bool vpopmail_cache_warn_once(struct vpopmail_cached *f);
const char *vpopmail_cache_first_line(const struct vpopmail_cached *f);
/* Forgets every cached file (tests, last unref). */
void vpopmail_cache_flush(void);

#endif
