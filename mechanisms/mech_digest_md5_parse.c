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
#include "common/base64.h"
#include "common/pool.h"
#include "common/strnum.h"

#include <stdbool.h>
#include <string.h>

#define IS_LWS(c) ((c) == ' ' || (c) == '\t')

#define FIELD(s) { (s), sizeof(s) - 1 }

/* Directive names, lower case, with their lengths (compared first). */
static const struct {
	const char *name;
	size_t len;
} digest_md5_fields[DIGEST_MD5_FIELD_COUNT] = {
	[DIGEST_MD5_FIELD_USERNAME] = FIELD("username"),
	[DIGEST_MD5_FIELD_REALM] = FIELD("realm"),
	[DIGEST_MD5_FIELD_NONCE] = FIELD("nonce"),
	[DIGEST_MD5_FIELD_CNONCE] = FIELD("cnonce"),
	[DIGEST_MD5_FIELD_NC] = FIELD("nc"),
	[DIGEST_MD5_FIELD_QOP] = FIELD("qop"),
	[DIGEST_MD5_FIELD_DIGEST_URI] = FIELD("digest-uri"),
	[DIGEST_MD5_FIELD_RESPONSE] = FIELD("response"),
	[DIGEST_MD5_FIELD_MAXBUF] = FIELD("maxbuf"),
	[DIGEST_MD5_FIELD_CHARSET] = FIELD("charset"),
	[DIGEST_MD5_FIELD_AUTHZID] = FIELD("authzid"),
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

/* The length of a quoted string's value after unescaping, from c->pos
 * (after the opening quote) to the closing quote, which it leaves *end_r
 * at. Returns 1, or 0 with *error_r. */
static int digest_md5_quoted_len(const struct digest_md5_cursor *c, size_t *len_r,
				 size_t *end_r, const char **error_r)
{
	/* The common case, no backslash before the closing quote, with
	 * memchr; anything else goes through the loop below. */
	const uint8_t *start = c->in + c->pos;
	const uint8_t *quote = memchr(start, '"', c->len - c->pos);
	if (quote != NULL && memchr(start, '\\', (size_t)(quote - start)) == NULL) {
		*len_r = (size_t)(quote - start);
		*end_r = (size_t)(quote - c->in);
		if (*len_r <= DIGEST_MD5_VALUE_MAX)
			return 1;
		*error_r = "directive value too long";
		return 0;
	}
	size_t n = 0;
	for (size_t pos = c->pos;; pos++) {
		if (pos >= c->len)
			break;
		uint8_t ch = c->in[pos];
		if (ch == '"') {
			*len_r = n;
			*end_r = pos;
			return 1;
		}
		if (ch == '\\') {
			if (++pos >= c->len)
				break;
			ch = c->in[pos];
			if (ch < 0x20 || ch > 0x7e) {
				*error_r = "invalid escape in quoted string";
				return 0;
			}
		}
		if (++n > DIGEST_MD5_VALUE_MAX) {
			*error_r = "directive value too long";
			return 0;
		}
	}
	*error_r = "unterminated quoted string";
	return 0;
}

/* Quoted string after its opening quote; unescapes into a pool copy of
 * exactly its size. Returns 1, or 0 with *error_r. */
static int digest_md5_quoted(struct pool *pool, struct digest_md5_cursor *c,
			     struct digest_md5_value *v, const char **error_r)
{
	size_t n, end;
	if (digest_md5_quoted_len(c, &n, &end, error_r) <= 0)
		return 0;
	char *out = pool_alloc(pool, n + 1);
	size_t k = 0;
	if (n == end - c->pos) {   /* no escapes */
		memcpy(out, c->in + c->pos, n);
		k = n;
	}
	for (size_t pos = c->pos; k < n && pos < end; pos++) {
		if (c->in[pos] == '\\')
			pos++;
		out[k++] = (char)c->in[pos];
	}
	out[k] = '\0';
	c->pos = end + 1;
	v->str = out;
	v->len = k;
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

/* (p, len) equals the lower-case name, ignoring ASCII case. */
static bool digest_md5_name_eq(const char *name, const uint8_t *p, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		uint8_t ch = p[k];
		if (ch >= 'A' && ch <= 'Z')
			ch = (uint8_t)(ch - 'A' + 'a');
		if (ch != (uint8_t)name[k])
			return false;
	}
	return true;
}

/* The index of a known directive name, or DIGEST_MD5_FIELD_COUNT. */
static enum digest_md5_field digest_md5_field_find(const uint8_t *key, size_t len)
{
	for (size_t i = 0; i < DIGEST_MD5_FIELD_COUNT; i++) {
		if (digest_md5_fields[i].len == len &&
		    digest_md5_name_eq(digest_md5_fields[i].name, key, len))
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

/* The value equals want (lower case), ignoring ASCII case. */
static bool digest_md5_value_is(const struct digest_md5_value *v, const char *want)
{
	return v->len == strlen(want) && digest_md5_name_eq(want, (const uint8_t *)v->str, v->len);
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
	if (v->len != DIGEST_MD5_RESPONSE_HEX_LEN || !hex_is_lower((const uint8_t *)v->str, v->len)) {
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
