/* db_ldap: the registry of shared LDAP databases, request queues, deadlines
 * and dispatch to connections (see db_ldap.h). */
#include "passdb/db_ldap_private.h"
#include "authd/log.h"
#include "common/pool.h"
#include "common/strnum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LDAP_DB_ERROR_MAX 1024u

static struct ldap_db *ldap_registry;
static char ldap_db_errbuf[LDAP_DB_ERROR_MAX];

/* --- queues --- */

void ldap_queue_append(struct ldap_queue *q, struct ldap_req *req)
{
	req->next = NULL;
	req->prev = q->tail;
	if (q->tail != NULL)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
	q->count++;
}

void ldap_queue_prepend(struct ldap_queue *q, struct ldap_req *req)
{
	req->prev = NULL;
	req->next = q->head;
	if (q->head != NULL)
		q->head->prev = req;
	else
		q->tail = req;
	q->head = req;
	q->count++;
}

void ldap_queue_remove(struct ldap_queue *q, struct ldap_req *req)
{
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		q->head = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	else
		q->tail = req->prev;
	req->prev = req->next = NULL;
	q->count--;
}

static enum ldap_conn_kind ldap_req_conn_kind(const struct ldap_req *req)
{
	return req->kind == LDAP_REQ_BIND ? LDAP_CONN_BIND : LDAP_CONN_SEARCH;
}

/* --- request lifecycle --- */

static void ldap_req_unlink(struct ldap_req *req)
{
	struct ldap_db *db = req->db;
	if (req->state == LDAP_RS_QUEUED) {
		ldap_queue_remove(&db->queue[ldap_req_conn_kind(req)], req);
	} else if (req->state == LDAP_RS_SENT && req->kind != LDAP_REQ_ITERATE) {
		ldap_queue_remove(&req->conn->inflight, req);
		req->conn->inflight_count--;
	}
	req->state = LDAP_RS_IDLE;
	event_timer_cancel(db->loop, &req->timer);
}

/* Closes the private connection of an iteration; it is freed when the
 * outermost call into this module returns (a drain loop may still hold it). */
static void ldap_req_iter_free(struct ldap_req *req)
{
	struct ldap_conn *conn = req->conn;
	if (req->kind != LDAP_REQ_ITERATE || conn == NULL)
		return;
	conn->iter_req = NULL;
	ldap_conn_close(conn);
	conn->dead_next = req->db->dead;
	req->db->dead = conn;
	req->conn = NULL;
}

void ldap_req_finish(struct ldap_req *req, int result, const char *error)
{
	struct ldap_db *db = req->db;
	ldap_req_unlink(req);
	ldap_req_iter_free(req);
	req->conn = NULL;
	ldap_db_enter(db);
	req->done(req, result, error != NULL ? error : ldap_db_result_str(result));
	ldap_db_leave(db);
}

static void ldap_req_timeout(struct event_timer *timer)
{
	struct ldap_req *req = timer->ctx;
	struct ldap_db *db = req->db;
	const char *error = req->state == LDAP_RS_QUEUED ?
		"Timed out waiting for an LDAP connection" : "LDAP request timed out";
	ldap_db_enter(db);
	if (req->state == LDAP_RS_SENT && req->kind != LDAP_REQ_ITERATE)
		ldap_conn_req_timeout(req->conn, req);   /* unlinks req */
	ldap_req_finish(req, LDAP_TIMEOUT, error);
	ldap_db_leave(db);
}

void ldap_db_submit(struct ldap_db *db, struct ldap_req *req)
{
	req->db = db;
	req->conn = NULL;
	req->attempts = req->entries = 0;
	req->msgid = -1;
	req->timer = (struct event_timer){ .fn = ldap_req_timeout, .ctx = req };
	ldap_db_enter(db);
	if (req->kind == LDAP_REQ_ITERATE) {
		struct ldap_conn *conn = calloc(1, sizeof(*conn));
		if (conn == NULL) {
			req->state = LDAP_RS_IDLE;
			ldap_req_finish(req, LDAP_NO_MEMORY, "Out of memory");
			ldap_db_leave(db);
			return;
		}
		ldap_conn_init(conn, db, LDAP_CONN_ITER);
		conn->iter_req = req;
		req->conn = conn;
		req->state = LDAP_RS_SENT;
		event_timer_add(db->loop, &req->timer, LDAP_DB_ITER_IDLE_TIMEOUT_MS);
		ldap_conn_connect(conn);
		ldap_db_leave(db);
		return;
	}
	event_timer_add(db->loop, &req->timer,
			req->timeout_ms != 0 ? req->timeout_ms : LDAP_DB_REQUEST_TIMEOUT_MS);
	req->state = LDAP_RS_QUEUED;
	ldap_queue_append(&db->queue[ldap_req_conn_kind(req)], req);
	ldap_db_kick(db, ldap_req_conn_kind(req));
	ldap_db_leave(db);
}

void ldap_db_cancel(struct ldap_req *req)
{
	struct ldap_db *db = req->db;
	if (db == NULL)
		return;
	ldap_db_enter(db);
	if (req->state == LDAP_RS_SENT && req->conn != NULL && req->conn->ld != NULL &&
	    req->msgid >= 0)
		ldap_abandon_ext(req->conn->ld, req->msgid, NULL, NULL);
	if (req->state != LDAP_RS_IDLE)
		ldap_req_unlink(req);
	ldap_req_iter_free(req);
	req->db = NULL;
	ldap_db_leave(db);
}

void ldap_db_iter_resume(struct ldap_req *req)
{
	if (req->kind == LDAP_REQ_ITERATE && req->conn != NULL)
		ldap_conn_iter_resume(req->conn);
}

/* --- dispatch --- */

/* Opens DOWN connections of kind while the queue holds more than the
 * connections being set up (coming) will take. */
static void ldap_db_open_more(struct ldap_db *db, enum ldap_conn_kind kind, unsigned int coming)
{
	struct ldap_queue *q = &db->queue[kind];
	unsigned int per_conn = kind == LDAP_CONN_BIND ? 1 : LDAP_DB_PIPELINE;
	for (unsigned int i = 0; i < db->conn_count[kind] && q->head != NULL; i++) {
		struct ldap_conn *conn = &db->conns[kind][i];
		if (conn->state != LDAP_CS_DOWN)
			continue;
		if ((uint64_t)coming * per_conn >= q->count)
			return;
		coming++;
		ldap_conn_connect(conn);   /* may become READY and kick at once */
	}
}

void ldap_db_kick(struct ldap_db *db, enum ldap_conn_kind kind)
{
	if (db->closing)
		return;
	struct ldap_queue *q = &db->queue[kind];
	unsigned int coming = 0;
	for (unsigned int i = 0; i < db->conn_count[kind] && q->head != NULL; i++) {
		struct ldap_conn *conn = &db->conns[kind][i];
		if (conn->state != LDAP_CS_READY) {
			coming += ldap_conn_alive(conn) ? 1u : 0u;
			continue;
		}
		while (q->head != NULL && ldap_conn_can_send(conn)) {
			struct ldap_req *req = q->head;
			ldap_queue_remove(q, req);
			req->state = LDAP_RS_IDLE;
			if (ldap_conn_send(conn, req) < 0)
				break;
		}
	}
	/* connections are opened as the load needs them */
	if (q->head != NULL)
		ldap_db_open_more(db, kind, coming);
}

/* The batched writes of every search and bind connection, at the end of
 * the loop turn that produced them: one write() per connection per turn. */
static void ldap_db_flush(struct event_timer *timer)
{
	struct ldap_db *db = timer->ctx;
	ldap_db_enter(db);
	for (int k = 0; k < 2; k++) {
		for (unsigned int i = 0; i < db->conn_count[k]; i++) {
			struct ldap_conn *conn = &db->conns[k][i];
			if (ldap_sockbuf_has_pending(&conn->sockbuf))
				ldap_conn_flush(conn);
		}
	}
	ldap_db_leave(db);
}

void ldap_db_flush_later(struct ldap_db *db)
{
	if (!event_timer_pending(&db->flush_timer) && !db->closing)
		event_timer_add(db->loop, &db->flush_timer, 0);
}

void ldap_db_conn_failed(struct ldap_db *db, enum ldap_conn_kind kind, const char *error)
{
	for (unsigned int i = 0; i < db->conn_count[kind]; i++)
		if (ldap_conn_alive(&db->conns[kind][i]))
			return;
	/* Nothing of this kind can serve: answer now instead of at the deadline. */
	struct ldap_req *req;
	while ((req = db->queue[kind].head) != NULL)
		ldap_req_finish(req, LDAP_SERVER_DOWN, error);
}

/* --- registry --- */

void ldap_db_enter(struct ldap_db *db)
{
	db->busy++;
}

static void ldap_db_free_dead(struct ldap_db *db)
{
	struct ldap_conn *conn;
	while ((conn = db->dead) != NULL) {
		db->dead = conn->dead_next;
		free(conn);
	}
}

static void ldap_db_free(struct ldap_db *db)
{
	db->closing = true;
	event_timer_cancel(db->loop, &db->flush_timer);
	for (int k = 0; k < 2; k++) {
		struct ldap_req *req;
		while ((req = db->queue[k].head) != NULL)
			ldap_req_finish(req, LDAP_SERVER_DOWN, "LDAP database is being closed");
		for (unsigned int i = 0; i < db->conn_count[k]; i++)
			ldap_conn_fail(&db->conns[k][i], NULL);
		free(db->conns[k]);
	}
	ldap_db_free_dead(db);
	struct pool *pool = db->pool;
	pool_destroy(&pool);
	free(db);
}

void ldap_db_leave(struct ldap_db *db)
{
	if (--db->busy > 0)
		return;
	ldap_db_free_dead(db);
	if (db->refcount == 0) {
		db->busy = 1;
		ldap_db_free(db);
	}
}

void ldap_db_unref(struct ldap_db **dbp)
{
	struct ldap_db *db = *dbp;
	*dbp = NULL;
	if (db == NULL || --db->refcount > 0)
		return;
	for (struct ldap_db **p = &ldap_registry; *p != NULL; p = &(*p)->next) {
		if (*p == db) {
			*p = db->next;
			break;
		}
	}
	if (db->busy == 0) {
		db->busy++;   /* callbacks during the close must not free it again */
		ldap_db_free(db);
	}
}

const struct ldap_conf *ldap_db_conf(const struct ldap_db *db)
{
	return &db->conf;
}

struct event_loop *ldap_db_loop(const struct ldap_db *db)
{
	return db->loop;
}

static void ldap_conf_log_warning(void *ctx, const char *path, unsigned int line, const char *msg)
{
	(void)ctx;
	log_warning("%s:%u: %s", path, line, msg);
}

/* "[connections=N] [bind_connections=N] PATH". Returns 0 or -1. */
static int ldap_db_parse_args(const char *args, unsigned int counts[2], char *path,
			      size_t path_size)
{
	counts[LDAP_CONN_SEARCH] = LDAP_DB_SEARCH_CONNS;
	counts[LDAP_CONN_BIND] = LDAP_DB_BIND_CONNS;
	path[0] = '\0';
	for (const char *p = args; *p != '\0';) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == 0)
			break;
		static const char *const keys[2] = { "connections=", "bind_connections=" };
		bool matched = false;
		for (int k = 0; k < 2; k++) {
			size_t kl = strlen(keys[k]);
			uint32_t v;
			if (n > kl && strncmp(p, keys[k], kl) == 0) {
				if (!str_to_uint32((const uint8_t *)p + kl, n - kl, &v) || v == 0 ||
				    v > LDAP_DB_CONNS_MAX)
					return -1;
				counts[k] = v;
				matched = true;
			}
		}
		if (!matched) {
			if (path[0] != '\0' || n >= path_size)
				return -1;
			memcpy(path, p, n);
			path[n] = '\0';
		}
		p += n;
	}
	return path[0] != '\0' ? 0 : -1;
}

static struct ldap_db *ldap_db_create(const char *path, const unsigned int counts[2],
				      struct event_loop *loop, const char **error_r)
{
	struct pool *pool = pool_create(0);
	struct ldap_db *db = calloc(1, sizeof(*db));
	if (db == NULL) {
		pool_destroy(&pool);
		*error_r = "Out of memory";
		return NULL;
	}
	db->pool = pool;
	db->loop = loop;
	db->refcount = 1;
	db->flush_timer = (struct event_timer){ .fn = ldap_db_flush, .ctx = db };
	const char *error = NULL;
	if (ldap_conf_read(pool, path, ldap_conf_log_warning, NULL, &db->conf, &error) < 0) {
		snprintf(ldap_db_errbuf, sizeof(ldap_db_errbuf), "%s", error);
		*error_r = ldap_db_errbuf;
		pool_destroy(&pool);
		free(db);
		return NULL;
	}
	if (db->conf.ldaprc_path != NULL && *db->conf.ldaprc_path != '\0')
		setenv("LDAPRC", db->conf.ldaprc_path, 1);
	if (db->conf.debug_level > 0) {
		int level = (int)db->conf.debug_level;
		ldap_set_option(NULL, LDAP_OPT_DEBUG_LEVEL, &level);
	}
	for (int k = 0; k < 2; k++) {
		db->conn_count[k] = counts[k];
		db->conns[k] = calloc(counts[k], sizeof(struct ldap_conn));
		for (unsigned int i = 0; db->conns[k] != NULL && i < counts[k]; i++)
			ldap_conn_init(&db->conns[k][i], db, (enum ldap_conn_kind)k);
	}
	if (db->conns[0] == NULL || db->conns[1] == NULL) {
		db->refcount = 0;
		db->busy = 1;
		ldap_db_free(db);
		*error_r = "Out of memory";
		return NULL;
	}
	return db;
}

struct ldap_db *ldap_db_get(const char *args, struct event_loop *loop, const char **error_r)
{
	unsigned int counts[2];
	char path[4096];
	if (ldap_db_parse_args(args, counts, path, sizeof(path)) < 0) {
		snprintf(ldap_db_errbuf, sizeof(ldap_db_errbuf),
			 "Invalid args '%s' (want: [connections=N] [bind_connections=N] PATH)", args);
		*error_r = ldap_db_errbuf;
		return NULL;
	}
	struct ldap_db *db = ldap_db_create(path, counts, loop, error_r);
	if (db == NULL)
		return NULL;
	/* Share an open db of the same file and contents (a reload that
	 * changed the file gets its own connections). */
	for (struct ldap_db *old = ldap_registry; old != NULL; old = old->next) {
		if (old->loop == loop && strcmp(old->conf.path, db->conf.path) == 0 &&
		    ldap_conf_equal(&old->conf, &db->conf)) {
			ldap_db_unref(&db);
			old->refcount++;
			return old;
		}
	}
	db->next = ldap_registry;
	ldap_registry = db;
	return db;
}

const char *ldap_db_result_str(int result)
{
	const char *s = ldap_err2string(result);
	return s != NULL ? s : "unknown LDAP error";
}
