/* daemon_harness: an in-process auth process for protocol unit tests and
 * fuzz targets (header only: the Makefile links each tests/unit/test_*.c
 * and tests/fuzz/fuzz_*.c alone against libauthd.a).
 *
 * dh_init() writes a passwd-file (users) and a config into a fresh temp
 * directory, builds the settings with settings_load_buffer(), an event
 * loop, an optional hash pool and the auth state with auth_create().
 * dh_connect() makes a socketpair and hands one end to
 * proto_client_accept() / proto_master_accept(); the other end is a
 * dh_peer whose input is collected by the same event loop, so a test
 * writes protocol bytes, runs the loop until the replies it wants (or
 * EOF) arrive, and reads them line by line. Nothing blocks: input is
 * written as the socket accepts it. dh_deinit() closes every connection,
 * runs the deferred frees and releases everything (ASan checks leaks).
 *
 * All functions return 0 / true on success; failures are reported through
 * the return value, never by aborting, so callers decide (cmocka fail()
 * or abort() in a fuzz target). */
#ifndef TESTS_UNIT_DAEMON_HARNESS_H
#define TESTS_UNIT_DAEMON_HARNESS_H

#include "authd/auth.h"
#include "authd/event.h"
#include "authd/hashpool.h"
#include "authd/log.h"
#include "authd/proto_client.h"
#include "authd/proto_master.h"
#include "authd/settings.h"
#include "common/buf.h"
#include "passdb/db_passwd_file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define DH_FN static __attribute__((unused))
#define DH_MAX_PEERS 4
#define DH_RX_LIMIT (8u * 1024u * 1024u)
#define DH_CONF_MAX (64u * 1024u)
#define DH_DIR_MAX 256
#define DH_TMPDIR_MAX 200        /* longer $TMPDIR values are cut (mkdtemp fails) */

/* Users of the default passwd-file: a subset of the spec's fixture
 * (passwd-file-and-ldap.md A.7) with cheap schemes only. */
#define DH_DEFAULT_USERS \
	"alice:{PLAIN}alicepw:1001:1001::/home/alice::userdb_mail=maildir:~/Maildir\n" \
	"bob:{PLAIN}bobpw:1002:1002::/home/bob\n" \
	"dave:{PLAIN}davepw\n" \
	"gina:{PLAIN}ginapw:1007:1007::/home/gina::nologin reason=Account%20moved proxy host=10.0.0.1\n" \
	"olga@example.com:{PLAIN}olgapw:1015:1015::::nodelay\n" \
	"sam:{SHA256}twcL4/Yug3IK/IwKV1OzSQc7hV9Jbl1+FlgO3vwTX4c=:1018:1018::/home/sam\n" \
	"tabby:{PLAIN}tabbypw:1030:1030::/home/tabby::reason=a\tb\x01" "c\n" \
	"uma:{PLAIN}umapw:1020:1020::/home/uma::userdb_uid=2020\n"

/* Config around the passwd-file; %s = the users file path (twice). */
#define DH_DEFAULT_DBS \
	"passdb {\n" \
	"  driver = passwd-file\n" \
	"  args = scheme=CRYPT username_format=%%u %s\n" \
	"}\n" \
	"userdb {\n" \
	"  driver = passwd-file\n" \
	"  args = username_format=%%u %s\n" \
	"}\n"

struct dh;

struct dh_peer {
	struct dh *h;
	struct event_io io;
	int fd;                  /* -1 when closed */
	struct buf rx;           /* everything received */
	size_t rx_pos;           /* start of the first unread line */
	bool eof;                /* the daemon closed its end */
	struct buf tx;           /* bytes not yet written */
	bool shutdown_pending;   /* SHUT_WR once tx is empty */
};

struct dh {
	char dir[DH_DIR_MAX];
	char users_path[DH_DIR_MAX + 16];
	char log_path[DH_DIR_MAX + 16];
	struct auth_settings *set;
	struct event_loop *loop;
	struct hashpool *hashpool;
	struct event_io hashpool_io;
	struct auth *auth;
	struct dh_peer peers[DH_MAX_PEERS];
	struct event_timer poll, deadline;
	bool (*until)(struct dh *h, void *ctx);
	void *until_ctx;
	bool timed_out;
	char error[512];
};

struct dh_options {
	const char *users;       /* passwd-file contents; NULL = DH_DEFAULT_USERS */
	const char *conf;        /* settings before the dbs; NULL = PLAIN and
				  * LOGIN with auth_failure_delay = 0 */
	bool custom_dbs;         /* conf has its own passdb/userdb blocks */
	bool hashpool;           /* start a one-thread hash pool */
	bool log_to_null;        /* fuzzing: no log file */
};

/* --- peers --- */

DH_FN void dh_peer_update(struct dh_peer *p)
{
	uint32_t ev = EPOLLIN;
	if (p->tx.len > 0)
		ev |= EPOLLOUT;
	if (p->fd >= 0 && !p->eof)
		event_io_modify(p->h->loop, &p->io, ev);
}

DH_FN void dh_peer_flush(struct dh_peer *p)
{
	while (p->tx.len > 0) {
		ssize_t n = send(p->fd, p->tx.data, p->tx.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_consume(&p->tx, (size_t)n);
	}
	if (p->tx.len == 0 && p->shutdown_pending) {
		shutdown(p->fd, SHUT_WR);
		p->shutdown_pending = false;
	}
	dh_peer_update(p);
}

DH_FN void dh_peer_io(struct event_io *io, uint32_t events)
{
	struct dh_peer *p = io->ctx;
	if ((events & EPOLLOUT) != 0)
		dh_peer_flush(p);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0)
		return;
	for (;;) {
		uint8_t chunk[16384];
		ssize_t n = recv(p->fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0 || buf_append(&p->rx, chunk, (size_t)n) < 0) {
			p->eof = true;
			event_io_remove(p->h->loop, &p->io);
			break;
		}
	}
	/* stop as soon as what dh_run() waits for is there */
	struct dh *h = p->h;
	if (h->until != NULL && h->until(h, h->until_ctx))
		event_loop_stop(h->loop);
}

/* Closes the test's end of a peer (the daemon sees EOF/HUP). */
DH_FN void dh_peer_close(struct dh_peer *p)
{
	if (p->fd >= 0) {
		if (!p->eof)
			event_io_remove(p->h->loop, &p->io);
		close(p->fd);
		p->fd = -1;
	}
	buf_free(&p->rx);
	buf_free(&p->tx);
	p->rx_pos = 0;
	p->eof = false;
	p->shutdown_pending = false;
}

/* Queues bytes for the daemon; written as the socket accepts them. */
DH_FN int dh_send(struct dh_peer *p, const void *data, size_t len)
{
	if (p->fd < 0 || buf_append(&p->tx, data, len) < 0)
		return -1;
	dh_peer_flush(p);
	return 0;
}

DH_FN int dh_send_str(struct dh_peer *p, const char *s)
{
	return dh_send(p, s, strlen(s));
}

/* Half-closes after everything queued is written (the daemon reads EOF). */
DH_FN void dh_send_eof(struct dh_peer *p)
{
	p->shutdown_pending = true;
	dh_peer_flush(p);
}

/* Number of complete lines received and not yet read. */
DH_FN size_t dh_lines_pending(const struct dh_peer *p)
{
	size_t n = 0;
	for (size_t i = p->rx_pos; i < p->rx.len; i++)
		n += p->rx.data[i] == '\n';
	return n;
}

/* Copies the next received line (without LF) into line[size], NUL-
 * terminated (a line with NULs or too long is cut; *len_r has the real
 * length). Returns true, or false when no complete line is waiting. */
DH_FN bool dh_read_line(struct dh_peer *p, char *line, size_t size, size_t *len_r)
{
	if (p->rx_pos >= p->rx.len)
		return false;
	const uint8_t *start = p->rx.data + p->rx_pos;
	const uint8_t *nl = memchr(start, '\n', p->rx.len - p->rx_pos);
	if (nl == NULL)
		return false;
	size_t len = (size_t)(nl - start);
	size_t n = len < size - 1 ? len : size - 1;
	memcpy(line, start, n);
	line[n] = '\0';
	if (len_r != NULL)
		*len_r = len;
	p->rx_pos += len + 1;
	return true;
}

/* Skips every line received so far. */
DH_FN void dh_skip_received(struct dh_peer *p)
{
	const uint8_t *last = NULL;
	for (size_t i = p->rx_pos; i < p->rx.len; i++)
		if (p->rx.data[i] == '\n')
			last = p->rx.data + i;
	if (last != NULL)
		p->rx_pos = (size_t)(last - p->rx.data) + 1;
}

/* --- running the loop --- */

DH_FN void dh_poll_fn(struct event_timer *t)
{
	struct dh *h = t->ctx;
	if (h->until != NULL && h->until(h, h->until_ctx)) {
		event_loop_stop(h->loop);
		return;
	}
	event_timer_add(h->loop, &h->poll, 1);
}

DH_FN void dh_deadline_fn(struct event_timer *t)
{
	struct dh *h = t->ctx;
	h->timed_out = true;
	event_loop_stop(h->loop);
}

/* Runs the loop until until(h, ctx) holds or ms pass. Returns true when
 * the condition was met (always true for until == NULL: ran ms). */
DH_FN bool dh_run(struct dh *h, bool (*until)(struct dh *h, void *ctx), void *ctx,
		  unsigned int ms)
{
	h->until = until;
	h->until_ctx = ctx;
	h->timed_out = false;
	if (until != NULL && until(h, ctx))
		return true;
	if (until != NULL)
		event_timer_add(h->loop, &h->poll, 0);
	event_timer_add(h->loop, &h->deadline, ms);
	if (event_loop_run(h->loop) < 0)
		h->timed_out = true;
	event_timer_cancel(h->loop, &h->poll);
	event_timer_cancel(h->loop, &h->deadline);
	h->until = NULL;
	return until == NULL || !h->timed_out;
}

struct dh_lines_wait {
	struct dh_peer *p;
	size_t n;
};

DH_FN bool dh_until_lines(struct dh *h, void *ctx)
{
	struct dh_lines_wait *w = ctx;
	(void)h;
	return dh_lines_pending(w->p) >= w->n || w->p->eof;
}

/* Runs until n unread lines are waiting (or EOF). Returns true if they are. */
DH_FN bool dh_wait_lines(struct dh_peer *p, size_t n, unsigned int ms)
{
	struct dh_lines_wait w = { .p = p, .n = n };
	dh_run(p->h, dh_until_lines, &w, ms);
	return dh_lines_pending(p) >= n;
}

DH_FN bool dh_until_eof(struct dh *h, void *ctx)
{
	struct dh_peer *p = ctx;
	(void)h;
	return p->eof;
}

/* Runs until the daemon closes the connection. Returns true if it did. */
DH_FN bool dh_wait_eof(struct dh_peer *p, unsigned int ms)
{
	return dh_run(p->h, dh_until_eof, p, ms);
}

/* --- connections --- */

DH_FN struct dh_peer *dh_peer_slot(struct dh *h, int fd)
{
	for (size_t i = 0; i < DH_MAX_PEERS; i++) {
		struct dh_peer *p = &h->peers[i];
		if (p->fd < 0) {
			dh_peer_close(p);
			p->h = h;
			p->fd = fd;
			p->rx.limit = DH_RX_LIMIT;
			p->tx.limit = DH_RX_LIMIT;
			p->io = (struct event_io){ .fd = fd, .fn = dh_peer_io, .ctx = p };
			if (event_io_add(h->loop, &p->io, EPOLLIN) < 0) {
				p->fd = -1;
				return NULL;
			}
			return p;
		}
	}
	return NULL;
}

/* Connects a new peer to a listener of the given type (client and login:
 * auth-client protocol; master and userdb: master protocol). restrict,
 * owner and group are proto_master_accept()'s (a 0666 socket owned by
 * owner:group; this process is the peer). Returns the peer or NULL. */
DH_FN struct dh_peer *dh_connect_ex(struct dh *h, enum listener_type type, bool restrict_peers,
				    uid_t owner, gid_t group)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	struct dh_peer *p = dh_peer_slot(h, sv[1]);
	if (p == NULL) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (type == LISTENER_CLIENT || type == LISTENER_LOGIN)
		proto_client_accept(h->auth, sv[0], type);
	else
		proto_master_accept(h->auth, sv[0], type, restrict_peers, owner, group);
	return p;
}

/* dh_connect_ex for an unrestricted connection. */
DH_FN struct dh_peer *dh_connect(struct dh *h, enum listener_type type)
{
	return dh_connect_ex(h, type, false, getuid(), getgid());
}

/* --- setup and teardown --- */

DH_FN void dh_hashpool_io(struct event_io *io, uint32_t events)
{
	struct dh *h = io->ctx;
	(void)events;
	hashpool_run_done(h->hashpool);
}

DH_FN int dh_write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

DH_FN int dh_load_settings(struct dh *h, const struct dh_options *o)
{
	const char *conf = o->conf != NULL ? o->conf :
			   "auth_mechanisms = plain login\nauth_failure_delay = 0\n";
	struct buf text = BUF_INIT(DH_CONF_MAX);
	const char *error = NULL;
	int ret = buf_append_str(&text, conf);
	if (ret == 0 && !o->custom_dbs)
		ret = buf_printf(&text, DH_DEFAULT_DBS, h->users_path, h->users_path);
	if (ret == 0 &&
	    settings_load_buffer("harness.conf", text.data, text.len, &h->set, &error) < 0) {
		snprintf(h->error, sizeof(h->error), "settings: %s", error);
		ret = -1;
	}
	buf_free(&text);
	return ret;
}

DH_FN int dh_start_auth(struct dh *h, const struct dh_options *o)
{
	const char *error = NULL;
	h->loop = event_loop_create();
	if (h->loop == NULL)
		return -1;
	h->poll = (struct event_timer){ .fn = dh_poll_fn, .ctx = h };
	h->deadline = (struct event_timer){ .fn = dh_deadline_fn, .ctx = h };
	if (o->hashpool) {
		if (hashpool_create(1, &h->hashpool, &error) < 0) {
			snprintf(h->error, sizeof(h->error), "hashpool: %s", error);
			return -1;
		}
		h->hashpool_io = (struct event_io){ .fd = hashpool_fd(h->hashpool),
						    .fn = dh_hashpool_io, .ctx = h };
		if (event_io_add(h->loop, &h->hashpool_io, EPOLLIN) < 0)
			return -1;
	}
	h->auth = auth_create(h->set, h->loop, h->hashpool, &error);
	if (h->auth == NULL) {
		snprintf(h->error, sizeof(h->error), "auth_create: %s", error);
		return -1;
	}
	return 0;
}

DH_FN void dh_deinit(struct dh *h);

/* Builds the daemon state. Returns 0, or -1 with h->error set. */
DH_FN int dh_init(struct dh *h, const struct dh_options *o)
{
	const char *error = NULL;
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < DH_MAX_PEERS; i++)
		h->peers[i].fd = -1;
	snprintf(h->dir, sizeof(h->dir), "%.*s/authd-harness.XXXXXX", DH_TMPDIR_MAX,
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(h->dir) == NULL) {
		snprintf(h->error, sizeof(h->error), "mkdtemp: %s", strerror(errno));
		h->dir[0] = '\0';
		return -1;
	}
	snprintf(h->users_path, sizeof(h->users_path), "%s/users", h->dir);
	snprintf(h->log_path, sizeof(h->log_path), "%s/log", h->dir);
	const char *users = o->users != NULL ? o->users : DH_DEFAULT_USERS;
	struct log_settings ls = { .log_path = o->log_to_null ? "/dev/null" : h->log_path };
	if (log_open(&ls, &error) < 0 ||
	    dh_write_file(h->users_path, users, strlen(users)) < 0) {
		snprintf(h->error, sizeof(h->error), "setup files in %.*s failed", DH_TMPDIR_MAX,
			 h->dir);
		dh_deinit(h);
		return -1;
	}
	if (dh_load_settings(h, o) < 0 || dh_start_auth(h, o) < 0) {
		dh_deinit(h);
		return -1;
	}
	return 0;
}

/* Closes every connection, frees everything, removes the temp dir. */
DH_FN void dh_deinit(struct dh *h)
{
	for (size_t i = 0; i < DH_MAX_PEERS; i++)
		dh_peer_close(&h->peers[i]);
	if (h->loop != NULL) {
		proto_client_close_all();
		proto_master_close_all();
		event_loop_run_deferred(h->loop);
		hashpool_destroy(&h->hashpool);
		event_loop_run_deferred(h->loop);
		auth_unref(&h->auth);
		event_loop_run_deferred(h->loop);
		event_loop_destroy(&h->loop);
	}
	settings_free(&h->set);
	db_passwd_file_flush_all();
	log_close();
	if (h->dir[0] != '\0') {
		unlink(h->users_path);
		unlink(h->log_path);
		rmdir(h->dir);
		h->dir[0] = '\0';
	}
}

DH_FN int dh_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes a directory tree made for a harness (e.g. $TMPDIR of a child
 * that may have crashed before dh_deinit). */
DH_FN void dh_remove_tree(const char *dir)
{
	nftw(dir, dh_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Removes the harness's files but keeps everything else running (fuzz
 * targets at exit: tearing the loop down there would orphan requests
 * still waiting in its timers). */
DH_FN void dh_remove_files(struct dh *h)
{
	if (h->dir[0] != '\0') {
		dh_remove_tree(h->dir);
		h->dir[0] = '\0';
	}
}

/* Whether the log written so far contains text. */
DH_FN bool dh_log_contains(const struct dh *h, const char *text)
{
	char buf[65536];
	int fd = open(h->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

#endif
