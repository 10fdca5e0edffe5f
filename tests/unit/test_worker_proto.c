/* test_worker_proto: the auth worker messages (authd/worker_proto.h):
 * encode/decode round trips of every message type, a table of malformed
 * messages the decoder must refuse, what the encoder refuses, and the
 * SOCK_SEQPACKET send/receive with fd passing (oversized datagrams,
 * unexpected fds, EOF). */
#include "authd/worker_proto.h"
#include "common/buf.h"
#include "common/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* --- round trips --- */

static bool str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool msg_same(const struct worker_msg *a, const struct worker_msg *b, const char **what)
{
	*what = "scalars";
	if (a->type != b->type || a->has_seq != b->has_seq || a->seq != b->seq ||
	    a->has_pid != b->has_pid || a->pid != b->pid || a->has_result != b->has_result ||
	    a->result != b->result || a->has_flags != b->has_flags || a->flags != b->flags ||
	    a->has_db_id != b->has_db_id || a->db_id != b->db_id ||
	    a->has_timeout_ms != b->has_timeout_ms || a->timeout_ms != b->timeout_ms)
		return false;
	*what = "strings";
	if (!str_same(a->driver, b->driver) || !str_same(a->args, b->args) ||
	    !str_same(a->user, b->user) || !str_same(a->original_user, b->original_user) ||
	    !str_same(a->master_user, b->master_user) || !str_same(a->mech, b->mech) ||
	    !str_same(a->scheme, b->scheme))
		return false;
	*what = "password";
	if ((a->password == NULL) != (b->password == NULL) || a->password_len != b->password_len ||
	    (a->password != NULL && memcmp(a->password, b->password, a->password_len) != 0))
		return false;
	*what = "fields";
	if (a->field_count != b->field_count)
		return false;
	for (size_t i = 0; i < a->field_count; i++) {
		if (a->fields[i].tag != b->fields[i].tag ||
		    !str_same(a->fields[i].key, b->fields[i].key) ||
		    !str_same(a->fields[i].value, b->fields[i].value))
			return false;
	}
	return true;
}

struct roundtrip_case {
	const char *name;
	struct worker_msg msg;
	struct worker_field fields[4];
	size_t field_count;
};

static const struct roundtrip_case roundtrip_cases[] = {
	{ .name = "SPAWN", .msg = { .type = WORKER_MSG_SPAWN, .seq = 1, .has_seq = true } },
	{ .name = "KILL", .msg = { .type = WORKER_MSG_KILL, .pid = 4242, .has_pid = true } },
	{ .name = "SPAWNED", .msg = { .type = WORKER_MSG_SPAWNED, .seq = 0xffffffffu, .has_seq = true,
				      .pid = 1, .has_pid = true } },
	{ .name = "SPAWN_FAILED", .msg = { .type = WORKER_MSG_SPAWN_FAILED, .seq = 3, .has_seq = true,
					   .result = EAGAIN, .has_result = true } },
	{ .name = "PASSDB_VERIFY with everything",
	  .msg = { .type = WORKER_MSG_PASSDB_VERIFY, .seq = 9, .has_seq = true, .db_id = 2,
		   .has_db_id = true, .flags = WORKER_FLAG_DEBUG, .has_flags = true,
		   .timeout_ms = 7500, .has_timeout_ms = true, .driver = "pam", .args = "%s",
		   .user = "alice", .original_user = "Alice", .master_user = "admin",
		   .mech = "PLAIN", .password = (const uint8_t *)"pw\twith tab", .password_len = 11 },
	  .fields = { { WORKER_TAG_PARAM, "rip", "192.0.2.1" },
		      { WORKER_TAG_PARAM, "valid-client-cert", "" },
		      { WORKER_TAG_PASSDB_FIELD, "nologin", NULL },
		      { WORKER_TAG_USERDB_FIELD, "quota_rule", "*:storage=1G\tx" } },
	  .field_count = 4 },
	{ .name = "PASSDB_LOOKUP, empty args and user",
	  .msg = { .type = WORKER_MSG_PASSDB_LOOKUP, .seq = 1, .has_seq = true, .db_id = 1,
		   .has_db_id = true, .driver = "shadow", .args = "", .user = "",
		   .scheme = "CRAM-MD5" } },
	{ .name = "USERDB_LOOKUP",
	  .msg = { .type = WORKER_MSG_USERDB_LOOKUP, .seq = 5, .has_seq = true, .db_id = 7,
		   .has_db_id = true, .driver = "passwd", .args = "blocking=yes", .user = "bob" } },
	{ .name = "REPLY with stored password and fields",
	  .msg = { .type = WORKER_MSG_REPLY, .seq = 5, .has_seq = true, .result = -3,
		   .has_result = true, .flags = WORKER_FLAG_RESTART, .has_flags = true,
		   .password = (const uint8_t *)"{SHA512-CRYPT}$6$x$y", .password_len = 20 },
	  .fields = { { WORKER_TAG_PASSDB_FIELD, "user", "alice2" },
		      { WORKER_TAG_USERDB_FIELD, "home", "/home/a" } },
	  .field_count = 2 },
	{ .name = "REPLY minimal",
	  .msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true, .result = 1,
		   .has_result = true } },
};

static void test_roundtrip(void **state)
{
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(roundtrip_cases); i++) {
		const struct roundtrip_case *c = &roundtrip_cases[i];
		struct pool *pool = pool_create(0);
		struct worker_msg msg = c->msg, got;
		for (size_t f = 0; f < c->field_count; f++)
			assert_int_equal(worker_msg_add_field(&msg, pool, c->fields[f].tag,
							      c->fields[f].key, c->fields[f].value), 0);
		struct buf out = BUF_INIT(WORKER_MSG_MAX);
		const char *error = NULL, *what = NULL;
		int ret = worker_msg_encode(&msg, &out, &error);
		if (ret < 0) {
			print_error("%s: encode failed: %s\n", c->name, error);
			ok = false;
		} else if (worker_msg_decode(out.data, out.len, pool, &got, &error) < 0) {
			print_error("%s: decode failed: %s\n", c->name, error);
			ok = false;
		} else if (!msg_same(&msg, &got, &what)) {
			print_error("%s: decoded %s differ from the encoded ones\n", c->name, what);
			ok = false;
		}
		buf_free(&out);
		pool_destroy(&pool);
	}
	if (!ok)
		fail();
}

/* --- malformed input --- */

#define V "\x01"                               /* version */
#define SEQ1 "\x01\x00\x00\x00\x04\x00\x00\x00\x01"   /* tag SEQ, 4 bytes, 1 */
#define PID9 "\x02\x00\x00\x00\x04\x00\x00\x00\x09"
#define RES1 "\x03\x00\x00\x00\x04\x00\x00\x00\x01"
#define DBID1 "\x05\x00\x00\x00\x04\x00\x00\x00\x01"
#define DRV "\x07\x00\x00\x00\x03pam"
#define ARGS "\x08\x00\x00\x00\x00"
#define USER "\x09\x00\x00\x00\x01u"
#define REQ SEQ1 DBID1 DRV ARGS USER

struct bad_case {
	const char *name;
	const char *data;
	size_t len;        /* sizeof - 1 of the literal */
};

#define BAD(n, d) { .name = (n), .data = (d), .len = sizeof(d) - 1 }

static const struct bad_case bad_cases[] = {
	BAD("empty", ""),
	BAD("only the version", V),
	BAD("wrong version", "\x02\x05" SEQ1),
	BAD("type 0", V "\x00" SEQ1),
	BAD("unknown type", V "\x09" SEQ1),
	BAD("truncated record header", V "\x05\x01\x00\x00"),
	BAD("record longer than the message", V "\x05\x01\x00\x00\x00\x08\x00\x00\x00\x01"),
	BAD("length beyond 32 bits of data", V "\x05\x01\xff\xff\xff\xff\x00"),
	BAD("tag 0", V "\x05" SEQ1 "\x00\x00\x00\x00\x00"),
	BAD("unknown tag", V "\x05" SEQ1 "\x7f\x00\x00\x00\x00"),
	BAD("tag not allowed for the type", V "\x05" SEQ1 USER),
	BAD("repeated number", V "\x05" SEQ1 SEQ1),
	BAD("required record missing", V "\x07" SEQ1),
	BAD("number of 3 bytes", V "\x05\x01\x00\x00\x00\x03\x00\x00\x01"),
	BAD("number of 5 bytes", V "\x05\x01\x00\x00\x00\x05\x00\x00\x00\x00\x01"),
	BAD("string with NUL", V "\x03" REQ "\x0a\x00\x00\x00\x03\x61\x00\x62"),
	BAD("unknown flag bits", V "\x04" SEQ1 RES1 "\x04\x00\x00\x00\x04\x00\x00\x00\x80"),
	BAD("verify without password", V "\x02" REQ),
	BAD("lookup with password", V "\x01" REQ "\x0e\x00\x00\x00\x02pw"),
	BAD("kv too short", V "\x01" REQ "\x0f\x00\x00\x00\x02\x01\x00"),
	BAD("kv has_value 2", V "\x01" REQ "\x0f\x00\x00\x00\x04\x02\x00\x01k"),
	BAD("kv key length past the end", V "\x01" REQ "\x0f\x00\x00\x00\x04\x01\x00\x05k"),
	BAD("kv empty key", V "\x01" REQ "\x0f\x00\x00\x00\x04\x01\x00\x00v"),
	BAD("kv key with =", V "\x01" REQ "\x0f\x00\x00\x00\x06\x01\x00\x02k=v"),
	BAD("kv key with space", V "\x01" REQ "\x0f\x00\x00\x00\x06\x01\x00\x02k v"),
	BAD("kv key with control byte", V "\x01" REQ "\x0f\x00\x00\x00\x05\x01\x00\x02k\x01"),
	BAD("kv bare key with a value", V "\x01" REQ "\x10\x00\x00\x00\x05\x00\x00\x01kv"),
	BAD("kv value with NUL", V "\x01" REQ "\x11\x00\x00\x00\x06\x01\x00\x01k\x00v"),
	BAD("SPAWNED without pid", V "\x07" SEQ1),
	BAD("KILL without pid", V "\x06" SEQ1),
	BAD("REPLY without result", V "\x04" SEQ1),
	BAD("REPLY with a driver", V "\x04" SEQ1 RES1 DRV),
	BAD("SPAWN with a pid", V "\x05" SEQ1 PID9),
};

static void test_malformed(void **state)
{
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct pool *pool = pool_create(0);
		struct worker_msg msg;
		const char *error = NULL;
		int ret = worker_msg_decode((const uint8_t *)c->data, c->len, pool, &msg, &error);
		if (ret != -1 || error == NULL) {
			print_error("%s: got %d, want -1 with an error\n", c->name, ret);
			ok = false;
		}
		pool_destroy(&pool);
	}
	if (!ok)
		fail();
}

/* The fixed parts of the malformed table decode when made valid. */
static void test_well_formed_raw(void **state)
{
	static const struct bad_case good[] = {
		BAD("SPAWN", V "\x05" SEQ1),
		BAD("KILL", V "\x06" PID9),
		BAD("lookup", V "\x01" REQ),
		BAD("lookup with a bare field", V "\x01" REQ "\x10\x00\x00\x00\x04\x00\x00\x01k"),
		BAD("lookup with an empty value", V "\x01" REQ "\x10\x00\x00\x00\x04\x01\x00\x01k"),
		BAD("records in any order", V "\x01" USER ARGS DRV DBID1 SEQ1),
	};
	(void)state;
	for (size_t i = 0; i < N_ELEMS(good); i++) {
		struct pool *pool = pool_create(0);
		struct worker_msg msg;
		const char *error = NULL;
		if (worker_msg_decode((const uint8_t *)good[i].data, good[i].len, pool, &msg,
				      &error) != 0)
			fail_msg("%s: got an error (%s), want it decoded", good[i].name, error);
		pool_destroy(&pool);
	}
}

static void test_too_many_fields(void **state)
{
	struct pool *pool = pool_create(0);
	struct worker_msg msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true,
				  .result = 1, .has_result = true };
	(void)state;
	for (unsigned int i = 0; i < WORKER_FIELDS_MAX; i++)
		assert_int_equal(worker_msg_add_field(&msg, pool, WORKER_TAG_PASSDB_FIELD, "k", "v"), 0);
	assert_int_equal(worker_msg_add_field(&msg, pool, WORKER_TAG_PASSDB_FIELD, "k", "v"), -1);
	struct buf out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	assert_int_equal(worker_msg_encode(&msg, &out, &error), 0);
	/* one more record by hand: the decoder refuses it */
	static const uint8_t extra[] = { 0x10, 0, 0, 0, 4, 1, 0, 1, 'k' };
	assert_int_equal(buf_append(&out, extra, sizeof(extra)), 0);
	struct worker_msg got;
	assert_int_equal(worker_msg_decode(out.data, out.len, pool, &got, &error), -1);
	buf_free(&out);
	pool_destroy(&pool);
}

/* --- encoder refusals --- */

static void test_encode_refuses(void **state)
{
	static char big[WORKER_ARGS_MAX + 2];
	static uint8_t bigpw[WORKER_SECRET_MAX + 1];
	memset(big, 'a', sizeof(big) - 1);
	struct {
		const char *name;
		struct worker_msg msg;
		enum worker_tag ftag;
		const char *fkey;
	} cases[] = {
		{ .name = "missing seq", .msg = { .type = WORKER_MSG_SPAWN } },
		{ .name = "unknown type", .msg = { .type = 99, .seq = 1, .has_seq = true } },
		{ .name = "record not allowed",
		  .msg = { .type = WORKER_MSG_SPAWN, .seq = 1, .has_seq = true, .user = "x" } },
		{ .name = "unknown flags",
		  .msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true, .result = 1,
			   .has_result = true, .flags = 1u << 20, .has_flags = true } },
		{ .name = "args too long",
		  .msg = { .type = WORKER_MSG_PASSDB_LOOKUP, .seq = 1, .has_seq = true, .db_id = 1,
			   .has_db_id = true, .driver = "x", .args = big, .user = "u" } },
		{ .name = "password too long",
		  .msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true, .result = 1,
			   .has_result = true, .password = bigpw, .password_len = sizeof(bigpw) } },
		{ .name = "key with =",
		  .msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true, .result = 1,
			   .has_result = true },
		  .ftag = WORKER_TAG_PASSDB_FIELD, .fkey = "a=b" },
		{ .name = "empty key",
		  .msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true, .result = 1,
			   .has_result = true },
		  .ftag = WORKER_TAG_PASSDB_FIELD, .fkey = "" },
		{ .name = "field with a scalar tag",
		  .msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true, .result = 1,
			   .has_result = true },
		  .ftag = WORKER_TAG_USER, .fkey = "k" },
		{ .name = "field not allowed (PARAM in REPLY)",
		  .msg = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true, .result = 1,
			   .has_result = true },
		  .ftag = WORKER_TAG_PARAM, .fkey = "k" },
	};
	bool ok = true;
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		struct pool *pool = pool_create(0);
		struct worker_msg msg = cases[i].msg;
		if (cases[i].fkey != NULL)
			worker_msg_add_field(&msg, pool, cases[i].ftag, cases[i].fkey, "v");
		struct buf out = BUF_INIT(WORKER_MSG_MAX);
		const char *error = NULL;
		int ret = worker_msg_encode(&msg, &out, &error);
		if (ret != -1 || error == NULL || out.len != 0) {
			print_error("%s: got %d (len %zu), want -1 with an error and nothing "
				    "written\n", cases[i].name, ret, out.len);
			ok = false;
		}
		buf_free(&out);
		pool_destroy(&pool);
	}
	if (!ok)
		fail();
}

/* --- socket I/O --- */

static void seqpacket_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_send_recv_fd(void **state)
{
	int sv[2], pass[2];
	uint8_t buf[WORKER_MSG_MAX + 1];
	(void)state;
	seqpacket_pair(sv);
	assert_int_equal(pipe(pass), 0);
	assert_int_equal(worker_msg_send(sv[0], (const uint8_t *)"hello", 5, pass[1]), 0);
	close(pass[1]);
	int fd = -1;
	assert_int_equal(worker_msg_recv(sv[1], buf, sizeof(buf), &fd), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(write(fd, "x", 1), 1);   /* the pipe's write end */
	char c;
	assert_int_equal(read(pass[0], &c, 1), 1);
	close(fd);
	close(pass[0]);
	/* without fd */
	assert_int_equal(worker_msg_send(sv[0], (const uint8_t *)"ab", 2, -1), 0);
	assert_int_equal(worker_msg_recv(sv[1], buf, sizeof(buf), &fd), 2);
	assert_int_equal(fd, -1);
	/* EOF */
	close(sv[0]);
	assert_int_equal(worker_msg_recv(sv[1], buf, sizeof(buf), &fd), 0);
	close(sv[1]);
}

static void test_recv_refuses(void **state)
{
	int sv[2], pass[2];
	static uint8_t buf[WORKER_MSG_MAX + 1], big[WORKER_MSG_MAX + 100];
	(void)state;
	seqpacket_pair(sv);
	int sndbuf = 4 * WORKER_MSG_MAX;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* an fd where none is expected: refused and closed */
	assert_int_equal(pipe(pass), 0);
	assert_int_equal(worker_msg_send(sv[0], (const uint8_t *)"x", 1, pass[1]), 0);
	close(pass[1]);
	errno = 0;
	assert_int_equal(worker_msg_recv(sv[1], buf, sizeof(buf), NULL), -1);
	assert_int_equal(errno, EPROTO);
	char c;
	assert_int_equal(read(pass[0], &c, 1), 0);   /* every write end closed: EOF */
	close(pass[0]);
	/* a datagram longer than WORKER_MSG_MAX */
	assert_int_equal(worker_msg_send(sv[0], big, sizeof(big), -1), 0);
	errno = 0;
	assert_int_equal(worker_msg_recv(sv[1], buf, sizeof(buf), NULL), -1);
	assert_int_equal(errno, EMSGSIZE);
	/* the stream goes on after a refused datagram */
	assert_int_equal(worker_msg_send(sv[0], (const uint8_t *)"ok", 2, -1), 0);
	assert_int_equal(worker_msg_recv(sv[1], buf, sizeof(buf), NULL), 2);
	close(sv[0]);
	close(sv[1]);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(worker_msg_type_name(WORKER_MSG_SPAWN), "SPAWN");
	assert_string_equal(worker_msg_type_name(WORKER_MSG_REPLY), "REPLY");
	assert_string_equal(worker_msg_type_name(0), "?");
	assert_string_equal(worker_msg_type_name(200), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_well_formed_raw),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_send_recv_fd),
		cmocka_unit_test(test_recv_refuses),
		cmocka_unit_test(test_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
