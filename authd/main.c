/* authd: a standalone SASL authentication daemon speaking Dovecot's auth
 * protocol. main() parses the command line, loads the config and hands
 * over to the daemon. */
#include "authd/daemon.h"
#include "authd/log.h"
#include "authd/settings.h"
#include "common/scheme.h"
#include "passdb/db_checkpassword.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUTHD_DEFAULT_CONFIG "/etc/authd/authd.conf"
#define AUTHD_VERSION "0.1"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: authd [-F] [-c CONFIG] [-t | -n | -a]\n"
		"  -c CONFIG  config file (Dovecot 2.3 syntax; default " AUTHD_DEFAULT_CONFIG ")\n"
		"  -F         stay in the foreground and log to stderr\n"
		"  -t         check the config and exit\n"
		"  -n         print the settings that differ from the defaults\n"
		"  -a         print all settings\n"
		"  --version  print the version\n");
}

int main(int argc, char **argv)
{
	const char *config = AUTHD_DEFAULT_CONFIG;
	bool foreground = false, check = false, dump = false, dump_all = false;
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	/* The success command authd gives checkpassword programs
	 * (passdb/db_checkpassword.h); run by them, not by operators. */
	if (argc == 2 && strcmp(argv[1], DB_CHECKPASSWORD_REPLY_ARG) == 0)
		return db_checkpassword_reply_main();
	while ((c = getopt_long(argc, argv, "c:Ftnah", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'F': foreground = true; break;
		case 't': check = true; break;
		case 'n': dump = true; break;
		case 'a': dump = dump_all = true; break;
		case 'V': printf("authd %s\n", AUTHD_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 64;
	}
	log_set_prefix("authd");
	struct auth_settings *set = NULL;
	const char *error = NULL;
	if (settings_load(config, &set, &error) < 0) {
		log_fatal("%s", error);
		return 89;
	}
	if (check) {
		settings_free(&set);
		return 0;
	}
	if (dump) {
		int ret = settings_dump(set, dump_all, STDOUT_FILENO) < 0 ? 1 : 0;
		settings_free(&set);
		return ret;
	}
	struct log_settings ls = {
		.log_path = set->log_path,
		.info_log_path = set->info_log_path,
		.debug_log_path = set->debug_log_path,
		.syslog_facility = set->syslog_facility,
		.to_stderr = foreground && (set->log_path == NULL || *set->log_path == '\0' ||
					    strcmp(set->log_path, "syslog") == 0),
		.debug = set->auth_debug,
	};
	if (log_open(&ls, &error) < 0) {
		log_fatal("log_path: %s", error);
		settings_free(&set);
		return 89;
	}
	if (scheme_init() < 0) {
		log_fatal("Password scheme initialisation failed");
		settings_free(&set);
		return 89;
	}
	return daemon_run(config, set, foreground);
}
