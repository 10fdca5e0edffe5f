/* test_worker_spawn: the root parent's side of the auth workers
 * (authd/worker_spawn.h), with the test playing the auth process on the
 * control socket: SPAWN forks a real worker (authd/worker_process.c) whose
 * socket arrives with SPAWNED and answers a passwd-file lookup; KILL only
 * kills the spawner's own workers; the spawn limit; malformed control
 * messages (garbage, the wrong direction, an fd attached) make
 * worker_spawner_input() return -1; detaching and destroying kill and reap
 * the workers. */
#include "authd/settings.h"
#include "authd/worker_proto.h"
#include "authd/worker_spawn.h"
#include "common/buf.h"
#include "common/pool.h"
#include "passdb/passdb.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define WAIT_MS 5000

struct fixture {
	char dir[64], users[128], conf[128];
	struct auth_settings *set;
	struct worker_spawner *sp;
	int ctl;            /* the test's (auth process's) end */
	struct pool *pool;
};

static int setup(void **state)
{
	static struct fixture f;
	char text[1024];
	const char *error = NULL;
	int sv[2];
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_worker_spawn.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(f.users, sizeof(f.users), "%s/users", f.dir);
	FILE *fp = fopen(f.users, "w");
	assert_non_null(fp);
	fputs("alice:{PLAIN}alicepw:1001:1001::/home/alice\n", fp);
	fclose(fp);
	snprintf(text, sizeof(text), "auth_worker_max_count = 1\npassdb {\n  driver = passwd-file\n"
		 "  args = blocking=yes %s\n}\n", f.users);
	assert_int_equal(settings_load_buffer_flags("test", (const uint8_t *)text, strlen(text),
						    SETTINGS_LOAD_QUIET, &f.set, &error), 0);
	f.sp = worker_spawner_create("/nonexistent/authd.conf", f.set, NULL, NULL);
	assert_non_null(f.sp);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	worker_spawner_attach(f.sp, sv[0]);
	f.ctl = sv[1];
	f.pool = pool_create(0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	worker_spawner_destroy(&f->sp);
	close(f->ctl);
	settings_free(&f->set);
	pool_destroy(&f->pool);
	unlink(f->users);
	rmdir(f->dir);
	return 0;
}

static void send_msg(int fd, const struct worker_msg *msg, int pass)
{
	struct buf out = BUF_INIT(WORKER_MSG_MAX);
	const char *error = NULL;
	assert_int_equal(worker_msg_encode(msg, &out, &error), 0);
	assert_int_equal(worker_msg_send(fd, out.data, out.len, pass), 0);
	buf_free(&out);
}

/* Next control message (and its fd) within WAIT_MS. */
static struct worker_msg read_msg(struct fixture *f, int fd, int *pass_r)
{
	static uint8_t buf[WORKER_MSG_MAX + 1];
	struct worker_msg msg;
	const char *error = NULL;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	ssize_t n = worker_msg_recv(fd, buf, sizeof(buf), pass_r);
	assert_true(n > 0);
	assert_int_equal(worker_msg_decode(buf, (size_t)n, f->pool, &msg, &error), 0);
	return msg;
}

/* SPAWN -> SPAWNED: returns the pid, the worker's socket in *fd_r. */
static pid_t spawn(struct fixture *f, uint32_t seq, int *fd_r)
{
	struct worker_msg req = { .type = WORKER_MSG_SPAWN, .seq = seq, .has_seq = true };
	send_msg(f->ctl, &req, -1);
	assert_int_equal(worker_spawner_input(f->sp), 0);
	struct worker_msg r = read_msg(f, f->ctl, fd_r);
	assert_int_equal(r.type, WORKER_MSG_SPAWNED);
	assert_int_equal(r.seq, seq);
	assert_true(*fd_r >= 0);
	return (pid_t)r.pid;
}

static int reap(struct fixture *f, pid_t pid)
{
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(worker_spawner_reaped(f->sp, pid, status));
	assert_false(worker_spawner_reaped(f->sp, pid, status));
	return status;
}

static void test_spawn_and_serve(void **state)
{
	struct fixture *f = *state;
	int fd;
	pid_t pid = spawn(f, 1, &fd);
	struct worker_msg req = { .type = WORKER_MSG_PASSDB_LOOKUP, .seq = 5, .has_seq = true,
				  .db_id = 1, .has_db_id = true, .driver = "passwd-file",
				  .args = f->set->passdbs[0].args, .user = "alice" };
	send_msg(fd, &req, -1);
	struct worker_msg r = read_msg(f, fd, NULL);
	assert_int_equal(r.type, WORKER_MSG_REPLY);
	assert_int_equal(r.seq, 5);
	assert_int_equal(r.result, PASSDB_RESULT_OK);
	assert_string_equal((const char *)r.password, "{PLAIN}alicepw");
	close(fd);   /* EOF: the worker exits normally */
	int status = reap(f, pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_kill_own_workers_only(void **state)
{
	struct fixture *f = *state;
	int fd;
	pid_t pid = spawn(f, 1, &fd);
	/* a process that is not a worker */
	pid_t other = fork();
	if (other == 0) {
		pause();
		_exit(0);
	}
	struct worker_msg kill_other = { .type = WORKER_MSG_KILL, .pid = (uint32_t)other,
					 .has_pid = true };
	send_msg(f->ctl, &kill_other, -1);
	assert_int_equal(worker_spawner_input(f->sp), 0);
	struct worker_msg kill_worker = { .type = WORKER_MSG_KILL, .pid = (uint32_t)pid,
					  .has_pid = true };
	send_msg(f->ctl, &kill_worker, -1);
	assert_int_equal(worker_spawner_input(f->sp), 0);
	int status = reap(f, pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(waitpid(other, &status, WNOHANG), 0);   /* still running */
	kill(other, SIGKILL);
	waitpid(other, &status, 0);
	close(fd);
}

static void test_spawn_limit(void **state)
{
	struct fixture *f = *state;
	size_t limit = 1 * WORKER_SPAWN_LIMIT_FACTOR + WORKER_SPAWN_LIMIT_SLACK;
	pid_t pids[16];
	int fds[16];
	assert_true(limit < 16);
	for (size_t i = 0; i < limit; i++)
		pids[i] = spawn(f, (uint32_t)i + 1, &fds[i]);
	struct worker_msg req = { .type = WORKER_MSG_SPAWN, .seq = 99, .has_seq = true };
	send_msg(f->ctl, &req, -1);
	assert_int_equal(worker_spawner_input(f->sp), 0);
	struct worker_msg r = read_msg(f, f->ctl, NULL);
	assert_int_equal(r.type, WORKER_MSG_SPAWN_FAILED);
	assert_int_equal(r.seq, 99);
	assert_int_equal(r.result, EAGAIN);
	/* the auth process goes away: its workers are killed */
	worker_spawner_detach(f->sp);
	for (size_t i = 0; i < limit; i++) {
		int status = reap(f, pids[i]);
		assert_true(WIFSIGNALED(status) || WIFEXITED(status));
		close(fds[i]);
	}
	assert_int_equal(worker_spawner_fd(f->sp), -1);
}

static void test_malformed_control(void **state)
{
	struct fixture *f = *state;
	int pass[2];
	static const uint8_t garbage[] = "GARBAGE";
	assert_int_equal(worker_msg_send(f->ctl, garbage, sizeof(garbage), -1), 0);
	assert_int_equal(worker_spawner_input(f->sp), -1);
	struct worker_msg wrong = { .type = WORKER_MSG_SPAWNED, .seq = 1, .has_seq = true,
				    .pid = 1, .has_pid = true };
	send_msg(f->ctl, &wrong, -1);
	assert_int_equal(worker_spawner_input(f->sp), -1);
	assert_int_equal(pipe(pass), 0);
	struct worker_msg spawn_fd = { .type = WORKER_MSG_SPAWN, .seq = 1, .has_seq = true };
	send_msg(f->ctl, &spawn_fd, pass[1]);
	close(pass[1]);
	assert_int_equal(worker_spawner_input(f->sp), -1);
	char c;
	assert_int_equal(read(pass[0], &c, 1), 0);   /* the passed fd was closed */
	close(pass[0]);
	/* nothing pending: fine */
	assert_int_equal(worker_spawner_input(f->sp), 0);
}

static void test_destroy_reaps(void **state)
{
	struct fixture *f = *state;
	int fd1, fd2, status;
	pid_t p1 = spawn(f, 1, &fd1), p2 = spawn(f, 2, &fd2);
	worker_spawner_destroy(&f->sp);
	assert_int_equal(waitpid(p1, &status, WNOHANG), -1);   /* already reaped */
	assert_int_equal(waitpid(p2, &status, WNOHANG), -1);
	close(fd1);
	close(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spawn_and_serve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_own_workers_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_reaps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
