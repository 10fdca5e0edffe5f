/* db_passwd_file_args: what passdb and userdb passwd-file share besides
 * the file itself: parsing `args` and finding the file and the key for a
 * request (spec passwd-file-and-ldap.md A.4, A.5). */
#ifndef PASSDB_DB_PASSWD_FILE_ARGS_H
#define PASSDB_DB_PASSWD_FILE_ARGS_H

#include "passdb/db_passwd_file.h"

#include <stdbool.h>

struct auth_request;
struct pool;

struct passwd_file_args {
	const char *path;             /* template; absolute or "./..." */
	const char *username_format;  /* default "%u" */
	const char *scheme;           /* passdb only; default "CRYPT" */
	bool path_has_vars;
	bool blocking;                /* blocking=yes: look up in auth workers
				       * (authd extension, as LDAP's option) */
};

/* Parses "[scheme=X] [username_format=Y] [blocking=yes|no] PATH".
 * passdb=false accepts only username_format and blocking. Returns 0, or -1 with *error_r (pool text). */
int passwd_file_args_parse(struct pool *pool, const char *args, bool passdb,
			   struct passwd_file_args *out, const char **error_r);

/* Marks a path as used by a userdb (uid/gid validation applies to all users
 * of that file), and records how many userdbs exist in total. */
void passwd_file_args_mark_userdb(const char *path);
/* Undoes one mark (the userdb is destroyed). */
void passwd_file_args_unmark_userdb(const char *path);
void passwd_file_args_set_userdb_count(unsigned int count);

/* Finds the entry of req's user and decodes it into *entry_r (strings in
 * req->pool or in the index, see passwd_file_lookup: copy what must
 * outlive the next db_passwd_file_get()). Returns 1 found, 0 unknown user
 * or missing file (logged), -1 internal failure (logged). db_name is for
 * log lines. */
int passwd_file_args_lookup(const struct passwd_file_args *args, struct auth_request *req,
			    const char *db_name, struct passwd_entry *entry_r);

#endif
