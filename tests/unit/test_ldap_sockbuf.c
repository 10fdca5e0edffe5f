/* test_ldap_sockbuf: the I/O layer under libldap (passdb/db_ldap_sockbuf.h)
 * on a real LDAP handle over a socketpair, the test playing the server:
 * batched writes leave in one write() and in order, unbatched ones at
 * once; replies are parsed from one read() with no poll (DATA_READY), also
 * when they arrive split; end of stream and a full socket are reported. */
#include "passdb/db_ldap_sockbuf.h"

#include <openldap.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define PEER_BUF 65536u

struct fixture {
	LDAP *ld;
	int peer;                  /* the "server" end */
	struct ldap_sockbuf sb;
	unsigned int pending_calls;
};

static void count_pending(void *ctx)
{
	struct fixture *f = ctx;
	f->pending_calls++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fds[2];
	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
	f->peer = fds[1];
	assert_int_equal(ldap_init_fd(fds[0], LDAP_PROTO_TCP, "ldap://127.0.0.1", &f->ld),
			 LDAP_SUCCESS);
	int version = LDAP_VERSION3;
	assert_int_equal(ldap_set_option(f->ld, LDAP_OPT_PROTOCOL_VERSION, &version), LDAP_OPT_SUCCESS);
	f->sb = (struct ldap_sockbuf){ .pending = count_pending, .ctx = f };
	assert_int_equal(ldap_sockbuf_install(&f->sb, f->ld), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ldap_sockbuf_reset(&f->sb);
	ldap_unbind_ext(f->ld, NULL, NULL);
	close(f->peer);
	free(f);
	return 0;
}

/* Number of whole BER elements in data[0..len), or -1 on a malformed one. */
static int count_pdus(const uint8_t *data, size_t len)
{
	int n = 0;
	for (size_t pos = 0; pos < len; n++) {
		if (len - pos < 2 || data[pos] != 0x30)
			return -1;
		size_t hdr = 2, body = data[pos + 1];
		if (body & 0x80) {
			size_t k = body & 0x7f;
			if (k == 0 || k > 4 || len - pos < 2 + k)
				return -1;
			body = 0;
			for (size_t i = 0; i < k; i++)
				body = body << 8 | data[pos + 2 + i];
			hdr += k;
		}
		if (len - pos - hdr < body)
			return -1;
		pos += hdr + body;
	}
	return n;
}

static size_t peer_read_all(struct fixture *f, uint8_t *buf, size_t size)
{
	size_t got = 0;
	ssize_t n;
	while (got < size && (n = read(f->peer, buf + got, size - got)) > 0)
		got += (size_t)n;
	return got;
}

static bool peer_readable(struct fixture *f)
{
	struct pollfd p = { .fd = f->peer, .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

static int search(struct fixture *f)
{
	int msgid = -1;
	assert_int_equal(ldap_search_ext(f->ld, "ou=people,dc=example,dc=com", LDAP_SCOPE_SUBTREE,
					 "(uid=alice)", NULL, 0, NULL, NULL, NULL, 0, &msgid),
			 LDAP_SUCCESS);
	return msgid;
}

/* SearchResultDone, success, for a msgid below 128. */
static void result_done(uint8_t out[14], int msgid)
{
	const uint8_t pdu[14] = { 0x30, 0x0c, 0x02, 0x01, (uint8_t)msgid, 0x65, 0x07,
				  0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	memcpy(out, pdu, sizeof(pdu));
}

static const struct {
	const char *name;
	bool batching;
	unsigned int searches;
} write_cases[] = {
	{ .name = "batched, one", .batching = true, .searches = 1 },
	{ .name = "batched, several", .batching = true, .searches = 5 },
	{ .name = "straight through", .batching = false, .searches = 3 },
};

static void test_writes(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(write_cases); i++) {
		struct fixture *f;
		setup((void **)&f);
		ldap_sockbuf_set_batching(&f->sb, write_cases[i].batching);
		for (unsigned int s = 0; s < write_cases[i].searches; s++)
			search(f);
		bool batched = write_cases[i].batching;
		if (peer_readable(f) == batched)
			fail_msg("%s: peer readable before the flush: got %d, want %d",
				 write_cases[i].name, !batched, batched);
		if (ldap_sockbuf_has_pending(&f->sb) != batched || f->pending_calls != (batched ? 1u : 0u))
			fail_msg("%s: pending %d after %u calls", write_cases[i].name,
				 ldap_sockbuf_has_pending(&f->sb), f->pending_calls);
		assert_int_equal(ldap_sockbuf_flush(&f->sb), 1);
		assert_false(ldap_sockbuf_has_pending(&f->sb));
		uint8_t *buf = malloc(PEER_BUF);
		size_t got = peer_read_all(f, buf, PEER_BUF);
		int pdus = count_pdus(buf, got);
		if (pdus != (int)write_cases[i].searches)
			fail_msg("%s: peer got %d requests in %zu bytes, want %u", write_cases[i].name,
				 pdus, got, write_cases[i].searches);
		free(buf);
		teardown((void **)&f);
	}
}

/* The next batch after a flush notifies again. */
static void test_pending_again_after_flush(void **state)
{
	struct fixture *f = *state;
	ldap_sockbuf_set_batching(&f->sb, true);
	search(f);
	assert_int_equal(ldap_sockbuf_flush(&f->sb), 1);
	search(f);
	assert_int_equal(f->pending_calls, 2);
	assert_true(ldap_sockbuf_has_pending(&f->sb));
}

/* Replies written as one block, or split inside a message: every one
 * comes out of ldap_result(), in order, and DATA_READY is false after. */
static const struct {
	const char *name;
	unsigned int replies;
	size_t split;       /* 0: all at once; else bytes in the first write */
} read_cases[] = {
	{ .name = "one", .replies = 1, .split = 0 },
	{ .name = "four in one block", .replies = 4, .split = 0 },
	{ .name = "split inside the second", .replies = 3, .split = 14 + 5 },
	{ .name = "split inside the header", .replies = 2, .split = 1 },
};

static void test_reads(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ELEMS(read_cases); i++) {
		struct fixture *f;
		setup((void **)&f);
		uint8_t block[4 * 14];
		int ids[4];
		unsigned int n = read_cases[i].replies;
		for (unsigned int r = 0; r < n; r++) {
			ids[r] = search(f);
			result_done(block + 14 * r, ids[r]);
		}
		uint8_t scratch[PEER_BUF];
		(void)peer_read_all(f, scratch, sizeof(scratch));   /* the requests */
		size_t first = read_cases[i].split != 0 ? read_cases[i].split : 14 * n;
		assert_int_equal(write(f->peer, block, first), (ssize_t)first);
		assert_int_not_equal(ldap_sockbuf_fill(&f->sb), LDAP_SOCKBUF_FILL_ERROR);
		struct timeval zero = { 0, 0 };
		unsigned int seen = 0;
		for (int round = 0; round < 2; round++) {
			while (ldap_sockbuf_data_ready(f->ld)) {
				LDAPMessage *msg = NULL;
				int rc = ldap_result(f->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg);
				if (rc == 0)
					break;   /* a partial message: wait for the rest */
				if (rc != LDAP_RES_SEARCH_RESULT || ldap_msgid(msg) != ids[seen])
					fail_msg("%s: reply %u: got type %d id %d, want id %d",
						 read_cases[i].name, seen, rc, ldap_msgid(msg), ids[seen]);
				ldap_msgfree(msg);
				seen++;
			}
			if (round == 0 && first < 14 * n) {
				assert_int_equal(write(f->peer, block + first, 14 * n - first),
						 (ssize_t)(14 * n - first));
				assert_int_not_equal(ldap_sockbuf_fill(&f->sb), LDAP_SOCKBUF_FILL_ERROR);
			}
		}
		if (seen != n)
			fail_msg("%s: got %u replies, want %u", read_cases[i].name, seen, n);
		assert_false(ldap_sockbuf_data_ready(f->ld));
		assert_int_equal(ldap_sockbuf_fill(&f->sb), LDAP_SOCKBUF_FILL_NONE);
		teardown((void **)&f);
	}
}

/* The server went away: fill says so, and libldap then reports it. */
static void test_end_of_stream(void **state)
{
	struct fixture *f = *state;
	search(f);
	shutdown(f->peer, SHUT_WR);
	assert_int_equal(ldap_sockbuf_fill(&f->sb), LDAP_SOCKBUF_FILL_ERROR);
	struct timeval zero = { 0, 0 };
	LDAPMessage *msg = NULL;
	assert_int_equal(ldap_result(f->ld, LDAP_RES_ANY, LDAP_MSG_ONE, &zero, &msg), -1);
	assert_null(msg);
}

/* A socket that takes no more: flush says 0 and keeps the rest; once the
 * peer reads, the rest goes, in order. */
static void test_flush_full_socket(void **state)
{
	struct fixture *f = *state;
	int small = 4096;
	int fd = -1;
	assert_int_equal(ldap_get_option(f->ld, LDAP_OPT_DESC, &fd), LDAP_OPT_SUCCESS);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	ldap_sockbuf_set_batching(&f->sb, true);
	const unsigned int searches = 2000;
	for (unsigned int s = 0; s < searches; s++)
		search(f);
	assert_int_equal(ldap_sockbuf_flush(&f->sb), 0);
	assert_true(ldap_sockbuf_has_pending(&f->sb));
	size_t size = 4u * 1024u * 1024u, got = 0;
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	int ret;
	do {
		got += peer_read_all(f, buf + got, size - got);
		ret = ldap_sockbuf_flush(&f->sb);
		assert_int_not_equal(ret, -1);
	} while (ret == 0);
	got += peer_read_all(f, buf + got, size - got);
	int pdus = count_pdus(buf, got);
	if (pdus != (int)searches)
		fail_msg("peer got %d requests in %zu bytes, want %u", pdus, got, searches);
	free(buf);
}

/* More than LDAP_SOCKBUF_WBUF_MAX unsent: the write fails (the caller
 * then drops the connection) instead of growing without bound. */
static void test_write_limit(void **state)
{
	struct fixture *f = *state;
	Sockbuf *lsb = NULL;
	assert_int_equal(ldap_get_option(f->ld, LDAP_OPT_SOCKBUF, &lsb), LDAP_OPT_SUCCESS);
	ldap_sockbuf_set_batching(&f->sb, true);
	size_t len = LDAP_SOCKBUF_WBUF_MAX + 1;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, 'x', len);
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	assert_non_null(ber);
	assert_int_not_equal(ber_printf(ber, "o", big, (ber_len_t)len), -1);
	errno = 0;
	assert_int_equal(ber_flush2(lsb, ber, LBER_FLUSH_FREE_ALWAYS), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_false(ldap_sockbuf_has_pending(&f->sb));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes),
		cmocka_unit_test_setup_teardown(test_pending_again_after_flush, setup, teardown),
		cmocka_unit_test(test_reads),
		cmocka_unit_test_setup_teardown(test_end_of_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_full_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
