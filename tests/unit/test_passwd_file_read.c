/* Tests for passdb/db_passwd_file_read.c: parsing from a file descriptor
 * through a fixed buffer must give exactly what passwd_file_parse gives for
 * the whole image (entries, order, log lines), wherever lines fall against
 * the buffer boundaries and however read() splits the data. */
#include "common/pool.h"
#include "passdb/db_passwd_file.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/passwd_file_testlib.h"

#define MAX_LOGS 64
#define READ_BUF (1024u * 1024u)    /* PF_READ_BUF of db_passwd_file_read.c */
#define PIPE_PIECE 777u

struct logs {
	size_t count;
	unsigned int line[MAX_LOGS];
	char msg[MAX_LOGS][160];
};


static void capture(void *ctx, const char *path, unsigned int line, const char *message)
{
	struct logs *l = ctx;
	(void)path;
	if (l->count < MAX_LOGS) {
		l->line[l->count] = line;
		snprintf(l->msg[l->count], sizeof(l->msg[0]), "%s", message);
	}
	l->count++;
}

static bool same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void compare_entries(const struct passwd_file *a, const struct passwd_file *b)
{
	if (passwd_file_count(a) != passwd_file_count(b))
		fail_msg("count: got %zu, want %zu", passwd_file_count(a), passwd_file_count(b));
	for (size_t i = 0; i < passwd_file_count(a); i++) {
		struct passwd_entry x, y;
		assert_int_equal(passwd_file_entry(a, i, tpool, &x), 1);
		assert_int_equal(passwd_file_entry(b, i, tpool, &y), 1);
		if (!same(x.user, y.user) || !same(x.password, y.password) || !same(x.home, y.home) ||
		    x.has_uid != y.has_uid || x.uid != y.uid || x.has_gid != y.has_gid ||
		    x.gid != y.gid || x.has_userdb != y.has_userdb || x.extra_count != y.extra_count)
			fail_msg("entry %zu (%s): differs from the whole-image parse", i, y.user);
		for (size_t k = 0; k < x.extra_count; k++)
			if (!same(x.extra[k], y.extra[k]))
				fail_msg("entry %zu extra %zu: got %s, want %s", i, k, x.extra[k], y.extra[k]);
	}
	pool_reset(tpool);
}

static void compare_logs(const struct logs *got, const struct logs *want)
{
	if (got->count != want->count)
		fail_msg("logs: got %zu, want %zu (first want: %s)", got->count, want->count,
			 want->count > 0 ? want->msg[0] : "-");
	for (size_t i = 0; i < got->count && i < MAX_LOGS; i++)
		if (got->line[i] != want->line[i] || strcmp(got->msg[i], want->msg[i]) != 0)
			fail_msg("log %zu: got %u '%s', want %u '%s'", i, got->line[i], got->msg[i],
				 want->line[i], want->msg[i]);
}

struct pipe_writer {
	int fd;
	const char *text;
	size_t len;
};

static void *write_pieces(void *arg)
{
	struct pipe_writer *w = arg;
	for (size_t pos = 0; pos < w->len;) {
		size_t n = w->len - pos < PIPE_PIECE ? w->len - pos : PIPE_PIECE;
		ssize_t r = write(w->fd, w->text + pos, n);
		if (r <= 0)
			break;
		pos += (size_t)r;
	}
	close(w->fd);
	return NULL;
}

/* Parses text through a temporary file (full reads) and through a pipe
 * written in small pieces (short reads); both must match the whole-image
 * parse. */
static void check_same(const char *text, size_t len, bool userdb)
{
	struct logs want = { 0 }, got = { 0 };
	struct passwd_file_opts opts = { .path = "t", .userdb = userdb, .log = capture };
	opts.log_ctx = &want;
	struct passwd_file *image = passwd_file_parse((const uint8_t *)text, len, &opts);
	assert_non_null(image);
	for (int mode = 0; mode < 2; mode++) {
		int fds[2];
		pthread_t tid;
		struct pipe_writer w = { .text = text, .len = len };
		if (mode == 0) {
			FILE *f = tmpfile();
			assert_non_null(f);
			assert_int_equal(fwrite(text, 1, len, f), len);
			assert_int_equal(fflush(f), 0);
			fds[0] = dup(fileno(f));
			fclose(f);
			assert_int_equal(lseek(fds[0], 0, SEEK_SET), 0);
		} else {
			assert_int_equal(pipe(fds), 0);
			w.fd = fds[1];
			assert_int_equal(pthread_create(&tid, NULL, write_pieces, &w), 0);
		}
		memset(&got, 0, sizeof(got));
		opts.log_ctx = &got;
		struct passwd_file *pf = NULL;
		const char *error = NULL;
		int ret = passwd_file_read(fds[0], len, &opts, &pf, &error);
		if (mode == 1)
			pthread_join(tid, NULL);
		close(fds[0]);
		if (ret != 0)
			fail_msg("passwd_file_read: %s", error);
		compare_entries(pf, image);
		compare_logs(&got, &want);
		passwd_file_free(&pf);
	}
	passwd_file_free(&image);
}

static void test_small(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"", "\n", "a", "a:b", "a:b\n", "#x\n:y\n\nu:p:1:1::/h::k=v\r\nv:q\r",
		"u:p:1:1::/h:::mail x\nu:dup\nw:abc[56]\nz:p:0:0\n",
		"a:x\0y\nb:z\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len = i == 7 ? 10 : strlen(texts[i]);
		check_same(texts[i], len, false);
		check_same(texts[i], len, true);
	}
}

/* Appends users until the text is exactly `at` bytes long (a comment
 * line pads the rest). */
static size_t fill_to(char *text, size_t len, size_t at, unsigned int *n)
{
	while (at - len > 64) {
		len += (size_t)sprintf(text + len, "u%u:{PLAIN}p%u:%u:%u::/home/u%u::\n", *n, *n,
				       *n + 1, *n + 1, *n);
		(*n)++;
	}
	if (at > len) {
		memset(text + len, '#', at - len - 1);
		text[at - 1] = '\n';
		len = at;
	}
	return len;
}

static size_t put_line(char *text, size_t len, char fill, size_t n, const char *end)
{
	text[len++] = 'L';
	text[len++] = ':';
	memset(text + len, fill, n - 2);
	len += n - 2;
	memcpy(text + len, end, strlen(end));
	return len + strlen(end);
}

/* Long lines around the first buffer boundary: one skipped while
 * streaming, one of exactly the limit with CRLF across the boundary, one
 * over the limit by its CR, ones at the end without LF (a last CR stays). */
static void test_boundaries(void **state)
{
	(void)state;
	static const struct {
		size_t start_before;     /* bytes before READ_BUF where the line starts */
		size_t len;              /* line bytes before its end */
		const char *end;
	} cases[] = {
		{ PASSWD_FILE_MAX_LINE + 100, PASSWD_FILE_MAX_LINE + 5000, "\n" },
		{ PASSWD_FILE_MAX_LINE + 1, PASSWD_FILE_MAX_LINE, "\r\n" },
		{ PASSWD_FILE_MAX_LINE + 2, PASSWD_FILE_MAX_LINE + 1, "\r\n" },
		{ PASSWD_FILE_MAX_LINE + 2, PASSWD_FILE_MAX_LINE + 1, "\r\r\n" },
		{ 100, PASSWD_FILE_MAX_LINE + 50, "\n" },
		{ 10, PASSWD_FILE_MAX_LINE, "" },
		{ PASSWD_FILE_MAX_LINE + 500, 3 * PASSWD_FILE_MAX_LINE, "" },
		{ PASSWD_FILE_MAX_LINE + 500, 3 * PASSWD_FILE_MAX_LINE, "\r" },
	};
	size_t cap = 2 * READ_BUF + 4 * PASSWD_FILE_MAX_LINE;
	char *text = malloc(cap);
	assert_non_null(text);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned int n = 0;
		size_t len = fill_to(text, 0, READ_BUF - cases[i].start_before, &n);
		len = put_line(text, len, (char)('a' + i), cases[i].len, cases[i].end);
		if (strchr(cases[i].end, '\n') != NULL)
			len = fill_to(text, len, len + 3000, &n);
		check_same(text, len, true);
	}
	free(text);
}

/* Several buffers' worth, with long lines and duplicates scattered. */
static void test_many_buffers(void **state)
{
	(void)state;
	size_t cap = 5 * READ_BUF, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	unsigned int n = 0;
	while (len + 3 * PASSWD_FILE_MAX_LINE < cap) {
		len = fill_to(text, len, len + 200000 + n % 7777, &n);
		len = put_line(text, len, 'x', PASSWD_FILE_MAX_LINE + n % 3, n % 2 ? "\n" : "\r\n");
		len += (size_t)sprintf(text + len, "u%u:dup\n", n / 2);
	}
	check_same(text, len, true);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_many_buffers),
	};
	return cmocka_run_group_tests(tests, setup_pool, teardown_pool);
}
