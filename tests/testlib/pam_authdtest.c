/* pam_authdtest: a PAM module for authd's tests (loaded through pam_wrapper
 * in tests/peers/test_pam.py). It decides nothing by itself (PAM_IGNORE)
 * unless told to, and records every call, so a test can see which process
 * ran PAM and which items it set:
 *
 *   log=PATH             append "<fn> pid=P ppid=Q uid=I user=U rhost=R tty=T
 *                        ruser=V service=S" per call (one write)
 *   sleep_user=NAME      pam_sm_authenticate sleeps sleep=SECONDS (default
 *                        30) for this user, then fails
 *   unavail_user=NAME    pam_sm_authenticate returns PAM_AUTHINFO_UNAVAIL
 *   expired_user=NAME    pam_sm_acct_mgmt returns PAM_NEW_AUTHTOK_REQD
 *   error_msg=TEXT       pam_sm_authenticate sends TEXT as a PAM_ERROR_MSG
 *                        (underscores become spaces)
 *
 * Test code only: never install it. */
#include <security/pam_modules.h>
#include <security/pam_appl.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AUTHDTEST_LINE_MAX 1024
#define AUTHDTEST_DEFAULT_SLEEP 30

struct authdtest_opts {
	const char *log, *sleep_user, *unavail_user, *expired_user;
	char error_msg[256];
	int sleep_secs;
};

static void authdtest_parse(int argc, const char **argv, struct authdtest_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sleep_secs = AUTHDTEST_DEFAULT_SLEEP;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "log=", 4) == 0)
			o->log = a + 4;
		else if (strncmp(a, "sleep_user=", 11) == 0)
			o->sleep_user = a + 11;
		else if (strncmp(a, "sleep=", 6) == 0)
			o->sleep_secs = atoi(a + 6);
		else if (strncmp(a, "unavail_user=", 13) == 0)
			o->unavail_user = a + 13;
		else if (strncmp(a, "expired_user=", 13) == 0)
			o->expired_user = a + 13;
		else if (strncmp(a, "error_msg=", 10) == 0) {
			snprintf(o->error_msg, sizeof(o->error_msg), "%s", a + 10);
			for (char *p = o->error_msg; *p != '\0'; p++)
				if (*p == '_')
					*p = ' ';
		}
	}
}

static const char *authdtest_item(pam_handle_t *pamh, int type)
{
	const void *item = NULL;
	if (pam_get_item(pamh, type, &item) != PAM_SUCCESS || item == NULL)
		return "-";
	return item;
}

static void authdtest_log(pam_handle_t *pamh, const struct authdtest_opts *o, const char *fn)
{
	if (o->log == NULL)
		return;
	char line[AUTHDTEST_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s pid=%ld ppid=%ld uid=%ld user=%s rhost=%s tty=%s "
			 "ruser=%s service=%s\n", fn, (long)getpid(), (long)getppid(), (long)getuid(),
			 authdtest_item(pamh, PAM_USER), authdtest_item(pamh, PAM_RHOST),
			 authdtest_item(pamh, PAM_TTY), authdtest_item(pamh, PAM_RUSER),
			 authdtest_item(pamh, PAM_SERVICE));
	int fd = open(o->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (n > 0)
		(void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	close(fd);
}

static int authdtest_is(pam_handle_t *pamh, const char *name)
{
	const char *user = authdtest_item(pamh, PAM_USER);
	return name != NULL && strcmp(user, name) == 0;
}

static void authdtest_error_msg(pam_handle_t *pamh, const struct authdtest_opts *o)
{
	const void *item = NULL;
	if (o->error_msg[0] == '\0' || pam_get_item(pamh, PAM_CONV, &item) != PAM_SUCCESS ||
	    item == NULL)
		return;
	const struct pam_conv *conv = item;
	struct pam_message msg = { .msg_style = PAM_ERROR_MSG, .msg = o->error_msg };
	const struct pam_message *msgs[1] = { &msg };
	struct pam_response *resp = NULL;
	if (conv->conv(1, msgs, &resp, conv->appdata_ptr) == PAM_SUCCESS && resp != NULL) {
		free(resp[0].resp);
		free(resp);
	}
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv);
PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct authdtest_opts o;
	(void)flags;
	authdtest_parse(argc, argv, &o);
	authdtest_log(pamh, &o, "authenticate");
	if (authdtest_is(pamh, o.sleep_user)) {
		struct timespec ts = { o.sleep_secs, 0 };
		while (nanosleep(&ts, &ts) != 0)
			;
		return PAM_AUTH_ERR;
	}
	if (authdtest_is(pamh, o.unavail_user))
		return PAM_AUTHINFO_UNAVAIL;
	authdtest_error_msg(pamh, &o);
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv);
PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct authdtest_opts o;
	(void)flags;
	authdtest_parse(argc, argv, &o);
	authdtest_log(pamh, &o, "acct_mgmt");
	return authdtest_is(pamh, o.expired_user) ? PAM_NEW_AUTHTOK_REQD : PAM_IGNORE;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv);
PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct authdtest_opts o;
	(void)flags;
	authdtest_parse(argc, argv, &o);
	authdtest_log(pamh, &o, "setcred");
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv);
PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct authdtest_opts o;
	(void)flags;
	authdtest_parse(argc, argv, &o);
	authdtest_log(pamh, &o, "open_session");
	return PAM_IGNORE;
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv);
PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct authdtest_opts o;
	(void)flags;
	authdtest_parse(argc, argv, &o);
	authdtest_log(pamh, &o, "close_session");
	return PAM_IGNORE;
}
