/* PLAIN (RFC 4616): authzid NUL authcid NUL password, spec 6.1. */
#include "mechanisms/mech.h"
#include "common/pool.h"

#include <string.h>

static enum mech_status mech_plain_step(struct mech_request *req, const uint8_t *in,
					size_t len, bool absent, struct buf *out)
{
	(void)out;
	if (absent)
		return MECH_CONTINUE;   /* empty challenge: CONT\t<id>\t */

	const uint8_t *nul1 = memchr(in, '\0', len);
	const uint8_t *nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - in)) : NULL;
	if (nul2 == NULL ||
	    memchr(nul2 + 1, '\0', len - (size_t)(nul2 + 1 - in)) != NULL) {
		req->fail_reason = "invalid input";
		return MECH_FAILURE;
	}
	size_t authzid_len = (size_t)(nul1 - in);
	size_t authcid_len = (size_t)(nul2 - nul1 - 1);
	size_t pw_len = len - (size_t)(nul2 + 1 - in);
	const uint8_t *authcid = nul1 + 1;

	if (authcid_len == 0) {
		req->fail_reason = "empty username";
		return MECH_FAILURE;
	}
	req->authcid = pool_strndup(req->pool, authcid, authcid_len);
	/* An authzid equal to the authcid is no master login (spec 6.1). */
	if (authzid_len == authcid_len && memcmp(in, authcid, authcid_len) == 0)
		authzid_len = 0;
	req->authzid = pool_strndup(req->pool, in, authzid_len);
	req->password = (uint8_t *)pool_strndup(req->pool, nul2 + 1, pw_len);
	req->password_len = pw_len;
	return MECH_VERIFY_PLAIN;
}

const struct mech mech_plain = {
	.name = "PLAIN",
	.flags = MECH_FLAG_PLAINTEXT | MECH_FLAG_ALLOW_NULS,
	.step = mech_plain_step,
};
