/* LOGIN (draft-murchison-sasl-login): prompts "Username:" and "Password:",
 * spec 6.2. A non-empty initial response is the user name. */
#include "mechanisms/mech.h"
#include "common/pool.h"

static const char mech_login_user_prompt[] = "Username:";
static const char mech_login_pass_prompt[] = "Password:";

static enum mech_status mech_login_username(struct mech_request *req, const uint8_t *in,
					    size_t len, struct buf *out)
{
	if (req->username_check != NULL && req->username_check(req, in, len) <= 0) {
		req->fail_reason = "invalid username";
		return MECH_FAILURE;
	}
	req->authcid = pool_strndup(req->pool, in, len);
	req->authzid = "";
	if (buf_append_str(out, mech_login_pass_prompt) < 0)
		return MECH_FAILURE;
	return MECH_CONTINUE;
}

static enum mech_status mech_login_step(struct mech_request *req, const uint8_t *in,
					size_t len, bool absent, struct buf *out)
{
	if (req->authcid == NULL) {
		if (absent || len == 0) {
			if (req->step_count > 1) {
				req->fail_reason = "empty username";
				return MECH_FAILURE;
			}
			return buf_append_str(out, mech_login_user_prompt) < 0 ?
			       MECH_FAILURE : MECH_CONTINUE;
		}
		return mech_login_username(req, in, len, out);
	}
	req->password = (uint8_t *)pool_strndup(req->pool, in, len);
	req->password_len = len;
	return MECH_VERIFY_PLAIN;
}

const struct mech mech_login = {
	.name = "LOGIN",
	.flags = MECH_FLAG_PLAINTEXT,
	.step = mech_login_step,
};
