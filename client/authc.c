/* authc: connections and requests of the auth protocol client (authc.h).
 * Parsing lives in authc_parse.c; this file does the socket I/O. */
#include "client/authc.h"

#include "common/base64.h"
#include "common/buf.h"
#include "common/tabescape.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Bytes read from the socket per recv(). */
#define AUTHC_READ_CHUNK 4096u
/* Pause between connect retries. */
#define AUTHC_CONNECT_RETRY_STEP_MSECS 10

struct authc_conn {
	int fd;
	enum authc_kind kind;
	char *path;
	int timeout_msecs;
	bool connect_failed;
	bool master_version_queued;
	size_t in_max;          /* AUTHC_CLIENT_IN_MAX or AUTHC_MASTER_IN_MAX */
	size_t request_max;     /* longest request line we may send */
	struct buf in;
	size_t in_consumed;     /* the line last returned, dropped on the next read */
	struct buf out;         /* may hold base64 secrets: wiped as written */
	uint32_t last_id;
	struct authc_handshake hs;
	struct authc_str args[AUTHC_ARGS_MAX];
	char error[AUTHC_ERROR_MAX + 1];
};

/* Formats an error into conn->error, showing control bytes as \xNN (the
 * text may quote what the server sent) and cutting it at AUTHC_ERROR_MAX. */
static const char *conn_error(struct authc_conn *conn, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *conn_error(struct authc_conn *conn, const char *fmt, ...)
{
	char raw[AUTHC_ERROR_MAX + 1];
	va_list ap;
	size_t w = 0;

	va_start(ap, fmt);
	int n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(raw) ? (size_t)n : sizeof(raw) - 1;
	for (size_t i = 0; i < len && w + 4 < sizeof(conn->error); i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c < 0x20 || c == 0x7f)
			w += (size_t)snprintf(conn->error + w, sizeof(conn->error) - w, "\\x%02x", c);
		else
			conn->error[w++] = (char)c;
	}
	conn->error[w] = '\0';
	return conn->error;
}

static int64_t now_msecs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Absolute deadline for a call starting now; -1 = none. */
static int64_t conn_deadline(const struct authc_conn *conn)
{
	return conn->timeout_msecs < 0 ? -1 : now_msecs() + conn->timeout_msecs;
}

/* Waits for events on the socket until deadline. Returns 1 ready, 0 timed
 * out, -1 poll error. */
static int conn_poll(struct authc_conn *conn, short events, int64_t deadline,
		     const char **error_r)
{
	for (;;) {
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_msecs();
			if (left <= 0)
				return 0;
			wait = left > INT_MAX ? INT_MAX : (int)left;
		}
		struct pollfd p = { .fd = conn->fd, .events = events, .revents = 0 };
		int r = poll(&p, 1, wait);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR) {
			*error_r = conn_error(conn, "poll() failed: %s", strerror(errno));
			return -1;
		}
	}
}

struct authc_conn *authc_conn_create(const char *path, enum authc_kind kind,
				     int timeout_msecs)
{
	struct authc_conn *conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return NULL;
	conn->path = strdup(path);
	if (conn->path == NULL) {
		free(conn);
		return NULL;
	}
	conn->fd = -1;
	conn->kind = kind;
	conn->timeout_msecs = timeout_msecs;
	conn->in_max = kind == AUTHC_KIND_CLIENT ? AUTHC_CLIENT_IN_MAX : AUTHC_MASTER_IN_MAX;
	conn->request_max = kind == AUTHC_KIND_CLIENT ? AUTHC_CLIENT_REQUEST_MAX :
							AUTHC_MASTER_REQUEST_MAX;
	conn->in = (struct buf)BUF_INIT(conn->in_max);
	conn->out = (struct buf)BUF_INIT(AUTHC_OUT_MAX);
	authc_handshake_init(&conn->hs, kind);
	return conn;
}

void authc_conn_destroy(struct authc_conn **connp)
{
	struct authc_conn *conn = *connp;
	if (conn == NULL)
		return;
	*connp = NULL;
	if (conn->fd >= 0)
		close(conn->fd);
	buf_free(&conn->in);
	buf_free(&conn->out);
	free(conn->path);
	free(conn);
}

void authc_conn_set_timeout(struct authc_conn *conn, int timeout_msecs)
{
	conn->timeout_msecs = timeout_msecs;
}

int authc_conn_fd(const struct authc_conn *conn)
{
	return conn->fd;
}

const char *authc_conn_path(const struct authc_conn *conn)
{
	return conn->path;
}

const struct authc_handshake *authc_conn_handshake(const struct authc_conn *conn)
{
	return &conn->hs;
}

bool authc_conn_connect_failed(const struct authc_conn *conn)
{
	return conn->connect_failed;
}

/* One connect attempt on a fresh socket: fd, or -1 with errno. */
static int connect_once(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r;
	do {
		r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return fd;
	int saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

static int flush_wait(struct authc_conn *conn, const char **error_r);

int authc_connect(struct authc_conn *conn, const char **error_r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(conn->path);

	if (conn->fd >= 0) {
		*error_r = conn_error(conn, "already connected");
		return -1;
	}
	if (plen >= sizeof(sa.sun_path)) {
		conn->connect_failed = true;
		*error_r = conn_error(conn, "connect(%s) failed: socket path too long", conn->path);
		return -1;
	}
	memcpy(sa.sun_path, conn->path, plen + 1);
	int64_t retry_until = now_msecs() + AUTHC_CONNECT_RETRY_MSECS;
	int64_t deadline = conn_deadline(conn);
	if (deadline >= 0 && deadline < retry_until)
		retry_until = deadline;
	int fd;
	while ((fd = connect_once(&sa)) < 0) {
		if ((errno != EAGAIN && errno != ECONNREFUSED) || now_msecs() >= retry_until) {
			conn->connect_failed = true;
			*error_r = conn_error(conn, "connect(%s) failed: %s", conn->path,
					      strerror(errno));
			return -1;
		}
		(void)poll(NULL, 0, AUTHC_CONNECT_RETRY_STEP_MSECS);
	}
	conn->fd = fd;
	if (conn->kind == AUTHC_KIND_CLIENT) {
		if (buf_printf(&conn->out, "VERSION\t%u\t%u\nCPID\t%ld\n", AUTHC_PROTOCOL_MAJOR,
			       AUTHC_CLIENT_MINOR, (long)getpid()) < 0) {
			*error_r = conn_error(conn, "output queue full");
			return -1;
		}
		return flush_wait(conn, error_r);
	}
	return 1;
}

/* Drops the line returned by the previous authc_conn_next_line(). */
static void consume_line(struct authc_conn *conn)
{
	if (conn->in_consumed > 0) {
		buf_consume(&conn->in, conn->in_consumed);
		conn->in_consumed = 0;
	}
}

int authc_conn_input(struct authc_conn *conn, const char **error_r)
{
	uint8_t chunk[AUTHC_READ_CHUNK];

	consume_line(conn);
	if (conn->in.len >= conn->in_max) {
		*error_r = conn_error(conn, "BUG: Auth server sent us more than %zu bytes of data",
				      conn->in_max);
		return -1;
	}
	size_t want = conn->in_max - conn->in.len;
	if (want > sizeof(chunk))
		want = sizeof(chunk);
	ssize_t n;
	do {
		n = recv(conn->fd, chunk, want, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0 && errno == ECONNRESET) {
		/* a unix socket closed with our request unread */
		*error_r = conn_error(conn, "Disconnected unexpectedly (connection reset)");
		return -1;
	}
	if (n < 0) {
		*error_r = conn_error(conn, "read(%s) failed: %s", conn->path, strerror(errno));
		return -1;
	}
	if (n == 0) {
		*error_r = conn_error(conn, "Disconnected unexpectedly");
		return -1;
	}
	/* cannot fail: want never crosses the limit */
	if (buf_append(&conn->in, chunk, (size_t)n) < 0) {
		*error_r = conn_error(conn, "input buffer full");
		return -1;
	}
	return 1;
}

int authc_conn_next_line(struct authc_conn *conn, struct authc_reply *reply_r,
			 const char **error_r)
{
	const char *perr;

	consume_line(conn);
	uint8_t *lf = conn->in.len == 0 ? NULL : memchr(conn->in.data, '\n', conn->in.len);
	if (lf == NULL) {
		if (conn->in.len >= conn->in_max) {
			*error_r = conn_error(conn,
				"BUG: Auth server sent us more than %zu bytes of data",
				conn->in_max);
			return -1;
		}
		return 0;
	}
	size_t n = (size_t)(lf - conn->in.data);
	conn->in_consumed = n + 1;
	if (authc_line_parse(conn->in.data, n, conn->args, AUTHC_ARGS_MAX, reply_r, &perr) < 0) {
		*error_r = conn_error(conn, "%s", perr);
		return -1;
	}
	return 1;
}

int authc_conn_flush(struct authc_conn *conn, const char **error_r)
{
	while (conn->out.len > 0) {
		ssize_t n = send(conn->fd, conn->out.data, conn->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			*error_r = conn_error(conn, "write(%s) failed: %s", conn->path,
					      strerror(errno));
			buf_reset(&conn->out);
			return -1;
		}
		buf_consume(&conn->out, (size_t)n);   /* wipes what was sent */
	}
	return 1;
}

static int flush_wait(struct authc_conn *conn, const char **error_r)
{
	int64_t deadline = conn_deadline(conn);
	for (;;) {
		int r = authc_conn_flush(conn, error_r);
		if (r != 0)
			return r;
		r = conn_poll(conn, POLLOUT, deadline, error_r);
		if (r < 0)
			return -1;
		if (r == 0) {
			buf_reset(&conn->out);
			*error_r = conn_error(conn, "write(%s) timed out", conn->path);
			return -1;
		}
	}
}

int authc_conn_handshake_step(struct authc_conn *conn, const char **error_r)
{
	struct authc_reply line;
	const char *herr = NULL;

	while (!conn->hs.done) {
		int r = authc_conn_next_line(conn, &line, error_r);
		if (r <= 0)
			return r;
		switch (authc_handshake_feed(&conn->hs, &line, &herr)) {
		case AUTHC_HS_MORE:
			break;
		case AUTHC_HS_DONE:
			return 1;
		case AUTHC_HS_WRONG_SOCKET:
			*error_r = conn->kind == AUTHC_KIND_MASTER ?
				conn_error(conn, "%s is an auth client socket. "
					   "It should be a master socket.", conn->path) :
				conn_error(conn, "%s is an auth master socket. "
					   "It should be an auth client socket.", conn->path);
			return -1;
		case AUTHC_HS_ERROR:
		default:
			*error_r = conn_error(conn, "%s", herr);
			return -1;
		}
	}
	return 1;
}

/* Reads until step() returns non-zero; maps a timeout to timeout_text. */
static int read_until(struct authc_conn *conn, int (*step)(struct authc_conn *, void *,
							   const char **),
		      void *ctx, const char *timeout_text, const char **error_r)
{
	int64_t deadline = conn_deadline(conn);
	for (;;) {
		int r = step(conn, ctx, error_r);
		if (r != 0)
			return r;
		r = authc_conn_input(conn, error_r);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		r = conn_poll(conn, POLLIN, deadline, error_r);
		if (r < 0)
			return -1;
		if (r == 0) {
			*error_r = conn_error(conn, "%s", timeout_text);
			return -1;
		}
	}
}

static int handshake_step_cb(struct authc_conn *conn, void *ctx, const char **error_r)
{
	(void)ctx;
	return authc_conn_handshake_step(conn, error_r);
}

int authc_handshake_wait(struct authc_conn *conn, const char **error_r)
{
	if (conn->fd < 0) {
		*error_r = conn_error(conn, "not connected");
		return -1;
	}
	return read_until(conn, handshake_step_cb, NULL,
			  conn->kind == AUTHC_KIND_CLIENT ?
			  "Timeout waiting for handshake from auth server" :
			  "Connecting timed out", error_r);
}

struct wait_ctx {
	uint32_t id;
	struct authc_reply *reply;
};

/* Joins a parsed line back into text for error messages. */
static const char *reply_text(struct authc_conn *conn, const struct authc_reply *r)
{
	char text[AUTHC_ERROR_MAX];
	size_t w = (size_t)snprintf(text, sizeof(text), "%.*s",
				    (int)(r->cmd.len < 64 ? r->cmd.len : 64), r->cmd.s);
	for (size_t i = 0; i < r->arg_count && w < sizeof(text) - 1; i++) {
		int room = (int)(sizeof(text) - w);
		w += (size_t)snprintf(text + w, (size_t)room, "\t%.*s",
				      (int)(r->args[i].len < (size_t)room ? r->args[i].len :
					    (size_t)room), r->args[i].s);
	}
	return conn_error(conn, "BUG: Unexpected input: %s", text);
}

static int wait_step_cb(struct authc_conn *conn, void *vctx, const char **error_r)
{
	struct wait_ctx *ctx = vctx;
	int r = authc_conn_next_line(conn, ctx->reply, error_r);
	if (r <= 0)
		return r;
	if (!ctx->reply->has_id || ctx->reply->id != ctx->id) {
		*error_r = reply_text(conn, ctx->reply);
		return -1;
	}
	return 1;
}

int authc_wait_reply(struct authc_conn *conn, uint32_t id, struct authc_reply *reply_r,
		     const char **error_r)
{
	struct wait_ctx ctx = { .id = id, .reply = reply_r };

	if (!conn->hs.done && authc_handshake_wait(conn, error_r) < 0)
		return -1;
	return read_until(conn, wait_step_cb, &ctx, "Request timed out", error_r);
}

static uint32_t next_id(struct authc_conn *conn)
{
	if (++conn->last_id == 0)
		conn->last_id = 1;
	return conn->last_id;
}

/* Appends TAB + escaped params. Returns 0 or -1 (limit). */
static int append_params(struct buf *line, const char *const *params)
{
	for (size_t i = 0; params != NULL && params[i] != NULL; i++) {
		if (buf_append_byte(line, '\t') < 0 || tab_escape_str(line, params[i]) < 0)
			return -1;
	}
	return 0;
}

/* Checks the built line against the server's limit and queues it (with
 * prefix first, if any). Wipes line. */
static int queue_line(struct authc_conn *conn, struct buf *line, bool too_long,
		      const char *prefix, const char **error_r)
{
	int ret = 1;
	size_t plen = prefix != NULL ? strlen(prefix) : 0;
	if (too_long || line->len > conn->request_max) {
		*error_r = conn_error(conn, "request line longer than the server accepts "
				      "(%zu bytes)", conn->request_max);
		ret = -1;
	} else if (conn->out.len + plen + line->len + 1 > AUTHC_OUT_MAX) {
		/* checked first so that a request is queued whole or not at all */
		*error_r = conn_error(conn, "output queue full");
		ret = -1;
	} else if ((prefix != NULL && buf_append(&conn->out, prefix, plen) < 0) ||
		   buf_append(&conn->out, line->data, line->len) < 0 ||
		   buf_append_byte(&conn->out, '\n') < 0) {
		*error_r = conn_error(conn, "out of memory");
		ret = -1;
	}
	buf_free(line);
	return ret;
}

int authc_auth_queue(struct authc_conn *conn, const struct authc_auth_request *req,
		     uint32_t *id_r, const char **error_r)
{
	struct buf line = BUF_INIT(AUTHC_CLIENT_REQUEST_MAX + 1);
	uint32_t id = next_id(conn);

	bool bad = buf_printf(&line, "AUTH\t%u\t", id) < 0 ||
		tab_escape_str(&line, req->mech) < 0 ||
		buf_append_str(&line, "\tservice=") < 0 ||
		tab_escape_str(&line, req->service) < 0 ||
		append_params(&line, req->params) < 0;
	if (!bad && req->has_initial_response) {
		bad = buf_append_str(&line, "\tresp=") < 0 ||
			base64_encode(&line, req->initial_response,
				      req->initial_response_len) < 0;
	}
	if (queue_line(conn, &line, bad, NULL, error_r) < 0)
		return -1;
	*id_r = id;
	return 1;
}

int authc_auth_send(struct authc_conn *conn, const struct authc_auth_request *req,
		    uint32_t *id_r, const char **error_r)
{
	if (authc_auth_queue(conn, req, id_r, error_r) < 0)
		return -1;
	return flush_wait(conn, error_r);
}

int authc_cont_queue(struct authc_conn *conn, uint32_t id, const uint8_t *data,
		     size_t len, const char **error_r)
{
	struct buf line = BUF_INIT(AUTHC_CLIENT_REQUEST_MAX + 1);

	bool bad = buf_printf(&line, "CONT\t%u\t", id) < 0 ||
		base64_encode(&line, data, len) < 0;
	return queue_line(conn, &line, bad, NULL, error_r);
}

static const char *master_cmd_name(enum authc_master_cmd cmd)
{
	switch (cmd) {
	case AUTHC_MASTER_USER: return "USER";
	case AUTHC_MASTER_PASS: return "PASS";
	case AUTHC_MASTER_LIST: return "LIST";
	}
	return "LIST";
}

int authc_master_queue(struct authc_conn *conn, enum authc_master_cmd cmd,
		       const char *user, const char *service,
		       const char *const *params, uint32_t *id_r, const char **error_r)
{
	struct buf line = BUF_INIT(AUTHC_MASTER_REQUEST_MAX + 1);
	char version[32];
	uint32_t id = next_id(conn);

	bool bad = buf_printf(&line, "%s\t%u", master_cmd_name(cmd), id) < 0;
	if (!bad && cmd != AUTHC_MASTER_LIST) {
		bad = buf_append_byte(&line, '\t') < 0 ||
			tab_escape_str(&line, user != NULL ? user : "") < 0;
	} else if (!bad && user != NULL && user[0] != '\0') {
		bad = buf_append_str(&line, "\tuser=") < 0 || tab_escape_str(&line, user) < 0;
	}
	bad = bad || buf_append_str(&line, "\tservice=") < 0 ||
		tab_escape_str(&line, service) < 0 || append_params(&line, params) < 0;
	snprintf(version, sizeof(version), "VERSION\t%u\t%u\n", AUTHC_PROTOCOL_MAJOR,
		 AUTHC_MASTER_MINOR);
	if (queue_line(conn, &line, bad, conn->master_version_queued ? NULL : version,
		       error_r) < 0)
		return -1;
	conn->master_version_queued = true;
	*id_r = id;
	return 1;
}

int authc_master_send(struct authc_conn *conn, enum authc_master_cmd cmd,
		      const char *user, const char *service,
		      const char *const *params, uint32_t *id_r, const char **error_r)
{
	if (authc_master_queue(conn, cmd, user, service, params, id_r, error_r) < 0)
		return -1;
	return flush_wait(conn, error_r);
}
