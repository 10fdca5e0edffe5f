/* fuzz_mech_scram: SCRAM-SHA-1/256/512 (mechanisms/mech_scram.c and its
 * parsers) driven by tests/fuzz/fuzz_mech_driver.h. Flags bits 4-5 pick the
 * hash (0/3 SHA-1 with RFC 5802's nonce and credential, 1 SHA-256 with RFC
 * 7677's, 2 SHA-512 with RFC 7677's inputs). */
#include "tests/fuzz/fuzz_mech_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SCRAM_CRED(s) (const uint8_t *)(s), sizeof(s) - 1

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_mech_target targets[] = {
		{ .mech = &mech_scram_sha1, .nonce = "3rfcNHYJY1ZVvWVs7j", .service = "imap",
		  .cred = FUZZ_SCRAM_CRED("4096,QSXCR+Q6sek8bf92,6dlGYMOdZcOPutkcNY8U2g7vK9Y=,"
					  "D+CSWLOshSulAsxiupA+qs2/fTE=") },
		{ .mech = &mech_scram_sha256, .nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		  .service = "imap",
		  .cred = FUZZ_SCRAM_CRED("4096,W22ZaJ0SNY7soEsUEjb6gQ==,"
					  "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
					  "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=") },
		{ .mech = &mech_scram_sha512, .nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		  .service = "imap",
		  .cred = FUZZ_SCRAM_CRED("4096,W22ZaJ0SNY7soEsUEjb6gQ==,6AAub3065EYRmyFpM2RNwqK+eGn"
					  "rkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkO"
					  "Hbvg==,jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0"
					  "b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA==") },
	};
	if (size == 0)
		return 0;
	size_t which = (size_t)((data[0] >> 4) & 3);
	return fuzz_mech_run(&targets[which == 3 ? 0 : which], data, size);
}
