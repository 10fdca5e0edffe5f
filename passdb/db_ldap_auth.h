/* db_ldap_auth: what the ldap passdb and userdb share on top of db_ldap:
 * LDAP-escaped expansion of filters, bases and DN templates for a request,
 * the request's variables and log for attribute templates, and the
 * mapping of search results to "found / unknown / internal failure".
 * Event-loop only; never blocks. */
#ifndef PASSDB_DB_LDAP_AUTH_H
#define PASSDB_DB_LDAP_AUTH_H

#include "passdb/db_ldap.h"

struct auth_request;

/* Longest expanded filter, base or DN. */
#define LDAP_AUTH_QUERY_MAX (16u * 1024u)
#define LDAP_AUTH_LOG_NAME "ldap"

/* Expands tmpl for req with every variable's value escaped (RFC 4515 /
 * 4514). Returns a request-pool string, or NULL (logged). */
const char *ldap_auth_expand_escaped(struct auth_request *req, const char *tmpl);

/* ldap_attr_apply callbacks; ctx is the struct auth_request. */
void ldap_auth_vars(void *ctx, struct var_entry *vars, size_t max, struct var_expand_ctx *vctx);
void ldap_auth_log(void *ctx, bool error, const char *msg);

/* Fills lreq for a search of filter_tmpl under the configured base and
 * scope for req. Returns 0, or -1 if an expansion failed (logged). */
int ldap_auth_search_init(struct ldap_req *lreq, struct auth_request *req,
			  const struct ldap_conf *conf, const char *filter_tmpl,
			  const char *const *attrs);

/* Search outcome: 1 exactly one entry, 0 none (or no such base), -1 an
 * error or several entries (logged with Dovecot's wording). */
int ldap_auth_search_outcome(struct auth_request *req, int result, const char *error,
			     unsigned int entries);

/* Copies entry (valid during an entry callback) into pool. */
const struct ldap_entry *ldap_auth_entry_copy(struct pool *pool, const struct ldap_entry *entry);

#endif
