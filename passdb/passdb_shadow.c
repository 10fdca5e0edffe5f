/* passdb shadow: the password hash of a system account from getspnam_r
 * (Dovecot 2.3's passdb-shadow.c). Blocking: runs in an auth worker, which
 * is root by default and can read /etc/shadow. The hash is verified in the
 * auth process like any stored password (default scheme CRYPT). A locked
 * or empty hash ("!", "*", "") answers user disabled, as Dovecot does. */
#include "passdb/passdb.h"
#include "passdb/db_passwd.h"

static void passdb_shadow_lookup(struct passdb *db, struct auth_request *req)
{
	(void)db;
	db_passwd_passdb_lookup(req, "shadow", db_passwd_getspnam);
}

const struct passdb_driver passdb_driver_shadow = {
	.name = "shadow",
	.flags = PASSDB_FLAG_BLOCKING,
	.init = db_passwd_passdb_init,
	.lookup = passdb_shadow_lookup,
};
