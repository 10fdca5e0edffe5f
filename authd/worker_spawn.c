/* worker_spawn: the root parent forks auth workers for the auth process
 * (see worker_spawn.h). */
#include "authd/worker_spawn.h"
#include "authd/log.h"
#include "authd/worker_process.h"
#include "authd/worker_proto.h"
#include "common/buf.h"
#include "common/pool.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKER_SPAWN_INPUT_BATCH 64   /* messages handled per input call */
#define WORKER_SPAWN_POLL_NS (10 * 1000 * 1000L)

struct worker_entry {
	pid_t pid;
	bool killed;       /* SIGKILLed on request or because its auth process went */
};

struct worker_spawner {
	const char *config_path;
	const struct auth_settings *set;     /* what new workers get */
	struct auth_settings *owned_set;     /* set after a reload */
	worker_spawn_cleanup_fn *cleanup;
	void *cleanup_ctx;
	int fd;                              /* control socket, -1 none */
	struct worker_entry *workers;
	size_t count, cap;
	uint8_t rx[WORKER_MSG_MAX + 1];
};

static size_t worker_spawn_limit(const struct worker_spawner *sp)
{
	return (size_t)sp->set->auth_worker_max_count * WORKER_SPAWN_LIMIT_FACTOR +
	       WORKER_SPAWN_LIMIT_SLACK;
}

struct worker_spawner *worker_spawner_create(const char *config_path,
					     const struct auth_settings *set,
					     worker_spawn_cleanup_fn *cleanup, void *cleanup_ctx)
{
	struct worker_spawner *sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return NULL;
	sp->config_path = config_path;
	sp->set = set;
	sp->cleanup = cleanup;
	sp->cleanup_ctx = cleanup_ctx;
	sp->fd = -1;
	return sp;
}

static void worker_spawner_kill_all(struct worker_spawner *sp, int sig)
{
	for (size_t i = 0; i < sp->count; i++) {
		kill(sp->workers[i].pid, sig);
		if (sig == SIGKILL)
			sp->workers[i].killed = true;
	}
}

/* Waits (bounded) until every worker is reaped. */
static void worker_spawner_wait_all(struct worker_spawner *sp, unsigned int ms)
{
	struct timespec pause = { 0, WORKER_SPAWN_POLL_NS };
	long rounds = (long)ms * 1000000L / WORKER_SPAWN_POLL_NS;
	for (long round = 0; sp->count > 0 && round <= rounds; round++) {
		for (size_t i = 0; i < sp->count;) {
			int status;
			pid_t pid = sp->workers[i].pid;
			pid_t r = waitpid(pid, &status, WNOHANG);
			if (r == pid || (r < 0 && errno == ECHILD))
				sp->workers[i] = sp->workers[--sp->count];
			else
				i++;
		}
		if (sp->count > 0)
			nanosleep(&pause, NULL);
	}
}

void worker_spawner_destroy(struct worker_spawner **spp)
{
	struct worker_spawner *sp = *spp;
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	worker_spawner_kill_all(sp, SIGTERM);
	worker_spawner_wait_all(sp, WORKER_SPAWN_STOP_MS);
	worker_spawner_kill_all(sp, SIGKILL);
	worker_spawner_wait_all(sp, WORKER_SPAWN_STOP_MS);
	free(sp->workers);
	settings_free(&sp->owned_set);
	free(sp);
	*spp = NULL;
}

void worker_spawner_attach(struct worker_spawner *sp, int fd)
{
	worker_spawner_detach(sp);
	sp->fd = fd;
}

void worker_spawner_detach(struct worker_spawner *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	/* Workers belong to one auth process; a stuck one would otherwise
	 * linger. Those that are idle exit on EOF anyway. */
	worker_spawner_kill_all(sp, SIGKILL);
}

void worker_spawner_close_in_child(struct worker_spawner *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
}

int worker_spawner_fd(const struct worker_spawner *sp)
{
	return sp->fd;
}

const struct auth_settings *worker_spawner_settings(const struct worker_spawner *sp)
{
	return sp->set;
}

void worker_spawner_reload(struct worker_spawner *sp)
{
	struct auth_settings *set = NULL;
	const char *error = NULL;
	if (settings_load(sp->config_path, &set, &error) < 0) {
		log_error("SIGHUP: auth workers keep the old configuration: %s", error);
		return;
	}
	settings_free(&sp->owned_set);
	sp->owned_set = set;
	sp->set = set;
}

/* --- spawning --- */

static int worker_spawner_reply(struct worker_spawner *sp, const struct worker_msg *msg, int fd)
{
	struct buf out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	int ret = worker_msg_encode(msg, &out, &error);
	if (ret < 0)
		log_error("auth-worker control: can't encode %s: %s",
			  worker_msg_type_name(msg->type), error);
	else if ((ret = worker_msg_send(sp->fd, out.data, out.len, fd)) < 0)
		log_error("auth-worker control: send failed: %s", strerror(errno));
	buf_free(&out);
	return ret;
}

static void worker_spawner_failed(struct worker_spawner *sp, uint32_t seq, int err)
{
	struct worker_msg msg = { .type = WORKER_MSG_SPAWN_FAILED, .seq = seq, .has_seq = true,
				  .result = err, .has_result = true };
	(void)worker_spawner_reply(sp, &msg, -1);
}

static bool worker_spawner_grow(struct worker_spawner *sp)
{
	if (sp->count < sp->cap)
		return true;
	size_t cap = sp->cap == 0 ? 16 : sp->cap * 2;
	struct worker_entry *w = realloc(sp->workers, cap * sizeof(*w));
	if (w == NULL)
		return false;
	sp->workers = w;
	sp->cap = cap;
	return true;
}

/* The new worker: never returns. */
static void worker_spawner_child(struct worker_spawner *sp, int fd)
{
	if (sp->cleanup != NULL)
		sp->cleanup(sp->cleanup_ctx);
	worker_spawner_close_in_child(sp);
	/* _exit: no atexit handlers or library destructors of the parent. */
	_exit(worker_process_run(sp->set, fd));
}

static void worker_spawner_spawn(struct worker_spawner *sp, uint32_t seq)
{
	int sv[2];
	if (sp->count >= worker_spawn_limit(sp) || !worker_spawner_grow(sp)) {
		log_error("auth-worker: refusing to start more than %zu workers",
			  worker_spawn_limit(sp));
		worker_spawner_failed(sp, seq, EAGAIN);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		worker_spawner_failed(sp, seq, errno);
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		worker_spawner_child(sp, sv[1]);
	}
	int err = errno;
	close(sv[1]);
	if (pid < 0) {
		log_error("auth-worker: fork() failed: %s", strerror(err));
		close(sv[0]);
		worker_spawner_failed(sp, seq, err);
		return;
	}
	sp->workers[sp->count++] = (struct worker_entry){ .pid = pid };
	struct worker_msg msg = { .type = WORKER_MSG_SPAWNED, .seq = seq, .has_seq = true,
				  .pid = (uint32_t)pid, .has_pid = true };
	if (worker_spawner_reply(sp, &msg, sv[0]) < 0) {
		kill(pid, SIGKILL);
		sp->workers[sp->count - 1].killed = true;
	}
	close(sv[0]);
	log_debug("auth-worker %ld started", (long)pid);
}

static struct worker_entry *worker_spawner_find(struct worker_spawner *sp, pid_t pid)
{
	for (size_t i = 0; i < sp->count; i++)
		if (sp->workers[i].pid == pid)
			return &sp->workers[i];
	return NULL;
}

static void worker_spawner_kill(struct worker_spawner *sp, uint32_t pid)
{
	struct worker_entry *w = pid > 0 && pid <= (uint32_t)INT32_MAX ?
				 worker_spawner_find(sp, (pid_t)pid) : NULL;
	if (w == NULL) {
		/* It may have exited and been reaped meanwhile. */
		log_debug("auth-worker control: KILL for %lu, not a live worker",
			  (unsigned long)pid);
		return;
	}
	if (!w->killed && kill(w->pid, SIGKILL) == 0)
		w->killed = true;
}

/* One message from the auth process. Returns -1 when malformed. */
static int worker_spawner_message(struct worker_spawner *sp, const uint8_t *data, size_t len)
{
	struct pool *pool = pool_create(1024);
	struct worker_msg msg;
	const char *error = NULL;
	int ret = worker_msg_decode(data, len, pool, &msg, &error);
	if (ret == 0 && msg.type == WORKER_MSG_SPAWN)
		worker_spawner_spawn(sp, msg.seq);
	else if (ret == 0 && msg.type == WORKER_MSG_KILL)
		worker_spawner_kill(sp, msg.pid);
	else if (ret == 0) {
		error = "unexpected message type";
		ret = -1;
	}
	if (ret < 0)
		log_error("auth-worker control: malformed message from the auth process: %s",
			  error);
	pool_destroy(&pool);
	return ret;
}

int worker_spawner_input(struct worker_spawner *sp)
{
	for (int i = 0; i < WORKER_SPAWN_INPUT_BATCH && sp->fd >= 0; i++) {
		ssize_t n = worker_msg_recv(sp->fd, sp->rx, sizeof(sp->rx), NULL);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n == 0) {
			/* The auth process is exiting; SIGCHLD follows. */
			close(sp->fd);
			sp->fd = -1;
			return 0;
		}
		if (n < 0) {
			log_error("auth-worker control: bad message from the auth process: %s",
				  strerror(errno));
			return -1;
		}
		if (worker_spawner_message(sp, sp->rx, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

bool worker_spawner_reaped(struct worker_spawner *sp, pid_t pid, int status)
{
	struct worker_entry *w = worker_spawner_find(sp, pid);
	if (w == NULL)
		return false;
	bool killed = w->killed;
	*w = sp->workers[--sp->count];
	if (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		log_debug("auth-worker %ld stopped", (long)pid);
	else if (WIFSIGNALED(status))
		log_error("auth-worker %ld died of signal %d", (long)pid, WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		log_error("auth-worker %ld exited with status %d", (long)pid, WEXITSTATUS(status));
	return true;
}
