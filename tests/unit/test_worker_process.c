/* test_worker_process: an auth worker's request handling
 * (authd/worker_process.h) without sockets: encoded requests go through
 * worker_process_handle() and the replies are decoded. passwd-file
 * (blocking=yes) and the passwd drivers (root exists everywhere) answer
 * lookups; the reply carries the result, the stored password and the
 * fields the driver set, uninterpreted; a database that is not in the
 * worker's configuration is refused; request parameters reach the
 * driver's %-variables; malformed requests are refused. */
#include "authd/settings.h"
#include "authd/worker_process.h"
#include "authd/worker_proto.h"
#include "common/buf.h"
#include "common/pool.h"
#include "passdb/passdb.h"
#include "userdb/userdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

struct fixture {
	char dir[64];
	char users[128];
	char pf_args[256];
	struct auth_settings *set;
	struct worker_process *w;
	struct pool *pool;
};

static const char users_file[] =
	"alice:{PLAIN}alicepw:1001:1001::/home/alice::userdb_mail=maildir:~/Maildir nodelay\n"
	"bob:{PLAIN}bobpw:1002:1002::/home/bob\n";

static int setup(void **state)
{
	static struct fixture f;
	char conf[2048];
	const char *error = NULL;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_worker_process.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.users, sizeof(f.users), "%s/users", f.dir);
	FILE *fp = fopen(f.users, "w");
	assert_non_null(fp);
	fputs(users_file, fp);
	fclose(fp);
	snprintf(f.pf_args, sizeof(f.pf_args), "username_format=%%u blocking=yes %s", f.users);
	snprintf(conf, sizeof(conf),
		 "passdb {\n  driver = passwd-file\n  args = %s\n}\n"
		 "passdb {\n  driver = passwd\n}\n"
		 "userdb {\n  driver = passwd-file\n  args = %s\n}\n"
		 "userdb {\n  driver = passwd\n  args = mail=%%s/%%r\n}\n", f.pf_args, f.pf_args);
	assert_int_equal(settings_load_buffer_flags("test", (const uint8_t *)conf, strlen(conf),
						    SETTINGS_LOAD_QUIET, &f.set, &error), 0);
	f.w = worker_process_create(f.set);
	assert_non_null(f.w);
	f.pool = pool_create(0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	worker_process_destroy(&f->w);
	settings_free(&f->set);
	pool_destroy(&f->pool);
	unlink(f->users);
	rmdir(f->dir);
	return 0;
}

/* Sends req; returns the decoded reply (pool-owned) or fails the test. */
static struct worker_msg handle(struct fixture *f, struct worker_msg *req, bool *restart_r)
{
	struct buf in = BUF_INIT(WORKER_MSG_MAX), out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	struct worker_msg reply;
	bool restart = false;
	req->seq = 77;
	req->has_seq = true;
	assert_int_equal(worker_msg_encode(req, &in, &error), 0);
	assert_int_equal(worker_process_handle(f->w, in.data, in.len, &out, &restart), 0);
	assert_int_equal(worker_msg_decode(out.data, out.len, f->pool, &reply, &error), 0);
	assert_int_equal(reply.type, WORKER_MSG_REPLY);
	assert_int_equal(reply.seq, 77);
	if (restart_r != NULL)
		*restart_r = restart;
	buf_free(&in);
	buf_free(&out);
	return reply;
}

static const char *field(const struct worker_msg *m, enum worker_tag tag, const char *key)
{
	for (size_t i = 0; i < m->field_count; i++)
		if (m->fields[i].tag == tag && strcmp(m->fields[i].key, key) == 0)
			return m->fields[i].value != NULL ? m->fields[i].value : "";
	return NULL;
}

struct lookup_case {
	const char *name;
	enum worker_msg_type type;
	uint32_t db_id;
	const char *driver;
	bool pf_args;                  /* args = the passwd-file args, else "" */
	const char *args;              /* when !pf_args */
	const char *user;
	int32_t want_result;
	const char *want_password;     /* NULL: none */
	enum worker_tag ftag;
	const char *fkey, *fvalue;     /* a field the reply must carry */
	bool mismatch;
};

static const struct lookup_case lookup_cases[] = {
	{ .name = "passwd-file passdb", .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 1,
	  .driver = "passwd-file", .pf_args = true, .user = "alice",
	  .want_result = PASSDB_RESULT_OK, .want_password = "{PLAIN}alicepw",
	  .ftag = WORKER_TAG_PASSDB_FIELD, .fkey = "userdb_mail", .fvalue = "maildir:~/Maildir" },
	{ .name = "bare field kept bare", .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 1,
	  .driver = "passwd-file", .pf_args = true, .user = "alice",
	  .want_result = PASSDB_RESULT_OK, .want_password = "{PLAIN}alicepw",
	  .ftag = WORKER_TAG_PASSDB_FIELD, .fkey = "nodelay", .fvalue = "" },
	{ .name = "passwd-file unknown user", .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 1,
	  .driver = "passwd-file", .pf_args = true, .user = "nosuch",
	  .want_result = PASSDB_RESULT_USER_UNKNOWN },
	{ .name = "passwd-file userdb", .type = WORKER_MSG_USERDB_LOOKUP, .db_id = 1,
	  .driver = "passwd-file", .pf_args = true, .user = "bob",
	  .want_result = USERDB_RESULT_OK, .ftag = WORKER_TAG_USERDB_FIELD, .fkey = "home",
	  .fvalue = "/home/bob" },
	{ .name = "passwd passdb (root)", .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 2,
	  .driver = "passwd", .args = "", .user = "root", .want_result = PASSDB_RESULT_OK,
	  .ftag = WORKER_TAG_PASSDB_FIELD, .fkey = "user", .fvalue = "root" },
	{ .name = "passwd userdb (root)", .type = WORKER_MSG_USERDB_LOOKUP, .db_id = 2,
	  .driver = "passwd", .args = "mail=%s/%r", .user = "root",
	  .want_result = USERDB_RESULT_OK, .ftag = WORKER_TAG_USERDB_FIELD, .fkey = "uid",
	  .fvalue = "0" },
	{ .name = "request parameters reach %-variables", .type = WORKER_MSG_USERDB_LOOKUP,
	  .db_id = 2, .driver = "passwd", .args = "mail=%s/%r", .user = "root",
	  .want_result = USERDB_RESULT_OK, .ftag = WORKER_TAG_USERDB_FIELD, .fkey = "mail",
	  .fvalue = "lda/192.0.2.9" },
	{ .name = "passwd unknown user", .type = WORKER_MSG_USERDB_LOOKUP, .db_id = 2,
	  .driver = "passwd", .args = "mail=%s/%r", .user = "no-such-user-xyz",
	  .want_result = USERDB_RESULT_USER_UNKNOWN },
	{ .name = "db found by driver and args when the position moved",
	  .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 2, .driver = "passwd-file", .pf_args = true,
	  .user = "bob", .want_result = PASSDB_RESULT_OK, .want_password = "{PLAIN}bobpw" },
	{ .name = "args not configured", .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 1,
	  .driver = "passwd-file", .args = "/etc/shadow", .user = "root",
	  .want_result = PASSDB_RESULT_INTERNAL_FAILURE, .mismatch = true },
	{ .name = "driver not configured", .type = WORKER_MSG_PASSDB_LOOKUP, .db_id = 1,
	  .driver = "checkpassword", .args = "/bin/sh", .user = "root",
	  .want_result = PASSDB_RESULT_INTERNAL_FAILURE, .mismatch = true },
	{ .name = "db id out of range", .type = WORKER_MSG_USERDB_LOOKUP, .db_id = 99,
	  .driver = "shadow", .args = "", .user = "root",
	  .want_result = USERDB_RESULT_INTERNAL_FAILURE, .mismatch = true },
};

static void test_lookups(void **state)
{
	struct fixture *f = *state;
	bool ok = true;
	for (size_t i = 0; i < N_ELEMS(lookup_cases); i++) {
		const struct lookup_case *c = &lookup_cases[i];
		struct worker_msg req = {
			.type = c->type, .db_id = c->db_id, .has_db_id = true, .driver = c->driver,
			.args = c->pf_args ? f->pf_args : c->args, .user = c->user,
		};
		worker_msg_add_field(&req, f->pool, WORKER_TAG_PARAM, "service", "lda");
		worker_msg_add_field(&req, f->pool, WORKER_TAG_PARAM, "rip", "192.0.2.9");
		struct worker_msg r = handle(f, &req, NULL);
		const char *pw = (const char *)r.password;
		const char *got = c->fkey != NULL ? field(&r, c->ftag, c->fkey) : NULL;
		bool mismatch = (r.flags & WORKER_FLAG_CONFIG_MISMATCH) != 0;
		if (r.result != c->want_result || mismatch != c->mismatch ||
		    (c->want_password != NULL && (pw == NULL || strcmp(pw, c->want_password) != 0)) ||
		    (c->want_password == NULL && c->type == WORKER_MSG_USERDB_LOOKUP && pw != NULL) ||
		    (c->fkey != NULL && (got == NULL || strcmp(got, c->fvalue) != 0))) {
			print_error("%s: got result %d mismatch %d password %s %s=%s; want %d %d %s "
				    "%s\n", c->name, r.result, mismatch, pw != NULL ? pw : "-",
				    c->fkey != NULL ? c->fkey : "-", got != NULL ? got : "-",
				    c->want_result, c->mismatch,
				    c->want_password != NULL ? c->want_password : "-",
				    c->fvalue != NULL ? c->fvalue : "-");
			ok = false;
		}
	}
	if (!ok)
		fail();
}

static void test_malformed_requests(void **state)
{
	struct fixture *f = *state;
	static const uint8_t garbage[] = "not a message";
	struct buf in = BUF_INIT(WORKER_MSG_MAX), out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	bool restart = false;
	assert_int_equal(worker_process_handle(f->w, garbage, sizeof(garbage), &out, &restart), -1);
	/* a well-formed message of the wrong direction */
	struct worker_msg reply = { .type = WORKER_MSG_REPLY, .seq = 1, .has_seq = true,
				    .result = 1, .has_result = true };
	assert_int_equal(worker_msg_encode(&reply, &in, &error), 0);
	assert_int_equal(worker_process_handle(f->w, in.data, in.len, &out, &restart), -1);
	assert_int_equal(out.len, 0);
	buf_free(&in);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_malformed_requests),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
