/* Tests for passdb/db_passwd_file: the spec fixture (passwd-file-and-ldap.md
 * A.7) through passwd_file_parse, line-level rules, and the registry's
 * reload behaviour on real files. */
#include "common/pool.h"
#include "common/scheme.h"
#include "passdb/db_passwd_file.h"

#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/passwd_file_testlib.h"

/* shared/spec/fixtures/passwd-file-fixture.users, except that zack's line
 * has no final LF here (the spec's table says so; the shipped file has one). */
static const char fixture[] =
	"# test passwd-file for the spec\n"
	"\n"
	"alice:{PLAIN}alicepw:1001:1001::/home/alice::userdb_mail=maildir:~/Maildir\n"
	"bob:{CRAM-MD5}cb63714fcd91f1fa5ba24069c4f487c632d440dae0f09218312d88d6fb2bd775:1002:1002:Bob B:/home/bob:/bin/sh\n"
	"carol:$6$SzH6Ap1ubR/xr2AD$/dnZOKFy3oc5yQT6F8xGY5IXa2uMmv4sZmjDBYHJVsLsVfprtNFyeGo5iRgVN0qn5tjXUKCHVLQHof4maDCgE/:1003:1003::/home/carol::userdb_quota_rule=*:storage=1G\n"
	"dave:{PLAIN}davepw\n"
	"erin::1005:1005::/home/erin::nopassword\n"
	"frank:{PLAIN}frankpw:1006:1006::/home/frank::allow_nets=10.0.0.0/8,192.168.1.1\n"
	"gina:{PLAIN}ginapw:1007:1007::/home/gina::nologin reason=Account%20moved proxy host=10.0.0.1\n"
	"ivan:{PLAIN}ivanpw:1009:1009::/home/ivan:::maildir:~/Mail\n"
	"alice:{PLAIN}secondalice:1999:1999::/home/alice2\n"
	":{PLAIN}nouser:1:1::/x\n"
	"   # not a comment (leading spaces)\n"
	"judy:8efb6d0ae5882e507973ec61abd11cd1[34]:1011:1011::/home/judy\n"
	"paul:/.KP7VSsQ0jl.[13]:1012:1012::/home/paul\n"
	"oscar@example.com:2b6082202a1a31978ba774b9164fbdd0[56]:1013:1013::/home/oscar\n"
	"kate:{PLAIN}katepw:dovecot:dovecot::/home/kate\n"
	"leo:{PLAIN}leopw:0:0::/root\n"
	"mike:{PLAIN}mikepw:1014:1014::/home/mike::userdb_mail=maildir:/var/mail/%d/%n userdb_home=/srv/%u\n"
	"nina:{PLAIN}ninapw:::/home/nina\n"
	"olga@example.com:{PLAIN}olgapw:1015:1015::::userdb_quota_rule=*:bytes=100M  nodelay\n"
	"quinn:{PLAIN}quinnpw:1016:1016::/home/quinn:/bin/false:userdb_mail=mbox:~/mail user=quinn2\n"
	"rita:noschemecrypt:1017:1017::/home/rita\n"
	"sam:{PLAIN}sampw:1018:1018::/home/sam::userdb_uid=2018 userdb_gid=2018\n"
	"tom:{SHA256-CRYPT}$5$saltstring$C3o4O1TC6aRHF4FI.QSZMXtHbaj2gSXr4sUc/3NcUi.:1019:1019::/home/tom\n"
	"uma:{PLAIN}umapw:1020:1020::/home/uma::fail\n"
	"vic:{PLAIN}vicpw:1021:1021::/home/vic::userdb_mail=maildir:~/M nopassword\n"
	"wendy:{PLAIN}wendypw:1022:abc::/home/wendy\n"
	"xena:{SCRAM-SHA-256}4096,DIJARWhPmG+jfcokInaO2Q==,1+AQBSTFI/fYP4XuRJ7QkwUrFdNlHHKJXWZIQ7UxxiQ=,Ja6tMpFNXg0qITm/o8gMmfWM/Xkd7ojIQxJGj2n1Xso=:1023:1023::/home/xena\n"
	"yuri:{PLAIN}yuripw:1024:1024::/home/yuri\r\n"
	"zack:{PLAIN}zackpw:1025:1025::/home/zack";

#define MAX_LOGS 16
#define MAX_EXTRA 4

struct log_capture {
	size_t count;
	unsigned int line[MAX_LOGS];
	char msg[MAX_LOGS][256];
};

static void capture_log(void *ctx, const char *path, unsigned int line, const char *message)
{
	struct log_capture *c = ctx;
	assert_string_equal(path, "fixture");
	if (c->count < MAX_LOGS) {
		c->line[c->count] = line;
		snprintf(c->msg[c->count], sizeof(c->msg[0]), "%s", message);
	}
	c->count++;
}

struct want_entry {
	const char *user;
	const char *password;    /* NULL = absent */
	bool has_userdb;
	long uid, gid;           /* -1 = not set; -2 = the dovecot user/group */
	const char *home;
	const char *extra[MAX_EXTRA];
};

/* A.7 with userdb = true, single userdb. */
static const struct want_entry fixture_userdb[] = {
	{ "alice", "{PLAIN}alicepw", true, 1001, 1001, "/home/alice", { "userdb_mail=maildir:~/Maildir" } },
	{ "bob", "{CRAM-MD5}cb63714fcd91f1fa5ba24069c4f487c632d440dae0f09218312d88d6fb2bd775", true, 1002, 1002, "/home/bob", { NULL } },
	{ "carol", "$6$SzH6Ap1ubR/xr2AD$/dnZOKFy3oc5yQT6F8xGY5IXa2uMmv4sZmjDBYHJVsLsVfprtNFyeGo5iRgVN0qn5tjXUKCHVLQHof4maDCgE/", true, 1003, 1003, "/home/carol", { "userdb_quota_rule=*:storage=1G" } },
	{ "dave", "{PLAIN}davepw", false, -1, -1, NULL, { NULL } },
	{ "erin", "", true, 1005, 1005, "/home/erin", { "nopassword" } },
	{ "frank", "{PLAIN}frankpw", true, 1006, 1006, "/home/frank", { "allow_nets=10.0.0.0/8,192.168.1.1" } },
	{ "gina", "{PLAIN}ginapw", true, 1007, 1007, "/home/gina", { "nologin", "reason=Account%20moved", "proxy", "host=10.0.0.1" } },
	{ "ivan", "{PLAIN}ivanpw", true, 1009, 1009, "/home/ivan", { "userdb_mail=maildir:~/Mail" } },
	{ "   # not a comment (leading spaces)", NULL, false, -1, -1, NULL, { NULL } },
	{ "judy", "{PLAIN-MD5}8efb6d0ae5882e507973ec61abd11cd1", true, 1011, 1011, "/home/judy", { NULL } },
	{ "paul", "{CRYPT}/.KP7VSsQ0jl.", true, 1012, 1012, "/home/paul", { NULL } },
	{ "oscar@example.com", "{DIGEST-MD5}2b6082202a1a31978ba774b9164fbdd0", true, 1013, 1013, "/home/oscar", { NULL } },
	{ "kate", "{PLAIN}katepw", true, -2, -2, "/home/kate", { NULL } },
	{ "mike", "{PLAIN}mikepw", true, 1014, 1014, "/home/mike", { "userdb_mail=maildir:/var/mail/%d/%n", "userdb_home=/srv/%u" } },
	{ "nina", "{PLAIN}ninapw", true, -1, -1, NULL, { NULL } },
	{ "olga@example.com", "{PLAIN}olgapw", true, 1015, 1015, NULL, { "userdb_quota_rule=*:bytes=100M", "nodelay" } },
	{ "quinn", "{PLAIN}quinnpw", true, 1016, 1016, "/home/quinn", { "userdb_mail=mbox:~/mail", "user=quinn2" } },
	{ "rita", "noschemecrypt", true, 1017, 1017, "/home/rita", { NULL } },
	{ "sam", "{PLAIN}sampw", true, 1018, 1018, "/home/sam", { "userdb_uid=2018", "userdb_gid=2018" } },
	{ "tom", "{SHA256-CRYPT}$5$saltstring$C3o4O1TC6aRHF4FI.QSZMXtHbaj2gSXr4sUc/3NcUi.", true, 1019, 1019, "/home/tom", { NULL } },
	{ "uma", "{PLAIN}umapw", true, 1020, 1020, "/home/uma", { "fail" } },
	{ "vic", "{PLAIN}vicpw", true, 1021, 1021, "/home/vic", { "userdb_mail=maildir:~/M", "nopassword" } },
	{ "xena", "{SCRAM-SHA-256}4096,DIJARWhPmG+jfcokInaO2Q==,1+AQBSTFI/fYP4XuRJ7QkwUrFdNlHHKJXWZIQ7UxxiQ=,Ja6tMpFNXg0qITm/o8gMmfWM/Xkd7ojIQxJGj2n1Xso=", true, 1023, 1023, "/home/xena", { NULL } },
	{ "yuri", "{PLAIN}yuripw", true, 1024, 1024, "/home/yuri", { NULL } },
	{ "zack", "{PLAIN}zackpw", true, 1025, 1025, "/home/zack", { NULL } },
};

static const struct {
	unsigned int line;
	const char *msg;
} fixture_logs[] = {
	{ 6, "User dave is missing userdb info" },
	{ 11, "User alice exists more than once" },
	{ 13, "User    # not a comment (leading spaces) is missing userdb info" },
	{ 18, "User leo has invalid UID '0'" },
	{ 28, "User wendy has invalid GID 'abc'" },
};

/* Decoded entries live in this pool and in rotating slots, so a test can
 * hold a few lookup results at once. */
#define LOOKUP_SLOTS 8

static const struct passwd_entry *lookup(const struct passwd_file *pf, const char *user,
					 size_t len)
{
	static struct passwd_entry slots[LOOKUP_SLOTS];
	static unsigned int next;
	struct passwd_entry *e = &slots[next++ % LOOKUP_SLOTS];
	return passwd_file_lookup(pf, user, len, tpool, e) == 1 ? e : NULL;
}

static const struct passwd_entry *entry_at(const struct passwd_file *pf, size_t i)
{
	static struct passwd_entry e;
	return passwd_file_entry(pf, i, tpool, &e) == 1 ? &e : NULL;
}

static long want_id(long want, bool gid)
{
	if (want != -2)
		return want;
	if (gid) {
		struct group *gr = getgrnam("dovecot");
		assert_non_null(gr);
		return (long)gr->gr_gid;
	}
	struct passwd *pw = getpwnam("dovecot");
	assert_non_null(pw);
	return (long)pw->pw_uid;
}

static void check_str(const char *user, const char *what, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0))
		fail_msg("%s: %s: got '%s', want '%s'", user, what, got ? got : "(null)",
			 want ? want : "(null)");
}

static void check_entry(const struct passwd_file *pf, const struct want_entry *w)
{
	const struct passwd_entry *e = lookup(pf, w->user, strlen(w->user));
	if (e == NULL)
		fail_msg("%s: got no entry", w->user);
	check_str(w->user, "password", e->password, w->password);
	check_str(w->user, "home", e->home, w->home);
	if (e->has_userdb != w->has_userdb)
		fail_msg("%s: has_userdb: got %d, want %d", w->user, e->has_userdb, w->has_userdb);
	long uid = want_id(w->uid, false), gid = want_id(w->gid, true);
	if (e->has_uid != (uid >= 0) || (uid >= 0 && (long)e->uid != uid))
		fail_msg("%s: uid: got %d/%ld, want %ld", w->user, e->has_uid, (long)e->uid, uid);
	if (e->has_gid != (gid >= 0) || (gid >= 0 && (long)e->gid != gid))
		fail_msg("%s: gid: got %d/%ld, want %ld", w->user, e->has_gid, (long)e->gid, gid);
	size_t n = 0;
	while (n < MAX_EXTRA && w->extra[n] != NULL)
		n++;
	if (e->extra_count != n)
		fail_msg("%s: got %zu extra fields, want %zu", w->user, e->extra_count, n);
	for (size_t i = 0; i < n; i++)
		check_str(w->user, "extra", e->extra[i], w->extra[i]);
}

static struct passwd_file *parse_str(const char *text, size_t len, bool userdb,
				     struct log_capture *logs)
{
	struct passwd_file_opts opts = {
		.path = "fixture", .userdb = userdb, .single_userdb = true,
		.log = capture_log, .log_ctx = logs,
	};
	memset(logs, 0, sizeof(*logs));
	struct passwd_file *pf = passwd_file_parse((const uint8_t *)text, len, &opts);
	assert_non_null(pf);
	return pf;
}

static void test_fixture_userdb(void **state)
{
	(void)state;
	struct log_capture logs;
	struct passwd_file *pf = parse_str(fixture, sizeof(fixture) - 1, true, &logs);
	size_t n = sizeof(fixture_userdb) / sizeof(fixture_userdb[0]);
	for (size_t i = 0; i < n; i++) {
		check_entry(pf, &fixture_userdb[i]);
		/* File order is kept for iteration. */
		check_str("entry order", "user", entry_at(pf, i)->user, fixture_userdb[i].user);
	}
	if (passwd_file_count(pf) != n)
		fail_msg("count: got %zu, want %zu", passwd_file_count(pf), n);
	assert_null(entry_at(pf, n));
	static const char *const absent[] = { "leo", "wendy", "", "alic", "ALICE", "alice " };
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
		if (lookup(pf, absent[i], strlen(absent[i])) != NULL)
			fail_msg("lookup('%s'): got an entry, want none", absent[i]);
	/* The key need not be NUL-terminated. */
	assert_non_null(lookup(pf, "alice:junk", 5));
	size_t nlogs = sizeof(fixture_logs) / sizeof(fixture_logs[0]);
	if (logs.count != nlogs)
		fail_msg("got %zu log lines, want %zu (first: %s)", logs.count, nlogs, logs.msg[0]);
	for (size_t i = 0; i < nlogs; i++) {
		if (logs.line[i] != fixture_logs[i].line || strcmp(logs.msg[i], fixture_logs[i].msg) != 0)
			fail_msg("log %zu: got %u '%s', want %u '%s'", i, logs.line[i], logs.msg[i],
				 fixture_logs[i].line, fixture_logs[i].msg);
	}
	passwd_file_free(&pf);
	assert_null(pf);
}

/* As a passdb only: no uid/gid validation, no home, no old-format mail. */
static void test_fixture_passdb(void **state)
{
	(void)state;
	struct log_capture logs;
	struct passwd_file *pf = parse_str(fixture, sizeof(fixture) - 1, false, &logs);
	static const struct want_entry want[] = {
		{ "leo", "{PLAIN}leopw", true, -1, -1, NULL, { NULL } },
		{ "wendy", "{PLAIN}wendypw", true, -1, -1, NULL, { NULL } },
		{ "ivan", "{PLAIN}ivanpw", true, -1, -1, NULL, { NULL } },
		{ "dave", "{PLAIN}davepw", false, -1, -1, NULL, { NULL } },
		{ "gina", "{PLAIN}ginapw", true, -1, -1, NULL, { "nologin", "reason=Account%20moved", "proxy", "host=10.0.0.1" } },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		check_entry(pf, &want[i]);
	assert_int_equal(passwd_file_count(pf), 27);
	assert_int_equal(logs.count, 1);
	assert_string_equal(logs.msg[0], "User alice exists more than once");
	passwd_file_free(&pf);
}

/* The stored values (after the [NN] rewrite) verify through common/scheme
 * with the passwd-file prefix rule and the CRYPT default. */
static void test_fixture_passwords(void **state)
{
	(void)state;
	static const struct {
		const char *user, *pw;
		int want;
	} cases[] = {
		{ "alice", "alicepw", 1 }, { "bob", "bobpw", 1 }, { "carol", "carolpw", 1 },
		{ "judy", "judypw", 1 }, { "paul", "paulpw", 1 },
		{ "oscar@example.com", "oscarpw", 1 }, { "tom", "secret", 1 },
		{ "rita", "noschemecrypt", 0 }, { "erin", "", 0 }, { "alice", "secondalice", 0 },
		{ "judy", "judypx", 0 },
	};
	struct log_capture logs;
	struct passwd_file *pf = parse_str(fixture, sizeof(fixture) - 1, true, &logs);
	assert_int_equal(scheme_init(), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct passwd_entry *e = lookup(pf, cases[i].user,
								 strlen(cases[i].user));
		struct scheme_stored st;
		const char *error = NULL;
		assert_non_null(e);
		assert_int_equal(scheme_parse_stored(e->password, strlen(e->password), "CRYPT",
						     SCHEME_PREFIX_PASSWD_FILE, &st, &error), 1);
		int got = scheme_verify(&st, (const uint8_t *)cases[i].pw, strlen(cases[i].pw),
					cases[i].user, &error);
		if (got != cases[i].want)
			fail_msg("%s/%s: got %d (%s), want %d", cases[i].user, cases[i].pw, got,
				 error ? error : "-", cases[i].want);
	}
	passwd_file_free(&pf);
}

struct line_case {
	const char *text;
	size_t len;              /* 0 = strlen(text) */
	bool userdb;
	const char *user;        /* entry to check; NULL = no entry at all */
	const char *password;
	const char *extra0;
	size_t extra_count;
	const char *log;         /* expected single log message, or NULL */
};

static const struct line_case line_cases[] = {
	{ "u:abcd[34]", 0, false, "u", "{PLAIN-MD5}abcd", NULL, 0, NULL },
	{ "u:abcd[13]", 0, false, "u", "{CRYPT}abcd", NULL, 0, NULL },
	{ "u:abcd[99]", 0, false, "u", "{CRYPT}abcd", NULL, 0, NULL },
	{ "u:abcd[xy]", 0, false, "u", "{CRYPT}abcd", NULL, 0, NULL },
	{ "u:a[34]", 0, false, "u", "{PLAIN-MD5}a", NULL, 0, NULL },
	{ "u:[34]", 0, false, "u", "[34]", NULL, 0, NULL },
	{ "u:{PLAIN}x[34]", 0, false, "u", "{PLAIN}x[34]", NULL, 0, NULL },
	{ "u:$1$x[34]", 0, false, "u", "$1$x[34]", NULL, 0, NULL },
	{ "u:abc[56]", 0, false, NULL, NULL, NULL, 0, "User u has invalid password" },
	{ "u:0123456789abcdef0123456789ABCDEF[56]", 0, false, "u",
	  "{DIGEST-MD5}0123456789abcdef0123456789ABCDEF", NULL, 0, NULL },
	{ "justuser", 0, false, "justuser", NULL, NULL, 0, NULL },
	{ "u:", 0, false, "u", "", NULL, 0, NULL },
	{ " ", 0, false, " ", NULL, NULL, 0, NULL },
	{ "#c\n:x\n\n\n", 0, false, NULL, NULL, NULL, 0, NULL },
	{ "u:p:1:1::/h::  a  b   c  ", 0, false, "u", "p", "a", 3, NULL },
	{ "u:p:1:1::/h::a\tb", 0, false, "u", "p", "a\tb", 1, NULL },
	{ "u:p:1:1::/h:::", 0, true, "u", "p", NULL, 0, NULL },
	{ "u:p:1:1::/h::::x", 0, true, "u", "p", NULL, 0, NULL },
	{ "u:p:1:1::/h:::x:y::z", 0, true, "u", "p", "userdb_mail=x:y::z", 1, NULL },
	{ "u:p:1:1::/h::k=v:w x", 0, true, "u", "p", "k=v:w", 2, NULL },
	{ "u:p:1:1::/h:::maildir:~/M x", 0, true, "u", "p", "userdb_mail=maildir:~/M", 2, NULL },
	{ "u:p:1:1::/h::: x", 0, true, "u", "p", "userdb_mail=", 2, NULL },
	{ "u:p\r", 0, false, "u", "p\r", NULL, 0, NULL },
	{ "u:p\r\n", 0, false, "u", "p", NULL, 0, NULL },
	{ "u:p\r\r\n", 0, false, "u", "p\r", NULL, 0, NULL },
	{ "u:p:1001abc:1", 0, true, NULL, NULL, NULL, 0, "User u has invalid UID '1001abc'" },
	{ "u:p:4294967295:1", 0, true, NULL, NULL, NULL, 0, "User u has invalid UID '4294967295'" },
	{ "u:p:root:1", 0, true, NULL, NULL, NULL, 0, "User u has invalid UID 'root'" },
	{ "u:p:no_such_user_xyz:1", 0, true, NULL, NULL, NULL, 0, "User u has invalid UID 'no_such_user_xyz'" },
	{ "u:p:1:0", 0, true, NULL, NULL, NULL, 0, "User u has invalid GID '0'" },
	{ "u:p:1:\x01\xff", 0, true, NULL, NULL, NULL, 0, "User u has invalid GID '\\x01\\xff'" },
	{ "u:p:1001abc:1", 0, false, "u", "p", NULL, 0, NULL },
	{ "u:p:1001", 0, true, "u", "p", NULL, 0, "User u is missing userdb info" },
	{ "u\x1b[31m:p:1001", 0, true, "u\x1b[31m", "p", NULL, 0, "User u\\x1b[31m is missing userdb info" },
	{ "leo:p:0:0\nleo:q:5:5", 0, true, "leo", "q", NULL, 0, "User leo has invalid UID '0'" },
	{ "a:x\0y\nb:z", 9, false, "b", "z", NULL, 0, "Line 1 contains a NUL byte, ignored" },
};

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		const struct line_case *c = &line_cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->text);
		struct log_capture logs;
		struct passwd_file *pf = parse_str(c->text, len, c->userdb, &logs);
		if (c->log == NULL ? logs.count != 0 : logs.count != 1 || strcmp(logs.msg[0], c->log) != 0)
			fail_msg("'%s': got %zu logs ('%s'), want '%s'", c->text, logs.count,
				 logs.count ? logs.msg[0] : "", c->log ? c->log : "(none)");
		if (c->user == NULL) {
			if (passwd_file_count(pf) != 0)
				fail_msg("'%s': got %zu entries, want 0", c->text, passwd_file_count(pf));
			passwd_file_free(&pf);
			continue;
		}
		const struct passwd_entry *e = lookup(pf, c->user, strlen(c->user));
		if (e == NULL)
			fail_msg("'%s': no entry for '%s'", c->text, c->user);
		check_str(c->text, "password", e->password, c->password);
		if (e->extra_count != c->extra_count)
			fail_msg("'%s': got %zu extras, want %zu", c->text, e->extra_count, c->extra_count);
		if (c->extra0 != NULL)
			check_str(c->text, "extra[0]", e->extra[0], c->extra0);
		passwd_file_free(&pf);
	}
}

static void test_long_lines(void **state)
{
	(void)state;
	size_t long_len = PASSWD_FILE_MAX_LINE + 10;
	char *text = malloc(long_len + 64);
	assert_non_null(text);
	memset(text, 'x', long_len);
	memcpy(text, "big:", 4);
	strcpy(text + long_len, "\nsmall:pw\n");
	struct log_capture logs;
	struct passwd_file *pf = parse_str(text, strlen(text), false, &logs);
	assert_int_equal(passwd_file_count(pf), 1);
	assert_non_null(lookup(pf, "small", 5));
	assert_int_equal(logs.count, 1);
	assert_non_null(strstr(logs.msg[0], "Line 1 is too long"));
	passwd_file_free(&pf);
	/* Exactly the limit is fine. */
	memset(text, 'y', PASSWD_FILE_MAX_LINE);
	text[PASSWD_FILE_MAX_LINE] = '\0';
	pf = parse_str(text, PASSWD_FILE_MAX_LINE, false, &logs);
	assert_int_equal(passwd_file_count(pf), 1);
	assert_int_equal(logs.count, 0);
	passwd_file_free(&pf);
	free(text);
	struct passwd_file_opts opts = { .path = "x" };
	assert_null(passwd_file_parse((const uint8_t *)"", (size_t)PASSWD_FILE_MAX_SIZE + 1, &opts));
}

static void test_many_users(void **state)
{
	(void)state;
	enum { N = 20000 };
	char *text = malloc((size_t)N * 32);
	assert_non_null(text);
	size_t len = 0;
	for (int i = 0; i < N; i++)
		len += (size_t)sprintf(text + len, "user%d:{PLAIN}pw%d\n", i, i);
	struct log_capture logs;
	struct passwd_file *pf = parse_str(text, len, false, &logs);
	assert_int_equal(passwd_file_count(pf), N);
	for (int i = 0; i < N; i++) {
		char user[32], pw[40];
		snprintf(user, sizeof(user), "user%d", i);
		snprintf(pw, sizeof(pw), "{PLAIN}pw%d", i);
		const struct passwd_entry *e = lookup(pf, user, strlen(user));
		if (e == NULL || strcmp(e->password, pw) != 0)
			fail_msg("%s: got %s, want %s", user, e ? e->password : "(none)", pw);
	}
	assert_null(lookup(pf, "user20000", 9));
	passwd_file_free(&pf);
	free(text);
}

/* The registry stats a path at most every PASSWD_FILE_STAT_INTERVAL_MS
 * (coarse monotonic clock, a few ms of slack). */
static void wait_stat_interval(void)
{
	struct timespec ts = { .tv_sec = 0,
			       .tv_nsec = (PASSWD_FILE_STAT_INTERVAL_MS + 20) * 1000L * 1000L };
	nanosleep(&ts, NULL);
}

static bool has_user(const struct passwd_file *pf, const char *user)
{
	return lookup(pf, user, strlen(user)) != NULL;
}

static void test_registry(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_passwd_file.XXXXXX", path[128], tmp[128], sub[160];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/passwd", dir);
	snprintf(tmp, sizeof(tmp), "%s/passwd.new", dir);
	write_file(path, "a:{PLAIN}1:1000:1000::/home/a\n", "w");
	const struct passwd_file *pf = get_ok(path, false);
	assert_true(has_user(pf, "a"));
	assert_false(has_user(pf, "b"));
	assert_false(lookup(pf, "a", 1)->has_uid);
	assert_ptr_equal(get_ok(path, false), pf);

	/* Appending: seen at the next check. */
	write_file(path, "b:{PLAIN}2\n", "a");
	wait_stat_interval();
	pf = get_ok(path, false);
	assert_true(has_user(pf, "b"));

	/* Replacing with a same-size file (new inode). */
	write_file(tmp, "c:{PLAIN}1:1000:1000::/home/c\nd:{PLAIN}2\n", "w");
	assert_int_equal(rename(tmp, path), 0);
	wait_stat_interval();
	pf = get_ok(path, false);
	assert_true(has_user(pf, "c") && has_user(pf, "d"));
	assert_false(has_user(pf, "a"));

	/* A userdb user of the same path forces one re-read with uid/gid. */
	pf = get_ok(path, true);
	assert_true(lookup(pf, "c", 1)->has_uid);
	assert_int_equal(lookup(pf, "c", 1)->uid, 1000);
	assert_ptr_equal(get_ok(path, false), pf);

	const struct passwd_file *none = NULL;
	const char *error = NULL;
	snprintf(sub, sizeof(sub), "%s/missing", dir);
	assert_int_equal(db_passwd_file_get(sub, false, false, &none, &error), 0);
	snprintf(sub, sizeof(sub), "%s/x", path);
	assert_int_equal(db_passwd_file_get(sub, false, false, &none, &error), -1);
	assert_non_null(strstr(error, sub));
	assert_int_equal(db_passwd_file_get(dir, false, false, &none, &error), -1);
	assert_non_null(strstr(error, "not a regular file"));

	/* Removed: "missing passwd file" after the next check. */
	assert_int_equal(unlink(path), 0);
	wait_stat_interval();
	assert_int_equal(db_passwd_file_get(path, false, false, &none, &error), 0);
	write_file(path, "e:{PLAIN}1\n", "w");
	assert_true(has_user(get_ok(path, false), "e"));
	db_passwd_file_flush_all();
	assert_true(has_user(get_ok(path, false), "e"));
	db_passwd_file_flush_all();
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_userdb),
		cmocka_unit_test(test_fixture_passdb),
		cmocka_unit_test(test_fixture_passwords),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_many_users),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, setup_pool, teardown_pool);
}
