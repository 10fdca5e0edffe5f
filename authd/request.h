/* request: one authentication or lookup, from the protocol line that
 * started it to its reply.
 *
 * connection -> request -> mechanism step -> (verify plain | credentials)
 * -> passdb chain -> mechanism resume -> reply. USER/PASS lookups from the
 * master protocol enter at the userdb / passdb chain. All memory of a
 * request comes from its pool and is wiped when the last reference goes.
 * References: the connection's id table, each operation in flight (passdb
 * lookup, hash job), and the failure-delay timer. */
#ifndef AUTHD_REQUEST_H
#define AUTHD_REQUEST_H

#include "authd/event.h"
#include "authd/fields.h"
#include "authd/hashpool.h"
#include "authd/penalty.h"
#include "authd/vars.h"
#include "common/scheme.h"
#include "mechanisms/mech.h"
#include "passdb/passdb.h"
#include "userdb/userdb.h"

#include <stdbool.h>
#include <stdint.h>

struct auth;
struct client_conn;
struct master_conn;
struct worker_capture;

#define AUTH_REQUEST_ABORT_MS (150u * 1000u)
#define AUTH_REQUEST_VARS_MAX 48
#define AUTH_REQUEST_CREDENTIALS_MAX 4096u

enum auth_request_kind {
	AUTH_REQUEST_AUTH,   /* SASL on an auth-client connection */
	AUTH_REQUEST_USER,   /* master USER */
	AUTH_REQUEST_PASS,   /* master PASS */
};

enum auth_request_state {
	AUTH_REQUEST_STATE_NEW,
	AUTH_REQUEST_STATE_MECH_WAIT,   /* challenge sent, waiting for CONT */
	AUTH_REQUEST_STATE_PENALTY,     /* start delayed by the auth penalty */
	AUTH_REQUEST_STATE_BUSY,        /* passdb / hash / userdb in progress */
	AUTH_REQUEST_STATE_FINAL_WAIT,  /* final data sent as CONT, waiting for
					 * the client's (empty) CONT */
	AUTH_REQUEST_STATE_FINISHED,    /* replied or queued for delayed reply */
};

/* The final answer of an AUTH request. */
enum auth_outcome {
	AUTH_OUTCOME_OK,
	AUTH_OUTCOME_FAIL,           /* mismatch, unknown user, bad SASL data */
	AUTH_OUTCOME_TEMPFAIL,       /* code=temp_fail */
	AUTH_OUTCOME_DISABLED,       /* code=user_disabled */
	AUTH_OUTCOME_PASS_EXPIRED,   /* code=pass_expired */
};

struct auth_request {
	struct pool *pool;
	struct auth *auth;
	unsigned int refcount;
	enum auth_request_kind kind;
	enum auth_request_state state;
	uint32_t id;
	struct client_conn *client;      /* NULL once the connection is gone */
	struct master_conn *master;
	uint32_t master_id;              /* id of the master command answering it */
	bool handoff;                    /* login request fetched by REQUEST */
	struct auth_request *conn_next;  /* the connection's request list */

	/* request parameters (unescaped, NUL-terminated, pool-owned) */
	const char *service, *lip, *rip, *lport, *rport;
	const char *real_lip, *real_rip, *real_lport, *real_rport;
	const char *local_name, *session, *client_id, *cert_username;
	const char *secured;             /* NULL, "" (trusted) or "tls" */
	bool valid_client_cert, no_penalty, final_resp_ok, debug;
	bool client_nologin;             /* AUTH carried `nologin` (Postfix, Exim) */
	struct penalty_addr rip_addr;    /* rip parsed once for the penalty table */
	uint32_t client_pid;

	/* mechanism */
	const struct mech *mech;
	struct mech_request mreq;
	uint8_t *initial;                /* initial response kept during a penalty wait */
	size_t initial_len;
	bool initial_absent;

	/* names */
	const char *original_user;       /* as the mechanism / client gave it */
	const char *user;                /* normalised; passdb may rename */
	const char *translated_user;     /* after realm+translation, before format */
	bool user_rejected;              /* name failed normalisation */

	/* master-user login (authzid or auth_master_user_separator) */
	const char *requested_login_user;  /* target user, normalised */
	const char *master_user;           /* set once the master authenticated */

	/* passdb chain */
	struct passdb **passdb_list;     /* auth->masterdbs or auth->passdbs */
	size_t passdb_list_count;
	size_t passdb_index;
	struct passdb *passdb;
	bool credentials_mode;           /* PASS lookup: no password check */
	const char *wanted_scheme;       /* credentials for the mechanism, or NULL */
	struct buf credentials;          /* what scheme_credentials() produced */
	bool passdb_success, seen_user_unknown, seen_internal_failure;
	bool skip_password_check, failed, nopassword, noauthenticate;
	bool cache_hit;                  /* this passdb's answer came from the cache */
	bool passdb_disabled;            /* refuse as user_disabled, but only once
					  * the password proved right (rule 7) */
	struct fields extra;             /* passdb extra fields for the reply */
	struct fields userdb_fields;     /* userdb reply (prefetch + lookups) */
	bool userdb_prefetched;
	const char *stored_password;     /* pool copy; NULL none */
	struct hashpool_job job;
	struct scheme_stored stored;
	int verify_ret;
	const char *verify_error;

	/* userdb chain */
	size_t userdb_index;
	bool userdb_success, userdb_seen_internal_failure;
	enum userdb_result userdb_result;

	/* timers */
	uint64_t started_ms;             /* last client message (or end of penalty) */
	uint64_t arrived_ms;             /* last client message: the client's
					  * own timeout runs from here */
	struct event_timer timer;        /* abort (waiting for CONT) or delayed reply */
	enum auth_outcome outcome;

	/* Set in an auth worker process (authd/worker_process.h): the
	 * drivers' fields and results are captured for the reply instead of
	 * running the chains. NULL in the auth process. */
	struct worker_capture *worker_capture;
};

/* Creates a request with refcount 1. Never fails. */
struct auth_request *auth_request_new(struct auth *auth, enum auth_request_kind kind,
				      uint32_t id);
void auth_request_ref(struct auth_request *req);
/* Drops a reference; the last one wipes and frees. NULLs *req. */
void auth_request_unref(struct auth_request **req);

/* Applies one request parameter (AUTH/USER/PASS field "name=value" or a bare
 * word; a bare word has an empty value) (request_params.c). Unknown names,
 * values containing NUL and unparsable addresses (lip=NULL from Exim) are
 * ignored. Values are copied into the request's pool. */
void auth_request_set_param_n(struct auth_request *req, const uint8_t *name, size_t name_len,
			      const uint8_t *value, size_t value_len);
/* The same for NUL-terminated name and value. */
void auth_request_set_param(struct auth_request *req, const char *name, const char *value);
/* Applies the protocol fields f[from..n) (lengths l, already unescaped;
 * "resp=" is left to the AUTH parser). Returns true if service= (or
 * protocol=) was among them. */
bool auth_request_set_param_fields(struct auth_request *req, uint8_t *const *f,
				   const size_t *l, size_t from, size_t n);

/* Starts the mechanism with the initial response (absent = none). */
void auth_request_mech_start(struct auth_request *req, const uint8_t *in, size_t len,
			     bool absent);
/* Continues the mechanism with a client CONT payload (decoded). */
void auth_request_mech_continue(struct auth_request *req, const uint8_t *in, size_t len);

/* Sets the login name from a mechanism or a lookup: records
 * original_user (first call), normalises (spec 7.2 steps 3-6) into
 * req->user. Returns 1, or 0 if rejected (logged). */
int auth_request_set_username(struct auth_request *req, const uint8_t *name, size_t len);
/* Master USER / PASS: sets the user name; returns 1, or 0 if it is
 * rejected (answer NOTFOUND). */
int auth_request_set_lookup_user(struct auth_request *req, const uint8_t *name, size_t len);
void auth_request_userdb_lookup(struct auth_request *req);
void auth_request_passdb_lookup(struct auth_request *req);

/* Starts the passdb chain: verify the mechanism's password, or (PASS
 * lookups) only find the user. */
void auth_request_passdb_chain_start(struct auth_request *req, bool credentials_mode);
/* The client's CONT after final data sent as a challenge: answer OK. */
void auth_request_mech_final_continue(struct auth_request *req);
/* Resumes the mechanism with req->credentials after the passdb chain. */
void auth_request_mech_resume(struct auth_request *req);
/* Ends an AUTH request (reply through the client protocol). final/len is
 * mechanism final data for OK (may be NULL). */
void auth_request_auth_finish(struct auth_request *req, enum auth_outcome outcome,
			      const uint8_t *final, size_t final_len);

/* USER lookups through a userdb that needs proof of existence (static
 * without allow_all_users) run the passdb chain first; this resumes them. */
void auth_request_userdb_existence_checked(struct auth_request *req,
					   enum passdb_result result);

/* --- for drivers --- */

/* Sets a passdb field, with Dovecot's special names (user, nologin,
 * nopassword, allow_nets, userdb_*, ...). value NULL = bare key. */
void auth_request_set_passdb_field(struct auth_request *req, const char *key,
				   const char *value);
void auth_request_set_userdb_field(struct auth_request *req, const char *key,
				   const char *value);
/* Ends a passdb lookup: result (OK = found) and the stored password
 * (copied; NULL when none). */
void auth_request_passdb_done(struct auth_request *req, enum passdb_result result,
			      const char *stored_password);
/* Ends a driver's own verify_plain. */
void auth_request_passdb_verified(struct auth_request *req, enum passdb_result result);
/* The passdb found the user but refuses this login (vpopmail NO_SMTP ...).
 * The request fails with code=user_disabled only if the password (or the
 * mechanism's proof) is right; otherwise it fails like any wrong password,
 * so the answer never reveals that the account exists. */
void auth_request_passdb_disable(struct auth_request *req);
void auth_request_userdb_done(struct auth_request *req, enum userdb_result result);

/* Fills vars (at least AUTH_REQUEST_VARS_MAX entries) with the request's
 * %-variables and sets up ctx. escape may be NULL. */
void auth_request_var_ctx(struct auth_request *req, struct var_entry *vars,
			  struct var_expand_ctx *ctx);
/* Expands a template for this request into a pool string; NULL on error
 * (logged as "db(user,rip): ..."). */
const char *auth_request_expand(struct auth_request *req, const char *db_name,
				const char *tmpl);
/* Logs "db(user,rip): message" at level. */
void auth_request_log(struct auth_request *req, int level, const char *db_name,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
