/* loadgen: command line, threads, the latency histogram and the JSON
 * report (see loadgen.h).
 *
 * loadgen -s SOCKET [-k auth|user|echo-auth|echo-user] [-m MECH]
 *         [-u USER_PREFIX] [-p PASS_PREFIX] [-f FIRST] [-n USERS]
 *         [-c CONNS] [-d DEPTH] [-t THREADS] [-w WARMUP_S] [-T SECONDS]
 *         [-W WRONG_PCT] [-S SERVICE] [-F]
 *         [--idle N [--hold S]] [--probe USER PASS]
 * -F sends final-resp-ok. Exit: 0 ok, 1 usage, 2 run aborted (a wrong
 * reply, a protocol error, a connection lost). */
#include "tests/bench/loadgen.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

struct lg_thread_arg {
	const struct lg_cfg *cfg;
	unsigned int conns, no;
	uint64_t start_ns;
	struct lg_result res;
	pthread_t tid;
};

/* ---- histogram -------------------------------------------------------- */

static unsigned int hist_bucket(uint64_t ns)
{
	if (ns < LG_HIST_SUB)
		return (unsigned int)ns;
	unsigned int msb = 63u - (unsigned int)__builtin_clzll(ns);
	unsigned int sub = (unsigned int)(ns >> (msb - 4u)) & (LG_HIST_SUB - 1u);
	unsigned int b = (msb - 3u) * LG_HIST_SUB + sub;
	return b < LG_HIST_BUCKETS ? b : LG_HIST_BUCKETS - 1u;
}

static uint64_t hist_upper(unsigned int b)
{
	if (b < LG_HIST_SUB)
		return b;
	unsigned int msb = b / LG_HIST_SUB + 3u, sub = b % LG_HIST_SUB;
	return ((uint64_t)(LG_HIST_SUB + sub + 1u)) << (msb - 4u);
}

void lg_hist_add(struct lg_hist *h, uint64_t ns)
{
	h->count[hist_bucket(ns)]++;
	h->n++;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void lg_hist_merge(struct lg_hist *into, const struct lg_hist *from)
{
	for (unsigned int i = 0; i < LG_HIST_BUCKETS; i++)
		into->count[i] += from->count[i];
	into->n += from->n;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
}

uint64_t lg_hist_quantile(const struct lg_hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;
	for (unsigned int i = 0; i < LG_HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen > want) {
			uint64_t up = hist_upper(i);
			return up < h->max_ns ? up : h->max_ns;
		}
	}
	return h->max_ns;
}

/* ---- options ---------------------------------------------------------- */

static const struct {
	const char *name;
	enum lg_mech mech;
} mechs[] = {
	{ "PLAIN", LG_MECH_PLAIN }, { "LOGIN", LG_MECH_LOGIN },
	{ "CRAM-MD5", LG_MECH_CRAM_MD5 }, { "DIGEST-MD5", LG_MECH_DIGEST_MD5 },
	{ "SCRAM-SHA-256", LG_MECH_SCRAM_SHA_256 },
};

static int parse_kind(const char *s, enum lg_kind *kind_r)
{
	static const char *const names[] = { "auth", "user", "echo-auth", "echo-user" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*kind_r = (enum lg_kind)i;
			return 0;
		}
	}
	return -1;
}

static int parse_mech(const char *s, struct lg_cfg *cfg)
{
	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++) {
		if (strcasecmp(s, mechs[i].name) == 0) {
			cfg->mech = mechs[i].mech;
			cfg->mech_name = mechs[i].name;
			return 0;
		}
	}
	return -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: loadgen -s SOCKET [-k auth|user|echo-auth|echo-user] [-m MECH]\n"
		"  [-u USER_PREFIX] [-p PASS_PREFIX] [-f FIRST] [-n USERS] [-c CONNS] [-d DEPTH]\n"
		"  [-t THREADS] [-w WARMUP_S] [-T SECONDS] [-W WRONG_PCT] [-S SERVICE] [-F]\n"
		"  [-R RIPS (Postfix-style: nologin, lip, rip= one of RIPS, penalty on)]\n"
		"  [--idle N [--hold S]] [--probe USER PASS]\n");
	return 1;
}

static int parse_opt(int c, struct lg_cfg *cfg)
{
	switch (c) {
	case 's': cfg->path = optarg; return 0;
	case 'k': return parse_kind(optarg, &cfg->kind);
	case 'm': return parse_mech(optarg, cfg);
	case 'u': cfg->user_prefix = optarg; return 0;
	case 'p': cfg->pass_prefix = optarg; return 0;
	case 'f': cfg->first_user = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	case 'n': cfg->users = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	case 'c': cfg->conns = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	case 'd': cfg->depth = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	case 't': cfg->threads = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	case 'w': cfg->warmup = strtod(optarg, NULL); return 0;
	case 'T': cfg->duration = strtod(optarg, NULL); return 0;
	case 'W': cfg->wrong_pct = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	case 'S': cfg->service = optarg; return 0;
	case 'F': cfg->final_resp_ok = true; return 0;
	case 'I': cfg->idle = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	case 'H': cfg->hold = strtod(optarg, NULL); return 0;
	case 'P': cfg->probe_user = optarg; return 0;
	case 'R': cfg->postfix_rips = (unsigned int)strtoul(optarg, NULL, 10); return 0;
	default: return -1;
	}
}

static int parse_args(int argc, char **argv, struct lg_cfg *cfg)
{
	static const struct option longopts[] = {
		{ "idle", required_argument, NULL, 'I' },
		{ "hold", required_argument, NULL, 'H' },
		{ "probe", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "s:k:m:u:p:f:n:c:d:t:w:T:W:S:FR:", longopts, NULL)) != -1) {
		if (parse_opt(c, cfg) < 0)
			return -1;
	}
	if (cfg->probe_user != NULL) {
		if (optind >= argc)
			return -1;
		cfg->probe_pass = argv[optind++];
		cfg->depth = 1;
	}
	if (optind != argc || cfg->path == NULL || cfg->users == 0 || cfg->conns == 0 ||
	    cfg->depth == 0 || cfg->depth > LG_MAX_DEPTH || cfg->threads == 0 ||
	    cfg->threads > LG_MAX_THREADS || cfg->wrong_pct > 100)
		return -1;
	if (cfg->threads > cfg->conns)
		cfg->threads = cfg->conns;
	return 0;
}

/* ---- run and report --------------------------------------------------- */

static void *thread_main(void *p)
{
	struct lg_thread_arg *a = p;
	lg_run_thread(a->cfg, a->conns, a->no, a->start_ns, &a->res);
	return NULL;
}

static void report(const struct lg_cfg *cfg, struct lg_thread_arg *args)
{
	struct lg_hist *h = calloc(1, sizeof(*h));
	uint64_t done = 0, ok = 0, fail = 0, unfinished = 0;
	if (h == NULL)
		return;
	for (unsigned int i = 0; i < cfg->threads; i++) {
		lg_hist_merge(h, &args[i].res.hist);
		done += args[i].res.done;
		ok += args[i].res.ok;
		fail += args[i].res.fail;
		unfinished += args[i].res.unfinished;
	}
	printf("{\"requests\": %llu, \"ok\": %llu, \"fail\": %llu, \"seconds\": %.3f, "
	       "\"rps\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"max_us\": %.1f, "
	       "\"unfinished\": %llu, \"conns\": %u, \"depth\": %u}\n",
	       (unsigned long long)done, (unsigned long long)ok, (unsigned long long)fail,
	       cfg->duration, (double)done / cfg->duration, lg_hist_quantile(h, 0.5) / 1e3,
	       lg_hist_quantile(h, 0.99) / 1e3, h->max_ns / 1e3, (unsigned long long)unfinished,
	       cfg->conns, cfg->depth);
	free(h);
}

static int run_load(const struct lg_cfg *cfg)
{
	struct lg_thread_arg *args = calloc(cfg->threads, sizeof(*args));
	uint64_t start = lg_now_ns();
	int code = 0;
	if (args == NULL)
		return 2;
	for (unsigned int i = 0; i < cfg->threads; i++) {
		args[i] = (struct lg_thread_arg){
			.cfg = cfg, .no = i, .start_ns = start,
			.conns = cfg->conns / cfg->threads + (i < cfg->conns % cfg->threads ? 1u : 0u),
		};
		pthread_create(&args[i].tid, NULL, thread_main, &args[i]);
	}
	for (unsigned int i = 0; i < cfg->threads; i++)
		pthread_join(args[i].tid, NULL);
	for (unsigned int i = 0; i < cfg->threads; i++) {
		if (args[i].res.error[0] != '\0') {
			fprintf(stderr, "loadgen: %s\n", args[i].res.error);
			code = 2;
		}
	}
	if (code == 0)
		report(cfg, args);
	free(args);
	return code;
}

/* Room for many connections: raise the soft fd limit to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct lg_cfg cfg = {
		.kind = LG_KIND_AUTH, .mech = LG_MECH_PLAIN, .mech_name = "PLAIN",
		.service = "smtp", .user_prefix = "user", .pass_prefix = "pw",
		.users = 1000, .conns = 1, .depth = 1, .threads = 1,
		.warmup = 0.5, .duration = 3.0, .hold = 3600.0,
	};
	if (parse_args(argc, argv, &cfg) < 0)
		return usage();
	raise_fd_limit();
	if (cfg.idle > 0)
		return lg_run_idle(&cfg);
	if (cfg.probe_user != NULL)
		return lg_run_probe(&cfg);
	return run_load(&cfg);
}
