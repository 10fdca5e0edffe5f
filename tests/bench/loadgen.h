/* loadgen: the benchmark's load generator (`make bench`, tests/bench/bench.py).
 *
 * Drives an auth server's auth-client socket (AUTH with PLAIN, LOGIN,
 * CRAM-MD5, DIGEST-MD5 or SCRAM-SHA-256) or auth-userdb socket (USER
 * lookups) over many connections, each with a fixed number of requests in
 * flight (pipelined by id), from one or more epoll threads; or the echo
 * server (tests/bench/echo.c) with the same request lines, as the ceiling.
 * Every reply is checked: the right reply for the id, user= (or the USER
 * name) of the user asked for, OK for right and FAIL for wrong passwords,
 * the server's final data (DIGEST-MD5 rspauth, SCRAM v=). A wrong answer
 * aborts the run with exit status 2 and the reason on stderr.
 *
 * Output: one JSON object on stdout (requests, seconds, req/s, latency
 * percentiles in microseconds, errors). Modes besides load: --idle N holds
 * N handshaken connections (for the server's memory per connection) and
 * --probe times the first OK for one user (reload latency).
 *
 * Uses the client library (client/authc.h) for framing and parsing, and
 * OpenSSL for the client side of the mechanisms. Bench-only code: it trusts
 * its command line; server data is still parsed with explicit lengths. */
#ifndef TESTS_BENCH_LOADGEN_H
#define TESTS_BENCH_LOADGEN_H

#include "client/authc.h"
#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_MAX_DEPTH 64u
#define LG_MAX_THREADS 16u
#define LG_HIST_SUB 16u                    /* sub-buckets per power of two */
#define LG_HIST_BUCKETS (64u * LG_HIST_SUB)
#define LG_NAME_MAX 64u
#define LG_EXPECT_MAX 128u                 /* expected final data */
#define LG_SCRAM_KEY_LEN 32u               /* SHA-256 */
#define LG_AUTH_MSG_MAX 512u
#define LG_CONNECT_WAVE 256u               /* handshakes in progress at once */
#define LG_DRAIN_SECS 5.0                  /* wait for in-flight replies at the end */

enum lg_kind {
	LG_KIND_AUTH,       /* auth-client AUTH */
	LG_KIND_USER,       /* auth-userdb USER */
	LG_KIND_ECHO_AUTH,  /* echo server, AUTH lines */
	LG_KIND_ECHO_USER,  /* echo server, USER lines */
};

enum lg_mech {
	LG_MECH_PLAIN,
	LG_MECH_LOGIN,
	LG_MECH_CRAM_MD5,
	LG_MECH_DIGEST_MD5,
	LG_MECH_SCRAM_SHA_256,
};

struct lg_cfg {
	const char *path;
	enum lg_kind kind;
	enum lg_mech mech;
	const char *mech_name;
	const char *service;
	const char *user_prefix;      /* user i is user_prefix + decimal i */
	const char *pass_prefix;      /* its password pass_prefix + decimal i */
	unsigned int first_user, users;
	unsigned int conns, depth, threads;
	unsigned int wrong_pct;       /* share of requests with a wrong password */
	double warmup, duration;      /* seconds */
	bool final_resp_ok;
	unsigned int postfix_rips;    /* > 0: Postfix-style AUTH (nologin, lip=,
				       * rip= one of this many addresses, penalty
				       * on) instead of no-penalty */
	/* modes */
	unsigned int idle;            /* > 0: hold this many connections */
	double hold;                  /* idle: seconds to hold after READY */
	const char *probe_user, *probe_pass;  /* probe mode when set */
};

/* Latency histogram: log-linear buckets of nanoseconds. */
struct lg_hist {
	uint64_t count[LG_HIST_BUCKETS];
	uint64_t n, max_ns;
};

/* SCRAM keys of one user, computed once (a client may cache them). */
struct lg_scram_keys {
	bool valid;
	uint8_t salt[64];
	size_t salt_len;
	unsigned int iter;
	uint8_t client_key[LG_SCRAM_KEY_LEN], stored_key[LG_SCRAM_KEY_LEN];
	uint8_t server_key[LG_SCRAM_KEY_LEN];
};

/* One request in flight. */
struct lg_req {
	bool used, wrong;
	uint8_t step;
	uint32_t id;
	unsigned int user;
	uint64_t start_ns;
	char user_name[LG_NAME_MAX];
	char password[LG_NAME_MAX];
	char cnonce[40];
	char auth_msg[LG_AUTH_MSG_MAX];   /* SCRAM client-first-bare so far */
	size_t auth_msg_len;
	char expect[LG_EXPECT_MAX];       /* final data the server must send */
	size_t expect_len;
};

/* ---- loadgen_mech.c: the client side of the mechanisms ---------------- */

/* Per-thread mechanism state (SCRAM key cache). Returns 0 or -1. */
struct lg_mech_ctx;
struct lg_mech_ctx *lg_mech_ctx_create(const struct lg_cfg *cfg);
void lg_mech_ctx_destroy(struct lg_mech_ctx **ctx);

/* The initial response of req (appended to out); *has_r false when the
 * mechanism sends none. Returns 0 or -1. */
int lg_mech_initial(struct lg_mech_ctx *ctx, struct lg_req *req, struct buf *out,
		    bool *has_r);
/* Answers the server's challenge (decoded) into out. Returns 0, or -1 with
 * *error_r (static text) when the challenge is wrong. */
int lg_mech_step(struct lg_mech_ctx *ctx, struct lg_req *req, const uint8_t *chal,
		 size_t len, struct buf *out, const char **error_r);
/* Checks the final data of an OK (decoded; NULL when there was none).
 * Returns 0, or -1 with *error_r. */
int lg_mech_final(const struct lg_req *req, const uint8_t *data, size_t len,
		  const char **error_r);

/* ---- loadgen_run.c: one thread's event loop --------------------------- */

struct lg_result {
	uint64_t done;                /* completed in the measurement window */
	uint64_t ok, fail;            /* of those */
	uint64_t unfinished;          /* still in flight after the drain */
	struct lg_hist hist;
	char error[256];              /* "" or why the run was aborted */
};

/* Runs conns connections until the end of the measurement window plus the
 * drain. start_ns is the common start. Fills *res. Blocks. */
void lg_run_thread(const struct lg_cfg *cfg, unsigned int conns, unsigned int thread_no,
		   uint64_t start_ns, struct lg_result *res);
/* Idle mode: connects and handshakes cfg->idle connections, prints
 * "READY <n>" and holds them. Returns the exit status. */
int lg_run_idle(const struct lg_cfg *cfg);
/* Probe mode: AUTH PLAIN for probe_user until OK or the duration ends.
 * Prints {"probe_ms": ...}. Returns the exit status. */
int lg_run_probe(const struct lg_cfg *cfg);

uint64_t lg_now_ns(void);
void lg_hist_add(struct lg_hist *h, uint64_t ns);
void lg_hist_merge(struct lg_hist *into, const struct lg_hist *from);
/* The value (ns, bucket upper bound) at quantile q (0..1). */
uint64_t lg_hist_quantile(const struct lg_hist *h, double q);

#endif
