/* request_worker: a request's blocking passdb/userdb lookup through the auth
 * worker pool (worker_pool.h), so that PAM, NSS, shadow and checkpassword
 * never run in the auth process.
 *
 * The request is sent with what the driver can look at - user names, the
 * request parameters (service, rip, ...), mechanism, wanted scheme, the
 * passdb/userdb fields so far and, for verify_plain only, the password -
 * plus the database's position, driver and args (the worker checks them
 * against its own configuration). The reply's fields are replayed through
 * auth_request_set_passdb_field() / auth_request_set_userdb_field() and the
 * result through auth_request_passdb_done() / _verified() /
 * auth_request_userdb_done(), exactly as an in-process driver would call
 * them. A failed or timed-out worker becomes an internal failure
 * (code=temp_fail), logged.
 *
 * The deadline is REQUEST_WORKER_TIMEOUT_MS after the client's last message
 * (req->started_ms), but at least REQUEST_WORKER_MIN_MS from now, so the
 * reply comes before Postfix's 10 s; the worker itself is told to finish
 * REQUEST_WORKER_MARGIN_MS earlier (checkpassword's own timeout). */
#ifndef AUTHD_REQUEST_WORKER_H
#define AUTHD_REQUEST_WORKER_H

#include <stdbool.h>

struct auth_request;
struct passdb;
struct userdb;

#define REQUEST_WORKER_TIMEOUT_MS 8000u
#define REQUEST_WORKER_MIN_MS 1000u
#define REQUEST_WORKER_MARGIN_MS 500u

/* Whether this passdb operation runs in a worker: the db is blocking and
 * the driver has the operation (a credentials lookup on a verify-only
 * driver is answered in the auth process without touching the backend). */
bool auth_request_passdb_uses_worker(const struct passdb *db, bool verify);
/* Runs db->driver's verify_plain (verify) or lookup in a worker; ends with
 * auth_request_passdb_verified() / auth_request_passdb_done(), which take
 * the reference the caller took for the lookup. */
void auth_request_passdb_worker(struct auth_request *req, struct passdb *db, bool verify);
/* Runs the userdb lookup in a worker; ends with auth_request_userdb_done(). */
void auth_request_userdb_worker(struct auth_request *req, struct userdb *db);

#endif
