/* authctl_auth: `authctl auth test` and `authctl auth lookup`, doveadm's
 * commands of the same names (doveadm-auth.c in Dovecot 2.3.19). */
#include "client/authctl.h"

#include "client/authc.h"
#include "common/buf.h"
#include "common/secret.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fatal(const char *msg)
{
	fprintf(stderr, "Fatal: %s\n", msg);
	return AUTHCTL_EX_TEMPFAIL;
}

/* The request could not complete (connection lost, bad reply, timeout):
 * lib-auth fails the request with "temp" and doveadm then gives up. */
static int auth_temp_failure(const char *user, const char *path, const char *error)
{
	printf("passdb: %s auth failed\nextra fields:\n  temp\n", user);
	fflush(stdout);
	fprintf(stderr, "Error: auth-client: conn unix:%s: %s\n", path, error);
	return fatal("Couldn't connect to auth socket");
}

static void print_extra_fields(const struct authc_reply *reply)
{
	if (reply->field_count == 0)
		return;
	fputs("extra fields:\n", stdout);
	for (size_t i = 0; i < reply->field_count; i++) {
		fputs("  ", stdout);
		fwrite(reply->fields[i].s, 1, reply->fields[i].len, stdout);
		putchar('\n');
	}
}

struct auth_test {
	struct authctl_ctx *ctx;
	struct authctl_info info;
	const char *path;
	const char *user;
	const char *master_user;
	const uint8_t *password;
	size_t password_len;
};

/* Sends AUTH PLAIN (authzid = user, authcid = master user or user) and
 * prints the outcome. */
static int auth_test_request(struct auth_test *t, struct authc_conn *conn)
{
	struct buf msg = BUF_INIT(AUTHC_CLIENT_REQUEST_MAX);
	struct authc_reply reply;
	const char *error;
	uint32_t id;

	if (authc_plain_message(&msg, t->user, t->master_user != NULL ? t->master_user :
				t->user, t->password, t->password_len) < 0) {
		buf_free(&msg);
		return auth_temp_failure(t->user, t->path, "request too long");
	}
	struct authc_auth_request req = {
		.mech = "PLAIN",
		.service = t->info.service,
		.params = authctl_info_params(&t->info, t->ctx->pool, AUTHCTL_PARAMS_AUTH),
		.has_initial_response = true,
		.initial_response = msg.data,
		.initial_response_len = msg.len,
	};
	authc_conn_set_timeout(conn, t->ctx->lookup_timeout_msecs);
	int r = authc_auth_send(conn, &req, &id, &error);
	buf_free(&msg);
	if (r < 0 || authc_wait_reply(conn, id, &reply, &error) < 0)
		return auth_temp_failure(t->user, t->path, error);

	switch (reply.type) {
	case AUTHC_REPLY_OK:
		printf("passdb: %s auth succeeded\n", t->user);
		print_extra_fields(&reply);
		return AUTHCTL_EX_OK;
	case AUTHC_REPLY_FAIL:
		printf("passdb: %s auth failed\n", t->user);
		print_extra_fields(&reply);
		return AUTHCTL_EX_NOPERM;
	case AUTHC_REPLY_CONT:
		return fatal("passdb expects SASL continuation");
	default:
		return auth_temp_failure(t->user, t->path,
					 "Auth server sent unknown response");
	}
}

static int auth_test_connect(struct auth_test *t)
{
	const char *error;
	int code;

	struct authc_conn *conn = authc_conn_create(t->path, AUTHC_KIND_CLIENT,
						    t->ctx->handshake_timeout_msecs);
	if (conn == NULL)
		return fatal("out of memory");
	if (authc_connect(conn, &error) < 0) {
		/* doveadm 2.3.19 logs this and reports a failed auth (77) */
		fprintf(stderr, "Error: auth-client: conn unix:%s: %s\n", t->path, error);
		code = AUTHCTL_EX_NOPERM;
	} else if (authc_handshake_wait(conn, &error) < 0) {
		fprintf(stderr, "Error: auth-client: conn unix:%s: %s\n", t->path, error);
		code = fatal("Couldn't connect to auth socket");
	} else {
		code = auth_test_request(t, conn);
	}
	authc_conn_destroy(&conn);
	return code;
}

static int auth_test_run(struct authctl_ctx *ctx, const struct authctl_command *cmd,
			 int argc, char **argv)
{
	struct auth_test t = { .ctx = ctx };
	char password[AUTHCTL_PASSWORD_MAX + 1];
	const char *socket_path = NULL, *error;
	int c;

	authctl_info_init(&t.info, ctx);
	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "+a:x:M:")) != -1) {
		switch (c) {
		case 'a': socket_path = optarg; break;
		case 'M': t.master_user = optarg; break;
		case 'x':
			if (authctl_info_parse(&t.info, ctx->pool, optarg, &error) < 0)
				return fatal(error);
			break;
		default:
			return authctl_cmd_usage(cmd);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		return authctl_cmd_usage(cmd);
	t.user = argv[0];
	t.path = socket_path != NULL ? socket_path :
		authctl_socket_path(ctx, AUTHCTL_CLIENT_SOCKET);

	int len;
	if (argc == 2) {
		size_t n = strlen(argv[1]);
		if (n > AUTHCTL_PASSWORD_MAX)
			return fatal("password too long");
		memcpy(password, argv[1], n + 1);
		secret_wipe(argv[1], n);   /* keep it out of ps(1) from now on */
		len = (int)n;
	} else if ((len = authctl_askpass("Password: ", password, sizeof(password),
					  &error)) < 0) {
		return fatal(error);
	}
	t.password = (const uint8_t *)password;
	t.password_len = (size_t)len;
	int code = auth_test_connect(&t);
	secret_wipe(password, sizeof(password));
	return code;
}

const struct authctl_command authctl_cmd_auth_test = {
	.name = "auth test",
	.usage = "[-a <auth socket path>] [-x <auth info>] [-M <master user>] "
		 "<user> [<password>]",
	.run = auth_test_run,
};

static int auth_lookup_run(struct authctl_ctx *ctx, const struct authctl_command *cmd,
			   int argc, char **argv)
{
	struct authctl_info info;
	struct authctl_master m;
	const char *socket_path = NULL, *show_field = NULL, *error;
	int c, code = AUTHCTL_EX_OK;

	authctl_info_init(&info, ctx);
	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "+a:x:f:")) != -1) {
		switch (c) {
		case 'a': socket_path = optarg; break;
		case 'f': show_field = optarg; break;
		case 'x':
			if (authctl_info_parse(&info, ctx->pool, optarg, &error) < 0)
				return fatal(error);
			break;
		default:
			return authctl_cmd_usage(cmd);
		}
	}
	if (optind >= argc)
		return authctl_cmd_usage(cmd);
	authctl_master_init(&m, ctx, socket_path != NULL ? socket_path :
			    authctl_socket_path(ctx, AUTHCTL_USERDB_SOCKET));
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			putchar('\n');
		switch (authctl_lookup_print(&m, false, argv[i], &info, show_field)) {
		case -1: code = AUTHCTL_EX_TEMPFAIL; break;
		case 0: code = AUTHCTL_EX_NOUSER; break;
		default: break;
		}
	}
	authctl_master_deinit(&m);
	return code;
}

const struct authctl_command authctl_cmd_auth_lookup = {
	.name = "auth lookup",
	.usage = "[-a <userdb socket path>] [-x <auth info>] [-f field] "
		 "<user> [<user> [...]]",
	.run = auth_lookup_run,
};
