/* worker_process: the auth worker's request loop (see worker_process.h). */
#include "authd/worker_process.h"
#include "authd/auth.h"
#include "authd/event.h"
#include "authd/log.h"
#include "authd/request.h"
#include "authd/worker_proto.h"
#include "common/buf.h"
#include "common/pool.h"
#include "common/secret.h"
#include "passdb/passdb.h"
#include "userdb/userdb.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

struct worker_capture {
	struct pool *pool;            /* the reply's */
	struct worker_msg *reply;
	struct event_loop *loop;
	bool done, overflow;
};

struct worker_process {
	const struct auth_settings *set;
	struct event_loop *loop;
	struct auth *auth;            /* minimal: settings, loop, names */
	struct passdb **passdbs;      /* by position in set->passdbs, lazily */
	struct userdb **userdbs;
	uint8_t rx[WORKER_MSG_MAX + 1];
};

/* Request parameters a worker request may carry (auth_request_set_param). */
static const char *const worker_params[] = {
	"service", "lip", "rip", "lport", "rport", "real_lip", "real_rip", "real_lport",
	"real_rport", "local_name", "session", "client_id", "secured", "cert_username",
	"valid-client-cert",
};

static bool worker_restart_requested;
static uint64_t worker_deadline_ms;     /* of the request being handled, 0 none */

static uint64_t worker_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void worker_process_restart_after_request(void)
{
	worker_restart_requested = true;
}

uint64_t worker_process_time_left_ms(void)
{
	if (worker_deadline_ms == 0)
		return WORKER_PROCESS_NO_DEADLINE;
	uint64_t now = worker_clock_ms();
	return worker_deadline_ms > now ? worker_deadline_ms - now : 0;
}

/* --- capture hooks --- */

void worker_capture_field(struct auth_request *req, bool userdb, const char *key,
			  const char *value)
{
	struct worker_capture *cap = req->worker_capture;
	const char *k = pool_strdup(cap->pool, key);
	const char *v = value != NULL ? pool_strdup(cap->pool, value) : NULL;
	if (cap->done || worker_msg_add_field(cap->reply, cap->pool,
					      userdb ? WORKER_TAG_USERDB_FIELD :
					      WORKER_TAG_PASSDB_FIELD, k, v) < 0)
		cap->overflow = true;
}

void worker_capture_done(struct auth_request *req, int result, const char *stored_password)
{
	struct worker_capture *cap = req->worker_capture;
	if (cap->done) {
		log_error("%s: driver finished a request twice", req->passdb != NULL ?
			  req->passdb->driver->name : "userdb");
		return;
	}
	cap->done = true;
	cap->reply->result = result;
	cap->reply->has_result = true;
	if (stored_password != NULL) {
		cap->reply->password = (const uint8_t *)pool_strdup(cap->pool, stored_password);
		cap->reply->password_len = strlen(stored_password);
	}
	event_loop_stop(cap->loop);
}

/* --- setup --- */

struct worker_process *worker_process_create(const struct auth_settings *set)
{
	struct worker_process *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->set = set;
	w->loop = event_loop_create();
	w->auth = calloc(1, sizeof(*w->auth));
	w->passdbs = calloc(set->passdb_count + 1, sizeof(*w->passdbs));
	w->userdbs = calloc(set->userdb_count + 1, sizeof(*w->userdbs));
	if (w->loop == NULL || w->auth == NULL || w->passdbs == NULL || w->userdbs == NULL) {
		worker_process_destroy(&w);
		return NULL;
	}
	struct auth *auth = w->auth;
	auth->refcount = 1;
	auth->set = set;
	auth->loop = w->loop;
	auth->pid = getpid();
	snprintf(auth->pid_str, sizeof(auth->pid_str), "%ld", (long)auth->pid);
	if (gethostname(auth->hostname, sizeof(auth->hostname) - 1) < 0)
		snprintf(auth->hostname, sizeof(auth->hostname), "localhost");
	auth->mech_env.anonymous_username = set->auth_anonymous_username;
	auth->mech_env.realms = set->auth_realms;
	auth->mech_env.hostname = auth->hostname;
	return w;
}

void worker_process_destroy(struct worker_process **wp)
{
	struct worker_process *w = *wp;
	if (w == NULL)
		return;
	for (size_t i = 0; w->passdbs != NULL && i < w->set->passdb_count; i++)
		passdb_destroy(&w->passdbs[i]);
	for (size_t i = 0; w->userdbs != NULL && i < w->set->userdb_count; i++)
		userdb_destroy(&w->userdbs[i]);
	free(w->passdbs);
	free(w->userdbs);
	free(w->auth);
	if (w->loop != NULL)
		event_loop_destroy(&w->loop);
	secret_wipe(w->rx, sizeof(w->rx));
	free(w);
	*wp = NULL;
}

/* --- finding the database --- */

static bool worker_db_matches(const struct db_settings *db, const struct worker_msg *msg)
{
	return strcmp(db->driver, msg->driver) == 0 &&
	       strcmp(db->args != NULL ? db->args : "", msg->args) == 0;
}

/* The position of the configured db the request means, or -1: the one at
 * db_id if it matches, else the first with the same driver and args (the
 * auth process may hold an older configuration with another order). */
static int worker_db_index(const struct db_settings *dbs, size_t count,
			   const struct worker_msg *msg)
{
	if (msg->db_id >= 1 && msg->db_id <= count && worker_db_matches(&dbs[msg->db_id - 1], msg))
		return (int)msg->db_id - 1;
	for (size_t i = 0; i < count; i++)
		if (worker_db_matches(&dbs[i], msg))
			return (int)i;
	return -1;
}

static struct passdb *worker_get_passdb(struct worker_process *w, const struct worker_msg *msg)
{
	int i = worker_db_index(w->set->passdbs, w->set->passdb_count, msg);
	if (i < 0)
		return NULL;
	if (w->passdbs[i] == NULL) {
		const char *error = NULL;
		w->passdbs[i] = passdb_create(&w->set->passdbs[i], (unsigned int)i + 1, w->loop,
					      &error);
		if (w->passdbs[i] == NULL)
			log_error("%s", error);
	}
	return w->passdbs[i];
}

static struct userdb *worker_get_userdb(struct worker_process *w, const struct worker_msg *msg)
{
	int i = worker_db_index(w->set->userdbs, w->set->userdb_count, msg);
	if (i < 0)
		return NULL;
	if (w->userdbs[i] == NULL) {
		const char *error = NULL;
		w->userdbs[i] = userdb_create(&w->set->userdbs[i], (unsigned int)i + 1, w->loop,
					      &error);
		if (w->userdbs[i] == NULL)
			log_error("%s", error);
	}
	return w->userdbs[i];
}

/* --- running a request --- */

static bool worker_param_allowed(const char *name)
{
	for (size_t i = 0; i < sizeof(worker_params) / sizeof(worker_params[0]); i++)
		if (strcmp(worker_params[i], name) == 0)
			return true;
	return false;
}

static void worker_request_fields(struct auth_request *req, const struct worker_msg *msg)
{
	for (size_t i = 0; i < msg->field_count; i++) {
		const struct worker_field *f = &msg->fields[i];
		if (f->tag == WORKER_TAG_PARAM && worker_param_allowed(f->key))
			auth_request_set_param(req, f->key, f->value != NULL ? f->value : "");
		else if (f->tag == WORKER_TAG_PASSDB_FIELD)
			fields_set(&req->extra, f->key, f->value);
		else if (f->tag == WORKER_TAG_USERDB_FIELD)
			fields_set(&req->userdb_fields, f->key, f->value);
	}
}

static struct auth_request *worker_request_new(struct worker_process *w,
					       const struct worker_msg *msg,
					       struct worker_capture *cap)
{
	enum auth_request_kind kind = msg->type == WORKER_MSG_USERDB_LOOKUP ? AUTH_REQUEST_USER :
				      msg->type == WORKER_MSG_PASSDB_VERIFY ? AUTH_REQUEST_AUTH :
				      AUTH_REQUEST_PASS;
	struct auth_request *req = auth_request_new(w->auth, kind, msg->seq);
	struct pool *p = req->pool;
	req->worker_capture = cap;
	worker_request_fields(req, msg);
	req->user = pool_strdup(p, msg->user);
	req->translated_user = req->user;
	req->original_user = msg->original_user != NULL ? pool_strdup(p, msg->original_user) :
			     req->user;
	if (msg->master_user != NULL)
		req->master_user = pool_strdup(p, msg->master_user);
	if (msg->mech != NULL)
		req->mech = mech_find(msg->mech, strlen(msg->mech));
	if (msg->scheme != NULL)
		req->wanted_scheme = pool_strdup(p, msg->scheme);
	req->debug = (msg->flags & WORKER_FLAG_DEBUG) != 0;
	if (msg->password != NULL) {
		req->mreq.password = (uint8_t *)pool_strndup(p, msg->password, msg->password_len);
		req->mreq.password_len = msg->password_len;
	}
	req->state = AUTH_REQUEST_STATE_BUSY;
	return req;
}

/* Drivers usually finish at once; asynchronous ones (LDAP) run the loop. */
static void worker_wait(struct worker_process *w, const struct worker_capture *cap)
{
	while (!cap->done) {
		if (event_loop_run(w->loop) < 0) {
			log_error("event loop failed: %s", strerror(errno));
			return;
		}
	}
}

static void worker_run_passdb(struct worker_process *w, struct passdb *db,
			      const struct worker_msg *msg, struct worker_capture *cap)
{
	struct auth_request *req = worker_request_new(w, msg, cap);
	bool verify = msg->type == WORKER_MSG_PASSDB_VERIFY;
	req->passdb = db;
	req->credentials_mode = !verify && msg->scheme == NULL;
	if ((verify && db->driver->verify_plain == NULL) || (!verify && db->driver->lookup == NULL)) {
		log_error("passdb %s: the request needs an operation the driver lacks",
			  db->driver->name);
		worker_capture_done(req, PASSDB_RESULT_INTERNAL_FAILURE, NULL);
	} else {
		auth_request_ref(req);   /* the driver's, as in request_passdb.c */
		if (verify)
			db->driver->verify_plain(db, req);
		else
			db->driver->lookup(db, req);
		worker_wait(w, cap);
	}
	if (req->passdb_disabled)
		cap->reply->flags |= WORKER_FLAG_PASSDB_DISABLED;
	auth_request_unref(&req);
}

static void worker_run_userdb(struct worker_process *w, struct userdb *db,
			      const struct worker_msg *msg, struct worker_capture *cap)
{
	struct auth_request *req = worker_request_new(w, msg, cap);
	auth_request_ref(req);
	db->driver->lookup(db, req);
	worker_wait(w, cap);
	auth_request_unref(&req);
}

static void worker_run(struct worker_process *w, const struct worker_msg *msg,
		       struct worker_capture *cap)
{
	struct worker_msg *reply = cap->reply;
	bool userdb = msg->type == WORKER_MSG_USERDB_LOOKUP;
	struct passdb *pdb = userdb ? NULL : worker_get_passdb(w, msg);
	struct userdb *udb = userdb ? worker_get_userdb(w, msg) : NULL;
	if (pdb == NULL && udb == NULL) {
		log_error("%s %s (args '%.64s'): not in this worker's configuration",
			  userdb ? "userdb" : "passdb", msg->driver, msg->args);
		reply->flags |= WORKER_FLAG_CONFIG_MISMATCH;
		reply->result = -1;   /* PASSDB/USERDB_RESULT_INTERNAL_FAILURE */
		return;
	}
	worker_deadline_ms = msg->has_timeout_ms ? worker_clock_ms() + msg->timeout_ms : 0;
	if (pdb != NULL)
		worker_run_passdb(w, pdb, msg, cap);
	else
		worker_run_userdb(w, udb, msg, cap);
	worker_deadline_ms = 0;
	if (!cap->done)
		reply->result = -1;
	if (cap->overflow) {
		log_error("%s: too many fields for one reply", msg->driver);
		reply->field_count = 0;
		reply->result = -1;
	}
}

static bool worker_is_request(enum worker_msg_type type)
{
	return type == WORKER_MSG_PASSDB_LOOKUP || type == WORKER_MSG_PASSDB_VERIFY ||
	       type == WORKER_MSG_USERDB_LOOKUP;
}

int worker_process_handle(struct worker_process *w, const uint8_t *data, size_t len,
			  struct buf *reply_out, bool *restart_r)
{
	struct pool *pool = pool_create(0);
	struct worker_msg msg;
	const char *error = NULL;
	*restart_r = false;
	if (worker_msg_decode(data, len, pool, &msg, &error) < 0 || !worker_is_request(msg.type)) {
		log_error("malformed request from the auth process: %s",
			  error != NULL ? error : "not a request");
		pool_destroy(&pool);
		return -1;
	}
	struct worker_msg reply = { .type = WORKER_MSG_REPLY, .seq = msg.seq, .has_seq = true,
				    .has_result = true, .has_flags = true };
	struct worker_capture cap = { .pool = pool, .reply = &reply, .loop = w->loop };
	worker_run(w, &msg, &cap);
	if (worker_restart_requested)
		reply.flags |= WORKER_FLAG_RESTART;
	*restart_r = worker_restart_requested;
	int ret = worker_msg_encode(&reply, reply_out, &error);
	if (ret < 0) {
		log_error("%s: can't encode the reply: %s", msg.driver, error);
		reply = (struct worker_msg){ .type = WORKER_MSG_REPLY, .seq = msg.seq,
					     .has_seq = true, .result = -1, .has_result = true };
		ret = worker_msg_encode(&reply, reply_out, &error);
	}
	pool_destroy(&pool);   /* wipes the password */
	return ret;
}

/* --- the process --- */

/* A failure to drop privileges is fatal (DESIGN.md). */
static int worker_drop_privileges(const struct auth_settings *set)
{
	const char *user = set->service_auth_worker_user;
	if (user == NULL || *user == '\0' || strcmp(user, "root") == 0 || geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		log_fatal("service auth-worker: user '%s' doesn't exist", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_fatal("Failed to drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		log_fatal("Dropping privileges to %s failed: could regain root", user);
		return -1;
	}
	return 0;
}

static void worker_process_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* No core dumps: they would hold passwords. */
	prctl(PR_SET_DUMPABLE, 0);
}

static int worker_process_serve(struct worker_process *w, int sock)
{
	struct buf reply = BUF_INIT(WORKER_MSG_MAX);
	int ret = 0;
	for (;;) {
		ssize_t n = worker_msg_recv(sock, w->rx, sizeof(w->rx), NULL);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("receiving a request failed: %s", strerror(errno));
			ret = 1;
			break;
		}
		bool restart = false;
		buf_reset(&reply);
		int hret = worker_process_handle(w, w->rx, (size_t)n, &reply, &restart);
		secret_wipe(w->rx, (size_t)n);
		if (hret < 0 || worker_msg_send(sock, reply.data, reply.len, -1) < 0) {
			ret = 1;
			break;
		}
		if (restart)
			break;
	}
	buf_free(&reply);
	return ret;
}

int worker_process_run(const struct auth_settings *set, int sock)
{
	static char prefix[48];
	snprintf(prefix, sizeof(prefix), "auth-worker(%ld)", (long)getpid());
	log_set_prefix(prefix);
	worker_process_signals();
	if (worker_drop_privileges(set) < 0)
		return 89;
	struct worker_process *w = worker_process_create(set);
	if (w == NULL) {
		log_fatal("Out of memory");
		return 89;
	}
	int ret = worker_process_serve(w, sock);
	worker_process_destroy(&w);
	close(sock);
	return ret;
}
