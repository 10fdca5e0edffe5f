#include "authd/auth.h"
#include "authd/cache.h"
#include "authd/log.h"
#include "authd/penalty.h"
#include "authd/warn_once.h"
#include "common/pool.h"
#include "passdb/db_passwd_file_args.h"
#include "passdb/passdb.h"
#include "userdb/userdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int auth_init_mechs(struct auth *auth, const char **error_r)
{
	static char errbuf[256];
	const char *p = auth->set->auth_mechanisms;
	while (*p != '\0') {
		p += strspn(p, " ,");
		size_t n = strcspn(p, " ,");
		if (n == 0)
			break;
		const struct mech *m = mech_find(p, n);
		if (m == NULL || auth->mech_count == AUTH_MAX_MECHS) {
			snprintf(errbuf, sizeof(errbuf), "auth_mechanisms: Unsupported mechanism '%.*s'",
				 (int)n, p);
			*error_r = errbuf;
			return -1;
		}
		bool dup = false;
		for (size_t i = 0; i < auth->mech_count; i++)
			dup |= auth->mechs[i] == m;
		if (!dup)
			auth->mechs[auth->mech_count++] = m;
		p += n;
	}
	if (auth->mech_count == 0) {
		*error_r = "auth_mechanisms: No authentication mechanisms configured";
		return -1;
	}
	for (size_t i = 0; i < auth->mech_count; i++)
		if (mech_handshake_line(&auth->mech_lines, auth->mechs[i]) < 0)
			return -1;
	return 0;
}

static int auth_init_passdbs(struct auth *auth, const char **error_r)
{
	const struct auth_settings *set = auth->set;
	auth->passdbs = calloc(set->passdb_count + 1, sizeof(*auth->passdbs));
	auth->masterdbs = calloc(set->passdb_count + 1, sizeof(*auth->masterdbs));
	if (auth->passdbs == NULL || auth->masterdbs == NULL)
		return -1;
	for (size_t i = 0; i < set->passdb_count; i++) {
		struct passdb *db = passdb_create(&set->passdbs[i], (unsigned int)i + 1, auth->loop, error_r);
		if (db == NULL)
			return -1;
		if (set->passdbs[i].master)
			auth->masterdbs[auth->masterdb_count++] = db;
		else
			auth->passdbs[auth->passdb_count++] = db;
	}
	return 0;
}

static int auth_init_userdbs(struct auth *auth, const char **error_r)
{
	const struct auth_settings *set = auth->set;
	auth->userdbs = calloc(set->userdb_count + 1, sizeof(*auth->userdbs));
	if (auth->userdbs == NULL)
		return -1;
	/* passwd-file logs "missing userdb info" only with a single userdb. */
	passwd_file_args_set_userdb_count((unsigned int)set->userdb_count);
	for (size_t i = 0; i < set->userdb_count; i++) {
		struct userdb *db = userdb_create(&set->userdbs[i], (unsigned int)i + 1, auth->loop, error_r);
		if (db == NULL)
			return -1;
		auth->userdbs[auth->userdb_count++] = db;
	}
	return 0;
}

struct auth *auth_create(const struct auth_settings *set, struct event_loop *loop,
			 struct hashpool *hashpool, const char **error_r)
{
	struct auth *auth = calloc(1, sizeof(*auth));
	if (auth == NULL) {
		*error_r = "Out of memory";
		return NULL;
	}
	auth->refcount = 1;
	auth->set = set;
	auth->loop = loop;
	auth->hashpool = hashpool;
	auth->mech_lines.limit = 64 * 1024;
	auth->pid = getpid();
	snprintf(auth->pid_str, sizeof(auth->pid_str), "%ld", (long)auth->pid);
	if (gethostname(auth->hostname, sizeof(auth->hostname) - 1) < 0)
		strcpy(auth->hostname, "localhost");
	auth->failure_delay_ms = (uint64_t)set->auth_failure_delay * 1000u;
	auth->penalty = penalty_create(set->auth_failure_delay);
	auth->weak_warned = warn_once_create();
	auth->mech_env.anonymous_username = set->auth_anonymous_username;
	auth->mech_env.realms = set->auth_realms;
	auth->mech_env.hostname = auth->hostname;
	if (auth->penalty == NULL || auth->weak_warned == NULL) {
		*error_r = "Out of memory";
		auth_destroy(&auth);
		return NULL;
	}
	if (set->auth_cache_size > 0 &&
	    (auth->cache = auth_cache_create(set->auth_cache_size, set->auth_cache_ttl,
					     set->auth_cache_negative_ttl, error_r)) == NULL) {
		auth_destroy(&auth);
		return NULL;
	}
	if (username_rules_init(&auth->username_rules, set->auth_username_chars,
				set->auth_username_translation, set->auth_default_realm, error_r) < 0 ||
	    auth_init_mechs(auth, error_r) < 0 || auth_init_passdbs(auth, error_r) < 0 ||
	    auth_init_userdbs(auth, error_r) < 0) {
		auth_destroy(&auth);
		return NULL;
	}
	return auth;
}

void auth_destroy(struct auth **authp)
{
	struct auth *auth = *authp;
	if (auth == NULL)
		return;
	for (size_t i = 0; i < auth->passdb_count; i++)
		passdb_destroy(&auth->passdbs[i]);
	for (size_t i = 0; i < auth->masterdb_count; i++)
		passdb_destroy(&auth->masterdbs[i]);
	for (size_t i = 0; i < auth->userdb_count; i++)
		userdb_destroy(&auth->userdbs[i]);
	free(auth->passdbs);
	free(auth->masterdbs);
	free(auth->userdbs);
	buf_free(&auth->mech_lines);
	penalty_destroy(&auth->penalty);
	warn_once_destroy(&auth->weak_warned);
	auth_cache_destroy(&auth->cache);
	settings_free(&auth->owned_set);
	free(auth);
	*authp = NULL;
}

void auth_ref(struct auth *auth)
{
	auth->refcount++;
}

void auth_unref(struct auth **authp)
{
	struct auth *auth = *authp;
	*authp = NULL;
	if (auth != NULL && --auth->refcount == 0)
		auth_destroy(&auth);
}

const struct mech *auth_find_mech(const struct auth *auth, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < auth->mech_count; i++) {
		const char *m = auth->mechs[i]->name;
		if (strlen(m) == len && strncasecmp(m, (const char *)name, len) == 0)
			return auth->mechs[i];
	}
	return NULL;
}
