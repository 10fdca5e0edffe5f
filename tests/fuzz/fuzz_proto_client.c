/* fuzz_proto_client: the auth-client protocol parser and everything behind
 * it (requests, PLAIN/LOGIN, passwd-file passdb, replies), in process.
 *
 * Input: byte 0 = mode (bit 0: login socket instead of a plain client
 * socket), the rest = the byte stream the client sends; the connection
 * splits it into lines. The stream is written to an auth-client
 * connection over a socketpair, the write side is shut down, and the loop
 * runs until the daemon closes the connection (it must: EOF always ends a
 * connection). The auth state (settings, passwd-file with cheap schemes,
 * auth_failure_delay = 0, no hash pool) is built once per process; each
 * input gets a fresh connection, which is torn down (deferred frees run)
 * before the next input. Requests still waiting out a penalty stay in the
 * loop's timer heap (reachable) and finish during a later input. */
#include "tests/unit/daemon_harness.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CLOSE_DEADLINE_MS 20000u

static struct dh *fuzz_h;

static void fuzz_cleanup(void)
{
	dh_remove_files(fuzz_h);
}

static struct dh *fuzz_harness(void)
{
	struct dh *h = fuzz_h;
	if (h == NULL) {
		struct dh_options o = { .log_to_null = true };
		h = calloc(1, sizeof(*h));
		if (h == NULL || dh_init(h, &o) < 0) {
			fprintf(stderr, "fuzz_proto_client: harness: %s\n",
				h != NULL ? h->error : "out of memory");
			abort();
		}
		fuzz_h = h;
		atexit(fuzz_cleanup);
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct dh *h = fuzz_harness();
	enum listener_type type = (data[0] & 1) != 0 ? LISTENER_LOGIN : LISTENER_CLIENT;
	struct dh_peer *p = dh_connect(h, type);
	if (p == NULL)
		abort();
	if (dh_send(p, data + 1, size - 1) < 0)
		abort();
	dh_send_eof(p);
	/* EOF must end the connection; a hang here is a bug */
	if (!dh_wait_eof(p, FUZZ_CLOSE_DEADLINE_MS)) {
		fprintf(stderr, "fuzz_proto_client: connection still open after EOF\n");
		abort();
	}
	dh_peer_close(p);
	/* one more turn: the connection's deferred free runs */
	dh_run(h, NULL, NULL, 0);
	return 0;
}
