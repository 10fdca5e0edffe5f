/* authctl_common: helpers the authctl commands share (authctl.h). */
#include "client/authctl.h"

#include "common/pool.h"
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int authctl_cmd_usage(const struct authctl_command *cmd)
{
	fprintf(stderr, "authctl %s %s\n", cmd->name, cmd->usage);
	return AUTHCTL_EX_USAGE;
}

const char *authctl_socket_path(struct authctl_ctx *ctx, const char *name)
{
	if (name[0] == '/')
		return name;
	return pool_printf(ctx->pool, "%s/%s", ctx->base_dir, name);
}

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

bool authctl_wildcard_match(const char *data, size_t len, const char *mask)
{
	size_t mlen = strlen(mask), d = 0, m = 0;
	size_t star_m = SIZE_MAX, star_d = 0;

	/* Greedy match with backtracking to the last '*': O(len * mlen). */
	while (d < len) {
		if (m < mlen && mask[m] == '*') {
			star_m = m++;
			star_d = d;
		} else if (m < mlen && (mask[m] == '?' ||
					ascii_lower((unsigned char)mask[m]) ==
					ascii_lower((unsigned char)data[d]))) {
			m++;
			d++;
		} else if (star_m != SIZE_MAX) {
			m = star_m + 1;
			d = ++star_d;
		} else {
			return false;
		}
	}
	while (m < mlen && mask[m] == '*')
		m++;
	return m == mlen;
}

bool authctl_name_unsendable(const char *s)
{
	return strpbrk(s, "\t\r\n") != NULL;
}

void authctl_print_kv(const char *field, size_t len)
{
	const char *eq = memchr(field, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - field) : len;

	fputs("  ", stdout);
	fwrite(field, 1, klen, stdout);
	for (size_t i = klen; i < AUTHCTL_KEY_WIDTH; i++)
		putchar(' ');
	if (eq != NULL) {
		fputs(": ", stdout);
		fwrite(eq + 1, 1, len - klen - 1, stdout);
	}
	putchar('\n');
}

/* Reads bytes up to CR/LF/EOF into buf. Returns the length or -1. */
static int read_line_fd(int fd, char *buf, size_t size, const char **error_r)
{
	size_t len = 0;
	char ch;

	for (;;) {
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || ch == '\n' || ch == '\r')
			break;
		if (len + 1 >= size) {
			secret_wipe(buf, size);
			secret_wipe(&ch, sizeof(ch));
			*error_r = "password too long";
			return -1;
		}
		buf[len++] = ch;
	}
	secret_wipe(&ch, sizeof(ch));
	buf[len] = '\0';
	return (int)len;
}

int authctl_askpass(const char *prompt, char *buf, size_t size, const char **error_r)
{
	struct termios old_tio, tio;
	bool restore = false;

	if (!isatty(STDIN_FILENO))
		return read_line_fd(STDIN_FILENO, buf, size, error_r);

	fputs(prompt, stderr);
	fflush(stderr);
	int fd = open("/dev/tty", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = "open(/dev/tty) failed";
		return -1;
	}
	if (tcgetattr(fd, &old_tio) == 0) {
		restore = true;
		tio = old_tio;
		tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		(void)tcsetattr(fd, TCSAFLUSH, &tio);
	}
	int ret = read_line_fd(fd, buf, size, error_r);
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old_tio);
	fputs("\n", stderr);
	fflush(stderr);
	close(fd);
	return ret;
}
