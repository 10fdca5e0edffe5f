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
	req->mreq.mech = req->mech;
	req->mreq.username_check = auth_request_mech_username_check;
	req->timer.fn = auth_request_abort_timeout;
	uint64_t wait = req->no_penalty ? 0 :
			penalty_delay_ms(req->auth->penalty, req->rip, event_now_ms(req->auth->loop));
	if (wait == 0) {
		auth_request_mech_step(req, in, len, absent);
		return;
	}
	/* The penalty delays the start; a CONT meanwhile is unexpected. */
	req->state = AUTH_REQUEST_STATE_BUSY;
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
		penalty_success(p, req->rip);
	} else if (req->outcome == AUTH_OUTCOME_FAIL || req->outcome == AUTH_OUTCOME_DISABLED) {
		uint64_t sum = penalty_checksum(p, req->user != NULL ? req->user : "",
						req->mreq.password, req->mreq.password_len);
		penalty_failure(p, req->rip, sum, event_now_ms(req->auth->loop));
	}
}

void auth_request_mech_continue(struct auth_request *req, const uint8_t *in, size_t len)
{
	event_timer_cancel(req->auth->loop, &req->timer);
	req->started_ms = event_now_ms(req->auth->loop);
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

static void auth_request_verify_plain_start(struct auth_request *req)
{
	struct mech_request *mreq = &req->mreq;
	if (req->translated_user == NULL &&
	    auth_request_mech_username_check(mreq, (const uint8_t *)mreq->authcid,
					     strlen(mreq->authcid)) <= 0) {
		auth_request_auth_finish(req, AUTH_OUTCOME_FAIL, NULL, 0);
		return;
	}
	if (mreq->authzid != NULL && *mreq->authzid != '\0') {
		/* Master user logins need a master passdb (issue 4). */
		auth_request_log(req, LOG_LEVEL_INFO, NULL,
				 "Login as another user (authzid) is not allowed without a master passdb");
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
		auth_request_log(req, LOG_LEVEL_ERROR, NULL, "credentials lookups are not supported yet");
		auth_request_auth_finish(req, AUTH_OUTCOME_TEMPFAIL, NULL, 0);
		return;
	case MECH_SUCCESS:
		auth_request_auth_finish(req, AUTH_OUTCOME_OK, out->data, out->len);
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
