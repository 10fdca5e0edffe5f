#include "authd/reply.h"
#include "authd/auth.h"
#include "authd/proto_fields.h"
#include "authd/request.h"
#include "common/base64.h"
#include "common/tabescape.h"

#include <string.h>

static void reply_append_field(struct buf *line, const char *key, const char *value)
{
	buf_append_byte(line, '\t');
	tab_escape_str(line, key);
	if (value != NULL) {
		buf_append_byte(line, '=');
		tab_escape_str(line, value);
	}
}

/* nologin and proxy are always bare words on the wire. */
static void reply_append_extra(struct buf *line, const struct fields *extra, bool failure)
{
	for (size_t i = 0; i < extra->count; i++) {
		const struct field *f = &extra->items[i];
		bool bare = strcmp(f->key, "nologin") == 0 || strcmp(f->key, "proxy") == 0 ||
			    strcmp(f->key, "nodelay") == 0;
		if (failure && (strcmp(f->key, "nologin") == 0 || strcmp(f->key, "nodelay") == 0))
			continue;
		reply_append_field(line, f->key, bare ? NULL : f->value);
	}
}

static void reply_append_names(struct buf *line, const struct auth_request *req)
{
	const char *orig = req->original_user;
	if (orig != NULL && (req->user_rejected || strcmp(orig, req->user) != 0) &&
	    !fields_has(&req->extra, "original_user"))
		reply_append_field(line, "original_user", orig);
	if (req->master_user != NULL)
		reply_append_field(line, "auth_user", req->master_user);
	const char *anon = req->auth->set->auth_anonymous_username;
	if (req->user != NULL && anon != NULL && strcmp(req->user, anon) == 0)
		reply_append_field(line, "anonymous", NULL);
}

void auth_reply_format_ok(struct buf *line, const struct auth_request *req,
				   const uint8_t *final, size_t final_len)
{
	proto_append_cmd_id(line, "OK", req->id);
	reply_append_field(line, "user", req->user);
	reply_append_extra(line, &req->extra, false);
	if (final != NULL && final_len > 0) {
		buf_append_str(line, "\tresp=");
		base64_encode(line, final, final_len);
	}
	reply_append_names(line, req);
	buf_append_byte(line, '\n');
}

static const char *auth_outcome_code(enum auth_outcome outcome)
{
	switch (outcome) {
	case AUTH_OUTCOME_TEMPFAIL: return "temp_fail";
	case AUTH_OUTCOME_DISABLED: return "user_disabled";
	case AUTH_OUTCOME_PASS_EXPIRED: return "pass_expired";
	default: return NULL;
	}
}

void auth_reply_format_fail(struct buf *line, const struct auth_request *req)
{
	proto_append_cmd_id(line, "FAIL", req->id);
	if (req->user != NULL)
		reply_append_field(line, "user", req->user);
	if (fields_has(&req->extra, "nodelay"))
		reply_append_field(line, "nodelay", NULL);
	const char *code = auth_outcome_code(req->outcome);
	/* The master user authenticated but the login as the target failed. */
	if (code == NULL && req->master_user != NULL)
		code = "authz_fail";
	if (code != NULL)
		reply_append_field(line, "code", code);
	reply_append_extra(line, &req->extra, true);
	if (req->user != NULL)
		reply_append_names(line, req);
	buf_append_byte(line, '\n');
}

