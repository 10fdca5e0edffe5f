/* fuzz_proto_master: the auth-master / auth-userdb protocol parser and
 * what it drives (USER/PASS lookups through passwd-file, LIST with the
 * output queue, REQUEST, CACHE-FLUSH), in process.
 *
 * Input: byte 0 = mode (bit 0: auth-userdb type instead of auth-master,
 * bit 1: a restricted peer of a 0666 socket), the rest = the byte stream
 * the client sends. Written to a master connection over a socketpair, the
 * write side shut down, and the loop runs until the daemon closes the
 * connection. The auth state is built once per process (as in
 * fuzz_proto_client); each input gets a fresh connection, torn down before
 * the next. */
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
			fprintf(stderr, "fuzz_proto_master: harness: %s\n",
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
	enum listener_type type = (data[0] & 1) != 0 ? LISTENER_USERDB : LISTENER_MASTER;
	bool restricted = (data[0] & 2) != 0;
	struct dh_peer *p = dh_connect_ex(h, type, restricted,
					  restricted ? getuid() + 1 : getuid(),
					  restricted ? getgid() + 1 : getgid());
	if (p == NULL)
		abort();
	if (dh_send(p, data + 1, size - 1) < 0)
		abort();
	dh_send_eof(p);
	if (!dh_wait_eof(p, FUZZ_CLOSE_DEADLINE_MS)) {
		fprintf(stderr, "fuzz_proto_master: connection still open after EOF\n");
		abort();
	}
	dh_peer_close(p);
	dh_run(h, NULL, NULL, 0);
	return 0;
}
