/* EXTERNAL (RFC 4422 appendix A), spec 6.7: the user is the one the TLS
 * client certificate names (req->cert_username, filled by the request code
 * only when auth_ssl_username_from_cert gives a name for a valid
 * certificate); without it the request fails. A non-empty message is an
 * authzid (master-user login rules). The result is a verify-plain with an
 * empty password, so a passdb must accept it (nopassword). An absent
 * initial response first gets an empty challenge. */
#include "mechanisms/mech.h"
#include "common/pool.h"

#include <string.h>

static enum mech_status mech_external_step(struct mech_request *req, const uint8_t *in,
					   size_t len, bool absent, struct buf *out)
{
	(void)out;
	if (absent)
		return MECH_CONTINUE;   /* empty challenge: CONT\t<id>\t */
	if (req->cert_username == NULL || *req->cert_username == '\0') {
		req->fail_reason = "username not known";
		return MECH_FAILURE;
	}
	if (len > MECH_NAME_MAX || memchr(in, '\0', len) != NULL) {
		req->fail_reason = "invalid authzid";
		return MECH_FAILURE;
	}
	req->authcid = req->cert_username;
	req->authzid = pool_strndup(req->pool, in, len);
	req->password = (uint8_t *)pool_strndup(req->pool, "", 0);
	req->password_len = 0;
	return MECH_VERIFY_PLAIN;
}

const struct mech mech_external = {
	.name = "EXTERNAL",
	.flags = 0,
	.step = mech_external_step,
};
