/* daemon: the root parent. Creates base_dir and the listeners, writes the
 * pidfile, starts the auth process and restarts it if it dies, forwards
 * SIGHUP, and on SIGTERM stops it and removes the sockets. */
#ifndef AUTHD_DAEMON_H
#define AUTHD_DAEMON_H

#include "authd/settings.h"

#include <stdbool.h>

/* Runs the daemon; returns the exit code. Takes ownership of set. */
int daemon_run(const char *config_path, struct auth_settings *set, bool foreground);

#endif
