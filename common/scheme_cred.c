/* scheme_cred: credentials for the mechanisms that cannot work from a
 * plaintext (CRAM-MD5, DIGEST-MD5, SCRAM-*; APOP wants PLAIN), from a parsed
 * stored password, by Dovecot's passdb_get_credentials() rules
 * (password-schemes.md section 4, dovecot-auth-protocol.md 5.2). */
#include "common/scheme_private.h"
#include "common/secret.h"

#include <string.h>

#define SCHEME_CRED_NAME_MAX 40u

/* A printable, capped copy of (p, len) for an error text. */
static void scheme_cred_name(char *dst, size_t size, const char *p, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < size; i++)
		dst[n++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	if (len > n && n + 4 <= size) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

static int scheme_cred_unavailable(const struct scheme_stored *stored, const char *wanted,
				   const char **error_r)
{
	char want[SCHEME_CRED_NAME_MAX + 4], have[SCHEME_CRED_NAME_MAX + 4];
	scheme_cred_name(want, sizeof(want), wanted, strlen(wanted));
	scheme_cred_name(have, sizeof(have), stored->spec != NULL ? stored->spec :
			 stored->scheme_name, stored->spec != NULL ? stored->spec_len :
			 strlen(stored->scheme_name));
	*error_r = scheme_errorf("Requested %s scheme, but we have only %s", want, have);
	return 0;
}

/* The plaintext of a decoded cleartext value (PLAIN-TRUNC: without its
 * "N-" length prefix). Returns 0 or -1. */
static int scheme_cred_plaintext(const struct scheme_stored *stored, const struct buf *raw,
				 const uint8_t **pw_r, size_t *len_r, const char **error_r)
{
	*pw_r = raw->data != NULL ? raw->data : (const uint8_t *)"";
	*len_r = raw->len;
	if (strcmp(stored->scheme->name, "PLAIN-TRUNC") == 0)   /* not secret */
		return scheme_plain_trunc_split(*pw_r, *len_r, pw_r, len_r, error_r);
	return 0;
}

/* The wanted form generated from a plaintext. */
static int scheme_cred_generate(const struct scheme *want, const uint8_t *pw, size_t pw_len,
				const char *digest_user, const char *realm, struct buf *out,
				const char **error_r)
{
	if (want->cleartext)
		return buf_append(out, pw, pw_len) < 0 ? -1 : 0;
	if (want->generate == scheme_digest_md5_generate) {
		uint8_t digest[16];
		if (digest_user == NULL) {
			*error_r = "DIGEST-MD5 credentials need the user name";
			return -1;
		}
		scheme_digest_md5_raw(digest_user, strlen(digest_user), realm != NULL ? realm : "",
				      pw, pw_len, digest);
		int ret = buf_append(out, digest, sizeof(digest));
		secret_wipe(digest, sizeof(digest));
		return ret;
	}
	struct scheme_gen_in in = { .pw = pw, .pw_len = pw_len, .user = digest_user };
	return want->generate(want, &in, out, error_r);
}

/* The stored value's own decoded bytes, checked where the mechanism would
 * otherwise parse garbage (SCRAM). */
static int scheme_cred_same(const struct scheme_stored *stored, const struct scheme *want,
			    const struct buf *raw, struct buf *out, const char **error_r)
{
	const uint8_t *p = raw->data != NULL ? raw->data : (const uint8_t *)"";
	size_t len = raw->len;
	if (stored->scheme->cleartext &&
	    scheme_cred_plaintext(stored, raw, &p, &len, error_r) < 0)
		return -1;
	if (want->generate == scheme_scram_generate &&
	    scheme_scram_check(want, p, len, error_r) < 0)
		return -1;
	return buf_append(out, p, len) < 0 ? -1 : 0;
}

/* Returns 1 for ret 0; else drops a partial value from out and returns -1. */
static int scheme_cred_finish(struct buf *out, size_t start, int ret)
{
	if (ret == 0)
		return 1;
	buf_truncate(out, start);
	return -1;
}

int scheme_credentials(const struct scheme_stored *stored, const char *wanted,
		       const char *digest_user, const char *realm, struct buf *out,
		       const char **error_r)
{
	const struct scheme *want = scheme_find(wanted);
	const struct scheme *have = stored->scheme;
	bool same = want != NULL && scheme_same_credentials(have, want);
	if (!same && !have->cleartext)
		return scheme_cred_unavailable(stored, wanted, error_r);
	if (want == NULL) {
		*error_r = scheme_errorf("Requested unknown scheme %.*s",
					 (int)SCHEME_CRED_NAME_MAX, wanted);
		return -1;
	}
	size_t start = out->len;
	int ret;
	if (same && !have->cleartext && want->generate != scheme_scram_generate) {
		/* The stored bytes as they are (CRAM-MD5, DIGEST-MD5, ...):
		 * decoded straight into out. */
		ret = scheme_decode_to(stored, out, "Out of memory", error_r) < 0 ? -1 : 0;
		return scheme_cred_finish(out, start, ret);
	}
	struct buf raw = BUF_INIT(stored->data_len + 1);
	ret = scheme_decode(stored, &raw, error_r) < 0 ? -1 : 0;
	if (ret == 0) {
		*error_r = "Out of memory";   /* unless a step says otherwise */
		if (same) {
			ret = scheme_cred_same(stored, want, &raw, out, error_r);
		} else {
			const uint8_t *pw;
			size_t pw_len;
			ret = scheme_cred_plaintext(stored, &raw, &pw, &pw_len, error_r);
			if (ret == 0)
				ret = scheme_cred_generate(want, pw, pw_len, digest_user, realm,
							   out, error_r);
		}
	}
	buf_free(&raw);
	return scheme_cred_finish(out, start, ret);
}

bool scheme_credentials_expensive(const struct scheme_stored *stored, const char *wanted)
{
	const struct scheme *want = scheme_find(wanted);
	return want != NULL && stored->scheme->cleartext && !want->cleartext &&
	       want->expensive;
}
