/* passdb ldap: Dovecot's LDAP passdb (spec passwd-file-and-ldap.md B.4).
 *
 * Password-lookup mode (auth_bind = no): one search as the service DN;
 * pass_attrs become fields, `password` is handed to the request code,
 * which verifies it with the scheme module (prefix rule FIELD: no $1$
 * guessing; default_pass_scheme for prefix-less values).
 * auth_bind = yes: the search finds the DN (and the other pass_attrs, the
 * password item is dropped), then a simple bind as that DN with the
 * client's password on a bind connection decides.
 * auth_bind_userdn: one bind to the DN built from the template, no search.
 * Empty passwords are refused before any LDAP traffic. Bind results: 0 OK,
 * 49 mismatch, 32 unknown user, else internal failure; searches: 0 entries
 * unknown, more than one internal failure. Both LDAP steps of an auth bind
 * share one deadline (LDAP_DB_REQUEST_TIMEOUT_MS).
 *
 * Lookup mode uses a copy of the driver without verify_plain (installed by
 * init into db->driver), so the request code verifies the stored password;
 * the auth_bind modes keep verify_plain. */
#include "passdb/passdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "common/secret.h"
#include "passdb/db_ldap_auth.h"

#include <ldap.h>
#include <string.h>

#define PASSDB_LDAP_MIN_STEP_MS 100u

struct passdb_ldap {
	struct ldap_db *ldb;
	const struct ldap_conf *conf;
	struct ldap_attr_map map;
};

struct passdb_ldap_request {
	struct ldap_req lreq;
	struct auth_request *req;
	struct passdb_ldap *pl;
	const struct ldap_entry *entry;   /* first entry of the search */
	bool verify;                      /* verify_plain: bind after the search */
	uint64_t deadline_ms;
	const char *stored_password;
};

static const struct passdb_driver passdb_driver_ldap_lookup;

static int passdb_ldap_init(struct passdb *db, const char *args, const char **error_r)
{
	struct passdb_ldap *pl = pool_alloc(db->pool, sizeof(*pl));
	pl->ldb = ldap_db_get(args, db->loop, error_r);
	if (pl->ldb == NULL)
		return -1;
	pl->conf = ldap_db_conf(pl->ldb);
	if (!scheme_spec_valid(pl->conf->default_pass_scheme)) {
		*error_r = pool_printf(db->pool, "Unknown default_pass_scheme: %s",
				       pl->conf->default_pass_scheme);
		ldap_db_unref(&pl->ldb);
		return -1;
	}
	if (ldap_attr_map_parse(db->pool, pl->conf->pass_attrs,
				pl->conf->auth_bind ? "password" : NULL, &pl->map, error_r) < 0) {
		ldap_db_unref(&pl->ldb);
		return -1;
	}
	/* blocking = yes: the lookups run in auth worker processes. */
	db->blocking = pl->conf->blocking;
	db->default_scheme = pool_strdup(db->pool, pl->conf->default_pass_scheme);
	db->prefix_rule = SCHEME_PREFIX_FIELD;
	db->ctx = pl;
	if (!pl->conf->auth_bind)
		db->driver = &passdb_driver_ldap_lookup;
	return 0;
}

static void passdb_ldap_deinit(struct passdb *db)
{
	struct passdb_ldap *pl = db->ctx;
	if (pl != NULL)
		ldap_db_unref(&pl->ldb);
}

/* --- fields --- */

static void passdb_ldap_field(void *ctx, const char *name, const char *value)
{
	struct passdb_ldap_request *r = ctx;
	struct auth_request *req = r->req;
	if (value == NULL) {
		/* missing attribute: only marks the userdb prefetch as used */
		if (strncmp(name, "userdb_", 7) == 0)
			req->userdb_prefetched = true;
		return;
	}
	if (strcmp(name, "password") == 0)
		r->stored_password = pool_strdup(req->pool, value);
	else if (strcmp(name, "password_noscheme") == 0)
		r->stored_password = pool_printf(req->pool, "{%s}%s", r->pl->conf->default_pass_scheme,
						 value);
	auth_request_set_passdb_field(req, name, value);
}

static void passdb_ldap_apply(struct passdb_ldap_request *r)
{
	struct ldap_attr_apply a = {
		.userdb = false, .vars = ldap_auth_vars, .field = passdb_ldap_field,
		.log = ldap_auth_log, .ctx = r, .vars_ctx = r->req,
	};
	ldap_attr_map_apply(&r->pl->map, r->entry, &a);
}

/* --- completion --- */

static void passdb_ldap_finish(struct passdb_ldap_request *r, enum passdb_result result)
{
	struct auth_request *req = r->req;
	if (r->verify)
		auth_request_passdb_verified(req, result);
	else
		auth_request_passdb_done(req, result, result == PASSDB_RESULT_OK ?
					 r->stored_password : NULL);
	auth_request_unref(&req);   /* ours, taken when the request started */
}

static bool passdb_ldap_entry(struct ldap_req *lreq, const struct ldap_entry *entry)
{
	struct passdb_ldap_request *r = lreq->ctx;
	if (r->entry == NULL)
		r->entry = ldap_auth_entry_copy(r->req->pool, entry);
	return true;
}

static void passdb_ldap_bind_done(struct ldap_req *lreq, int result, const char *error)
{
	struct passdb_ldap_request *r = lreq->ctx;
	enum passdb_result res;
	switch (result) {
	case LDAP_SUCCESS:
		res = PASSDB_RESULT_OK;
		break;
	case LDAP_INVALID_CREDENTIALS:
		auth_request_log(r->req, LOG_LEVEL_INFO, LDAP_AUTH_LOG_NAME, "invalid credentials");
		res = PASSDB_RESULT_PASSWORD_MISMATCH;
		break;
	case LDAP_NO_SUCH_OBJECT:
		res = PASSDB_RESULT_USER_UNKNOWN;
		break;
	default:
		auth_request_log(r->req, LOG_LEVEL_ERROR, LDAP_AUTH_LOG_NAME, "ldap_bind() failed: %s",
				 error);
		res = PASSDB_RESULT_INTERNAL_FAILURE;
		break;
	}
	/* mismatches are logged by the request code for every passdb */
	passdb_ldap_finish(r, res);
}

static void passdb_ldap_bind(struct passdb_ldap_request *r, const char *dn)
{
	struct auth_request *req = r->req;
	uint64_t now = event_now_ms(ldap_db_loop(r->pl->ldb));
	uint64_t left = r->deadline_ms > now ? r->deadline_ms - now : 0;
	r->lreq = (struct ldap_req){
		.kind = LDAP_REQ_BIND, .bind_dn = dn,
		.bind_password = (const char *)req->mreq.password,
		.pool = req->pool, .done = passdb_ldap_bind_done, .ctx = r,
		.timeout_ms = left > PASSDB_LDAP_MIN_STEP_MS ? (unsigned int)left :
			      PASSDB_LDAP_MIN_STEP_MS,
	};
	ldap_db_submit(r->pl->ldb, &r->lreq);
}

static void passdb_ldap_search_done(struct ldap_req *lreq, int result, const char *error)
{
	struct passdb_ldap_request *r = lreq->ctx;
	int ret = ldap_auth_search_outcome(r->req, result, error, lreq->entries);
	if (ret <= 0) {
		passdb_ldap_finish(r, ret < 0 ? PASSDB_RESULT_INTERNAL_FAILURE :
				   PASSDB_RESULT_USER_UNKNOWN);
		return;
	}
	passdb_ldap_apply(r);
	if (r->verify) {
		passdb_ldap_bind(r, r->entry->dn);
		return;
	}
	if (r->stored_password == NULL && !r->req->nopassword)
		auth_request_log(r->req, LOG_LEVEL_INFO, LDAP_AUTH_LOG_NAME,
				 "No password returned (and no nopassword)");
	passdb_ldap_finish(r, PASSDB_RESULT_OK);
}

static struct passdb_ldap_request *passdb_ldap_request_new(struct passdb *db,
							   struct auth_request *req, bool verify)
{
	struct passdb_ldap_request *r = pool_alloc(req->pool, sizeof(*r));
	r->req = req;
	r->pl = db->ctx;
	r->verify = verify;
	r->deadline_ms = event_now_ms(db->loop) + LDAP_DB_REQUEST_TIMEOUT_MS;
	auth_request_ref(req);
	return r;
}

static void passdb_ldap_search(struct passdb_ldap_request *r)
{
	const struct ldap_conf *conf = r->pl->conf;
	r->lreq = (struct ldap_req){
		.kind = LDAP_REQ_SEARCH, .sizelimit = 2,
		.entry = passdb_ldap_entry, .done = passdb_ldap_search_done, .ctx = r,
	};
	if (ldap_auth_search_init(&r->lreq, r->req, conf, conf->pass_filter,
				  r->pl->map.attr_names) < 0) {
		passdb_ldap_finish(r, PASSDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	ldap_db_submit(r->pl->ldb, &r->lreq);
}

static void passdb_ldap_lookup(struct passdb *db, struct auth_request *req)
{
	passdb_ldap_search(passdb_ldap_request_new(db, req, false));
}

/* auth_bind modes only. */
static void passdb_ldap_verify_plain(struct passdb *db, struct auth_request *req)
{
	struct passdb_ldap *pl = db->ctx;
	if (req->wanted_scheme != NULL) {
		/* a credentials lookup (CRAM-MD5...) that reached verify_plain:
		 * search; with no password it fails as in Dovecot */
		passdb_ldap_lookup(db, req);
		return;
	}
	if (req->mreq.password == NULL || req->mreq.password_len == 0) {
		auth_request_log(req, LOG_LEVEL_INFO, LDAP_AUTH_LOG_NAME,
				 "Login attempt with empty password");
		auth_request_passdb_verified(req, PASSDB_RESULT_PASSWORD_MISMATCH);
		return;
	}
	struct passdb_ldap_request *r = passdb_ldap_request_new(db, req, true);
	if (pl->conf->auth_bind_userdn == NULL) {
		passdb_ldap_search(r);
		return;
	}
	const char *dn = ldap_auth_expand_escaped(req, pl->conf->auth_bind_userdn);
	if (dn == NULL) {
		passdb_ldap_finish(r, PASSDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	passdb_ldap_bind(r, dn);
}

const struct passdb_driver passdb_driver_ldap = {
	.name = "ldap",
	.init = passdb_ldap_init,
	.deinit = passdb_ldap_deinit,
	.lookup = passdb_ldap_lookup,
	.verify_plain = passdb_ldap_verify_plain,
};

static const struct passdb_driver passdb_driver_ldap_lookup = {
	.name = "ldap",
	.init = passdb_ldap_init,
	.deinit = passdb_ldap_deinit,
	.lookup = passdb_ldap_lookup,
};
