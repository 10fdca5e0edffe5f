/* proto_master: the auth-master / auth-userdb protocol (spec section 3):
 * USER, PASS, LIST, REQUEST (login handoff) and CACHE-FLUSH, with the 0666
 * peer-uid restriction of userdb sockets. */
#ifndef AUTHD_PROTO_MASTER_H
#define AUTHD_PROTO_MASTER_H

#include "authd/settings.h"
#include "passdb/passdb.h"
#include "userdb/userdb.h"

#define PROTO_MASTER_MAX_LINE 1023u   /* + LF = Dovecot's 1024-byte buffer */
#define PROTO_MASTER_MAX_FIELDS 64u
#define PROTO_MASTER_LIST_BATCH 256u  /* users written per loop turn */

struct auth;
struct auth_request;
struct master_conn;

/* Takes over an accepted socket of a master/userdb listener. `restrict_peers`
 * is true when the socket file's mode is exactly 0666 (spec 3.2); owner and
 * group are the socket file's. Never blocks. */
void proto_master_accept(struct auth *auth, int fd, enum listener_type type,
			 bool restrict_peers, uid_t owner, gid_t group);

void proto_master_user_finished(struct auth_request *req, enum userdb_result result);
void proto_master_pass_finished(struct auth_request *req, enum passdb_result result);
void proto_master_release(struct master_conn *master);
void proto_master_close_all(void);

#endif
