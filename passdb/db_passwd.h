/* db_passwd: what the system-account drivers share - passdb passwd, passdb
 * shadow and userdb passwd (Dovecot 2.3's passdb-passwd.c, passdb-shadow.c,
 * userdb-passwd.c): reentrant getpwnam_r / getspnam_r lookups and their
 * `args`.
 *
 * These calls go through NSS (files, LDAP, sssd ...) and may block for
 * long, so the drivers are blocking by default and run in auth worker
 * processes; /etc/shadow also needs root. `blocking=no` runs them in the
 * auth process as Dovecot allows (then shadow usually fails: the auth
 * process is unprivileged). */
#ifndef PASSDB_DB_PASSWD_H
#define PASSDB_DB_PASSWD_H

#include <stdbool.h>
#include <sys/types.h>

struct pool;

/* Entries are capped at this many bytes of NSS buffer. */
#define DB_PASSWD_BUF_MAX (1024u * 1024u)
/* Dovecot's default scheme for both databases' hashes. */
#define DB_PASSWD_SCHEME "CRYPT"

struct db_passwd_args {
	bool blocking;          /* default true */
	const char *cache_key;  /* NULL: none */
	const char *templates;  /* userdb: the other "key=value" words ("" none) */
};

/* Parses space separated "blocking=yes|no" and "cache_key=TEMPLATE";
 * with templates=true (userdb passwd) other key=value words are kept as
 * field templates (Dovecot's deprecated userdb passwd args). Returns 0, or
 * -1 with *error_r (pool text) for an unknown word. */
int db_passwd_args_parse(struct pool *pool, const char *args, bool templates,
			 struct db_passwd_args *out, const char **error_r);

struct db_passwd_entry {
	const char *name, *passwd, *home, *shell;   /* pool copies */
	uid_t uid;
	gid_t gid;
};

/* getpwnam_r(user). Returns 1 found (*entry_r, strings in pool), 0 no such
 * user, -1 error (*error_r static or pool text). Blocks (NSS). */
int db_passwd_getpwnam(struct pool *pool, const char *user, struct db_passwd_entry *entry_r,
		       const char **error_r);
/* getspnam_r(user): name and password hash only (entry_r->passwd). Same
 * returns. Blocks; needs read access to the shadow database. */
int db_passwd_getspnam(struct pool *pool, const char *user, struct db_passwd_entry *entry_r,
		       const char **error_r);

/* Whether a stored hash can ever match: not empty, not locked ("!", "*"). */
bool db_passwd_hash_usable(const char *hash);

struct passdb;
struct auth_request;
typedef int db_passwd_get_fn(struct pool *pool, const char *user, struct db_passwd_entry *entry_r,
			     const char **error_r);

/* What passdb passwd and passdb shadow share: args parsing (init) and a
 * lookup through get (getpwnam / getspnam) that reports the hash, refuses
 * locked or empty ones as user disabled and returns the name as the
 * database has it. Blocking: runs in an auth worker. */
int db_passwd_passdb_init(struct passdb *db, const char *args, const char **error_r);
void db_passwd_passdb_lookup(struct auth_request *req, const char *db_name, db_passwd_get_fn *get);

#endif
