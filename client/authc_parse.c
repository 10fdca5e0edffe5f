/* authc_parse: the I/O-free half of the auth protocol client (authc.h):
 * splitting received lines into fields and checking the server greeting. */
#include "client/authc.h"

#include "common/buf.h"
#include "common/strnum.h"
#include "common/tabescape.h"

#include <string.h>

static const struct {
	const char *name;
	enum authc_reply_type type;
} reply_types[] = {
	{ "OK", AUTHC_REPLY_OK },         { "CONT", AUTHC_REPLY_CONT },
	{ "FAIL", AUTHC_REPLY_FAIL },     { "USER", AUTHC_REPLY_USER },
	{ "NOTFOUND", AUTHC_REPLY_NOTFOUND }, { "PASS", AUTHC_REPLY_PASS },
	{ "LIST", AUTHC_REPLY_LIST },     { "DONE", AUTHC_REPLY_DONE },
};

static const struct {
	const char *name;
	unsigned int flag;
} mech_flags[] = {
	{ "private", AUTHC_MECH_PRIVATE },
	{ "anonymous", AUTHC_MECH_ANONYMOUS },
	{ "plaintext", AUTHC_MECH_PLAINTEXT },
	{ "dictionary", AUTHC_MECH_DICTIONARY },
	{ "active", AUTHC_MECH_ACTIVE },
	{ "forward-secrecy", AUTHC_MECH_FORWARD_SECRECY },
	{ "mutual-auth", AUTHC_MECH_MUTUAL_AUTH },
};

/* True if (s, len) equals the C string word exactly. */
static bool str_is(const struct authc_str *s, const char *word)
{
	size_t n = strlen(word);
	return s->len == n && memcmp(s->s, word, n) == 0;
}

static enum authc_reply_type reply_type_of(const struct authc_str *cmd)
{
	for (size_t i = 0; i < sizeof(reply_types) / sizeof(reply_types[0]); i++) {
		if (str_is(cmd, reply_types[i].name))
			return reply_types[i].type;
	}
	return AUTHC_REPLY_OTHER;
}

/* Unescapes field [start, end) of line in place, NUL-terminates it and
 * stores it in *out. The terminator goes where the separator (or, for the
 * last field, the CR/LF or one byte past the line) was, which the caller
 * guarantees to be writable. */
static void field_finish(uint8_t *line, size_t start, size_t end, struct authc_str *out)
{
	size_t n = tab_unescape_inplace(line + start, end - start);
	line[start + n] = '\0';
	out->s = (const char *)line + start;
	out->len = n;
}

int authc_line_parse(uint8_t *line, size_t len, struct authc_str *args_buf,
		     size_t args_max, struct authc_reply *reply_r, const char **error_r)
{
	struct authc_str cmd = { NULL, 0 };
	size_t nargs = 0, start = 0;

	memset(reply_r, 0, sizeof(*reply_r));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		*error_r = "Auth server sent empty line";
		return -1;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (cmd.s == NULL) {
			field_finish(line, start, i, &cmd);
		} else {
			if (nargs == args_max) {
				*error_r = "Auth server sent too many fields";
				return -1;
			}
			field_finish(line, start, i, &args_buf[nargs++]);
		}
		start = i + 1;
	}
	reply_r->type = reply_type_of(&cmd);
	reply_r->cmd = cmd;
	reply_r->args = args_buf;
	reply_r->arg_count = nargs;
	reply_r->fields = args_buf;
	reply_r->field_count = nargs;
	if (nargs > 0 && str_to_uint32((const uint8_t *)args_buf[0].s, args_buf[0].len,
				       &reply_r->id)) {
		reply_r->has_id = true;
		reply_r->fields = args_buf + 1;
		reply_r->field_count = nargs - 1;
	}
	return 1;
}

void authc_handshake_init(struct authc_handshake *hs, enum authc_kind kind)
{
	memset(hs, 0, sizeof(*hs));
	hs->kind = kind;
}

static bool is_hex(const struct authc_str *s)
{
	for (size_t i = 0; i < s->len; i++) {
		char c = s->s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static bool mech_name_ok(const struct authc_str *s)
{
	if (s->len == 0 || s->len > AUTHC_MECH_NAME_MAX)
		return false;
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->s[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

static enum authc_hs_status hs_version(struct authc_handshake *hs,
				       const struct authc_reply *line, const char **error_r)
{
	const struct authc_str *a = line->args;
	uint32_t major = 0;

	if (line->arg_count < 1 ||
	    !str_to_uint32((const uint8_t *)a[0].s, a[0].len, &major) ||
	    major != AUTHC_PROTOCOL_MAJOR) {
		*error_r = hs->kind == AUTHC_KIND_CLIENT ?
			"Authentication server not compatible with this client "
			"(mixed old and new binaries?)" :
			"Auth protocol version mismatch (server's major version is not 1)";
		return AUTHC_HS_ERROR;
	}
	hs->major = major;
	/* The minor is informational: any value is accepted. */
	if (line->arg_count >= 2)
		(void)str_to_uint32((const uint8_t *)a[1].s, a[1].len, &hs->minor);
	hs->have_version = true;
	return AUTHC_HS_MORE;
}

static enum authc_hs_status hs_mech(struct authc_handshake *hs,
				    const struct authc_reply *line, const char **error_r)
{
	if (line->arg_count < 1 || !mech_name_ok(&line->args[0])) {
		*error_r = "BUG: Authentication server sent broken MECH line";
		return AUTHC_HS_ERROR;
	}
	if (hs->mech_count == AUTHC_MECHS_MAX) {
		*error_r = "Authentication server sent too many MECH lines";
		return AUTHC_HS_ERROR;
	}
	struct authc_mech *m = &hs->mechs[hs->mech_count++];
	memcpy(m->name, line->args[0].s, line->args[0].len);
	m->name[line->args[0].len] = '\0';
	m->flags = 0;
	for (size_t i = 1; i < line->arg_count; i++) {
		for (size_t f = 0; f < sizeof(mech_flags) / sizeof(mech_flags[0]); f++) {
			if (str_is(&line->args[i], mech_flags[f].name))
				m->flags |= mech_flags[f].flag;
		}
	}
	return AUTHC_HS_MORE;
}

static enum authc_hs_status hs_number(const struct authc_reply *line, uint32_t *num_r,
				      bool *have_r, const char *bad, const char **error_r)
{
	if (line->arg_count < 1 ||
	    !str_to_uint32((const uint8_t *)line->args[0].s, line->args[0].len, num_r)) {
		*error_r = bad;
		return AUTHC_HS_ERROR;
	}
	*have_r = true;
	return AUTHC_HS_MORE;
}

static enum authc_hs_status hs_cookie(struct authc_handshake *hs,
				      const struct authc_reply *line, const char **error_r)
{
	if (line->arg_count < 1 || line->args[0].len != AUTHC_COOKIE_HEX_LEN ||
	    !is_hex(&line->args[0])) {
		*error_r = "BUG: Authentication server sent broken COOKIE line";
		return AUTHC_HS_ERROR;
	}
	memcpy(hs->cookie, line->args[0].s, AUTHC_COOKIE_HEX_LEN);
	hs->cookie[AUTHC_COOKIE_HEX_LEN] = '\0';
	hs->have_cookie = true;
	return AUTHC_HS_MORE;
}

static enum authc_hs_status hs_done(struct authc_handshake *hs, const char **error_r)
{
	if (hs->mech_count == 0) {
		*error_r = "BUG: Authentication server returned no mechanisms";
		return AUTHC_HS_ERROR;
	}
	if (!hs->have_cookie) {
		*error_r = "BUG: Authentication server didn't send a cookie";
		return AUTHC_HS_ERROR;
	}
	hs->done = true;
	return AUTHC_HS_DONE;
}

/* A client-socket greeting (auth-client protocol). */
static enum authc_hs_status hs_client_line(struct authc_handshake *hs,
					   const struct authc_reply *line,
					   const char **error_r)
{
	const struct authc_str *cmd = &line->cmd;

	if (str_is(cmd, "MECH"))
		return hs_mech(hs, line, error_r);
	if (str_is(cmd, "SPID")) {
		if (hs->mech_count == 0) {
			/* Postfix's test: a master server greets with SPID and
			 * never with MECH. */
			*error_r = "SPID before any MECH line";
			return AUTHC_HS_WRONG_SOCKET;
		}
		return hs_number(line, &hs->spid, &hs->have_spid,
				 "BUG: Authentication server sent invalid PID", error_r);
	}
	if (str_is(cmd, "CUID"))
		return hs_number(line, &hs->cuid, &hs->have_cuid,
				 "BUG: Authentication server sent broken CUID line", error_r);
	if (str_is(cmd, "COOKIE"))
		return hs_cookie(hs, line, error_r);
	if (str_is(cmd, "DONE"))
		return hs_done(hs, error_r);
	if (line->type != AUTHC_REPLY_OTHER) {
		*error_r = "Auth server sent a reply before the handshake was complete";
		return AUTHC_HS_ERROR;
	}
	return AUTHC_HS_MORE;
}

/* A master-socket greeting (VERSION, SPID). */
static enum authc_hs_status hs_master_line(struct authc_handshake *hs,
					   const struct authc_reply *line,
					   const char **error_r)
{
	const struct authc_str *cmd = &line->cmd;

	if (str_is(cmd, "MECH") || str_is(cmd, "CUID") || str_is(cmd, "COOKIE") ||
	    (str_is(cmd, "DONE") && line->arg_count == 0)) {
		*error_r = "auth-client greeting on a master connection";
		return AUTHC_HS_WRONG_SOCKET;
	}
	if (str_is(cmd, "SPID")) {
		if (hs_number(line, &hs->spid, &hs->have_spid,
			      "BUG: Authentication server sent invalid PID",
			      error_r) == AUTHC_HS_ERROR)
			return AUTHC_HS_ERROR;
		hs->done = true;
		return AUTHC_HS_DONE;
	}
	if (line->type != AUTHC_REPLY_OTHER) {
		*error_r = "Auth server sent a reply before the handshake was complete";
		return AUTHC_HS_ERROR;
	}
	return AUTHC_HS_MORE;
}

enum authc_hs_status authc_handshake_feed(struct authc_handshake *hs,
					  const struct authc_reply *line,
					  const char **error_r)
{
	if (hs->done) {
		*error_r = "handshake already complete";
		return AUTHC_HS_ERROR;
	}
	if (!hs->have_version) {
		if (!str_is(&line->cmd, "VERSION")) {
			if (hs->kind == AUTHC_KIND_MASTER && str_is(&line->cmd, "MECH")) {
				*error_r = "auth-client greeting on a master connection";
				return AUTHC_HS_WRONG_SOCKET;
			}
			*error_r = "Auth server's greeting did not start with VERSION";
			return AUTHC_HS_ERROR;
		}
		return hs_version(hs, line, error_r);
	}
	if (str_is(&line->cmd, "VERSION")) {
		*error_r = "Auth server sent VERSION twice";
		return AUTHC_HS_ERROR;
	}
	return hs->kind == AUTHC_KIND_CLIENT ? hs_client_line(hs, line, error_r) :
					       hs_master_line(hs, line, error_r);
}

const struct authc_mech *authc_handshake_find_mech(const struct authc_handshake *hs,
						   const char *name)
{
	for (size_t i = 0; i < hs->mech_count; i++) {
		if (strcasecmp(hs->mechs[i].name, name) == 0)
			return &hs->mechs[i];
	}
	return NULL;
}

int authc_field_find(const struct authc_str *fields, size_t count, const char *key,
		     struct authc_str *value_r)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < count; i++) {
		if (fields[i].len > klen && memcmp(fields[i].s, key, klen) == 0 &&
		    fields[i].s[klen] == '=') {
			value_r->s = fields[i].s + klen + 1;
			value_r->len = fields[i].len - klen - 1;
			return 1;
		}
	}
	return 0;
}

int authc_plain_message(struct buf *out, const char *authzid, const char *authcid,
			const uint8_t *password, size_t password_len)
{
	if (buf_append_str(out, authzid) < 0 || buf_append_byte(out, 0) < 0 ||
	    buf_append_str(out, authcid) < 0 || buf_append_byte(out, 0) < 0 ||
	    buf_append(out, password, password_len) < 0)
		return -1;
	return 0;
}
