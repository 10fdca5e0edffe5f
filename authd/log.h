/* log: one line per event, Dovecot's wording and prefixes.
 *
 * Lines look like "auth: Info: passwd-file(alice,192.0.2.1): unknown user"
 * so fail2ban's stock dovecot filter matches them. Control characters in
 * the formatted line are escaped (\xNN) so a peer cannot forge lines.
 * Until log_open() is called everything goes to stderr. Never blocks for
 * long: files are opened O_APPEND and written with one write(2). */
#ifndef AUTHD_LOG_H
#define AUTHD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
};

struct log_settings {
	const char *log_path;        /* "" or "syslog" = syslog; "/dev/stderr" ok */
	const char *info_log_path;   /* "" = same as log_path */
	const char *debug_log_path;  /* "" = same as info_log_path */
	const char *syslog_facility; /* "mail" by default */
	bool to_stderr;              /* -F: everything to stderr */
	bool debug;                  /* auth_debug: emit debug lines */
};

/* Sets the process name used as prefix ("auth", "authd", "authctl"). */
void log_set_prefix(const char *prefix);
/* Opens the targets. Returns 0, or -1 with *error_r set (static text or
 * a string valid until the next call). */
int log_open(const struct log_settings *set, const char **error_r);
void log_close(void);
bool log_debug_enabled(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_debug_enabled()) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_fatal(...) log_msg(LOG_LEVEL_FATAL, __VA_ARGS__)

#endif
