/* db_checkpassword_reply: `authd --checkpassword-reply`, the success
 * command authd gives checkpassword programs (Dovecot's
 * checkpassword-reply). It runs after a successful check, possibly as the
 * user, and writes to fd 4 (see db_checkpassword.h):
 *   user=$USER  userdb_home=$HOME  <lower-case name>=$NAME for each NAME in
 *   $EXTRA  userdb_uid=<uid>  userdb_gid=<gid>   (tab-separated, escaped)
 * Exit: 0 authenticated, 2 lookup answered (AUTHORIZED=2), 111 error.
 *
 * Security (as Dovecot): if the program changed the uid, other processes of
 * that uid could ptrace this one and forge the reply; so when ORIG_UID is
 * set and differs from our uid we refuse unless INSECURE_SETUID is set. */
#include "passdb/db_checkpassword.h"
#include "authd/log.h"
#include "common/buf.h"
#include "common/tabescape.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHKPW_REPLY_FD 4
#define CHKPW_REPLY_ERROR 111
#define CHKPW_REPLY_EXTRA_MAX 64

static int chkpw_reply_field(struct buf *out, const char *key, const char *value)
{
	if (tab_escape_str(out, key) < 0 || buf_append_byte(out, '=') < 0 ||
	    tab_escape_str(out, value) < 0 || buf_append_byte(out, '\t') < 0)
		return -1;
	return 0;
}

/* EXTRA="name1 name2": each set variable as a lower-case key. Notes
 * whether userdb_uid / userdb_gid came this way. */
static int chkpw_reply_extra(struct buf *out, bool *uid_r, bool *gid_r)
{
	const char *extra = getenv("EXTRA");
	char name[128];
	int count = 0;
	for (const char *p = extra != NULL ? extra : ""; *p != '\0' && count < CHKPW_REPLY_EXTRA_MAX;) {
		p += strspn(p, " ");
		size_t n = strcspn(p, " ");
		if (n == 0 || n >= sizeof(name)) {
			p += n;
			continue;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		count++;
		const char *value = getenv(name);
		if (value == NULL)
			continue;
		for (size_t i = 0; i < n; i++)
			name[i] = (char)tolower((unsigned char)name[i]);
		*uid_r |= strcmp(name, "userdb_uid") == 0;
		*gid_r |= strcmp(name, "userdb_gid") == 0;
		if (chkpw_reply_field(out, name, value) < 0)
			return -1;
	}
	return 0;
}

static bool chkpw_reply_uid_safe(void)
{
	const char *orig = getenv("ORIG_UID");
	if (orig == NULL || getenv("INSECURE_SETUID") != NULL)
		return true;
	char *end;
	errno = 0;
	unsigned long uid = strtoul(orig, &end, 10);
	if (errno != 0 || *end != '\0' || end == orig)
		return true;   /* as Dovecot: unparsable = not set */
	return (uid_t)uid == getuid();
}

static int chkpw_reply_build(struct buf *out)
{
	const char *user = getenv("USER");
	const char *home = getenv("HOME");
	bool uid_found = false, gid_found = false;
	char num[32];
	if (user != NULL && chkpw_reply_field(out, "user", user) < 0)
		return -1;
	if (home != NULL && chkpw_reply_field(out, "userdb_home", home) < 0)
		return -1;
	if (chkpw_reply_extra(out, &uid_found, &gid_found) < 0)
		return -1;
	snprintf(num, sizeof(num), "%lu", (unsigned long)getuid());
	if (!uid_found && chkpw_reply_field(out, "userdb_uid", num) < 0)
		return -1;
	snprintf(num, sizeof(num), "%lu", (unsigned long)getgid());
	if (!gid_found && chkpw_reply_field(out, "userdb_gid", num) < 0)
		return -1;
	return 0;
}

static int chkpw_reply_write(const struct buf *out)
{
	size_t off = 0;
	while (off < out->len) {
		ssize_t n = write(CHKPW_REPLY_FD, out->data + off, out->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int db_checkpassword_reply_main(void)
{
	log_set_prefix("checkpassword-reply");
	if (!chkpw_reply_uid_safe()) {
		log_error("checkpassword: ORIG_UID environment was dropped by checkpassword. "
			  "Can't verify that we're safe to run (set INSECURE_SETUID=1 to allow)");
		return CHKPW_REPLY_ERROR;
	}
	struct buf out = BUF_INIT(DB_CHECKPASSWORD_OUTPUT_MAX);
	int ret = chkpw_reply_build(&out);
	if (ret == 0 && (ret = chkpw_reply_write(&out)) < 0)
		log_error("checkpassword: write() to fd 4 failed: %s", strerror(errno));
	else if (ret < 0)
		log_error("checkpassword: reply too long");
	buf_free(&out);
	if (ret < 0)
		return CHKPW_REPLY_ERROR;
	const char *authorized = getenv("AUTHORIZED");
	if (authorized == NULL)
		return 0;
	if (strcmp(authorized, "2") == 0)
		return 2;
	log_error("checkpassword: Script doesn't support passdb/userdb lookup");
	return CHKPW_REPLY_ERROR;
}
