/* worker_spawn: the root parent's side of the auth worker processes.
 *
 * Before forking the auth process the parent makes a control socketpair
 * (SOCK_SEQPACKET); the auth process keeps one end and asks on it for
 * workers (SPAWN) and for a stuck worker to be killed (KILL pid). The
 * parent forks each worker from itself - so a worker can keep root for PAM
 * and /etc/shadow, or switch to `service auth-worker { user }` - with a
 * fresh socketpair, and passes the auth process's end back with SCM_RIGHTS
 * in SPAWNED (or answers SPAWN_FAILED with an errno). Workers are forked
 * with the configuration the parent itself read (not anything the auth
 * process sends), and re-read on SIGHUP, so an auth process taken over by
 * an attacker cannot make a root worker run another program or module than
 * the configured ones; it also cannot signal anything but the parent's own
 * workers, and cannot make more than WORKER_SPAWN_LIMIT_FACTOR times
 * auth_worker_max_count of them exist.
 *
 * Everything received is checked (worker_proto.h). A malformed message
 * makes worker_spawner_input() return -1: the caller kills the auth
 * process (and restarts it); the parent never dies of its input. Workers
 * of an auth process that is gone are killed. Nothing here blocks except
 * the bounded wait in worker_spawner_destroy(). */
#ifndef AUTHD_WORKER_SPAWN_H
#define AUTHD_WORKER_SPAWN_H

#include "authd/settings.h"

#include <stdbool.h>
#include <sys/types.h>

/* Live + not yet reaped workers the parent allows, per auth_worker_max_count
 * (workers that just exited still count until reaped). */
#define WORKER_SPAWN_LIMIT_FACTOR 2u
#define WORKER_SPAWN_LIMIT_SLACK 8u
/* worker_spawner_destroy(): SIGTERM, then SIGKILL after this long. */
#define WORKER_SPAWN_STOP_MS 2000u

struct worker_spawner;

/* Runs in every new worker right after fork (before anything else), to
 * close what the parent holds: listeners, the signalfd. */
typedef void worker_spawn_cleanup_fn(void *ctx);

/* Creates the spawner. set is borrowed and must outlive the spawner (the
 * daemon's startup settings); config_path is re-read on reload. Returns
 * NULL on out of memory. */
struct worker_spawner *worker_spawner_create(const char *config_path,
					     const struct auth_settings *set,
					     worker_spawn_cleanup_fn *cleanup, void *cleanup_ctx);
/* SIGTERMs every worker, waits for them (at most WORKER_SPAWN_STOP_MS, then
 * SIGKILL), frees everything and NULLs *sp. Blocks that long at most. */
void worker_spawner_destroy(struct worker_spawner **sp);

/* A new auth process runs; fd is the parent's end of its control socket
 * (non-blocking, owned by the spawner from now on). */
void worker_spawner_attach(struct worker_spawner *sp, int fd);
/* The auth process is gone: closes its control socket, kills its workers. */
void worker_spawner_detach(struct worker_spawner *sp);
/* Closes the spawner's fds without touching any process (in a forked
 * child of the parent). */
void worker_spawner_close_in_child(struct worker_spawner *sp);

/* The control socket to poll for input, or -1 when none. */
int worker_spawner_fd(const struct worker_spawner *sp);
/* Handles what arrived on the control socket. Returns 0, or -1 when the
 * auth process sent something malformed (logged): kill it. EOF detaches. */
int worker_spawner_input(struct worker_spawner *sp);

/* After waitpid(): returns true if pid was one of the workers (its end is
 * logged when abnormal and it is forgotten), false otherwise. */
bool worker_spawner_reaped(struct worker_spawner *sp, pid_t pid, int status);

/* SIGHUP: re-reads the configuration; workers forked from now on use it
 * (the old one is kept when the new one does not load). */
void worker_spawner_reload(struct worker_spawner *sp);
/* The settings new workers get; the parent also starts a restarted auth
 * process with them, so both agree after a reload. */
const struct auth_settings *worker_spawner_settings(const struct worker_spawner *sp);

#endif
