/* ANONYMOUS (RFC 4505), spec 6.6: any message (the optional trace, which
 * may be empty and may hold NUL bytes) succeeds at once as
 * auth_anonymous_username, without a passdb. An absent initial response
 * first gets an empty challenge. The trace is not used. */
#include "mechanisms/mech.h"

static enum mech_status mech_anonymous_step(struct mech_request *req, const uint8_t *in,
					    size_t len, bool absent, struct buf *out)
{
	(void)in;
	(void)len;
	(void)out;
	if (absent)
		return MECH_CONTINUE;   /* empty challenge: CONT\t<id>\t */
	const char *user = req->env != NULL ? req->env->anonymous_username : NULL;
	if (user == NULL || *user == '\0') {
		/* settings refuse this at start-up; be safe anyway */
		req->fail_reason = "auth_anonymous_username is empty";
		return MECH_FAILURE;
	}
	req->authcid = user;
	req->authzid = "";
	return MECH_SUCCESS;
}

const struct mech mech_anonymous = {
	.name = "ANONYMOUS",
	.flags = MECH_FLAG_ANONYMOUS | MECH_FLAG_ALLOW_NULS,
	.step = mech_anonymous_step,
};
