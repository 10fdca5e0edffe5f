/* userdb vpopmail: uid/gid of the user's domain (users/assign), home =
 * pw_dir, mail, and a quota field from pw_shell through a template
 * (spec vpopmail.md 9.3). The service flags are not applied here: a user
 * disabled for IMAP still gets a userdb answer, so delivery keeps working.
 *
 * args: cache_key=T quota_template=KEY=TEMPLATE mail=LOCATION
 *       last_auth=yes|no create_missing_home=yes|no blocking=yes|no and the
 *       tree settings of passdb vpopmail (vpopmail_dir= qmail_dir=
 *       assign_cdb= default_domain=).
 *
 * - quota_template=quota_rule=*:backend=%q returns quota_rule with %q =
 *   the normalised pw_shell ("52428800S,1000C"); every request variable
 *   can be used too. Nothing is returned for NOQUOTA, an empty pw_shell or
 *   without quota_template. An invalid pw_shell ("abc") is logged and no
 *   quota is returned (Dovecot returned the template with an empty %q).
 * - mail defaults to maildir:~/Maildir (seed 001's mail_location); mail=
 *   (empty) returns no mail field, like Dovecot's driver.
 * - An empty pw_dir is an internal error (logged) unless
 *   create_missing_home=yes (then <domain dir>/<user> is created; see
 *   db_vpopmail_write.c). pw_dir must lie under vpopmail_dir.
 * - last_auth=yes writes <home>/lastauth after a login that authenticated
 *   in the same request (the login process's userdb lookup after REQUEST),
 *   like Dovecot; content: the remote IP (what vchkpw writes and vuserinfo
 *   shows), or the service name when the IP is unknown. Failures are
 *   warnings; the lookup still succeeds. */
#include "userdb/userdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_vpopmail.h"

#include <stdio.h>
#include <string.h>

#define VPOPMAIL_DB_NAME "vpopmail"
#define VPOPMAIL_QUOTA_FIELD_MAX 4096u

static int userdb_vpopmail_init(struct userdb *db, const char *args, const char **error_r)
{
	struct vpopmail_args *a = pool_alloc(db->pool, sizeof(*a));
	if (vpopmail_args_parse(db->pool, args, VPOPMAIL_ARGS_USERDB, a, error_r) < 0)
		return -1;
	db->ctx = a;
	vpopmail_cache_ref();
	return 0;
}

static void userdb_vpopmail_deinit(struct userdb *db)
{
	(void)db;
	vpopmail_cache_unref();
}

/* The quota template expanded with %q / %{quota}. Returns the value, or
 * NULL (logged) on a template error. */
static const char *userdb_vpopmail_quota_expand(struct auth_request *req, const char *tmpl,
						const char *quota)
{
	struct var_entry vars[AUTH_REQUEST_VARS_MAX + 1];
	struct var_expand_ctx ctx;
	struct buf out = BUF_INIT(VPOPMAIL_QUOTA_FIELD_MAX);
	const char *error = NULL, *value = NULL;
	auth_request_var_ctx(req, vars, &ctx);
	if (ctx.count < AUTH_REQUEST_VARS_MAX + 1) {
		vars[ctx.count] = (struct var_entry){ .key = 'q', .long_key = "quota", .value = quota };
		ctx.count++;
	}
	if (var_expand(&out, tmpl, &ctx, &error) > 0)
		value = pool_strndup(req->pool, out.data, out.len);
	else
		auth_request_log(req, LOG_LEVEL_ERROR, VPOPMAIL_DB_NAME,
				 "Failed to expand quota_template '%s': %s", tmpl,
				 error != NULL ? error : "result too long");
	buf_free(&out);
	return value;
}

static void userdb_vpopmail_quota(const struct vpopmail_args *a, struct auth_request *req,
				  const struct vpopmail_user *u)
{
	char quota[VPOPMAIL_QUOTA_OUT_MAX];
	if (a->quota_template == NULL)
		return;
	int ret = vpopmail_quota_normalise((const uint8_t *)u->shell, strlen(u->shell), quota,
					   sizeof(quota));
	if (ret < 0) {
		auth_request_log(req, LOG_LEVEL_WARNING, VPOPMAIL_DB_NAME,
				 "invalid quota '%.32s' in vpasswd, returning no quota", u->shell);
		return;
	}
	if (ret == 0)
		return;
	const char *value = userdb_vpopmail_quota_expand(req, a->quota_template, quota);
	if (value != NULL && *value != '\0')
		auth_request_set_userdb_field(req, a->quota_key, value);
}

/* Checks (or creates) the home. Returns 0, or -1 (logged). */
static int userdb_vpopmail_home(const struct vpopmail_args *a, struct auth_request *req,
				struct vpopmail_user *u)
{
	const char *error = NULL;
	if (*u->dir == '\0') {
		if (!a->create_missing_home) {
			auth_request_log(req, LOG_LEVEL_ERROR, VPOPMAIL_DB_NAME,
					 "pw_dir isn't set for %s@%s (create_missing_home=yes "
					 "would create it)", u->user, u->real_domain);
			return -1;
		}
		if (vpopmail_create_home(a, u, req->pool, &error) < 0) {
			auth_request_log(req, LOG_LEVEL_ERROR, VPOPMAIL_DB_NAME,
					 "creating the home failed: %s", error);
			return -1;
		}
		auth_request_log(req, LOG_LEVEL_INFO, VPOPMAIL_DB_NAME,
				 "pw_dir wasn't set, created %s", u->dir);
	}
	if (!vpopmail_path_under(a->vpopmail_dir, (const uint8_t *)u->dir, strlen(u->dir))) {
		auth_request_log(req, LOG_LEVEL_ERROR, VPOPMAIL_DB_NAME,
				 "pw_dir of %s@%s is not a clean path under %s", u->user,
				 u->real_domain, a->vpopmail_dir);
		return -1;
	}
	return 0;
}

static void userdb_vpopmail_lastauth(const struct vpopmail_args *a, struct auth_request *req,
				     const struct vpopmail_user *u)
{
	const char *error = NULL;
	if (!a->last_auth || !req->handoff || !req->passdb_success)
		return;
	const char *content = req->rip != NULL && *req->rip != '\0' ? req->rip :
			      req->service != NULL ? req->service : "";
	if (vpopmail_write_lastauth(u, content, req->pool, &error) < 0)
		auth_request_log(req, LOG_LEVEL_WARNING, VPOPMAIL_DB_NAME,
				 "updating lastauth failed: %s", error);
}

static void userdb_vpopmail_lookup(struct userdb *db, struct auth_request *req)
{
	const struct vpopmail_args *a = db->ctx;
	struct vpopmail_user u;
	const char *msg = NULL;
	char num[16];
	int ret = vpopmail_lookup(a, req->user != NULL ? req->user : "", req->pool, &u, &msg);
	if (ret <= 0) {
		auth_request_log(req, ret < 0 ? LOG_LEVEL_ERROR : LOG_LEVEL_DEBUG, VPOPMAIL_DB_NAME,
				 "%s", msg);
		auth_request_userdb_done(req, ret < 0 ? USERDB_RESULT_INTERNAL_FAILURE :
					 USERDB_RESULT_USER_UNKNOWN);
		return;
	}
	if (userdb_vpopmail_home(a, req, &u) < 0) {
		auth_request_userdb_done(req, USERDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	snprintf(num, sizeof(num), "%u", u.uid);
	auth_request_set_userdb_field(req, "uid", num);
	snprintf(num, sizeof(num), "%u", u.gid);
	auth_request_set_userdb_field(req, "gid", num);
	auth_request_set_userdb_field(req, "home", u.dir);
	if (*a->mail != '\0')
		auth_request_set_userdb_field(req, "mail", a->mail);
	userdb_vpopmail_quota(a, req, &u);
	userdb_vpopmail_lastauth(a, req, &u);
	auth_request_userdb_done(req, USERDB_RESULT_OK);
}

const struct userdb_driver userdb_driver_vpopmail = {
	.name = "vpopmail",
	.init = userdb_vpopmail_init,
	.deinit = userdb_vpopmail_deinit,
	.lookup = userdb_vpopmail_lookup,
};
