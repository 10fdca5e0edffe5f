/* userdb ldap: Dovecot's LDAP userdb (spec passwd-file-and-ldap.md B.3):
 * a search with user_filter / user_attrs (missing attributes are skipped,
 * several `gid` values are joined with ','), and LIST through
 * iterate_filter / iterate_attrs, streamed: names are handed out as they
 * arrive, at most USERDB_LDAP_ITER_BUFFER waiting; beyond that the
 * iteration's private connection is not read until the consumer catches up. */
#include "userdb/userdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_ldap_auth.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>

#define USERDB_LDAP_ITER_BUFFER 256u
#define USERDB_LDAP_ITER_LOW 64u
#define USERDB_LDAP_USER_MAX 1024u

struct userdb_ldap {
	struct ldap_db *ldb;
	const struct ldap_conf *conf;
	struct ldap_attr_map user_map, iter_map;
};

struct userdb_ldap_request {
	struct ldap_req lreq;
	struct auth_request *req;
	struct userdb_ldap *ul;
	const struct ldap_entry *entry;
};

static int userdb_ldap_init(struct userdb *db, const char *args, const char **error_r)
{
	struct userdb_ldap *ul = pool_alloc(db->pool, sizeof(*ul));
	ul->ldb = ldap_db_get(args, db->loop, error_r);
	if (ul->ldb == NULL)
		return -1;
	ul->conf = ldap_db_conf(ul->ldb);
	if (ldap_attr_map_parse(db->pool, ul->conf->user_attrs, NULL, &ul->user_map, error_r) < 0 ||
	    ldap_attr_map_parse(db->pool, ul->conf->iterate_attrs, NULL, &ul->iter_map, error_r) < 0) {
		ldap_db_unref(&ul->ldb);
		return -1;
	}
	/* blocking = yes: the lookups run in auth worker processes. */
	db->blocking = ul->conf->blocking;
	db->ctx = ul;
	return 0;
}

static void userdb_ldap_deinit(struct userdb *db)
{
	struct userdb_ldap *ul = db->ctx;
	if (ul != NULL)
		ldap_db_unref(&ul->ldb);
}

/* --- USER --- */

static void userdb_ldap_field(void *ctx, const char *name, const char *value)
{
	if (value != NULL)
		auth_request_set_userdb_field(ctx, name, value);
}

static bool userdb_ldap_entry(struct ldap_req *lreq, const struct ldap_entry *entry)
{
	struct userdb_ldap_request *r = lreq->ctx;
	if (r->entry == NULL)
		r->entry = ldap_auth_entry_copy(r->req->pool, entry);
	return true;
}

static void userdb_ldap_done(struct ldap_req *lreq, int result, const char *error)
{
	struct userdb_ldap_request *r = lreq->ctx;
	struct auth_request *req = r->req;
	int ret = ldap_auth_search_outcome(req, result, error, lreq->entries);
	enum userdb_result res = ret < 0 ? USERDB_RESULT_INTERNAL_FAILURE :
				 ret == 0 ? USERDB_RESULT_USER_UNKNOWN : USERDB_RESULT_OK;
	if (ret > 0) {
		struct ldap_attr_apply a = {
			.userdb = true, .vars = ldap_auth_vars, .field = userdb_ldap_field,
			.log = ldap_auth_log, .ctx = req, .vars_ctx = req,
		};
		ldap_attr_map_apply(&r->ul->user_map, r->entry, &a);
	}
	auth_request_userdb_done(req, res);
	auth_request_unref(&req);   /* ours */
}

static void userdb_ldap_lookup(struct userdb *db, struct auth_request *req)
{
	struct userdb_ldap *ul = db->ctx;
	struct userdb_ldap_request *r = pool_alloc(req->pool, sizeof(*r));
	r->req = req;
	r->ul = ul;
	r->lreq = (struct ldap_req){
		.kind = LDAP_REQ_SEARCH, .sizelimit = 2,
		.entry = userdb_ldap_entry, .done = userdb_ldap_done, .ctx = r,
	};
	auth_request_ref(req);
	if (ldap_auth_search_init(&r->lreq, req, ul->conf, ul->conf->user_filter,
				  ul->user_map.attr_names) < 0) {
		auth_request_userdb_done(req, USERDB_RESULT_INTERNAL_FAILURE);
		auth_request_unref(&req);
		return;
	}
	ldap_db_submit(ul->ldb, &r->lreq);
}

/* --- LIST --- */

struct userdb_iter {
	struct ldap_req lreq;
	struct userdb_ldap *ul;
	struct pool *entry_pool;           /* reset after every entry */
	char *names[USERDB_LDAP_ITER_BUFFER];
	size_t head, count;                /* ring */
	char *current;                     /* handed out by the last next() */
	bool paused, finished, failed, waiting;
	userdb_iter_ready_fn *ready;
	void *ready_ctx;
	struct event_timer notify;         /* calls ready from the loop */
};

static void userdb_ldap_iter_notify(struct event_timer *timer)
{
	struct userdb_iter *it = timer->ctx;
	if (it->waiting && it->ready != NULL) {
		it->waiting = false;
		it->ready(it->ready_ctx);   /* may deinit it */
	}
}

static void userdb_ldap_iter_wake(struct userdb_iter *it)
{
	if (it->waiting && !event_timer_pending(&it->notify))
		event_timer_add(ldap_db_loop(it->ul->ldb), &it->notify, 0);
}

static void userdb_ldap_iter_name(void *ctx, const char *name, const char *value)
{
	struct userdb_iter *it = ctx;
	(void)name;
	if (value == NULL || it->count >= USERDB_LDAP_ITER_BUFFER ||
	    strnlen(value, USERDB_LDAP_USER_MAX + 1) > USERDB_LDAP_USER_MAX)
		return;
	char *copy = strdup(value);
	if (copy == NULL)
		return;
	it->names[(it->head + it->count++) % USERDB_LDAP_ITER_BUFFER] = copy;
}

/* One entry may carry several user values; stop reading while the
 * buffer cannot take another entry's worth. */
static bool userdb_ldap_iter_entry(struct ldap_req *lreq, const struct ldap_entry *entry)
{
	struct userdb_iter *it = lreq->ctx;
	struct ldap_attr_apply a = {
		.field = userdb_ldap_iter_name, .ctx = it,
	};
	ldap_attr_map_iterate(&it->ul->iter_map, entry, &a);
	pool_reset(it->entry_pool);
	userdb_ldap_iter_wake(it);
	it->paused = it->count + USERDB_LDAP_ITER_LOW > USERDB_LDAP_ITER_BUFFER;
	return !it->paused;
}

static void userdb_ldap_iter_done(struct ldap_req *lreq, int result, const char *error)
{
	struct userdb_iter *it = lreq->ctx;
	it->finished = true;
	if (result != LDAP_SUCCESS) {
		log_error("ldap: user iteration failed: %s", error);
		it->failed = true;
	}
	userdb_ldap_iter_wake(it);
}

static struct userdb_iter *userdb_ldap_iterate_init(struct userdb *db, const char **error_r)
{
	struct userdb_ldap *ul = db->ctx;
	struct userdb_iter *it = calloc(1, sizeof(*it));
	if (it == NULL) {
		*error_r = "Out of memory";
		return NULL;
	}
	static const int scopes[] = { LDAP_SCOPE_BASE, LDAP_SCOPE_ONELEVEL, LDAP_SCOPE_SUBTREE };
	it->ul = ul;
	it->entry_pool = pool_create(0);
	it->notify = (struct event_timer){ .fn = userdb_ldap_iter_notify, .ctx = it };
	/* no request: base and filter are used as written (no variables) */
	it->lreq = (struct ldap_req){
		.kind = LDAP_REQ_ITERATE, .base = ul->conf->base, .filter = ul->conf->iterate_filter,
		.scope = scopes[ul->conf->scope], .attrs = ul->iter_map.attr_names,
		.pool = it->entry_pool, .entry = userdb_ldap_iter_entry,
		.done = userdb_ldap_iter_done, .ctx = it,
	};
	ldap_db_submit(ul->ldb, &it->lreq);
	return it;
}

static int userdb_ldap_iterate_next(struct userdb_iter *it, const char **user_r)
{
	free(it->current);
	it->current = NULL;
	if (it->count > 0) {
		it->current = it->names[it->head];
		it->head = (it->head + 1) % USERDB_LDAP_ITER_BUFFER;
		it->count--;
		if (it->paused && it->count <= USERDB_LDAP_ITER_LOW) {
			it->paused = false;
			ldap_db_iter_resume(&it->lreq);
		}
		*user_r = it->current;
		return 1;
	}
	if (it->finished)
		return it->failed ? -1 : 0;
	it->waiting = true;
	return USERDB_ITER_PENDING;
}

static void userdb_ldap_iterate_set_ready(struct userdb_iter *it, userdb_iter_ready_fn *ready,
					  void *ctx)
{
	it->ready = ready;
	it->ready_ctx = ctx;
}

static void userdb_ldap_iterate_deinit(struct userdb_iter **itp)
{
	struct userdb_iter *it = *itp;
	if (it == NULL)
		return;
	*itp = NULL;
	if (!it->finished)
		ldap_db_cancel(&it->lreq);
	event_timer_cancel(ldap_db_loop(it->ul->ldb), &it->notify);
	for (; it->count > 0; it->count--) {
		free(it->names[it->head]);
		it->head = (it->head + 1) % USERDB_LDAP_ITER_BUFFER;
	}
	free(it->current);
	pool_destroy(&it->entry_pool);
	free(it);
}

const struct userdb_driver userdb_driver_ldap = {
	.name = "ldap",
	.init = userdb_ldap_init,
	.deinit = userdb_ldap_deinit,
	.lookup = userdb_ldap_lookup,
	.iterate_init = userdb_ldap_iterate_init,
	.iterate_next = userdb_ldap_iterate_next,
	.iterate_set_ready = userdb_ldap_iterate_set_ready,
	.iterate_deinit = userdb_ldap_iterate_deinit,
};
