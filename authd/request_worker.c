/* request_worker: blocking lookups of a request through the worker pool
 * (see request_worker.h). */
#include "authd/request_worker.h"
#include "authd/auth.h"
#include "authd/log.h"
#include "authd/request.h"
#include "authd/worker_pool.h"
#include "common/pool.h"

#include <string.h>

struct request_worker_job {
	struct worker_job job;
	struct auth_request *req;
	const char *driver;      /* for log lines */
	bool userdb, verify;
};

/* Request parameters the worker may need (PAM_RHOST, checkpassword's
 * TCPREMOTEIP, %-variables in args). */
static void request_worker_params(struct auth_request *req, struct worker_msg *m)
{
	const struct {
		const char *name;
		const char *value;
	} params[] = {
		{ "service", req->service }, { "lip", req->lip }, { "rip", req->rip },
		{ "lport", req->lport }, { "rport", req->rport }, { "real_lip", req->real_lip },
		{ "real_rip", req->real_rip }, { "real_lport", req->real_lport },
		{ "real_rport", req->real_rport }, { "local_name", req->local_name },
		{ "session", req->session }, { "client_id", req->client_id },
		{ "secured", req->secured }, { "cert_username", req->cert_username },
		{ "valid-client-cert", req->valid_client_cert ? "" : NULL },
	};
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		if (params[i].value != NULL && strlen(params[i].value) <= WORKER_VALUE_MAX)
			(void)worker_msg_add_field(m, req->pool, WORKER_TAG_PARAM, params[i].name,
						   params[i].value);
	}
}

/* The passdb / userdb fields so far (%{passdb:x}, checkpassword's
 * environment). Fields the protocol cannot carry are left out. */
static void request_worker_fields(struct auth_request *req, struct worker_msg *m,
				  const struct fields *f, enum worker_tag tag)
{
	for (size_t i = 0; i < f->count; i++) {
		const char *key = f->items[i].key;
		const char *value = f->items[i].value;
		size_t klen = strlen(key);
		bool ok = klen > 0 && klen <= WORKER_KEY_MAX && strchr(key, '=') == NULL &&
			  (value == NULL || strlen(value) <= WORKER_VALUE_MAX);
		for (size_t j = 0; ok && j < klen; j++)
			ok = key[j] > 0x20 && key[j] < 0x7f;
		if (ok)
			(void)worker_msg_add_field(m, req->pool, tag, key, value);
	}
}

static void request_worker_fill(struct auth_request *req, struct worker_msg *m,
				const struct db_settings *set, unsigned int db_id)
{
	m->db_id = db_id;
	m->has_db_id = true;
	m->driver = set->driver;
	m->args = set->args != NULL ? set->args : "";
	m->user = req->user != NULL ? req->user : "";
	m->original_user = req->original_user;
	m->master_user = req->master_user;
	m->mech = req->mech != NULL ? req->mech->name : NULL;
	m->scheme = req->wanted_scheme;
	m->flags = req->debug ? WORKER_FLAG_DEBUG : 0;
	m->has_flags = true;
	request_worker_params(req, m);
	request_worker_fields(req, m, &req->extra, WORKER_TAG_PASSDB_FIELD);
	request_worker_fields(req, m, &req->userdb_fields, WORKER_TAG_USERDB_FIELD);
}

/* Deadline on the event loop clock; also sets the worker's own budget. */
static uint64_t request_worker_deadline(struct auth_request *req, struct worker_msg *m)
{
	uint64_t now = event_now_ms(req->auth->loop);
	/* From the client's last message, not from the end of a penalty
	 * wait: Postfix's 10 s run from when it sent. */
	uint64_t deadline = req->arrived_ms + REQUEST_WORKER_TIMEOUT_MS;
	if (deadline < now + REQUEST_WORKER_MIN_MS)
		deadline = now + REQUEST_WORKER_MIN_MS;
	m->timeout_ms = (uint32_t)(deadline - now - REQUEST_WORKER_MARGIN_MS);
	m->has_timeout_ms = true;
	return deadline;
}

static bool request_worker_result_valid(const struct request_worker_job *rj, int32_t result)
{
	if (rj->userdb)
		return result >= USERDB_RESULT_INTERNAL_FAILURE && result <= USERDB_RESULT_OK;
	return result >= PASSDB_RESULT_NEXT && result <= PASSDB_RESULT_OK;
}

/* Ends the lookup the way the driver would have. */
static void request_worker_finish(struct request_worker_job *rj, int result, const char *password)
{
	struct auth_request *req = rj->req;
	if (rj->userdb)
		auth_request_userdb_done(req, (enum userdb_result)result);
	else if (rj->verify)
		auth_request_passdb_verified(req, (enum passdb_result)result);
	else
		auth_request_passdb_done(req, (enum passdb_result)result, password);
}

static void request_worker_done(struct worker_job *job, const struct worker_msg *reply,
				const char *error)
{
	struct request_worker_job *rj = (struct request_worker_job *)job;
	struct auth_request *req = rj->req;
	if (reply != NULL && !request_worker_result_valid(rj, reply->result)) {
		reply = NULL;
		error = "invalid result from the auth worker";
	}
	if (reply == NULL) {
		auth_request_log(req, LOG_LEVEL_ERROR, rj->driver, "%s", error);
		request_worker_finish(rj, -1, NULL);   /* *_RESULT_INTERNAL_FAILURE */
		return;
	}
	if ((reply->flags & WORKER_FLAG_CONFIG_MISMATCH) != 0)
		auth_request_log(req, LOG_LEVEL_ERROR, rj->driver, "the auth workers have another "
				 "configuration (reloaded since this connection started?)");
	if ((reply->flags & WORKER_FLAG_PASSDB_DISABLED) != 0 && !rj->userdb)
		auth_request_passdb_disable(req);
	for (size_t i = 0; i < reply->field_count; i++) {
		const struct worker_field *f = &reply->fields[i];
		if (f->tag == WORKER_TAG_USERDB_FIELD)
			auth_request_set_userdb_field(req, f->key, f->value);
		else if (f->tag == WORKER_TAG_PASSDB_FIELD)
			auth_request_set_passdb_field(req, f->key, f->value);
	}
	request_worker_finish(rj, reply->result, (const char *)reply->password);
}

static void request_worker_submit(struct auth_request *req, struct request_worker_job *rj)
{
	struct worker_pool *pool = req->auth->worker_pool;
	rj->req = req;
	rj->job.done = request_worker_done;
	rj->job.ctx = rj;
	if (pool == NULL) {
		/* Only test harnesses run without the pool; blocking backends
		 * never run in the auth process. */
		request_worker_done(&rj->job, NULL, "no auth worker pool in this process");
		return;
	}
	uint64_t deadline = request_worker_deadline(req, &rj->job.msg);
	worker_pool_submit(pool, &rj->job, deadline);
}

bool auth_request_passdb_uses_worker(const struct passdb *db, bool verify)
{
	if (!db->blocking)
		return false;
	return verify ? db->driver->verify_plain != NULL :
	       (db->driver->flags & PASSDB_FLAG_NO_CREDENTIALS) == 0;
}

void auth_request_passdb_worker(struct auth_request *req, struct passdb *db, bool verify)
{
	struct request_worker_job *rj = pool_alloc(req->pool, sizeof(*rj));
	rj->driver = db->driver->name;
	rj->verify = verify;
	rj->job.msg.type = verify ? WORKER_MSG_PASSDB_VERIFY : WORKER_MSG_PASSDB_LOOKUP;
	request_worker_fill(req, &rj->job.msg, db->set, db->id);
	if (verify) {
		rj->job.msg.password = req->mreq.password != NULL ? req->mreq.password :
				       (const uint8_t *)"";
		rj->job.msg.password_len = req->mreq.password_len;
	}
	request_worker_submit(req, rj);
}

void auth_request_userdb_worker(struct auth_request *req, struct userdb *db)
{
	struct request_worker_job *rj = pool_alloc(req->pool, sizeof(*rj));
	rj->driver = db->driver->name;
	rj->userdb = true;
	rj->job.msg.type = WORKER_MSG_USERDB_LOOKUP;
	request_worker_fill(req, &rj->job.msg, db->set, db->id);
	request_worker_submit(req, rj);
}
