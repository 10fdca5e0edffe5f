#include "authd/auth_process.h"
#include "authd/auth.h"
#include "authd/event.h"
#include "authd/hashpool.h"
#include "authd/log.h"
#include "authd/proto_client.h"
#include "authd/proto_master.h"
#include "authd/worker_pool.h"
#include "passdb/db_passwd_file.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct auth_process {
	const char *config_path;
	struct event_loop *loop;
	struct hashpool *hashpool;
	struct auth *auth;
	struct listener *listeners;
	size_t listener_count;
	struct event_io signal_io;
	struct event_io hashpool_io;
	struct worker_pool *worker_pool;
	int worker_ctl_fd;
};

const char *auth_process_user(const struct auth_settings *set)
{
	if (set->service_auth_user != NULL && *set->service_auth_user != '\0')
		return set->service_auth_user;
	return set->default_internal_user;
}

/* A failure to drop privileges is fatal (DESIGN.md). */
static int auth_process_drop_privileges(const struct auth_settings *set)
{
	if (geteuid() != 0)
		return 0;
	const char *user = auth_process_user(set);
	if (strcmp(user, "root") == 0) {
		log_warning("service auth { user = root }: the auth process keeps root privileges");
		return 0;
	}
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		log_fatal("service auth: user '%s' doesn't exist", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_fatal("Failed to drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_fatal("Dropping privileges to %s failed: could regain root", user);
		return -1;
	}
	return 0;
}

static bool str_differs(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

static bool listener_setting_differs(const struct listener_settings *a,
				     const struct listener_settings *b)
{
	return str_differs(a->name, b->name) || str_differs(a->path, b->path) ||
	       a->mode != b->mode || a->port != b->port || a->inet != b->inet ||
	       str_differs(a->user, b->user) || str_differs(a->group, b->group) ||
	       str_differs(a->address, b->address);
}

/* The root parent bound the listeners at start; a reload cannot change
 * them, so say so instead of silently keeping the old ones. */
static void auth_process_check_listeners(const struct auth_process *p,
					 const struct auth_settings *set)
{
	bool changed = set->listener_count != p->listener_count;
	for (size_t i = 0; !changed && i < set->listener_count; i++)
		changed = listener_setting_differs(p->listeners[i].set, &set->listeners[i]);
	if (changed)
		log_warning("SIGHUP: listener changes in %s take effect after a restart",
			    p->config_path);
}

static void auth_process_reload(struct auth_process *p)
{
	struct auth_settings *set = NULL;
	const char *error = NULL;
	db_passwd_file_flush_all();
	if (settings_load(p->config_path, &set, &error) < 0) {
		log_error("SIGHUP: keeping the old configuration: %s", error);
		return;
	}
	struct auth *auth = auth_create(set, p->loop, p->hashpool, &error);
	if (auth == NULL) {
		log_error("SIGHUP: keeping the old configuration: %s", error);
		settings_free(&set);
		return;
	}
	auth_process_check_listeners(p, set);
	auth->owned_set = set;
	auth->worker_pool = p->worker_pool;
	if (p->worker_pool != NULL)
		worker_pool_reload(p->worker_pool, set->auth_worker_max_count);
	for (size_t i = 0; i < p->listener_count; i++)
		p->listeners[i].auth = auth;
	auth_unref(&p->auth);
	p->auth = auth;
	log_info("SIGHUP received - configuration and passwd-files reloaded");
}

static void auth_process_signal(struct event_io *io, uint32_t events)
{
	struct auth_process *p = io->ctx;
	struct signalfd_siginfo si;
	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			auth_process_reload(p);
		else
			event_loop_stop(p->loop);
	}
}

static void auth_process_hashpool(struct event_io *io, uint32_t events)
{
	(void)events;
	hashpool_run_done(((struct auth_process *)io->ctx)->hashpool);
}

static int auth_process_setup(struct auth_process *p, struct auth_settings *set)
{
	const char *error = NULL;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	p->loop = event_loop_create();
	p->signal_io = (struct event_io){ .fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC),
					  .fn = auth_process_signal, .ctx = p };
	if (p->loop == NULL || p->signal_io.fd < 0 ||
	    event_io_add(p->loop, &p->signal_io, EPOLLIN) < 0) {
		log_fatal("event loop setup failed: %s", strerror(errno));
		return -1;
	}
	if (hashpool_create(set->auth_hash_threads, &p->hashpool, &error) < 0) {
		log_fatal("auth_hash_threads: %s", error);
		return -1;
	}
	p->hashpool_io = (struct event_io){ .fd = hashpool_fd(p->hashpool),
					    .fn = auth_process_hashpool, .ctx = p };
	if (event_io_add(p->loop, &p->hashpool_io, EPOLLIN) < 0)
		return -1;
	if (p->worker_ctl_fd >= 0) {
		p->worker_pool = worker_pool_create(p->loop, p->worker_ctl_fd,
						    set->auth_worker_max_count);
		p->worker_ctl_fd = -1;
		if (p->worker_pool == NULL) {
			log_fatal("auth worker pool setup failed: %s", strerror(errno));
			return -1;
		}
	}
	p->auth = auth_create(set, p->loop, p->hashpool, &error);
	if (p->auth == NULL) {
		log_fatal("%s", error);
		return -1;
	}
	p->auth->worker_pool = p->worker_pool;
	return listeners_start(p->listeners, p->listener_count, p->loop, p->auth);
}

int auth_process_run(const char *config_path, struct auth_settings *set,
		     struct listener *listeners, size_t listener_count, int worker_ctl_fd)
{
	struct auth_process p = {
		.config_path = config_path,
		.listeners = listeners,
		.listener_count = listener_count,
		.worker_ctl_fd = worker_ctl_fd,
	};
	/* No core dumps: they would hold passwords. */
	prctl(PR_SET_DUMPABLE, 0);
	log_set_prefix("auth");
	if (auth_process_drop_privileges(set) < 0 || auth_process_setup(&p, set) < 0)
		return 89;
	int ret = event_loop_run(p.loop);
	/* Orderly teardown so nothing (and no secret) is left behind. */
	proto_client_close_all();
	proto_master_close_all();
	event_loop_run_deferred(p.loop);
	/* Before the hash pool: failed worker jobs may still queue hashing. */
	worker_pool_destroy(&p.worker_pool);
	event_loop_run_deferred(p.loop);
	hashpool_destroy(&p.hashpool);
	event_loop_run_deferred(p.loop);
	auth_unref(&p.auth);
	event_loop_run_deferred(p.loop);
	close(p.signal_io.fd);
	event_loop_destroy(&p.loop);
	db_passwd_file_flush_all();
	return ret < 0 ? 1 : 0;
}
