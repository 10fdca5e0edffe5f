/* request_mech: drives a request's SASL mechanism (DESIGN.md data flow):
 * client message -> mech step -> challenge, verify, or final answer. */
#include "authd/request.h"
#include "authd/auth.h"
#include "authd/log.h"
#include "authd/penalty.h"
#include "authd/proto_client.h"
#include "common/pool.h"

#include <string.h>

/* Largest challenge a mechanism may produce; base64 of it must fit the
 * client's line limits with room to spare. */
#define MECH_CHALLENGE_MAX 4096u

static void auth_request_mech_status(struct auth_request *req, enum mech_status status,
				     const struct buf *out);

static int auth_request_mech_username_check(struct mech_request *mreq, const uint8_t *name,
					    size_t len)
{
	struct auth_request *req = mreq->ctx;
	const char *sep = req->auth->set->auth_master_user_separator;
	if (sep != NULL && *sep != '\0' && memmem(name, len, sep, strlen(sep)) != NULL)
		return 1;   /* "user*master": both parts are checked once split */
	if (mreq->cert_username != NULL) {
		/* auth_ssl_username_from_cert: the certificate's name replaces
		 * the one the mechanism supplied (spec 2.4). */
		req->original_user = pool_strndup(req->pool, name, len);
		name = (const uint8_t *)mreq->cert_username;
		len = strlen(mreq->cert_username);
	}
	if (auth_request_set_username(req, name, len) > 0)
		return 1;
	req->user_rejected = true;
	return 0;
}

static void auth_request_abort_timeout(struct event_timer *timer)
{
	struct auth_request *req = timer->ctx;
	/* Dovecot removes the request silently; a later CONT gets
	 * "Authentication request timed out". */
	proto_client_request_abort(req);
}

static void auth_request_mech_step(struct auth_request *req, const uint8_t *in, size_t len,
				   bool absent)
{
	struct buf out = BUF_INIT(MECH_CHALLENGE_MAX);
	enum mech_status status;
	req->state = AUTH_REQUEST_STATE_BUSY;
	if (in == NULL)
		in = (const uint8_t *)"";   /* empty decoded data: mechanisms memchr() it */
	if ((req->mech->flags & MECH_FLAG_ALLOW_NULS) == 0 && len > 0 &&
	    memchr(in, '\0', len) != NULL) {
		req->mreq.fail_reason = "NUL byte in client message";
		status = MECH_FAILURE;
	} else {
		req->mreq.step_count++;
		status = req->mech->step(&req->mreq, in, len, absent, &out);
	}
	auth_request_mech_status(req, status, &out);
	buf_free(&out);
}

static void auth_request_penalty_done(struct event_timer *timer)
{
	struct auth_request *req = timer->ctx;
	req->timer.fn = auth_request_abort_timeout;
	req->started_ms = event_now_ms(req->auth->loop);
	auth_request_mech_step(req, req->initial, req->initial_len, req->initial_absent);
	auth_request_unref(&req);   /* the penalty wait's reference */
}

void auth_request_mech_start(struct auth_request *req, const uint8_t *in, size_t len,
			     bool absent)
{
	const struct auth_settings *set = req->auth->set;
	req->mreq.mech = req->mech;
	req->mreq.username_check = auth_request_mech_username_check;
	req->mreq.service = req->service;
	/* EXTERNAL: only a verified certificate's name, and only when the
	 * operator asked for names from certificates. */
	if (set->auth_ssl_username_from_cert && req->valid_client_cert &&
	    req->cert_username != NULL && *req->cert_username != '\0')
		req->mreq.cert_username = req->cert_username;
	req->timer.fn = auth_request_abort_timeout;
	uint64_t wait = req->no_penalty ? 0 :
			penalty_delay_ms(req->auth->penalty, &req->rip_addr, event_now_ms(req->auth->loop));
	if (wait == 0) {
		auth_request_mech_step(req, in, len, absent);
		return;
	}
	/* The penalty delays the start; a CONT meanwhile is unexpected. */
	req->state = AUTH_REQUEST_STATE_PENALTY;
	req->initial = (uint8_t *)pool_strndup(req->pool, in, len);
	req->initial_len = len;
	req->initial_absent = absent;
	req->timer.fn = auth_request_penalty_done;
	auth_request_ref(req);
	event_timer_add(req->auth->loop, &req->timer, wait);
}

static void auth_request_penalty_update(struct auth_request *req)
{
	if (req->no_penalty)
		return;
	struct penalty *p = req->auth->penalty;
	if (req->outcome == AUTH_OUTCOME_OK) {
		penalty_success(p, &req->rip_addr);
	} else if (req->outcome == AUTH_OUTCOME_FAIL || req->outcome == AUTH_OUTCOME_DISABLED) {
		uint64_t sum = penalty_checksum(p, req->user != NULL ? req->user : "",
						req->mreq.password, req->mreq.password_len);
		penalty_failure(p, &req->rip_addr, sum, event_now_ms(req->auth->loop));
	}
}

void auth_request_mech_continue(struct auth_request *req, const uint8_t *in, size_t len)
{
	event_timer_cancel(req->auth->loop, &req->timer);
	req->started_ms = event_now_ms(req->auth->loop);
	req->arrived_ms = req->started_ms;
	auth_request_mech_step(req, in, len, false);
}

static bool auth_request_password_has_illegal_chars(const struct mech_request *mreq)
{
	for (size_t i = 0; i < mreq->password_len; i++) {
		uint8_t c = mreq->password[i];
		if (c == '\t' || c == '\r' || c == '\n' || c == 0x01)
			return true;
	}
	return false;
}

/* Splits "user*master" when auth_master_user_separator is set (spec 7.2
 * step 1). Returns the master part's offset, or 0 when there is none. */
static size_t auth_request_separator_split(const struct auth_request *req, const char *name)
{
	const char *sep = req->auth->set->auth_master_user_separator;
	if (sep == NULL || *sep == '\0')
		return 0;
	const char *p = strstr(name, sep);
	return p != NULL && p != name ? (size_t)(p - name) : 0;
}

/* Sets req->user from the mechanism's names. A non-empty authzid (or the
 * separator) is a master-user login: authcid is the master, authzid the
 * user to become; it needs a master passdb, else it fails naming the
 * authcid (the maddy CVE-2023-27582 class). Returns 1 or 0 (failed). */
static int auth_request_set_mech_names(struct auth_request *req)
{
	struct mech_request *mreq = &req->mreq;
	const char *authcid = mreq->authcid;
	const char *target = mreq->authzid != NULL && *mreq->authzid != '\0' ? mreq->authzid : NULL;
	size_t split = target == NULL ? auth_request_separator_split(req, authcid) : 0;
	if (split > 0) {
		target = pool_strndup(req->pool, authcid, split);
		authcid += split + strlen(req->auth->set->auth_master_user_separator);
	}
	if (target != NULL) {
		if (auth_request_set_username(req, (const uint8_t *)target, strlen(target)) <= 0) {
			req->user_rejected = true;
			return 0;
		}
		req->requested_login_user = req->user;
		req->original_user = NULL;
		req->translated_user = NULL;
	}
	if (req->translated_user == NULL &&
	    auth_request_mech_username_check(mreq, (const uint8_t *)authcid, strlen(authcid)) <= 0)
		return 0;
	if (target != NULL && req->auth->masterdb_count == 0) {
		auth_request_log(req, LOG_LEVEL_INFO, NULL,
				 "Attempted master login with no master passdbs (trying to log in as user: %s)",
				 req->requested_login_user);
		req->requested_login_user = NULL;
		return 0;
	}
	return 1;
}

static void auth_request_verify_plain_start(struct auth_request *req)
{
	struct mech_request *mreq = &req->mreq;
	if (auth_request_set_mech_names(req) <= 0) {
		auth_request_auth_finish(req, AUTH_OUTCOME_FAIL, NULL, 0);
		return;
	}
	if (auth_request_password_has_illegal_chars(mreq)) {
		/* Dovecot reports this as an unknown user. */
		auth_request_log(req, LOG_LEVEL_INFO, NULL,
				 "Attempted login with password having illegal chars");
		auth_request_auth_finish(req, AUTH_OUTCOME_FAIL, NULL, 0);
		return;
	}
	auth_request_passdb_chain_start(req, false);
}

/* Success. Final data goes inside OK for final-resp-ok clients; others
 * (Postfix, Exim) get it as one more CONT and the OK after their next,
 * empty CONT (spec 2.7). ANONYMOUS names its user only now. */
static void auth_request_mech_success(struct auth_request *req, const struct buf *out)
{
	if (req->user == NULL && req->mreq.authcid != NULL &&
	    auth_request_set_username(req, (const uint8_t *)req->mreq.authcid,
				      strlen(req->mreq.authcid)) <= 0) {
		auth_request_auth_finish(req, AUTH_OUTCOME_FAIL, NULL, 0);
		return;
	}
	if (req->passdb_disabled) {
		auth_request_auth_finish(req, AUTH_OUTCOME_DISABLED, NULL, 0);
		return;
	}
	if (out->len > 0 && !req->final_resp_ok) {
		req->state = AUTH_REQUEST_STATE_FINAL_WAIT;
		event_timer_add(req->auth->loop, &req->timer, AUTH_REQUEST_ABORT_MS);
		proto_client_send_continue(req, out->data, out->len);
		return;
	}
	auth_request_auth_finish(req, AUTH_OUTCOME_OK, out->data, out->len);
}

void auth_request_mech_final_continue(struct auth_request *req)
{
	event_timer_cancel(req->auth->loop, &req->timer);
	auth_request_auth_finish(req, AUTH_OUTCOME_OK, NULL, 0);
}

void auth_request_mech_resume(struct auth_request *req)
{
	struct buf out = BUF_INIT(MECH_CHALLENGE_MAX);
	enum mech_status status = req->mech->resume(&req->mreq, req->credentials.data,
						    req->credentials.len, &out);
	buf_reset(&req->credentials);
	auth_request_mech_status(req, status, &out);
	buf_free(&out);
}

static void auth_request_mech_status(struct auth_request *req, enum mech_status status,
				     const struct buf *out)
{
	switch (status) {
	case MECH_CONTINUE:
		req->state = AUTH_REQUEST_STATE_MECH_WAIT;
		event_timer_add(req->auth->loop, &req->timer, AUTH_REQUEST_ABORT_MS);
		proto_client_send_continue(req, out->data, out->len);
		return;
	case MECH_VERIFY_PLAIN:
		auth_request_verify_plain_start(req);
		return;
	case MECH_LOOKUP_CREDENTIALS:
		if (auth_request_set_mech_names(req) <= 0) {
			auth_request_auth_finish(req, AUTH_OUTCOME_FAIL, NULL, 0);
			return;
		}
		req->wanted_scheme = req->mech->cred_scheme;
		auth_request_passdb_chain_start(req, false);
		return;
	case MECH_SUCCESS:
		auth_request_mech_success(req, out);
		return;
	case MECH_FAILURE:
		if (req->mreq.fail_reason != NULL)
			auth_request_log(req, LOG_LEVEL_INFO, NULL, "%s", req->mreq.fail_reason);
		auth_request_auth_finish(req, AUTH_OUTCOME_FAIL, NULL, 0);
		return;
	}
}

void auth_request_auth_finish(struct auth_request *req, enum auth_outcome outcome,
			      const uint8_t *final, size_t final_len)
{
	req->state = AUTH_REQUEST_STATE_FINISHED;
	req->outcome = outcome;
	auth_request_penalty_update(req);
	proto_client_auth_finished(req, final, final_len);
}
