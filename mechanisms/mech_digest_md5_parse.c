/* DIGEST-MD5 digest-response parser (RFC 2831 2.1.2, spec 6.4); see
 * mech_digest_md5_private.h for the rules.
 *
 * Stricter than Dovecot's parser where Dovecot is merely lenient, never
 * where a real client depends on it: an unterminated quoted string, a
 * backslash escape of a non-ASCII or control byte, a directive without
 * '=', an empty unquoted value, text after a closing quote, a duplicated
 * directive and anything over the limits fail here. */
#include "mechanisms/mech_digest_md5_private.h"
#include "mechanisms/mech.h"
#include "common/pool.h"
#include "common/strnum.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define IS_LWS(c) ((c) == ' ' || (c) == '\t')

static const char *const digest_md5_field_names[DIGEST_MD5_FIELD_COUNT] = {
	[DIGEST_MD5_FIELD_USERNAME] = "username",
	[DIGEST_MD5_FIELD_REALM] = "realm",
	[DIGEST_MD5_FIELD_NONCE] = "nonce",
	[DIGEST_MD5_FIELD_CNONCE] = "cnonce",
	[DIGEST_MD5_FIELD_NC] = "nc",
	[DIGEST_MD5_FIELD_QOP] = "qop",
	[DIGEST_MD5_FIELD_DIGEST_URI] = "digest-uri",
	[DIGEST_MD5_FIELD_RESPONSE] = "response",
	[DIGEST_MD5_FIELD_MAXBUF] = "maxbuf",
	[DIGEST_MD5_FIELD_CHARSET] = "charset",
	[DIGEST_MD5_FIELD_AUTHZID] = "authzid",
};

/* A cursor over the untrusted input. */
struct digest_md5_cursor {
	const uint8_t *in;
	size_t len;
	size_t pos;
};

static void digest_md5_skip_lws(struct digest_md5_cursor *c)
{
	while (c->pos < c->len && IS_LWS(c->in[c->pos]))
		c->pos++;
}

/* Directive name: up to '=', ',' or LWS. Returns its length (0 = none). */
static size_t digest_md5_key(struct digest_md5_cursor *c)
{
	size_t start = c->pos;
	while (c->pos < c->len) {
		uint8_t ch = c->in[c->pos];
		if (ch == '=' || ch == ',' || IS_LWS(ch))
			break;
		c->pos++;
	}
	return c->pos - start;
}

/* Quoted string after its opening quote; unescapes into a pool copy.
 * Returns 1, or 0 with *error_r. */
static int digest_md5_quoted(struct pool *pool, struct digest_md5_cursor *c,
			     struct digest_md5_value *v, const char **error_r)
{
	size_t left = c->len - c->pos;
	size_t cap = left < DIGEST_MD5_VALUE_MAX ? left : DIGEST_MD5_VALUE_MAX;
	char *out = pool_alloc(pool, cap + 1);
	size_t n = 0;
	for (;;) {
		if (c->pos >= c->len) {
			*error_r = "unterminated quoted string";
			return 0;
		}
		uint8_t ch = c->in[c->pos++];
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (c->pos >= c->len) {
				*error_r = "unterminated quoted string";
				return 0;
			}
			ch = c->in[c->pos++];
			if (ch < 0x20 || ch > 0x7e) {
				*error_r = "invalid escape in quoted string";
				return 0;
			}
		}
		if (n == cap) {
			/* only reachable with cap == DIGEST_MD5_VALUE_MAX:
			 * the output never outgrows the input read */
			*error_r = "directive value too long";
			return 0;
		}
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	v->str = out;
	v->len = n;
	return 1;
}

/* Unquoted token: up to ',' or LWS. Returns 1, or 0 with *error_r. */
static int digest_md5_token(struct pool *pool, struct digest_md5_cursor *c,
			    struct digest_md5_value *v, const char **error_r)
{
	size_t start = c->pos;
	while (c->pos < c->len) {
		uint8_t ch = c->in[c->pos];
		if (ch == ',' || IS_LWS(ch))
			break;
		if (ch == '"' || ch == '\\') {
			*error_r = "invalid character in unquoted value";
			return 0;
		}
		c->pos++;
	}
	size_t n = c->pos - start;
	if (n == 0) {
		*error_r = "empty directive value";
		return 0;
	}
	if (n > DIGEST_MD5_VALUE_MAX) {
		*error_r = "directive value too long";
		return 0;
	}
	v->str = pool_strndup(pool, c->in + start, n);
	v->len = n;
	return 1;
}

/* The index of a known directive name, or DIGEST_MD5_FIELD_COUNT. */
static enum digest_md5_field digest_md5_field_find(const uint8_t *key, size_t len)
{
	for (size_t i = 0; i < DIGEST_MD5_FIELD_COUNT; i++) {
		const char *name = digest_md5_field_names[i];
		if (strlen(name) == len && strncasecmp(name, (const char *)key, len) == 0)
			return (enum digest_md5_field)i;
	}
	return DIGEST_MD5_FIELD_COUNT;
}

static int digest_md5_store(struct digest_md5_response *r, enum digest_md5_field f,
			    const struct digest_md5_value *v, const char **error_r)
{
	if (f == DIGEST_MD5_FIELD_COUNT)
		return 1;   /* cipher, unknown: ignored */
	struct digest_md5_value *dst = &r->field[f];
	if (f == DIGEST_MD5_FIELD_REALM) {
		/* Several realm directives are allowed; the first non-empty
		 * value counts (spec 6.4). */
		if (dst->str == NULL && v->len > 0)
			*dst = *v;
		return 1;
	}
	if (dst->str != NULL) {
		*error_r = "duplicate directive";
		return 0;
	}
	*dst = *v;
	return 1;
}

/* One "key = value" element at c->pos (LWS already skipped). */
static int digest_md5_directive(struct pool *pool, struct digest_md5_cursor *c,
				struct digest_md5_response *r, const char **error_r)
{
	const uint8_t *key = c->in + c->pos;
	size_t key_len = digest_md5_key(c);
	if (key_len == 0 || key_len > DIGEST_MD5_KEY_MAX) {
		*error_r = "invalid directive name";
		return 0;
	}
	digest_md5_skip_lws(c);
	if (c->pos >= c->len || c->in[c->pos] != '=') {
		*error_r = "missing '=' after directive name";
		return 0;
	}
	c->pos++;
	digest_md5_skip_lws(c);
	struct digest_md5_value v = { NULL, 0 };
	int ret;
	if (c->pos < c->len && c->in[c->pos] == '"') {
		c->pos++;
		ret = digest_md5_quoted(pool, c, &v, error_r);
	} else {
		ret = digest_md5_token(pool, c, &v, error_r);
	}
	if (ret <= 0)
		return 0;
	digest_md5_skip_lws(c);
	if (c->pos < c->len && c->in[c->pos] != ',') {
		*error_r = "garbage after directive value";
		return 0;
	}
	return digest_md5_store(r, digest_md5_field_find(key, key_len), &v, error_r);
}

static int digest_md5_parse_list(struct pool *pool, const uint8_t *in, size_t len,
				 struct digest_md5_response *r, const char **error_r)
{
	struct digest_md5_cursor c = { .in = in, .len = len, .pos = 0 };
	size_t count = 0;
	for (;;) {
		digest_md5_skip_lws(&c);
		if (c.pos >= c.len)
			return 1;
		if (++count > DIGEST_MD5_DIRECTIVES_MAX) {
			*error_r = "too many directives";
			return 0;
		}
		/* An empty list element (",,") is allowed by RFC 2831's #rule. */
		if (in[c.pos] != ',' && digest_md5_directive(pool, &c, r, error_r) <= 0)
			return 0;
		if (c.pos < c.len)
			c.pos++;   /* the ',' */
	}
}

static bool digest_md5_is_lower_hex(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	}
	return true;
}

static bool digest_md5_value_is(const struct digest_md5_value *v, const char *want)
{
	return v->len == strlen(want) && strncasecmp(v->str, want, v->len) == 0;
}

/* The presence and non-emptiness rules. */
static int digest_md5_check_required(const struct digest_md5_response *r,
				     const char **error_r)
{
	const struct digest_md5_value *f = r->field;
	if (f[DIGEST_MD5_FIELD_NONCE].str == NULL) {
		*error_r = "Missing nonce parameter";
		return 0;
	}
	if (f[DIGEST_MD5_FIELD_CNONCE].str == NULL || f[DIGEST_MD5_FIELD_CNONCE].len == 0) {
		*error_r = "Missing cnonce parameter";
		return 0;
	}
	if (f[DIGEST_MD5_FIELD_USERNAME].str == NULL || f[DIGEST_MD5_FIELD_USERNAME].len == 0) {
		*error_r = "Missing username parameter";
		return 0;
	}
	if (f[DIGEST_MD5_FIELD_RESPONSE].str == NULL) {
		*error_r = "Missing response parameter";
		return 0;
	}
	if (f[DIGEST_MD5_FIELD_DIGEST_URI].str == NULL) {
		*error_r = "Missing digest-uri parameter";
		return 0;
	}
	if (f[DIGEST_MD5_FIELD_USERNAME].len > MECH_NAME_MAX ||
	    f[DIGEST_MD5_FIELD_AUTHZID].len > MECH_NAME_MAX) {
		*error_r = "username or authzid too long";
		return 0;
	}
	if (f[DIGEST_MD5_FIELD_AUTHZID].str != NULL && f[DIGEST_MD5_FIELD_AUTHZID].len == 0) {
		*error_r = "empty authzid";
		return 0;
	}
	return 1;
}

/* The value rules of spec 6.4. */
static int digest_md5_check_values(const struct digest_md5_response *r, const char **error_r)
{
	const struct digest_md5_value *f = r->field;
	const struct digest_md5_value *v = &f[DIGEST_MD5_FIELD_NC];
	if (v->str != NULL && !(v->len == 8 && memcmp(v->str, "00000001", 8) == 0)) {
		*error_r = "re-auth not supported (nonce-count is not 00000001)";
		return 0;
	}
	v = &f[DIGEST_MD5_FIELD_QOP];
	if (v->str != NULL && !digest_md5_value_is(v, "auth")) {
		*error_r = "Nonallowed QoP requested";
		return 0;
	}
	v = &f[DIGEST_MD5_FIELD_CHARSET];
	if (v->str != NULL && !digest_md5_value_is(v, "utf-8")) {
		*error_r = "Only utf-8 charset is allowed";
		return 0;
	}
	v = &f[DIGEST_MD5_FIELD_MAXBUF];
	uint32_t maxbuf;
	if (v->str != NULL &&
	    (str_to_uint32((const uint8_t *)v->str, v->len, &maxbuf) <= 0 || maxbuf == 0)) {
		*error_r = "Invalid maxbuf value";
		return 0;
	}
	v = &f[DIGEST_MD5_FIELD_DIGEST_URI];
	if (memchr(v->str, '/', v->len) == NULL) {
		*error_r = "Invalid digest-uri";
		return 0;
	}
	v = &f[DIGEST_MD5_FIELD_RESPONSE];
	if (v->len != DIGEST_MD5_RESPONSE_HEX_LEN || !digest_md5_is_lower_hex(v->str, v->len)) {
		*error_r = "Invalid response value";
		return 0;
	}
	return 1;
}

int digest_md5_parse_response(struct pool *pool, const uint8_t *in, size_t len,
			      struct digest_md5_response *resp_r, const char **error_r)
{
	memset(resp_r, 0, sizeof(*resp_r));
	if (len == 0) {
		*error_r = "Client sent no input";
		return 0;
	}
	if (len > DIGEST_MD5_RESPONSE_MAX) {
		*error_r = "response too long";
		return 0;
	}
	if (memchr(in, '\0', len) != NULL) {
		*error_r = "NUL byte in response";
		return 0;
	}
	if (digest_md5_parse_list(pool, in, len, resp_r, error_r) <= 0 ||
	    digest_md5_check_required(resp_r, error_r) <= 0 ||
	    digest_md5_check_values(resp_r, error_r) <= 0)
		return 0;
	struct digest_md5_value *f = resp_r->field;
	if (f[DIGEST_MD5_FIELD_NC].str == NULL)
		f[DIGEST_MD5_FIELD_NC] = (struct digest_md5_value){ "00000001", 8 };
	if (f[DIGEST_MD5_FIELD_QOP].str == NULL)
		f[DIGEST_MD5_FIELD_QOP] = (struct digest_md5_value){ "auth", 4 };
	return 1;
}
