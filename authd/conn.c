#include "authd/conn.h"
#include "authd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void conn_io(struct event_io *io, uint32_t events);
static void conn_process_lines(struct conn *conn);

static void conn_update_events(struct conn *conn)
{
	if (conn->closed)
		return;
	uint32_t ev = 0;
	if (!conn->throttled && !conn->paused)
		ev |= EPOLLIN;
	if (conn->out.len > 0)
		ev |= EPOLLOUT;
	if (event_io_modify(conn->loop, &conn->io, ev) < 0)
		conn_close(conn);
}

int conn_init(struct conn *conn, struct event_loop *loop, int fd, size_t max_line,
	      conn_line_fn *on_line, conn_closed_fn *on_closed, void *ctx)
{
	memset(conn, 0, sizeof(*conn));
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		close(fd);
		return -1;
	}
	conn->io.fd = fd;
	conn->io.fn = conn_io;
	conn->io.ctx = conn;
	conn->loop = loop;
	conn->max_line = max_line;
	conn->in.limit = max_line + 1;
	conn->out.limit = CONN_OUT_MAX;
	conn->on_line = on_line;
	conn->on_closed = on_closed;
	conn->ctx = ctx;
	if (event_io_add(loop, &conn->io, EPOLLIN) < 0) {
		close(fd);
		conn->closed = true;
		return -1;
	}
	return 0;
}

static int conn_flush(struct conn *conn)
{
	while (conn->out.len > 0) {
		ssize_t n = send(conn->io.fd, conn->out.data, conn->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf_consume(&conn->out, (size_t)n);
	}
	bool was = conn->throttled;
	if (conn->out.len > CONN_OUT_HIGH)
		conn->throttled = true;
	else if (conn->out.len < CONN_OUT_LOW)
		conn->throttled = false;
	conn_update_events(conn);
	if (was && !conn->throttled) {
		if (conn->on_drained != NULL)
			conn->on_drained(conn);
		if (!conn->closed && !conn->paused)
			conn_resume(conn);
	}
	return 0;
}

static void conn_flush_deferred(struct event_defer *d)
{
	struct conn *conn = (struct conn *)((char *)d - offsetof(struct conn, flush));
	if (!conn->closed && (conn->broken || conn_flush(conn) < 0))
		conn_close(conn);
}

/* Closes conn once the current work is done (see conn_write). */
static int conn_close_soon(struct conn *conn)
{
	conn->broken = true;
	event_defer(conn->loop, &conn->flush, conn_flush_deferred);
	return -1;
}

int conn_write(struct conn *conn, const void *data, size_t len)
{
	if (conn->closed || conn->broken)
		return -1;
	if (buf_append(&conn->out, data, len) < 0)
		return conn_close_soon(conn);
	/* Under load, many replies of one loop turn go out in one send; a
	 * lone peer gets each reply at once so that it can overlap its next
	 * requests with our work instead of waiting for the whole batch. */
	if (conn->out.len >= CONN_OUT_HIGH || !event_loop_busy(conn->loop)) {
		if (conn_flush(conn) < 0)
			return conn_close_soon(conn);
	} else {
		event_defer(conn->loop, &conn->flush, conn_flush_deferred);
	}
	return 0;
}

/* Reads what is available. Returns 1 data read, 0 nothing more now,
 * -1 EOF / error / line too long (caller closes). */
static int conn_read(struct conn *conn)
{
	uint8_t chunk[CONN_READ_CHUNK];
	size_t room = conn->in.limit - conn->in.len;
	if (room == 0)
		return -1;   /* a full buffer without LF: line too long */
	ssize_t n = recv(conn->io.fd, chunk, room < sizeof(chunk) ? room : sizeof(chunk), 0);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	if (buf_append(&conn->in, chunk, (size_t)n) < 0)
		return -1;
	return 1;
}

static void conn_process_lines(struct conn *conn)
{
	size_t start = 0;
	conn->in_lines = true;
	/* start < len first: in.data is NULL before the first byte arrives */
	while (start < conn->in.len && !conn->closed && !conn->broken && !conn->paused &&
	       !conn->throttled) {
		uint8_t *nl = memchr(conn->in.data + start, '\n', conn->in.len - start);
		if (nl == NULL)
			break;
		uint8_t *line = conn->in.data + start;
		size_t len = (size_t)(nl - line);
		start += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (conn->on_line(conn, line, len) < 0)
			conn_close(conn);
	}
	conn->in_lines = false;
	if (!conn->closed && start > 0)
		buf_consume(&conn->in, start);
	if (!conn->closed && conn->in.len >= conn->in.limit &&
	    memchr(conn->in.data, '\n', conn->in.len) == NULL) {
		log_info("Peer sent a line longer than %zu bytes: disconnecting", conn->max_line);
		conn_close(conn);
	}
}

static void conn_io(struct event_io *io, uint32_t events)
{
	struct conn *conn = io->ctx;
	if ((events & EPOLLOUT) != 0 && conn_flush(conn) < 0) {
		conn_close(conn);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return;
	if (conn->paused || conn->throttled) {
		/* HUP/ERR are reported even when not asked for: a peer that is
		 * gone while we hold its input cannot get replies anyway. */
		if ((events & (EPOLLHUP | EPOLLERR)) != 0)
			conn_close(conn);
		return;
	}
	for (int i = 0; i < 16 && !conn->closed && !conn->broken && !conn->paused &&
			!conn->throttled; i++) {
		int r = conn_read(conn);
		if (r < 0) {
			/* Lines already received still count: EOF after a full
			 * pipelined write (Exim) must not lose the request. */
			conn_process_lines(conn);
			conn_close(conn);
			return;
		}
		conn_process_lines(conn);
		if (r == 0)
			break;
	}
}

static void conn_resume_deferred(struct event_defer *d)
{
	struct conn *conn = (struct conn *)((char *)d - offsetof(struct conn, resume));
	if (conn->closed || conn->paused)
		return;
	conn_process_lines(conn);
}

void conn_pause(struct conn *conn)
{
	conn->paused = true;
	conn_update_events(conn);
}

void conn_resume(struct conn *conn)
{
	if (conn->closed)
		return;
	conn->paused = false;
	conn_update_events(conn);
	/* Lines already buffered get no new EPOLLIN: process them soon. */
	if (conn->in.len > 0 && !conn->in_lines)
		event_defer(conn->loop, &conn->resume, conn_resume_deferred);
}

void conn_close(struct conn *conn)
{
	if (conn->closed)
		return;
	/* Replies queued before a framing violation still go out (once, not
	 * waiting), as Dovecot's do. */
	if (conn->out.len > 0)
		(void)send(conn->io.fd, conn->out.data, conn->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	conn->closed = true;
	event_io_remove(conn->loop, &conn->io);
	close(conn->io.fd);
	conn->io.fd = -1;
	if (conn->on_closed != NULL)
		conn->on_closed(conn);
}

struct buf *conn_reply_buf(void)
{
	static struct buf line = BUF_INIT(CONN_REPLY_MAX);
	buf_reset(&line);
	return &line;
}

void conn_free(struct conn *conn)
{
	buf_free(&conn->in);
	buf_free(&conn->out);
}
