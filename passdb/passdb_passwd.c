/* passdb passwd: the password field of a system account from getpwnam_r
 * (Dovecot 2.3's passdb-passwd.c): useful with NSS backends that return a
 * hash there, or old systems without shadow. Blocking (an auth worker);
 * default scheme CRYPT; a locked or empty field answers user disabled. */
#include "passdb/passdb.h"
#include "passdb/db_passwd.h"

static void passdb_passwd_lookup(struct passdb *db, struct auth_request *req)
{
	(void)db;
	db_passwd_passdb_lookup(req, "passwd", db_passwd_getpwnam);
}

const struct passdb_driver passdb_driver_passwd = {
	.name = "passwd",
	.flags = PASSDB_FLAG_BLOCKING,
	.init = db_passwd_passdb_init,
	.lookup = passdb_passwd_lookup,
};
