/* auth: the auth process's shared state, built once from the settings:
 * enabled mechanisms and their handshake lines, passdb and userdb chains,
 * user name rules, the event loop and the hash pool. */
#ifndef AUTHD_AUTH_H
#define AUTHD_AUTH_H

#include "authd/settings.h"
#include "authd/username.h"
#include "common/buf.h"
#include "mechanisms/mech.h"

#include <stdint.h>
#include <sys/types.h>

struct auth_cache;
struct event_loop;
struct hashpool;
struct passdb;
struct userdb;
struct worker_pool;

#define AUTH_MAX_MECHS 32

struct auth {
	unsigned int refcount;       /* main + every connection using it */
	const struct auth_settings *set;
	struct auth_settings *owned_set;   /* freed with the auth (reloads) */
	struct event_loop *loop;
	struct hashpool *hashpool;
	struct username_rules username_rules;
	struct mech_env mech_env;
	const struct mech *mechs[AUTH_MAX_MECHS];  /* enabled, in config order */
	size_t mech_count;
	struct buf mech_lines;       /* precomputed MECH lines of the handshake */
	struct passdb **passdbs;     /* normal chain (master = no) */
	size_t passdb_count;
	struct passdb **masterdbs;   /* master = yes */
	size_t masterdb_count;
	struct userdb **userdbs;
	size_t userdb_count;
	pid_t pid;
	char pid_str[16];
	uint32_t next_cuid;
	char hostname[256];
	uint64_t failure_delay_ms;
	struct penalty *penalty;
	struct warn_once *weak_warned;   /* users warned about weak schemes */
	struct worker_pool *worker_pool; /* the auth process's (auth_process.c);
					  * NULL in test harnesses */
	struct auth_cache *cache;        /* NULL when auth_cache_size = 0 */
};

/* Builds the auth state: mechanisms, passdbs and userdbs (opening their
 * files), user name rules. Returns the auth, or NULL with *error_r. May
 * block (reads files). */
struct auth *auth_create(const struct auth_settings *set, struct event_loop *loop,
			 struct hashpool *hashpool, const char **error_r);
void auth_destroy(struct auth **auth);
/* Connections keep the auth they were accepted with across a reload. */
void auth_ref(struct auth *auth);
void auth_unref(struct auth **auth);

/* Returns the enabled mechanism with this name (case-insensitive) or NULL. */
const struct mech *auth_find_mech(const struct auth *auth, const uint8_t *name, size_t len);

#endif
