/* fuzz_config: the Dovecot-syntax config parser and the settings built from
 * it, on untrusted bytes. Includes and `key = <file` are disabled
 * (SETTINGS_LOAD_NO_FILES) so the input cannot make the target read files.
 * Whatever loads must dump (-n and -a) to text that loads back to equal
 * settings; a difference aborts, so the fuzzer reports it. */
#include "authd/settings.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FLAGS (SETTINGS_LOAD_NO_FILES | SETTINGS_LOAD_QUIET)

static void fuzz_round_trip(const struct auth_settings *set, bool all)
{
	struct buf text = BUF_INIT(0);
	struct auth_settings *set2 = NULL;
	const char *error;
	if (settings_dump_buf(set, all, &text) < 0)
		abort();
	if (settings_load_buffer_flags("dump", text.data, text.len, FUZZ_FLAGS, &set2, &error) < 0)
		abort();
	if (!settings_equal(set, set2))
		abort();
	settings_free(&set2);
	buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_settings *set = NULL;
	const char *error;
	if (settings_load_buffer_flags("fuzz", data, size, FUZZ_FLAGS, &set, &error) < 0)
		return 0;
	fuzz_round_trip(set, false);
	fuzz_round_trip(set, true);
	settings_free(&set);
	return 0;
}
