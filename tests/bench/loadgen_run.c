/* loadgen_run: one load generator thread: its connections, an epoll loop,
 * request issue and reply checking (see loadgen.h). */
#include "tests/bench/loadgen.h"

#include "common/base64.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LG_EPOLL_EVENTS 256
#define LG_EPOLL_WAIT_MS 5
#define LG_CHALLENGE_MAX 4096u

enum lg_conn_state { LG_CONN_HANDSHAKE, LG_CONN_RUN, LG_CONN_DEAD };

struct lg_conn {
	struct authc_conn *ac;
	enum lg_conn_state state;
	bool want_out;
	unsigned int inflight;
	struct lg_req reqs[LG_MAX_DEPTH];
};

struct lg_thread {
	const struct lg_cfg *cfg;
	struct lg_mech_ctx *mech;
	struct lg_result *res;
	int epfd;
	struct lg_conn *conns;
	unsigned int nconns;
	uint64_t now, warm_end, end, drain_end;
	bool issuing;
	uint64_t rng;
	bool probe_ok;
};

uint64_t lg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void lg_fail(struct lg_thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void lg_fail(struct lg_thread *t, const char *fmt, ...)
{
	va_list ap;
	if (t->res->error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(t->res->error, sizeof(t->res->error), fmt, ap);
	va_end(ap);
}

static uint32_t lg_rand(struct lg_thread *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return (uint32_t)(t->rng >> 16);
}

/* ---- issuing requests ------------------------------------------------- */

static void req_fill(struct lg_thread *t, struct lg_req *r)
{
	const struct lg_cfg *cfg = t->cfg;
	if (cfg->probe_user != NULL) {
		snprintf(r->user_name, sizeof(r->user_name), "%s", cfg->probe_user);
		snprintf(r->password, sizeof(r->password), "%s", cfg->probe_pass);
		r->wrong = false;
		r->user = cfg->first_user;
		return;
	}
	r->user = cfg->first_user + lg_rand(t) % cfg->users;
	r->wrong = cfg->wrong_pct > 0 && lg_rand(t) % 100u < cfg->wrong_pct;
	snprintf(r->user_name, sizeof(r->user_name), "%s%u", cfg->user_prefix, r->user);
	snprintf(r->password, sizeof(r->password), "%s%u", r->wrong ? "wrong" : cfg->pass_prefix,
		 r->user);
}

/* The AUTH parameters: no-penalty (the default), or what Postfix's smtpd
 * sends (nologin, lip=, rip=) with rip= one of cfg->postfix_rips
 * addresses, so the server's per-IP penalty bookkeeping is on the path.
 * rip_buf holds the rip= string; the array is valid until the next call. */
static const char *const *auth_params(struct lg_thread *t, char *rip_buf, size_t rip_size)
{
	static const char *const params_final[] = { "no-penalty", "final-resp-ok", NULL };
	static const char *const params[] = { "no-penalty", NULL };
	static __thread const char *postfix[4];
	const struct lg_cfg *cfg = t->cfg;
	if (cfg->postfix_rips == 0)
		return cfg->final_resp_ok ? params_final : params;
	uint32_t ip = lg_rand(t) % cfg->postfix_rips;
	snprintf(rip_buf, rip_size, "rip=10.%u.%u.%u", (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
	postfix[0] = "nologin";
	postfix[1] = "lip=127.0.0.1";
	postfix[2] = rip_buf;
	postfix[3] = NULL;
	return postfix;
}

static int queue_auth(struct lg_thread *t, struct lg_conn *c, struct lg_req *r)
{
	struct buf initial = BUF_INIT(LG_CHALLENGE_MAX);
	char rip[32];
	bool has_initial;
	const char *error;
	int ret = -1;

	if (lg_mech_initial(t->mech, r, &initial, &has_initial) == 0) {
		struct authc_auth_request ar = {
			.mech = t->cfg->mech_name, .service = t->cfg->service,
			.params = auth_params(t, rip, sizeof(rip)),
			.has_initial_response = has_initial,
			.initial_response = initial.data, .initial_response_len = initial.len,
		};
		ret = authc_auth_queue(c->ac, &ar, &r->id, &error);
		if (ret < 0)
			lg_fail(t, "queue: %s", error);
	}
	buf_free(&initial);
	return ret;
}

static int issue_one(struct lg_thread *t, struct lg_conn *c)
{
	struct lg_req *r = NULL;
	const char *error;
	for (unsigned int i = 0; i < t->cfg->depth && r == NULL; i++) {
		if (!c->reqs[i].used)
			r = &c->reqs[i];
	}
	if (r == NULL)
		return -1;
	req_fill(t, r);
	r->start_ns = t->now;
	int ret;
	if (t->cfg->kind == LG_KIND_USER || t->cfg->kind == LG_KIND_ECHO_USER) {
		ret = authc_master_queue(c->ac, AUTHC_MASTER_USER, r->user_name, t->cfg->service,
					 NULL, &r->id, &error);
		if (ret < 0)
			lg_fail(t, "queue: %s", error);
	} else {
		ret = queue_auth(t, c, r);
	}
	if (ret < 0)
		return -1;
	r->used = true;
	c->inflight++;
	return 0;
}

static void conn_fill(struct lg_thread *t, struct lg_conn *c)
{
	while (t->issuing && c->state == LG_CONN_RUN && c->inflight < t->cfg->depth) {
		if (issue_one(t, c) < 0)
			break;
	}
}

/* ---- replies ---------------------------------------------------------- */

static struct lg_req *find_req(struct lg_conn *c, unsigned int depth, uint32_t id)
{
	for (unsigned int i = 0; i < depth; i++) {
		if (c->reqs[i].used && c->reqs[i].id == id)
			return &c->reqs[i];
	}
	return NULL;
}

static void req_done(struct lg_thread *t, struct lg_conn *c, struct lg_req *r, bool ok)
{
	r->used = false;
	c->inflight--;
	if (ok && t->cfg->probe_user != NULL)
		t->probe_ok = true;
	if (t->now < t->warm_end || t->now > t->end)
		return;
	t->res->done++;
	if (ok)
		t->res->ok++;
	else
		t->res->fail++;
	lg_hist_add(&t->res->hist, t->now - r->start_ns);
}

static bool str_is(const struct authc_str *s, const char *want)
{
	return s->len == strlen(want) && memcmp(s->s, want, s->len) == 0;
}

/* CONT: the next step of the mechanism, or (after the last step) the
 * final data without final-resp-ok, answered with an empty CONT. */
static int reply_cont(struct lg_thread *t, struct lg_conn *c, struct lg_req *r,
		      const struct authc_reply *rep)
{
	struct buf chal = BUF_INIT(LG_CHALLENGE_MAX), out = BUF_INIT(LG_CHALLENGE_MAX);
	const char *error = "bad base64 in CONT";
	int ret = -1;
	if (rep->field_count >= 1 &&
	    base64_decode(&chal, (const uint8_t *)rep->fields[0].s, rep->fields[0].len) == 1) {
		if (r->expect_len > 0) {
			ret = lg_mech_final(r, chal.data, chal.len, &error);
			r->expect_len = 0;
		} else {
			ret = lg_mech_step(t->mech, r, chal.data, chal.len, &out, &error);
		}
	}
	if (ret == 0)
		ret = authc_cont_queue(c->ac, r->id, out.data, out.len, &error) < 0 ? -1 : 0;
	if (ret < 0)
		lg_fail(t, "%s: request %u (%s): %s", t->cfg->mech_name, r->id, r->user_name, error);
	buf_free(&chal);
	buf_free(&out);
	return ret;
}

static int reply_ok(struct lg_thread *t, struct lg_req *r, const struct authc_reply *rep)
{
	struct authc_str v;
	struct buf data = BUF_INIT(LG_CHALLENGE_MAX);
	const char *error = NULL;
	if (r->wrong && t->cfg->probe_user == NULL)
		error = "OK for a wrong password";
	else if (!authc_field_find(rep->fields, rep->field_count, "user", &v) ||
		 !str_is(&v, r->user_name))
		error = "OK without user= of the user asked for";
	else if (authc_field_find(rep->fields, rep->field_count, "resp", &v)) {
		if (base64_decode(&data, (const uint8_t *)v.s, v.len) != 1 ||
		    lg_mech_final(r, data.data, data.len, &error) < 0)
			error = error != NULL ? error : "bad resp=";
	} else if (lg_mech_final(r, NULL, 0, &error) < 0) {
		/* error set */
	}
	buf_free(&data);
	if (error != NULL) {
		lg_fail(t, "request %u (%s): %s", r->id, r->user_name, error);
		return -1;
	}
	return 0;
}

static int reply_auth(struct lg_thread *t, struct lg_conn *c, struct lg_req *r,
		      const struct authc_reply *rep)
{
	switch (rep->type) {
	case AUTHC_REPLY_CONT:
		return reply_cont(t, c, r, rep);
	case AUTHC_REPLY_OK:
		if (reply_ok(t, r, rep) < 0)
			return -1;
		req_done(t, c, r, true);
		return 0;
	case AUTHC_REPLY_FAIL:
		if (!r->wrong && t->cfg->probe_user == NULL) {
			lg_fail(t, "request %u (%s): FAIL for the right password", r->id,
				r->user_name);
			return -1;
		}
		req_done(t, c, r, false);
		return 0;
	default:
		lg_fail(t, "request %u: unexpected reply %.*s", r->id, (int)rep->cmd.len, rep->cmd.s);
		return -1;
	}
}

static int reply_user(struct lg_thread *t, struct lg_conn *c, struct lg_req *r,
		      const struct authc_reply *rep)
{
	if (rep->type != AUTHC_REPLY_USER || rep->field_count < 1 ||
	    !str_is(&rep->fields[0], r->user_name)) {
		lg_fail(t, "USER %u (%s): unexpected reply %.*s", r->id, r->user_name,
			(int)rep->cmd.len, rep->cmd.s);
		return -1;
	}
	req_done(t, c, r, true);
	return 0;
}

static int handle_line(struct lg_thread *t, struct lg_conn *c, const struct authc_reply *rep)
{
	bool echo = t->cfg->kind == LG_KIND_ECHO_AUTH || t->cfg->kind == LG_KIND_ECHO_USER;
	if (echo && !str_is(&rep->cmd, "AUTH") && !str_is(&rep->cmd, "USER"))
		return 0;   /* our own VERSION/CPID lines coming back */
	if (!rep->has_id) {
		lg_fail(t, "reply without id: %.*s", (int)rep->cmd.len, rep->cmd.s);
		return -1;
	}
	struct lg_req *r = find_req(c, t->cfg->depth, rep->id);
	if (r == NULL) {
		lg_fail(t, "reply for unknown id %u", rep->id);
		return -1;
	}
	if (echo) {
		req_done(t, c, r, true);
		return 0;
	}
	if (t->cfg->kind == LG_KIND_USER)
		return reply_user(t, c, r, rep);
	return reply_auth(t, c, r, rep);
}

/* ---- connection I/O --------------------------------------------------- */

static void conn_update_events(struct lg_thread *t, struct lg_conn *c, bool want_out)
{
	if (want_out == c->want_out)
		return;
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0u), .data.ptr = c };
	epoll_ctl(t->epfd, EPOLL_CTL_MOD, authc_conn_fd(c->ac), &ev);
	c->want_out = want_out;
}

static int conn_flush(struct lg_thread *t, struct lg_conn *c)
{
	const char *error;
	int r = authc_conn_flush(c->ac, &error);
	if (r < 0) {
		lg_fail(t, "write: %s", error);
		return -1;
	}
	conn_update_events(t, c, r == 0);
	return 0;
}

static int conn_lines(struct lg_thread *t, struct lg_conn *c)
{
	struct authc_reply rep;
	const char *error;
	int r;
	if (c->state == LG_CONN_HANDSHAKE) {
		r = authc_conn_handshake_step(c->ac, &error);
		if (r < 0) {
			lg_fail(t, "handshake: %s", error);
			return -1;
		}
		if (r == 0)
			return 0;
		c->state = LG_CONN_RUN;
	}
	while ((r = authc_conn_next_line(c->ac, &rep, &error)) > 0) {
		if (handle_line(t, c, &rep) < 0)
			return -1;
	}
	if (r < 0)
		lg_fail(t, "read: %s", error);
	return r;
}

static int conn_input(struct lg_thread *t, struct lg_conn *c)
{
	const char *error;
	for (;;) {
		int r = authc_conn_input(c->ac, &error);
		if (r < 0) {
			lg_fail(t, "read: %s", error);
			return -1;
		}
		if (r == 0)
			return 0;
		if (conn_lines(t, c) < 0)
			return -1;
	}
}

static void conn_event(struct lg_thread *t, struct lg_conn *c, uint32_t events)
{
	if (c->state == LG_CONN_DEAD)
		return;
	if (((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && conn_input(t, c) < 0)) {
		c->state = LG_CONN_DEAD;
		return;
	}
	conn_fill(t, c);
	if (conn_flush(t, c) < 0)
		c->state = LG_CONN_DEAD;
}

static int conn_open(struct lg_thread *t, struct lg_conn *c)
{
	const char *error;
	bool master = t->cfg->kind == LG_KIND_USER || t->cfg->kind == LG_KIND_ECHO_USER;
	c->ac = authc_conn_create(t->cfg->path, master ? AUTHC_KIND_MASTER : AUTHC_KIND_CLIENT,
				  10000);
	if (c->ac == NULL || authc_connect(c->ac, &error) < 0) {
		lg_fail(t, "connect: %s", c->ac != NULL ? error : "out of memory");
		return -1;
	}
	c->state = LG_CONN_HANDSHAKE;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, authc_conn_fd(c->ac), &ev) < 0) {
		lg_fail(t, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return conn_flush(t, c);
}

/* One epoll_wait round. Returns the number of events or -1. */
static int loop_once(struct lg_thread *t, int timeout_ms)
{
	struct epoll_event evs[LG_EPOLL_EVENTS];
	int n = epoll_wait(t->epfd, evs, LG_EPOLL_EVENTS, timeout_ms);
	if (n < 0 && errno != EINTR) {
		lg_fail(t, "epoll_wait: %s", strerror(errno));
		return -1;
	}
	t->now = lg_now_ns();
	for (int i = 0; i < n && t->res->error[0] == '\0'; i++)
		conn_event(t, evs[i].data.ptr, evs[i].events);
	return n < 0 ? 0 : n;
}

/* Opens conns connections in waves, each wave handshaken before the next. */
static int open_all(struct lg_thread *t)
{
	for (unsigned int first = 0; first < t->nconns; first += LG_CONNECT_WAVE) {
		unsigned int last = first + LG_CONNECT_WAVE < t->nconns ? first + LG_CONNECT_WAVE :
			t->nconns;
		for (unsigned int i = first; i < last; i++) {
			if (conn_open(t, &t->conns[i]) < 0)
				return -1;
		}
		uint64_t deadline = lg_now_ns() + 30ull * 1000000000ull;
		for (unsigned int i = first; i < last; i++) {
			while (t->conns[i].state == LG_CONN_HANDSHAKE && t->res->error[0] == '\0') {
				if (loop_once(t, 100) < 0 || t->now > deadline) {
					lg_fail(t, "handshake timed out");
					return -1;
				}
			}
			if (t->conns[i].state != LG_CONN_RUN)
				return -1;
		}
	}
	return 0;
}

static int thread_init(struct lg_thread *t, const struct lg_cfg *cfg, unsigned int conns,
		       struct lg_result *res)
{
	memset(t, 0, sizeof(*t));
	memset(res, 0, sizeof(*res));
	t->cfg = cfg;
	t->res = res;
	t->nconns = conns;
	t->rng = lg_now_ns() | 1;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->conns = calloc(conns, sizeof(*t->conns));
	t->mech = lg_mech_ctx_create(cfg);
	if (t->epfd < 0 || t->conns == NULL || t->mech == NULL) {
		lg_fail(t, "out of resources");
		return -1;
	}
	return 0;
}

static void thread_deinit(struct lg_thread *t)
{
	for (unsigned int i = 0; t->conns != NULL && i < t->nconns; i++)
		authc_conn_destroy(&t->conns[i].ac);
	free(t->conns);
	lg_mech_ctx_destroy(&t->mech);
	if (t->epfd >= 0)
		close(t->epfd);
}

static unsigned int total_inflight(const struct lg_thread *t)
{
	unsigned int n = 0;
	for (unsigned int i = 0; i < t->nconns; i++)
		n += t->conns[i].state == LG_CONN_RUN ? t->conns[i].inflight : 0;
	return n;
}

void lg_run_thread(const struct lg_cfg *cfg, unsigned int conns, unsigned int thread_no,
		   uint64_t start_ns, struct lg_result *res)
{
	struct lg_thread t;
	(void)thread_no;
	if (thread_init(&t, cfg, conns, res) == 0 && open_all(&t) == 0) {
		uint64_t begin = lg_now_ns() > start_ns ? lg_now_ns() : start_ns;
		t.warm_end = begin + (uint64_t)(cfg->warmup * 1e9);
		t.end = t.warm_end + (uint64_t)(cfg->duration * 1e9);
		t.drain_end = t.end + (uint64_t)(LG_DRAIN_SECS * 1e9);
		t.issuing = true;
		t.now = lg_now_ns();
		for (unsigned int i = 0; i < t.nconns; i++)
			conn_event(&t, &t.conns[i], 0);
		while (res->error[0] == '\0' && t.now < t.drain_end) {
			if (t.now >= t.end)
				t.issuing = false;
			if (!t.issuing && total_inflight(&t) == 0)
				break;
			if (loop_once(&t, LG_EPOLL_WAIT_MS) < 0)
				break;
		}
		res->unfinished = total_inflight(&t);
	}
	thread_deinit(&t);
}

/* ---- idle and probe modes --------------------------------------------- */

int lg_run_idle(const struct lg_cfg *cfg)
{
	struct lg_thread t;
	struct lg_result res;
	int code = 2;
	if (thread_init(&t, cfg, cfg->idle, &res) == 0 && open_all(&t) == 0) {
		printf("READY %u\n", cfg->idle);
		fflush(stdout);
		struct timespec ts = { .tv_sec = (time_t)cfg->hold,
				       .tv_nsec = (long)((cfg->hold - (double)(time_t)cfg->hold) * 1e9) };
		nanosleep(&ts, NULL);
		code = 0;
	}
	if (res.error[0] != '\0')
		fprintf(stderr, "loadgen: %s\n", res.error);
	thread_deinit(&t);
	return code;
}

int lg_run_probe(const struct lg_cfg *cfg)
{
	struct lg_thread t;
	struct lg_result res;
	int code = 2;
	uint64_t start = lg_now_ns();
	if (thread_init(&t, cfg, 1, &res) == 0 && open_all(&t) == 0) {
		t.warm_end = t.end = t.drain_end = UINT64_MAX;
		t.issuing = true;
		uint64_t deadline = start + (uint64_t)(cfg->duration * 1e9);
		t.now = lg_now_ns();
		conn_event(&t, &t.conns[0], 0);
		while (!t.probe_ok && res.error[0] == '\0' && t.now < deadline) {
			if (loop_once(&t, LG_EPOLL_WAIT_MS) < 0)
				break;
			conn_event(&t, &t.conns[0], 0);
		}
		if (t.probe_ok) {
			printf("{\"probe_ms\": %.3f}\n", (double)(t.now - start) / 1e6);
			code = 0;
		} else if (res.error[0] == '\0') {
			lg_fail(&t, "no OK for %s within %.1f s", cfg->probe_user, cfg->duration);
		}
	}
	if (res.error[0] != '\0')
		fprintf(stderr, "loadgen: %s\n", res.error);
	thread_deinit(&t);
	return code;
}
