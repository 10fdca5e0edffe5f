/* authc: the client side of Dovecot 2.3's auth protocols.
 *
 * Speaks both socket families of spec/dovecot-auth-protocol.md:
 *   - auth-client (section 2): handshake VERSION/CPID, AUTH/CONT requests,
 *     OK/CONT/FAIL replies; used by `authctl auth test` and the benchmark;
 *   - auth-master / auth-userdb (section 3): USER, PASS and LIST lookups;
 *     used by `authctl user` and `authctl auth lookup`.
 *
 * Layers, bottom up:
 *   1. pure parsing (no I/O): authc_line_parse() splits one received line
 *      into tab-unescaped fields; authc_handshake_feed() runs the greeting
 *      state machine over parsed lines. Unit tests and fuzzers drive these
 *      with byte arrays.
 *   2. a connection (struct authc_conn): a non-blocking socket with a
 *      bounded input buffer and an output queue. The non-blocking
 *      primitives (authc_conn_input, authc_conn_next_line, authc_conn_flush,
 *      authc_*_queue) never wait, so an event loop (the benchmark) can drive
 *      many connections;
 *   3. blocking helpers with a per-call deadline (authc_connect,
 *      authc_handshake_wait, authc_*_send, authc_wait_reply) for one-shot
 *      tools such as authctl.
 *
 * Received bytes are untrusted: every line is bounded by a named limit
 * (Dovecot's own client buffer sizes), lengths are explicit, and fields are
 * NUL-terminated only after they have been split and unescaped inside the
 * buffer. Replies point into the connection's input buffer and stay valid
 * until the next call that reads from the same connection.
 *
 * Secrets: the initial response / continuation data of AUTH and CONT is
 * base64-encoded into the output queue, which is wiped as soon as it has
 * been written (and on destroy); callers wipe their own copies with
 * secret_wipe(). */
#ifndef CLIENT_AUTHC_H
#define CLIENT_AUTHC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol versions we speak: major 1 on both families; minor 2 on
 * auth-client (as Dovecot's lib-auth, so empty "resp=" means an empty
 * initial response), minor 0 on auth-master (as lib-auth's master client). */
#define AUTHC_PROTOCOL_MAJOR 1u
#define AUTHC_CLIENT_MINOR 2u
#define AUTHC_MASTER_MINOR 0u

/* Input buffers, including the LF: a received line may be one byte shorter.
 * The values are Dovecot lib-auth's (AUTH_CLIENT_MAX_LINE_LENGTH and
 * auth-master.c MAX_INBUF_SIZE). */
#define AUTHC_CLIENT_IN_MAX 16384u
#define AUTHC_MASTER_IN_MAX 8192u
/* Longest request line the servers accept, without the LF (spec checklist
 * 9 and 50); longer requests are refused before anything is sent. */
#define AUTHC_CLIENT_REQUEST_MAX 16383u
#define AUTHC_MASTER_REQUEST_MAX 1023u
/* Output queue limit (pipelined requests not yet written). */
#define AUTHC_OUT_MAX (256u * 1024u)
/* Fields per received line, MECH lines per handshake, name lengths. */
#define AUTHC_ARGS_MAX 1024u
#define AUTHC_MECHS_MAX 64u
#define AUTHC_MECH_NAME_MAX 63u
#define AUTHC_COOKIE_HEX_LEN 32u
/* Error texts are cut to this many bytes (control bytes shown as \xNN). */
#define AUTHC_ERROR_MAX 512u
/* How long a unix socket connect is retried while the listener's backlog
 * is full or nobody accepts yet (as lib-auth: one second). */
#define AUTHC_CONNECT_RETRY_MSECS 1000
/* Defaults used by authctl: lib-auth waits 30 s for the auth-client
 * handshake and 155 s for a master lookup (spec 2.8). */
#define AUTHC_HANDSHAKE_TIMEOUT_MSECS 30000
#define AUTHC_LOOKUP_TIMEOUT_MSECS 155000

enum authc_kind {
	AUTHC_KIND_CLIENT,   /* auth-client protocol (auth-client, auth-login, ...) */
	AUTHC_KIND_MASTER,   /* master protocol (auth-master, auth-userdb) */
};

/* A received field after unescaping: len bytes at s, followed by a NUL that
 * is not counted. A value may itself contain NUL bytes (escaped "\0010"),
 * so always use len. */
struct authc_str {
	const char *s;
	size_t len;
};

enum authc_reply_type {
	AUTHC_REPLY_OTHER,      /* any other command word (handshake lines) */
	AUTHC_REPLY_OK,         /* auth-client */
	AUTHC_REPLY_CONT,
	AUTHC_REPLY_FAIL,       /* both families */
	AUTHC_REPLY_USER,       /* master */
	AUTHC_REPLY_NOTFOUND,
	AUTHC_REPLY_PASS,
	AUTHC_REPLY_LIST,
	AUTHC_REPLY_DONE,       /* master LIST end (or handshake DONE: no id) */
};

/* One parsed line. cmd is field 0; args are the fields after it. When
 * args[0] is a valid request id (decimal, fits uint32) has_id is set and
 * fields/field_count are the fields after the id, else they equal args. */
struct authc_reply {
	enum authc_reply_type type;
	struct authc_str cmd;
	const struct authc_str *args;
	size_t arg_count;
	bool has_id;
	uint32_t id;
	const struct authc_str *fields;
	size_t field_count;
};

/* Mechanism flags of a MECH line (spec 2.2). */
#define AUTHC_MECH_PRIVATE         (1u << 0)
#define AUTHC_MECH_ANONYMOUS       (1u << 1)
#define AUTHC_MECH_PLAINTEXT       (1u << 2)
#define AUTHC_MECH_DICTIONARY      (1u << 3)
#define AUTHC_MECH_ACTIVE          (1u << 4)
#define AUTHC_MECH_FORWARD_SECRECY (1u << 5)
#define AUTHC_MECH_MUTUAL_AUTH     (1u << 6)

struct authc_mech {
	char name[AUTHC_MECH_NAME_MAX + 1];
	unsigned int flags;
};

/* What the server's greeting said. */
struct authc_handshake {
	enum authc_kind kind;
	bool have_version, have_spid, have_cuid, have_cookie, done;
	uint32_t major, minor;
	uint32_t spid, cuid;
	char cookie[AUTHC_COOKIE_HEX_LEN + 1];
	struct authc_mech mechs[AUTHC_MECHS_MAX];
	size_t mech_count;
};

enum authc_hs_status {
	AUTHC_HS_ERROR = -1,        /* *error_r says why */
	AUTHC_HS_WRONG_SOCKET = -2, /* the greeting is the other family's */
	AUTHC_HS_MORE = 0,          /* need more lines */
	AUTHC_HS_DONE = 1,          /* complete (DONE, or master SPID) */
};

/* ---- 1. pure parsing ------------------------------------------------- */

/* Splits (line, len) — one line without its LF; a trailing CR is dropped —
 * in place into TAB-separated fields, unescapes each (spec 1.2) and
 * NUL-terminates it. line must have len + 1 writable bytes (the byte after
 * the line, where its LF was, receives the last field's NUL). args_buf (args_max entries) receives the fields after
 * the command word. Returns 1, or -1 with *error_r (static text) when the
 * line is empty or has more than args_max + 1 fields. Never allocates,
 * never blocks. The reply points into line. */
int authc_line_parse(uint8_t *line, size_t len, struct authc_str *args_buf,
		     size_t args_max, struct authc_reply *reply_r,
		     const char **error_r);

/* Starts a handshake of the given family (zeroes hs). */
void authc_handshake_init(struct authc_handshake *hs, enum authc_kind kind);

/* Feeds one parsed greeting line. Returns an enum authc_hs_status; on
 * AUTHC_HS_ERROR *error_r is static text naming the problem (lib-auth's
 * wording where it has one). Client family: VERSION first (major 1), then
 * MECH/SPID/CUID/COOKIE, DONE ends; SPID before any MECH means a master
 * socket. Master family: VERSION first, SPID ends; MECH/CUID/COOKIE/DONE
 * mean a client socket. Unknown lines are ignored. */
enum authc_hs_status authc_handshake_feed(struct authc_handshake *hs,
					  const struct authc_reply *line,
					  const char **error_r);

/* The mechanism named name (ASCII case-insensitive) or NULL. */
const struct authc_mech *authc_handshake_find_mech(const struct authc_handshake *hs,
						   const char *name);

/* ---- 2. connection ---------------------------------------------------- */

struct authc_conn;

/* Creates an unconnected connection object for path (a unix socket).
 * timeout_msecs bounds every later blocking call (each call gets its own
 * deadline; < 0 = wait forever). Returns NULL only when memory runs out.
 * The caller owns it; free with authc_conn_destroy(). Never blocks. */
struct authc_conn *authc_conn_create(const char *path, enum authc_kind kind,
				     int timeout_msecs);
/* Closes the socket, wipes and frees buffers; NULLs *conn. */
void authc_conn_destroy(struct authc_conn **conn);

void authc_conn_set_timeout(struct authc_conn *conn, int timeout_msecs);
/* The socket (for poll/epoll), -1 before connecting. */
int authc_conn_fd(const struct authc_conn *conn);
const char *authc_conn_path(const struct authc_conn *conn);
/* The greeting as far as it has been received. */
const struct authc_handshake *authc_conn_handshake(const struct authc_conn *conn);
/* True when connecting failed (as opposed to a later protocol error). */
bool authc_conn_connect_failed(const struct authc_conn *conn);

/* Connects (retrying a full backlog or a not-yet-accepting listener for up
 * to AUTHC_CONNECT_RETRY_MSECS, bounded by the timeout). On the client
 * family it queues and writes "VERSION 1 2" and "CPID <our pid>" at once,
 * as lib-auth does; on the master family VERSION is sent with the first
 * request. Returns 1, or -1 with *error_r (owned by conn, valid until the
 * next call on it), e.g. "connect(PATH) failed: No such file or directory".
 * Blocks up to the timeout. */
int authc_connect(struct authc_conn *conn, const char **error_r);

/* Reads and checks the greeting until it is complete. Returns 1, or -1 with
 * *error_r (owned by conn). A greeting of the wrong family gives lib-auth's
 * text ("PATH is an auth client socket. It should be a master socket." and
 * the converse). Blocks up to the timeout. */
int authc_handshake_wait(struct authc_conn *conn, const char **error_r);

/* Non-blocking primitives for an event loop (the socket is O_NONBLOCK).
 * Call authc_conn_next_line until it returns 0 before reading more:
 *   authc_conn_next_line: parses the next complete buffered line: 1 and
 *     *reply_r (valid until the next next_line/input call), 0 none
 *     buffered, -1 when a line exceeds the input limit;
 *   authc_conn_input: one recv(): 1 read something, 0 nothing available
 *     (poll for POLLIN), -1 EOF ("Disconnected unexpectedly") or error;
 *   authc_conn_flush: writes queued output: 1 all written, 0 some left
 *     (poll for POLLOUT), -1 error;
 *   authc_conn_handshake_step: consumes buffered greeting lines: 1 the
 *     greeting is complete, 0 more input needed, -1 error.
 * All return *error_r owned by conn on -1. */
int authc_conn_input(struct authc_conn *conn, const char **error_r);
int authc_conn_next_line(struct authc_conn *conn, struct authc_reply *reply_r,
			 const char **error_r);
int authc_conn_flush(struct authc_conn *conn, const char **error_r);
int authc_conn_handshake_step(struct authc_conn *conn, const char **error_r);

/* Blocking: waits for the reply line carrying id and returns 1 with it in
 * *reply_r (valid until the next read on conn). Completes the greeting
 * first if needed. A line with another id or no id is an error ("BUG:
 * Unexpected input: ..."), as is EOF or the timeout. Returns -1 with
 * *error_r (owned by conn) on error. */
int authc_wait_reply(struct authc_conn *conn, uint32_t id,
		     struct authc_reply *reply_r, const char **error_r);

/* ---- requests --------------------------------------------------------- */

/* params: NULL-terminated list of "key=value" or bare-word parameters in
 * the order they are to be sent; each is tab-escaped whole when sent. */

struct authc_auth_request {
	const char *mech;              /* e.g. "PLAIN" */
	const char *service;           /* "service=" value (required) */
	const char *const *params;     /* may be NULL */
	bool has_initial_response;     /* send "resp=" (empty data is allowed) */
	const uint8_t *initial_response;
	size_t initial_response_len;
};

/* Queues "AUTH <id> <mech> service=<s> <params...> [resp=<b64>]" on a
 * client-family connection with the next request id (*id_r). Returns 1, or
 * -1 with *error_r (owned by conn) when the line would exceed
 * AUTHC_CLIENT_REQUEST_MAX or the output queue is full. Never blocks;
 * authc_auth_send() also flushes, blocking up to the timeout. */
int authc_auth_queue(struct authc_conn *conn, const struct authc_auth_request *req,
		     uint32_t *id_r, const char **error_r);
int authc_auth_send(struct authc_conn *conn, const struct authc_auth_request *req,
		    uint32_t *id_r, const char **error_r);

/* Queues "CONT <id> <b64 of data>" (client family). Returns 1 or -1 as
 * authc_auth_queue. */
int authc_cont_queue(struct authc_conn *conn, uint32_t id, const uint8_t *data,
		     size_t len, const char **error_r);

/* Master family: queue (and, for _send, flush) a USER or PASS lookup for
 * user, or a LIST with "user=<mask>" (mask NULL or "" = no mask), followed
 * by "service=<service>" and params. The first request on a connection is
 * preceded by "VERSION 1 0" in the same write. Returns 1 with the id, or -1
 * with *error_r (owned by conn): line too long (limit
 * AUTHC_MASTER_REQUEST_MAX), queue full, or a write error. */
enum authc_master_cmd { AUTHC_MASTER_USER, AUTHC_MASTER_PASS, AUTHC_MASTER_LIST };
int authc_master_queue(struct authc_conn *conn, enum authc_master_cmd cmd,
		       const char *user, const char *service,
		       const char *const *params, uint32_t *id_r,
		       const char **error_r);
int authc_master_send(struct authc_conn *conn, enum authc_master_cmd cmd,
		      const char *user, const char *service,
		      const char *const *params, uint32_t *id_r,
		      const char **error_r);

/* Builds the PLAIN message authzid NUL authcid NUL password (RFC 4616) into
 * out (appending). Returns 0, or -1 when out's limit is crossed. out may
 * hold a secret: free it with buf_free() (which wipes). */
struct buf;
int authc_plain_message(struct buf *out, const char *authzid, const char *authcid,
			const uint8_t *password, size_t password_len);

/* Finds "key=value" among fields: 1 and *value_r, or 0. A bare "key" field
 * does not match. */
int authc_field_find(const struct authc_str *fields, size_t count, const char *key,
		     struct authc_str *value_r);

#endif
