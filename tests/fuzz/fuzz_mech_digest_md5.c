/* fuzz_mech_digest_md5: DIGEST-MD5 (mechanisms/mech_digest_md5.c and its
 * directive parser) driven by tests/fuzz/fuzz_mech_driver.h with RFC 2831's
 * nonce as the test nonce, service imap, and MD5("chris:elwood.innosoft.com:
 * secret") as credential. */
#include "tests/fuzz/fuzz_mech_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_digest_md5_cred[16] = {
	0xeb, 0x5a, 0x75, 0x00, 0x53, 0xe4, 0xd2, 0xc3, 0x4a, 0xa8, 0x4b, 0xbc, 0x9b, 0x0b, 0x6e, 0xe7,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_mech_target t = {
		.mech = &mech_digest_md5,
		.nonce = "OA6MG9tEQGm2hh",
		.cred = fuzz_digest_md5_cred,
		.cred_len = sizeof(fuzz_digest_md5_cred),
		.service = "imap",
	};
	return fuzz_mech_run(&t, data, size);
}
