/* request_cache: how password verification uses the auth cache
 * (authd/cache.h). Two places:
 *   - a passdb that hands over the stored password (passwd-file, LDAP
 *     lookup mode, vpopmail): a cached success for exactly this user,
 *     service, passdb, typed password AND stored password skips the hash;
 *     a changed stored password makes the entry stale;
 *   - a passdb that verifies by itself (PAM, LDAP auth_bind,
 *     checkpassword): a cached success (with its extra fields) or a cached
 *     "unknown user" answers without asking it, within auth_cache_ttl /
 *     auth_cache_negative_ttl.
 * A password that doesn't match a cached entry always goes to the passdb.
 * Lookups without a password (credentials, PASS, USER) are not cached.
 * When the passdb fails internally (LDAP down, PAM broken), a success
 * cached for this user and password is used even after auth_cache_ttl,
 * as Dovecot does: an outage does not lock out users who logged in lately. */
#ifndef AUTHD_REQUEST_CACHE_H
#define AUTHD_REQUEST_CACHE_H

#include "passdb/passdb.h"

#include <stdbool.h>

struct auth_request;

/* Stored-password path: true when the cache proves the password right. */
bool auth_request_cache_stored_hit(struct auth_request *req, const char *stored);
/* Remembers a verified password against this stored value. */
void auth_request_cache_stored_success(struct auth_request *req, const char *stored);

/* Verifying-passdb path: true when the cache answered; *result_r is OK
 * (extra fields restored) or USER_UNKNOWN. */
bool auth_request_cache_verify_hit(struct auth_request *req, enum passdb_result *result_r);
/* Remembers the verifying passdb's answer (OK or USER_UNKNOWN). */
void auth_request_cache_verify_result(struct auth_request *req, enum passdb_result result);

/* After a passdb internal failure: true when a cached success (expired or
 * not) matches this user and password; its extra fields are restored. */
bool auth_request_cache_fallback(struct auth_request *req);

#endif
