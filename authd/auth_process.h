/* auth_process: the unprivileged auth process: drops privileges, then runs
 * the event loop with the inherited listeners, the hash pool and the auth
 * state until SIGTERM. SIGHUP re-reads the config and the passwd-files;
 * live connections keep the settings they started with. */
#ifndef AUTHD_AUTH_PROCESS_H
#define AUTHD_AUTH_PROCESS_H

#include "authd/listener.h"
#include "authd/settings.h"

/* Drops to the configured user (when root), then serves. worker_ctl_fd is
 * the control socket to the root parent for auth workers (worker_pool.h;
 * -1: none, blocking passdbs then fail). Returns the process exit code.
 * Takes ownership of set and worker_ctl_fd. */
int auth_process_run(const char *config_path, struct auth_settings *set,
		     struct listener *listeners, size_t listener_count, int worker_ctl_fd);

/* The user the auth process runs as: service auth { user }, else
 * default_internal_user. */
const char *auth_process_user(const struct auth_settings *set);

#endif
