#include "authd/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192

enum log_target_kind { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG, LOG_TARGET_FILE };

struct log_target {
	enum log_target_kind kind;
	int fd;
};

static struct {
	const char *prefix;
	bool debug;
	bool syslog_open;
	struct log_target error, info, debug_t;
} logger = {
	.prefix = "auth",
	.error = { LOG_TARGET_STDERR, 2 },
	.info = { LOG_TARGET_STDERR, 2 },
	.debug_t = { LOG_TARGET_STDERR, 2 },
};

static const struct {
	const char *name;
	int value;
} log_facilities[] = {
	{ "mail", LOG_MAIL }, { "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

void log_set_prefix(const char *prefix)
{
	logger.prefix = prefix;
}

bool log_debug_enabled(void)
{
	return logger.debug;
}

static void log_target_close(struct log_target *t)
{
	if (t->kind == LOG_TARGET_FILE && t->fd > 2) {
		/* The same fd may be shared by several targets. */
		int fd = t->fd;
		struct log_target *all[] = { &logger.error, &logger.info, &logger.debug_t };
		for (size_t i = 0; i < 3; i++)
			if (all[i]->kind == LOG_TARGET_FILE && all[i]->fd == fd)
				all[i]->fd = -1;
		close(fd);
	}
	t->kind = LOG_TARGET_STDERR;
	t->fd = 2;
}

void log_close(void)
{
	log_target_close(&logger.debug_t);
	log_target_close(&logger.info);
	log_target_close(&logger.error);
	if (logger.syslog_open)
		closelog();
	logger.syslog_open = false;
}

static int log_facility(const char *name, int *fac_r)
{
	if (name == NULL || *name == '\0') {
		*fac_r = LOG_MAIL;
		return 0;
	}
	for (size_t i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++) {
		if (strcmp(log_facilities[i].name, name) == 0) {
			*fac_r = log_facilities[i].value;
			return 0;
		}
	}
	return -1;
}

static int log_target_open(struct log_target *t, const char *path, int facility,
			   const char **error_r)
{
	static char errbuf[512];
	if (path == NULL || *path == '\0' || strcmp(path, "syslog") == 0) {
		if (!logger.syslog_open) {
			/* Dovecot's syslog ident (instance_name): fail2ban's
			 * stock dovecot filter and log tools key on it. */
			openlog("dovecot", LOG_NDELAY, facility);
			logger.syslog_open = true;
		}
		t->kind = LOG_TARGET_SYSLOG;
		t->fd = -1;
		return 0;
	}
	if (strcmp(path, "/dev/stderr") == 0) {
		t->kind = LOG_TARGET_STDERR;
		t->fd = 2;
		return 0;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(errbuf, sizeof(errbuf), "open(%s) failed: %s", path, strerror(errno));
		*error_r = errbuf;
		return -1;
	}
	t->kind = LOG_TARGET_FILE;
	t->fd = fd;
	return 0;
}

int log_open(const struct log_settings *set, const char **error_r)
{
	int facility;
	log_close();
	logger.debug = set->debug;
	if (set->to_stderr)
		return 0;
	if (log_facility(set->syslog_facility, &facility) < 0) {
		*error_r = "syslog_facility: unknown facility";
		return -1;
	}
	const char *info = set->info_log_path != NULL && *set->info_log_path != '\0' ?
			   set->info_log_path : set->log_path;
	const char *debug = set->debug_log_path != NULL && *set->debug_log_path != '\0' ?
			    set->debug_log_path : info;
	if (log_target_open(&logger.error, set->log_path, facility, error_r) < 0 ||
	    log_target_open(&logger.info, info, facility, error_r) < 0 ||
	    log_target_open(&logger.debug_t, debug, facility, error_r) < 0) {
		log_close();
		return -1;
	}
	return 0;
}

static const char *log_level_text(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG: return "Debug: ";
	case LOG_LEVEL_INFO: return "Info: ";
	case LOG_LEVEL_WARNING: return "Warning: ";
	case LOG_LEVEL_ERROR: return "Error: ";
	case LOG_LEVEL_FATAL: return "Fatal: ";
	}
	return "";
}

static int log_syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG: return LOG_DEBUG;
	case LOG_LEVEL_INFO: return LOG_INFO;
	case LOG_LEVEL_WARNING: return LOG_WARNING;
	case LOG_LEVEL_ERROR: return LOG_ERR;
	case LOG_LEVEL_FATAL: return LOG_CRIT;
	}
	return LOG_INFO;
}

/* Copies src to dst escaping control bytes; always NUL-terminates. */
static size_t log_escape(char *dst, size_t dst_size, const char *src)
{
	size_t w = 0;
	for (const unsigned char *s = (const unsigned char *)src; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f) {
			if (w + 5 >= dst_size)
				break;
			w += (size_t)snprintf(dst + w, dst_size - w, "\\x%02x", *s);
		} else {
			if (w + 2 >= dst_size)
				break;
			dst[w++] = (char)*s;
		}
	}
	dst[w] = '\0';
	return w;
}

static struct log_target *log_target_for(enum log_level level)
{
	if (level == LOG_LEVEL_DEBUG)
		return &logger.debug_t;
	if (level == LOG_LEVEL_INFO)
		return &logger.info;
	return &logger.error;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], esc[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	int saved_errno = errno;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_escape(esc, sizeof(esc), raw);

	struct log_target *t = log_target_for(level);
	if (t->kind == LOG_TARGET_SYSLOG) {
		/* As Dovecot: the priority carries "info", other levels
		 * keep their "Error: " style prefix. */
		syslog(log_syslog_priority(level), "%s: %s%s", logger.prefix,
		       level == LOG_LEVEL_INFO ? "" : log_level_text(level), esc);
	} else if (t->fd >= 0) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %d %H:%M:%S", &tm);
		int n = snprintf(line, sizeof(line), "%s %s: %s%s\n", stamp, logger.prefix,
				 log_level_text(level), esc);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
			ssize_t ignored = write(t->fd, line, len);
			(void)ignored;
		}
	}
	errno = saved_errno;
}
