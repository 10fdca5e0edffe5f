/* fuzz_mech: PLAIN and LOGIN state machines through the struct mech
 * interface, as request_mech.c drives them.
 *
 * Input: byte 0 = flags (bit 0: LOGIN instead of PLAIN, bit 1: the first
 * message is absent, bit 2: the username check rejects names containing
 * a space), the rest = client messages separated by FUZZ_MECH_MARKER.
 * Steps run until the mechanism stops asking (anything but CONTINUE) or
 * the messages run out. Checks the interface contract: a CONTINUE
 * challenge within its buffer's limit (LOGIN: exactly "Username:" or
 * "Password:"), VERIFY_PLAIN with authcid/authzid/password set and the
 * password NUL-terminated, FAILURE with a reason and no password, PLAIN
 * never asking twice, LOGIN checking a name before its password prompt. */
#include "common/buf.h"
#include "common/pool.h"
#include "mechanisms/mech.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MECH_MARKER 0xff
#define FUZZ_MECH_CHALLENGE_MAX 4096u   /* as request_mech.c */
#define FUZZ_MECH_MAX_STEPS 16

struct fuzz_check {
	bool reject_space;
	int calls;
};

static int fuzz_username_check(struct mech_request *req, const uint8_t *name, size_t len)
{
	struct fuzz_check *fc = req->ctx;
	fc->calls++;
	if (len == 0)
		abort();   /* LOGIN never checks an empty name */
	return !(fc->reject_space && memchr(name, ' ', len) != NULL);
}

static const struct mech_env fuzz_env = {
	.anonymous_username = "anonymous",
	.realms = "example.com",
	.hostname = "fuzz.example",
};

static bool challenge_is(const struct buf *out, const char *want)
{
	return out->len == strlen(want) && memcmp(buf_cstr(out), want, out->len) == 0;
}

static void check_continue(const struct mech *mech, const struct mech_request *req,
			   const struct buf *out)
{
	if (out->len > FUZZ_MECH_CHALLENGE_MAX)
		abort();
	if (mech == &mech_plain && out->len != 0)
		abort();   /* PLAIN's only challenge is empty */
	if (mech == &mech_login &&
	    !challenge_is(out, req->authcid == NULL ? "Username:" : "Password:"))
		abort();
}

static void check_final(enum mech_status st, const struct mech_request *req)
{
	if (st == MECH_VERIFY_PLAIN) {
		if (req->authcid == NULL || req->authzid == NULL || req->password == NULL ||
		    req->password[req->password_len] != '\0' || *req->authcid == '\0')
			abort();
	} else if (st == MECH_FAILURE) {
		if (req->fail_reason == NULL || req->password != NULL)
			abort();
	} else if (st != MECH_CONTINUE) {
		abort();   /* PLAIN/LOGIN never succeed on their own or need credentials */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct mech *mech = (data[0] & 1) != 0 ? &mech_login : &mech_plain;
	bool absent = (data[0] & 2) != 0;
	struct fuzz_check fc = { .reject_space = (data[0] & 4) != 0 };
	struct pool *pool = pool_create(0);
	struct mech_request req = {
		.pool = pool, .mech = mech, .env = &fuzz_env,
		.username_check = fuzz_username_check, .ctx = &fc,
	};
	size_t pos = 1;          /* start of the next message; size + 1 = none left */
	enum mech_status st = MECH_CONTINUE;
	int continues = 0;
	for (int step = 0; step < FUZZ_MECH_MAX_STEPS && st == MECH_CONTINUE; step++) {
		bool this_absent = absent && step == 0;
		const uint8_t *msg = data + (pos <= size ? pos : size);
		size_t len = 0;
		if (!this_absent) {
			if (pos > size)
				break;   /* no message left */
			const uint8_t *m = memchr(msg, FUZZ_MECH_MARKER, size - pos);
			len = m != NULL ? (size_t)(m - msg) : size - pos;
			pos += len + 1;
		}
		/* the request layer never passes NULL and refuses NULs for LOGIN */
		if ((mech->flags & MECH_FLAG_ALLOW_NULS) == 0 && len > 0 && memchr(msg, 0, len) != NULL)
			break;
		struct buf out = BUF_INIT(FUZZ_MECH_CHALLENGE_MAX);
		req.step_count++;
		int calls_before = fc.calls;
		bool had_user = req.authcid != NULL;
		st = mech->step(&req, this_absent ? (const uint8_t *)"" : msg, len, this_absent, &out);
		check_final(st, &req);
		if (st == MECH_CONTINUE) {
			check_continue(mech, &req, &out);
			continues++;
		}
		/* LOGIN: a name is checked exactly when it is taken */
		if (mech == &mech_login && !had_user && req.authcid != NULL && fc.calls != calls_before + 1)
			abort();
		buf_free(&out);
	}
	if (mech == &mech_plain && continues > 1)
		abort();
	if (mech == &mech_login && continues > 2)
		abort();
	pool_destroy(&pool);
	return 0;
}
