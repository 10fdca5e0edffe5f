/* db_ldap_auth: request glue shared by passdb_ldap and userdb_ldap. */
#include "passdb/db_ldap_auth.h"
#include "authd/log.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_ldap_escape.h"

#include <ldap.h>
#include <string.h>

_Static_assert(AUTH_REQUEST_VARS_MAX <= LDAP_ATTR_VARS_MAX - 2,
	       "attribute templates need room for the request's variables");

const char *ldap_auth_expand_escaped(struct auth_request *req, const char *tmpl)
{
	struct var_entry vars[AUTH_REQUEST_VARS_MAX];
	struct var_expand_ctx ctx;
	struct buf out = BUF_INIT(LDAP_AUTH_QUERY_MAX);
	const char *error = NULL;
	auth_request_var_ctx(req, vars, &ctx);
	ctx.escape = ldap_escape_var;
	int ret = var_expand(&out, tmpl, &ctx, &error);
	const char *result = NULL;
	if (ret > 0)
		result = pool_strndup(req->pool, out.data != NULL ? (const char *)out.data : "",
				      out.len);
	else
		auth_request_log(req, LOG_LEVEL_ERROR, LDAP_AUTH_LOG_NAME,
				 "Failed to expand template '%s': %s", tmpl,
				 ret == 0 && error != NULL ? error : "result too long");
	buf_free(&out);
	return result;
}

void ldap_auth_vars(void *ctx, struct var_entry *vars, size_t max, struct var_expand_ctx *vctx)
{
	(void)max;   /* >= AUTH_REQUEST_VARS_MAX, checked above */
	auth_request_var_ctx(ctx, vars, vctx);
}

void ldap_auth_log(void *ctx, bool error, const char *msg)
{
	auth_request_log(ctx, error ? LOG_LEVEL_ERROR : LOG_LEVEL_WARNING, LDAP_AUTH_LOG_NAME,
			 "%s", msg);
}

int ldap_auth_search_init(struct ldap_req *lreq, struct auth_request *req,
			  const struct ldap_conf *conf, const char *filter_tmpl,
			  const char *const *attrs)
{
	static const int scopes[] = {
		[LDAP_CONF_SCOPE_BASE] = LDAP_SCOPE_BASE,
		[LDAP_CONF_SCOPE_ONELEVEL] = LDAP_SCOPE_ONELEVEL,
		[LDAP_CONF_SCOPE_SUBTREE] = LDAP_SCOPE_SUBTREE,
	};
	lreq->base = ldap_auth_expand_escaped(req, conf->base);
	lreq->filter = ldap_auth_expand_escaped(req, filter_tmpl);
	if (lreq->base == NULL || lreq->filter == NULL)
		return -1;
	lreq->scope = scopes[conf->scope];
	lreq->attrs = attrs;
	lreq->pool = req->pool;
	return 0;
}

int ldap_auth_search_outcome(struct auth_request *req, int result, const char *error,
			     unsigned int entries)
{
	if (result == LDAP_NO_SUCH_OBJECT)
		return 0;
	if (result != LDAP_SUCCESS) {
		auth_request_log(req, LOG_LEVEL_ERROR, LDAP_AUTH_LOG_NAME, "ldap_search() failed: %s",
				 error);
		return -1;
	}
	if (entries > 1) {
		auth_request_log(req, LOG_LEVEL_ERROR, LDAP_AUTH_LOG_NAME,
				 "LDAP search returned multiple entries");
		return -1;
	}
	return entries == 1 ? 1 : 0;
}

const struct ldap_entry *ldap_auth_entry_copy(struct pool *pool, const struct ldap_entry *entry)
{
	/* the core parsed the entry into the request pool already: only the
	 * top-level struct lives on the caller's stack */
	struct ldap_entry *copy = pool_alloc(pool, sizeof(*copy));
	*copy = *entry;
	return copy;
}
