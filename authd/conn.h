/* conn: a non-blocking stream connection with a bounded line reader and a
 * bounded write queue, driven by the event loop.
 *
 * Lines end in LF; one CR before the LF is dropped. A line longer than
 * max_line bytes (without LF) closes the connection: the protocols define
 * that as a framing violation. Replies are queued and written as the
 * socket accepts them; while more than CONN_OUT_HIGH bytes are queued the
 * connection stops reading (Dovecot's throttling) until the queue drains
 * below CONN_OUT_LOW. */
#ifndef AUTHD_CONN_H
#define AUTHD_CONN_H

#include "authd/event.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONN_OUT_HIGH (50u * 1024u)
#define CONN_OUT_LOW (17u * 1024u)
#define CONN_OUT_MAX (4u * 1024u * 1024u)
#define CONN_READ_CHUNK 4096u

struct conn;
/* Handles one line (mutable, not NUL-terminated, CR/LF removed).
 * Returns 0 to go on, -1 to close the connection. */
typedef int conn_line_fn(struct conn *conn, uint8_t *line, size_t len);
/* Called once when the connection closes (peer EOF, error, framing
 * violation or conn_close()). The owner may free itself only from a
 * deferred callback (event_defer), never inside this one. */
typedef void conn_closed_fn(struct conn *conn);

/* Called when a throttled output queue has drained below CONN_OUT_LOW. */
typedef void conn_drained_fn(struct conn *conn);

struct conn {
	struct event_io io;
	struct event_loop *loop;
	struct buf in, out;
	size_t max_line;
	conn_line_fn *on_line;
	conn_closed_fn *on_closed;
	conn_drained_fn *on_drained;  /* optional, set after conn_init() */
	void *ctx;
	bool closed;
	bool paused;         /* owner paused line processing */
	bool throttled;      /* output queue too full */
	bool in_lines;       /* inside conn_process_lines() */
	bool broken;         /* write failed / queue full: closing soon */
	struct event_defer resume;
	struct event_defer flush;     /* writes batched until the loop turn ends */
};

/* Takes ownership of fd (made non-blocking) and starts reading.
 * Returns 0 or -1 (fd is closed on failure). */
int conn_init(struct conn *conn, struct event_loop *loop, int fd, size_t max_line,
	      conn_line_fn *on_line, conn_closed_fn *on_closed, void *ctx);

/* Queues bytes for writing. Under load they are sent when the current
 * batch of events has been handled (one send for all replies of a loop
 * turn); a lone peer's are sent at once. On a full queue (CONN_OUT_MAX) or
 * a write error the connection is closed from the deferred queue, never
 * from inside this call (the caller may be in the middle of a request the
 * close would release). Returns 0, or -1 when the connection is closed or
 * about to be. Never blocks. */
int conn_write(struct conn *conn, const void *data, size_t len);

/* A line buffer for formatting one reply before conn_write(), reused (and
 * reset) by every call so replies cost no malloc. Event loop thread only;
 * valid until the next call. */
#define CONN_REPLY_MAX (64u * 1024u)
struct buf *conn_reply_buf(void);

/* Stops / restarts handing lines to on_line (input stays buffered). */
void conn_pause(struct conn *conn);
void conn_resume(struct conn *conn);

/* Closes the fd and calls on_closed (once). Safe to call repeatedly. */
void conn_close(struct conn *conn);
/* Releases buffers after close. */
void conn_free(struct conn *conn);

#endif
