/* Tests for passdb/db_vpopmail's resolution on real trees: the fixture of
 * shared/spec/vpopmail.md section 10 built in a temporary directory (paths
 * prefixed with it) in four forms (text files only, cdb files only, both,
 * text newer than cdb), the expected passdb/userdb data of the spec's
 * tables, bad trees (missing vpasswd, truncated and corrupt cdb, lines
 * with missing fields, a 1 MB line, directories outside the tree, missing
 * assign), reload on change, and the opt-in writes (home creation,
 * lastauth). The cdb files are made with tinycdb's cdb_make the way
 * vpopmail (vpasswd.cdb) and qmail-newu (users/cdb) make them. */
#include "common/pool.h"
#include "passdb/db_vpopmail.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#define ROOT_MAX 128
#define PATH_BUF 1024
#define MB (1024u * 1024u)

static char root[ROOT_MAX];

static const char fx_assign[] =
	"=alias:alias:7790:2108:/var/qmail/alias:-::\n"
	"+example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::\n"
	"+example.net-:example.net:89:89:/home/vpopmail/domains/0/example.net:-::\n"
	"+alias.example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::\n"
	".\n";
static const char fx_example_com[] =
	"postmaster:$1$pmsalt01$RLIlQo.IXHp6e/CBkLUZs0:1:0:Postmaster:/home/vpopmail/domains/example.com/postmaster:NOQUOTA:pmsecret\n"
	"alice:$1$alsalt01$9GkvwIWGrZGJAj/V1IEFn.:1:0:Alice Example:/home/vpopmail/domains/example.com/alice:52428800S,1000C:alicepw\n"
	"bob:$1$bosalt01$6VrpyL89wVdGiDUnHCxgk.:1:2:Bob NoPOP:/home/vpopmail/domains/example.com/bob:50M:bobpw\n"
	"carol:$6$carolsaltcarolsa$Bh4bgLr3OIAd6nQbKjX0I9u4EbxiyFh/sRMVabdgHGj4fLSDnUYHoNjJoU50i9bxcR0FoacUUci4ILGsdWuMT0:1:8:Carol NoIMAP:/home/vpopmail/domains/example.com/carol:NOQUOTA:\n"
	"dave:$6$davesaltdavesalt$YueDhYoG.cF.cSP2EncY7.t5ohNO9aojpMvm.CGMLyB.g2MULa.zqCzwV/xAOa2v.0E8mMXVYxnTdnrxqePyB/:1:2048:Dave NoSMTP:/home/vpopmail/domains/example.com/dave:1000KB:\n"
	"erin:$6$erinsalterinsalt$ynNqtkON0w5qSlAoDegHitDeVB9NCEUNTmUtSjo0KqpsPUN7pf/jW5VXk4QixuEetU/W5MD6pZOYPa5LZ8Av8/:1:4:Erin NoWebmail:/home/vpopmail/domains/example.com/erin:10485760S:\n"
	"frank:$1$frsalt01$x6sKCtZ6sdo1gd4jMSxSH1:1:16:Frank Bounce:/home/vpopmail/domains/example.com/frank:NOQUOTA:frankpw\n"
	"gina:$6$ginasaltginasalt$SVGLtywgQN6Wp7m9PJebMvie0vrbbEC884NIsIglhYMya3wBjVSoUNX8TVgia.GHedy.tveq2O5oSjTolaCCW1:1:0:Gina NoDir::NOQUOTA:\n";
static const char fx_example_net[] =
	"info:$6$infosaltinfosalt$KGswhu51s9d7D2WMEFZk4g3pBRw6vBhScG0RJJ2CF.B89f.LlqxVpZ4MrU5YAcoAV.2x8JOMriiLeVOV9VW6C1:1:0:Info:/home/vpopmail/domains/0/example.net/info:NOQUOTA\n"
	"user150:$6$u150saltu150salt$w2nNl7gcLa7iHoHx//42rY4Yib6M7a7Q0Ef8afVvFtLivXp8NQQNIEFP2DCx48sqghLxyXmB73wzrriHK0zZm0:1:8192:Override:/home/vpopmail/domains/0/example.net/0/user150:NOQUOTA\n"
	"sales:{SHA512-CRYPT}$6$salessaltsalessa$T5vL08hDXv0Ml81LeUeQfxPcu5LjzqFnp9T.4U/ydwBd5p1jaHCQonkORjZqj/XF.iFKy4eTjz.PQ298o5oXn0:1:2:Sales:/home/vpopmail/domains/0/example.net/sales:20MB\n";

#define DOM_COM "home/vpopmail/domains/example.com"
#define DOM_NET "home/vpopmail/domains/0/example.net"

enum tree_form {
	TREE_TEXT,          /* vpasswd and assign only */
	TREE_CDB_ONLY,      /* vpasswd.cdb and users/cdb only */
	TREE_BOTH,          /* both, cdb not older */
	TREE_TEXT_NEWER,    /* cdb built from stale data and older: text answers */
};

/* ------------------------------------------------------------ tree helpers */

/* rel under root; "/home/vpopmail" and "/var/qmail" in content get the
 * root prefix. */
static void mkdir_parents(char *path)
{
	for (char *p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
}

static void put_file(const char *rel, const char *content, size_t len)
{
	char path[PATH_BUF];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdir_parents(path);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < len; i++) {
		if ((len - i >= 14 && memcmp(content + i, "/home/vpopmail", 14) == 0) ||
		    (len - i >= 10 && memcmp(content + i, "/var/qmail", 10) == 0))
			fputs(root, f);
		fputc(content[i], f);
	}
	assert_int_equal(fclose(f), 0);
}

static void put_str(const char *rel, const char *content)
{
	put_file(rel, content, strlen(content));
}

/* Reads rel under root into a malloc'ed buffer. */
static char *slurp(const char *rel, size_t *len_r)
{
	char path[PATH_BUF];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(16 * MB);
	assert_non_null(buf);
	*len_r = fread(buf, 1, 16 * MB, f);
	fclose(f);
	return buf;
}

/* vpasswd.cdb from the vpasswd text at rel_dir (vpopmail's make_vpasswd_cdb:
 * key = name, value = the rest of the line). */
static void make_vpasswd_cdb(const char *rel_dir)
{
	char rel[PATH_BUF], path[PATH_BUF];
	size_t len;
	snprintf(rel, sizeof(rel), "%s/vpasswd", rel_dir);
	char *text = slurp(rel, &len);
	snprintf(path, sizeof(path), "%s/%s/vpasswd.cdb", root, rel_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	struct cdb_make cm;
	assert_int_equal(cdb_make_start(&cm, fd), 0);
	for (char *line = text, *end; line < text + len; line = end + 1) {
		end = memchr(line, '\n', (size_t)(text + len - line));
		if (end == NULL)
			end = text + len;
		char *colon = memchr(line, ':', (size_t)(end - line));
		if (colon != NULL)
			assert_int_equal(cdb_make_add(&cm, line, (unsigned)(colon - line), colon + 1,
						      (unsigned)(end - colon - 1)), 0);
	}
	assert_int_equal(cdb_make_finish(&cm), 0);
	close(fd);
	free(text);
}

/* users/cdb from users/assign the way qmail-newu does (spec 2.2). */
static void make_assign_cdb(void)
{
	char path[PATH_BUF];
	size_t len;
	char *text = slurp("var/qmail/users/assign", &len);
	snprintf(path, sizeof(path), "%s/var/qmail/users/cdb", root);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	struct cdb_make cm;
	assert_int_equal(cdb_make_start(&cm, fd), 0);
	for (char *line = text, *end; line < text + len && *line != '.'; line = end + 1) {
		end = memchr(line, '\n', (size_t)(text + len - line));
		char key[PATH_BUF], val[PATH_BUF];
		char *colon = memchr(line, ':', (size_t)(end - line));
		size_t klen = (size_t)(colon - line), vlen = 0;
		key[0] = '!';
		for (size_t i = 1; i < klen; i++)
			key[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
		if (line[0] == '=')
			key[klen++] = '\0';
		size_t colons = 0;   /* after the first ':', up to the sixth, ':' -> NUL */
		for (char *p = colon + 1; p < end; p++) {
			if (*p == ':' && ++colons == 6)
				break;
			val[vlen++] = *p == ':' ? '\0' : *p;
		}
		assert_int_equal(cdb_make_add(&cm, key, (unsigned)klen, val, (unsigned)vlen), 0);
	}
	assert_int_equal(cdb_make_add(&cm, "", 0, "", 0), 0);   /* wildcard chars record */
	assert_int_equal(cdb_make_finish(&cm), 0);
	close(fd);
	free(text);
}

static void remove_rel(const char *rel)
{
	char path[PATH_BUF];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(unlink(path), 0);
}

static void age_file(const char *rel, int seconds)
{
	char path[PATH_BUF];
	struct timespec ts[2];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= seconds;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int tree_teardown(void **state)
{
	(void)state;
	vpopmail_cache_flush();
	if (root[0] != '\0')
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	root[0] = '\0';
	return 0;
}

/* A fresh fixture tree of the given form. */
static void tree_build(enum tree_form form)
{
	tree_teardown(NULL);
	snprintf(root, sizeof(root), "/tmp/vpopmail-test.XXXXXX");
	assert_non_null(mkdtemp(root));
	put_str("home/vpopmail/etc/defaultdomain", "example.com\n");
	put_str(DOM_NET "/.qmailadmin-limits", "disable_imap\n");
	if (form == TREE_TEXT_NEWER) {   /* stale cdb content: alice's old password */
		put_str(DOM_COM "/vpasswd", "alice:x:1:0:A:/home/vpopmail/domains/example.com/a:NOQUOTA:stalepw\n");
		put_str(DOM_NET "/vpasswd", "");
		put_str("var/qmail/users/assign", "+example.com-:example.com:1:1:/home/vpopmail/domains/example.com:-::\n.\n");
	} else {
		put_str(DOM_COM "/vpasswd", fx_example_com);
		put_str(DOM_NET "/vpasswd", fx_example_net);
		put_str("var/qmail/users/assign", fx_assign);
	}
	if (form != TREE_TEXT) {
		make_vpasswd_cdb(DOM_COM);
		make_vpasswd_cdb(DOM_NET);
		make_assign_cdb();
	}
	if (form == TREE_CDB_ONLY) {
		remove_rel(DOM_COM "/vpasswd");
		remove_rel(DOM_NET "/vpasswd");
		remove_rel("var/qmail/users/assign");
	}
	if (form == TREE_TEXT_NEWER) {
		put_str(DOM_COM "/vpasswd", fx_example_com);
		put_str(DOM_NET "/vpasswd", fx_example_net);
		put_str("var/qmail/users/assign", fx_assign);
		age_file(DOM_COM "/vpasswd.cdb", 3600);
		age_file(DOM_NET "/vpasswd.cdb", 3600);
		age_file("var/qmail/users/cdb", 3600);
	}
}

static struct vpopmail_args tree_args(struct pool *pool, const char *extra)
{
	struct vpopmail_args a;
	const char *error = NULL;
	char *text = pool_printf(pool, "vpopmail_dir=%s/home/vpopmail qmail_dir=%s/var/qmail %s",
				 root, root, extra);
	if (vpopmail_args_parse(pool, text, VPOPMAIL_ARGS_USERDB, &a, &error) < 0)
		fail_msg("args: %s", error);
	return a;
}

/* ------------------------------------------------------------ the fixture */

struct want_user {
	const char *login;
	int ret;
	const char *real_domain, *dir;   /* dir relative to root ("" = empty) */
	uint32_t flags;
	const char *clear;               /* NULL = none */
	const char *passwd_start;
	const char *shell;
};

static const struct want_user fixture_users[] = {
	{ .login = "alice@example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/alice", .flags = 0, .clear = "alicepw", .passwd_start = "$1$alsalt01$",
	  .shell = "52428800S,1000C" },
	{ .login = "alice@alias.example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/alice", .clear = "alicepw", .passwd_start = "$1$alsalt01$",
	  .shell = "52428800S,1000C" },
	{ .login = "ALICE@EXAMPLE.COM", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/alice", .clear = "alicepw", .passwd_start = "$1$", .shell = "52428800S,1000C" },
	{ .login = "alice", .ret = 1, .real_domain = "example.com", .dir = DOM_COM "/alice",
	  .clear = "alicepw", .passwd_start = "$1$", .shell = "52428800S,1000C" },
	{ .login = "alice%example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/alice", .clear = "alicepw", .passwd_start = "$1$", .shell = "52428800S,1000C" },
	{ .login = "postmaster@example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/postmaster", .clear = "pmsecret", .passwd_start = "$1$pmsalt01$",
	  .shell = "NOQUOTA" },
	{ .login = "bob@example.com", .ret = 1, .real_domain = "example.com", .dir = DOM_COM "/bob",
	  .flags = 0x2, .clear = "bobpw", .passwd_start = "$1$bosalt01$", .shell = "50M" },
	{ .login = "carol@example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/carol", .flags = 0x8, .passwd_start = "$6$carolsalt", .shell = "NOQUOTA" },
	{ .login = "dave@example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/dave", .flags = 0x800, .passwd_start = "$6$davesalt", .shell = "1000KB" },
	{ .login = "erin@example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/erin", .flags = 0x4, .passwd_start = "$6$erinsalt", .shell = "10485760S" },
	{ .login = "frank@example.com", .ret = 1, .real_domain = "example.com",
	  .dir = DOM_COM "/frank", .flags = 0x10, .clear = "frankpw", .passwd_start = "$1$frsalt01$",
	  .shell = "NOQUOTA" },
	{ .login = "gina@example.com", .ret = 1, .real_domain = "example.com", .dir = "",
	  .passwd_start = "$6$ginasalt", .shell = "NOQUOTA" },
	{ .login = "info@example.net", .ret = 1, .real_domain = "example.net",
	  .dir = DOM_NET "/info", .flags = 0x8, .passwd_start = "$6$infosalt", .shell = "NOQUOTA" },
	{ .login = "user150@example.net", .ret = 1, .real_domain = "example.net",
	  .dir = DOM_NET "/0/user150", .flags = 0x2000, .passwd_start = "$6$u150salt",
	  .shell = "NOQUOTA" },
	{ .login = "sales@example.net", .ret = 1, .real_domain = "example.net",
	  .dir = DOM_NET "/sales", .flags = 0xa, .passwd_start = "{SHA512-CRYPT}$6$salessalt",
	  .shell = "20MB" },
	{ .login = "nobody@example.com", .ret = 0 },
	{ .login = "nobody@example.net", .ret = 0 },
	{ .login = "alice@unknown.org", .ret = 0 },
	{ .login = "alias@alias", .ret = 0 },
	{ .login = "../../etc/passwd@example.com", .ret = 0 },
	{ .login = "alice@../../etc", .ret = 0 },
	{ .login = "", .ret = 0 },
};

static void check_user(const struct want_user *w, const struct vpopmail_args *a,
		       struct pool *pool, enum tree_form form)
{
	struct vpopmail_user u;
	const char *msg = NULL;
	int ret = vpopmail_lookup(a, w->login, pool, &u, &msg);
	if (ret != w->ret)
		fail_msg("form %d %s: got %d (%s), want %d", form, w->login, ret, msg != NULL ? msg : "",
			 w->ret);
	if (ret != 1)
		return;
	char dir[PATH_BUF];
	snprintf(dir, sizeof(dir), "%s%s%s", *w->dir != '\0' ? root : "", *w->dir != '\0' ? "/" : "",
		 w->dir);
	if (strcmp(u.real_domain, w->real_domain) != 0 || strcmp(u.dir, dir) != 0 ||
	    u.flags != w->flags || u.uid != 89 || u.gid != 89 || strcmp(u.shell, w->shell) != 0)
		fail_msg("form %d %s: got %s %s 0x%x %u:%u %s, want %s %s 0x%x 89:89 %s", form,
			 w->login, u.real_domain, u.dir, u.flags, u.uid, u.gid, u.shell,
			 w->real_domain, dir, w->flags, w->shell);
	if ((u.clear == NULL) != (w->clear == NULL) ||
	    (u.clear != NULL && strcmp(u.clear, w->clear) != 0))
		fail_msg("form %d %s: clear got %s, want %s", form, w->login,
			 u.clear != NULL ? u.clear : "(none)", w->clear != NULL ? w->clear : "(none)");
	if (strncmp(u.passwd, w->passwd_start, strlen(w->passwd_start)) != 0)
		fail_msg("form %d %s: passwd got %.20s...", form, w->login, u.passwd);
	bool want_cdb = form == TREE_CDB_ONLY || form == TREE_BOTH;
	if (u.from_cdb != want_cdb)
		fail_msg("form %d %s: from_cdb got %d", form, w->login, u.from_cdb);
}

static void test_fixture(void **state)
{
	(void)state;
	static const enum tree_form forms[] = { TREE_TEXT, TREE_CDB_ONLY, TREE_BOTH, TREE_TEXT_NEWER };
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		tree_build(forms[f]);
		struct pool *pool = pool_create(0);
		struct vpopmail_args a = tree_args(pool, "");
		for (size_t i = 0; i < sizeof(fixture_users) / sizeof(fixture_users[0]); i++)
			check_user(&fixture_users[i], &a, pool, forms[f]);
		pool_destroy(&pool);
	}
	tree_teardown(NULL);
}

static void test_default_domain(void **state)
{
	(void)state;
	tree_build(TREE_TEXT);
	struct pool *pool = pool_create(0);
	struct vpopmail_user u;
	const char *msg = NULL;
	struct vpopmail_args a = tree_args(pool, "default_domain=EXAMPLE.NET");
	assert_int_equal(vpopmail_lookup(&a, "info", pool, &u, &msg), 1);
	assert_string_equal(u.domain, "example.net");
	remove_rel("home/vpopmail/etc/defaultdomain");
	vpopmail_cache_flush();
	a = tree_args(pool, "");
	assert_int_equal(vpopmail_lookup(&a, "alice", pool, &u, &msg), 0);
	assert_int_equal(vpopmail_lookup(&a, "alice@example.com", pool, &u, &msg), 1);
	/* vlimits.default applies when the domain has no .qmailadmin-limits */
	put_str("home/vpopmail/etc/vlimits.default", "disable_smtp\n");
	vpopmail_cache_flush();
	assert_int_equal(vpopmail_lookup(&a, "alice@example.com", pool, &u, &msg), 1);
	assert_int_equal(u.flags, VPOPMAIL_NO_SMTP);
	assert_int_equal(vpopmail_lookup(&a, "info@example.net", pool, &u, &msg), 1);
	assert_int_equal(u.flags, VPOPMAIL_NO_IMAP);
	pool_destroy(&pool);
	tree_teardown(NULL);
}

/* ------------------------------------------------------------ bad trees */

static int lookup(const char *login, struct pool *pool, struct vpopmail_user *u,
		  const char **msg_r)
{
	struct vpopmail_args a = tree_args(pool, "");
	return vpopmail_lookup(&a, login, pool, u, msg_r);
}

static void test_bad_trees(void **state)
{
	(void)state;
	struct vpopmail_user u;
	const char *msg = NULL;
	tree_build(TREE_TEXT);
	struct pool *pool = pool_create(0);
	put_str("var/qmail/users/assign",
		"+example.com-:example.com:89:89:/home/vpopmail/domains/example.com:-::\n"
		"+novpasswd.test-:novpasswd.test:89:89:/home/vpopmail/domains/novpasswd.test:-::\n"
		"+escape.test-:escape.test:89:89:/home/vpopmail/domains/../../../etc:-::\n"
		"+outside.test-:outside.test:89:89:/etc:-::\n"
		"+bad uid.test-:x.test:89:89:/home/vpopmail/domains/x:-::\n"
		".\n");
	put_str("home/vpopmail/domains/novpasswd.test/.keep", "");
	/* missing vpasswd: an error for that domain, not "unknown" */
	assert_int_equal(lookup("a@novpasswd.test", pool, &u, &msg), -1);
	assert_non_null(strstr(msg, "neither"));
	/* directories outside the tree */
	assert_int_equal(lookup("root@escape.test", pool, &u, &msg), -1);
	assert_non_null(strstr(msg, "not a clean path"));
	assert_int_equal(lookup("root@outside.test", pool, &u, &msg), -1);
	assert_int_equal(lookup("alice@example.com", pool, &u, &msg), 1);

	/* lines with missing fields and a 1 MB line among good ones */
	size_t big = MB + 10;
	char *text = malloc(big + 512);
	assert_non_null(text);
	strcpy(text, "first:pw1:1:0:F:/home/vpopmail/domains/example.com/first:NOQUOTA:c1\n"
		     "short:pw:1:0\nsix:pw:1:0:g:/d\n");
	size_t len = strlen(text);
	memcpy(text + len, "huge:", 5);
	memset(text + len + 5, 'x', MB);
	len += 5 + MB;
	strcpy(text + len, ":1:0:H:/d:NOQUOTA\nlast:pw2:1:0:L:/home/vpopmail/domains/example.com/last:NOQUOTA\n");
	put_file(DOM_COM "/vpasswd", text, strlen(text + len) + len);
	free(text);
	vpopmail_cache_flush();
	assert_int_equal(lookup("first@example.com", pool, &u, &msg), 1);
	assert_string_equal(u.clear, "c1");
	assert_int_equal(lookup("last@example.com", pool, &u, &msg), 1);
	assert_null(u.clear);
	assert_int_equal(lookup("short@example.com", pool, &u, &msg), 0);
	assert_int_equal(lookup("six@example.com", pool, &u, &msg), 0);
	assert_int_equal(lookup("huge@example.com", pool, &u, &msg), 0);

	/* the cdb reader fills missing fields with "" */
	put_str(DOM_COM "/vpasswd", "nodir:pw\n");
	make_vpasswd_cdb(DOM_COM);
	vpopmail_cache_flush();
	assert_int_equal(lookup("nodir@example.com", pool, &u, &msg), 1);
	assert_true(u.from_cdb);
	assert_string_equal(u.passwd, "pw");
	assert_string_equal(u.dir, "");
	pool_destroy(&pool);
	tree_teardown(NULL);
}

static void truncate_rel(const char *rel, off_t size)
{
	char path[PATH_BUF];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(truncate(path, size), 0);
}

static void test_bad_cdb(void **state)
{
	(void)state;
	struct vpopmail_user u;
	const char *msg = NULL;
	tree_build(TREE_BOTH);
	struct pool *pool = pool_create(0);
	/* shorter than the 2048-byte table of contents */
	truncate_rel(DOM_COM "/vpasswd.cdb", 100);
	assert_int_equal(lookup("alice@example.com", pool, &u, &msg), -1);
	assert_non_null(strstr(msg, "vpasswd.cdb"));
	/* other domains still answer */
	assert_int_equal(lookup("info@example.net", pool, &u, &msg), 1);
	/* table of contents intact, records and hash tables cut */
	tree_build(TREE_BOTH);
	truncate_rel(DOM_COM "/vpasswd.cdb", 2100);
	assert_int_equal(lookup("alice@example.com", pool, &u, &msg), -1);
	/* garbage: every table claims to lie past the end */
	char junk[4096];
	memset(junk, 0xff, sizeof(junk));
	put_file(DOM_NET "/vpasswd.cdb", junk, sizeof(junk));
	assert_int_equal(lookup("info@example.net", pool, &u, &msg), -1);
	/* a truncated users/cdb is an error for every domain */
	truncate_rel("var/qmail/users/cdb", 2047);
	vpopmail_cache_flush();
	assert_int_equal(lookup("alice@example.com", pool, &u, &msg), -1);
	/* no assign at all */
	remove_rel("var/qmail/users/cdb");
	remove_rel("var/qmail/users/assign");
	vpopmail_cache_flush();
	assert_int_equal(lookup("alice@example.com", pool, &u, &msg), -1);
	assert_non_null(strstr(msg, "neither"));
	pool_destroy(&pool);
	tree_teardown(NULL);
}

/* ------------------------------------------------------------ reload */

/* The cache stats a file at most once per second: wait for the next one. */
static void next_second(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* 10 ms past the next second; tv_nsec must stay below 1e9 or
	 * nanosleep() fails at once (EINVAL) and the test races the clock. */
	long ns = 1000000000L - now.tv_nsec + 10000000L;
	struct timespec d = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };
	while (nanosleep(&d, &d) < 0 && errno == EINTR)
		;
}

static void test_reload(void **state)
{
	(void)state;
	struct vpopmail_user u;
	const char *msg = NULL;
	tree_build(TREE_TEXT);
	struct pool *pool = pool_create(0);
	assert_int_equal(lookup("new@example.com", pool, &u, &msg), 0);
	assert_int_equal(lookup("x@new.test", pool, &u, &msg), 0);
	char *text = pool_printf(pool, "%snew:pw:1:0:N:/home/vpopmail/domains/example.com/new:NOQUOTA:npw\n",
				 fx_example_com);
	put_str(DOM_COM "/vpasswd", text);
	text = pool_printf(pool, "+new.test-:new.test:89:89:/home/vpopmail/domains/example.com:-::\n%s",
			   fx_assign);
	put_str("var/qmail/users/assign", text);
	next_second();
	assert_int_equal(lookup("new@example.com", pool, &u, &msg), 1);
	assert_string_equal(u.clear, "npw");
	assert_int_equal(lookup("new@new.test", pool, &u, &msg), 1);
	/* a cdb appears (not older than the text): it answers from now on */
	make_vpasswd_cdb(DOM_COM);
	next_second();
	assert_int_equal(lookup("new@example.com", pool, &u, &msg), 1);
	assert_true(u.from_cdb);
	pool_destroy(&pool);
	tree_teardown(NULL);
}

/* ------------------------------------------------------------ writes */

static void test_writes(void **state)
{
	(void)state;
	struct vpopmail_user u;
	const char *msg = NULL, *error = NULL;
	tree_build(TREE_TEXT);
	struct pool *pool = pool_create(0);
	char *assign = pool_printf(pool, "+local.test-:local.test:%u:%u:/home/vpopmail/domains/local.test:-::\n.\n",
				   (unsigned)getuid(), (unsigned)getgid());
	put_str("var/qmail/users/assign", assign);
	put_str("home/vpopmail/domains/local.test/vpasswd",
		"nodir:pw:1:0:N::NOQUOTA\nx:pw:1:0:X::NOQUOTA\n");
	struct vpopmail_args a = tree_args(pool, "create_missing_home=yes last_auth=yes");
	assert_int_equal(vpopmail_lookup(&a, "nodir@local.test", pool, &u, &msg), 1);
	assert_string_equal(u.dir, "");
	assert_int_equal(vpopmail_create_home(&a, &u, pool, &error), 0);
	char *want = pool_printf(pool, "%s/home/vpopmail/domains/local.test/nodir", root);
	assert_string_equal(u.dir, want);
	struct stat st;
	char *tmp = pool_printf(pool, "%s/Maildir/tmp", want);
	assert_int_equal(stat(tmp, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* again: the existing directories are fine */
	assert_int_equal(vpopmail_create_home(&a, &u, pool, &error), 0);
	assert_int_equal(vpopmail_write_lastauth(&u, "192.0.2.10", pool, &error), 0);
	assert_int_equal(vpopmail_write_lastauth(&u, "192.0.2.11", pool, &error), 0);
	size_t len;
	char *content = slurp("home/vpopmail/domains/local.test/nodir/lastauth", &len);
	assert_int_equal(len, 10);
	assert_memory_equal(content, "192.0.2.11", 10);
	free(content);
	/* one-character names are vpopmail's hash directories */
	assert_int_equal(vpopmail_lookup(&a, "x@local.test", pool, &u, &msg), 1);
	assert_int_equal(vpopmail_create_home(&a, &u, pool, &error), -1);
	/* lastauth into a directory that does not exist fails cleanly */
	u.dir = pool_printf(pool, "%s/home/vpopmail/domains/local.test/missing", root);
	assert_int_equal(vpopmail_write_lastauth(&u, "192.0.2.10", pool, &error), -1);
	assert_non_null(strstr(error, "open("));
	pool_destroy(&pool);
	tree_teardown(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_fixture, tree_teardown),
		cmocka_unit_test_teardown(test_default_domain, tree_teardown),
		cmocka_unit_test_teardown(test_bad_trees, tree_teardown),
		cmocka_unit_test_teardown(test_bad_cdb, tree_teardown),
		cmocka_unit_test_teardown(test_reload, tree_teardown),
		cmocka_unit_test_teardown(test_writes, tree_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
