/* proto_client: the auth-client protocol (spec section 2) on client and
 * login listeners: the unsolicited handshake, AUTH/CONT/CANCEL parsing with
 * Dovecot's close-vs-FAIL rules, and OK/CONT/FAIL replies with the failure
 * delay. */
#ifndef AUTHD_PROTO_CLIENT_H
#define AUTHD_PROTO_CLIENT_H

#include "authd/settings.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_CLIENT_MAX_LINE 16383u    /* + LF = Dovecot's 16384-byte buffer */
#define PROTO_CLIENT_MAX_FIELDS 64u
#define PROTO_CLIENT_MAX_PENDING 1024u  /* requests in progress per connection */

struct auth;
struct auth_request;
struct client_conn;

/* Takes over an accepted socket: writes the handshake and starts reading.
 * Never blocks. On failure the fd is closed. */
void proto_client_accept(struct auth *auth, int fd, enum listener_type type);

/* Sends CONT with a challenge (base64-encoded here). */
void proto_client_send_continue(struct auth_request *req, const uint8_t *data, size_t len);
/* Sends the final OK/FAIL of req (req->outcome), delayed for failures. */
void proto_client_auth_finished(struct auth_request *req, const uint8_t *final, size_t len);
/* Drops a request waiting for client input (150 s abort timer). */
void proto_client_request_abort(struct auth_request *req);
/* Releases the request's reference on its connection. */
void proto_client_release(struct client_conn *client);

/* For REQUEST on the master side: finds the successful login request
 * (pid, id) whose connection sent cookie, removes it from the table and
 * returns it with a reference, or NULL. */
struct auth_request *proto_client_take_login_request(pid_t pid, uint32_t id,
						     const uint8_t cookie[16]);

/* Closes every client connection (shutdown). */
void proto_client_close_all(void);

#endif
