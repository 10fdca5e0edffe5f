/* authctl: the operator's tool for authd (and Dovecot's auth service).
 *
 * main(): global options, the command table and the usage text. The
 * commands themselves are in authctl_<family>.c (see authctl.h). */
#include "client/authctl.h"

#include "authd/log.h"
#include "authd/settings.h"
#include "common/pool.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern const struct authctl_command authctl_cmd_cache_flush;   /* authctl_cache.c */

/* Every command, in the order the usage text lists them. */
static const struct authctl_command *const commands[] = {
	&authctl_cmd_auth_lookup,
	&authctl_cmd_auth_test,
	&authctl_cmd_cache_flush,
	&authctl_cmd_pw,
	&authctl_cmd_user,
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const char usage_notes[] =
	"\n"
	"Global options:\n"
	"  -c <config>  read base_dir (and auth_debug) from this authd/Dovecot config\n"
	"\n"
	"Sockets: `auth test` uses <base_dir>/" AUTHCTL_CLIENT_SOCKET ", `auth lookup` and\n"
	"`user` use <base_dir>/" AUTHCTL_USERDB_SOCKET " (an auth-master socket works too);\n"
	"-a <path> overrides. Without -c, base_dir is " AUTHCTL_DEFAULT_BASE_DIR "\n"
	"(authd's default and Debian's doveadm's; /var/run/dovecot is the same place).\n"
	"\n"
	"-x <auth info> (repeatable): service=, session=, local_name=, lip=, rip=,\n"
	"lport=, rport=, real_lip=, real_rip=, real_lport=, real_rport=, forward_<key>=,\n"
	"anything else is passed on as is. The service defaults to doveadm.\n"
	"Without <password>, `auth test` asks for it on the terminal (or reads one\n"
	"line of stdin when that is not a terminal).\n"
	"\n"
	"Output and exit codes are those of doveadm: 0 ok, 64 usage, 67 unknown user,\n"
	"75 temporary failure, 77 authentication failed, 78 bad config. `user` without\n"
	"-u shows uid, gid, home and mail from the userdb reply only (authctl has no\n"
	"mail_location or first_valid_uid settings); a mask with * or ? lists users.\n"
	"\n"
	"`pw` needs no server and behaves as `doveadm pw` (default scheme CRYPT, i.e.\n"
	"bcrypt cost 5; exit 75 on errors); authd's additions: -l --all also lists\n"
	"YESCRYPT and SCRAM-SHA-512, --json prints one JSON object.\n";

static void usage(FILE *out)
{
	fputs("usage: authctl [-c <config>] <command> [<args>]\n\n", out);
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->usage);
	fputs(usage_notes, out);
}

/* "authctl auth" (or an unknown auth subcommand): the family's list. */
static int family_usage(const char *family)
{
	size_t flen = strlen(family);
	fprintf(stderr, "usage: authctl [-c <config>] %s <command> [<args>]\n", family);
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		const char *name = commands[i]->name;
		if (strncmp(name, family, flen) == 0 && name[flen] == ' ')
			fprintf(stderr, "  %-12s %s\n", name + flen + 1, commands[i]->usage);
	}
	return AUTHCTL_EX_USAGE;
}

/* How many argv words name cmd (1 or 2), or 0 if it does not match. */
static int command_match(const struct authctl_command *cmd, int argc, char **argv)
{
	const char *sp = strchr(cmd->name, ' ');
	if (sp == NULL)
		return strcmp(argv[0], cmd->name) == 0 ? 1 : 0;
	size_t flen = (size_t)(sp - cmd->name);
	if (strlen(argv[0]) != flen || strncmp(argv[0], cmd->name, flen) != 0)
		return 0;
	return argc >= 2 && strcmp(argv[1], sp + 1) == 0 ? 2 : -1;
}

static int dispatch(struct authctl_ctx *ctx, int argc, char **argv)
{
	bool family = false;

	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		int words = command_match(commands[i], argc, argv);
		if (words < 0)
			family = true;
		if (words > 0)
			return commands[i]->run(ctx, commands[i], argc - (words - 1),
						argv + (words - 1));
	}
	if (family)
		return family_usage(argv[0]);
	usage(stderr);
	return AUTHCTL_EX_USAGE;
}

/* -c CONFIG: base_dir and auth_debug from the config. */
static int load_config(struct authctl_ctx *ctx, const char *path)
{
	struct auth_settings *set;
	const char *error;

	if (settings_load(path, &set, &error) < 0) {
		fprintf(stderr, "Fatal: %s\n", error);
		return -1;
	}
	ctx->base_dir = pool_strdup(ctx->pool, set->base_dir);
	ctx->debug = set->auth_debug;
	settings_free(&set);
	return 0;
}

int main(int argc, char **argv)
{
	struct authctl_ctx ctx = {
		.base_dir = AUTHCTL_DEFAULT_BASE_DIR,
		.handshake_timeout_msecs = AUTHC_HANDSHAKE_TIMEOUT_MSECS,
		.lookup_timeout_msecs = AUTHC_LOOKUP_TIMEOUT_MSECS,
	};
	const char *config = NULL;
	int c;

	log_set_prefix("authctl");
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return AUTHCTL_EX_OK;
	}
	opterr = 0;
	while ((c = getopt(argc, argv, "+c:")) != -1) {
		if (c != 'c') {
			usage(stderr);
			return AUTHCTL_EX_USAGE;
		}
		config = optarg;
	}
	argc -= optind;
	argv += optind;
	if (argc >= 1 && strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return AUTHCTL_EX_OK;
	}
	if (argc < 1) {
		usage(stderr);
		return AUTHCTL_EX_USAGE;
	}
	ctx.pool = pool_create(0);
	int code = AUTHCTL_EX_CONFIG;
	if (config == NULL || load_config(&ctx, config) == 0)
		code = dispatch(&ctx, argc, argv);
	fflush(stdout);
	pool_destroy(&ctx.pool);
	return code;
}
