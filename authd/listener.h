/* listener: the sockets of `service auth`, created by the root parent with
 * their configured owner, group and mode, inherited by the auth process,
 * which accepts on them. */
#ifndef AUTHD_LISTENER_H
#define AUTHD_LISTENER_H

#include "authd/event.h"
#include "authd/settings.h"

#include <stdbool.h>
#include <sys/types.h>

struct auth;

struct listener {
	struct event_io io;
	const struct listener_settings *set;
	struct auth *auth;
	bool restrict_peers;   /* unix socket with mode exactly 0666 */
	uid_t owner;
	gid_t group;
	bool unlink_on_exit;
};

/* Creates every configured listener. Ownership that was set explicitly is
 * always applied (an error if impossible); defaults only when root.
 * Returns an array of set->listener_count listeners, or NULL with *error_r
 * naming the path. May block (filesystem). */
struct listener *listeners_create(const struct auth_settings *set, const char **error_r);
/* Starts accepting on the event loop (auth process). Returns 0 or -1. */
int listeners_start(struct listener *ls, size_t count, struct event_loop *loop, struct auth *auth);
/* Closes the fds; with unlink, removes unix socket files too. */
void listeners_destroy(struct listener **ls, size_t count, bool unlink_files);

#endif
