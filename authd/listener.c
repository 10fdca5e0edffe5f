#include "authd/listener.h"
#include "authd/log.h"
#include "authd/proto_client.h"
#include "authd/proto_master.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTENER_BACKLOG 128
#define LISTENER_ACCEPT_BATCH 64

static char listener_error[1024];

static const char *listener_fail(const char *path, const char *what)
{
	snprintf(listener_error, sizeof(listener_error), "%s(%s) failed: %s", what, path,
		 strerror(errno));
	return listener_error;
}

static int listener_resolve_owner(const struct listener_settings *ls, uid_t *uid_r,
				  gid_t *gid_r, const char **error_r)
{
	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	bool root = geteuid() == 0;
	if (ls->user != NULL && *ls->user != '\0' && (root || ls->user_explicit)) {
		struct passwd *pw = getpwnam(ls->user);
		if (pw == NULL) {
			snprintf(listener_error, sizeof(listener_error),
				 "%s: unix_listener user: unknown user '%s'", ls->path, ls->user);
			*error_r = listener_error;
			return -1;
		}
		*uid_r = pw->pw_uid;
	}
	if (ls->group != NULL && *ls->group != '\0' && (root || ls->group_explicit)) {
		struct group *gr = getgrnam(ls->group);
		if (gr == NULL) {
			snprintf(listener_error, sizeof(listener_error),
				 "%s: unix_listener group: unknown group '%s'", ls->path, ls->group);
			*error_r = listener_error;
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

/* Refuses to steal a socket another live process is listening on. */
static int listener_unlink_stale(const char *path, const char **error_r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		snprintf(listener_error, sizeof(listener_error),
			 "Socket already exists and another process listens on it: %s", path);
		*error_r = listener_error;
		return -1;
	}
	if (fd >= 0)
		close(fd);
	if (unlink(path) < 0 && errno != ENOENT) {
		*error_r = listener_fail(path, "unlink");
		return -1;
	}
	return 0;
}

static int listener_bind_unix(struct listener *l, const char **error_r)
{
	const struct listener_settings *ls = l->set;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(ls->path) >= sizeof(sa.sun_path)) {
		snprintf(listener_error, sizeof(listener_error), "Socket path too long: %s", ls->path);
		*error_r = listener_error;
		return -1;
	}
	strcpy(sa.sun_path, ls->path);
	if (listener_resolve_owner(ls, &l->owner, &l->group, error_r) < 0 ||
	    listener_unlink_stale(ls->path, error_r) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*error_r = listener_fail(ls->path, "socket");
		return -1;
	}
	mode_t old = umask(0777);   /* nobody may connect before chmod */
	int ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || chown(ls->path, l->owner, l->group) < 0 || chmod(ls->path, ls->mode) < 0 ||
	    listen(fd, LISTENER_BACKLOG) < 0) {
		*error_r = listener_fail(ls->path, ret < 0 ? "bind" : "chown/chmod/listen");
		close(fd);
		return -1;
	}
	struct stat st;
	if (stat(ls->path, &st) == 0) {
		l->owner = st.st_uid;
		l->group = st.st_gid;
	}
	l->restrict_peers = (ls->mode & 07777) == 0666;
	l->unlink_on_exit = true;
	l->io.fd = fd;
	return 0;
}

static int listener_bind_inet(struct listener *l, const char **error_r)
{
	const struct listener_settings *ls = l->set;
	char port[16];
	snprintf(port, sizeof(port), "%u", ls->port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	const char *addr = ls->address != NULL && *ls->address != '\0' && strcmp(ls->address, "*") != 0 ?
			   ls->address : NULL;
	int gai = getaddrinfo(addr, port, &hints, &ai);
	if (gai != 0) {
		snprintf(listener_error, sizeof(listener_error), "inet_listener %s: address '%s': %s",
			 ls->name, addr != NULL ? addr : "*", gai_strerror(gai));
		*error_r = listener_error;
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTENER_BACKLOG) < 0) {
		snprintf(listener_error, sizeof(listener_error), "inet_listener %s: bind(%s:%s) failed: %s",
			 ls->name, addr != NULL ? addr : "*", port, strerror(errno));
		*error_r = listener_error;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	l->io.fd = fd;
	return 0;
}

struct listener *listeners_create(const struct auth_settings *set, const char **error_r)
{
	struct listener *ls = calloc(set->listener_count + 1, sizeof(*ls));
	if (ls == NULL) {
		*error_r = "Out of memory";
		return NULL;
	}
	for (size_t i = 0; i < set->listener_count; i++)
		ls[i].io.fd = -1;
	for (size_t i = 0; i < set->listener_count; i++) {
		ls[i].set = &set->listeners[i];
		int ret = ls[i].set->inet ? (ls[i].set->port == 0 ? 0 : listener_bind_inet(&ls[i], error_r)) :
			  listener_bind_unix(&ls[i], error_r);
		if (ret < 0) {
			listeners_destroy(&ls, set->listener_count, true);
			return NULL;
		}
	}
	return ls;
}

static void listener_accept(struct event_io *io, uint32_t events)
{
	struct listener *l = io->ctx;
	(void)events;
	for (int i = 0; i < LISTENER_ACCEPT_BATCH; i++) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_error("accept(%s) failed: %s", l->set->name, strerror(errno));
			return;
		}
		switch (l->set->type) {
		case LISTENER_CLIENT:
		case LISTENER_LOGIN:
			proto_client_accept(l->auth, fd, l->set->type);
			break;
		case LISTENER_MASTER:
		case LISTENER_USERDB:
			proto_master_accept(l->auth, fd, l->set->type, l->restrict_peers,
					    l->owner, l->group);
			break;
		}
	}
}

int listeners_start(struct listener *ls, size_t count, struct event_loop *loop, struct auth *auth)
{
	for (size_t i = 0; i < count; i++) {
		if (ls[i].io.fd < 0)
			continue;
		ls[i].auth = auth;
		ls[i].io.fn = listener_accept;
		ls[i].io.ctx = &ls[i];
		if (event_io_add(loop, &ls[i].io, EPOLLIN) < 0)
			return -1;
	}
	return 0;
}

void listeners_destroy(struct listener **lsp, size_t count, bool unlink_files)
{
	struct listener *ls = *lsp;
	if (ls == NULL)
		return;
	for (size_t i = 0; i < count; i++) {
		if (ls[i].io.fd >= 0)
			close(ls[i].io.fd);
		if (unlink_files && ls[i].unlink_on_exit)
			unlink(ls[i].set->path);
	}
	free(ls);
	*lsp = NULL;
}
