/* worker_proto: encoding and decoding of the worker messages, and the
 * SOCK_SEQPACKET send/receive with fd passing (see worker_proto.h). */
#include "authd/worker_proto.h"
#include "common/buf.h"
#include "common/pool.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WORKER_RECORD_HEADER 5u    /* tag + u32 length */
#define WORKER_MSG_HEADER 2u       /* version + type */
#define WORKER_RECV_MAX_FDS 4u     /* ancillary room to notice extra fds */

enum worker_kind { WK_U32, WK_STR, WK_SECRET, WK_KV };

struct worker_tag_info {
	enum worker_kind kind;
	uint32_t max;          /* bytes of a string / value */
	size_t off;            /* value in struct worker_msg */
	size_t has_off;        /* u32: its has_* flag */
};

#define U32(f) { WK_U32, 4, offsetof(struct worker_msg, f), offsetof(struct worker_msg, has_##f) }
#define STR(f, m) { WK_STR, (m), offsetof(struct worker_msg, f), 0 }
#define KV { WK_KV, WORKER_VALUE_MAX, 0, 0 }

static const struct worker_tag_info worker_tags[WORKER_TAG_MAX + 1] = {
	[WORKER_TAG_SEQ] = U32(seq),
	[WORKER_TAG_PID] = U32(pid),
	[WORKER_TAG_RESULT] = U32(result),
	[WORKER_TAG_FLAGS] = U32(flags),
	[WORKER_TAG_DB_ID] = U32(db_id),
	[WORKER_TAG_TIMEOUT_MS] = U32(timeout_ms),
	[WORKER_TAG_DRIVER] = STR(driver, WORKER_NAME_MAX),
	[WORKER_TAG_ARGS] = STR(args, WORKER_ARGS_MAX),
	[WORKER_TAG_USER] = STR(user, WORKER_NAME_MAX),
	[WORKER_TAG_ORIGINAL_USER] = STR(original_user, WORKER_NAME_MAX),
	[WORKER_TAG_MASTER_USER] = STR(master_user, WORKER_NAME_MAX),
	[WORKER_TAG_MECH] = STR(mech, WORKER_NAME_MAX),
	[WORKER_TAG_SCHEME] = STR(scheme, WORKER_NAME_MAX),
	[WORKER_TAG_PASSWORD] = { WK_SECRET, WORKER_SECRET_MAX, 0, 0 },
	[WORKER_TAG_PARAM] = KV,
	[WORKER_TAG_PASSDB_FIELD] = KV,
	[WORKER_TAG_USERDB_FIELD] = KV,
};

#define B(t) (1u << WORKER_TAG_##t)
#define REQUEST_REQUIRED (B(SEQ) | B(DB_ID) | B(DRIVER) | B(ARGS) | B(USER))
#define REQUEST_OPTIONAL (B(ORIGINAL_USER) | B(MASTER_USER) | B(MECH) | B(SCHEME) | \
			  B(FLAGS) | B(TIMEOUT_MS) | B(PARAM) | B(PASSDB_FIELD) | B(USERDB_FIELD))
#define REPLY_REQUIRED (B(SEQ) | B(RESULT))

static const struct worker_schema {
	const char *name;
	uint32_t required, allowed;
} worker_schemas[WORKER_MSG_TYPE_MAX + 1] = {
	[WORKER_MSG_PASSDB_LOOKUP] = { "PASSDB_LOOKUP", REQUEST_REQUIRED,
				       REQUEST_REQUIRED | REQUEST_OPTIONAL },
	[WORKER_MSG_PASSDB_VERIFY] = { "PASSDB_VERIFY", REQUEST_REQUIRED | B(PASSWORD),
				       REQUEST_REQUIRED | REQUEST_OPTIONAL | B(PASSWORD) },
	[WORKER_MSG_USERDB_LOOKUP] = { "USERDB_LOOKUP", REQUEST_REQUIRED,
				       REQUEST_REQUIRED | REQUEST_OPTIONAL },
	[WORKER_MSG_REPLY] = { "REPLY", REPLY_REQUIRED, REPLY_REQUIRED | B(FLAGS) | B(PASSWORD) |
			       B(PASSDB_FIELD) | B(USERDB_FIELD) },
	[WORKER_MSG_SPAWN] = { "SPAWN", B(SEQ), B(SEQ) },
	[WORKER_MSG_KILL] = { "KILL", B(PID), B(PID) | B(SEQ) },
	[WORKER_MSG_SPAWNED] = { "SPAWNED", B(SEQ) | B(PID), B(SEQ) | B(PID) },
	[WORKER_MSG_SPAWN_FAILED] = { "SPAWN_FAILED", B(SEQ) | B(RESULT), B(SEQ) | B(RESULT) },
};

static const struct worker_schema *worker_schema(unsigned int type)
{
	if (type < 1 || type > WORKER_MSG_TYPE_MAX)
		return NULL;
	return &worker_schemas[type];
}

const char *worker_msg_type_name(enum worker_msg_type type)
{
	const struct worker_schema *s = worker_schema((unsigned int)type);
	return s != NULL ? s->name : "?";
}

int worker_msg_add_field(struct worker_msg *msg, struct pool *pool, enum worker_tag tag,
			 const char *key, const char *value)
{
	if (msg->field_count >= WORKER_FIELDS_MAX)
		return -1;
	if (msg->fields == NULL)
		msg->fields = pool_alloc(pool, WORKER_FIELDS_MAX * sizeof(*msg->fields));
	msg->fields[msg->field_count++] = (struct worker_field){ tag, key, value };
	return 0;
}

/* Keys are printable ASCII without '=' (they become "key=value"). */
static bool worker_key_valid(const uint8_t *key, size_t len)
{
	if (len == 0 || len > WORKER_KEY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (key[i] <= 0x20 || key[i] >= 0x7f || key[i] == '=')
			return false;
	return true;
}

static bool worker_text_valid(const uint8_t *p, size_t len, size_t max)
{
	return len <= max && memchr(p, '\0', len) == NULL;
}

/* --- decoding --- */

static uint32_t worker_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int worker_decode_kv(struct worker_msg *msg, struct pool *pool, enum worker_tag tag,
			    const uint8_t *p, size_t len, const char **error_r)
{
	if (len < 3 || p[0] > 1) {
		*error_r = "malformed key/value record";
		return -1;
	}
	size_t klen = (size_t)p[1] << 8 | p[2];
	if (klen > len - 3 || !worker_key_valid(p + 3, klen)) {
		*error_r = "invalid field key";
		return -1;
	}
	const uint8_t *v = p + 3 + klen;
	size_t vlen = len - 3 - klen;
	if ((p[0] == 0 && vlen != 0) || !worker_text_valid(v, vlen, WORKER_VALUE_MAX)) {
		*error_r = "invalid field value";
		return -1;
	}
	const char *key = pool_strndup(pool, p + 3, klen);
	const char *value = p[0] == 1 ? pool_strndup(pool, v, vlen) : NULL;
	if (worker_msg_add_field(msg, pool, tag, key, value) < 0) {
		*error_r = "too many fields";
		return -1;
	}
	return 0;
}

static int worker_decode_record(struct worker_msg *msg, struct pool *pool, enum worker_tag tag,
				const uint8_t *p, size_t len, const char **error_r)
{
	const struct worker_tag_info *ti = &worker_tags[tag];
	switch (ti->kind) {
	case WK_U32: {
		if (len != 4) {
			*error_r = "number record is not 4 bytes";
			return -1;
		}
		uint32_t v = worker_get_be32(p);
		memcpy((char *)msg + ti->off, &v, sizeof(v));
		*(bool *)((char *)msg + ti->has_off) = true;
		return 0;
	}
	case WK_STR:
		if (!worker_text_valid(p, len, ti->max)) {
			*error_r = "string record too long or with NUL";
			return -1;
		}
		*(const char **)((char *)msg + ti->off) = pool_strndup(pool, p, len);
		return 0;
	case WK_SECRET:
		if (len > ti->max) {
			*error_r = "password record too long";
			return -1;
		}
		msg->password = (const uint8_t *)pool_strndup(pool, p, len);
		msg->password_len = len;
		return 0;
	case WK_KV:
		return worker_decode_kv(msg, pool, tag, p, len, error_r);
	}
	return -1;
}

int worker_msg_decode(const uint8_t *data, size_t len, struct pool *pool,
		      struct worker_msg *msg_r, const char **error_r)
{
	memset(msg_r, 0, sizeof(*msg_r));
	if (len < WORKER_MSG_HEADER || len > WORKER_MSG_MAX || data[0] != WORKER_PROTO_VERSION) {
		*error_r = "bad message header or size";
		return -1;
	}
	const struct worker_schema *schema = worker_schema(data[1]);
	if (schema == NULL) {
		*error_r = "unknown message type";
		return -1;
	}
	msg_r->type = (enum worker_msg_type)data[1];
	uint32_t seen = 0;
	for (size_t pos = WORKER_MSG_HEADER; pos < len;) {
		if (len - pos < WORKER_RECORD_HEADER) {
			*error_r = "truncated record header";
			return -1;
		}
		unsigned int tag = data[pos];
		size_t rlen = worker_get_be32(data + pos + 1);
		pos += WORKER_RECORD_HEADER;
		if (rlen > len - pos) {
			*error_r = "truncated record";
			return -1;
		}
		if (tag == 0 || tag > WORKER_TAG_MAX || (schema->allowed & (1u << tag)) == 0) {
			*error_r = "unexpected record for the message type";
			return -1;
		}
		if (worker_tags[tag].kind != WK_KV && (seen & (1u << tag)) != 0) {
			*error_r = "repeated record";
			return -1;
		}
		seen |= 1u << tag;
		if (worker_decode_record(msg_r, pool, (enum worker_tag)tag, data + pos, rlen,
					 error_r) < 0)
			return -1;
		pos += rlen;
	}
	if ((seen & schema->required) != schema->required) {
		*error_r = "required record missing";
		return -1;
	}
	if ((msg_r->flags & ~WORKER_FLAGS_KNOWN) != 0) {
		*error_r = "unknown flags";
		return -1;
	}
	return 0;
}

/* --- encoding --- */

static int worker_put_record(struct buf *b, unsigned int tag, const void *p1, size_t l1,
			     const void *p2, size_t l2)
{
	uint32_t len = (uint32_t)(l1 + l2);
	uint8_t hdr[WORKER_RECORD_HEADER] = {
		(uint8_t)tag, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
		(uint8_t)len,
	};
	if (buf_append(b, hdr, sizeof(hdr)) < 0 || (l1 > 0 && buf_append(b, p1, l1) < 0) ||
	    (l2 > 0 && buf_append(b, p2, l2) < 0))
		return -1;
	return 0;
}

static int worker_encode_kv(struct buf *b, const struct worker_field *f, const char **error_r)
{
	size_t klen = f->key != NULL ? strlen(f->key) : 0;
	size_t vlen = f->value != NULL ? strlen(f->value) : 0;
	if (!worker_key_valid((const uint8_t *)f->key, klen) || vlen > WORKER_VALUE_MAX) {
		*error_r = "invalid field key or value";
		return -1;
	}
	uint8_t head[3 + WORKER_KEY_MAX] = { f->value != NULL ? 1 : 0, (uint8_t)(klen >> 8),
					     (uint8_t)klen };
	memcpy(head + 3, f->key, klen);
	if (worker_put_record(b, f->tag, head, 3 + klen, f->value, vlen) < 0) {
		*error_r = "message too long";
		return -1;
	}
	return 0;
}

/* Whether msg carries tag (fields are checked one by one). */
static bool worker_msg_has(const struct worker_msg *msg, unsigned int tag)
{
	const struct worker_tag_info *ti = &worker_tags[tag];
	switch (ti->kind) {
	case WK_U32:
		return *(const bool *)((const char *)msg + ti->has_off);
	case WK_STR:
		return *(const char *const *)((const char *)msg + ti->off) != NULL;
	case WK_SECRET:
		return msg->password != NULL;
	case WK_KV:
		for (size_t i = 0; i < msg->field_count; i++)
			if (msg->fields[i].tag == (enum worker_tag)tag)
				return true;
		return false;
	}
	return false;
}

static int worker_encode_scalar(struct buf *b, const struct worker_msg *msg, unsigned int tag,
				const char **error_r)
{
	const struct worker_tag_info *ti = &worker_tags[tag];
	int ret = 0;
	if (ti->kind == WK_U32) {
		uint32_t v;
		memcpy(&v, (const char *)msg + ti->off, sizeof(v));
		uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
				  (uint8_t)v };
		ret = worker_put_record(b, tag, be, 4, NULL, 0);
	} else if (ti->kind == WK_STR) {
		const char *s = *(const char *const *)((const char *)msg + ti->off);
		size_t n = strlen(s);
		if (n > ti->max) {
			*error_r = "string too long";
			return -1;
		}
		ret = worker_put_record(b, tag, s, n, NULL, 0);
	} else if (ti->kind == WK_SECRET) {
		if (msg->password_len > ti->max) {
			*error_r = "password too long";
			return -1;
		}
		ret = worker_put_record(b, tag, msg->password, msg->password_len, NULL, 0);
	}
	if (ret < 0)
		*error_r = "message too long";
	return ret;
}

static int worker_encode_body(struct buf *b, const struct worker_msg *msg,
			      const struct worker_schema *schema, const char **error_r)
{
	for (unsigned int tag = 1; tag <= WORKER_TAG_MAX; tag++) {
		bool has = worker_msg_has(msg, tag);
		if (!has && (schema->required & (1u << tag)) != 0) {
			*error_r = "required record missing";
			return -1;
		}
		if (has && (schema->allowed & (1u << tag)) == 0) {
			*error_r = "record not allowed for the message type";
			return -1;
		}
		if (has && worker_tags[tag].kind != WK_KV &&
		    worker_encode_scalar(b, msg, tag, error_r) < 0)
			return -1;
	}
	for (size_t i = 0; i < msg->field_count; i++) {
		unsigned int tag = (unsigned int)msg->fields[i].tag;
		if (tag == 0 || tag > WORKER_TAG_MAX || worker_tags[tag].kind != WK_KV) {
			*error_r = "field with a non-field tag";
			return -1;
		}
		if (worker_encode_kv(b, &msg->fields[i], error_r) < 0)
			return -1;
	}
	return 0;
}

int worker_msg_encode(const struct worker_msg *msg, struct buf *out, const char **error_r)
{
	const struct worker_schema *schema = worker_schema((unsigned int)msg->type);
	if (schema == NULL) {
		*error_r = "unknown message type";
		return -1;
	}
	if ((msg->flags & ~WORKER_FLAGS_KNOWN) != 0) {
		*error_r = "unknown flags";
		return -1;
	}
	struct buf b = BUF_INIT(WORKER_MSG_MAX);
	uint8_t hdr[WORKER_MSG_HEADER] = { WORKER_PROTO_VERSION, (uint8_t)msg->type };
	int ret = buf_append(&b, hdr, sizeof(hdr));
	if (ret == 0)
		ret = worker_encode_body(&b, msg, schema, error_r);
	if (ret == 0 && buf_append(out, b.data, b.len) < 0) {
		*error_r = "message too long";
		ret = -1;
	}
	buf_free(&b);   /* wipes the password */
	return ret;
}

/* --- socket I/O --- */

int worker_msg_send(int sock, const uint8_t *data, size_t len, int fd_to_pass)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	if (fd_to_pass >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
	}
	ssize_t n;
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Collects the fds of the control data; returns false when anything but
 * SCM_RIGHTS arrived. Every fd found is stored (up to max) for the caller. */
static bool worker_recv_fds(struct msghdr *mh, int *fds, size_t max, size_t *count_r)
{
	bool ok = true;
	*count_r = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			ok = false;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && *count_r < max; i++)
			memcpy(&fds[(*count_r)++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	return ok;
}

ssize_t worker_msg_recv(int sock, uint8_t *data, size_t size, int *fd_r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * WORKER_RECV_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = data, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	if (fd_r != NULL)
		*fd_r = -1;
	ssize_t n;
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	int fds[WORKER_RECV_MAX_FDS];
	size_t nfds;
	bool ok = worker_recv_fds(&mh, fds, WORKER_RECV_MAX_FDS, &nfds) &&
		  (mh.msg_flags & MSG_CTRUNC) == 0 && (nfds == 0 || (nfds == 1 && fd_r != NULL));
	bool too_long = (mh.msg_flags & MSG_TRUNC) != 0 || (size_t)n > WORKER_MSG_MAX;
	if (!ok || too_long || (n == 0 && nfds > 0)) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		errno = !ok || n == 0 ? EPROTO : EMSGSIZE;
		return -1;
	}
	if (nfds == 1)
		*fd_r = fds[0];
	return n;
}
