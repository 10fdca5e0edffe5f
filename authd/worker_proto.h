/* worker_proto: the typed, length-checked messages of the three processes
 * that run blocking backends (DESIGN.md "worker processes"):
 *
 *   auth process --SPAWN/KILL-----------> root parent   (control channel)
 *   root parent  --SPAWNED(+fd)/SPAWN_FAILED--> auth process
 *   auth process --PASSDB_LOOKUP/PASSDB_VERIFY/USERDB_LOOKUP--> worker
 *   worker       --REPLY-----------------> auth process
 *
 * Every message is one SOCK_SEQPACKET datagram (the kernel keeps the
 * boundaries), at most WORKER_MSG_MAX bytes:
 *
 *   u8 WORKER_PROTO_VERSION | u8 type | record*
 *   record = u8 tag | u32 length (big-endian) | length bytes
 *
 * Each type has a fixed set of allowed and required tags (worker_proto.c);
 * u32 records are exactly 4 bytes; strings have a per-tag length limit and
 * no NUL byte; key/value records are "u8 has_value | u16 key length | key |
 * value" with a key of printable ASCII without '='. Anything else - a
 * truncated record, an unknown or repeated tag, a missing required tag, a
 * limit crossed, unknown flag bits - makes the whole message malformed, and
 * the receiving side drops the connection it came from (the root parent
 * kills the auth process instead, DESIGN.md). The encoder applies the same
 * rules, so a well-behaved sender never produces what its peer refuses.
 *
 * Decoded strings live in the pool given to worker_msg_decode(); the pool
 * is wiped when destroyed, which is what clears a password. */
#ifndef AUTHD_WORKER_PROTO_H
#define AUTHD_WORKER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;
struct pool;

#define WORKER_PROTO_VERSION 1u
#define WORKER_MSG_MAX (64u * 1024u)      /* bytes of one message */
#define WORKER_FIELDS_MAX 256u            /* key/value records per message */
#define WORKER_NAME_MAX 1024u             /* user names, parameters, driver */
#define WORKER_ARGS_MAX (32u * 1024u)     /* a passdb/userdb `args` value */
#define WORKER_KEY_MAX 128u               /* a field key */
#define WORKER_VALUE_MAX (16u * 1024u)    /* a field value */
#define WORKER_SECRET_MAX 8192u           /* a password or a stored hash */

enum worker_msg_type {
	WORKER_MSG_PASSDB_LOOKUP = 1,  /* auth -> worker: driver lookup() */
	WORKER_MSG_PASSDB_VERIFY = 2,  /* auth -> worker: driver verify_plain() */
	WORKER_MSG_USERDB_LOOKUP = 3,  /* auth -> worker: userdb lookup() */
	WORKER_MSG_REPLY = 4,          /* worker -> auth */
	WORKER_MSG_SPAWN = 5,          /* auth -> parent: start a worker */
	WORKER_MSG_KILL = 6,           /* auth -> parent: SIGKILL worker pid */
	WORKER_MSG_SPAWNED = 7,        /* parent -> auth: pid, + its socket */
	WORKER_MSG_SPAWN_FAILED = 8,   /* parent -> auth: result = errno */
};
#define WORKER_MSG_TYPE_MAX 8

enum worker_tag {
	WORKER_TAG_SEQ = 1,            /* u32: request / spawn sequence */
	WORKER_TAG_PID = 2,            /* u32 */
	WORKER_TAG_RESULT = 3,         /* u32 holding an int32 */
	WORKER_TAG_FLAGS = 4,          /* u32: WORKER_FLAG_* */
	WORKER_TAG_DB_ID = 5,          /* u32: 1-based passdb/userdb position */
	WORKER_TAG_TIMEOUT_MS = 6,     /* u32: time the worker may spend */
	WORKER_TAG_DRIVER = 7,         /* str */
	WORKER_TAG_ARGS = 8,           /* str */
	WORKER_TAG_USER = 9,           /* str */
	WORKER_TAG_ORIGINAL_USER = 10, /* str */
	WORKER_TAG_MASTER_USER = 11,   /* str */
	WORKER_TAG_MECH = 12,          /* str */
	WORKER_TAG_SCHEME = 13,        /* str: wanted credentials scheme */
	WORKER_TAG_PASSWORD = 14,      /* secret bytes: given or stored password */
	WORKER_TAG_PARAM = 15,         /* key/value: request parameter */
	WORKER_TAG_PASSDB_FIELD = 16,  /* key/value */
	WORKER_TAG_USERDB_FIELD = 17,  /* key/value */
};
#define WORKER_TAG_MAX 17

/* Request flags */
#define WORKER_FLAG_DEBUG (1u << 0)            /* the request asked for debug */
/* Reply flags */
#define WORKER_FLAG_RESTART (1u << 8)          /* the worker exits after this */
#define WORKER_FLAG_CONFIG_MISMATCH (1u << 9)  /* no such db in the worker's
						* configuration */
#define WORKER_FLAG_PASSDB_DISABLED (1u << 10) /* the driver called
						* auth_request_passdb_disable() */
#define WORKER_FLAGS_KNOWN (WORKER_FLAG_DEBUG | WORKER_FLAG_RESTART | \
			    WORKER_FLAG_CONFIG_MISMATCH | WORKER_FLAG_PASSDB_DISABLED)

struct worker_field {
	enum worker_tag tag;      /* PARAM, PASSDB_FIELD or USERDB_FIELD */
	const char *key;
	const char *value;        /* NULL: a bare key */
};

/* A decoded (or to-be-encoded) message. NULL strings and zero numbers of
 * optional tags mean "absent"; has_* say whether a number was present. */
struct worker_msg {
	enum worker_msg_type type;
	uint32_t seq, pid, flags, db_id, timeout_ms;
	int32_t result;
	bool has_seq, has_pid, has_result, has_flags, has_db_id, has_timeout_ms;
	const char *driver, *args, *user, *original_user, *master_user, *mech, *scheme;
	const uint8_t *password;  /* NUL-terminated copy; NULL = absent */
	size_t password_len;
	struct worker_field *fields;   /* in message order */
	size_t field_count;
};

/* Appends a key/value record to msg (key and value are not copied).
 * Returns 0, or -1 when WORKER_FIELDS_MAX are already there. The field
 * array comes from pool. */
int worker_msg_add_field(struct worker_msg *msg, struct pool *pool, enum worker_tag tag,
			 const char *key, const char *value);

/* Encodes msg and appends it to out (whose limit should be at least
 * WORKER_MSG_MAX). Returns 0, or -1 with *error_r (static text) when msg
 * breaks the schema or a limit; out is then unchanged. Never blocks. */
int worker_msg_encode(const struct worker_msg *msg, struct buf *out, const char **error_r);

/* Decodes one message from untrusted bytes. Returns 0 with *msg_r filled
 * (strings allocated from pool), or -1 with *error_r (static text) if the
 * message is malformed. Never blocks. */
int worker_msg_decode(const uint8_t *data, size_t len, struct pool *pool,
		      struct worker_msg *msg_r, const char **error_r);

/* The name of a message type for log lines ("?" when unknown). */
const char *worker_msg_type_name(enum worker_msg_type type);

/* --- socket I/O (SOCK_SEQPACKET) --- */

/* Sends one encoded message, passing fd_to_pass (SCM_RIGHTS) when >= 0.
 * Returns 0, or -1 with errno (EAGAIN on a full non-blocking socket). May
 * block on a blocking socket. */
int worker_msg_send(int sock, const uint8_t *data, size_t len, int fd_to_pass);

/* Receives one datagram into data (size should be WORKER_MSG_MAX + 1).
 * Returns its length (> 0), 0 on EOF, or -1 with errno: EMSGSIZE when the
 * datagram was longer than WORKER_MSG_MAX, EPROTO when it carried other
 * ancillary data than a single fd or fds where fd_r is NULL (every fd that
 * arrived is closed then), EAGAIN / EINTR as usual. A received fd is
 * returned in *fd_r (close-on-exec), else *fd_r = -1. */
ssize_t worker_msg_recv(int sock, uint8_t *data, size_t size, int *fd_r);

#endif
