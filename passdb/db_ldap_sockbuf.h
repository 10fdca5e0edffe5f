/* db_ldap_sockbuf: the I/O layer authd adds to libldap's socket buffer,
 * so that a connection costs few system calls per request:
 *  - a read buffer: replies are read in blocks of LDAP_SOCKBUF_RBUF_SIZE
 *    (ldap_sockbuf_fill() when the socket is readable, or on demand when
 *    libldap reads an empty buffer) instead of a header read and a body
 *    read per message, and while it holds data libldap reports the
 *    connection ready (LBER_SB_OPT_DATA_READY), so ldap_result() parses
 *    without polling the socket;
 *  - batched writes: while enabled, the PDUs libldap writes are appended
 *    to an in-memory buffer and sent with one write() by
 *    ldap_sockbuf_flush(), once per event-loop turn (db_ldap.c schedules
 *    it). Disabled, writes go straight to the socket (connection setup:
 *    TLS handshakes and SASL binds are synchronous inside libldap).
 *
 * Event-loop only; never blocks (the socket is non-blocking). */
#ifndef PASSDB_DB_LDAP_SOCKBUF_H
#define PASSDB_DB_LDAP_SOCKBUF_H

#include <lber.h>
#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Read buffer per connection. */
#define LDAP_SOCKBUF_RBUF_SIZE (16u * 1024u)
/* Most bytes a connection may hold unsent; beyond it a write fails (the
 * connection is then treated as broken). In-flight requests bound it far
 * below in practice (LDAP_DB_PIPELINE x the longest query). */
#define LDAP_SOCKBUF_WBUF_MAX (4u * 1024u * 1024u)

/* Called when the write buffer goes from empty to non-empty. */
typedef void ldap_sockbuf_pending_fn(void *ctx);

/* Embedded in the connection; the layer only points to it. */
struct ldap_sockbuf {
	bool batching;
	uint8_t *data;
	size_t off, len, size;       /* unsent bytes are data[off..len) */
	uint8_t *rdata;              /* LDAP_SOCKBUF_RBUF_SIZE bytes, lazily */
	size_t roff, rlen;           /* unread bytes are rdata[roff..rlen) */
	Sockbuf_IO_Desc *sbiod;      /* the layer, while installed */
	ldap_sockbuf_pending_fn *pending;
	void *ctx;
};

/* Adds the layer (reading buffered, batching off) to ld's socket.
 * Returns 0, or -1 if liblber refused. */
int ldap_sockbuf_install(struct ldap_sockbuf *sb, LDAP *ld);
/* Turns batching on or off (off: flush first yourself). */
void ldap_sockbuf_set_batching(struct ldap_sockbuf *sb, bool on);
/* Whether unsent bytes are buffered. */
static inline bool ldap_sockbuf_has_pending(const struct ldap_sockbuf *sb)
{
	return sb->off < sb->len;
}
enum ldap_sockbuf_fill_result {
	/* end of stream, an error, or no memory for the buffer: let
	 * ldap_result() read (and report) it itself */
	LDAP_SOCKBUF_FILL_ERROR = -1,
	LDAP_SOCKBUF_FILL_NONE = 0,     /* nothing to read now, or no room */
	LDAP_SOCKBUF_FILL_SOME = 1,
	LDAP_SOCKBUF_FILL_FULL = 2,     /* the buffer is full: more may wait */
};
/* One read() from the socket into the read buffer. */
enum ldap_sockbuf_fill_result ldap_sockbuf_fill(struct ldap_sockbuf *sb);
/* Whether libldap has bytes to parse without reading the socket: the
 * read buffer, or data a TLS layer above it has decrypted. */
bool ldap_sockbuf_data_ready(LDAP *ld);
/* Writes what is buffered. Returns 1 all sent, 0 the socket is full
 * (wait for EPOLLOUT and call again), -1 a write error (errno set). */
int ldap_sockbuf_flush(struct ldap_sockbuf *sb);
/* Forgets the buffer and the layer (the LDAP handle is being freed, or
 * was). */
void ldap_sockbuf_reset(struct ldap_sockbuf *sb);

#endif
