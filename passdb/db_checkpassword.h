/* db_checkpassword: running a qmail-style checkpassword program for passdb
 * and userdb checkpassword (Dovecot 2.3's db-checkpassword.c).
 *
 * The interface (https://cr.yp.to/checkpwd/interface.html, plus Dovecot's
 * conventions): the program is `args` split at spaces, each word
 * %-expanded on its own (so a user name with a space stays one argument,
 * where Dovecot splits after expanding), followed by the success command,
 * which it runs after a successful check.
 * It reads "user\0password\0timestamp\0" from fd 3 (at most
 * DB_CHECKPASSWORD_INPUT_MAX bytes; the timestamp is empty as in Dovecot)
 * and exits 1 for a wrong password; 111 (a temporary problem) and any other
 * status is an internal failure, so temp_fail - as Dovecot 2.3.19 does,
 * which includes vchkpw's 3 for a wrong password. The success
 * command is authd's own checkpassword-reply (`authd
 * --checkpassword-reply`, db_checkpassword_reply.c), which writes the
 * fields to fd 4 - user=$USER, userdb_home=$HOME, each variable named in
 * $EXTRA as a lower-case key (Dovecot's extra-fields convention, e.g.
 * EXTRA="userdb_quota_rule" userdb_quota_rule="*:storage=1G"), and
 * userdb_uid / userdb_gid - tab-separated, tab-escaped.
 *
 * For lookups (userdb, credentials) the program gets AUTHORIZED=1 and no
 * password; one that supports them sets AUTHORIZED=2 and runs the success
 * command, which then exits 2; 3 means unknown user. Credentials lookups
 * also get CREDENTIALS_LOOKUP=1 and SCHEME=<wanted> and answer with a
 * password={SCHEME}... field.
 *
 * The environment is built from scratch: PROTO=TCP, ORIG_UID, SERVICE,
 * TCPLOCALIP/TCPREMOTEIP/TCPLOCALPORT/TCPREMOTEPORT (and the old LOCAL_IP /
 * REMOTE_IP), MASTER_USER, DEBUG, the request's passdb fields as upper-case
 * names (except LD_* and the names above), plus PATH, TZ and the
 * sanitizers' *SAN_OPTIONS from our own environment.
 *
 * The program runs in its own process group and dies with the worker; it
 * gets the request's remaining time (worker_process_time_left_ms(), else
 * DB_CHECKPASSWORD_TIMEOUT_MS), after which the group is SIGKILLed, and is
 * always reaped. Runs only in auth workers (blocking); blocks. */
#ifndef PASSDB_DB_CHECKPASSWORD_H
#define PASSDB_DB_CHECKPASSWORD_H

#include <stdbool.h>
#include <stddef.h>

struct auth_request;
struct pool;

#define DB_CHECKPASSWORD_INPUT_MAX 512u          /* qmail's limit on fd 3 */
#define DB_CHECKPASSWORD_OUTPUT_MAX (16u * 1024u) /* what fd 4 may carry */
#define DB_CHECKPASSWORD_TIMEOUT_MS 5000u         /* outside a worker request */
#define DB_CHECKPASSWORD_ARGV_MAX 64u
#define DB_CHECKPASSWORD_REPLY_ARG "--checkpassword-reply"

enum db_checkpassword_status {
	DB_CHECKPASSWORD_INTERNAL_FAILURE = -1,   /* 111, 2 when authenticating, crash,
						   * timeout, no output ... (logged) */
	DB_CHECKPASSWORD_FAILURE = 0,             /* wrong password (exit 1) */
	DB_CHECKPASSWORD_OK = 1,
	DB_CHECKPASSWORD_USER_UNKNOWN = 2,        /* lookups: exit 3 */
};

struct db_checkpassword_field {
	const char *key;
	const char *value;   /* NULL: bare key */
};

struct db_checkpassword_reply {
	struct db_checkpassword_field *fields;   /* request pool */
	size_t count;
};

/* Runs command (the `args` template) for req: authenticate with the
 * request's password, or look the user up (authenticate=false). db_name is
 * for log lines. On OK the fields the success command wrote are in
 * *reply_r. Blocks until the program ends or its time is up. */
enum db_checkpassword_status
db_checkpassword_run(const char *command, struct auth_request *req, bool authenticate,
		     const char *db_name, struct db_checkpassword_reply *reply_r);

/* `authd --checkpassword-reply`: the success command. Returns the exit
 * status (0 authenticated, 2 lookup answered, 111 error). */
int db_checkpassword_reply_main(void);

#endif
