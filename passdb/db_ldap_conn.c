/* db_ldap_conn: one LDAP connection driven by the event loop.
 *
 * DOWN -> CONNECTING (our own non-blocking connect(), so the loop never
 * waits for a SYN) -> ldap_init_fd() -> [ldaps: TLS handshake] ->
 * [STARTTLS: extended op, then handshake] -> [BINDING: asynchronous
 * service bind] -> READY. Any failure during setup tries the next URI;
 * when every URI failed the connection backs off and the db is told so it
 * can fail its queue. Results are read with ldap_result(zero timeout) while
 * the fd is readable, until libldap has nothing buffered. */
#include "passdb/db_ldap_private.h"
#include "authd/log.h"
#include "common/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#if __has_include(<sasl/sasl.h>)
#include <sasl/sasl.h>
#else
/* Cyrus SASL's stable interaction ABI (sasl/sasl.h), for building without
 * libsasl2-dev: libldap hands these to the interact callback. */
typedef struct sasl_interact {
	unsigned long id;
	const char *challenge, *prompt, *defresult;
	const void *result;
	unsigned len;
} sasl_interact_t;
#define SASL_CB_LIST_END 0
#define SASL_CB_USER 0x4001
#define SASL_CB_AUTHNAME 0x4002
#define SASL_CB_PASS 0x4004
#define SASL_CB_GETREALM 0x4008
#endif

#define LDAP_CONN_ERROR_MAX 512u
#define LDAP_DEFAULT_LDAPI_SOCK "/var/run/slapd/ldapi"

static void ldap_conn_try_uri(struct ldap_conn *conn);

/* Formats error text into a static buffer: consumed at once by the
 * caller (logged, or handed to done() callbacks that log it). */
static const char *ldap_errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *ldap_errf(const char *fmt, ...)
{
	static char buf[LDAP_CONN_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static const char *ldap_conn_path(const struct ldap_conn *conn)
{
	return conn->db->conf.path;
}

static const char *ldap_conn_uri(const struct ldap_conn *conn)
{
	return conn->db->conf.uri_list[conn->uri_index];
}

bool ldap_conn_alive(const struct ldap_conn *conn)
{
	return conn->state != LDAP_CS_DOWN && conn->state != LDAP_CS_BACKOFF;
}

bool ldap_conn_can_send(const struct ldap_conn *conn)
{
	if (conn->state != LDAP_CS_READY)
		return false;
	return conn->kind == LDAP_CONN_BIND ? conn->inflight_count == 0 :
	       conn->inflight_count < LDAP_DB_PIPELINE;
}

static void ldap_conn_set_io(struct ldap_conn *conn, uint32_t events)
{
	struct event_loop *loop = conn->db->loop;
	if (!conn->io_added) {
		conn->io.fd = conn->fd;
		if (event_io_add(loop, &conn->io, events) == 0)
			conn->io_added = true;
		return;
	}
	event_io_modify(loop, &conn->io, events);
}

void ldap_conn_close(struct ldap_conn *conn)
{
	struct event_loop *loop = conn->db->loop;
	if (conn->io_added)
		event_io_remove(loop, &conn->io);
	conn->io_added = false;
	event_timer_cancel(loop, &conn->timer);
	ldap_sockbuf_reset(&conn->sockbuf);   /* the unbind goes straight out */
	if (conn->ld != NULL)
		ldap_unbind_ext(conn->ld, NULL, NULL);   /* closes the fd */
	else if (conn->fd >= 0)
		close(conn->fd);
	conn->ld = NULL;
	conn->fd = -1;
	conn->state = LDAP_CS_DOWN;
	conn->setup_msgid = -1;
	conn->paused = false;
	conn->generation++;
}

/* --- setup --- */

/* Every URI failed: back off, tell the db. */
static void ldap_conn_setup_failed(struct ldap_conn *conn, const char *error)
{
	ldap_conn_close(conn);
	if (conn->kind == LDAP_CONN_ITER) {
		if (conn->iter_req != NULL)
			ldap_req_finish(conn->iter_req, LDAP_SERVER_DOWN, error);
		return;
	}
	unsigned int shift = conn->failures < 10 ? conn->failures : 10;
	uint64_t delay = (uint64_t)LDAP_DB_BACKOFF_MIN_MS << shift;
	if (delay > LDAP_DB_BACKOFF_MAX_MS)
		delay = LDAP_DB_BACKOFF_MAX_MS;
	conn->failures++;
	conn->state = LDAP_CS_BACKOFF;
	event_timer_add(conn->db->loop, &conn->timer, delay);
	ldap_db_conn_failed(conn->db, conn->kind, error);
}

/* The current URI failed: log, then the next one (or give up). */
static void ldap_conn_next_uri(struct ldap_conn *conn, const char *error)
{
	log_error("LDAP %s: %s: %s", ldap_conn_path(conn), ldap_conn_uri(conn), error);
	ldap_conn_close(conn);
	conn->uri_index = (conn->uri_index + 1) % conn->db->conf.uri_count;
	conn->uris_tried++;
	ldap_conn_try_uri(conn);
}

static void ldap_conn_ready(struct ldap_conn *conn)
{
	conn->state = LDAP_CS_READY;
	conn->failures = 0;
	conn->last_reply_ms = event_now_ms(conn->db->loop);
	event_timer_cancel(conn->db->loop, &conn->timer);
	if (conn->kind != LDAP_CONN_ITER) {
		/* set-up is over (TLS and SASL binds write synchronously) */
		ldap_sockbuf_set_batching(&conn->sockbuf, true);
		ldap_db_kick(conn->db, conn->kind);
		return;
	}
	struct ldap_req *req = conn->iter_req;
	int msgid = -1;
	int rc = ldap_search_ext(conn->ld, req->base, req->scope, req->filter, (char **)req->attrs,
				 0, NULL, NULL, NULL, 0, &msgid);
	req->attempts++;
	if (rc != LDAP_SUCCESS) {
		ldap_req_finish(req, rc, ldap_err2string(rc));
		return;
	}
	req->msgid = msgid;
	req->sent_ms = event_now_ms(conn->db->loop);
}

static int ldap_sasl_interact(LDAP *ld, unsigned int flags, void *defaults, void *in)
{
	const struct ldap_conf *conf = defaults;
	(void)ld;
	(void)flags;
	for (sasl_interact_t *i = in; i->id != SASL_CB_LIST_END; i++) {
		const char *v = NULL;
		switch (i->id) {
		case SASL_CB_GETREALM: v = conf->sasl_realm; break;
		case SASL_CB_AUTHNAME: v = conf->dn; break;
		case SASL_CB_USER: v = conf->sasl_authz_id; break;
		case SASL_CB_PASS: v = conf->dnpass; break;
		default: break;
		}
		v = v != NULL ? v : "";
		i->result = v;
		i->len = (unsigned int)strlen(v);
	}
	return LDAP_SUCCESS;
}

/* Bind as the service (search and iterate connections). */
static void ldap_conn_service_bind(struct ldap_conn *conn)
{
	const struct ldap_conf *conf = &conn->db->conf;
	if (conn->kind == LDAP_CONN_BIND || (!conf->sasl_bind && conf->dn == NULL)) {
		ldap_conn_ready(conn);
		return;
	}
	if (conf->sasl_bind) {
		/* synchronous, as in Dovecot; bounded by the network timeout */
		int rc = ldap_sasl_interactive_bind_s(conn->ld, NULL, conf->sasl_mech, NULL, NULL,
						      LDAP_SASL_QUIET, ldap_sasl_interact,
						      (void *)conf);
		if (rc != LDAP_SUCCESS) {
			ldap_conn_next_uri(conn, ldap_errf("SASL bind failed: %s",
							     ldap_err2string(rc)));
			return;
		}
		ldap_conn_ready(conn);
		return;
	}
	const char *pw = conf->dnpass != NULL ? conf->dnpass : "";
	struct berval cred = { .bv_len = strlen(pw), .bv_val = (char *)pw };
	int rc = ldap_sasl_bind(conn->ld, conf->dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
				&conn->setup_msgid);
	if (rc != LDAP_SUCCESS) {
		ldap_conn_next_uri(conn, ldap_err2string(rc));
		return;
	}
	conn->state = LDAP_CS_BINDING;
}

static int ldap_conn_set_tls_options(struct ldap_conn *conn)
{
	const struct ldap_conf *conf = &conn->db->conf;
	static const int reqcert[] = {
		[LDAP_CONF_REQCERT_NEVER] = LDAP_OPT_X_TLS_NEVER,
		[LDAP_CONF_REQCERT_HARD] = LDAP_OPT_X_TLS_HARD,
		[LDAP_CONF_REQCERT_DEMAND] = LDAP_OPT_X_TLS_DEMAND,
		[LDAP_CONF_REQCERT_ALLOW] = LDAP_OPT_X_TLS_ALLOW,
		[LDAP_CONF_REQCERT_TRY] = LDAP_OPT_X_TLS_TRY,
	};
	const struct { int opt; const char *value; } opts[] = {
		{ LDAP_OPT_X_TLS_CACERTFILE, conf->tls_ca_cert_file },
		{ LDAP_OPT_X_TLS_CACERTDIR, conf->tls_ca_cert_dir },
		{ LDAP_OPT_X_TLS_CERTFILE, conf->tls_cert_file },
		{ LDAP_OPT_X_TLS_KEYFILE, conf->tls_key_file },
		{ LDAP_OPT_X_TLS_CIPHER_SUITE, conf->tls_cipher_suite },
	};
	bool any = false;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (opts[i].value == NULL)
			continue;
		any = true;
		if (ldap_set_option(conn->ld, opts[i].opt, opts[i].value) != LDAP_OPT_SUCCESS)
			return -1;
	}
	if (conf->tls_require_cert != LDAP_CONF_REQCERT_UNSET) {
		any = true;
		if (ldap_set_option(conn->ld, LDAP_OPT_X_TLS_REQUIRE_CERT,
				    &reqcert[conf->tls_require_cert]) != LDAP_OPT_SUCCESS)
			return -1;
	}
	int zero = 0;
	if (any && ldap_set_option(conn->ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS)
		return -1;
	return 0;
}

static int ldap_conn_set_options(struct ldap_conn *conn)
{
	const struct ldap_conf *conf = &conn->db->conf;
	int version = (int)conf->ldap_version;
	static const int derefs[] = { LDAP_DEREF_NEVER, LDAP_DEREF_SEARCHING,
				      LDAP_DEREF_FINDING, LDAP_DEREF_ALWAYS };
	int deref = derefs[conf->deref];
	struct timeval tv = { .tv_sec = LDAP_DB_CONNECT_TIMEOUT_MS / 1000,
			      .tv_usec = (LDAP_DB_CONNECT_TIMEOUT_MS % 1000) * 1000 };
	if (ldap_set_option(conn->ld, LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(conn->ld, LDAP_OPT_DEREF, &deref) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(conn->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(conn->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS)
		return -1;
	return ldap_conn_set_tls_options(conn);
}

/* The socket is connected: hand it to libldap, TLS, then bind. */
static void ldap_conn_connected(struct ldap_conn *conn)
{
	const char *uri = ldap_conn_uri(conn);
	int rc = ldap_init_fd(conn->fd, conn->proto, uri, &conn->ld);
	if (rc != LDAP_SUCCESS) {
		ldap_conn_next_uri(conn, ldap_err2string(rc));
		return;
	}
	if (ldap_conn_set_options(conn) < 0) {
		ldap_conn_next_uri(conn, "Setting LDAP options failed (TLS files readable?)");
		return;
	}
	if (ldap_sockbuf_install(&conn->sockbuf, conn->ld) < 0) {
		ldap_conn_next_uri(conn, "Setting up the LDAP socket buffer failed");
		return;
	}
	ldap_conn_set_io(conn, EPOLLIN);
	if (strncasecmp(uri, "ldaps:", 6) == 0 && (rc = ldap_install_tls(conn->ld)) != LDAP_SUCCESS) {
		ldap_conn_next_uri(conn, ldap_errf("TLS handshake failed: %s",
						     ldap_err2string(rc)));
		return;
	}
	if (conn->db->conf.tls) {
		rc = ldap_start_tls(conn->ld, NULL, NULL, &conn->setup_msgid);
		if (rc != LDAP_SUCCESS) {
			ldap_conn_next_uri(conn, ldap_err2string(rc));
			return;
		}
		conn->state = LDAP_CS_STARTTLS;
		return;
	}
	ldap_conn_service_bind(conn);
}

/* ldapi://: connect to the unix socket path. Returns as below. */
static int ldap_conn_open_unix(struct ldap_conn *conn, const char *path, const char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = "ldapi socket path too long";
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	conn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (conn->fd < 0 || connect(conn->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		*error_r = strerror(errno);
		return errno == EINPROGRESS || errno == EAGAIN ? 0 : -1;
	}
	return 1;
}

/* Opens a non-blocking socket to uri. Returns 1 connected, 0 in progress,
 * -1 with *error_r. */
static int ldap_conn_open_socket(struct ldap_conn *conn, const char *uri, const char **error_r)
{
	LDAPURLDesc *lud = NULL;
	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS) {
		*error_r = "Invalid URI";
		return -1;
	}
	bool ipc = strcasecmp(lud->lud_scheme, "ldapi") == 0;
	bool tls = strcasecmp(lud->lud_scheme, "ldaps") == 0;
	char host[1024], port[16];
	snprintf(host, sizeof(host), "%s", lud->lud_host != NULL && *lud->lud_host != '\0' ?
		 lud->lud_host : ipc ? LDAP_DEFAULT_LDAPI_SOCK : "localhost");
	snprintf(port, sizeof(port), "%d", lud->lud_port != 0 ? lud->lud_port : tls ? 636 : 389);
	ldap_free_urldesc(lud);
	conn->proto = ipc ? LDAP_PROTO_IPC : LDAP_PROTO_TCP;
	if (ipc)
		return ldap_conn_open_unix(conn, host, error_r);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(host, port, &hints, &ai);   /* may block on DNS (see db_ldap.h) */
	if (gai != 0) {
		*error_r = gai_strerror(gai);
		return -1;
	}
	int ret = -1;
	*error_r = "no address";
	for (struct addrinfo *a = ai; a != NULL && ret < 0; a = a->ai_next) {
		if (conn->fd >= 0)
			close(conn->fd);
		conn->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				  a->ai_protocol);
		if (conn->fd < 0) {
			*error_r = strerror(errno);
			continue;
		}
		/* as libldap does on the sockets it opens: requests are
		 * already batched per loop turn, never hold them back */
		int one = 1;
		(void)setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(conn->fd, a->ai_addr, a->ai_addrlen) == 0)
			ret = 1;
		else if (errno == EINPROGRESS)
			ret = 0;
		else
			*error_r = strerror(errno);
	}
	freeaddrinfo(ai);
	return ret;
}

static void ldap_conn_try_uri(struct ldap_conn *conn)
{
	const struct ldap_conf *conf = &conn->db->conf;
	if (conn->uris_tried >= conf->uri_count) {
		ldap_conn_setup_failed(conn, "Can't connect to server");
		return;
	}
	const char *error = NULL;
	conn->fd = -1;
	int ret = ldap_conn_open_socket(conn, ldap_conn_uri(conn), &error);
	if (ret < 0) {
		ldap_conn_next_uri(conn, ldap_errf("Can't connect to server: %s",
						     error));
		return;
	}
	event_timer_add(conn->db->loop, &conn->timer, LDAP_DB_CONNECT_TIMEOUT_MS);
	if (ret == 0) {
		conn->state = LDAP_CS_CONNECTING;
		ldap_conn_set_io(conn, EPOLLOUT);
		return;
	}
	conn->state = LDAP_CS_CONNECTING;
	ldap_conn_connected(conn);
}

void ldap_conn_connect(struct ldap_conn *conn)
{
	if (conn->state != LDAP_CS_DOWN && conn->state != LDAP_CS_BACKOFF)
		return;
	event_timer_cancel(conn->db->loop, &conn->timer);
	conn->uris_tried = 0;
	ldap_conn_try_uri(conn);
}

static void ldap_conn_connect_done(struct ldap_conn *conn)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		ldap_conn_next_uri(conn, ldap_errf("Can't connect to server: %s",
						     strerror(err)));
		return;
	}
	ldap_conn_connected(conn);
}

/* --- events --- */

static void ldap_conn_timer(struct event_timer *timer)
{
	struct ldap_conn *conn = timer->ctx;
	struct ldap_db *db = conn->db;
	ldap_db_enter(db);
	switch (conn->state) {
	case LDAP_CS_BACKOFF:
		conn->state = LDAP_CS_DOWN;
		if (db->queue[conn->kind].head != NULL)
			ldap_conn_connect(conn);
		break;
	case LDAP_CS_CONNECTING:
	case LDAP_CS_STARTTLS:
	case LDAP_CS_BINDING:
		ldap_conn_next_uri(conn, "Connection timed out");
		break;
	case LDAP_CS_READY:
		ldap_conn_drain(conn);   /* ITER resumed */
		break;
	case LDAP_CS_DOWN:
		break;
	}
	ldap_db_leave(db);
}

void ldap_conn_flush(struct ldap_conn *conn)
{
	int ret = ldap_sockbuf_flush(&conn->sockbuf);
	if (ret < 0) {
		ldap_conn_fail(conn, ldap_errf("Connection lost to LDAP server (write: %s), "
					       "reconnecting", strerror(errno)));
		return;
	}
	/* full socket: the rest when it is writable again */
	uint32_t want = ret == 0 ? EPOLLIN | EPOLLOUT : EPOLLIN;
	if (conn->io_added && !conn->paused && conn->io.events != want)
		ldap_conn_set_io(conn, want);
}

static void ldap_conn_io(struct event_io *io, uint32_t events)
{
	struct ldap_conn *conn = io->ctx;
	struct ldap_db *db = conn->db;
	ldap_db_enter(db);
	if (conn->state == LDAP_CS_CONNECTING) {
		ldap_conn_connect_done(conn);
	} else {
		unsigned int generation = conn->generation;
		if ((events & EPOLLOUT) != 0)
			ldap_conn_flush(conn);
		if (conn->generation == generation && (events & ~(uint32_t)EPOLLOUT) != 0)
			ldap_conn_drain(conn);
	}
	ldap_db_leave(db);
}

static void ldap_conn_write_pending(void *ctx)
{
	struct ldap_conn *conn = ctx;
	ldap_db_flush_later(conn->db);
}

void ldap_conn_init(struct ldap_conn *conn, struct ldap_db *db, enum ldap_conn_kind kind)
{
	*conn = (struct ldap_conn){
		.db = db, .kind = kind, .state = LDAP_CS_DOWN, .fd = -1, .setup_msgid = -1,
		.io = { .fd = -1, .fn = ldap_conn_io, .ctx = conn },
		.timer = { .fn = ldap_conn_timer, .ctx = conn },
		.sockbuf = { .pending = ldap_conn_write_pending, .ctx = conn },
	};
}

void ldap_conn_setup_error(struct ldap_conn *conn, const char *error)
{
	ldap_conn_next_uri(conn, error);
}

void ldap_conn_pause(struct ldap_conn *conn)
{
	conn->paused = true;
	if (conn->io_added)
		event_io_modify(conn->db->loop, &conn->io, 0);
}

void ldap_conn_iter_resume(struct ldap_conn *conn)
{
	if (!conn->paused || conn->ld == NULL)
		return;
	conn->paused = false;
	ldap_conn_set_io(conn, EPOLLIN);
	/* libldap may hold whole messages already: drain from the loop */
	event_timer_add(conn->db->loop, &conn->timer, 0);
	if (conn->iter_req != NULL)
		event_timer_add(conn->db->loop, &conn->iter_req->timer, LDAP_DB_ITER_IDLE_TIMEOUT_MS);
}

/* A reply to the StartTLS or service bind of the setup (msg is freed). */
void ldap_conn_setup_result(struct ldap_conn *conn, LDAPMessage *msg)
{
	int code = LDAP_OTHER;
	char *diag = NULL;
	int rc = ldap_parse_result(conn->ld, msg, &code, NULL, &diag, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		code = rc;
	char error[LDAP_CONN_ERROR_MAX / 2];
	snprintf(error, sizeof(error), "%s%s%s", ldap_err2string(code),
		 diag != NULL && *diag != '\0' ? ": " : "", diag != NULL ? diag : "");
	ldap_memfree(diag);
	conn->setup_msgid = -1;
	if (conn->state == LDAP_CS_STARTTLS) {
		if (code == LDAP_SUCCESS && (rc = ldap_install_tls(conn->ld)) == LDAP_SUCCESS) {
			ldap_conn_service_bind(conn);
			return;
		}
		ldap_conn_next_uri(conn, ldap_errf("StartTLS failed: %s",
						     code != LDAP_SUCCESS ? error : ldap_err2string(rc)));
		return;
	}
	if (code != LDAP_SUCCESS) {
		ldap_conn_next_uri(conn, ldap_errf("binding failed (dn %s): %s",
						     conn->db->conf.dn != NULL ? conn->db->conf.dn : "none",
						     error));
		return;
	}
	ldap_conn_ready(conn);
}
