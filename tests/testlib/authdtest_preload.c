/* authdtest_preload: an LD_PRELOAD library for authd's tests that records
 * which process looks up system accounts. Each getpwnam, getpwnam_r,
 * getspnam and getspnam_r call appends "<fn> pid=P ppid=Q uid=U name=N" to the
 * file named by $AUTHDTEST_NSS_LOG, then calls the next definition (libc, or
 * nss_wrapper when that is preloaded after this library). With ASan,
 * libasan must come first in LD_PRELOAD (tests/lib/wrappers.py does that).
 * Test code only. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUTHDTEST_LINE_MAX 512

static void authdtest_record(const char *fn, const char *name)
{
	const char *path = getenv("AUTHDTEST_NSS_LOG");
	if (path == NULL || *path == '\0')
		return;
	char line[AUTHDTEST_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s pid=%ld ppid=%ld uid=%ld name=%s\n", fn,
			 (long)getpid(), (long)getppid(), (long)getuid(),
			 name != NULL ? name : "(null)");
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	if (n > 0)
		(void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	close(fd);
}

static void *authdtest_next(const char *fn)
{
	return dlsym(RTLD_NEXT, fn);
}

struct passwd *getpwnam(const char *name)
{
	struct passwd *(*next)(const char *) = (struct passwd *(*)(const char *))
		authdtest_next("getpwnam");
	authdtest_record("getpwnam", name);
	return next != NULL ? next(name) : NULL;
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t size, struct passwd **res)
{
	int (*next)(const char *, struct passwd *, char *, size_t, struct passwd **) =
		(int (*)(const char *, struct passwd *, char *, size_t, struct passwd **))
		authdtest_next("getpwnam_r");
	authdtest_record("getpwnam_r", name);
	return next != NULL ? next(name, pw, buf, size, res) : -1;
}

struct spwd *getspnam(const char *name)
{
	struct spwd *(*next)(const char *) = (struct spwd *(*)(const char *))
		authdtest_next("getspnam");
	authdtest_record("getspnam", name);
	return next != NULL ? next(name) : NULL;
}

int getspnam_r(const char *name, struct spwd *sp, char *buf, size_t size, struct spwd **res)
{
	int (*next)(const char *, struct spwd *, char *, size_t, struct spwd **) =
		(int (*)(const char *, struct spwd *, char *, size_t, struct spwd **))
		authdtest_next("getspnam_r");
	authdtest_record("getspnam_r", name);
	return next != NULL ? next(name, sp, buf, size, res) : -1;
}
