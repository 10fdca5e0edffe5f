/* SCRAM message and credential parsers (RFC 5802 section 7, spec 6.5);
 * see mech_scram_private.h. Every function works on explicit lengths; the
 * caller has refused NUL bytes and over-long messages. */
#include "mechanisms/mech_scram_private.h"
#include "mechanisms/mech.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/pool.h"
#include "common/strnum.h"

#include <string.h>

/* The next ','-terminated field of [*pos, len): sets *field and moves *pos
 * past the comma. Returns false if there is no comma left (then *field is
 * the rest and *pos == len). */
static bool scram_next_field(const char *in, size_t len, size_t *pos, struct scram_span *field)
{
	const char *start = in + *pos;
	const char *comma = memchr(start, ',', len - *pos);
	if (comma == NULL) {
		*field = (struct scram_span){ start, len - *pos };
		*pos = len;
		return false;
	}
	*field = (struct scram_span){ start, (size_t)(comma - start) };
	*pos += field->len + 1;
	return true;
}

static bool scram_span_is(const struct scram_span *s, const char *text)
{
	size_t n = strlen(text);
	return s->len == n && memcmp(s->p, text, n) == 0;
}

static bool scram_span_has_prefix(const struct scram_span *s, const char *prefix)
{
	size_t n = strlen(prefix);
	return s->len >= n && memcmp(s->p, prefix, n) == 0;
}

/* saslname (RFC 5802 5.1): "=2C" -> ',', "=3D" -> '=', any other '='
 * fails. Returns a pool copy, or NULL if invalid, empty or too long. */
static const char *scram_unescape_name(struct pool *pool, const char *in, size_t len)
{
	if (len == 0 || len > MECH_NAME_MAX * 3)
		return NULL;
	char *out = pool_alloc(pool, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '=') {
			out[n++] = in[i];
			continue;
		}
		if (len - i < 3)
			return NULL;
		if (in[i + 1] == '2' && in[i + 2] == 'C')
			out[n++] = ',';
		else if (in[i + 1] == '3' && in[i + 2] == 'D')
			out[n++] = '=';
		else
			return NULL;
		i += 2;
	}
	out[n] = '\0';
	return n <= MECH_NAME_MAX ? out : NULL;
}

/* c-nonce = printable = %x21-2B / %x2D-7E */
static bool scram_nonce_valid(const struct scram_span *nonce)
{
	if (nonce->len == 0)
		return false;
	for (size_t i = 0; i < nonce->len; i++) {
		uint8_t c = (uint8_t)nonce->p[i];
		if (c < 0x21 || c > 0x7e || c == ',')
			return false;
	}
	return true;
}

/* gs2-header = gs2-cbind-flag "," [ authzid ] "," */
static int scram_parse_gs2(struct pool *pool, const char *in, size_t len, size_t *pos,
			   struct scram_client_first *r, const char **error_r)
{
	struct scram_span flag, authzid;
	if (!scram_next_field(in, len, pos, &flag) || !scram_next_field(in, len, pos, &authzid)) {
		*error_r = "Invalid initial client message: missing ',' in GS2 header";
		return 0;
	}
	if (scram_span_has_prefix(&flag, "p=")) {
		*error_r = "Channel binding not supported";
		return 0;
	}
	if (!scram_span_is(&flag, "n") && !scram_span_is(&flag, "y")) {
		*error_r = "Invalid GS2 header";
		return 0;
	}
	r->authzid = "";
	if (authzid.len > 0) {
		if (!scram_span_has_prefix(&authzid, "a=") ||
		    (r->authzid = scram_unescape_name(pool, authzid.p + 2, authzid.len - 2)) == NULL) {
			*error_r = "Invalid authzid field";
			return 0;
		}
	}
	r->gs2_header = (struct scram_span){ in, *pos };
	return 1;
}

int scram_parse_client_first(struct pool *pool, const uint8_t *data, size_t len,
			     struct scram_client_first *r, const char **error_r)
{
	const char *in = (const char *)data;
	size_t pos = 0;
	memset(r, 0, sizeof(*r));
	if (scram_parse_gs2(pool, in, len, &pos, r, error_r) <= 0)
		return 0;
	r->bare = (struct scram_span){ in + pos, len - pos };
	struct scram_span user, nonce;
	if (!scram_next_field(in, len, &pos, &user)) {
		*error_r = "Invalid initial client message: missing nonce field";
		return 0;
	}
	(void)scram_next_field(in, len, &pos, &nonce);   /* extensions after it are ignored */
	if (scram_span_has_prefix(&user, "m")) {
		*error_r = "Mandatory extension(s) not supported";
		return 0;
	}
	if (!scram_span_has_prefix(&user, "n=") ||
	    (r->username = scram_unescape_name(pool, user.p + 2, user.len - 2)) == NULL) {
		*error_r = "Invalid username field";
		return 0;
	}
	if (!scram_span_has_prefix(&nonce, "r=")) {
		*error_r = "Invalid client nonce";
		return 0;
	}
	r->cnonce = (struct scram_span){ nonce.p + 2, nonce.len - 2 };
	if (!scram_nonce_valid(&r->cnonce)) {
		*error_r = "Invalid client nonce";
		return 0;
	}
	return 1;
}

int scram_parse_client_final(const uint8_t *data, size_t len, struct scram_client_final *r,
			     const char **error_r)
{
	const char *in = (const char *)data;
	size_t pos = 0;
	memset(r, 0, sizeof(*r));
	const char *last_comma = memrchr(in, ',', len);
	if (!scram_next_field(in, len, &pos, &r->cbind) ||
	    !scram_next_field(in, len, &pos, &r->nonce) || last_comma == NULL) {
		*error_r = "Invalid final client message";
		return 0;
	}
	/* at least three fields: the last comma ends at least the nonce */
	struct scram_span proof = { last_comma + 1, len - (size_t)(last_comma + 1 - in) };
	if (!scram_span_has_prefix(&r->cbind, "c=") || !scram_span_has_prefix(&r->nonce, "r=")) {
		*error_r = "Invalid final client message";
		return 0;
	}
	if (!scram_span_has_prefix(&proof, "p=")) {
		*error_r = "Invalid ClientProof";
		return 0;
	}
	r->without_proof = (struct scram_span){ in, (size_t)(last_comma - in) };
	r->proof_b64 = (struct scram_span){ proof.p + 2, proof.len - 2 };
	return 1;
}

int scram_base64_decode_exact(const char *b64, size_t len, uint8_t *out, size_t want)
{
	struct buf b = BUF_INIT(want);
	int ok = base64_decode(&b, (const uint8_t *)b64, len) == 1 && b.len == want;
	if (ok)
		memcpy(out, b.data, want);
	buf_free(&b);
	return ok;
}

static bool scram_salt_valid(const struct scram_span *salt)
{
	if (salt->len == 0 || salt->len > SCRAM_SALT_B64_MAX)
		return false;
	struct buf b = BUF_INIT(SCRAM_SALT_B64_MAX);
	bool ok = base64_decode(&b, (const uint8_t *)salt->p, salt->len) == 1 && b.len > 0;
	buf_free(&b);
	return ok;
}

int scram_parse_credentials(const uint8_t *data, size_t len, size_t hash_len,
			    struct scram_credentials *r, const char **error_r)
{
	const char *in = (const char *)data;
	struct scram_span iter, stored, server;
	size_t pos = 0;
	memset(r, 0, sizeof(*r));
	*error_r = "Invalid SCRAM credentials";
	if (hash_len > SCRAM_HASH_MAX || memchr(in, '\0', len) != NULL ||
	    !scram_next_field(in, len, &pos, &iter) ||
	    !scram_next_field(in, len, &pos, &r->salt_b64) ||
	    !scram_next_field(in, len, &pos, &stored) ||
	    scram_next_field(in, len, &pos, &server))
		return 0;
	if (str_to_uint32((const uint8_t *)iter.p, iter.len, &r->iterations) <= 0 ||
	    r->iterations < SCRAM_ITERATIONS_MIN || r->iterations > SCRAM_ITERATIONS_MAX) {
		*error_r = "Invalid SCRAM iteration count in credentials";
		return 0;
	}
	if (!scram_salt_valid(&r->salt_b64) ||
	    !scram_base64_decode_exact(stored.p, stored.len, r->stored_key, hash_len) ||
	    !scram_base64_decode_exact(server.p, server.len, r->server_key, hash_len))
		return 0;
	return 1;
}
