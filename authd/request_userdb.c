/* request_userdb: the userdb chain of a USER lookup with Dovecot 2.3's
 * rules (skip found/notfound, result_* rules, snapshot/rollback of fields,
 * default_fields and override_fields). */
#include "authd/request.h"
#include "authd/auth.h"
#include "authd/log.h"
#include "authd/proto_master.h"
#include "authd/request_fields.h"
#include "authd/request_worker.h"
#include "authd/worker_process.h"

static bool auth_request_want_skip_userdb(const struct auth_request *req, const struct userdb *db)
{
	switch (db->set->skip) {
	case DB_SKIP_FOUND:
		return req->userdb_success;
	case DB_SKIP_NOTFOUND:
		return !req->userdb_success;
	default:
		return false;
	}
}

static size_t auth_request_next_userdb(const struct auth_request *req, size_t from)
{
	while (from < req->auth->userdb_count &&
	       auth_request_want_skip_userdb(req, req->auth->userdbs[from]))
		from++;
	return from;
}

static void auth_request_userdb_run(struct auth_request *req)
{
	struct userdb *db = req->auth->userdbs[req->userdb_index];
	auth_request_apply_userdb_templates(req, db->set->default_fields);
	auth_request_ref(req);
	if (db->blocking)
		auth_request_userdb_worker(req, db);
	else
		db->driver->lookup(db, req);
}

void auth_request_userdb_lookup(struct auth_request *req)
{
	req->state = AUTH_REQUEST_STATE_BUSY;
	req->userdb_index = auth_request_next_userdb(req, 0);
	fields_snapshot(&req->userdb_fields);
	if (req->userdb_index >= req->auth->userdb_count) {
		proto_master_user_finished(req, USERDB_RESULT_USER_UNKNOWN);
		return;
	}
	auth_request_userdb_run(req);
}

static bool auth_request_apply_userdb_rule(struct auth_request *req, enum db_result_action rule)
{
	switch (rule) {
	case DB_RESULT_RETURN:
		return false;
	case DB_RESULT_RETURN_OK:
		req->userdb_success = true;
		return false;
	case DB_RESULT_RETURN_FAIL:
		req->userdb_success = false;
		return false;
	case DB_RESULT_CONTINUE:
		return true;
	case DB_RESULT_CONTINUE_OK:
		req->userdb_success = true;
		return true;
	case DB_RESULT_CONTINUE_FAIL:
		req->userdb_success = false;
		return true;
	}
	return false;
}

static enum db_result_action userdb_rule_for(const struct userdb *db, enum userdb_result result)
{
	switch (result) {
	case USERDB_RESULT_OK:
		return db->set->result_success;
	case USERDB_RESULT_INTERNAL_FAILURE:
		return db->set->result_internalfail;
	default:
		return db->set->result_failure;
	}
}

void auth_request_userdb_done(struct auth_request *req, enum userdb_result result)
{
	if (req->worker_capture != NULL) {
		worker_capture_done(req, result, NULL);
		auth_request_unref(&req);
		return;
	}
	struct userdb *db = req->auth->userdbs[req->userdb_index];
	if (result == USERDB_RESULT_OK) {
		auth_request_apply_userdb_templates(req, db->set->override_fields);
		fields_snapshot(&req->userdb_fields);
	} else {
		fields_rollback(&req->userdb_fields);
		if (result == USERDB_RESULT_USER_UNKNOWN)
			auth_request_log(req, LOG_LEVEL_INFO, db->driver->name, "unknown user");
	}
	bool go_on = auth_request_apply_userdb_rule(req, userdb_rule_for(db, result));
	size_t next = auth_request_next_userdb(req, req->userdb_index + 1);
	if (go_on && next < req->auth->userdb_count) {
		if (result == USERDB_RESULT_INTERNAL_FAILURE)
			req->userdb_seen_internal_failure = true;
		req->userdb_index = next;
		auth_request_userdb_run(req);
	} else {
		if (req->userdb_success)
			result = USERDB_RESULT_OK;
		else if (req->userdb_seen_internal_failure || result == USERDB_RESULT_INTERNAL_FAILURE)
			result = USERDB_RESULT_INTERNAL_FAILURE;
		else
			result = USERDB_RESULT_USER_UNKNOWN;
		proto_master_user_finished(req, result);
	}
	auth_request_unref(&req);
}
