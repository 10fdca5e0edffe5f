/* authctl_user: `authctl user`, doveadm's `user` command.
 *
 * Three modes, as in doveadm-auth.c cmd_user():
 *   - a mask with '*' or '?': LIST on the userdb socket, filtered here with
 *     wildcard matching (the server may ignore the mask);
 *   - -u: the raw userdb reply per name ("userdb: NAME" and key: value);
 *   - default: what doveadm's mail storage service shows, a "field\tvalue"
 *     table with uid, gid, home and mail first. authctl has no mail
 *     settings, so these come from the userdb reply alone (doveadm falls
 *     back to mail_uid/mail_gid/mail_home/mail_location of its config and
 *     refuses uids outside first_valid_uid..last_valid_uid).
 * doveadm writes that table through its own output stream, which is
 * flushed at the end, while the blank separator lines and "doesn't exist"
 * texts go through stdio: on a pipe the table therefore comes first, on a
 * terminal last. The same order is reproduced here. */
#include "client/authctl.h"

#include "client/authc.h"
#include "common/buf.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct user_cmd {
	struct authctl_ctx *ctx;
	struct authctl_info info;
	struct authctl_master master;
	const char *show_field;
	bool userdb_only;
	struct buf table;       /* doveadm_print output */
	struct buf text;        /* stdio output of the default mode */
	int code;
};

static int fatal(const char *msg)
{
	fprintf(stderr, "Fatal: %s\n", msg);
	return AUTHCTL_EX_TEMPFAIL;
}

static bool bytes_eq(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	return alen == blen && memcmp(a, b, alen) == 0;
}

static bool has_wildcards(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strpbrk(argv[i], "*?") != NULL)
			return true;
	}
	return false;
}

/* ---- LIST ---------------------------------------------------------------- */

static bool list_matches(const struct authc_str *name, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (authctl_wildcard_match(name->s, name->len, argv[i]))
			return true;
	}
	return false;
}

/* Reads LIST lines until DONE. Returns 0, or -1 with *error_r. */
static int list_read(struct authc_conn *conn, uint32_t id, int argc, char **argv,
		     const char **error_r)
{
	struct authc_reply reply;

	for (;;) {
		if (authc_wait_reply(conn, id, &reply, error_r) < 0)
			return -1;
		if (reply.type == AUTHC_REPLY_LIST && reply.field_count >= 1) {
			if (list_matches(&reply.fields[0], argc, argv)) {
				fwrite(reply.fields[0].s, 1, reply.fields[0].len, stdout);
				putchar('\n');
			}
		} else if (reply.type == AUTHC_REPLY_DONE) {
			if (reply.field_count >= 1 &&
			    bytes_eq(reply.fields[0].s, reply.fields[0].len, "fail")) {
				*error_r = "User listing returned failure";
				return -1;
			}
			return 0;
		} else {
			*error_r = "User listing returned invalid input";
			return -1;
		}
	}
}

static int user_list(struct user_cmd *u, int argc, char **argv)
{
	const char *mask = argc == 1 ? argv[0] : "*";
	const char *const *params = authctl_info_params(&u->info, u->ctx->pool,
							AUTHCTL_PARAMS_MASTER);
	const char *error = "";
	uint32_t id;

	struct authc_conn *conn = authctl_master_conn(&u->master, &error);
	int r = conn == NULL ? -1 :
		authc_master_send(conn, AUTHC_MASTER_LIST, mask, u->info.service,
				  params, &id, &error);
	if (r >= 0)
		r = list_read(conn, id, argc, argv, &error);
	fflush(stdout);
	if (r < 0) {
		fprintf(stderr, "Error: auth-master: userdb list: %s\n", error);
		return fatal("user listing failed");
	}
	return AUTHCTL_EX_OK;
}

/* ---- default (mail storage service) mode ------------------------------- */

static void out_field(struct user_cmd *u, const char *key, size_t klen,
		      const char *value, size_t vlen)
{
	struct buf *b = u->show_field == NULL ? &u->table : &u->text;

	if (u->show_field == NULL) {
		(void)buf_append(b, key, klen);
		(void)buf_append_byte(b, '\t');
	} else if (!bytes_eq(key, klen, u->show_field)) {
		return;
	}
	(void)buf_append(b, value, vlen);
	(void)buf_append_byte(b, '\n');
}

/* The value of the last "key=..." userdb field, or "". */
static struct authc_str field_value(const struct authctl_lookup *res, const char *key)
{
	struct authc_str v = { "", 0 };
	for (size_t i = 0; i < res->field_count; i++)
		(void)authc_field_find(&res->fields[i], 1, key, &v);
	return v;
}

static void out_fields(struct user_cmd *u, const char *user,
		       const struct authctl_lookup *res)
{
	static const char *const fixed[] = { "uid", "gid", "home", "mail" };

	if (!bytes_eq(res->username.s, res->username.len, user))
		out_field(u, "user", 4, res->username.s, res->username.len);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct authc_str v = field_value(res, fixed[i]);
		out_field(u, fixed[i], strlen(fixed[i]), v.s, v.len);
	}
	for (size_t i = 0; i < res->field_count; i++) {
		const struct authc_str *f = &res->fields[i];
		const char *eq = memchr(f->s, '=', f->len);
		size_t klen = eq != NULL ? (size_t)(eq - f->s) : f->len;
		bool is_fixed = false;
		for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
			is_fixed = is_fixed || bytes_eq(f->s, klen, fixed[k]);
		if (!is_fixed)
			out_field(u, f->s, klen, eq != NULL ? eq + 1 : "",
				  eq != NULL ? f->len - klen - 1 : 0);
	}
}

static int user_storage_one(struct user_cmd *u, const char *user)
{
	const char *const *params = authctl_info_params(&u->info, u->ctx->pool,
							AUTHCTL_PARAMS_STORAGE);
	struct authctl_lookup res;
	const char *error = "";

	int ret = authctl_master_lookup(&u->master, AUTHC_MASTER_USER, user,
					u->info.service, params, &res, &error);
	if (ret < 0) {
		authctl_lookup_print_error("userdb lookup", user, &res, error);
		if (res.fail_reason.s != NULL)
			fprintf(stderr, "Error: userdb lookup(%s): %.*s\n", user,
				(int)res.fail_reason.len, res.fail_reason.s);
		if (u->master.failed)
			authctl_master_reset(&u->master);
	} else if (ret == 0) {
		if (u->show_field == NULL)
			(void)buf_printf(&u->text, "\nuserdb lookup: user %s doesn't exist\n",
					 user);
		else
			fprintf(stderr, "\nuserdb lookup: user %s doesn't exist\n", user);
	} else {
		out_fields(u, user, &res);
	}
	return ret;
}

static void write_all(const struct buf *b)
{
	fflush(stdout);
	if (b->len > 0)
		(void)fwrite(b->data, 1, b->len, stdout);
	fflush(stdout);
}

static void user_storage_output(struct user_cmd *u)
{
	if (u->show_field == NULL) {
		struct buf full = BUF_INIT(0);
		(void)buf_append_str(&full, "field\tvalue\n");
		(void)buf_append(&full, u->table.data, u->table.len);
		buf_free(&u->table);
		u->table = full;
	}
	if (isatty(STDOUT_FILENO)) {
		write_all(&u->text);
		write_all(&u->table);
	} else {
		write_all(&u->table);
		write_all(&u->text);
	}
}

/* ---- the command ---------------------------------------------------------- */

static void note_result(struct user_cmd *u, int ret)
{
	if (ret < 0)
		u->code = AUTHCTL_EX_TEMPFAIL;
	else if (ret == 0)
		u->code = AUTHCTL_EX_NOUSER;
}

static void user_lookups(struct user_cmd *u, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (u->userdb_only) {
			if (i > 0)
				putchar('\n');
			note_result(u, authctl_lookup_print(&u->master, true, argv[i],
							    &u->info, u->show_field));
		} else {
			if (i > 0)
				(void)buf_append_byte(&u->text, '\n');
			note_result(u, user_storage_one(u, argv[i]));
		}
	}
	if (!u->userdb_only)
		user_storage_output(u);
}

static int user_run(struct authctl_ctx *ctx, const struct authctl_command *cmd,
		    int argc, char **argv)
{
	struct user_cmd u = { .ctx = ctx, .table = BUF_INIT(0), .text = BUF_INIT(0) };
	const char *socket_path = NULL, *error;
	int c;

	authctl_info_init(&u.info, ctx);
	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "+a:x:f:u")) != -1) {
		switch (c) {
		case 'a': socket_path = optarg; break;
		case 'f': u.show_field = optarg; break;
		case 'u': u.userdb_only = true; break;
		case 'x':
			if (authctl_info_parse(&u.info, ctx->pool, optarg, &error) < 0)
				return fatal(error);
			break;
		default:
			return authctl_cmd_usage(cmd);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return authctl_cmd_usage(cmd);
	authctl_master_init(&u.master, ctx, socket_path != NULL ? socket_path :
			    authctl_socket_path(ctx, AUTHCTL_USERDB_SOCKET));
	if (has_wildcards(argc, argv))
		u.code = user_list(&u, argc, argv);
	else
		user_lookups(&u, argc, argv);
	authctl_master_deinit(&u.master);
	buf_free(&u.table);
	buf_free(&u.text);
	return u.code;
}

const struct authctl_command authctl_cmd_user = {
	.name = "user",
	.usage = "[-a <userdb socket path>] [-x <auth info>] [-f field] [-u] "
		 "<user mask> [<user mask> [...]]",
	.run = user_run,
};
