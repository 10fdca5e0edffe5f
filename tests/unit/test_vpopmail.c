/* Tests for passdb/db_vpopmail's parsers (table-driven: vpasswd lines and
 * cdb values, assign lines and cdb values, limits, the quota normaliser,
 * login names, path checks), the text index and the arguments. Resolution
 * against real trees is in test_vpopmail_tree.c. */
#include "common/pool.h"
#include "passdb/db_vpopmail.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ------------------------------------------------------------ parsers */

static void test_vpasswd_line(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		int ret;
		const char *name, *passwd, *dir, *shell, *clear;   /* clear NULL = absent */
		uint32_t flags;
	} cases[] = {
		{ .line = "alice:$1$x$y:1:0:Alice Example:/d/alice:52428800S,1000C:alicepw", .ret = 1,
		  .name = "alice", .passwd = "$1$x$y", .dir = "/d/alice", .shell = "52428800S,1000C",
		  .clear = "alicepw", .flags = 0 },
		{ .line = "info:$6$s$h:1:0:Info:/d/info:NOQUOTA", .ret = 1, .name = "info",
		  .passwd = "$6$s$h", .dir = "/d/info", .shell = "NOQUOTA", .flags = 0 },
		{ .line = "carol:$6$h:1:8:Carol:/d/carol:NOQUOTA:", .ret = 1, .name = "carol",
		  .passwd = "$6$h", .dir = "/d/carol", .shell = "NOQUOTA", .clear = "", .flags = 8 },
		{ .line = "gina:h:1:0:Gina NoDir::NOQUOTA:", .ret = 1, .name = "gina", .passwd = "h",
		  .dir = "", .shell = "NOQUOTA", .clear = "", .flags = 0 },
		/* the clear field ends at the next ':' */
		{ .line = "x:h:1:2048:g:/d:NOQUOTA:pw:extra:more", .ret = 1, .name = "x", .passwd = "h",
		  .dir = "/d", .shell = "NOQUOTA", .clear = "pw", .flags = 0x800 },
		/* atoi semantics for the flags */
		{ .line = "x:h:1: 12abc:g:/d:q", .ret = 1, .name = "x", .passwd = "h", .dir = "/d",
		  .shell = "q", .flags = 12 },
		{ .line = "x:h:1:junk:g:/d:q", .ret = 1, .name = "x", .passwd = "h", .dir = "/d",
		  .shell = "q", .flags = 0 },
		{ .line = "x:h:1:-1:g:/d:q", .ret = 1, .name = "x", .passwd = "h", .dir = "/d",
		  .shell = "q", .flags = 0xffffffffu },
		{ .line = "x:h:1:99999999999999999999:g:/d:q", .ret = 1, .name = "x", .passwd = "h",
		  .dir = "/d", .shell = "q", .flags = 0x7fffffffu },
		{ .line = "x:::::", .ret = 0 },                 /* 5 colons */
		{ .line = "x:h:1:0", .ret = 0 },
		{ .line = "", .ret = 0 },
		{ .line = ":h:1:0:g:/d:q", .ret = 0 },          /* empty name */
		{ .line = "a b:h:1:0:g:/d:q", .ret = 0 },       /* space in name */
		{ .line = "x\x01:h:1:0:g:/d:q", .ret = 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpasswd_entry e;
		const char *error = NULL;
		int ret = vpasswd_parse_line((const uint8_t *)cases[i].line, strlen(cases[i].line), &e,
					     &error);
		if (ret != cases[i].ret)
			fail_msg("line %zu %s: got %d, want %d", i, cases[i].line, ret, cases[i].ret);
		if (ret == 0) {
			assert_non_null(error);
			continue;
		}
#define SPAN_EQ(field) \
		if (e.field.len != strlen(cases[i].field) || \
		    memcmp(e.field.p, cases[i].field, e.field.len) != 0) \
			fail_msg("line %zu " #field ": got %.*s, want %s", i, (int)e.field.len, \
				 (const char *)e.field.p, cases[i].field)
		SPAN_EQ(name);
		SPAN_EQ(passwd);
		SPAN_EQ(dir);
		SPAN_EQ(shell);
		if (e.has_clear != (cases[i].clear != NULL))
			fail_msg("line %zu has_clear: got %d", i, e.has_clear);
		if (cases[i].clear != NULL)
			SPAN_EQ(clear);
		if (e.flags != cases[i].flags)
			fail_msg("line %zu flags: got 0x%x, want 0x%x", i, e.flags, cases[i].flags);
	}
	/* NUL byte */
	struct vpasswd_entry e;
	const char *error = NULL;
	assert_int_equal(vpasswd_parse_line((const uint8_t *)"x:h\0:1:0:g:/d:q", 15, &e, &error), 0);
}

static void test_vpasswd_cdb(void **state)
{
	(void)state;
	struct vpasswd_entry e;
	const char *error = NULL;
	const char *v = "$1$s$h:1:2:Bob:/d/bob:50M:bobpw";
	assert_int_equal(vpasswd_parse_cdb((const uint8_t *)"bob", 3, (const uint8_t *)v, strlen(v),
					   &e, &error), 1);
	assert_int_equal(e.flags, 2);
	assert_true(e.has_clear);
	assert_int_equal(e.clear.len, 5);
	/* missing trailing fields are empty */
	assert_int_equal(vpasswd_parse_cdb((const uint8_t *)"bob", 3, (const uint8_t *)"pw", 2, &e,
					   &error), 1);
	assert_int_equal(e.passwd.len, 2);
	assert_int_equal(e.dir.len, 0);
	assert_int_equal(e.shell.len, 0);
	assert_false(e.has_clear);
	assert_int_equal(vpasswd_parse_cdb((const uint8_t *)"bob", 3, (const uint8_t *)"", 0, &e,
					   &error), 1);
	assert_int_equal(e.passwd.len, 0);
	assert_int_equal(vpasswd_parse_cdb((const uint8_t *)"", 0, (const uint8_t *)"x", 1, &e,
					   &error), 0);
	assert_int_equal(vpasswd_parse_cdb((const uint8_t *)"bob", 3, (const uint8_t *)"a\0b", 3, &e,
					   &error), 0);
}

static void test_assign_line(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum vpopmail_assign_line want;
		const char *domain, *real, *dir;
		uint32_t uid, gid;
	} cases[] = {
		{ "+example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::",
		  VPOPMAIL_ASSIGN_ENTRY, "example.com", "example.com",
		  "/home/vpopmail/domains/example.com", 89, 89 },
		{ "+alias.example.com-:example.com:89:89:/h/d/example.com:-::", VPOPMAIL_ASSIGN_ENTRY,
		  "alias.example.com", "example.com", "/h/d/example.com", 89, 89 },
		{ "+Example.NET-:example.net:7:8:/d:-", VPOPMAIL_ASSIGN_ENTRY, "Example.NET",
		  "example.net", "/d", 7, 8 },
		{ "=alias:alias:7790:2108:/var/qmail/alias:-::", VPOPMAIL_ASSIGN_IGNORE, NULL, NULL,
		  NULL, 0, 0 },
		{ "", VPOPMAIL_ASSIGN_IGNORE, NULL, NULL, NULL, 0, 0 },
		{ ".", VPOPMAIL_ASSIGN_END, NULL, NULL, NULL, 0, 0 },
		{ "+example.com:example.com:89:89:/d:-::", VPOPMAIL_ASSIGN_INVALID, NULL, NULL, NULL,
		  0, 0 },   /* no '-' */
		{ "+localhost-:localhost:89:89:/d:-::", VPOPMAIL_ASSIGN_INVALID, NULL, NULL, NULL, 0,
		  0 },      /* no '.' */
		{ "+example.com-:example.com:89:89:/d", VPOPMAIL_ASSIGN_INVALID, NULL, NULL, NULL, 0, 0 },
		{ "+example.com-:example.com:x:89:/d:-::", VPOPMAIL_ASSIGN_INVALID, NULL, NULL, NULL, 0,
		  0 },
		{ "+example.com-:example.com:89:89:rel/d:-::", VPOPMAIL_ASSIGN_INVALID, NULL, NULL,
		  NULL, 0, 0 },
		{ "+../x.com-:x.com:89:89:/d:-::", VPOPMAIL_ASSIGN_INVALID, NULL, NULL, NULL, 0, 0 },
		{ "junk", VPOPMAIL_ASSIGN_INVALID, NULL, NULL, NULL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpopmail_assign a;
		const char *error = NULL;
		enum vpopmail_assign_line got = vpopmail_assign_parse_line(
			(const uint8_t *)cases[i].line, strlen(cases[i].line), &a, &error);
		if (got != cases[i].want)
			fail_msg("assign %zu %s: got %d, want %d", i, cases[i].line, got, cases[i].want);
		if (got == VPOPMAIL_ASSIGN_INVALID && error == NULL)
			fail_msg("assign %zu: no error text", i);
		if (got != VPOPMAIL_ASSIGN_ENTRY)
			continue;
		if (a.domain.len != strlen(cases[i].domain) ||
		    memcmp(a.domain.p, cases[i].domain, a.domain.len) != 0 ||
		    a.real_domain.len != strlen(cases[i].real) ||
		    memcmp(a.real_domain.p, cases[i].real, a.real_domain.len) != 0 ||
		    a.dir.len != strlen(cases[i].dir) || memcmp(a.dir.p, cases[i].dir, a.dir.len) != 0 ||
		    a.uid != cases[i].uid || a.gid != cases[i].gid)
			fail_msg("assign %zu: got %.*s %.*s %u %u %.*s", i, (int)a.domain.len,
				 (const char *)a.domain.p, (int)a.real_domain.len,
				 (const char *)a.real_domain.p, a.uid, a.gid, (int)a.dir.len,
				 (const char *)a.dir.p);
	}
	struct vpopmail_assign a;
	const char *error = NULL;
	static const char good[] = "example.com\0" "89\0" "89\0" "/d/example.com\0" "-\0";
	assert_int_equal(vpopmail_assign_parse_cdb((const uint8_t *)good, sizeof(good) - 1, &a,
						   &error), 1);
	assert_int_equal(a.uid, 89);
	assert_int_equal(a.dir.len, 14);
	static const char short_v[] = "example.com\0" "89\0" "89";
	assert_int_equal(vpopmail_assign_parse_cdb((const uint8_t *)short_v, sizeof(short_v) - 1, &a,
						   &error), 0);
	static const char bad_uid[] = "example.com\0" "-1\0" "89\0" "/d\0";
	assert_int_equal(vpopmail_assign_parse_cdb((const uint8_t *)bad_uid, sizeof(bad_uid) - 1, &a,
						   &error), 0);
}

static void test_limits(void **state)
{
	(void)state;
	static const struct {
		const char *data;
		uint32_t want;
	} cases[] = {
		{ "disable_imap\n", VPOPMAIL_NO_IMAP },
		{ "maxpopaccounts 10\ndisable_pop 1\ndisable_smtp:1\n",
		  VPOPMAIL_NO_POP | VPOPMAIL_NO_SMTP },
		{ "  disable_webmail\r\ndelete_spam", VPOPMAIL_NO_WEBMAIL | VPOPMAIL_DELETE_SPAM },
		{ "disable_imapx\nperm_account 7\n", 0 },
		{ "", 0 },
		{ "disable_external_relay\tdisable_pop\n", VPOPMAIL_NO_RELAY },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = vpopmail_limits_parse((const uint8_t *)cases[i].data,
						     strlen(cases[i].data));
		if (got != cases[i].want)
			fail_msg("limits %zu: got 0x%x, want 0x%x", i, got, cases[i].want);
	}
}

static void test_quota(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int ret;
		const char *want;
	} cases[] = {
		/* spec section 8 */
		{ "NOQUOTA", 0, "" },
		{ "", 0, "" },
		{ "52428800S,1000C", 1, "52428800S,1000C" },
		{ "10485760S", 1, "10485760S" },
		{ "10485760", 1, "10485760S" },
		{ "50M", 1, "52428800S" },
		{ "20MB", 1, "20971520S" },
		{ "1000KB", 1, "1024000S" },
		{ "1000C", 1, "1000C" },
		{ "5M,200C", 1, "5242880S,200C" },
		{ "abc", -1, "" },
		/* vpopmail 5.6's own examples and edges */
		{ "1000c", 1, "1000S" },
		{ "1mbs,1000C", 1, "1048576S,1000C" },
		{ "1000C,10MBS", 1, "10485760S,1000C" },
		{ "0S", -1, "" },
		{ ",,", -1, "" },
		{ "S", -1, "" },
		{ "-5M", -1, "" },
		{ "99999999999999999999", -1, "" },
		{ "17592186044416M", -1, "" },      /* 2^44 MiB overflows 64 bits */
		{ "17592186044415M", 1, "18446744073708503040S" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[VPOPMAIL_QUOTA_OUT_MAX];
		int ret = vpopmail_quota_normalise((const uint8_t *)cases[i].in, strlen(cases[i].in),
						   out, sizeof(out));
		if (ret != cases[i].ret || (ret == 1 && strcmp(out, cases[i].want) != 0))
			fail_msg("quota %s: got %d %s, want %d %s", cases[i].in, ret, out, cases[i].ret,
				 cases[i].want);
	}
}

static void test_login_split(void **state)
{
	(void)state;
	static const struct {
		const char *login;
		int ret;
		const char *user, *domain;
	} cases[] = {
		{ "alice@example.com", 1, "alice", "example.com" },
		{ "ALICE@EXAMPLE.COM", 1, "alice", "example.com" },
		{ "alice%example.com", 1, "alice", "example.com" },
		{ "alice", 1, "alice", "" },
		{ "alice@", 1, "alice", "" },
		{ "o'neil+tag@example.com", 1, "o'neil+tag", "example.com" },
		{ "a%b@example.com", 0, NULL, NULL },
		{ "@example.com", 0, NULL, NULL },
		{ "../../etc/passwd@example.com", 0, NULL, NULL },
		{ "a/b@example.com", 0, NULL, NULL },
		{ "..@example.com", 0, NULL, NULL },
		{ ".@example.com", 0, NULL, NULL },
		{ ".hidden@example.com", 0, NULL, NULL },
		{ "a..b@example.com", 0, NULL, NULL },
		{ "alice@../../etc", 0, NULL, NULL },
		{ "alice@exa..mple.com", 0, NULL, NULL },
		{ "alice@.example.com", 0, NULL, NULL },
		{ "alice@example.com/x", 0, NULL, NULL },
		{ "alice@exa_mple.com", 0, NULL, NULL },
		{ "ali\tce@example.com", 0, NULL, NULL },
		{ "ali ce@example.com", 0, NULL, NULL },
		{ "al\xc3\xa9@example.com", 0, NULL, NULL },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.com", 0, NULL,
		  NULL },   /* 65 characters */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpopmail_login l;
		const char *error = NULL;
		int ret = vpopmail_login_split((const uint8_t *)cases[i].login, strlen(cases[i].login),
					       &l, &error);
		if (ret != cases[i].ret)
			fail_msg("login %s: got %d, want %d", cases[i].login, ret, cases[i].ret);
		if (ret == 1 && (strcmp(l.user, cases[i].user) != 0 ||
				 strcmp(l.domain, cases[i].domain) != 0))
			fail_msg("login %s: got %s / %s, want %s / %s", cases[i].login, l.user,
				 l.domain, cases[i].user, cases[i].domain);
	}
	struct vpopmail_login l;
	const char *error = NULL;
	assert_int_equal(vpopmail_login_split((const uint8_t *)"a\0b@x.com", 9, &l, &error), 0);
	assert_int_equal(vpopmail_login_split((const uint8_t *)"alice@x.com\0", 12, &l, &error), 0);
}

static void test_path_under(void **state)
{
	(void)state;
	static const struct {
		const char *root, *path;
		bool want;
	} cases[] = {
		{ "/home/vpopmail", "/home/vpopmail/domains/example.com", true },
		{ "/home/vpopmail", "/home/vpopmail/domains/example.com/", true },
		{ "/home/vpopmail", "/home/vpopmail", false },
		{ "/home/vpopmail", "/home/vpopmail/", false },
		{ "/home/vpopmail", "/home/vpopmailx/d", false },
		{ "/home/vpopmail", "/home/vpopmail/../etc", false },
		{ "/home/vpopmail", "/home/vpopmail/domains/../../../etc", false },
		{ "/home/vpopmail", "/home/vpopmail/./d", false },
		{ "/home/vpopmail", "/home/vpopmail//d", false },
		{ "/home/vpopmail", "home/vpopmail/d", false },
		{ "/home/vpopmail", "/home/vpopmail/d\n", false },
		{ "/home/vpopmail", "/etc", false },
		{ "/home/vpopmail", "", false },
		{ "", "/x", true },
		{ "", "/", false },
		{ "", "/x/../y", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = vpopmail_path_under(cases[i].root, (const uint8_t *)cases[i].path,
					       strlen(cases[i].path));
		if (got != cases[i].want)
			fail_msg("path %s under %s: got %d, want %d", cases[i].path, cases[i].root, got,
				 cases[i].want);
	}
}

/* ------------------------------------------------------------ text index */

struct log_count {
	size_t count;
	char last[256];
};

static void count_log(void *ctx, unsigned int line, const char *message)
{
	struct log_count *c = ctx;
	c->count++;
	snprintf(c->last, sizeof(c->last), "%u: %s", line, message);
}

static struct vpopmail_text *build(const char *data, size_t len, enum vpopmail_text_kind kind,
				   struct log_count *logs)
{
	uint8_t *copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	return vpopmail_text_build(copy, len, kind, count_log, logs);
}

static void test_text_index(void **state)
{
	(void)state;
	struct log_count logs = { 0 };
	static const char vpasswd[] =
		"zed:z:1:0:Z:/d/zed:NOQUOTA\n"
		"bob:first:1:0:B:/d/bob:NOQUOTA\r\n"
		"short:x:1:0\n"
		"\n"
		"bob:second:1:0:B:/d/bob2:NOQUOTA\n"
		"nul:x\0:1:0:N:/d:NOQUOTA\n"
		"amy:a:1:0:A:/d/amy:NOQUOTA";
	struct vpopmail_text *t = build(vpasswd, sizeof(vpasswd) - 1, VPOPMAIL_TEXT_VPASSWD, &logs);
	assert_non_null(t);
	assert_int_equal(vpopmail_text_count(t), 4);
	assert_int_equal(logs.count, 2);   /* short, nul */
	const uint8_t *line;
	size_t len;
	assert_int_equal(vpopmail_text_find(t, "bob", 3, &line, &len), 1);
	assert_int_equal(len, strlen("bob:first:1:0:B:/d/bob:NOQUOTA"));   /* CR dropped */
	assert_memory_equal(line, "bob:first:", 10);                        /* first wins */
	assert_int_equal(vpopmail_text_find(t, "amy", 3, &line, &len), 1);
	assert_int_equal(vpopmail_text_find(t, "zed", 3, &line, &len), 1);
	assert_int_equal(vpopmail_text_find(t, "bo", 2, &line, &len), 0);
	assert_int_equal(vpopmail_text_find(t, "bobb", 4, &line, &len), 0);
	assert_int_equal(vpopmail_text_find(t, "short", 5, &line, &len), 0);
	vpopmail_text_free(&t);
	assert_null(t);

	static const char assign[] =
		"=alias:alias:7790:2108:/var/qmail/alias:-::\n"
		"+Example.COM-:example.com:89:89:/d/example.com:-::\n"
		"+example.com-:example.com:1:1:/d/second:-::\n"
		"bogus\n"
		".\n"
		"+after.com-:after.com:89:89:/d/after.com:-::\n";
	memset(&logs, 0, sizeof(logs));
	t = build(assign, sizeof(assign) - 1, VPOPMAIL_TEXT_ASSIGN, &logs);
	assert_non_null(t);
	assert_int_equal(vpopmail_text_count(t), 2);
	assert_int_equal(logs.count, 1);
	assert_int_equal(vpopmail_text_find(t, "example.com", 11, &line, &len), 1);
	assert_non_null(memmem(line, len, "/d/example.com", 14));
	assert_int_equal(vpopmail_text_find(t, "after.com", 9, &line, &len), 0);
	vpopmail_text_free(&t);

	/* many bad lines: a few messages and a count */
	char many[4096] = "";
	for (int i = 0; i < 50; i++)
		strcat(many, "bad\n");
	memset(&logs, 0, sizeof(logs));
	t = build(many, strlen(many), VPOPMAIL_TEXT_VPASSWD, &logs);
	assert_non_null(t);
	assert_int_equal(logs.count, 11);
	assert_non_null(strstr(logs.last, "40 more"));
	vpopmail_text_free(&t);
	/* an empty file */
	t = vpopmail_text_build(NULL, 0, VPOPMAIL_TEXT_ASSIGN, NULL, NULL);
	assert_non_null(t);
	assert_int_equal(vpopmail_text_find(t, "x", 1, &line, &len), 0);
	vpopmail_text_free(&t);
}

/* ------------------------------------------------------------ args */

static void test_args(void **state)
{
	(void)state;
	static const struct {
		const char *args;
		enum vpopmail_args_for which;
		int ret;
	} cases[] = {
		{ "", VPOPMAIL_ARGS_PASSDB, 0 },
		{ "cache_key=%u webmail=127.0.0.1 blocking=no", VPOPMAIL_ARGS_PASSDB, 0 },
		{ "webmail=::1", VPOPMAIL_ARGS_PASSDB, 0 },
		{ "webmail=nonsense", VPOPMAIL_ARGS_PASSDB, -1 },
		{ "webmail=127.0.0.1", VPOPMAIL_ARGS_USERDB, -1 },
		{ "quota_template=quota_rule=*:backend=%q", VPOPMAIL_ARGS_USERDB, 0 },
		{ "quota_template=quota_rule=*:backend=%q", VPOPMAIL_ARGS_PASSDB, -1 },
		{ "quota_template=novalue", VPOPMAIL_ARGS_USERDB, -1 },
		{ "last_auth=yes create_missing_home=no mail=", VPOPMAIL_ARGS_USERDB, 0 },
		{ "last_auth=maybe", VPOPMAIL_ARGS_USERDB, -1 },
		{ "vpopmail_dir=relative", VPOPMAIL_ARGS_PASSDB, -1 },
		{ "vpopmail_dir=/var/../etc", VPOPMAIL_ARGS_PASSDB, -1 },
		{ "vpopmail_dir=/var/vpopmail/ qmail_dir=/opt/qmail", VPOPMAIL_ARGS_PASSDB, 0 },
		{ "assign_cdb=assign.cdb", VPOPMAIL_ARGS_PASSDB, 0 },
		{ "assign_cdb=../x", VPOPMAIL_ARGS_PASSDB, -1 },
		{ "default_domain=Example.COM", VPOPMAIL_ARGS_USERDB, 0 },
		{ "default_domain=../x", VPOPMAIL_ARGS_USERDB, -1 },
		{ "unknown=1", VPOPMAIL_ARGS_PASSDB, -1 },
		{ "/home/vpopmail", VPOPMAIL_ARGS_PASSDB, -1 },
	};
	struct pool *pool = pool_create(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpopmail_args a;
		const char *error = NULL;
		int ret = vpopmail_args_parse(pool, cases[i].args, cases[i].which, &a, &error);
		if (ret != cases[i].ret)
			fail_msg("args '%s': got %d (%s), want %d", cases[i].args, ret,
				 error != NULL ? error : "", cases[i].ret);
	}
	struct vpopmail_args a;
	const char *error = NULL;
	assert_int_equal(vpopmail_args_parse(pool, "vpopmail_dir=/var/vpopmail/ default_domain=Ex.COM "
					     "quota_template=quota_rule=*:backend=%q",
					     VPOPMAIL_ARGS_USERDB, &a, &error), 0);
	assert_string_equal(a.vpopmail_dir, "/var/vpopmail");
	assert_string_equal(a.qmail_dir, "/var/qmail");
	assert_string_equal(a.assign_cdb, "cdb");
	assert_string_equal(a.default_domain, "ex.com");
	assert_string_equal(a.quota_key, "quota_rule");
	assert_string_equal(a.quota_template, "*:backend=%q");
	assert_string_equal(a.mail, "maildir:~/Maildir");
	assert_false(a.last_auth);
	assert_false(a.create_missing_home);
	assert_int_equal(vpopmail_args_parse(pool, "", VPOPMAIL_ARGS_PASSDB, &a, &error), 0);
	assert_string_equal(a.vpopmail_dir, "/home/vpopmail");
	assert_false(a.webmail_set);
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vpasswd_line),
		cmocka_unit_test(test_vpasswd_cdb),
		cmocka_unit_test(test_assign_line),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_login_split),
		cmocka_unit_test(test_path_under),
		cmocka_unit_test(test_text_index),
		cmocka_unit_test(test_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
