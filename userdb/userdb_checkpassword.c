/* userdb checkpassword: a user lookup through a checkpassword program that
 * supports AUTHORIZED=1 (Dovecot 2.3's userdb-checkpassword.c; interface in
 * passdb/db_checkpassword.h). The success command's userdb_* fields become
 * the userdb fields; exit 3 means unknown user. Always blocking (an auth
 * worker runs the program). */
#include "userdb/userdb.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_checkpassword.h"

#include <string.h>

static int userdb_checkpassword_init(struct userdb *db, const char *args, const char **error_r)
{
	if (args[strspn(args, " ")] == '\0') {
		*error_r = "args: the checkpassword program is missing";
		return -1;
	}
	db->ctx = pool_strdup(db->pool, args);
	db->blocking = true;
	return 0;
}

static void userdb_checkpassword_lookup(struct userdb *db, struct auth_request *req)
{
	struct db_checkpassword_reply reply;
	enum db_checkpassword_status st = db_checkpassword_run(db->ctx, req, false, "checkpassword",
							       &reply);
	if (st != DB_CHECKPASSWORD_OK) {
		auth_request_userdb_done(req, st == DB_CHECKPASSWORD_USER_UNKNOWN ||
					 st == DB_CHECKPASSWORD_FAILURE ?
					 USERDB_RESULT_USER_UNKNOWN : USERDB_RESULT_INTERNAL_FAILURE);
		return;
	}
	for (size_t i = 0; i < reply.count; i++) {
		const struct db_checkpassword_field *f = &reply.fields[i];
		if (strncmp(f->key, "userdb_", 7) == 0 && f->key[7] != '\0')
			auth_request_set_userdb_field(req, f->key + 7, f->value);
	}
	auth_request_userdb_done(req, USERDB_RESULT_OK);
}

const struct userdb_driver userdb_driver_checkpassword = {
	.name = "checkpassword",
	.init = userdb_checkpassword_init,
	.lookup = userdb_checkpassword_lookup,
};
