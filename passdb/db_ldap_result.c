/* db_ldap_result: sending requests on a connection, reading replies,
 * parsing entries, and what happens to requests when a connection breaks
 * or a request times out. */
#include "passdb/db_ldap_private.h"
#include "authd/log.h"
#include "common/pool.h"

#include <stdio.h>
#include <sys/time.h>
#include <string.h>

#define LDAP_RESULT_ERROR_MAX 512u

/* Errors after which the connection cannot be used any more. */
static bool ldap_result_is_conn_error(int rc)
{
	switch (rc) {
	case LDAP_SERVER_DOWN:
	case LDAP_TIMEOUT:
	case LDAP_BUSY:
	case LDAP_UNAVAILABLE:
	case LDAP_LOCAL_ERROR:
	case LDAP_ENCODING_ERROR:
	case LDAP_DECODING_ERROR:
	case LDAP_CONNECT_ERROR:
	case LDAP_NO_MEMORY:
		return true;
	default:
		return false;
	}
}

int ldap_conn_send(struct ldap_conn *conn, struct ldap_req *req)
{
	int msgid = -1, rc;
	if (req->kind == LDAP_REQ_BIND) {
		const char *pw = req->bind_password != NULL ? req->bind_password : "";
		struct berval cred = { .bv_len = strlen(pw), .bv_val = (char *)pw };
		rc = ldap_sasl_bind(conn->ld, req->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
	} else {
		rc = ldap_search_ext(conn->ld, req->base, req->scope, req->filter, (char **)req->attrs,
				     0, NULL, NULL, NULL, req->sizelimit, &msgid);
	}
	req->attempts++;
	if (rc == LDAP_SUCCESS) {
		req->msgid = msgid;
		req->state = LDAP_RS_SENT;
		req->conn = conn;
		req->sent_ms = event_now_ms(conn->db->loop);
		ldap_queue_append(&conn->inflight, req);
		conn->inflight_count++;
		return 0;
	}
	if (!ldap_result_is_conn_error(rc)) {
		/* bad input (filter syntax, DN syntax): only this request */
		ldap_req_finish(req, rc, ldap_err2string(rc));
		return 0;
	}
	req->state = LDAP_RS_QUEUED;
	ldap_queue_prepend(&conn->db->queue[conn->kind], req);
	ldap_conn_fail(conn, "Connection lost to LDAP server, reconnecting");
	return -1;
}

void ldap_conn_fail(struct ldap_conn *conn, const char *error)
{
	struct ldap_db *db = conn->db;
	if (error != NULL)
		log_error("LDAP %s: %s", db->conf.path, error);
	if (conn->kind == LDAP_CONN_ITER) {
		if (conn->iter_req != NULL)
			ldap_req_finish(conn->iter_req, LDAP_SERVER_DOWN,
					error != NULL ? error : "Connection closed");
		else
			ldap_conn_close(conn);
		return;
	}
	struct ldap_queue sent = conn->inflight;
	conn->inflight = (struct ldap_queue){ NULL, NULL, 0 };
	conn->inflight_count = 0;
	ldap_conn_close(conn);
	/* Back to the queue's head in their order, unless they already got
	 * data or were sent too often. */
	struct ldap_req *req;
	while ((req = sent.tail) != NULL) {
		ldap_queue_remove(&sent, req);
		req->conn = NULL;
		req->msgid = -1;
		if (!db->closing && req->entries == 0 && req->attempts < LDAP_DB_MAX_ATTEMPTS) {
			req->state = LDAP_RS_QUEUED;
			ldap_queue_prepend(&db->queue[conn->kind], req);
		} else {
			req->state = LDAP_RS_IDLE;
			ldap_req_finish(req, LDAP_SERVER_DOWN, "Connection lost to LDAP server");
		}
	}
	ldap_db_kick(db, conn->kind);
}

void ldap_conn_req_timeout(struct ldap_conn *conn, struct ldap_req *req)
{
	bool hung = conn->last_reply_ms <= req->sent_ms;
	if (conn->ld != NULL && req->msgid >= 0)
		ldap_abandon_ext(conn->ld, req->msgid, NULL, NULL);
	ldap_queue_remove(&conn->inflight, req);
	conn->inflight_count--;
	req->state = LDAP_RS_IDLE;
	/* A bind connection with a bind outstanding cannot send the next one;
	 * a connection silent since the request was sent is hanging. */
	if (hung)
		ldap_conn_fail(conn, "LDAP connection appears to be hanging, reconnecting");
	else if (conn->kind == LDAP_CONN_BIND)
		ldap_conn_fail(conn, NULL);
}

/* --- entries --- */

static const char **ldap_result_values(struct pool *pool, LDAP *ld, LDAPMessage *msg,
				       const char *attr, size_t *count_r)
{
	struct berval **vals = ldap_get_values_len(ld, msg, attr);
	size_t n = vals != NULL ? (size_t)ldap_count_values_len(vals) : 0;
	if (n > LDAP_DB_ENTRY_VALUES_MAX)
		n = LDAP_DB_ENTRY_VALUES_MAX;
	const char **values = pool_alloc(pool, (n + 1) * sizeof(*values));
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		/* a value with a NUL byte cannot be a C string field */
		if (memchr(vals[i]->bv_val, '\0', vals[i]->bv_len) != NULL)
			continue;
		values[out++] = pool_strndup(pool, vals[i]->bv_val, vals[i]->bv_len);
	}
	ldap_value_free_len(vals);
	*count_r = out;
	return values;
}

static void ldap_result_parse_entry(struct pool *pool, LDAP *ld, LDAPMessage *msg,
				    struct ldap_entry *entry)
{
	char *dn = ldap_get_dn(ld, msg);
	entry->dn = pool_strdup(pool, dn != NULL ? dn : "");
	ldap_memfree(dn);
	struct ldap_entry_attr *attrs = pool_alloc(pool, LDAP_DB_ENTRY_ATTRS_MAX * sizeof(*attrs));
	size_t n = 0;
	BerElement *ber = NULL;
	for (char *a = ldap_first_attribute(ld, msg, &ber); a != NULL;
	     a = ldap_next_attribute(ld, msg, ber)) {
		if (n < LDAP_DB_ENTRY_ATTRS_MAX) {
			attrs[n].name = pool_strdup(pool, a);
			attrs[n].values = ldap_result_values(pool, ld, msg, a, &attrs[n].count);
			n++;
		}
		ldap_memfree(a);
	}
	ber_free(ber, 0);
	entry->attrs = attrs;
	entry->count = n;
}

static void ldap_result_entry(struct ldap_conn *conn, struct ldap_req *req, LDAPMessage *msg)
{
	struct ldap_entry entry;
	req->entries++;
	ldap_result_parse_entry(req->pool, conn->ld, msg, &entry);
	ldap_msgfree(msg);
	if (!req->entry(req, &entry) && req->kind == LDAP_REQ_ITERATE && req->conn == conn &&
	    conn->ld != NULL) {
		ldap_conn_pause(conn);
		event_timer_cancel(conn->db->loop, &req->timer);
	}
}

static struct ldap_req *ldap_result_find(struct ldap_conn *conn, int msgid)
{
	if (conn->iter_req != NULL)
		return conn->iter_req->msgid == msgid ? conn->iter_req : NULL;
	for (struct ldap_req *r = conn->inflight.head; r != NULL; r = r->next)
		if (r->msgid == msgid)
			return r;
	return NULL;
}

static void ldap_result_final(struct ldap_conn *conn, struct ldap_req *req, LDAPMessage *msg)
{
	static char error[LDAP_RESULT_ERROR_MAX];
	int code = LDAP_OTHER;
	char *diag = NULL;
	int rc = ldap_parse_result(conn->ld, msg, &code, NULL, &diag, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		code = rc;
	snprintf(error, sizeof(error), "%s%s%s", ldap_err2string(code),
		 diag != NULL && *diag != '\0' ? ": " : "", diag != NULL ? diag : "");
	ldap_memfree(diag);
	ldap_req_finish(req, code, error);
}

static void ldap_result_dispatch(struct ldap_conn *conn, LDAPMessage *msg)
{
	int msgid = ldap_msgid(msg);
	int type = ldap_msgtype(msg);
	if (msgid == conn->setup_msgid &&
	    (conn->state == LDAP_CS_STARTTLS || conn->state == LDAP_CS_BINDING)) {
		ldap_conn_setup_result(conn, msg);
		return;
	}
	struct ldap_req *req = ldap_result_find(conn, msgid);
	if (req == NULL) {
		ldap_msgfree(msg);   /* abandoned or timed out */
		return;
	}
	switch (type) {
	case LDAP_RES_SEARCH_ENTRY:
		ldap_result_entry(conn, req, msg);
		return;
	case LDAP_RES_SEARCH_RESULT:
	case LDAP_RES_BIND:
		ldap_result_final(conn, req, msg);
		return;
	default:
		ldap_msgfree(msg);   /* references, intermediate responses */
		return;
	}
}

/* Whether ldap_result() has something to work on: bytes libldap can
 * parse without touching the socket, or what one read() (while *may_read)
 * brings; an end of stream or error counts too (ldap_result() reports
 * it). So a drain costs one read() per block of replies and no poll(). */
static bool ldap_conn_have_input(struct ldap_conn *conn, bool *may_read)
{
	if (ldap_sockbuf_data_ready(conn->ld))
		return true;
	if (!*may_read)
		return false;
	enum ldap_sockbuf_fill_result ret = ldap_sockbuf_fill(&conn->sockbuf);
	*may_read = ret == LDAP_SOCKBUF_FILL_FULL;
	return ret != LDAP_SOCKBUF_FILL_NONE;
}

void ldap_conn_drain(struct ldap_conn *conn)
{
	unsigned int generation = conn->generation;
	struct timeval zero = { 0, 0 };
	bool may_read = true;
	while (conn->generation == generation && conn->ld != NULL && !conn->paused &&
	       ldap_conn_have_input(conn, &may_read)) {
		LDAPMessage *msg = NULL;
		int rc = ldap_result(conn->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
		if (rc == 0)
			break;
		if (rc < 0) {
			if (conn->state == LDAP_CS_READY)
				ldap_conn_fail(conn, "Connection lost to LDAP server, reconnecting");
			else
				ldap_conn_setup_error(conn, "Connection lost to LDAP server during setup");
			break;
		}
		conn->last_reply_ms = event_now_ms(conn->db->loop);
		if (conn->iter_req != NULL)
			event_timer_add(conn->db->loop, &conn->iter_req->timer,
					LDAP_DB_ITER_IDLE_TIMEOUT_MS);
		ldap_result_dispatch(conn, msg);
	}
	/* more requests may fit now */
	if (conn->generation == generation && conn->kind != LDAP_CONN_ITER &&
	    ldap_conn_can_send(conn))
		ldap_db_kick(conn->db, conn->kind);
}
