/* echo: the benchmark's ceiling for the no-hash cells.
 *
 * echo CLIENT_SOCKET MASTER_SOCKET
 *
 * A single-threaded epoll server on two unix sockets that sends a canned
 * auth-client (resp. auth-master) greeting on connect and then writes back
 * every byte it reads. The load generator sends it the same request lines
 * as to a real server and counts each echoed line as a reply, so the rate
 * it reaches is what one event loop on this machine can do with these
 * lines and no authentication work at all. Runs until SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ECHO_BUF (64u * 1024u)
#define ECHO_EVENTS 256
#define ECHO_BACKLOG 4096

static const char client_greeting[] =
	"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t1\nCUID\t1\n"
	"COOKIE\t0123456789abcdef0123456789abcdef\nDONE\n";
static const char master_greeting[] = "VERSION\t1\t1\nSPID\t1\n";

struct echo_conn {
	int fd;
	bool listener, master;
	size_t pending_off, pending_len;   /* unwritten echo bytes */
	char buf[ECHO_BUF];
};

static int epfd;

static int listen_on(const char *path, bool master)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, ECHO_BACKLOG) < 0)
		return -1;
	chmod(path, 0666);
	struct echo_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->fd = fd;
	c->listener = true;
	c->master = master;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void conn_close(struct echo_conn *c)
{
	close(c->fd);
	free(c);
}

static void accept_all(struct echo_conn *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct echo_conn *c = malloc(sizeof(*c));
		if (c == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->listener = false;
		c->master = l->master;
		c->pending_off = c->pending_len = 0;
		const char *g = l->master ? master_greeting : client_greeting;
		if (write(fd, g, strlen(g)) < 0) {
			conn_close(c);
			continue;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* Writes what is pending. Returns 1 all written, 0 some left, -1 error. */
static int flush_pending(struct echo_conn *c)
{
	while (c->pending_len > 0) {
		ssize_t n = write(c->fd, c->buf + c->pending_off, c->pending_len);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->pending_off += (size_t)n;
		c->pending_len -= (size_t)n;
	}
	return 1;
}

static void conn_event(struct echo_conn *c, uint32_t events)
{
	int r = 1;
	if ((events & EPOLLOUT) != 0)
		r = flush_pending(c);
	while (r == 1) {
		ssize_t n = read(c->fd, c->buf, sizeof(c->buf));
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			conn_close(c);
			return;
		}
		if (n < 0)
			break;
		c->pending_off = 0;
		c->pending_len = (size_t)n;
		r = flush_pending(c);
	}
	if (r < 0) {
		conn_close(c);
		return;
	}
	struct epoll_event ev = { .events = r == 0 ? EPOLLOUT : EPOLLIN, .data.ptr = c };
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	if (argc != 3) {
		fprintf(stderr, "usage: echo CLIENT_SOCKET MASTER_SOCKET\n");
		return 1;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || listen_on(argv[1], false) < 0 || listen_on(argv[2], true) < 0) {
		perror("echo: listen");
		return 1;
	}
	struct epoll_event evs[ECHO_EVENTS];
	for (;;) {
		int n = epoll_wait(epfd, evs, ECHO_EVENTS, -1);
		for (int i = 0; i < n; i++) {
			struct echo_conn *c = evs[i].data.ptr;
			if (c->listener)
				accept_all(c);
			else
				conn_event(c, evs[i].events);
		}
	}
}
