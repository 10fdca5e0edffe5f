/* fuzz_mech_cram_md5: CRAM-MD5 (mechanisms/mech_cram_md5.c) driven by
 * tests/fuzz/fuzz_mech_driver.h with the RFC 2195 challenge as the test
 * nonce and the {CRAM-MD5} context of "tanstaaftanstaaf" as credential. */
#include "tests/fuzz/fuzz_mech_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* HMAC-MD5 context of "tanstaaftanstaaf" (password-schemes.md 3.10) */
static const uint8_t fuzz_cram_md5_cred[32] = {
	0xd0, 0x6d, 0x4e, 0x1b, 0x26, 0xfc, 0xca, 0xa4, 0xb0, 0xb6, 0x18, 0x01, 0x13, 0x23, 0x40, 0xa3,
	0x54, 0xb2, 0x11, 0x52, 0x71, 0x1f, 0xb6, 0x04, 0xca, 0x3e, 0x03, 0x5e, 0x70, 0x15, 0x11, 0x6b,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_mech_target t = {
		.mech = &mech_cram_md5,
		.nonce = "<1896.697170952@postoffice.reston.mci.net>",
		.cred = fuzz_cram_md5_cred,
		.cred_len = sizeof(fuzz_cram_md5_cred),
		.service = "smtp",
	};
	return fuzz_mech_run(&t, data, size);
}
