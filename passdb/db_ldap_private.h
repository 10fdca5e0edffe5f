/* db_ldap_private: what db_ldap.c (registry, queues, request lifecycle) and
 * db_ldap_conn.c (one connection's state machine) share. */
#ifndef PASSDB_DB_LDAP_PRIVATE_H
#define PASSDB_DB_LDAP_PRIVATE_H

#include "passdb/db_ldap.h"
#include "passdb/db_ldap_sockbuf.h"

#include <ldap.h>
#include <openldap.h>

enum ldap_req_state { LDAP_RS_IDLE, LDAP_RS_QUEUED, LDAP_RS_SENT };

enum ldap_conn_kind { LDAP_CONN_SEARCH, LDAP_CONN_BIND, LDAP_CONN_ITER };

enum ldap_conn_state {
	LDAP_CS_DOWN,        /* closed; connects on demand */
	LDAP_CS_BACKOFF,     /* closed; timer before the next attempt */
	LDAP_CS_CONNECTING,  /* non-blocking connect() in progress */
	LDAP_CS_STARTTLS,    /* StartTLS extended operation sent */
	LDAP_CS_BINDING,     /* service bind sent */
	LDAP_CS_READY,
};

struct ldap_queue {
	struct ldap_req *head, *tail;
	unsigned int count;
};

struct ldap_conn {
	struct ldap_db *db;
	enum ldap_conn_kind kind;
	enum ldap_conn_state state;
	LDAP *ld;
	int fd;                      /* ours until ldap_init_fd() took it */
	struct event_io io;
	bool io_added, paused;
	struct event_timer timer;    /* setup timeout or backoff */
	size_t uri_index, uris_tried;
	unsigned int failures;       /* consecutive failed setups */
	int setup_msgid;
	struct ldap_queue inflight;  /* requests sent on this connection */
	unsigned int inflight_count;
	uint64_t last_reply_ms;
	unsigned int generation;     /* bumped on every close */
	struct ldap_req *iter_req;   /* ITER: its one request */
	struct ldap_conn *dead_next; /* ITER: waiting to be freed */
	int proto;                   /* LDAP_PROTO_TCP / LDAP_PROTO_IPC */
	struct ldap_sockbuf sockbuf; /* buffered reads, batched writes (READY) */
};

struct ldap_db {
	struct ldap_db *next;        /* registry */
	unsigned int refcount;
	struct pool *pool;
	struct ldap_conf conf;
	struct event_loop *loop;
	struct ldap_conn *conns[2];  /* [LDAP_CONN_SEARCH], [LDAP_CONN_BIND] */
	unsigned int conn_count[2];
	struct ldap_queue queue[2];
	unsigned int busy;           /* nested calls into this module */
	struct ldap_conn *dead;      /* closed ITER connections to free */
	struct event_timer flush_timer;   /* 0 ms: sends batched writes */
	bool closing;
};

/* db_ldap.c */
void ldap_queue_append(struct ldap_queue *q, struct ldap_req *req);
void ldap_queue_prepend(struct ldap_queue *q, struct ldap_req *req);
void ldap_queue_remove(struct ldap_queue *q, struct ldap_req *req);
/* Ends req (must be IDLE/unlinked by the caller? no: unlinks it). */
void ldap_req_finish(struct ldap_req *req, int result, const char *error);
/* Sends queued requests of kind to connections that can take them, and
 * opens as many more connections as the rest of the queue would fill. */
void ldap_db_kick(struct ldap_db *db, enum ldap_conn_kind kind);
/* A connection of kind failed to come up: fails the queue when nothing
 * else of that kind is up or coming up. */
void ldap_db_conn_failed(struct ldap_db *db, enum ldap_conn_kind kind, const char *error);
void ldap_db_enter(struct ldap_db *db);
void ldap_db_leave(struct ldap_db *db);
/* Schedules the flush of batched writes for the end of this loop turn. */
void ldap_db_flush_later(struct ldap_db *db);

/* db_ldap_conn.c */
void ldap_conn_init(struct ldap_conn *conn, struct ldap_db *db, enum ldap_conn_kind kind);
/* Starts connecting (DOWN/BACKOFF -> CONNECTING or further). */
void ldap_conn_connect(struct ldap_conn *conn);
/* Whether conn can take a request of its kind now. */
bool ldap_conn_can_send(const struct ldap_conn *conn);
/* Sends req on conn (READY). Returns 0, or -1 when the connection broke
 * (conn closed, req requeued or finished). */
int ldap_conn_send(struct ldap_conn *conn, struct ldap_req *req);
/* Closes the connection; in-flight requests are requeued or failed. */
void ldap_conn_fail(struct ldap_conn *conn, const char *error);
/* Closes without touching requests (they must be gone). */
void ldap_conn_close(struct ldap_conn *conn);
/* A sent request timed out: abandon it, maybe declare conn hung. */
void ldap_conn_req_timeout(struct ldap_conn *conn, struct ldap_req *req);
void ldap_conn_iter_resume(struct ldap_conn *conn);
/* The connection broke before it was READY: next URI or back off. */
void ldap_conn_setup_error(struct ldap_conn *conn, const char *error);
/* Sends conn's batched writes (on EPOLLOUT again if the socket is full);
 * a write error fails the connection. */
void ldap_conn_flush(struct ldap_conn *conn);
/* ITER: stop reading until ldap_conn_iter_resume(). */
void ldap_conn_pause(struct ldap_conn *conn);
/* A reply to the StartTLS or service bind of the setup (msg is freed). */
void ldap_conn_setup_result(struct ldap_conn *conn, LDAPMessage *msg);

/* db_ldap_result.c */
/* Reads and dispatches every reply libldap has for conn. */
void ldap_conn_drain(struct ldap_conn *conn);
bool ldap_conn_alive(const struct ldap_conn *conn);

#endif
