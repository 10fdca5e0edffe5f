/* db_vpopmail_write: the two writes userdb vpopmail can be asked to do,
 * both off by default (spec 7 and 9.3): <home>/lastauth after a login, and
 * creating a missing home directory.
 *
 * They run in the auth process, on the event loop, as a handful of
 * syscalls on local files (open/write/fchown/rename, mkdir/fchownat);
 * that costs about what the vpasswd stat() of the same lookup costs, so no
 * worker is involved. Permissions: the auth process (service auth { user })
 * must be able to write in the user's directory (lastauth) or the domain
 * directory (home creation). vpopmail creates those 0700/0750 and owned by
 * vpopmail:vchkpw, so in practice the auth process runs as the vpopmail
 * user; files then already have the assign uid/gid and no chown is needed.
 * When the owner differs, fchown is tried and needs root (or CAP_CHOWN):
 * its failure is the write's failure. */
#include "passdb/db_vpopmail.h"
#include "common/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LASTAUTH_NAME "lastauth"
#define LASTAUTH_MAX 256u
#define HOME_MODE 0700
#define LASTAUTH_MODE 0600

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Gives fd the owner uid:gid unless it has it already. Returns 0 or -1. */
static int fd_own(int fd, uint32_t uid, uint32_t gid)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_uid == (uid_t)uid && st.st_gid == (gid_t)gid)
		return 0;
	return fchown(fd, (uid_t)uid, (gid_t)gid);
}

static int lastauth_tmp(const char *tmp)
{
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd = open(tmp, flags, LASTAUTH_MODE);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)   /* left by a crash */
		fd = open(tmp, flags, LASTAUTH_MODE);
	return fd;
}

int vpopmail_write_lastauth(const struct vpopmail_user *u, const char *content,
			    struct pool *pool, const char **error_r)
{
	size_t dlen = strlen(u->dir), clen = strnlen(content, LASTAUTH_MAX);
	if (dlen > 1 && u->dir[dlen - 1] == '/')
		dlen--;
	const char *path = pool_printf(pool, "%.*s/%s", (int)dlen, u->dir, LASTAUTH_NAME);
	const char *tmp = pool_printf(pool, "%.*s/.%s.tmp.%ld", (int)dlen, u->dir, LASTAUTH_NAME,
				      (long)getpid());
	int fd = lastauth_tmp(tmp);
	if (fd < 0) {
		*error_r = pool_printf(pool, "open(%s) failed: %s", tmp, strerror(errno));
		return -1;
	}
	const char *step = NULL;
	if (write_all(fd, content, clen) < 0)
		step = "write";
	else if (fd_own(fd, u->uid, u->gid) < 0)
		step = "fchown";
	int err = errno;
	if (close(fd) < 0 && step == NULL) {
		step = "close";
		err = errno;
	}
	if (step == NULL && rename(tmp, path) < 0) {
		step = "rename";
		err = errno;
	}
	if (step == NULL)
		return 0;
	(void)unlink(tmp);
	*error_r = pool_printf(pool, "%s(%s) failed: %s", step, step[0] == 'r' ? path : tmp,
			       strerror(err));
	return -1;
}

/* mkdir path owned by uid:gid; an existing directory (not a symlink) is
 * accepted as it is. Returns 0, or -1 with *error_r. */
static int mkdir_owned(const char *path, uint32_t uid, uint32_t gid, struct pool *pool,
		       const char **error_r)
{
	struct stat st;
	if (mkdir(path, HOME_MODE) < 0) {
		if (errno == EEXIST && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		*error_r = pool_printf(pool, "mkdir(%s) failed: %s", path,
				       errno == EEXIST ? "exists and is not a directory" :
				       strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 ||
	    ((st.st_uid != (uid_t)uid || st.st_gid != (gid_t)gid) &&
	     fchownat(AT_FDCWD, path, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)) {
		*error_r = pool_printf(pool, "chown(%s, %u, %u) failed: %s", path, uid, gid,
				       strerror(errno));
		return -1;
	}
	return 0;
}

int vpopmail_create_home(const struct vpopmail_args *args, struct vpopmail_user *u,
			 struct pool *pool, const char **error_r)
{
	static const char *const subdirs[] = { "", "/Maildir", "/Maildir/cur", "/Maildir/new",
					       "/Maildir/tmp" };
	if (strlen(u->user) < 2) {
		*error_r = "not creating a home for a one-character user name (it would be "
			   "a vpopmail hash directory)";
		return -1;
	}
	const char *home = pool_printf(pool, "%s/%s", u->domain_dir, u->user);
	if (!vpopmail_path_under(args->vpopmail_dir, (const uint8_t *)home, strlen(home))) {
		*error_r = pool_printf(pool, "not creating %s: not a clean path under %s", home,
				       args->vpopmail_dir);
		return -1;
	}
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		const char *path = pool_printf(pool, "%s%s", home, subdirs[i]);
		if (mkdir_owned(path, u->uid, u->gid, pool, error_r) < 0)
			return -1;
	}
	u->dir = home;
	return 0;
}
