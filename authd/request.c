/* request: lifecycle, parameters, user names, variables and logging of one
 * auth request. The passdb and userdb chains are in request_passdb.c and
 * request_userdb.c, mechanism driving in request_mech.c. */
#include "authd/request.h"
#include "authd/auth.h"
#include "authd/log.h"
#include "authd/proto_client.h"
#include "authd/proto_master.h"
#include "authd/username.h"
#include "common/pool.h"
#include "common/secret.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <ctype.h>

#define AUTH_REQUEST_POOL_SIZE 4096u
#define AUTH_REQUEST_LOG_USER_MAX 64

/* Finished requests' pools, wiped and kept for the next requests, so the
 * hot path does not allocate. Only the event loop thread uses it. */
#define AUTH_REQUEST_POOL_CACHE 256u
static struct pool *request_pool_cache[AUTH_REQUEST_POOL_CACHE];
static unsigned int request_pool_cached;

static struct pool *auth_request_pool_get(void)
{
	if (request_pool_cached > 0)
		return request_pool_cache[--request_pool_cached];
	return pool_create(AUTH_REQUEST_POOL_SIZE);
}

/* Wipes the pool (the password and everything else) and keeps it. */
static void auth_request_pool_put(struct pool *pool)
{
	if (request_pool_cached < AUTH_REQUEST_POOL_CACHE) {
		pool_reset(pool);
		request_pool_cache[request_pool_cached++] = pool;
	} else {
		pool_destroy(&pool);
	}
}

struct auth_request *auth_request_new(struct auth *auth, enum auth_request_kind kind,
				      uint32_t id)
{
	struct pool *pool = auth_request_pool_get();
	struct auth_request *req = pool_alloc(pool, sizeof(*req));
	req->pool = pool;
	req->auth = auth;
	req->refcount = 1;
	req->kind = kind;
	req->id = id;
	req->service = "";
	req->started_ms = event_now_ms(auth->loop);
	req->arrived_ms = req->started_ms;
	req->timer.ctx = req;
	fields_init(&req->extra, pool);
	fields_init(&req->userdb_fields, pool);
	req->credentials.limit = AUTH_REQUEST_CREDENTIALS_MAX;
	req->mreq.pool = pool;
	req->mreq.env = &auth->mech_env;
	req->mreq.ctx = req;
	return req;
}

void auth_request_ref(struct auth_request *req)
{
	req->refcount++;
}

void auth_request_unref(struct auth_request **reqp)
{
	struct auth_request *req = *reqp;
	*reqp = NULL;
	if (req == NULL || --req->refcount > 0)
		return;
	event_timer_cancel(req->auth->loop, &req->timer);
	buf_free(&req->credentials);
	if (req->client != NULL)
		proto_client_release(req->client);
	if (req->master != NULL)
		proto_master_release(req->master);
	struct pool *pool = req->pool;
	auth_request_pool_put(pool);
}

/* Runs steps 3-6 of spec 7.2 on a name and stores the result in req->user.
 * Returns 1, or 0 if the name is rejected (logged). */
static int auth_request_normalize_user(struct auth_request *req, const uint8_t *name,
				       size_t len)
{
	struct buf norm = BUF_INIT(USERNAME_MAX_LEN * 2);
	const char *error = NULL;
	int ret = username_normalize(&req->auth->username_rules, name, len, &norm, &error);
	if (ret <= 0) {
		auth_request_log(req, LOG_LEVEL_INFO, NULL, "%s",
				 error != NULL ? error : "Invalid username");
		buf_free(&norm);
		return 0;
	}
	req->translated_user = pool_strndup(req->pool, norm.data, norm.len);
	buf_free(&norm);
	req->user = req->translated_user;
	const char *format = req->auth->set->auth_username_format;
	if (format != NULL && strcmp(format, "%Lu") == 0) {
		/* The default, without the general expander: ASCII lower case,
		 * exactly what the L modifier does. */
		char *lower = pool_strdup(req->pool, req->translated_user);
		for (char *p = lower; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		req->user = lower;
	} else if (format != NULL && *format != '\0' && strcmp(format, "%u") != 0) {
		const char *expanded = auth_request_expand(req, NULL, format);
		if (expanded == NULL)
			return 0;
		req->user = expanded;
	}
	if (*req->user == '\0') {
		auth_request_log(req, LOG_LEVEL_INFO, NULL, "Empty username");
		return 0;
	}
	return 1;
}

int auth_request_set_username(struct auth_request *req, const uint8_t *name, size_t len)
{
	if (req->original_user == NULL)
		req->original_user = pool_strndup(req->pool, name, len);
	/* Until normalised, log with the name as given. */
	req->user = req->original_user;
	return auth_request_normalize_user(req, name, len);
}

int auth_request_set_lookup_user(struct auth_request *req, const uint8_t *name, size_t len)
{
	return auth_request_set_username(req, name, len);
}

/* --- variables --- */

static const char *auth_request_domain(const char *user)
{
	const char *at = user != NULL ? strchr(user, '@') : NULL;
	return at != NULL ? at + 1 : "";
}

static const char *auth_request_local(struct pool *pool, const char *user)
{
	if (user == NULL)
		return "";
	const char *at = strchr(user, '@');
	return at != NULL ? pool_strndup(pool, user, (size_t)(at - user)) : user;
}

/* domain_first / domain_last: for "a@b@c" the domain is "b@c"; first is
 * "b", last is "c". */
static const char *auth_request_domain_part(struct pool *pool, const char *user, bool last)
{
	const char *domain = auth_request_domain(user);
	if (last) {
		const char *at = strrchr(domain, '@');
		return at != NULL ? at + 1 : domain;
	}
	const char *at = strchr(domain, '@');
	return at != NULL ? pool_strndup(pool, domain, (size_t)(at - domain)) : domain;
}

static const char *auth_request_lookup_var(void *ctx, const char *name)
{
	struct auth_request *req = ctx;
	const struct fields *f = strncmp(name, "passdb:", 7) == 0 ? &req->extra :
				 strncmp(name, "userdb:", 7) == 0 ? &req->userdb_fields : NULL;
	if (f == NULL)
		return NULL;   /* vars.c knows env:, hostname, pid ... */
	/* %{passdb:field[:default]}: a missing field is the default or "". */
	const char *field = name + 7;
	const char *colon = strchr(field, ':');
	const char *value;
	if (colon == NULL) {
		value = fields_get(f, field);
	} else {
		char key[128];
		size_t n = (size_t)(colon - field);
		if (n >= sizeof(key))
			return "";
		memcpy(key, field, n);
		key[n] = '\0';
		value = fields_get(f, key);
		if (value == NULL)
			value = colon + 1;
	}
	return value != NULL ? value : "";
}

void auth_request_var_ctx(struct auth_request *req, struct var_entry *v,
			  struct var_expand_ctx *ctx)
{
	struct pool *p = req->pool;
	const char *user = req->user != NULL ? req->user : "";
	const char *orig = req->original_user != NULL ? req->original_user : user;
	const char *password = req->mreq.password != NULL ? (const char *)req->mreq.password : NULL;
	const char *home = fields_get(&req->userdb_fields, "home");
	size_t n = 0;
#define VAR(k, lk, val) v[n++] = (struct var_entry){ .key = (k), .long_key = (lk), .value = (val) }
	VAR('u', "user", user);
	VAR('n', "username", auth_request_local(p, user));
	VAR('d', "domain", auth_request_domain(user));
	VAR('s', "service", req->service);
	VAR('h', "home", home);
	VAR('l', "lip", req->lip);
	VAR('r', "rip", req->rip);
	VAR('a', "lport", req->lport);
	VAR('b', "rport", req->rport);
	VAR('p', "pid", pool_printf(p, "%u", req->client_pid));
	VAR('w', "password", password);
	VAR('!', NULL, req->passdb != NULL ? pool_printf(p, "%u", req->passdb->id) : "");
	VAR('m', "mech", req->mech != NULL ? req->mech->name : "");
	VAR('c', "secured", req->secured == NULL ? "" : *req->secured != '\0' ? "TLS" : "secured");
	VAR('k', "cert", req->valid_client_cert ? "valid" : "");
	VAR(0, "local_ip", req->lip);
	VAR(0, "remote_ip", req->rip);
	VAR(0, "local_port", req->lport);
	VAR(0, "remote_port", req->rport);
	VAR(0, "mechanism", req->mech != NULL ? req->mech->name : "");
	VAR(0, "session", req->session);
	VAR(0, "real_lip", req->real_lip != NULL ? req->real_lip : req->lip);
	VAR(0, "real_rip", req->real_rip != NULL ? req->real_rip : req->rip);
	VAR(0, "real_lport", req->real_lport != NULL ? req->real_lport : req->lport);
	VAR(0, "real_rport", req->real_rport != NULL ? req->real_rport : req->rport);
	VAR(0, "orig_user", orig);
	VAR(0, "orig_username", auth_request_local(p, orig));
	VAR(0, "orig_domain", auth_request_domain(orig));
	VAR(0, "original_user", orig);
	VAR(0, "original_username", auth_request_local(p, orig));
	VAR(0, "original_domain", auth_request_domain(orig));
	VAR(0, "auth_user", orig);
	VAR(0, "auth_username", auth_request_local(p, orig));
	VAR(0, "auth_domain", auth_request_domain(orig));
	VAR(0, "local_name", req->local_name);
	VAR(0, "client_id", req->client_id);
	VAR(0, "domain_first", auth_request_domain_part(p, user, false));
	VAR(0, "domain_last", auth_request_domain_part(p, user, true));
#undef VAR
	*ctx = (struct var_expand_ctx){
		.table = v,
		.count = n,
		.lookup = auth_request_lookup_var,
		.lookup_ctx = req,
	};
}

const char *auth_request_expand(struct auth_request *req, const char *db_name,
				const char *tmpl)
{
	struct var_entry vars[AUTH_REQUEST_VARS_MAX];
	struct var_expand_ctx ctx;
	struct buf out = BUF_INIT(64 * 1024);
	const char *error = NULL;
	auth_request_var_ctx(req, vars, &ctx);
	int ret = var_expand(&out, tmpl, &ctx, &error);
	const char *result = NULL;
	if (ret > 0)
		result = pool_strndup(req->pool, out.data, out.len);
	else
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "Failed to expand template '%s': %s",
				 tmpl, ret == 0 && error != NULL ? error : "result too long");
	buf_free(&out);
	return result;
}

/* --- logging --- */

/* Dovecot writes mechanism names in lower case in log prefixes. */
static const char *auth_request_log_name(const char *name, char *buf, size_t size)
{
	size_t i = 0;
	for (; name[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}

void auth_request_log(struct auth_request *req, int level, const char *db_name,
		      const char *fmt, ...)
{
	char lname[64];
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char *user = req->user != NULL ? req->user : "?";
	const char *name = db_name != NULL ? db_name : req->mech != NULL ? req->mech->name : "auth";
	/* Per-request failure details are info lines only with auth_verbose
	 * (as in Dovecot); debug needs auth_debug or the request's `debug`. */
	if (level == LOG_LEVEL_DEBUG && !log_debug_enabled() && !req->debug)
		return;
	if (level == LOG_LEVEL_INFO && !req->auth->set->auth_verbose && !log_debug_enabled())
		return;
	log_msg((enum log_level)level, "%s(%.*s%s%s%s%s%s): %s",
		auth_request_log_name(name, lname, sizeof(lname)),
		AUTH_REQUEST_LOG_USER_MAX, user, strlen(user) > AUTH_REQUEST_LOG_USER_MAX ? "..." : "",
		req->rip != NULL ? "," : "", req->rip != NULL ? req->rip : "",
		req->session != NULL ? "," : "", req->session != NULL ? req->session : "", msg);
}
