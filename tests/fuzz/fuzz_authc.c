/* Fuzz target: the client library's reply-line parser and handshake state
 * machine (what authctl reads from a server). Input: server lines separated
 * by LF; the first byte picks the socket family. */
#include "client/authc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_AUTHC_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct authc_handshake hs;
	authc_handshake_init(&hs, (data[0] & 1) != 0 ? AUTHC_KIND_MASTER : AUTHC_KIND_CLIENT);
	/* A private copy: parsing works in place and needs one spare byte. */
	uint8_t *copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	size_t start = 0, len = size - 1;
	bool handshaking = true;
	while (start < len) {
		uint8_t *nl = memchr(copy + start, '\n', len - start);
		size_t end = nl != NULL ? (size_t)(nl - copy) : len;
		struct authc_str args[FUZZ_AUTHC_ARGS];
		struct authc_reply reply;
		const char *error = NULL;
		if (authc_line_parse(copy + start, end - start, args, FUZZ_AUTHC_ARGS, &reply,
				     &error) > 0 && handshaking) {
			enum authc_hs_status st = authc_handshake_feed(&hs, &reply, &error);
			handshaking = st == AUTHC_HS_MORE;
			(void)authc_handshake_find_mech(&hs, "PLAIN");
		}
		start = end + 1;
	}
	free(copy);
	return 0;
}
