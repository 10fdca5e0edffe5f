/* db_ldap: asynchronous LDAP for the ldap passdb and userdb, on the auth
 * process's event loop (spec passwd-file-and-ldap.md B.4, B.7).
 *
 * One struct ldap_db per .conf.ext path (and equal contents): passdb and
 * userdb blocks naming the same file share it, as in Dovecot. It owns
 *  - a pool of search connections (at most LDAP_DB_SEARCH_CONNS by
 *    default), bound as the service DN (dn/dnpass, SASL, or anonymous),
 *    each with up to LDAP_DB_PIPELINE searches in flight;
 *  - a pool of bind connections (at most LDAP_DB_BIND_CONNS by default) for
 *    auth_bind user binds, one bind in flight each (RFC 4511 4.2.1), so
 *    binds never serialise searches and no service rebind is ever needed;
 *  - connections of a pool are opened as its queue needs them (one more
 *    while the queue holds more than the ones being set up will take);
 *  - on each connection, replies read in blocks and requests written once
 *    per event-loop turn (db_ldap_sockbuf.h);
 *  - one private connection per LIST iteration, read only while its
 *    consumer keeps up, so iteration streams with TCP back-pressure.
 * Requests wait in a per-kind FIFO while no connection can take them.
 *
 * Failure handling: every request has a deadline (LDAP_DB_REQUEST_TIMEOUT_MS
 * by default, below Postfix's 10 s) and ends exactly once with a result code:
 * the server's, or LDAP_TIMEOUT / LDAP_SERVER_DOWN / LDAP_LOCAL_ERROR made
 * here. A dropped connection sends its in-flight requests that have not
 * received anything back to the queue (at most LDAP_DB_MAX_ATTEMPTS sends),
 * the others end with LDAP_SERVER_DOWN. Reconnects try the next URI at once
 * (failover), then back off exponentially (LDAP_DB_BACKOFF_MIN_MS ..
 * LDAP_DB_BACKOFF_MAX_MS); while no connection of a kind is up or coming up,
 * its queued requests are failed at once instead of waiting. A request
 * that times out on a connection that has answered nothing since it was
 * sent marks that connection hung: it is closed and reopened.
 *
 * What may still block the loop (documented limits):
 *  - getaddrinfo() of a host name in the URI (use IP addresses or names in
 *    /etc/hosts for none); the TCP connect itself is non-blocking;
 *  - TLS handshakes (ldaps:// and after StartTLS) run inside libldap,
 *    bounded by LDAP_DB_CONNECT_TIMEOUT_MS;
 *  - sasl_bind = yes: the service SASL bind is synchronous (as in Dovecot),
 *    bounded by the same timeout;
 *  - reading the .conf.ext at start-up.
 * blocking = yes sends the passdb/userdb lookups to the auth worker
 * processes (authd/worker_pool.h), where this same code runs on the
 * worker's own event loop.
 *
 * Everything runs on the event loop thread; callbacks are called from the
 * loop or from inside ldap_db_submit() (when nothing can take the request). */
#ifndef PASSDB_DB_LDAP_H
#define PASSDB_DB_LDAP_H

#include "authd/event.h"
#include "passdb/db_ldap_attrs.h"
#include "passdb/db_ldap_conf.h"

#include <stdbool.h>
#include <stdint.h>

struct pool;
struct ldap_db;
struct ldap_conn;

/* Defaults, measured against slapd 2.5 on 2 CPUs (tests/bench/README.md).
 * Searches: slapd defers (queues, and logs at any loglevel) a request that
 * arrives while threads/2 of the same connection's are executing (8 with
 * its default 16 threads), and it serves many requests spread over several
 * connections with less CPU per request than the same number on one: up
 * to LDAP_DB_SEARCH_CONNS connections of LDAP_DB_PIPELINE, opened as the
 * queue needs them. Binds cannot be pipelined (RFC 4511 4.2.1): their
 * concurrency is the number of bind connections. */
#define LDAP_DB_SEARCH_CONNS 16u
#define LDAP_DB_BIND_CONNS 16u
#define LDAP_DB_CONNS_MAX 64u
#define LDAP_DB_PIPELINE 8u
#define LDAP_DB_REQUEST_TIMEOUT_MS 5000u
#define LDAP_DB_CONNECT_TIMEOUT_MS 3000u
#define LDAP_DB_ITER_IDLE_TIMEOUT_MS 30000u
#define LDAP_DB_BACKOFF_MIN_MS 100u
#define LDAP_DB_BACKOFF_MAX_MS 2000u
#define LDAP_DB_MAX_ATTEMPTS 3u
/* Attributes and values kept from one entry. */
#define LDAP_DB_ENTRY_ATTRS_MAX 256u
#define LDAP_DB_ENTRY_VALUES_MAX 1024u

enum ldap_req_kind {
	LDAP_REQ_SEARCH,    /* on a search connection */
	LDAP_REQ_BIND,      /* simple bind on a bind connection */
	LDAP_REQ_ITERATE,   /* search on a private connection, streamed */
};

struct ldap_req;
/* An entry of a search, parsed into req->pool. Return false (ITERATE
 * only) to stop reading until ldap_db_iter_resume(). */
typedef bool ldap_req_entry_fn(struct ldap_req *req, const struct ldap_entry *entry);
/* The end: result is LDAP_SUCCESS or an LDAP result code; error is a
 * short text for the log (server's diagnostic or ours), never NULL. */
typedef void ldap_req_done_fn(struct ldap_req *req, int result, const char *error);

/* Embedded in the caller's object; lives until done() was called or
 * ldap_db_cancel() returned. */
struct ldap_req {
	/* set by the caller */
	enum ldap_req_kind kind;
	const char *base, *filter;        /* search, iterate */
	int scope;                        /* LDAP_SCOPE_* */
	const char *const *attrs;         /* NULL-terminated */
	int sizelimit;                    /* 0 = none */
	const char *bind_dn;              /* bind */
	const char *bind_password;        /* bind; caller's memory */
	struct pool *pool;                /* entries are allocated here */
	unsigned int timeout_ms;          /* 0 = LDAP_DB_REQUEST_TIMEOUT_MS */
	ldap_req_entry_fn *entry;
	ldap_req_done_fn *done;
	void *ctx;
	/* the core's */
	struct ldap_db *db;
	struct ldap_conn *conn;
	struct ldap_req *prev, *next;
	int state, msgid;
	unsigned int attempts, entries;
	uint64_t sent_ms;
	struct event_timer timer;
};

/* Returns the shared db for args "[connections=N] [bind_connections=N] PATH"
 * (reading PATH; blocks), with a new reference, or NULL with *error_r
 * ("PATH:LINE: message", valid until the next call). */
struct ldap_db *ldap_db_get(const char *args, struct event_loop *loop, const char **error_r);
/* Drops a reference; the last one closes the connections (requests still
 * pending end with LDAP_SERVER_DOWN). NULLs *db. */
void ldap_db_unref(struct ldap_db **db);
const struct ldap_conf *ldap_db_conf(const struct ldap_db *db);
struct event_loop *ldap_db_loop(const struct ldap_db *db);

/* Starts req (caller fields set). done() is called exactly once, maybe
 * before this returns. */
void ldap_db_submit(struct ldap_db *db, struct ldap_req *req);
/* Forgets req without calling done() (abandons it on the server). */
void ldap_db_cancel(struct ldap_req *req);
/* ITERATE: continue reading after entry() returned false. Deferred to the
 * loop: never calls back from inside. */
void ldap_db_iter_resume(struct ldap_req *req);

/* LDAP result code -> text, for logs. */
const char *ldap_db_result_str(int result);

#endif
