/* request_fields: how passdb and userdb fields act on a request (Dovecot's
 * auth_request_set_field): renames, nologin/nopassword/fail flags,
 * allow_nets checks, userdb_* prefetch, :protected/:remove suffixes, and
 * default_fields / override_fields templates. */
#ifndef AUTHD_REQUEST_FIELDS_H
#define AUTHD_REQUEST_FIELDS_H

#include <stdbool.h>

struct auth_request;

/* Expands and applies "k=template k2=template2 ..." as passdb / userdb
 * fields. NULL or "" does nothing. */
void auth_request_apply_passdb_templates(struct auth_request *req, const char *templates);
void auth_request_apply_userdb_templates(struct auth_request *req, const char *templates);

/* Logs "Password mismatch", with the given password when the operator set
 * auth_verbose_passwords (plain, or sha1[:N]). */
void auth_request_log_mismatch(struct auth_request *req, const char *db_name);

/* Returns true if ip matches the allow_nets list (comma and/or space
 * separated CIDRs or addresses, keyword "local" for an unknown ip). */
bool auth_request_net_allowed(const char *list, const char *ip);

#endif
