/* passdb checkpassword: verifies with a qmail-style checkpassword program
 * (Dovecot 2.3's passdb-checkpassword.c; the interface is in
 * db_checkpassword.h). args = the program and its arguments (%-expanded).
 * Always blocking: the program runs from an auth worker, never from the
 * auth process. The success command's fields become passdb fields
 * (user= renames, userdb_* prefetch the userdb); password={SCHEME}... is
 * the stored password of a credentials lookup. */
#include "passdb/passdb.h"
#include "authd/request.h"
#include "common/pool.h"
#include "passdb/db_checkpassword.h"

#include <string.h>

static int passdb_checkpassword_init(struct passdb *db, const char *args, const char **error_r)
{
	if (args[strspn(args, " ")] == '\0') {
		*error_r = "args: the checkpassword program is missing";
		return -1;
	}
	db->ctx = pool_strdup(db->pool, args);
	db->blocking = true;
	db->default_scheme = NULL;   /* password= needs a {SCHEME} prefix */
	return 0;
}

static enum passdb_result passdb_checkpassword_result(enum db_checkpassword_status st)
{
	switch (st) {
	case DB_CHECKPASSWORD_OK:
		return PASSDB_RESULT_OK;
	case DB_CHECKPASSWORD_FAILURE:
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	case DB_CHECKPASSWORD_USER_UNKNOWN:
		return PASSDB_RESULT_USER_UNKNOWN;
	case DB_CHECKPASSWORD_INTERNAL_FAILURE:
		break;
	}
	return PASSDB_RESULT_INTERNAL_FAILURE;
}

/* Applies the reply's fields; returns the password= value or NULL. */
static const char *passdb_checkpassword_fields(struct auth_request *req,
					       const struct db_checkpassword_reply *reply)
{
	const char *password = NULL;
	for (size_t i = 0; i < reply->count; i++) {
		const struct db_checkpassword_field *f = &reply->fields[i];
		if (strcmp(f->key, "password") == 0)
			password = f->value;
		else
			auth_request_set_passdb_field(req, f->key, f->value);
	}
	return password;
}

static void passdb_checkpassword_verify(struct passdb *db, struct auth_request *req)
{
	struct db_checkpassword_reply reply;
	enum db_checkpassword_status st = db_checkpassword_run(db->ctx, req, true, "checkpassword",
							       &reply);
	if (st == DB_CHECKPASSWORD_OK)
		(void)passdb_checkpassword_fields(req, &reply);
	auth_request_passdb_verified(req, passdb_checkpassword_result(st));
}

static void passdb_checkpassword_lookup(struct passdb *db, struct auth_request *req)
{
	struct db_checkpassword_reply reply;
	enum db_checkpassword_status st = db_checkpassword_run(db->ctx, req, false, "checkpassword",
							       &reply);
	const char *password = NULL;
	if (st == DB_CHECKPASSWORD_OK)
		password = passdb_checkpassword_fields(req, &reply);
	auth_request_passdb_done(req, passdb_checkpassword_result(st), password);
}

const struct passdb_driver passdb_driver_checkpassword = {
	.name = "checkpassword",
	.flags = PASSDB_FLAG_BLOCKING,
	.init = passdb_checkpassword_init,
	.lookup = passdb_checkpassword_lookup,
	.verify_plain = passdb_checkpassword_verify,
};
