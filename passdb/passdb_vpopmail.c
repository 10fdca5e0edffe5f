/* passdb vpopmail: users of a vpopmail tree, read directly (no libvchkpw),
 * with the old Dovecot driver's behaviour (spec vpopmail.md 9.2).
 *
 * args: cache_key=T webmail=IP blocking=yes|no vpopmail_dir=/home/vpopmail
 *       qmail_dir=/var/qmail assign_cdb=cdb default_domain=DOMAIN
 *
 * Stored password handed to the request code: "{PLAIN}<pw_clear_passwd>"
 * when the clear-text field is present and non-empty, else pw_passwd
 * (prefix-less values are CRYPT, "$1$..." MD5-CRYPT, "{SCHEME}..." as
 * written). That is what Dovecot 2.3.11's driver did for both kinds of
 * request: the clear password, when present, is used for verifying PLAIN /
 * LOGIN as well as for CRAM-MD5 / DIGEST-MD5 credentials. The request code
 * cannot tell "verify" from "credentials" apart anyway, and the clear field
 * is what vpopmail itself (vchkpw) checks first. Users without a clear
 * field get "scheme not available" for CRAM-MD5 / DIGEST-MD5, as before.
 *
 * Service checks (case-insensitive service names) answer "user disabled"
 * (the client sees FAIL with code=user_disabled) only when the password is
 * right; a wrong one fails as for any user (unlike Dovecot, which checked
 * the flags first and so told strangers the account exists). Logged as
 * "vpopmail(user,rip): <service> disabled in vpopmail for this user":
 *   imap:    NO_IMAP unless the remote IP is the webmail= IP; NO_WEBMAIL
 *            when it is (no webmail= and no remote IP count as equal, the
 *            old driver's quirk);
 *   webmail: NO_WEBMAIL (authd addition, for webmail front ends that
 *            authenticate with service=webmail);
 *   pop3:    NO_POP;   smtp: NO_SMTP;
 *   any service, when NO_POP, NO_IMAP, NO_SMTP and NO_WEBMAIL are all set
 *            (an account disabled everywhere; authd addition, logged as
 *            "account disabled in vpopmail").
 * NO_RELAY and the other bits do not affect logins. */
#include "passdb/passdb.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_vpopmail.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define VPOPMAIL_DB_NAME "vpopmail"

static int passdb_vpopmail_init(struct passdb *db, const char *args, const char **error_r)
{
	struct vpopmail_args *a = pool_alloc(db->pool, sizeof(*a));
	if (vpopmail_args_parse(db->pool, args, VPOPMAIL_ARGS_PASSDB, a, error_r) < 0)
		return -1;
	db->default_scheme = "CRYPT";
	db->prefix_rule = SCHEME_PREFIX_PASSWD_FILE;
	db->ctx = a;
	vpopmail_cache_ref();
	return 0;
}

static void passdb_vpopmail_deinit(struct passdb *db)
{
	(void)db;
	vpopmail_cache_unref();
}

/* The remote IP as 16 bytes (IPv4 mapped). Returns true if rip parses. */
static bool vpopmail_rip(const char *rip, uint8_t ip[16])
{
	struct in_addr a4;
	if (rip == NULL)
		return false;
	if (inet_pton(AF_INET6, rip, ip) == 1)
		return true;
	if (inet_pton(AF_INET, rip, &a4) != 1)
		return false;
	memset(ip, 0, 10);
	ip[10] = ip[11] = 0xff;
	memcpy(ip + 12, &a4, 4);
	return true;
}

/* Dovecot's net_ip_compare of webmail= and the remote IP, where two unset
 * addresses compare equal. */
static bool vpopmail_from_webmail(const struct vpopmail_args *a, const struct auth_request *req)
{
	uint8_t ip[16];
	bool have_rip = vpopmail_rip(req->rip, ip);
	if (!a->webmail_set || !have_rip)
		return !a->webmail_set && !have_rip;
	return memcmp(ip, a->webmail_ip, sizeof(ip)) == 0;
}

/* Returns true if flags refuse req's service. */
static bool vpopmail_service_denied(const struct vpopmail_args *a, const struct auth_request *req,
				    uint32_t flags)
{
	const char *service = req->service != NULL ? req->service : "";
	if (strcasecmp(service, "imap") == 0) {
		bool webmail = vpopmail_from_webmail(a, req);
		return ((flags & VPOPMAIL_NO_IMAP) != 0 && !webmail) ||
		       ((flags & VPOPMAIL_NO_WEBMAIL) != 0 && webmail);
	}
	if (strcasecmp(service, "webmail") == 0)
		return (flags & VPOPMAIL_NO_WEBMAIL) != 0;
	if (strcasecmp(service, "pop3") == 0)
		return (flags & VPOPMAIL_NO_POP) != 0;
	if (strcasecmp(service, "smtp") == 0)
		return (flags & VPOPMAIL_NO_SMTP) != 0;
	return false;
}

/* Returns true (logged) if the user may not log in to req's service. */
static bool vpopmail_disabled(const struct vpopmail_args *a, struct auth_request *req,
			      uint32_t flags)
{
	if ((flags & VPOPMAIL_ALL_ACCESS_DISABLED) == VPOPMAIL_ALL_ACCESS_DISABLED) {
		auth_request_log(req, LOG_LEVEL_INFO, VPOPMAIL_DB_NAME,
				 "account disabled in vpopmail (no pop, imap, smtp or webmail)");
		return true;
	}
	if (!vpopmail_service_denied(a, req, flags))
		return false;
	auth_request_log(req, LOG_LEVEL_INFO, VPOPMAIL_DB_NAME,
			 "%s disabled in vpopmail for this user",
			 req->service != NULL ? req->service : "");
	return true;
}

static void passdb_vpopmail_lookup(struct passdb *db, struct auth_request *req)
{
	const struct vpopmail_args *a = db->ctx;
	struct vpopmail_user u;
	const char *msg = NULL;
	int ret = vpopmail_lookup(a, req->user != NULL ? req->user : "", req->pool, &u, &msg);
	if (ret < 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, VPOPMAIL_DB_NAME, "%s", msg);
		auth_request_passdb_done(req, PASSDB_RESULT_INTERNAL_FAILURE, NULL);
		return;
	}
	if (ret == 0) {
		auth_request_log(req, LOG_LEVEL_DEBUG, VPOPMAIL_DB_NAME, "%s", msg);
		auth_request_passdb_done(req, PASSDB_RESULT_USER_UNKNOWN, NULL);
		return;
	}
	auth_request_log(req, LOG_LEVEL_DEBUG, VPOPMAIL_DB_NAME,
			 "lookup user=%s domain=%s: real domain %s, flags 0x%x (pw_gid 0x%x), %s",
			 u.user, u.domain, u.real_domain, u.flags, u.gid_flags,
			 u.from_cdb ? "vpasswd.cdb" : "vpasswd");
	/* Refused only once the password is proved right, so a wrong
	 * password for a disabled account looks like any other failure. */
	if (vpopmail_disabled(a, req, u.flags))
		auth_request_passdb_disable(req);
	/* Both strings live in the request pool, wiped with the request. */
	const char *password = u.clear != NULL ? pool_printf(req->pool, "{PLAIN}%s", u.clear) :
			       u.passwd;
	auth_request_passdb_done(req, PASSDB_RESULT_OK, password);
}

const struct passdb_driver passdb_driver_vpopmail = {
	.name = "vpopmail",
	.init = passdb_vpopmail_init,
	.deinit = passdb_vpopmail_deinit,
	.lookup = passdb_vpopmail_lookup,
};
