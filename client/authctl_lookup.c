/* authctl_lookup: USER and PASS lookups on a master/userdb socket for
 * `authctl user` and `authctl auth lookup`, with doveadm's reply handling
 * (lib-auth auth-master.c) and its "-u" style output (cmd_user_input). */
#include "client/authctl.h"

#include "client/authc.h"

#include <stdio.h>
#include <string.h>

void authctl_master_init(struct authctl_master *m, struct authctl_ctx *ctx,
			 const char *path)
{
	memset(m, 0, sizeof(*m));
	m->ctx = ctx;
	m->path = path;
}

void authctl_master_deinit(struct authctl_master *m)
{
	authc_conn_destroy(&m->conn);
}

struct authc_conn *authctl_master_conn(struct authctl_master *m, const char **error_r)
{
	if (m->failed)
		authctl_master_reset(m);
	if (m->conn != NULL)
		return m->conn;
	m->conn = authc_conn_create(m->path, AUTHC_KIND_MASTER, m->ctx->lookup_timeout_msecs);
	if (m->conn == NULL) {
		*error_r = "out of memory";
		return NULL;
	}
	if (authc_connect(m->conn, error_r) < 0) {
		/* the text lives in conn: keep conn until the caller has
		 * printed it; the next call reconnects */
		m->failed = true;
		return NULL;
	}
	return m->conn;
}

void authctl_master_reset(struct authctl_master *m)
{
	authc_conn_destroy(&m->conn);
	m->failed = false;
}

/* Classifies the reply of a USER/PASS request (lib-auth parse_reply). */
static int lookup_reply(enum authc_master_cmd cmd, const struct authc_reply *reply,
			struct authctl_lookup *res, const char **error_r)
{
	struct authc_str reason;

	switch (reply->type) {
	case AUTHC_REPLY_NOTFOUND:
		return 0;
	case AUTHC_REPLY_FAIL:
		res->failed = true;
		if (authc_field_find(reply->fields, reply->field_count, "reason", &reason))
			res->fail_reason = reason;
		else
			res->fail_detail = cmd == AUTHC_MASTER_USER ?
				"Auth USER lookup failed" : "Auth PASS lookup failed";
		return -1;
	case AUTHC_REPLY_USER:
	case AUTHC_REPLY_PASS:
		if (reply->type != (cmd == AUTHC_MASTER_USER ? AUTHC_REPLY_USER :
						       AUTHC_REPLY_PASS))
			break;
		res->fields = reply->fields;
		res->field_count = reply->field_count;
		if (cmd == AUTHC_MASTER_USER) {
			if (reply->field_count == 0) {
				*error_r = "Userdb lookup failed: Lookup didn't return username";
				return -1;
			}
			res->username = reply->fields[0];
			res->fields++;
			res->field_count--;
		}
		return 1;
	default:
		break;
	}
	*error_r = "Unknown reply";
	res->unknown_reply = reply->cmd;
	return -1;
}

int authctl_master_lookup(struct authctl_master *m, enum authc_master_cmd cmd,
			  const char *user, const char *service,
			  const char *const *params, struct authctl_lookup *res,
			  const char **error_r)
{
	struct authc_reply reply;
	uint32_t id;

	memset(res, 0, sizeof(*res));
	if (authctl_name_unsendable(user) || authctl_name_unsendable(service))
		return 0;   /* lib-auth: "the user can't exist" */
	struct authc_conn *conn = authctl_master_conn(m, error_r);
	if (conn == NULL)
		return -1;
	if (authc_master_send(conn, cmd, user, service, params, &id, error_r) < 0 ||
	    authc_wait_reply(conn, id, &reply, error_r) < 0) {
		m->failed = true;
		return -1;
	}
	int ret = lookup_reply(cmd, &reply, res, error_r);
	if (ret < 0 && !res->failed)
		m->failed = true;   /* protocol error: reconnect next time */
	return ret;
}

/* Prints an error of a lookup as doveadm does (stderr). */
void authctl_lookup_print_error(const char *lookup_name, const char *user,
				const struct authctl_lookup *res, const char *error)
{
	if (!res->failed && res->unknown_reply.s != NULL) {
		fprintf(stderr, "Error: auth-master: %s(%s): Unknown reply: %.*s\n",
			lookup_name, user, (int)res->unknown_reply.len, res->unknown_reply.s);
	} else if (!res->failed) {
		fprintf(stderr, "Error: auth-master: %s(%s): %s\n", lookup_name, user, error);
	} else if (res->fail_detail != NULL) {
		fprintf(stderr, "Error: auth-master: %s(%s): %s\n", lookup_name, user,
			res->fail_detail);
	}
}

/* cmd_user_input(): one USER (userdb) or PASS (passdb) lookup printed as
 * "userdb: NAME" plus "  key       : value" lines, or only the values of
 * show_field. Returns 1 found, 0 not found, -1 error. */
int authctl_lookup_print(struct authctl_master *m, bool userdb, const char *user,
			 const struct authctl_info *info, const char *show_field)
{
	const char *lookup = userdb ? "userdb lookup" : "passdb lookup";
	const char *const *params = authctl_info_params(info, m->ctx->pool,
							AUTHCTL_PARAMS_MASTER);
	struct authctl_lookup res;
	struct authc_str value;
	const char *error = "";

	int ret = authctl_master_lookup(m, userdb ? AUTHC_MASTER_USER : AUTHC_MASTER_PASS,
					user, info->service, params, &res, &error);
	if (ret < 0) {
		authctl_lookup_print_error(lookup, user, &res, error);
		if (res.fail_reason.s != NULL)
			fprintf(stderr, "Error: %s failed for %s: %.*s\n", lookup, user,
				(int)res.fail_reason.len, res.fail_reason.s);
		else
			fprintf(stderr, "Error: %s failed for %s\n", lookup, user);
		if (m->failed)
			authctl_master_reset(m);
		return -1;
	}
	if (ret == 0) {
		fprintf(show_field == NULL ? stdout : stderr,
			"%s: user %s doesn't exist\n", lookup, user);
		return 0;
	}
	if (show_field != NULL) {
		for (size_t i = 0; i < res.field_count; i++) {
			if (authc_field_find(&res.fields[i], 1, show_field, &value)) {
				fwrite(value.s, 1, value.len, stdout);
				putchar('\n');
			}
		}
		return 1;
	}
	printf("%s: %s\n", userdb ? "userdb" : "passdb", user);
	if (userdb) {
		fputs("  user      : ", stdout);
		fwrite(res.username.s, 1, res.username.len, stdout);
		putchar('\n');
	}
	for (size_t i = 0; i < res.field_count; i++)
		authctl_print_kv(res.fields[i].s, res.fields[i].len);
	return 1;
}
