/* db_checkpassword: runs a checkpassword program in an auth worker (see
 * db_checkpassword.h). */
#include "passdb/db_checkpassword.h"
#include "authd/log.h"
#include "authd/request.h"
#include "authd/worker_process.h"
#include "common/buf.h"
#include "common/pool.h"
#include "common/secret.h"
#include "common/tabescape.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHKPW_ENV_MAX 160u
#define CHKPW_FIELDS_MAX 256u
#define CHKPW_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CHKPW_FD_MOVE_MIN 10        /* pipe ends are moved here before dup2 */
#define CHKPW_WAIT_STEP_MAX_NS (10L * 1000 * 1000)

struct chkpw_env {
	struct pool *pool;
	char *vars[CHKPW_ENV_MAX + 1];
	size_t count;
};

/* Variables checkpassword-reply or the program read; extra fields may not
 * replace them. */
static const char *const chkpw_reserved[] = {
	"PROTO", "ORIG_UID", "SERVICE", "TCPLOCALIP", "LOCAL_IP", "TCPREMOTEIP", "REMOTE_IP",
	"TCPLOCALPORT", "TCPREMOTEPORT", "MASTER_USER", "DEBUG", "AUTHORIZED",
	"CREDENTIALS_LOOKUP", "SCHEME", "PATH", "TZ", "IFS", "INSECURE_SETUID",
};
/* Inherited from our environment when set. */
static const char *const chkpw_inherit[] = {
	"TZ", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
};

static uint64_t chkpw_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- environment --- */

static void chkpw_env_put(struct chkpw_env *env, const char *key, const char *value)
{
	size_t klen = strlen(key);
	char *var = pool_printf(env->pool, "%s=%s", key, value);
	for (size_t i = 0; i < env->count; i++) {
		if (strncmp(env->vars[i], key, klen) == 0 && env->vars[i][klen] == '=') {
			env->vars[i] = var;
			return;
		}
	}
	if (env->count < CHKPW_ENV_MAX)
		env->vars[env->count++] = var;
}

/* An extra field as an environment variable: KEY upper-cased; only plain
 * names, nothing the loader or we interpret. Returns NULL to skip. */
static const char *chkpw_env_key(struct pool *pool, const char *key)
{
	size_t n = strlen(key);
	if (n == 0 || n > 64 || isdigit((unsigned char)key[0]) || strncasecmp(key, "LD_", 3) == 0)
		return NULL;
	char *up = pool_strdup(pool, key);
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)up[i]) && up[i] != '_')
			return NULL;
		up[i] = (char)toupper((unsigned char)up[i]);
	}
	for (size_t i = 0; i < sizeof(chkpw_reserved) / sizeof(chkpw_reserved[0]); i++)
		if (strcmp(chkpw_reserved[i], up) == 0)
			return NULL;
	return up;
}

static void chkpw_env_request(struct chkpw_env *env, struct auth_request *req)
{
	char num[32];
	snprintf(num, sizeof(num), "%lu", (unsigned long)getuid());
	chkpw_env_put(env, "PROTO", "TCP");
	chkpw_env_put(env, "ORIG_UID", num);
	chkpw_env_put(env, "SERVICE", req->service != NULL ? req->service : "");
	if (req->lip != NULL) {
		chkpw_env_put(env, "TCPLOCALIP", req->lip);
		chkpw_env_put(env, "LOCAL_IP", req->lip);
	}
	if (req->rip != NULL) {
		chkpw_env_put(env, "TCPREMOTEIP", req->rip);
		chkpw_env_put(env, "REMOTE_IP", req->rip);
	}
	if (req->lport != NULL && strcmp(req->lport, "0") != 0)
		chkpw_env_put(env, "TCPLOCALPORT", req->lport);
	if (req->rport != NULL && strcmp(req->rport, "0") != 0)
		chkpw_env_put(env, "TCPREMOTEPORT", req->rport);
	if (req->master_user != NULL)
		chkpw_env_put(env, "MASTER_USER", req->master_user);
	if (req->debug)
		chkpw_env_put(env, "DEBUG", "1");
}

static void chkpw_env_build(struct chkpw_env *env, struct auth_request *req, bool authenticate)
{
	env->pool = req->pool;
	env->count = 0;
	/* Extra fields (maybe from a master passdb) first: ours win. */
	for (size_t i = 0; i < req->extra.count; i++) {
		const char *key = chkpw_env_key(req->pool, req->extra.items[i].key);
		const char *value = req->extra.items[i].value;
		if (key != NULL)
			chkpw_env_put(env, key, value != NULL ? value : "1");
	}
	const char *path = getenv("PATH");
	chkpw_env_put(env, "PATH", path != NULL ? path : CHKPW_DEFAULT_PATH);
	for (size_t i = 0; i < sizeof(chkpw_inherit) / sizeof(chkpw_inherit[0]); i++) {
		const char *v = getenv(chkpw_inherit[i]);
		if (v != NULL)
			chkpw_env_put(env, chkpw_inherit[i], v);
	}
	chkpw_env_request(env, req);
	if (!authenticate) {
		chkpw_env_put(env, "AUTHORIZED", "1");
		if (req->wanted_scheme != NULL) {
			chkpw_env_put(env, "CREDENTIALS_LOOKUP", "1");
			chkpw_env_put(env, "SCHEME", req->wanted_scheme);
		}
	}
	env->vars[env->count] = NULL;
}

/* --- command line and input --- */

/* authd's own path, for the success command. */
static const char *chkpw_self_path(void)
{
	static char path[PATH_MAX];
	if (path[0] == '\0') {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n <= 0)
			return NULL;
		path[n] = '\0';
	}
	return path;
}

/* argv = the command split at spaces, each word %-expanded on its own (a
 * value with spaces stays one argument; Dovecot splits after expanding),
 * + the success command. Returns 0 or -1 (logged). */
static int chkpw_argv(struct auth_request *req, const char *command, const char *db_name,
		      char **argv)
{
	const char *self = chkpw_self_path();
	if (self == NULL) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "readlink(/proc/self/exe) failed: %s",
				 strerror(errno));
		return -1;
	}
	size_t n = 0;
	for (const char *p = command; *p != '\0';) {
		size_t len = strcspn(p, " ");
		if (len > 0 && n + 3 < DB_CHECKPASSWORD_ARGV_MAX) {
			const char *word = pool_strndup(req->pool, p, len);
			const char *arg = auth_request_expand(req, db_name, word);
			if (arg == NULL)
				return -1;
			argv[n++] = (char *)arg;
		}
		p += len + (p[len] == ' ');
	}
	if (n == 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "checkpassword program not set");
		return -1;
	}
	argv[n++] = pool_strdup(req->pool, self);
	argv[n++] = pool_strdup(req->pool, DB_CHECKPASSWORD_REPLY_ARG);
	argv[n] = NULL;
	return 0;
}

/* "user\0password\0timestamp\0" with an empty timestamp. Returns 1, or 0
 * when it can't be sent (too long, NUL in the password: a mismatch). */
static int chkpw_input(struct auth_request *req, bool authenticate, struct buf *in)
{
	const uint8_t *pw = authenticate ? req->mreq.password : NULL;
	size_t pwlen = pw != NULL ? req->mreq.password_len : 0;
	if (pw != NULL && memchr(pw, '\0', pwlen) != NULL)
		return 0;
	if (buf_append_str(in, req->user) < 0 || buf_append_byte(in, 0) < 0 ||
	    (pwlen > 0 && buf_append(in, pw, pwlen) < 0) || buf_append_byte(in, 0) < 0 ||
	    buf_append_byte(in, 0) < 0)
		return 0;
	return 1;
}

/* --- the child --- */

static void chkpw_child(int in_fd, int out_fd, char **argv, char **envp, pid_t worker)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != worker)
		_exit(111);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	int a = fcntl(in_fd, F_DUPFD, CHKPW_FD_MOVE_MIN);
	int b = fcntl(out_fd, F_DUPFD, CHKPW_FD_MOVE_MIN);
	if (a < 0 || b < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0)
		_exit(111);
	close_range(5, ~0U, 0);
	execve(argv[0], argv, envp);
	log_error("checkpassword: execve(%s) failed: %s", argv[0], strerror(errno));
	_exit(111);
}

/* --- talking to and waiting for the child --- */

/* Sends the input, reads fd 4 to EOF. Returns 0, or -1 with *error_r. */
static int chkpw_io(int in_w, int out_r, const struct buf *in, struct buf *out,
		    uint64_t deadline, const char **error_r)
{
	/* At most 512 bytes into an empty pipe: never blocks. A program that
	 * does not read fd 3 gets EPIPE here, which is its business. */
	ssize_t w = write(in_w, in->data, in->len);
	int werr = errno;
	close(in_w);
	if (w < 0 && werr != EPIPE) {
		*error_r = "write() to the program failed";
		return -1;
	}
	uint8_t chunk[4096];
	for (;;) {
		uint64_t now = chkpw_clock_ms();
		if (now >= deadline) {
			*error_r = "timed out";
			return -1;
		}
		struct pollfd pfd = { .fd = out_r, .events = POLLIN };
		int ret = poll(&pfd, 1, (int)(deadline - now > INT_MAX ? INT_MAX : deadline - now));
		if (ret < 0 && errno != EINTR) {
			*error_r = "poll() failed";
			return -1;
		}
		if (ret <= 0)
			continue;
		ssize_t n = read(out_r, chunk, sizeof(chunk));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN) {
			*error_r = "read() failed";
			return -1;
		}
		if (n > 0 && buf_append(out, chunk, (size_t)n) < 0) {
			*error_r = "too much output";
			return -1;
		}
	}
}

/* Reaps pid before deadline, else SIGKILLs its group and reaps it.
 * Returns 0 with *status_r, or -1 when it had to be killed. */
static int chkpw_wait(pid_t pid, uint64_t deadline, int *status_r)
{
	long step = 1000L * 1000;
	for (;;) {
		pid_t r = waitpid(pid, status_r, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (chkpw_clock_ms() >= deadline)
			break;
		struct timespec ts = { 0, step };
		nanosleep(&ts, NULL);
		if (step < CHKPW_WAIT_STEP_MAX_NS)
			step *= 2;
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, status_r, 0) < 0 && errno == EINTR)
		;
	return -1;
}

/* --- results --- */

static enum db_checkpassword_status chkpw_status(struct auth_request *req, const char *db_name,
						 pid_t pid, int status, bool authenticate,
						 bool have_output)
{
	if (WIFSIGNALED(status)) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "Child %ld died of signal %d",
				 (long)pid, WTERMSIG(status));
		return DB_CHECKPASSWORD_INTERNAL_FAILURE;
	}
	int code = WEXITSTATUS(status);
	int ok_code = authenticate ? 0 : 2;
	if (code == ok_code && have_output)
		return DB_CHECKPASSWORD_OK;
	if (code == ok_code) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "Received no input");
		return DB_CHECKPASSWORD_INTERNAL_FAILURE;
	}
	if (!authenticate && code == 3) {
		auth_request_log(req, LOG_LEVEL_INFO, db_name, "User unknown");
		return DB_CHECKPASSWORD_USER_UNKNOWN;
	}
	if (authenticate && code == 1) {
		auth_request_log(req, LOG_LEVEL_INFO, db_name, "Login failed (status=%d)", code);
		return DB_CHECKPASSWORD_FAILURE;
	}
	if (authenticate && code == 2)
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "Child %ld exited with status 2 "
				 "(tried to use userdb-only checkpassword program for "
				 "authentication?)", (long)pid);
	else
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "Child %ld exited with status %d",
				 (long)pid, code);
	return DB_CHECKPASSWORD_INTERNAL_FAILURE;
}

/* "key=value\tkey2\t..." (tab-escaped) into reply fields. */
static void chkpw_parse(struct auth_request *req, struct buf *out,
			struct db_checkpassword_reply *reply)
{
	reply->fields = pool_alloc(req->pool, CHKPW_FIELDS_MAX * sizeof(*reply->fields));
	reply->count = 0;
	uint8_t *p = out->data, *end = out->data + out->len;
	while (p < end && reply->count < CHKPW_FIELDS_MAX) {
		uint8_t *tab = memchr(p, '\t', (size_t)(end - p));
		size_t len = tab != NULL ? (size_t)(tab - p) : (size_t)(end - p);
		len = tab_unescape_inplace(p, len);
		uint8_t *eq = memchr(p, '=', len);
		if (len > 0 && eq != p && memchr(p, '\0', len) == NULL) {
			struct db_checkpassword_field *f = &reply->fields[reply->count++];
			f->key = pool_strndup(req->pool, p, eq != NULL ? (size_t)(eq - p) : len);
			f->value = eq != NULL ? pool_strndup(req->pool, eq + 1,
							     len - (size_t)(eq - p) - 1) : NULL;
		}
		p = tab != NULL ? tab + 1 : end;
	}
}

static uint64_t chkpw_deadline(void)
{
	uint64_t left = worker_process_time_left_ms();
	if (left == WORKER_PROCESS_NO_DEADLINE)
		left = DB_CHECKPASSWORD_TIMEOUT_MS;
	return chkpw_clock_ms() + left;
}

/* Forks and runs the program; fills out. Returns 0 with *status_r, or -1
 * (logged) when it could not run or had to be killed. */
static int chkpw_exec(struct auth_request *req, const char *db_name, char **argv,
		      char **envp, const struct buf *in, struct buf *out, int *status_r)
{
	int inp[2], outp[2];
	if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "pipe() failed: %s", strerror(errno));
		return -1;
	}
	pid_t worker = getpid();
	pid_t pid = fork();
	if (pid == 0)
		chkpw_child(inp[0], outp[1], argv, envp, worker);
	close(inp[0]);
	close(outp[1]);
	if (pid < 0) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "fork() failed: %s", strerror(errno));
		close(inp[1]);
		close(outp[0]);
		return -1;
	}
	setpgid(pid, pid);
	uint64_t deadline = chkpw_deadline();
	const char *error = NULL;
	int ret = chkpw_io(inp[1], outp[0], in, out, deadline, &error);
	close(outp[0]);
	if (ret < 0)
		deadline = 0;   /* kill it now */
	if (chkpw_wait(pid, deadline, status_r) < 0 && error == NULL)
		error = "timed out";
	if (error != NULL) {
		auth_request_log(req, LOG_LEVEL_ERROR, db_name, "Child %ld: %s; killed",
				 (long)pid, error);
		return -1;
	}
	auth_request_log(req, LOG_LEVEL_DEBUG, db_name, "Child %ld ended", (long)pid);
	return (int)pid;
}

enum db_checkpassword_status
db_checkpassword_run(const char *command, struct auth_request *req, bool authenticate,
		     const char *db_name, struct db_checkpassword_reply *reply_r)
{
	char *argv[DB_CHECKPASSWORD_ARGV_MAX + 1];
	struct chkpw_env env;
	struct buf in = BUF_INIT(DB_CHECKPASSWORD_INPUT_MAX);
	struct buf out = BUF_INIT(DB_CHECKPASSWORD_OUTPUT_MAX);
	enum db_checkpassword_status st = DB_CHECKPASSWORD_INTERNAL_FAILURE;
	int status = 0;
	*reply_r = (struct db_checkpassword_reply){ 0 };
	if (chkpw_input(req, authenticate, &in) == 0) {
		auth_request_log(req, LOG_LEVEL_INFO, db_name,
				 "Username+password too long or with NUL for checkpassword");
		st = DB_CHECKPASSWORD_FAILURE;
	} else if (chkpw_argv(req, command, db_name, argv) == 0) {
		chkpw_env_build(&env, req, authenticate);
		auth_request_log(req, LOG_LEVEL_DEBUG, db_name, "execute: %s", argv[0]);
		int pid = chkpw_exec(req, db_name, argv, env.vars, &in, &out, &status);
		if (pid > 0)
			st = chkpw_status(req, db_name, pid, status, authenticate, out.len > 0);
		if (st == DB_CHECKPASSWORD_OK)
			chkpw_parse(req, &out, reply_r);
	}
	buf_free(&in);    /* wipes the password */
	buf_free(&out);
	return st;
}
