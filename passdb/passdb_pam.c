/* passdb pam: verifies the password with PAM (Dovecot 2.3's passdb-pam.c).
 *
 * Always blocking: pam_authenticate() and friends run only in auth worker
 * processes (PAM modules are neither thread-safe nor quick); the auth
 * process only parses the args. A credentials lookup (CRAM-MD5, master
 * PASS) cannot be served and answers "scheme not available" at once.
 *
 * args, as Dovecot: [session=yes] [setcred=yes] [failure_show_msg=yes]
 * [max_requests=N] [cache_key=T] [blocking=yes (ignored)] [SERVICE], where
 * SERVICE is the last word (default "dovecot"; "%s" is the client's
 * service=, "*" means "%Ls"). Like Dovecot the PAM items are PAM_RHOST =
 * the client's IP (so pam_faillock, pam_tally and fail2ban see it),
 * PAM_RUSER = the user, PAM_TTY = "dovecot"; the conversation answers an
 * echo-off prompt with the password and an echo-on prompt with the user
 * name. After max_requests verifications (default 100, 0 = unlimited) the
 * worker restarts, for leaky modules.
 *
 * Results: success; PAM_USER_UNKNOWN = unknown user; PAM_NEW_AUTHTOK_REQD
 * and PAM_ACCT_EXPIRED = password expired; PAM's "service unavailable"
 * family (PAM_AUTHINFO_UNAVAIL, PAM_SYSTEM_ERR, PAM_ABORT, ...) = internal
 * failure, so a backend outage answers temp_fail (Dovecot 2.3 calls these
 * mismatches); anything else = password mismatch. With failure_show_msg=yes
 * a failure gets reason= set to the module's last PAM_ERROR_MSG, else (as
 * Dovecot) the text of its password prompt; like every field of a failing
 * passdb it is rolled back by the chain unless the result keeps fields
 * (user disabled). Log lines follow Dovecot's, which fail2ban's filter
 * knows ("pam_authenticate() failed: Authentication failure (password
 * mismatch?)"). The password is never logged; PAM gets a malloc'd copy
 * and wipes it. */
#include "passdb/passdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "authd/worker_process.h"
#include "common/pool.h"
#include "common/secret.h"
#include "common/strnum.h"

#include <errno.h>
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PASSDB_PAM_DEFAULT_SERVICE "dovecot"
#define PASSDB_PAM_DEFAULT_MAX_REQUESTS 100u
#define PASSDB_PAM_TTY "dovecot"
#define PASSDB_PAM_MAX_MESSAGES 32

struct passdb_pam {
	const char *service;          /* %-template */
	const char *cache_key;
	bool session, setcred, failure_show_msg;
	unsigned int requests_left;   /* 0 = unlimited */
};

struct passdb_pam_conv_ctx {
	struct auth_request *req;
	const struct passdb_pam *pam;
	const char *error_msg;        /* last PAM_ERROR_MSG (request pool) */
	const char *prompt_msg;       /* last password prompt */
};

/* One word of args. Returns 0, or -1 with *error_r. */
static int passdb_pam_arg(struct passdb *db, struct passdb_pam *pam, const char *word, bool last,
			  const char **error_r)
{
	if (strcmp(word, "-session") == 0 || strcmp(word, "session=yes") == 0) {
		pam->session = true;
	} else if (strcmp(word, "setcred=yes") == 0) {
		pam->setcred = true;
	} else if (strncmp(word, "cache_key=", 10) == 0) {
		pam->cache_key = word + 10;
	} else if (strcmp(word, "blocking=yes") == 0) {
		/* accepted for compatibility: PAM always runs in workers */
	} else if (strcmp(word, "failure_show_msg=yes") == 0) {
		pam->failure_show_msg = true;
	} else if (strcmp(word, "*") == 0) {
		pam->service = "%Ls";
	} else if (strncmp(word, "max_requests=", 13) == 0) {
		uint32_t n = 0;
		if (str_to_uint32((const uint8_t *)word + 13, strlen(word + 13), &n) <= 0) {
			*error_r = pool_printf(db->pool, "Invalid max_requests value: %s", word + 13);
			return -1;
		}
		pam->requests_left = n;
	} else if (last) {
		pam->service = word;
	} else {
		*error_r = pool_printf(db->pool, "Unknown setting: %s", word);
		return -1;
	}
	return 0;
}

static int passdb_pam_init(struct passdb *db, const char *args, const char **error_r)
{
	struct passdb_pam *pam = pool_alloc(db->pool, sizeof(*pam));
	pam->service = PASSDB_PAM_DEFAULT_SERVICE;
	pam->requests_left = PASSDB_PAM_DEFAULT_MAX_REQUESTS;
	const char *p = args;
	while (*p != '\0') {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n == 0)
			break;
		const char *word = pool_strndup(db->pool, p, n);
		p += n;
		bool last = p[strspn(p, " \t")] == '\0';
		if (passdb_pam_arg(db, pam, word, last, error_r) < 0)
			return -1;
	}
	db->blocking = true;
	db->default_scheme = "PLAIN";
	db->ctx = pam;
	return 0;
}

static void passdb_pam_free_responses(struct pam_response *resp, int count)
{
	for (int i = 0; i < count; i++)
		secret_free_str(&resp[i].resp);
	free(resp);
}

/* The answer to one message; *resp_r NULL for messages without answer.
 * Returns PAM_SUCCESS, PAM_BUF_ERR or PAM_CONV_ERR. */
static int passdb_pam_answer(struct passdb_pam_conv_ctx *ctx, const struct pam_message *m,
			     char **resp_r)
{
	struct auth_request *req = ctx->req;
	*resp_r = NULL;
	switch (m->msg_style) {
	case PAM_PROMPT_ECHO_ON:
		/* Asks for the user name, which PAM usually knows already. */
		*resp_r = strdup(req->user);
		return *resp_r != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	case PAM_PROMPT_ECHO_OFF:
		if (ctx->pam->failure_show_msg && m->msg != NULL)
			ctx->prompt_msg = pool_strdup(req->pool, m->msg);
		*resp_r = strndup((const char *)req->mreq.password, req->mreq.password_len);
		return *resp_r != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	case PAM_ERROR_MSG:
		if (ctx->pam->failure_show_msg && m->msg != NULL)
			ctx->error_msg = pool_strdup(req->pool, m->msg);
		return PAM_SUCCESS;
	case PAM_TEXT_INFO:
		return PAM_SUCCESS;
	default:
		return PAM_CONV_ERR;
	}
}

static int passdb_pam_conv(int num_msg, const struct pam_message **msg,
			   struct pam_response **resp_r, void *appdata)
{
	struct passdb_pam_conv_ctx *ctx = appdata;
	if (num_msg <= 0 || num_msg > PASSDB_PAM_MAX_MESSAGES)
		return PAM_CONV_ERR;
	struct pam_response *resp = calloc((size_t)num_msg, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		auth_request_log(ctx->req, LOG_LEVEL_DEBUG, "pam", "#%d/%d style=%d msg=%s", i + 1,
				 num_msg, msg[i]->msg_style, msg[i]->msg != NULL ? msg[i]->msg : "");
		int ret = passdb_pam_answer(ctx, msg[i], &resp[i].resp);
		if (ret != PAM_SUCCESS) {
			passdb_pam_free_responses(resp, num_msg);
			return ret;
		}
	}
	if (resp_r == NULL) {
		/* Some modules (pam_matrix) pass no response array for their
		 * info messages. */
		passdb_pam_free_responses(resp, num_msg);
		return PAM_SUCCESS;
	}
	*resp_r = resp;   /* PAM wipes and frees the answers */
	return PAM_SUCCESS;
}

static void passdb_pam_items(struct auth_request *req, pam_handle_t *pamh)
{
	/* These don't fail in practice, and nothing depends on them. */
	if (req->rip != NULL && *req->rip != '\0')
		(void)pam_set_item(pamh, PAM_RHOST, req->rip);
	(void)pam_set_item(pamh, PAM_RUSER, req->user);
	/* pam_access and fail2ban's filter look at the tty. */
	(void)pam_set_item(pamh, PAM_TTY, PASSDB_PAM_TTY);
}

static bool passdb_pam_unavailable(int status)
{
	switch (status) {
	case PAM_AUTHINFO_UNAVAIL: case PAM_SYSTEM_ERR: case PAM_BUF_ERR: case PAM_ABORT:
	case PAM_SERVICE_ERR: case PAM_MODULE_UNKNOWN: case PAM_SYMBOL_ERR: case PAM_CONV_ERR:
		return true;
	default:
		return false;
	}
}

/* "/etc/pam.d/SERVICE" when it looks missing; checked once per process. */
static const char *passdb_pam_missing_service(struct auth_request *req, const char *service)
{
	static bool checked;
	struct stat st;
	if (checked)
		return NULL;
	checked = true;
	const char *path = pool_printf(req->pool, "/etc/pam.d/%s", service);
	if (stat(path, &st) < 0 && errno == ENOENT && stat("/etc/pam.d", &st) == 0)
		return path;
	return NULL;
}

static int passdb_pam_authenticate(struct auth_request *req, pam_handle_t *pamh,
				   const char *service)
{
	int status = pam_authenticate(pamh, 0);
	if (status == PAM_SUCCESS || status == PAM_USER_UNKNOWN)
		return status;   /* unknown user: the passdb chain logs it */
	const char *missing = passdb_pam_missing_service(req, service);
	const char *text = pam_strerror(pamh, status);
	if (missing != NULL)
		auth_request_log(req, LOG_LEVEL_ERROR, "pam", "%s missing? (PAM then uses the "
				 "'other' service)", missing);
	if (status == PAM_AUTH_ERR)
		auth_request_log(req, LOG_LEVEL_INFO, "pam", "pam_authenticate() failed: %s "
				 "(password mismatch?)", text);
	else
		auth_request_log(req, passdb_pam_unavailable(status) ? LOG_LEVEL_ERROR :
				 LOG_LEVEL_INFO, "pam", "pam_authenticate() failed: %s", text);
	return status;
}

/* Runs the PAM stack. Returns a PAM status. */
static int passdb_pam_run(const struct passdb_pam *pam, struct auth_request *req,
			  pam_handle_t *pamh, const char *service)
{
	int status = passdb_pam_authenticate(req, pamh, service);
	const char *step = "pam_authenticate";
	if (status == PAM_SUCCESS && pam->setcred) {
		step = "pam_setcred";
		status = pam_setcred(pamh, PAM_ESTABLISH_CRED);
	}
	if (status == PAM_SUCCESS) {
		step = "pam_acct_mgmt";
		status = pam_acct_mgmt(pamh, 0);
	}
	if (status == PAM_SUCCESS && pam->session) {
		step = "pam_open_session";
		status = pam_open_session(pamh, 0);
		if (status == PAM_SUCCESS) {
			step = "pam_close_session";
			status = pam_close_session(pamh, 0);
		}
	}
	const void *item = NULL;
	if (status == PAM_SUCCESS) {
		step = "pam_get_item(PAM_USER)";
		status = pam_get_item(pamh, PAM_USER, &item);
	}
	if (status != PAM_SUCCESS && strcmp(step, "pam_authenticate") != 0)
		auth_request_log(req, LOG_LEVEL_ERROR, "pam", "%s() failed: %s", step,
				 pam_strerror(pamh, status));
	if (status == PAM_SUCCESS && item != NULL)
		auth_request_set_passdb_field(req, "user", item);
	return status;
}

static enum passdb_result passdb_pam_result(int status)
{
	switch (status) {
	case PAM_SUCCESS:
		return PASSDB_RESULT_OK;
	case PAM_USER_UNKNOWN:
		return PASSDB_RESULT_USER_UNKNOWN;
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_ACCT_EXPIRED:
		return PASSDB_RESULT_PASS_EXPIRED;
	default:
		return passdb_pam_unavailable(status) ? PASSDB_RESULT_INTERNAL_FAILURE :
		       PASSDB_RESULT_PASSWORD_MISMATCH;
	}
}

static enum passdb_result passdb_pam_call(const struct passdb_pam *pam, struct auth_request *req,
					  const char *service)
{
	struct passdb_pam_conv_ctx ctx = { .req = req, .pam = pam };
	struct pam_conv conv = { .conv = passdb_pam_conv, .appdata_ptr = &ctx };
	pam_handle_t *pamh = NULL;
	int status = pam_start(service, req->user, &conv, &pamh);
	if (status != PAM_SUCCESS) {
		auth_request_log(req, LOG_LEVEL_ERROR, "pam", "pam_start() failed: %s",
				 pam_strerror(pamh, status));
		return PASSDB_RESULT_INTERNAL_FAILURE;
	}
	passdb_pam_items(req, pamh);
	status = passdb_pam_run(pam, req, pamh, service);
	int end = pam_end(pamh, status);
	if (end != PAM_SUCCESS)
		log_error("pam: pam_end() failed with status %d", end);
	enum passdb_result result = passdb_pam_result(status);
	const char *reason = ctx.error_msg != NULL ? ctx.error_msg : ctx.prompt_msg;
	if (result != PASSDB_RESULT_OK && reason != NULL)
		auth_request_set_passdb_field(req, "reason", reason);
	return result;
}

static void passdb_pam_verify_plain(struct passdb *db, struct auth_request *req)
{
	struct passdb_pam *pam = db->ctx;
	if (pam->requests_left > 0 && --pam->requests_left == 0)
		worker_process_restart_after_request();
	if (req->mreq.password == NULL ||
	    memchr(req->mreq.password, '\0', req->mreq.password_len) != NULL) {
		/* PAM takes C strings; such a password can't be right. */
		auth_request_passdb_verified(req, PASSDB_RESULT_PASSWORD_MISMATCH);
		return;
	}
	const char *service = auth_request_expand(req, "pam", pam->service);
	if (service == NULL) {
		auth_request_passdb_verified(req, PASSDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	auth_request_log(req, LOG_LEVEL_DEBUG, "pam", "lookup service=%s", service);
	auth_request_passdb_verified(req, passdb_pam_call(pam, req, service));
}

/* Credentials lookups: PAM can only verify. */
static void passdb_pam_lookup(struct passdb *db, struct auth_request *req)
{
	(void)db;
	auth_request_log(req, LOG_LEVEL_DEBUG, "pam", "passdb doesn't support credential lookups");
	auth_request_passdb_done(req, PASSDB_RESULT_SCHEME_NOT_AVAILABLE, NULL);
}

const struct passdb_driver passdb_driver_pam = {
	.name = "pam",
	.flags = PASSDB_FLAG_BLOCKING | PASSDB_FLAG_NO_CREDENTIALS,
	.init = passdb_pam_init,
	.lookup = passdb_pam_lookup,
	.verify_plain = passdb_pam_verify_plain,
};
