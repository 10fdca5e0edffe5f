/* worker_process: an auth worker, forked by the root parent
 * (worker_spawn.h) for the auth process's worker pool (worker_pool.h).
 *
 * It serves one request at a time on its socket: reads a PASSDB_LOOKUP,
 * PASSDB_VERIFY or USERDB_LOOKUP message (worker_proto.h), runs the
 * passdb/userdb driver synchronously - PAM, getpwnam_r, getspnam_r, a
 * checkpassword program, or any driver configured with blocking=yes - and
 * answers one REPLY: the result, the fields the driver set, and for lookups
 * the stored password. It knows the databases from the configuration the
 * parent read; a request names the database by position, driver and args,
 * and one that matches no configured database is refused
 * (WORKER_FLAG_CONFIG_MISMATCH), so the auth process cannot make a worker
 * run anything that is not configured.
 *
 * Inside the worker a request's fields and results are captured (the
 * auth_request's worker_capture): drivers call the same
 * auth_request_set_passdb_field() / auth_request_passdb_done() ... as in
 * the auth process, and the request code hands those calls to
 * worker_capture_field() / worker_capture_done() instead of running the
 * chains. The auth process replays them, so fields are interpreted in one
 * place only.
 *
 * Privileges: a worker stays root unless `service auth-worker { user }`
 * names another user; a failure to switch is fatal. It has no core dumps,
 * dies with the parent, and logs as "auth-worker(PID)". Nothing secret is
 * logged; the receive buffer and every request's memory are wiped. */
#ifndef AUTHD_WORKER_PROCESS_H
#define AUTHD_WORKER_PROCESS_H

#include "authd/settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_request;
struct buf;
struct worker_process;

/* The worker's main after fork: serves sock until EOF, a restart request
 * or an error. Returns the exit status (0 normal, 1 error, 89 could not
 * start). Blocks. */
int worker_process_run(const struct auth_settings *set, int sock);

/* A worker context without a socket (worker_process_run() uses it; unit
 * tests drive it directly). set is borrowed. Returns NULL on error. */
struct worker_process *worker_process_create(const struct auth_settings *set);
void worker_process_destroy(struct worker_process **w);

/* Handles one encoded request and appends the encoded reply to reply.
 * Returns 0, or -1 if the request is malformed (logged; the caller closes
 * the connection). *restart_r: the worker should exit after replying.
 * Blocks while the backend runs. */
int worker_process_handle(struct worker_process *w, const uint8_t *data, size_t len,
			  struct buf *reply, bool *restart_r);

/* --- for drivers running in a worker --- */

/* Asks to end this worker after the current request (PAM max_requests). */
void worker_process_restart_after_request(void);
/* Milliseconds the current request may still take before the auth process
 * gives up on it: 0 when out of time, WORKER_PROCESS_NO_DEADLINE when not
 * handling a request with a deadline (e.g. blocking=no in the auth process). */
#define WORKER_PROCESS_NO_DEADLINE UINT64_MAX
uint64_t worker_process_time_left_ms(void);

/* --- for the request code (request_fields.c, request_passdb.c,
 * request_userdb.c): a request with worker_capture set is a worker's --- */

void worker_capture_field(struct auth_request *req, bool userdb, const char *key,
			  const char *value);
/* result is an enum passdb_result or enum userdb_result; stored_password
 * (lookups) is copied. */
void worker_capture_done(struct auth_request *req, int result, const char *stored_password);

#endif
