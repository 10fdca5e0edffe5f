/* Tests for the compact passwd-file index (passdb/db_passwd_file_index.h,
 * db_passwd_file_record.c): every field kind through encode and decode,
 * interning and its cap, bucket overflow and probing, duplicates, absent
 * names, LIST order, empty files and records at the line limit. */
#include "common/pool.h"
#include "passdb/db_passwd_file.h"
#include "passdb/db_passwd_file_index.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "tests/unit/passwd_file_testlib.h"

#define MAX_EXTRA 4


static size_t count_logs;

static void count_log(void *ctx, const char *path, unsigned int line, const char *message)
{
	(void)ctx;
	(void)path;
	(void)line;
	(void)message;
	count_logs++;
}

static struct passwd_file *parse(const char *text, size_t len, bool userdb)
{
	struct passwd_file_opts opts = { .path = "t", .userdb = userdb, .log = count_log };
	count_logs = 0;
	struct passwd_file *pf = passwd_file_parse((const uint8_t *)text, len, &opts);
	assert_non_null(pf);
	return pf;
}

static void check_str(const char *what, const char *field, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0))
		fail_msg("%s: %s: got '%s', want '%s'", what, field, got ? got : "(null)",
			 want ? want : "(null)");
}

struct want {
	const char *line;
	bool userdb;
	const char *user, *password, *home;
	bool has_userdb;
	long uid, gid;               /* -1: absent */
	const char *extra[MAX_EXTRA];
};

static void check_entry(const char *what, const struct passwd_entry *e, const struct want *w)
{
	check_str(what, "user", e->user, w->user);
	check_str(what, "password", e->password, w->password);
	check_str(what, "home", e->home, w->home);
	if (e->has_userdb != w->has_userdb)
		fail_msg("%s: has_userdb: got %d, want %d", what, e->has_userdb, w->has_userdb);
	if (e->has_uid != (w->uid >= 0) || (e->has_uid && (long)e->uid != w->uid))
		fail_msg("%s: uid: got %d/%ld, want %ld", what, e->has_uid, (long)e->uid, w->uid);
	if (e->has_gid != (w->gid >= 0) || (e->has_gid && (long)e->gid != w->gid))
		fail_msg("%s: gid: got %d/%ld, want %ld", what, e->has_gid, (long)e->gid, w->gid);
	size_t n = 0;
	while (n < MAX_EXTRA && w->extra[n] != NULL)
		n++;
	if (e->extra_count != n)
		fail_msg("%s: got %zu extra fields, want %zu", what, e->extra_count, n);
	for (size_t i = 0; i < n; i++)
		check_str(what, "extra", e->extra[i], w->extra[i]);
}

static const struct want round_trip[] = {
	{ .line = "a:{PLAIN}x:1000:1000::/home/a::", .userdb = true, .user = "a",
	  .password = "{PLAIN}x", .home = "/home/a", .has_userdb = true, .uid = 1000, .gid = 1000 },
	{ .line = "a@d.com:{SHA256}abc:1000:2000::/var/vmail/d.com/a", .userdb = true,
	  .user = "a@d.com", .password = "{SHA256}abc", .home = "/var/vmail/d.com/a",
	  .has_userdb = true, .uid = 1000, .gid = 2000 },
	{ .line = "b@d.com:p:5:5::/var/vmail/d.com/bob", .userdb = true, .user = "b@d.com",
	  .password = "p", .home = "/var/vmail/d.com/bob", .has_userdb = true, .uid = 5, .gid = 5 },
	{ .line = "c@d.com:p:5:5::/var/vmail/d.com/c@d.com", .userdb = true, .user = "c@d.com",
	  .password = "p", .home = "/var/vmail/d.com/c@d.com", .has_userdb = true, .uid = 5, .gid = 5 },
	{ .line = "c:p:7:7::relative", .userdb = true, .user = "c", .password = "p",
	  .home = "relative", .has_userdb = true, .uid = 7, .gid = 7 },
	{ .line = "d:p:7:7::/srv/d/", .userdb = true, .user = "d", .password = "p",
	  .home = "/srv/d/", .has_userdb = true, .uid = 7, .gid = 7 },
	{ .line = "e:p:7:7::/", .userdb = true, .user = "e", .password = "p", .home = "/",
	  .has_userdb = true, .uid = 7, .gid = 7 },
	{ .line = "e2:p:7:7::e2", .userdb = true, .user = "e2", .password = "p", .home = "e2",
	  .has_userdb = true, .uid = 7, .gid = 7 },
	{ .line = "f:p::9::/h/f", .userdb = true, .user = "f", .password = "p", .home = "/h/f",
	  .has_userdb = true, .uid = -1, .gid = 9 },
	{ .line = "g:p:9:::/h/g", .userdb = true, .user = "g", .password = "p", .home = "/h/g",
	  .has_userdb = true, .uid = 9, .gid = -1 },
	{ .line = "h", .user = "h", .uid = -1, .gid = -1 },
	{ .line = "i:", .user = "i", .password = "", .uid = -1, .gid = -1 },
	{ .line = "j:{X}", .user = "j", .password = "{X}", .uid = -1, .gid = -1 },
	{ .line = "k:{unterminated", .user = "k", .password = "{unterminated", .uid = -1, .gid = -1 },
	{ .line = "l:}{x}y", .user = "l", .password = "}{x}y", .uid = -1, .gid = -1 },
	{ .line = "m:abcd[34]:1:1", .userdb = true, .user = "m", .password = "{PLAIN-MD5}abcd",
	  .has_userdb = true, .uid = 1, .gid = 1 },
	{ .line = "m2:abcd[13]", .user = "m2", .password = "{CRYPT}abcd", .uid = -1, .gid = -1 },
	{ .line = "n:{PLAIN}p:1:1::/h/n::a=1 b  c=%u", .userdb = true, .user = "n",
	  .password = "{PLAIN}p", .home = "/h/n", .has_userdb = true, .uid = 1, .gid = 1,
	  .extra = { "a=1", "b", "c=%u" } },
	{ .line = "o:p:1:1::/h:::maildir:~/M x", .userdb = true, .user = "o", .password = "p",
	  .home = "/h", .has_userdb = true, .uid = 1, .gid = 1,
	  .extra = { "userdb_mail=maildir:~/M", "x" } },
	{ .line = "o2:p:1:1::/h:::maildir:~/M x", .user = "o2", .password = "p",
	  .has_userdb = true, .uid = -1, .gid = -1 },
	{ .line = "p:p:4294967294:4294967293::/h/p", .userdb = true, .user = "p",
	  .password = "p", .home = "/h/p", .has_userdb = true, .uid = 4294967294L,
	  .gid = 4294967293L },
	{ .line = "q:p:1:1::/h/q", .user = "q", .password = "p", .has_userdb = true,
	  .uid = -1, .gid = -1 },
};

/* Each line alone, then all lines in one file (shared intern table). */
static void test_round_trip(void **state)
{
	(void)state;
	size_t n = sizeof(round_trip) / sizeof(round_trip[0]);
	for (size_t i = 0; i < n; i++) {
		const struct want *w = &round_trip[i];
		struct passwd_file *pf = parse(w->line, strlen(w->line), w->userdb);
		struct passwd_entry e;
		assert_int_equal(passwd_file_count(pf), 1);
		if (passwd_file_lookup(pf, w->user, strlen(w->user), tpool, &e) != 1)
			fail_msg("%s: not found", w->line);
		check_entry(w->line, &e, w);
		assert_int_equal(passwd_file_entry(pf, 0, tpool, &e), 1);
		check_entry(w->line, &e, w);
		assert_ptr_equal(passwd_file_user(pf, 0), e.user);
		passwd_file_free(&pf);
	}
	char text[4096];
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		if (round_trip[i].userdb)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", round_trip[i].line);
	struct passwd_file *pf = parse(text, len, true);
	for (size_t i = 0, k = 0; i < n; i++) {
		struct passwd_entry e;
		if (!round_trip[i].userdb)
			continue;
		assert_int_equal(passwd_file_entry(pf, k++, tpool, &e), 1);
		check_entry(round_trip[i].line, &e, &round_trip[i]);
	}
	passwd_file_free(&pf);
}

static char *users_text(size_t n, const char *fmt, size_t *len_r)
{
	size_t cap = n * 256 + 1;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, fmt, i, i, i, i, i, i);
	*len_r = len;
	return text;
}

/* Repeated values are stored once; each user's record is small. */
static void test_interning(void **state)
{
	(void)state;
	enum { N = 5000 };
	size_t len;
	char *text = users_text(N, "user%zu@example.com:{SSHA256}hash%zu:1000:1000::"
			       "/var/vmail/example.com/user%zu::userdb_mail=maildir:~/Maildir "
			       "userdb_quota_rule=*:storage=1G\n", &len);
	struct passwd_file *pf = parse(text, len, true);
	assert_int_equal(passwd_file_count(pf), N);
	/* "", "{SSHA256}", the directory and the two extra fields. */
	assert_int_equal(pf->ids.len / sizeof(uint32_t), 5);
	size_t per_user = pf->recs.len / N, user_bytes = strlen("user4999@example.com") +
			  strlen("hash4999");
	if (per_user > user_bytes + 12)
		fail_msg("record: got %zu bytes per user, want at most %zu", per_user, user_bytes + 12);
	struct passwd_entry a, b;
	assert_int_equal(passwd_file_lookup(pf, "user1@example.com", 17, tpool, &a), 1);
	assert_int_equal(passwd_file_lookup(pf, "user4321@example.com", 20, tpool, &b), 1);
	assert_ptr_equal(a.extra[0], b.extra[0]);
	check_str("user4321", "home", b.home, "/var/vmail/example.com/user4321");
	check_str("user4321", "password", b.password, "{SSHA256}hash4321");
	check_str("user4321", "extra[1]", b.extra[1], "userdb_quota_rule=*:storage=1G");
	passwd_file_free(&pf);
	free(text);
}

/* Past PF_INTERN_MAX distinct values, and for values longer than
 * PF_INTERN_LEN_MAX, strings are stored inline and still decode. */
static void test_intern_cap(void **state)
{
	(void)state;
	size_t n = PF_INTERN_MAX + 5000, len;
	char *text = users_text(n, "u%zu:{S%zu}p:1:1::/d%zu/x::k=%zu\n", &len);
	struct passwd_file *pf = parse(text, len, true);
	assert_int_equal(passwd_file_count(pf), n);
	assert_int_equal(pf->ids.len / sizeof(uint32_t), PF_INTERN_MAX);
	for (size_t i = 0; i < n; i += 7) {
		char user[32], pw[32], home[32], extra[32];
		struct passwd_entry e;
		snprintf(user, sizeof(user), "u%zu", i);
		snprintf(pw, sizeof(pw), "{S%zu}p", i);
		snprintf(home, sizeof(home), "/d%zu/x", i);
		snprintf(extra, sizeof(extra), "k=%zu", i);
		if (passwd_file_lookup(pf, user, strlen(user), tpool, &e) != 1)
			fail_msg("%s: not found", user);
		check_str(user, "password", e.password, pw);
		check_str(user, "home", e.home, home);
		assert_int_equal(e.extra_count, 1);
		check_str(user, "extra", e.extra[0], extra);
	}
	passwd_file_free(&pf);
	free(text);

	char line[2 * PF_INTERN_LEN_MAX + 64], value[PF_INTERN_LEN_MAX + 2];
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	int l = snprintf(line, sizeof(line), "a:p:1:1::/h::%s\nb:p:1:1::/h::%s", value, value);
	pf = parse(line, (size_t)l, true);
	assert_int_equal(pf->ids.len / sizeof(uint32_t), 2);   /* "" and "/" */
	struct passwd_entry e;
	assert_int_equal(passwd_file_lookup(pf, "b", 1, tpool, &e), 1);
	check_str("b", "extra", e.extra[0], value);
	passwd_file_free(&pf);
}

/* Adds user under hash (the real one when hash is 0). */
static void add_user(struct passwd_file *pf, const char *user, uint64_t hash)
{
	struct pf_record rec = {
		.user = (const uint8_t *)user, .user_len = strlen(user), .has_password = true,
		.pw = (const uint8_t *)user, .pw_len = strlen(user),
	};
	uint32_t off;
	if (hash == 0)
		hash = passwd_file_index_hash(pf, user, strlen(user));
	assert_int_equal(passwd_file_index_find(pf, user, strlen(user), hash, &off), 0);
	assert_int_equal(passwd_file_index_add(pf, &rec, hash), 0);
}

/* Entries aimed (through the caller's hash) at the last bucket fill it and
 * spill into the next buckets, wrapping around; all are found again, and
 * an absent name probes the whole chain. */
static void test_bucket_overflow(void **state)
{
	(void)state;
	enum { N = 30 };
	struct passwd_file *pf = passwd_file_index_new(0, 40);
	assert_non_null(pf);
	size_t last = pf->nbuckets - 1;
	assert_true(pf->nbuckets >= 4 && pf->max_count > N);
	char user[32];
	for (uint64_t i = 0; i < N; i++) {
		snprintf(user, sizeof(user), "user%u", (unsigned int)i);
		add_user(pf, user, (uint64_t)UINT32_MAX << 32 | (i % 3));
	}
	assert_int_equal(passwd_file_index_finish(pf), 0);
	assert_int_equal(pf->buckets[last].used, PF_BUCKET_SLOTS);
	assert_int_equal(pf->buckets[last].overflow, 1);
	assert_int_equal(pf->buckets[0].used, PF_BUCKET_SLOTS);
	assert_int_equal(pf->buckets[0].overflow, 1);
	assert_int_equal(pf->buckets[1].used, N - 2 * PF_BUCKET_SLOTS);
	assert_int_equal(pf->buckets[1].overflow, 0);
	for (uint64_t i = 0; i < N; i++) {
		uint32_t off;
		snprintf(user, sizeof(user), "user%u", (unsigned int)i);
		uint64_t hash = (uint64_t)UINT32_MAX << 32 | (i % 3);
		if (passwd_file_index_find(pf, user, strlen(user), hash, &off) != 1)
			fail_msg("%s: not found", user);
		check_str(user, "list", passwd_file_user(pf, (size_t)i), user);
	}
	uint32_t off;
	assert_int_equal(passwd_file_index_find(pf, "user", 4, (uint64_t)UINT32_MAX << 32, &off), 0);
	passwd_file_free(&pf);
}

/* Past its estimate, the table is rebuilt larger; everything is found. */
static void test_bucket_growth(void **state)
{
	(void)state;
	enum { N = 5000 };
	struct passwd_file *pf = passwd_file_index_new(0, 1);
	assert_non_null(pf);
	size_t nbuckets = pf->nbuckets;
	char user[32];
	for (int i = 0; i < N; i++) {
		snprintf(user, sizeof(user), "user%d", i);
		add_user(pf, user, 0);
	}
	assert_int_equal(passwd_file_index_finish(pf), 0);
	assert_true(pf->nbuckets > nbuckets);
	assert_int_equal(passwd_file_count(pf), N);
	for (int i = 0; i < N; i++) {
		struct passwd_entry e;
		snprintf(user, sizeof(user), "user%d", i);
		if (passwd_file_lookup(pf, user, strlen(user), tpool, &e) != 1)
			fail_msg("%s: not found", user);
		check_str(user, "password", e.password, user);
	}
	struct passwd_entry e;
	assert_int_equal(passwd_file_lookup(pf, "user", 4, tpool, &e), 0);
	passwd_file_free(&pf);
}

/* Many entries through the parser: all found, none invented. */
static void test_many_entries(void **state)
{
	(void)state;
	enum { N = 200000 };
	size_t len;
	char *text = users_text(N, "user%zu:{PLAIN}pw%zu:%zu:%zu::/home/user%zu\n", &len);
	struct passwd_file *pf = parse(text, len, false);
	assert_int_equal(passwd_file_count(pf), N);
	for (size_t i = 0; i < 2 * N; i++) {
		char user[32], pw[32];
		struct passwd_entry e;
		snprintf(user, sizeof(user), "user%zu", i);
		snprintf(pw, sizeof(pw), "{PLAIN}pw%zu", i);
		int got = passwd_file_lookup(pf, user, strlen(user), tpool, &e);
		if (got != (i < N))
			fail_msg("%s: got %d, want %d", user, got, i < N);
		if (got == 1)
			check_str(user, "password", e.password, pw);
		if (i % 1024 == 0)
			pool_reset(tpool);
	}
	passwd_file_free(&pf);
	free(text);
}

/* The first of several lines of a user wins; each later one is logged. */
static void test_duplicates(void **state)
{
	(void)state;
	enum { USERS = 1000, COPIES = 5 };
	size_t cap = USERS * COPIES * 40, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int c = 0; c < COPIES; c++)
		for (int i = 0; i < USERS; i++)
			len += (size_t)snprintf(text + len, cap - len, "u%d:{PLAIN}copy%d\n", i, c);
	struct passwd_file *pf = parse(text, len, false);
	assert_int_equal(passwd_file_count(pf), USERS);
	assert_int_equal(count_logs, USERS * (COPIES - 1));
	for (int i = 0; i < USERS; i++) {
		char user[16];
		struct passwd_entry e;
		snprintf(user, sizeof(user), "u%d", i);
		assert_int_equal(passwd_file_entry(pf, (size_t)i, tpool, &e), 1);
		check_str(user, "list", e.user, user);
		check_str(user, "password", e.password, "{PLAIN}copy0");
	}
	passwd_file_free(&pf);
	free(text);
}

/* Absent names: 0, and the entry is left alone. */
static void test_absent(void **state)
{
	(void)state;
	static const char text[] = "alice:{PLAIN}a\nalice@x:{PLAIN}b\nbob\n";
	struct passwd_file *pf = parse(text, sizeof(text) - 1, false);
	static const char *const absent[] = {
		"alic", "alice ", "Alice", "alice@", "alice@xy", "bo", "bobb", "b", "\n", ":",
	};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		struct passwd_entry e = { .user = "untouched" };
		if (passwd_file_lookup(pf, absent[i], strlen(absent[i]), tpool, &e) != 0)
			fail_msg("'%s': found, want absent", absent[i]);
		check_str(absent[i], "user", e.user, "untouched");
	}
	struct passwd_entry e;
	assert_int_equal(passwd_file_lookup(pf, "alice", 0, tpool, &e), 0);
	assert_int_equal(passwd_file_lookup(NULL, "alice", 5, tpool, &e), 0);
	assert_int_equal(passwd_file_lookup(pf, "alice@xyz", 7, tpool, &e), 1);
	check_str("alice@x", "password", e.password, "{PLAIN}b");
	passwd_file_free(&pf);
}

/* LIST: file order across records of every size, in any access order. */
static void test_list_order(void **state)
{
	(void)state;
	enum { N = 1000 };
	size_t cap = N * 128, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			len += (size_t)snprintf(text + len, cap - len, "#comment %d\n\n", i);
		len += (size_t)snprintf(text + len, cap - len, "z%d:%.*s:%d:%d::/h/%d::%.*s\n",
					N - i, i % 50, "ppppppppppppppppppppppppppppppppppppppppppppppppp",
					i + 1, i + 1, i, i % 4 * 3, "a b c d e f g");
	}
	struct passwd_file *pf = parse(text, len, true);
	assert_int_equal(passwd_file_count(pf), N);
	for (int k = 0; k < 2 * N; k++) {
		int i = k < N ? N - 1 - k : k - N;   /* backwards, then forwards */
		char user[16];
		struct passwd_entry e;
		snprintf(user, sizeof(user), "z%d", N - i);
		assert_int_equal(passwd_file_entry(pf, (size_t)i, tpool, &e), 1);
		check_str(user, "list", e.user, user);
		check_str(user, "user", passwd_file_user(pf, (size_t)i), user);
		if (e.uid != (uid_t)(i + 1) || e.extra_count != (size_t)(i % 4 * 3 + 1) / 2)
			fail_msg("%s: got uid %ld, %zu extras", user, (long)e.uid, e.extra_count);
	}
	assert_int_equal(passwd_file_entry(pf, N, tpool, &(struct passwd_entry){ 0 }), 0);
	assert_null(passwd_file_user(pf, N));
	passwd_file_free(&pf);
	free(text);
}

static void test_empty(void **state)
{
	(void)state;
	static const char *const texts[] = { "", "\n\n", "# only\n:comments\n", "\r\n" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct passwd_file *pf = parse(texts[i], strlen(texts[i]), true);
		struct passwd_entry e;
		assert_int_equal(passwd_file_count(pf), 0);
		assert_int_equal(passwd_file_lookup(pf, "x", 1, tpool, &e), 0);
		assert_null(passwd_file_user(pf, 1));
		assert_true(passwd_file_memory(pf) > 0);
		passwd_file_free(&pf);
	}
	assert_int_equal(passwd_file_count(NULL), 0);
	assert_null(passwd_file_user(NULL, 0));
	struct passwd_file *none = NULL;
	passwd_file_free(&none);
}

/* A line of exactly PASSWD_FILE_MAX_LINE bytes of head + filler. */
static char *max_line(const char *head, char fill, const char *tail)
{
	char *line = malloc(PASSWD_FILE_MAX_LINE + 1);
	assert_non_null(line);
	size_t h = strlen(head), t = strlen(tail);
	memcpy(line, head, h);
	memset(line + h, fill, PASSWD_FILE_MAX_LINE - h - t);
	memcpy(line + PASSWD_FILE_MAX_LINE - t, tail, t);
	line[PASSWD_FILE_MAX_LINE] = '\0';
	return line;
}

static void test_max_line(void **state)
{
	(void)state;
	struct passwd_entry e;
	char *line = max_line("u:", 'p', "");
	struct passwd_file *pf = parse(line, PASSWD_FILE_MAX_LINE, false);
	assert_int_equal(passwd_file_lookup(pf, "u", 1, tpool, &e), 1);
	check_str("long password", "password", e.password, line + 2);
	passwd_file_free(&pf);
	free(line);

	line = max_line("v:p:1:1::/", 'h', "/v");
	pf = parse(line, PASSWD_FILE_MAX_LINE, true);
	assert_int_equal(passwd_file_lookup(pf, "v", 1, tpool, &e), 1);
	check_str("long home", "home", e.home, line + 9);
	passwd_file_free(&pf);
	free(line);

	/* Many distinct extra fields: "x x x ..." made distinct by position. */
	line = max_line("w:p:1:1::/h::", ' ', "");
	for (size_t i = 13; i + 8 < PASSWD_FILE_MAX_LINE; i += 8)
		snprintf(line + i, 8, "%07zu", i);
	for (size_t i = 13; i < PASSWD_FILE_MAX_LINE; i++)
		if (line[i] == '\0')
			line[i] = ' ';
	pf = parse(line, PASSWD_FILE_MAX_LINE, true);
	assert_int_equal(passwd_file_lookup(pf, "w", 1, tpool, &e), 1);
	size_t fields = (PASSWD_FILE_MAX_LINE - 13 - 1) / 8;
	char last[16];
	snprintf(last, sizeof(last), "%07zu", 13 + 8 * (fields - 1));
	assert_int_equal(e.extra_count, fields);
	check_str("many extras", "extra[last]", e.extra[e.extra_count - 1], last);
	passwd_file_free(&pf);
	free(line);

	line = max_line("z:p:1:1::/h:::", 'm', "");
	pf = parse(line, PASSWD_FILE_MAX_LINE, true);
	assert_int_equal(passwd_file_lookup(pf, "z", 1, tpool, &e), 1);
	assert_int_equal(e.extra_count, 1);
	assert_int_equal(strlen(e.extra[0]), strlen("userdb_mail=") + PASSWD_FILE_MAX_LINE - 14);
	assert_int_equal(strncmp(e.extra[0], "userdb_mail=mmm", 15), 0);
	passwd_file_free(&pf);
	free(line);
}

/* A region grows (mremap) and keeps its contents. */
static void test_region_growth(void **state)
{
	(void)state;
	struct pf_region r = { 0 };
	for (uint32_t i = 0; i < 300000; i++) {
		uint8_t *p = passwd_file_region_reserve(&r, sizeof(i));
		assert_non_null(p);
		memcpy(p, &i, sizeof(i));
		r.len += sizeof(i);
	}
	for (uint32_t i = 0; i < 300000; i++) {
		uint32_t v;
		memcpy(&v, r.base + i * sizeof(v), sizeof(v));
		if (v != i)
			fail_msg("region[%u]: got %u", i, v);
	}
	assert_null(passwd_file_region_reserve(&r, PF_REGION_MAX));
	assert_int_equal(munmap(r.base, r.cap), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_interning),
		cmocka_unit_test(test_intern_cap),
		cmocka_unit_test(test_bucket_overflow),
		cmocka_unit_test(test_bucket_growth),
		cmocka_unit_test(test_many_entries),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_absent),
		cmocka_unit_test(test_list_order),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_max_line),
		cmocka_unit_test(test_region_growth),
	};
	return cmocka_run_group_tests(tests, setup_pool, teardown_pool);
}
