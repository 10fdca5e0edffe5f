/* authctl: what the operator tool's commands share.
 *
 * authctl is a drop-in for `doveadm auth test|lookup` and `doveadm user`:
 * the same options, the same stdout and the same exit codes (0, 64 usage,
 * 67 unknown user, 75 temporary error, 77 authentication failed), so
 * scripts written for doveadm keep working. Each command lives in its own
 * authctl_<family>.c and is described by a struct authctl_command that
 * authctl.c lists in its dispatch table. Commands return the exit code and
 * write to stdout/stderr; none of them keeps state across runs. */
#ifndef CLIENT_AUTHCTL_H
#define CLIENT_AUTHCTL_H

#include "client/authc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* sysexits.h values, as doveadm uses them. */
#define AUTHCTL_EX_OK 0
#define AUTHCTL_EX_USAGE 64
#define AUTHCTL_EX_NOUSER 67
#define AUTHCTL_EX_TEMPFAIL 75
#define AUTHCTL_EX_NOPERM 77
#define AUTHCTL_EX_CONFIG 78

/* base_dir when no -c is given: what Debian's doveadm uses (`doveconf -d
 * base_dir`) and authd's settings default. /var/run/dovecot, upstream's
 * default, is the same directory on Debian. */
#define AUTHCTL_DEFAULT_BASE_DIR "/run/dovecot"
#define AUTHCTL_CLIENT_SOCKET "auth-client"
#define AUTHCTL_USERDB_SOCKET "auth-userdb"
/* Longest password read from the terminal or stdin. */
#define AUTHCTL_PASSWORD_MAX 4096u
/* Width of the key column in `user -u` / `auth lookup` output ("%-10s"). */
#define AUTHCTL_KEY_WIDTH 10u

struct authctl_ctx {
	struct pool *pool;          /* lives for the whole run */
	const char *base_dir;       /* from -c CONFIG, else the default */
	bool debug;                 /* auth_debug = yes: requests carry "debug" */
	int handshake_timeout_msecs;
	int lookup_timeout_msecs;
};

struct authctl_command {
	const char *name;           /* "auth test" */
	const char *usage;          /* its arguments, as doveadm prints them */
	int (*run)(struct authctl_ctx *ctx, const struct authctl_command *cmd,
		   int argc, char **argv);   /* argv[0] = last word of name */
};

extern const struct authctl_command authctl_cmd_auth_test;
extern const struct authctl_command authctl_cmd_auth_lookup;
extern const struct authctl_command authctl_cmd_user;
extern const struct authctl_command authctl_cmd_pw;      /* authctl_pw.c */

/* Prints "authctl NAME USAGE" to stderr (as doveadm does for a command
 * given bad arguments); returns AUTHCTL_EX_USAGE. */
int authctl_cmd_usage(const struct authctl_command *cmd);

/* base_dir + "/" + name, allocated from ctx->pool (name absolute: as is). */
const char *authctl_socket_path(struct authctl_ctx *ctx, const char *name);

/* -x auth info, parsed as doveadm's auth_user_info_parse_arg() does. */
struct authctl_info {
	const char *service;             /* default "doveadm" */
	const char *session, *local_name;
	const char *lip, *rip, *real_lip, *real_rip;   /* canonical text or NULL */
	unsigned int lport, rport, real_lport, real_rport;   /* 0 = unset */
	const char *forward_fields;      /* tab-escaped k=v list joined by TAB */
	const char **extra;              /* other -x arguments, in order */
	size_t extra_count, extra_cap;
	bool debug;
};

enum authctl_params_kind {
	AUTHCTL_PARAMS_AUTH,     /* AUTH line (lib-auth auth_client_request) */
	AUTHCTL_PARAMS_MASTER,   /* USER/PASS/LIST (lib-auth auth_master) */
	AUTHCTL_PARAMS_STORAGE,  /* USER from `user` without -u (mail storage
				    service: service, addresses, debug only) */
};

void authctl_info_init(struct authctl_info *info, const struct authctl_ctx *ctx);
/* Applies one -x argument. Returns 0, or -1 with *error_r (static text,
 * doveadm's: "lip: Invalid ip", "lport: Invalid port number"). */
int authctl_info_parse(struct authctl_info *info, struct pool *pool, const char *arg,
		       const char **error_r);
/* NULL-terminated request parameters in the order lib-auth sends them,
 * without "service=" (authc sends that first). Allocated from pool. */
const char *const *authctl_info_params(const struct authctl_info *info,
				       struct pool *pool, enum authctl_params_kind kind);

/* A lazily connected master/userdb connection shared by the lookups of one
 * command run (doveadm reuses one connection too, and reconnects after an
 * error). */
struct authctl_master {
	struct authctl_ctx *ctx;
	const char *path;
	struct authc_conn *conn;
	bool failed;                 /* conn is unusable: reset after reporting */
};

/* The outcome of one USER/PASS lookup. Strings point into the connection's
 * input buffer: valid until its next request. */
struct authctl_lookup {
	struct authc_str username;        /* USER: the canonical name */
	const struct authc_str *fields;   /* userdb/passdb fields */
	size_t field_count;
	bool failed;                      /* the server answered FAIL */
	struct authc_str fail_reason;     /* its reason=, if any */
	const char *fail_detail;          /* FAIL without reason: lib-auth's text */
	struct authc_str unknown_reply;   /* an unexpected reply word */
};

void authctl_master_init(struct authctl_master *m, struct authctl_ctx *ctx,
			 const char *path);
void authctl_master_deinit(struct authctl_master *m);
/* The connection, connecting first if needed (blocks up to the lookup
 * timeout). NULL with *error_r (valid until authctl_master_reset) on
 * failure. */
struct authc_conn *authctl_master_conn(struct authctl_master *m, const char **error_r);
/* Drops the connection; the next request reconnects. */
void authctl_master_reset(struct authctl_master *m);
/* Sends a USER or PASS lookup and waits for its reply. Returns 1 found,
 * 0 not found (also for a name lib-auth would not send), -1 error: FAIL
 * (res->failed) or a connection/protocol error (*error_r). Blocks up to the
 * lookup timeout. */
int authctl_master_lookup(struct authctl_master *m, enum authc_master_cmd cmd,
			  const char *user, const char *service,
			  const char *const *params, struct authctl_lookup *res,
			  const char **error_r);
/* Prints the error of a failed lookup to stderr, as lib-auth logs it. */
void authctl_lookup_print_error(const char *lookup_name, const char *user,
				const struct authctl_lookup *res, const char *error);
/* doveadm's cmd_user_input(): `user -u` (userdb) and `auth lookup` (passdb)
 * output for one name. Returns 1 found, 0 not found, -1 error. */
int authctl_lookup_print(struct authctl_master *m, bool userdb, const char *user,
			 const struct authctl_info *info, const char *show_field);

/* Dovecot's wildcard_match_icase(): '*' matches any run of bytes, '?' one
 * byte, ASCII letters compare case-insensitively. (data, len) is the
 * untrusted name; mask is the operator's. Returns true on a match. */
bool authctl_wildcard_match(const char *data, size_t len, const char *mask);

/* True if s contains TAB, CR or LF: lib-auth's master client refuses to
 * send such a name and reports the user as nonexistent. */
bool authctl_name_unsendable(const char *s);

/* Writes "  KEY       : VALUE\n" (or "  KEY\n" without a value) as doveadm's
 * "  %-10s: %s" does, with explicit lengths. */
void authctl_print_kv(const char *field, size_t len);

/* Reads a password as Dovecot's t_askpass() does: with a terminal on stdin,
 * "Password: " on stderr and no echo on /dev/tty; otherwise one line of
 * stdin without a prompt. Returns the length, or -1 with *error_r. The
 * caller wipes buf (size AUTHCTL_PASSWORD_MAX + 1, NUL-terminated). */
int authctl_askpass(const char *prompt, char *buf, size_t size, const char **error_r);

#endif
