#include "authd/proto_client.h"
#include "authd/auth.h"
#include "authd/conn.h"
#include "authd/log.h"
#include "authd/proto_fields.h"
#include "authd/reply.h"
#include "authd/request.h"
#include "common/base64.h"
#include "common/pool.h"
#include "common/secret.h"
#include "common/strnum.h"
#include "common/tabescape.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROTO_CLIENT_COOKIE_LEN 16

enum client_state {
	CLIENT_STATE_VERSION,   /* expecting VERSION */
	CLIENT_STATE_CPID,      /* expecting CPID */
	CLIENT_STATE_READY,
};

struct client_conn {
	struct conn conn;
	struct auth *auth;
	enum listener_type type;
	enum client_state state;
	unsigned int refcount;     /* the connection itself + each request */
	unsigned int minor;
	uint32_t pid;              /* CPID on login sockets, else 0 */
	uint32_t cuid;
	uint8_t cookie[PROTO_CLIENT_COOKIE_LEN];
	struct auth_request *requests;   /* the id table: pending + login-finished */
	size_t request_count;
	struct client_conn *next, *prev; /* all client connections */
	struct event_defer free_defer;
};

static struct client_conn *client_conns;

static void proto_client_unref(struct client_conn *client);

/* --- the id table --- */

static struct auth_request *client_find_request(struct client_conn *client, uint32_t id)
{
	for (struct auth_request *r = client->requests; r != NULL; r = r->conn_next)
		if (r->id == id)
			return r;
	return NULL;
}

static void client_add_request(struct client_conn *client, struct auth_request *req)
{
	req->conn_next = client->requests;
	client->requests = req;
	client->request_count++;
}

/* Unlinks req from the table. Returns true if it was there; the table's
 * reference then belongs to the caller. */
static bool client_remove_request(struct client_conn *client, struct auth_request *req)
{
	for (struct auth_request **p = &client->requests; *p != NULL; p = &(*p)->conn_next) {
		if (*p == req) {
			*p = req->conn_next;
			req->conn_next = NULL;
			client->request_count--;
			return true;
		}
	}
	return false;
}

/* --- output --- */

static void client_write(struct client_conn *client, const struct buf *line)
{
	if (!client->conn.closed)
		conn_write(&client->conn, line->data, line->len);
}

static void client_reply_simple_fail(struct client_conn *client, uint32_t id, const char *extra)
{
	struct buf *line = conn_reply_buf();
	buf_printf(line, "FAIL\t%u\t%s\n", id, extra);
	client_write(client, line);
}

void proto_client_send_continue(struct auth_request *req, const uint8_t *data, size_t len)
{
	struct buf *line = conn_reply_buf();
	proto_append_cmd_id(line, "CONT", req->id);
	buf_append_byte(line, '\t');
	base64_encode(line, data, len);
	buf_append_byte(line, '\n');
	client_write(req->client, line);
}

static void proto_client_write_final(struct auth_request *req, const uint8_t *final,
				     size_t len)
{
	struct buf *line = conn_reply_buf();
	if (req->outcome == AUTH_OUTCOME_OK)
		auth_reply_format_ok(line, req, final, len);
	else
		auth_reply_format_fail(line, req);
	client_write(req->client, line);
}

static void proto_client_delay_fired(struct event_timer *timer)
{
	struct auth_request *req = timer->ctx;
	proto_client_write_final(req, NULL, 0);
	auth_request_unref(&req);   /* the reference the delay held */
}

/* authd deliberately refuses a login the passdb marked nologin/proxy when
 * the client announced it cannot honour those flags (Postfix and Exim send
 * `nologin` and ignore the answer's flags, and would otherwise let the
 * user relay). Dovecot answers OK here. */
static bool proto_client_refuse_nologin(struct auth_request *req)
{
	if (!req->client_nologin ||
	    (!fields_has(&req->extra, "nologin") && !fields_has(&req->extra, "proxy")))
		return false;
	auth_request_log(req, LOG_LEVEL_INFO, NULL,
			 "Login refused: passdb set nologin/proxy for a client that can't honour it");
	fields_remove(&req->extra, "proxy");
	fields_remove(&req->extra, "host");
	fields_remove(&req->extra, "port");
	fields_remove(&req->extra, "destuser");
	fields_remove(&req->extra, "pass");
	req->outcome = AUTH_OUTCOME_FAIL;
	return true;
}

static void proto_client_login_expired(struct event_timer *timer)
{
	struct auth_request *req = timer->ctx;
	if (client_remove_request(req->client, req))
		auth_request_unref(&req);
}

static bool proto_client_keep_for_master(const struct auth_request *req)
{
	return req->client->type == LISTENER_LOGIN && req->outcome == AUTH_OUTCOME_OK &&
	       !fields_has(&req->extra, "nologin") && !fields_has(&req->extra, "proxy");
}

void proto_client_auth_finished(struct auth_request *req, const uint8_t *final, size_t len)
{
	struct client_conn *client = req->client;
	bool refused = req->outcome == AUTH_OUTCOME_OK && proto_client_refuse_nologin(req);
	bool in_table = client_remove_request(client, req);
	if (req->outcome == AUTH_OUTCOME_OK && proto_client_keep_for_master(req)) {
		/* Login sockets: the master fetches it with REQUEST. */
		proto_client_write_final(req, final, len);
		if (in_table && !client->conn.closed) {
			client_add_request(client, req);
			req->timer.fn = proto_client_login_expired;
			event_timer_add(client->auth->loop, &req->timer, AUTH_REQUEST_ABORT_MS);
		} else if (in_table) {
			auth_request_unref(&req);
		}
		return;
	}
	if (!in_table)
		auth_request_ref(req);
	uint64_t delay = client->auth->failure_delay_ms;
	if (req->outcome == AUTH_OUTCOME_OK || refused || delay == 0 ||
	    fields_has(&req->extra, "nodelay")) {
		proto_client_write_final(req, final, len);
		auth_request_unref(&req);
		return;
	}
	/* Delay counted from when the client's last message arrived, so an
	 * unknown user and a slow hash mismatch answer at the same time. */
	uint64_t now = event_now_ms(client->auth->loop);
	uint64_t due = req->started_ms + delay;
	req->timer.fn = proto_client_delay_fired;
	event_timer_add(client->auth->loop, &req->timer, due > now ? due - now : 0);
}

void proto_client_request_abort(struct auth_request *req)
{
	if (client_remove_request(req->client, req))
		auth_request_unref(&req);
}

/* --- input --- */

static int proto_client_version(struct client_conn *client, uint8_t **f, size_t *l, size_t n)
{
	uint32_t major, minor;
	if (n != 3 || !proto_field_is(f[0], l[0], "VERSION") || !str_to_uint32(f[1], l[1], &major) ||
	    !str_to_uint32(f[2], l[2], &minor) || major != 1) {
		log_error("Authentication client not compatible with this server "
			  "(mixed old and new binaries?)");
		return -1;
	}
	client->minor = minor;
	client->state = CLIENT_STATE_CPID;
	return 0;
}

static bool proto_client_pid_in_use(const struct client_conn *self, uint32_t pid)
{
	for (const struct client_conn *c = client_conns; c != NULL; c = c->next)
		if (c != self && !c->conn.closed && c->type == LISTENER_LOGIN && c->pid == pid)
			return true;
	return false;
}

static int proto_client_cpid(struct client_conn *client, uint8_t **f, size_t *l, size_t n)
{
	uint32_t pid;
	if (n != 2 || !proto_field_is(f[0], l[0], "CPID") || !str_to_uint32(f[1], l[1], &pid) || pid == 0) {
		log_error("BUG: Authentication client said it's PID 0 or sent a bad CPID");
		return -1;
	}
	if (client->type == LISTENER_LOGIN) {
		if (proto_client_pid_in_use(client, pid)) {
			log_error("Authentication client gave a PID %u of existing connection", pid);
			return -1;
		}
		client->pid = pid;
	}
	client->state = CLIENT_STATE_READY;
	return 0;
}

/* Decodes the initial response per spec 2.5. Returns 1 ok, 0 bad base64. */
static int proto_client_initial(struct client_conn *client, const uint8_t *resp, size_t len,
				bool have_resp, struct buf *out, bool *absent_r)
{
	*absent_r = !have_resp || (len == 0 && client->minor < 2);
	if (*absent_r)
		return 1;
	if (len == 1 && resp[0] == '=')
		return 1;   /* "resp==": present, empty */
	return base64_decode(out, resp, len) > 0;
}

struct auth_params {
	const struct mech *mech;
	uint32_t id;
	const uint8_t *resp;
	size_t resp_len;
	bool have_resp, have_service;
};

/* Validates AUTH's fixed part and parameters. Returns 0, or -1 = close. */
static int proto_client_parse_auth(struct client_conn *client, uint8_t **f, size_t *l,
				   size_t n, struct auth_params *p)
{
	memset(p, 0, sizeof(*p));
	if (n < 3 || !str_to_uint32(f[1], l[1], &p->id) || p->id == 0) {
		log_error("BUG: Authentication client sent broken AUTH request");
		return -1;
	}
	p->mech = auth_find_mech(client->auth, f[2], l[2]);
	if (p->mech == NULL) {
		log_info("auth client: Unsupported authentication mechanism requested");
		return -1;
	}
	for (size_t i = 3; i < n; i++) {
		if (p->have_resp) {
			log_error("BUG: Authentication client sent AUTH parameters after 'resp'");
			return -1;
		}
		if (l[i] >= 5 && memcmp(f[i], "resp=", 5) == 0) {
			p->have_resp = true;
			p->resp = f[i] + 5;
			p->resp_len = l[i] - 5;
		} else if ((l[i] >= 8 && memcmp(f[i], "service=", 8) == 0) ||
			   (l[i] >= 9 && memcmp(f[i], "protocol=", 9) == 0)) {
			p->have_service = true;
		}
	}
	if (!p->have_service) {
		log_error("BUG: Authentication client didn't specify service in request");
		return -1;
	}
	if (client_find_request(client, p->id) != NULL) {
		log_error("BUG: Authentication client sent a duplicate ID %u", p->id);
		return -1;
	}
	return 0;
}

/* Immediate FAILs of spec 2.4 step 6 (client certificates). */
static bool proto_client_cert_check(struct client_conn *client, struct auth_request *req)
{
	const struct auth_settings *set = client->auth->set;
	if (set->auth_ssl_require_client_cert && !req->valid_client_cert) {
		client_reply_simple_fail(client, req->id,
					 "reason=Client didn't present valid SSL certificate");
		return false;
	}
	if (set->auth_ssl_require_client_cert && set->auth_ssl_username_from_cert &&
	    (req->cert_username == NULL || *req->cert_username == '\0')) {
		client_reply_simple_fail(client, req->id,
					 "reason=SSL certificate didn't contain username");
		return false;
	}
	return true;
}

static int proto_client_auth(struct client_conn *client, uint8_t **f, size_t *l, size_t n)
{
	struct auth_params p;
	if (proto_client_parse_auth(client, f, l, n, &p) < 0)
		return -1;
	if (client->request_count >= PROTO_CLIENT_MAX_PENDING) {
		log_error("Client has too many requests in progress");
		return -1;
	}
	struct auth_request *req = auth_request_new(client->auth, AUTH_REQUEST_AUTH, p.id);
	req->client = client;
	client->refcount++;
	req->client_pid = client->pid;
	req->mech = p.mech;
	(void)auth_request_set_param_fields(req, f, l, 3, n);
	if (!proto_client_cert_check(client, req)) {
		auth_request_unref(&req);
		return 0;
	}
	struct buf initial = BUF_INIT(PROTO_CLIENT_MAX_LINE);
	bool absent;
	if (proto_client_initial(client, p.resp, p.resp_len, p.have_resp, &initial, &absent) <= 0) {
		client_reply_simple_fail(client, p.id,
			"code=invalid_base64\treason=Invalid base64 data in initial response");
		auth_request_unref(&req);
	} else {
		client_add_request(client, req);
		auth_request_mech_start(req, initial.data, initial.len, absent);
	}
	buf_free(&initial);
	return 0;
}

static int proto_client_cont(struct client_conn *client, uint8_t *line, size_t len)
{
	/* CONT\t<id>\t<data>: the data part is not tab-unescaped. */
	uint8_t *id_start = line + 5;
	uint8_t *tab = memchr(id_start, '\t', len - 5);
	uint32_t id;
	if (tab == NULL || !str_to_uint32(id_start, (size_t)(tab - id_start), &id)) {
		log_error("BUG: Authentication client sent broken CONT request");
		return -1;
	}
	const uint8_t *data = tab + 1;
	size_t data_len = len - (size_t)(data - line);
	struct auth_request *req = client_find_request(client, id);
	if (req == NULL || req->state == AUTH_REQUEST_STATE_FINISHED) {
		client_reply_simple_fail(client, id, "reason=Authentication request timed out");
		return 0;
	}
	if (req->state == AUTH_REQUEST_STATE_FINAL_WAIT) {
		auth_request_mech_final_continue(req);
		return 0;
	}
	if (req->state != AUTH_REQUEST_STATE_MECH_WAIT) {
		client_remove_request(client, req);
		client_reply_simple_fail(client, id, "reason=Unexpected continuation");
		auth_request_unref(&req);
		return 0;
	}
	struct buf decoded = BUF_INIT(PROTO_CLIENT_MAX_LINE);
	if (base64_decode(&decoded, data, data_len) <= 0) {
		client_remove_request(client, req);
		client_reply_simple_fail(client, id,
			"code=invalid_base64\treason=Invalid base64 data in continued response");
		auth_request_unref(&req);
	} else {
		auth_request_mech_continue(req, decoded.data, decoded.len);
	}
	buf_free(&decoded);
	return 0;
}

static int proto_client_cancel(struct client_conn *client, uint8_t **f, size_t *l, size_t n)
{
	uint32_t id;
	if (n < 2 || !str_to_uint32(f[1], l[1], &id)) {
		log_error("BUG: Authentication client sent broken CANCEL request");
		return -1;
	}
	struct auth_request *req = client_find_request(client, id);
	/* Only a request waiting for client input is silenced; one in a
	 * lookup still answers (spec 2.7). */
	if (req != NULL && req->state == AUTH_REQUEST_STATE_MECH_WAIT) {
		client_remove_request(client, req);
		event_timer_cancel(client->auth->loop, &req->timer);
		auth_request_unref(&req);
	} else if (req != NULL && (req->state == AUTH_REQUEST_STATE_BUSY ||
				   req->state == AUTH_REQUEST_STATE_PENALTY)) {
		/* The id becomes reusable at once; the reply still comes. */
		client_remove_request(client, req);
		req->conn_next = NULL;
		auth_request_unref(&req);
	}
	return 0;
}

static int proto_client_line(struct conn *conn, uint8_t *line, size_t len)
{
	struct client_conn *client = conn->ctx;
	uint8_t *f[PROTO_CLIENT_MAX_FIELDS];
	size_t l[PROTO_CLIENT_MAX_FIELDS];
	if (client->state == CLIENT_STATE_READY && len >= 5 && memcmp(line, "CONT\t", 5) == 0)
		return proto_client_cont(client, line, len);
	size_t n = proto_split(line, len, f, l, PROTO_CLIENT_MAX_FIELDS, true);
	if (n == 0 || len == 0) {
		log_error("BUG: Authentication client sent an empty line or too many fields");
		return -1;
	}
	switch (client->state) {
	case CLIENT_STATE_VERSION:
		return proto_client_version(client, f, l, n);
	case CLIENT_STATE_CPID:
		return proto_client_cpid(client, f, l, n);
	case CLIENT_STATE_READY:
		break;
	}
	if (proto_field_is(f[0], l[0], "AUTH"))
		return proto_client_auth(client, f, l, n);
	if (proto_field_is(f[0], l[0], "CANCEL"))
		return proto_client_cancel(client, f, l, n);
	log_error("Authentication client sent unknown command");
	return -1;
}

/* --- connection lifecycle --- */

static void proto_client_free_deferred(struct event_defer *d)
{
	struct client_conn *client = (struct client_conn *)((char *)d -
							    offsetof(struct client_conn, free_defer));
	conn_free(&client->conn);
	auth_unref(&client->auth);
	secret_wipe(client->cookie, sizeof(client->cookie));
	free(client);
}

static void proto_client_unref(struct client_conn *client)
{
	if (--client->refcount > 0)
		return;
	if (client->prev != NULL)
		client->prev->next = client->next;
	else if (client_conns == client)
		client_conns = client->next;
	if (client->next != NULL)
		client->next->prev = client->prev;
	client->next = client->prev = NULL;
	event_defer(client->auth->loop, &client->free_defer, proto_client_free_deferred);
}

void proto_client_release(struct client_conn *client)
{
	proto_client_unref(client);
}

/* Peer gone: pending requests are dropped; one inside a lookup finishes
 * internally and its reply is discarded (it holds its own references). */
static void proto_client_closed(struct conn *conn)
{
	struct client_conn *client = conn->ctx;
	while (client->requests != NULL) {
		struct auth_request *req = client->requests;
		client_remove_request(client, req);
		if (req->state == AUTH_REQUEST_STATE_PENALTY &&
		    event_timer_pending(&req->timer)) {
			/* Nobody to answer: drop the wait and its reference,
			 * then the table's. */
			event_timer_cancel(client->auth->loop, &req->timer);
			struct auth_request *wait_ref = req;
			auth_request_unref(&wait_ref);
			auth_request_unref(&req);
			continue;
		}
		if (req->state != AUTH_REQUEST_STATE_BUSY)
			event_timer_cancel(client->auth->loop, &req->timer);
		auth_request_unref(&req);
	}
	proto_client_unref(client);
}

static int proto_client_handshake(struct client_conn *client)
{
	struct auth *auth = client->auth;
	struct buf *hs = conn_reply_buf();
	buf_append_str(hs, "VERSION\t1\t2\n");
	buf_append(hs, auth->mech_lines.data, auth->mech_lines.len);
	buf_printf(hs, "SPID\t%s\nCUID\t%u\nCOOKIE\t", auth->pid_str, client->cuid);
	hex_encode(hs, client->cookie, sizeof(client->cookie));
	buf_append_str(hs, "\nDONE\n");
	int ret = conn_write(&client->conn, hs->data, hs->len);
	return ret;
}

void proto_client_accept(struct auth *auth, int fd, enum listener_type type)
{
	struct client_conn *client = calloc(1, sizeof(*client));
	if (client == NULL) {
		close(fd);
		return;
	}
	client->auth = auth;
	auth_ref(auth);
	client->type = type;
	client->refcount = 1;
	client->cuid = ++auth->next_cuid;
	if (RAND_bytes(client->cookie, sizeof(client->cookie)) != 1) {
		log_error("RAND_bytes() failed");
		close(fd);
		auth_unref(&client->auth);
		free(client);
		return;
	}
	if (conn_init(&client->conn, auth->loop, fd, PROTO_CLIENT_MAX_LINE, proto_client_line,
		      proto_client_closed, client) < 0) {
		auth_unref(&client->auth);
		free(client);
		return;
	}
	client->next = client_conns;
	if (client_conns != NULL)
		client_conns->prev = client;
	client_conns = client;
	proto_client_handshake(client);
}

struct auth_request *proto_client_take_login_request(pid_t pid, uint32_t id,
						     const uint8_t cookie[16])
{
	for (struct client_conn *c = client_conns; c != NULL; c = c->next) {
		if (c->type != LISTENER_LOGIN || c->pid != (uint32_t)pid || c->conn.closed)
			continue;
		if (!secret_equal(cookie, PROTO_CLIENT_COOKIE_LEN, c->cookie, PROTO_CLIENT_COOKIE_LEN))
			return NULL;
		struct auth_request *req = client_find_request(c, id);
		if (req == NULL)
			return NULL;
		/* A REQUEST consumes the login request even when it fails. */
		client_remove_request(c, req);
		if (req->state == AUTH_REQUEST_STATE_BUSY || req->state == AUTH_REQUEST_STATE_PENALTY) {
			auth_request_unref(&req);
			return NULL;
		}
		event_timer_cancel(c->auth->loop, &req->timer);
		if (req->state != AUTH_REQUEST_STATE_FINISHED || req->outcome != AUTH_OUTCOME_OK)
			auth_request_unref(&req);
		return req;
	}
	return NULL;
}

void proto_client_close_all(void)
{
	struct client_conn *next;
	for (struct client_conn *c = client_conns; c != NULL; c = next) {
		next = c->next;
		conn_close(&c->conn);
	}
}
