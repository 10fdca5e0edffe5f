#include "authd/daemon.h"
#include "authd/auth_process.h"
#include "authd/listener.h"
#include "authd/log.h"
#include "authd/worker_spawn.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define DAEMON_RESTART_WINDOW_S 60
#define DAEMON_RESTART_MAX 5
#define DAEMON_PIDFILE "authd.pid"

struct daemon {
	const char *config_path;
	struct auth_settings *set;
	struct listener *listeners;
	char pidfile[4096];
	pid_t child;
	time_t restarts[DAEMON_RESTART_MAX];
	unsigned int restart_idx;
	int sigfd;
	struct worker_spawner *spawner;   /* auth workers (worker_spawn.h) */
};

static int daemon_mkdir_base(const char *dir)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -1;
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* In a forked auth worker: what only the parent may hold. */
static void daemon_worker_cleanup(void *ctx)
{
	struct daemon *d = ctx;
	listeners_destroy(&d->listeners, d->set->listener_count, false);
	close(d->sigfd);
}

/* Forks the auth process with the control socket of its auth workers. The
 * latest settings the parent read (worker_spawn.h) are the ones the
 * workers use, so a restarted auth process gets them too. */
static pid_t daemon_spawn(struct daemon *d)
{
	int ctl[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ctl) < 0)
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(ctl[1]);
		if (pid > 0)
			worker_spawner_attach(d->spawner, ctl[0]);
		else
			close(ctl[0]);
		return pid;
	}
	close(ctl[0]);
	close(d->sigfd);
	worker_spawner_close_in_child(d->spawner);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	struct auth_settings *set = (struct auth_settings *)worker_spawner_settings(d->spawner);
	int ret = auth_process_run(d->config_path, set, d->listeners, d->set->listener_count, ctl[1]);
#ifdef __SANITIZE_ADDRESS__
	/* _exit() skips LeakSanitizer's check at exit: run it here, so that
	 * the tests see what the auth process leaked. */
	__lsan_do_leak_check();
#endif
	_exit(ret);
}

/* Restarts a crashed auth process unless it keeps crashing. */
static bool daemon_may_restart(struct daemon *d)
{
	time_t now = time(NULL);
	time_t oldest = d->restarts[d->restart_idx];
	d->restarts[d->restart_idx] = now;
	d->restart_idx = (d->restart_idx + 1) % DAEMON_RESTART_MAX;
	return oldest == 0 || now - oldest > DAEMON_RESTART_WINDOW_S;
}

static int daemon_child_exited(struct daemon *d, int status)
{
	worker_spawner_detach(d->spawner);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 89) {
		log_fatal("auth process failed to start; see the errors above");
		return 89;
	}
	if (WIFSIGNALED(status))
		log_error("auth process %ld killed by signal %d", (long)d->child, WTERMSIG(status));
	else
		log_error("auth process %ld exited with status %d", (long)d->child, WEXITSTATUS(status));
	if (!daemon_may_restart(d)) {
		log_fatal("auth process keeps dying; giving up");
		return 1;
	}
	d->child = daemon_spawn(d);
	return d->child < 0 ? 1 : -1;
}

/* One signal. Returns the exit code to stop with, or -1 to go on. */
static int daemon_signal(struct daemon *d, int signo)
{
	if (signo == SIGHUP) {
		worker_spawner_reload(d->spawner);
		if (d->child > 0)
			kill(d->child, SIGHUP);
		return -1;
	}
	if (signo == SIGCHLD) {
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != d->child) {
				(void)worker_spawner_reaped(d->spawner, pid, status);
				continue;
			}
			int ret = daemon_child_exited(d, status);
			if (ret >= 0)
				return ret;
		}
		return -1;
	}
	/* SIGTERM / SIGINT */
	if (d->child > 0) {
		kill(d->child, SIGTERM);
		waitpid(d->child, NULL, 0);
	}
	return 0;
}

/* Signals (signalfd) and the auth process's requests for auth workers. A
 * malformed request kills the auth process, which is then restarted. */
static int daemon_loop(struct daemon *d)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = d->sigfd, .events = POLLIN },
			{ .fd = worker_spawner_fd(d->spawner), .events = POLLIN },
		};
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents != 0 && worker_spawner_input(d->spawner) < 0 && d->child > 0) {
			log_error("killing auth process %ld", (long)d->child);
			kill(d->child, SIGKILL);
		}
		struct signalfd_siginfo si;
		while (pfd[0].revents != 0 && read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			int ret = daemon_signal(d, (int)si.ssi_signo);
			if (ret >= 0)
				return ret;
		}
	}
}

static void daemon_background(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_fatal("fork() failed: %s", strerror(errno));
		exit(1);
	}
	if (pid > 0)
		_exit(0);
	setsid();
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

static void daemon_write_pidfile(struct daemon *d)
{
	snprintf(d->pidfile, sizeof(d->pidfile), "%s/%s", d->set->base_dir, DAEMON_PIDFILE);
	FILE *f = fopen(d->pidfile, "w");
	if (f == NULL) {
		log_warning("Can't write pidfile %s: %s", d->pidfile, strerror(errno));
		d->pidfile[0] = '\0';
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

int daemon_run(const char *config_path, struct auth_settings *set, bool foreground)
{
	struct daemon d = { .config_path = config_path, .set = set };
	const char *error = NULL;
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	if (daemon_mkdir_base(set->base_dir) < 0) {
		log_fatal("base_dir: mkdir(%s) failed: %s", set->base_dir, strerror(errno));
		return 89;
	}
	d.listeners = listeners_create(set, &error);
	if (d.listeners == NULL) {
		log_fatal("%s", error);
		return 89;
	}
	if (!foreground)
		daemon_background();
	daemon_write_pidfile(&d);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d.spawner = worker_spawner_create(config_path, set, daemon_worker_cleanup, &d);
	if (d.sigfd < 0 || d.spawner == NULL) {
		log_fatal("signalfd() or setup failed: %s", strerror(errno));
		return 89;
	}
	d.child = daemon_spawn(&d);
	if (d.child < 0) {
		log_fatal("fork() failed: %s", strerror(errno));
		return 89;
	}
	log_info("authd starting up (auth process %ld)", (long)d.child);
	sd_notify(0, "READY=1");
	int ret = daemon_loop(&d);
	sd_notify(0, "STOPPING=1");
	worker_spawner_destroy(&d.spawner);
	close(d.sigfd);
	listeners_destroy(&d.listeners, set->listener_count, true);
	if (d.pidfile[0] != '\0')
		unlink(d.pidfile);
	settings_free(&d.set);
	return ret;
}
