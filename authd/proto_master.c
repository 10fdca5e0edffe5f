#include "authd/proto_master.h"
#include "authd/auth.h"
#include "authd/cache.h"
#include "authd/conn.h"
#include "authd/log.h"
#include "authd/proto_client.h"
#include "authd/proto_fields.h"
#include "authd/request.h"
#include "common/base64.h"
#include "common/pool.h"
#include "common/strnum.h"
#include "common/tabescape.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


struct master_conn {
	struct conn conn;
	struct auth *auth;
	enum listener_type type;
	unsigned int refcount;
	bool version_received;
	bool restricted;          /* 0666 socket, peer matched neither owner nor group */
	uid_t peer_uid;
	pid_t peer_pid;
	/* LIST in progress */
	bool listing;
	uint32_t list_id;
	size_t list_userdb;
	struct userdb_iter *list_iter;
	struct master_conn *next, *prev;
	struct event_defer free_defer;
};

static struct master_conn *master_conns;

static void master_write(struct master_conn *m, const struct buf *line)
{
	if (!m->conn.closed)
		conn_write(&m->conn, line->data, line->len);
}

static void master_reply(struct master_conn *m, const char *fmt, uint32_t id)
{
	struct buf *line = conn_reply_buf();
	buf_printf(line, fmt, id);
	master_write(m, line);
}

static void append_field(struct buf *line, const char *key, const char *value)
{
	buf_append_byte(line, '\t');
	tab_escape_str(line, key);
	if (value != NULL && *value != '\0') {
		buf_append_byte(line, '=');
		tab_escape_str(line, value);
	}
}

/* --- replies --- */

static bool master_uid_allowed(const struct master_conn *m, const struct auth_request *req)
{
	const char *uid = fields_get(&req->userdb_fields, "uid");
	uint32_t n;
	return uid != NULL && str_to_uint32((const uint8_t *)uid, strlen(uid), &n) &&
	       n == (uint32_t)m->peer_uid;
}

static void proto_master_user_reply(struct master_conn *m, struct auth_request *req)
{
	struct buf *line = conn_reply_buf();
	proto_append_cmd_id(line, "USER", req->master_id);
	buf_append_byte(line, '\t');
	tab_escape_str(line, req->user);
	for (size_t i = 0; i < req->userdb_fields.count; i++)
		append_field(line, req->userdb_fields.items[i].key, req->userdb_fields.items[i].value);
	if (req->handoff) {
		if (req->master_user != NULL)
			append_field(line, "master_user", req->master_user);
		append_field(line, "auth_mech", req->mech->name);
		const char *auth_user = req->master_user != NULL ? req->master_user : req->original_user;
		if (auth_user != NULL && strcmp(auth_user, req->user) != 0)
			append_field(line, "auth_user", auth_user);
	}
	buf_append_byte(line, '\n');
	master_write(m, line);
}

void proto_master_user_finished(struct auth_request *req, enum userdb_result result)
{
	struct master_conn *m = req->master;
	req->state = AUTH_REQUEST_STATE_FINISHED;
	if (result == USERDB_RESULT_INTERNAL_FAILURE)
		master_reply(m, "FAIL\t%u\n", req->master_id);
	else if (result == USERDB_RESULT_USER_UNKNOWN)
		master_reply(m, req->handoff ? "FAIL\t%u\n" : "NOTFOUND\t%u\n", req->master_id);
	else if (m->restricted && !master_uid_allowed(m, req))
		master_reply(m, "FAIL\t%u\n", req->master_id);
	else
		proto_master_user_reply(m, req);
}

void proto_master_pass_finished(struct auth_request *req, enum passdb_result result)
{
	struct master_conn *m = req->master;
	req->state = AUTH_REQUEST_STATE_FINISHED;
	if (result == PASSDB_RESULT_OK) {
		struct buf *line = conn_reply_buf();
		buf_printf(line, "PASS\t%u", req->master_id);
		append_field(line, "user", req->user);
		for (size_t i = 0; i < req->extra.count; i++) {
			const struct field *f = &req->extra.items[i];
			bool bare = strcmp(f->key, "nologin") == 0 || strcmp(f->key, "proxy") == 0;
			append_field(line, f->key, bare ? NULL : f->value);
		}
		buf_append_byte(line, '\n');
		master_write(m, line);
	} else if (result == PASSDB_RESULT_INTERNAL_FAILURE) {
		master_reply(m, "FAIL\t%u\n", req->master_id);
	} else {
		master_reply(m, "NOTFOUND\t%u\n", req->master_id);
	}
}

/* --- commands --- */

static struct auth_request *master_new_request(struct master_conn *m, enum auth_request_kind kind,
					       uint32_t id)
{
	struct auth_request *req = auth_request_new(m->auth, kind, id);
	req->master = m;
	req->master_id = id;
	m->refcount++;
	return req;
}

/* PASS needs a passdb that can look a user up without a password (PAM
 * can only verify one). */
static bool master_passdbs_can_lookup(const struct auth *auth)
{
	for (size_t i = 0; i < auth->passdb_count; i++)
		if ((auth->passdbs[i]->driver->flags & PASSDB_FLAG_NO_CREDENTIALS) == 0)
			return true;
	return false;
}

/* USER and PASS. Returns -1 to close. */
static int master_lookup(struct master_conn *m, uint8_t **f, size_t *l, size_t n, bool user)
{
	uint32_t id;
	if (n < 3 || !str_to_uint32(f[1], l[1], &id))
		return -1;
	struct auth_request *req = master_new_request(m, user ? AUTH_REQUEST_USER : AUTH_REQUEST_PASS, id);
	if (!auth_request_set_param_fields(req, f, l, 3, n)) {
		auth_request_unref(&req);
		return -1;
	}
	if (!user && m->restricted) {
		master_reply(m, "FAIL\t%u\n", id);
	} else if (!user && !master_passdbs_can_lookup(m->auth)) {
		master_reply(m, "FAIL\t%u\treason=Configured passdbs don't support credentials lookups\n", id);
	} else if (memchr(f[2], '\0', l[2]) != NULL ||
		   auth_request_set_lookup_user(req, f[2], l[2]) <= 0) {
		master_reply(m, "NOTFOUND\t%u\n", id);
	} else if (user) {
		auth_request_userdb_lookup(req);
	} else {
		auth_request_passdb_chain_start(req, true);
	}
	auth_request_unref(&req);
	return 0;
}

/* --- LIST --- */

static void master_list_finish(struct master_conn *m, bool failed)
{
	if (m->list_iter != NULL)
		m->auth->userdbs[m->list_userdb]->driver->iterate_deinit(&m->list_iter);
	master_reply(m, failed ? "DONE\t%u\tfail\n" : "DONE\t%u\t\n", m->list_id);
	m->listing = false;
	conn_resume(&m->conn);
}

static void master_list_continue(struct master_conn *m);

/* An asynchronous iterator has more (userdb.h USERDB_ITER_PENDING). */
static void master_list_ready(void *ctx)
{
	struct master_conn *m = ctx;
	if (m->listing)
		master_list_continue(m);
}

/* Moves to the next userdb that can iterate. Returns 1, 0 none left, -1 error. */
static int master_list_next_userdb(struct master_conn *m)
{
	while (m->list_userdb < m->auth->userdb_count) {
		struct userdb *db = m->auth->userdbs[m->list_userdb];
		if (db->driver->iterate_init != NULL) {
			const char *error = NULL;
			m->list_iter = db->driver->iterate_init(db, &error);
			if (m->list_iter == NULL) {
				log_error("%s: user iteration failed: %s", db->driver->name,
					  error != NULL ? error : "unknown error");
				return -1;
			}
			if (db->driver->iterate_set_ready != NULL)
				db->driver->iterate_set_ready(m->list_iter, master_list_ready, m);
			return 1;
		}
		m->list_userdb++;
	}
	return 0;
}

/* Writes users until the output queue is full; continues from on_drained. */
static void master_list_continue(struct master_conn *m)
{
	struct buf *line = conn_reply_buf();
	for (unsigned int i = 0; m->listing && !m->conn.closed && !m->conn.throttled; i++) {
		if (m->list_iter == NULL) {
			int r = master_list_next_userdb(m);
			if (r <= 0) {
				master_list_finish(m, r < 0);
				break;
			}
		}
		struct userdb *db = m->auth->userdbs[m->list_userdb];
		const char *user;
		int r = db->driver->iterate_next(m->list_iter, &user);
		if (r < 0) {
			master_list_finish(m, true);
			break;
		}
		if (r == USERDB_ITER_PENDING)
			break;   /* master_list_ready() continues */
		if (r == 0) {
			db->driver->iterate_deinit(&m->list_iter);
			m->list_userdb++;
			continue;
		}
		buf_reset(line);
		buf_printf(line, "LIST\t%u\t", m->list_id);
		tab_escape_str(line, user);
		buf_append_byte(line, '\n');
		master_write(m, line);
	}
}

static void master_drained(struct conn *conn)
{
	struct master_conn *m = conn->ctx;
	if (m->listing)
		master_list_continue(m);
}

static int master_list(struct master_conn *m, uint8_t **f, size_t *l, size_t n)
{
	uint32_t id;
	(void)n;
	if (n < 2 || !str_to_uint32(f[1], l[1], &id))
		return -1;
	if (m->restricted || m->listing) {
		master_reply(m, "DONE\t%u\tfail\n", id);
		return 0;
	}
	m->listing = true;
	m->list_id = id;
	m->list_userdb = 0;
	m->list_iter = NULL;
	conn_pause(&m->conn);   /* one LIST at a time; commands wait (spec 3.5) */
	master_list_continue(m);
	return 0;
}

/* --- REQUEST and CACHE-FLUSH (auth-master only) --- */

static int master_request(struct master_conn *m, uint8_t **f, size_t *l, size_t n)
{
	uint32_t id, pid, client_id;
	struct buf cookie = BUF_INIT(16);
	if (n < 5 || !str_to_uint32(f[1], l[1], &id) || !str_to_uint32(f[2], l[2], &pid) ||
	    !str_to_uint32(f[3], l[3], &client_id) || l[4] != 32 ||
	    hex_decode(&cookie, f[4], l[4]) <= 0) {
		buf_free(&cookie);
		return -1;
	}
	struct auth_request *req = proto_client_take_login_request((pid_t)pid, client_id, cookie.data);
	buf_free(&cookie);
	bool pid_ok = true;
	for (size_t i = 5; i < n; i++) {
		uint32_t session_pid;
		if (l[i] > 12 && memcmp(f[i], "session_pid=", 12) == 0 &&
		    (!str_to_uint32(f[i] + 12, l[i] - 12, &session_pid) ||
		     (m->peer_pid > 0 && (pid_t)session_pid != m->peer_pid)))
			pid_ok = false;
	}
	if (req == NULL || !pid_ok) {
		if (req != NULL)
			auth_request_unref(&req);
		master_reply(m, "FAIL\t%u\n", id);
		return 0;
	}
	req->master = m;
	m->refcount++;
	req->master_id = id;
	req->handoff = true;
	auth_request_userdb_lookup(req);
	auth_request_unref(&req);
	return 0;
}

static int master_cache_flush(struct master_conn *m, uint8_t **f, size_t *l, size_t n)
{
	uint32_t id;
	unsigned int removed = 0;
	if (n < 2 || !str_to_uint32(f[1], l[1], &id))
		return -1;
	/* No user: everything. A disabled cache (NULL) answers 0, as Dovecot. */
	if (n == 2)
		removed = auth_cache_flush_all(m->auth->cache);
	for (size_t i = 2; i < n; i++)
		removed += auth_cache_flush_user(m->auth->cache, f[i], l[i]);
	struct buf *line = conn_reply_buf();
	buf_printf(line, "OK\t%u\t%u\n", id, removed);
	master_write(m, line);
	return 0;
}

/* The first line must be VERSION\t1 (anything after ignored). */
static int master_version(struct master_conn *m, uint8_t **f, size_t *l, size_t n)
{
	if (n < 2 || !proto_field_is(f[0], l[0], "VERSION") || !proto_field_is(f[1], l[1], "1")) {
		log_error("Master not compatible with this server (mixed old and new binaries?)");
		return -1;
	}
	m->version_received = true;
	return 0;
}

static int master_line(struct conn *conn, uint8_t *line, size_t len)
{
	struct master_conn *m = conn->ctx;
	uint8_t *f[PROTO_MASTER_MAX_FIELDS];
	size_t l[PROTO_MASTER_MAX_FIELDS];
	size_t n = len == 0 ? 0 : proto_split(line, len, f, l, PROTO_MASTER_MAX_FIELDS, true);
	if (n == 0)
		return -1;
	if (!m->version_received)
		return master_version(m, f, l, n);
	if (proto_field_is(f[0], l[0], "USER"))
		return master_lookup(m, f, l, n, true);
	if (proto_field_is(f[0], l[0], "PASS"))
		return master_lookup(m, f, l, n, false);
	if (proto_field_is(f[0], l[0], "LIST"))
		return master_list(m, f, l, n);
	if (m->type == LISTENER_MASTER && proto_field_is(f[0], l[0], "REQUEST"))
		return master_request(m, f, l, n);
	if (m->type == LISTENER_MASTER && proto_field_is(f[0], l[0], "CACHE-FLUSH"))
		return master_cache_flush(m, f, l, n);
	if (proto_field_is(f[0], l[0], "CPID"))
		log_error("Authentication client trying to connect to master socket");
	else
		log_error("BUG: Master sent unknown or unallowed command");
	return -1;
}

/* --- lifecycle --- */

static void master_free_deferred(struct event_defer *d)
{
	struct master_conn *m = (struct master_conn *)((char *)d -
						       offsetof(struct master_conn, free_defer));
	conn_free(&m->conn);
	auth_unref(&m->auth);
	free(m);
}

static void master_unref(struct master_conn *m)
{
	if (--m->refcount > 0)
		return;
	if (m->prev != NULL)
		m->prev->next = m->next;
	else if (master_conns == m)
		master_conns = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	event_defer(m->auth->loop, &m->free_defer, master_free_deferred);
}

void proto_master_release(struct master_conn *m)
{
	master_unref(m);
}

static void master_closed(struct conn *conn)
{
	struct master_conn *m = conn->ctx;
	if (m->list_iter != NULL)
		m->auth->userdbs[m->list_userdb]->driver->iterate_deinit(&m->list_iter);
	m->listing = false;
	master_unref(m);
}

static void master_check_peer(struct master_conn *m, bool restrict_peers, uid_t owner,
			      gid_t group)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(m->conn.io.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		m->restricted = restrict_peers;
		m->peer_uid = (uid_t)-1;
		return;
	}
	m->peer_uid = cred.uid;
	m->peer_pid = cred.pid;
	/* root is never restricted (as in Dovecot) */
	m->restricted = restrict_peers && cred.uid != 0 && cred.uid != owner && cred.gid != group;
}

void proto_master_accept(struct auth *auth, int fd, enum listener_type type,
			 bool restrict_peers, uid_t owner, gid_t group)
{
	struct master_conn *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		close(fd);
		return;
	}
	m->auth = auth;
	auth_ref(auth);
	m->type = type;
	m->refcount = 1;
	if (conn_init(&m->conn, auth->loop, fd, PROTO_MASTER_MAX_LINE, master_line, master_closed, m) < 0) {
		auth_unref(&m->auth);
		free(m);
		return;
	}
	m->conn.on_drained = master_drained;
	master_check_peer(m, restrict_peers, owner, group);
	m->next = master_conns;
	if (master_conns != NULL)
		master_conns->prev = m;
	master_conns = m;
	struct buf hs = BUF_INIT(128);
	buf_printf(&hs, "VERSION\t1\t1\nSPID\t%s\n", auth->pid_str);
	conn_write(&m->conn, hs.data, hs.len);
	buf_free(&hs);
}

void proto_master_close_all(void)
{
	struct master_conn *next;
	for (struct master_conn *m = master_conns; m != NULL; m = next) {
		next = m->next;
		conn_close(&m->conn);
	}
}
