/* usersgen: writes the benchmark's passwd-file.
 *
 * usersgen OUT PREFIX:SCHEME:COUNT [PREFIX:SCHEME:COUNT ...]
 *
 * For each group, COUNT users PREFIX0 .. PREFIX<COUNT-1> with the password
 * "pw<i>" stored in SCHEME (any scheme authd and Dovecot both know, through
 * authd's own generator, the code behind `authctl pw`), uid/gid 10000+i and
 * home /home/PREFIX<i>:
 *   alice7:{SHA512-CRYPT}$6$...:10007:10007::/home/alice7::
 * Expensive schemes are generated on one thread per CPU. The file is
 * written to OUT.tmp and renamed, so a server never reads half of it. */
#include "common/buf.h"
#include "common/scheme.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UG_MAX_THREADS 16
#define UG_LINE_MAX 1024u
#define UG_UID_BASE 10000u

struct ug_group {
	char prefix[64], scheme[48];
	unsigned int count;
};

struct ug_job {
	const struct ug_group *g;
	unsigned int first, last;
	struct buf out;
	int failed;
	pthread_t tid;
};

static void *ug_thread(void *p)
{
	struct ug_job *j = p;
	char name[128], pw[32];
	const char *error;
	for (unsigned int i = j->first; i < j->last && !j->failed; i++) {
		struct buf stored = BUF_INIT(UG_LINE_MAX);
		snprintf(name, sizeof(name), "%s%u", j->g->prefix, i);
		int n = snprintf(pw, sizeof(pw), "pw%u", i);
		if (scheme_generate(j->g->scheme, (const uint8_t *)pw, (size_t)n, name, 0, &stored,
				    &error) != 1 ||
		    buf_printf(&j->out, "%s:%s:%u:%u::/home/%s::\n", name, buf_cstr(&stored),
			       UG_UID_BASE + i, UG_UID_BASE + i, name) < 0) {
			fprintf(stderr, "usersgen: %s %s: %s\n", j->g->scheme, name, error);
			j->failed = 1;
		}
		buf_free(&stored);
	}
	return NULL;
}

static int ug_group_write(FILE *f, const struct ug_group *g)
{
	struct ug_job jobs[UG_MAX_THREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = cpus < 1 ? 1u : cpus > UG_MAX_THREADS ? UG_MAX_THREADS : (unsigned int)cpus;
	int failed = 0;
	if (n > g->count)
		n = g->count > 0 ? g->count : 1;
	for (unsigned int t = 0; t < n; t++) {
		jobs[t] = (struct ug_job){ .g = g, .first = (unsigned int)((uint64_t)g->count * t / n),
					   .last = (unsigned int)((uint64_t)g->count * (t + 1) / n),
					   .out = BUF_INIT(1u << 30) };
		pthread_create(&jobs[t].tid, NULL, ug_thread, &jobs[t]);
	}
	for (unsigned int t = 0; t < n; t++) {
		pthread_join(jobs[t].tid, NULL);
		failed |= jobs[t].failed;
		if (!failed && jobs[t].out.len > 0 &&
		    fwrite(jobs[t].out.data, 1, jobs[t].out.len, f) != jobs[t].out.len)
			failed = 1;
		buf_free(&jobs[t].out);
	}
	return failed ? -1 : 0;
}

static int ug_parse(const char *arg, struct ug_group *g)
{
	char *end;
	const char *c1 = strchr(arg, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || (size_t)(c1 - arg) >= sizeof(g->prefix) ||
	    (size_t)(c2 - c1 - 1) >= sizeof(g->scheme))
		return -1;
	memcpy(g->prefix, arg, (size_t)(c1 - arg));
	g->prefix[c1 - arg] = '\0';
	memcpy(g->scheme, c1 + 1, (size_t)(c2 - c1 - 1));
	g->scheme[c2 - c1 - 1] = '\0';
	g->count = (unsigned int)strtoul(c2 + 1, &end, 10);
	return *end == '\0' ? 0 : -1;
}

int main(int argc, char **argv)
{
	char tmp[4096];
	if (argc < 3) {
		fprintf(stderr, "usage: usersgen OUT PREFIX:SCHEME:COUNT...\n");
		return 1;
	}
	if (scheme_init() < 0 || snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >= (int)sizeof(tmp))
		return 1;
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		perror(tmp);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		struct ug_group g;
		if (ug_parse(argv[i], &g) < 0 || ug_group_write(f, &g) < 0) {
			fprintf(stderr, "usersgen: bad group or generation failure: %s\n", argv[i]);
			fclose(f);
			return 1;
		}
	}
	if (fclose(f) != 0 || rename(tmp, argv[1]) < 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
