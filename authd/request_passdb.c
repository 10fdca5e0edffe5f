/* request_passdb: the passdb chain of one request, with Dovecot 2.3's rules
 * (deny, skip, result_success/failure/internalfail, snapshot/rollback of
 * extra fields), and password verification through the scheme module, on
 * the hash pool when the scheme is expensive. */
#include "authd/request.h"
#include "authd/auth.h"
#include "authd/log.h"
#include "authd/proto_master.h"
#include "authd/request_cache.h"
#include "authd/request_fields.h"
#include "authd/request_worker.h"
#include "authd/warn_once.h"
#include "authd/worker_process.h"
#include "common/pool.h"
#include "common/secret.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void auth_request_passdb_run(struct auth_request *req);
static void auth_request_passdb_result(struct auth_request *req, enum passdb_result result);

/* mechanisms = list; "none" matches lookups without a mechanism. */
static bool passdb_mech_allowed(const struct auth_request *req, const char *list)
{
	const char *want = req->mech != NULL ? req->mech->name : "none";
	size_t wlen = strlen(want);
	for (const char *p = list; *p != '\0';) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, " ,");
		if (n == wlen && strncasecmp(p, want, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* username_filter: space separated wildcards; "!pattern" excludes. The user
 * must match one positive pattern (if any) and no negative one. */
static bool passdb_user_allowed(const struct auth_request *req, const char *filter)
{
	bool have_positive = false, matched = false;
	char pat[256];
	for (const char *p = filter; *p != '\0';) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		if (n == 0 || n >= sizeof(pat))
			break;
		bool neg = *p == '!';
		memcpy(pat, p + neg, n - neg);
		pat[n - neg] = '\0';
		bool m = fnmatch(pat, req->user, 0) == 0;
		if (neg && m)
			return false;
		if (!neg) {
			have_positive = true;
			matched |= m;
		}
		p += n;
	}
	return !have_positive || matched;
}

static bool auth_request_want_skip_passdb(const struct auth_request *req,
					  const struct passdb *db)
{
	switch (db->set->skip) {
	case DB_SKIP_AUTHENTICATED:
		if (req->passdb_success)
			return true;
		break;
	case DB_SKIP_UNAUTHENTICATED:
		if (!req->passdb_success)
			return true;
		break;
	default:
		break;
	}
	if (db->set->mechanisms != NULL && *db->set->mechanisms != '\0' &&
	    !passdb_mech_allowed(req, db->set->mechanisms))
		return true;
	if (db->set->username_filter != NULL && *db->set->username_filter != '\0' &&
	    !passdb_user_allowed(req, db->set->username_filter))
		return true;
	return false;
}

static size_t auth_request_next_passdb(const struct auth_request *req, size_t from)
{
	while (from < req->passdb_list_count &&
	       auth_request_want_skip_passdb(req, req->passdb_list[from]))
		from++;
	return from;
}

void auth_request_passdb_chain_start(struct auth_request *req, bool credentials_mode)
{
	req->credentials_mode = credentials_mode;
	req->state = AUTH_REQUEST_STATE_BUSY;
	/* A master login authenticates the master user against the master
	 * passdbs first (spec 6.1). */
	if (req->requested_login_user != NULL) {
		req->passdb_list = req->auth->masterdbs;
		req->passdb_list_count = req->auth->masterdb_count;
	} else {
		req->passdb_list = req->auth->passdbs;
		req->passdb_list_count = req->auth->passdb_count;
	}
	req->passdb_index = auth_request_next_passdb(req, 0);
	fields_snapshot(&req->extra);
	fields_snapshot(&req->userdb_fields);
	if (req->passdb_index >= req->passdb_list_count) {
		auth_request_log(req, LOG_LEVEL_INFO, NULL, "No passdbs to try");
		req->passdb = NULL;
		auth_request_passdb_result(req, PASSDB_RESULT_USER_UNKNOWN);
		return;
	}
	auth_request_passdb_run(req);
}

static void auth_request_passdb_run(struct auth_request *req)
{
	struct passdb *db = req->passdb_list[req->passdb_index];
	req->passdb = db;
	req->nopassword = req->noauthenticate = req->failed = false;
	req->passdb_disabled = false;
	req->stored_password = NULL;
	auth_request_apply_passdb_templates(req, db->set->default_fields);
	auth_request_ref(req);   /* held by the lookup in flight */
	/* verify_plain only when the mechanism has the password (not for
	 * credentials lookups: CRAM-MD5, SCRAM, master PASS). */
	bool verify = !req->credentials_mode && req->wanted_scheme == NULL &&
		      db->driver->verify_plain != NULL;
	enum passdb_result cached;
	req->cache_hit = false;
	if (verify && auth_request_cache_verify_hit(req, &cached)) {
		req->cache_hit = true;
		auth_request_passdb_verified(req, cached);
	}
	else if (auth_request_passdb_uses_worker(db, verify))
		auth_request_passdb_worker(req, db, verify);
	else if (verify)
		db->driver->verify_plain(db, req);
	else
		db->driver->lookup(db, req);
}

static void auth_request_verify_done(struct hashpool_job *job)
{
	struct auth_request *req = (struct auth_request *)((char *)job -
							   offsetof(struct auth_request, job));
	int ret = job->skipped ? -1 : req->verify_ret;
	if (job->skipped)
		req->verify_error = "password verification cancelled at shutdown";
	if (ret < 0)
		auth_request_log(req, LOG_LEVEL_ERROR, req->passdb->driver->name, "%s",
				 req->verify_error);
	if (ret > 0)
		auth_request_cache_stored_success(req, req->stored_password);
	auth_request_passdb_result(req, ret > 0 ? PASSDB_RESULT_OK :
				   job->skipped ? PASSDB_RESULT_INTERNAL_FAILURE :
				   PASSDB_RESULT_PASSWORD_MISMATCH);
	auth_request_unref(&req);
}

/* Runs on a hash pool thread: touches only the job's own fields. */
static void auth_request_verify_work(struct hashpool_job *job)
{
	struct auth_request *req = (struct auth_request *)((char *)job -
							   offsetof(struct auth_request, job));
	req->verify_ret = scheme_verify(&req->stored, req->mreq.password, req->mreq.password_len,
					req->user, &req->verify_error);
}

/* Weak schemes (MD5, SHA-1, DES based) keep working as in Dovecot 2.3 with
 * a warning once per user; auth_allow_weak_schemes = no refuses them as
 * 2.4 does. Returns false when refused. */
static bool auth_request_weak_scheme_allowed(struct auth_request *req)
{
	if (!scheme_is_weak(req->stored.scheme))
		return true;
	const char *name = req->stored.scheme_name;
	const char *db = req->passdb->driver->name;
	if (!req->auth->set->auth_allow_weak_schemes) {
		auth_request_log(req, LOG_LEVEL_INFO, db, "Weak password scheme '%s' used and refused", name);
		return false;
	}
	if (warn_once_first(req->auth->weak_warned, req->user))
		auth_request_log(req, LOG_LEVEL_WARNING, db, "Weak password scheme '%s' used", name);
	return true;
}

/* Verifies the password against the stored value. Result comes through
 * auth_request_passdb_result(), maybe later (hash pool). */
static void auth_request_verify_stored(struct auth_request *req)
{
	struct passdb *db = req->passdb;
	const char *stored = req->stored_password;
	const char *error = NULL;
	if (stored == NULL || *stored == '\0') {
		auth_request_log(req, LOG_LEVEL_INFO, db->driver->name, "Password mismatch (no password set)");
		auth_request_passdb_result(req, PASSDB_RESULT_PASSWORD_MISMATCH);
		return;
	}
	if (scheme_parse_stored(stored, strlen(stored), db->default_scheme, db->prefix_rule,
				&req->stored, &error) <= 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, db->driver->name, "%s", error);
		auth_request_passdb_result(req, PASSDB_RESULT_PASSWORD_MISMATCH);
		return;
	}
	if (!auth_request_weak_scheme_allowed(req)) {
		auth_request_passdb_result(req, PASSDB_RESULT_PASSWORD_MISMATCH);
		return;
	}
	if (auth_request_cache_stored_hit(req, stored)) {
		auth_request_passdb_result(req, PASSDB_RESULT_OK);
		return;
	}
	if (scheme_is_expensive(&req->stored) && req->auth->hashpool != NULL) {
		req->job.work = auth_request_verify_work;
		req->job.done = auth_request_verify_done;
		req->job.skipped = false;
		auth_request_ref(req);
		hashpool_submit(req->auth->hashpool, &req->job);
		return;
	}
	req->job.skipped = false;
	auth_request_verify_work(&req->job);
	auth_request_ref(req);
	auth_request_verify_done(&req->job);
}

static void auth_request_credentials_done(struct hashpool_job *job)
{
	struct auth_request *req = (struct auth_request *)((char *)job -
							   offsetof(struct auth_request, job));
	enum passdb_result result = PASSDB_RESULT_OK;
	if (job->skipped) {
		result = PASSDB_RESULT_INTERNAL_FAILURE;
	} else if (req->verify_ret <= 0) {
		auth_request_log(req, req->verify_ret < 0 ? LOG_LEVEL_ERROR : LOG_LEVEL_INFO,
				 req->passdb->driver->name, "%s", req->verify_error);
		result = PASSDB_RESULT_SCHEME_NOT_AVAILABLE;
	}
	auth_request_passdb_result(req, result);
	auth_request_unref(&req);
}

/* Runs on a hash pool thread when deriving costs a KDF (SCRAM from a
 * plaintext password). */
static void auth_request_credentials_work(struct hashpool_job *job)
{
	struct auth_request *req = (struct auth_request *)((char *)job -
							   offsetof(struct auth_request, job));
	buf_reset(&req->credentials);
	req->verify_ret = scheme_credentials(&req->stored, req->wanted_scheme,
					     req->mreq.cred_user, req->mreq.cred_realm,
					     &req->credentials, &req->verify_error);
}

/* Produces the mechanism's credentials from the stored password (spec
 * 5.2), or SCHEME_NOT_AVAILABLE with Dovecot's log line. */
static void auth_request_lookup_credentials(struct auth_request *req)
{
	struct passdb *db = req->passdb;
	const char *stored = req->stored_password;
	const char *error = NULL;
	if (stored == NULL || *stored == '\0') {
		auth_request_log(req, LOG_LEVEL_INFO, db->driver->name,
				 "Requested %s scheme, but we have a NULL password", req->wanted_scheme);
		auth_request_passdb_result(req, PASSDB_RESULT_SCHEME_NOT_AVAILABLE);
		return;
	}
	if (scheme_parse_stored(stored, strlen(stored), db->default_scheme, db->prefix_rule,
				&req->stored, &error) <= 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, db->driver->name, "%s", error);
		auth_request_passdb_result(req, PASSDB_RESULT_SCHEME_NOT_AVAILABLE);
		return;
	}
	if (!auth_request_weak_scheme_allowed(req)) {
		auth_request_passdb_result(req, PASSDB_RESULT_SCHEME_NOT_AVAILABLE);
		return;
	}
	req->job.work = auth_request_credentials_work;
	req->job.done = auth_request_credentials_done;
	req->job.skipped = false;
	auth_request_ref(req);
	if (scheme_credentials_expensive(&req->stored, req->wanted_scheme) &&
	    req->auth->hashpool != NULL) {
		hashpool_submit(req->auth->hashpool, &req->job);
		return;
	}
	auth_request_credentials_work(&req->job);
	auth_request_credentials_done(&req->job);
}

static void auth_request_passdb_found(struct auth_request *req)
{
	struct passdb *db = req->passdb;
	auth_request_apply_passdb_templates(req, db->set->override_fields);
	if (req->credentials_mode || db->set->deny ||
	    (req->skip_password_check && req->wanted_scheme == NULL)) {
		auth_request_passdb_result(req, PASSDB_RESULT_OK);
		return;
	}
	if (req->wanted_scheme != NULL) {
		if (req->skip_password_check && req->credentials.len > 0)
			auth_request_passdb_result(req, PASSDB_RESULT_OK);
		else
			auth_request_lookup_credentials(req);
		return;
	}
	if (req->noauthenticate) {
		auth_request_passdb_result(req, PASSDB_RESULT_NEXT);
		return;
	}
	if (req->nopassword) {
		if (req->stored_password == NULL || *req->stored_password == '\0') {
			auth_request_passdb_result(req, PASSDB_RESULT_OK);
			return;
		}
		auth_request_log(req, LOG_LEVEL_ERROR, db->driver->name,
				 "nopassword set but password is non-empty");
	}
	auth_request_verify_stored(req);
}

void auth_request_passdb_done(struct auth_request *req, enum passdb_result result,
			      const char *stored_password)
{
	if (req->worker_capture != NULL) {
		worker_capture_done(req, result, stored_password);
		auth_request_unref(&req);
		return;
	}
	if (stored_password != NULL)
		req->stored_password = pool_strdup(req->pool, stored_password);
	if (result == PASSDB_RESULT_OK) {
		auth_request_passdb_found(req);
	} else if (result == PASSDB_RESULT_INTERNAL_FAILURE && auth_request_cache_fallback(req)) {
		auth_request_apply_passdb_templates(req, req->passdb->set->override_fields);
		auth_request_passdb_result(req, PASSDB_RESULT_OK);
	} else {
		auth_request_passdb_result(req, result);
	}
	auth_request_unref(&req);
}

void auth_request_passdb_disable(struct auth_request *req)
{
	req->passdb_disabled = true;
}

void auth_request_passdb_verified(struct auth_request *req, enum passdb_result result)
{
	if (req->worker_capture != NULL) {
		worker_capture_done(req, result, NULL);
		auth_request_unref(&req);
		return;
	}
	if (result == PASSDB_RESULT_INTERNAL_FAILURE && !req->cache_hit &&
	    auth_request_cache_fallback(req))
		result = PASSDB_RESULT_OK;
	else if (!req->cache_hit &&
		 (result == PASSDB_RESULT_OK || result == PASSDB_RESULT_USER_UNKNOWN))
		auth_request_cache_verify_result(req, result);
	if (result == PASSDB_RESULT_OK)
		auth_request_apply_passdb_templates(req, req->passdb->set->override_fields);
	auth_request_passdb_result(req, result);
	auth_request_unref(&req);
}

static void auth_request_master_login_finish(struct auth_request *req)
{
	auth_request_log(req, LOG_LEVEL_INFO, req->passdb->driver->name,
			 "Master user logging in as %s", req->requested_login_user);
	req->master_user = req->user;
	req->user = req->requested_login_user;
	req->requested_login_user = NULL;
}

static void auth_request_log_passdb_result(struct auth_request *req, enum passdb_result result)
{
	const char *name = req->passdb != NULL ? req->passdb->driver->name : NULL;
	switch (result) {
	case PASSDB_RESULT_USER_UNKNOWN:
		/* A deny passdb misses most users by design; logging that
		 * would make fail2ban count successful logins. */
		if (req->passdb == NULL || !req->passdb->set->deny)
			auth_request_log(req, LOG_LEVEL_INFO, name, "unknown user");
		break;
	case PASSDB_RESULT_PASSWORD_MISMATCH:
		auth_request_log_mismatch(req, name);
		break;
	default:
		break;
	}
}

static enum db_result_action passdb_rule_for(const struct passdb *db, enum passdb_result result)
{
	switch (result) {
	case PASSDB_RESULT_OK:
		/* pass = yes on a master passdb: also look the target up */
		if (db->set->master && db->set->pass)
			return DB_RESULT_CONTINUE;
		return db->set->result_success;
	case PASSDB_RESULT_INTERNAL_FAILURE:
		return db->set->result_internalfail;
	case PASSDB_RESULT_NEXT:
		return DB_RESULT_CONTINUE;
	default:
		return db->set->result_failure;
	}
}

/* Applies a result_* rule. Returns true if the chain should go on. */
static bool auth_request_apply_passdb_rule(struct auth_request *req, enum db_result_action rule,
					   enum passdb_result result)
{
	switch (rule) {
	case DB_RESULT_RETURN:
		return false;
	case DB_RESULT_RETURN_OK:
		req->passdb_success = true;
		return false;
	case DB_RESULT_RETURN_FAIL:
		req->passdb_success = false;
		return false;
	case DB_RESULT_CONTINUE:
		if (result == PASSDB_RESULT_OK)
			req->skip_password_check = true;
		return true;
	case DB_RESULT_CONTINUE_OK:
		req->passdb_success = true;
		req->skip_password_check = true;
		return true;
	case DB_RESULT_CONTINUE_FAIL:
		req->passdb_success = false;
		return true;
	}
	return false;
}

/* One passdb's result through Dovecot's chain rules (auth-request.c
 * auth_request_handle_passdb_callback). Returns true when the chain is
 * finished and *result holds the final answer. */
static bool auth_request_passdb_step(struct auth_request *req, enum passdb_result *result)
{
	struct passdb *db = req->passdb;
	if (db->set->deny && *result != PASSDB_RESULT_USER_UNKNOWN) {
		if (*result == PASSDB_RESULT_OK) {
			auth_request_log(req, LOG_LEVEL_INFO, db->driver->name, "User found from deny passdb");
			*result = PASSDB_RESULT_USER_DISABLED;
		}
		return true;
	}
	if (req->failed && *result == PASSDB_RESULT_OK)
		*result = PASSDB_RESULT_PASSWORD_MISMATCH;
	/* Credentials requests learn it after the mechanism's proof. */
	if (req->passdb_disabled && *result == PASSDB_RESULT_OK && req->wanted_scheme == NULL)
		*result = PASSDB_RESULT_USER_DISABLED;
	req->failed = false;
	if (*result == PASSDB_RESULT_USER_DISABLED)
		return true;
	if (*result == PASSDB_RESULT_PASS_EXPIRED) {
		fields_set(&req->extra, "reason", "Password expired");
		return true;
	}
	auth_request_log_passdb_result(req, *result);
	bool go_on = auth_request_apply_passdb_rule(req, passdb_rule_for(db, *result), *result);
	if (*result == PASSDB_RESULT_OK) {
		fields_snapshot(&req->extra);
		fields_snapshot(&req->userdb_fields);
	} else {
		fields_rollback(&req->extra);
		fields_rollback(&req->userdb_fields);
	}
	size_t next;
	if (req->requested_login_user != NULL && *result == PASSDB_RESULT_OK) {
		/* The master authenticated: from here on the request is for
		 * the target user, and a continuing chain (pass = yes) runs
		 * the normal passdbs for it. */
		auth_request_master_login_finish(req);
		req->passdb_list = req->auth->passdbs;
		req->passdb_list_count = req->auth->passdb_count;
		next = auth_request_next_passdb(req, 0);
	} else {
		next = auth_request_next_passdb(req, req->passdb_index + 1);
	}
	if (go_on && next < req->passdb_list_count) {
		if (*result == PASSDB_RESULT_USER_UNKNOWN)
			req->seen_user_unknown = true;
		else if (*result == PASSDB_RESULT_INTERNAL_FAILURE)
			req->seen_internal_failure = true;
		req->passdb_index = next;
		return false;
	}
	if (*result == PASSDB_RESULT_NEXT) {
		auth_request_log(req, LOG_LEVEL_ERROR, db->driver->name,
				 "Last passdb had noauthenticate field, cannot authenticate user");
		*result = PASSDB_RESULT_INTERNAL_FAILURE;
	} else if (req->passdb_success) {
		*result = PASSDB_RESULT_OK;
	} else if (req->seen_internal_failure) {
		*result = PASSDB_RESULT_INTERNAL_FAILURE;
	}
	return true;
}

static enum auth_outcome auth_outcome_from_passdb(enum passdb_result result)
{
	switch (result) {
	case PASSDB_RESULT_OK:
		return AUTH_OUTCOME_OK;
	case PASSDB_RESULT_INTERNAL_FAILURE:
		return AUTH_OUTCOME_TEMPFAIL;
	case PASSDB_RESULT_USER_DISABLED:
		return AUTH_OUTCOME_DISABLED;
	case PASSDB_RESULT_PASS_EXPIRED:
		return AUTH_OUTCOME_PASS_EXPIRED;
	default:
		return AUTH_OUTCOME_FAIL;
	}
}

static void auth_request_passdb_chain_finished(struct auth_request *req,
					       enum passdb_result result)
{
	if (req->requested_login_user != NULL && result == PASSDB_RESULT_OK) {
		/* Only master passdbs ran and none authenticated the master. */
		result = PASSDB_RESULT_USER_UNKNOWN;
	}
	switch (req->kind) {
	case AUTH_REQUEST_AUTH:
		if (result == PASSDB_RESULT_OK && req->wanted_scheme != NULL)
			auth_request_mech_resume(req);
		else
			auth_request_auth_finish(req, auth_outcome_from_passdb(result), NULL, 0);
		break;
	case AUTH_REQUEST_PASS:
		proto_master_pass_finished(req, result);
		break;
	case AUTH_REQUEST_USER:
		auth_request_userdb_existence_checked(req, result);
		break;
	}
}

static void auth_request_passdb_result(struct auth_request *req, enum passdb_result result)
{
	/* The password is no longer needed by the chain once it is decided. */
	if (req->passdb == NULL || auth_request_passdb_step(req, &result)) {
		auth_request_passdb_chain_finished(req, result);
		return;
	}
	auth_request_passdb_run(req);
}
