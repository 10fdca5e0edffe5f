/* authctl_cache: `authctl cache flush [-a <master socket path>] [<user>...]`,
 * doveadm's `auth cache flush`.
 *
 * Sends `CACHE-FLUSH\t<id>[\t<user>...]` (users tab-escaped) on the
 * auth-master socket, as lib-auth's auth_master_cache_flush() does, and
 * prints "N cache entries flushed". As doveadm 2.3.19: a connection error
 * is logged ("Error: auth-master: auth cache flush: ...") and counts as 0
 * entries flushed, exit 0; only a reply that is not "OK <count>" gives
 * "Error: Cache flush failed" and exit 75. No user flushes everything. */
#include "client/authctl.h"

#include "client/authc.h"
#include "common/buf.h"
#include "common/strnum.h"
#include "common/tabescape.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define AUTHCTL_MASTER_SOCKET "auth-master"
#define CACHE_FLUSH_ID 1u
/* Whole write: "VERSION\t1\t0\n" plus the request line and its LF. */
#define CACHE_FLUSH_OUT_MAX (AUTHC_MASTER_REQUEST_MAX + 32u)

/* Builds "VERSION\t1\t0\nCACHE-FLUSH\t1[\tuser...]\n". Returns 0, or -1 when
 * the request line would be longer than the server accepts. */
static int cache_flush_build(struct buf *out, int argc, char **argv)
{
	if (buf_printf(out, "VERSION\t%u\t%u\n", AUTHC_PROTOCOL_MAJOR, AUTHC_MASTER_MINOR) < 0)
		return -1;
	size_t start = out->len;
	if (buf_printf(out, "CACHE-FLUSH\t%u", CACHE_FLUSH_ID) < 0)
		return -1;
	for (int i = 0; i < argc; i++) {
		if (buf_append_byte(out, '\t') < 0 || tab_escape_str(out, argv[i]) < 0)
			return -1;
	}
	if (out->len - start > AUTHC_MASTER_REQUEST_MAX)
		return -1;
	return buf_append_byte(out, '\n');
}

/* Writes all of (p, len) to the non-blocking socket, waiting up to
 * timeout_msecs for room each time. Returns 0 or -1 (errno set). */
static int write_all(int fd, const uint8_t *p, size_t len, int timeout_msecs)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int r = poll(&pfd, 1, timeout_msecs);
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

/* Sends the request and reads "OK\t1\t<count>". Returns 0 with *count_r
 * (0 after a connection error, which is printed), or -1 for a reply that
 * is not OK with a count. Blocks up to the lookup timeout per step. */
static int cache_flush_request(struct authctl_ctx *ctx, const char *path, int argc,
			       char **argv, uint32_t *count_r, const char **error_r)
{
	struct buf out = BUF_INIT(CACHE_FLUSH_OUT_MAX);
	struct authc_reply reply;
	int ret = 0;

	if (cache_flush_build(&out, argc, argv) < 0) {
		buf_free(&out);
		*error_r = "request too long";
		return -1;
	}
	struct authc_conn *conn = authc_conn_create(path, AUTHC_KIND_MASTER,
						    ctx->lookup_timeout_msecs);
	*count_r = 0;
	if (conn == NULL) {
		*error_r = "out of memory";
	} else if (authc_connect(conn, error_r) < 0) {
		/* error text printed below while conn still owns it */
	} else if (write_all(authc_conn_fd(conn), out.data, out.len,
			     ctx->lookup_timeout_msecs) < 0) {
		*error_r = strerror(errno);
	} else if (authc_wait_reply(conn, CACHE_FLUSH_ID, &reply, error_r) < 0) {
		/* *error_r set */
	} else if (reply.type != AUTHC_REPLY_OK || reply.field_count < 1 ||
		   !str_to_uint32((const uint8_t *)reply.fields[0].s, reply.fields[0].len,
				  count_r)) {
		*count_r = 0;
		ret = -1;
	} else {
		*error_r = NULL;
	}
	if (ret == 0 && *error_r != NULL)
		fprintf(stderr, "Error: auth-master: auth cache flush: %s\n", *error_r);
	authc_conn_destroy(&conn);
	buf_free(&out);
	return ret;
}

static int cache_flush_run(struct authctl_ctx *ctx, const struct authctl_command *cmd,
			   int argc, char **argv)
{
	const char *socket_path = NULL, *error = "";
	uint32_t count = 0;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "+a:")) != -1) {
		if (c != 'a')
			return authctl_cmd_usage(cmd);
		socket_path = optarg;
	}
	const char *path = socket_path != NULL ? socket_path :
		authctl_socket_path(ctx, AUTHCTL_MASTER_SOCKET);
	if (cache_flush_request(ctx, path, argc - optind, argv + optind, &count, &error) < 0) {
		fprintf(stderr, "Error: Cache flush failed\n");
		return AUTHCTL_EX_TEMPFAIL;
	}
	printf("%u cache entries flushed\n", count);
	return AUTHCTL_EX_OK;
}

const struct authctl_command authctl_cmd_cache_flush = {
	.name = "cache flush",
	.usage = "[-a <master socket path>] [<user> [...]]",
	.run = cache_flush_run,
};
