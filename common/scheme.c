/* scheme: the scheme table, the {SCHEME} prefix parser and the decoding
 * layer (password-schemes.md 2.1-2.4). The verifiers and generators live in
 * the family files scheme_digest.c, scheme_crypt.c, scheme_kdf.c,
 * scheme_sasl.c, scheme_scram.c, scheme_otp.c. */
#include "common/scheme.h"
#include "common/base64.h"
#include "common/scheme_private.h"
#include "common/secret.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SCHEME_ERROR_MAX 160u
#define SCHEME_ERROR_NAME_MAX 40u

#define ALIASES(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct scheme scheme_table[] = {
	{ .name = "PLAIN", .aliases = ALIASES("CLEAR", "CLEARTEXT"), .cred_class = "PLAIN",
	  .default_enc = SCHEME_ENC_NONE, .cleartext = true, .verify = scheme_plain_verify,
	  .generate = scheme_plain_generate },
	{ .name = "PLAIN-TRUNC", .cred_class = "PLAIN", .default_enc = SCHEME_ENC_NONE,
	  .weak = true, .cleartext = true, .verify = scheme_plain_trunc_verify,
	  .generate = scheme_plain_generate },
	{ .name = "SHA1", .aliases = ALIASES("SHA"), .cred_class = "SHA1",
	  .default_enc = SCHEME_ENC_BASE64, .raw_len = 20, .md = SCHEME_MD_SHA1, .weak = true,
	  .verify = scheme_digest_verify, .generate = scheme_digest_generate },
	{ .name = "SHA256", .cred_class = "SHA256", .default_enc = SCHEME_ENC_BASE64,
	  .raw_len = 32, .md = SCHEME_MD_SHA256, .verify = scheme_digest_verify,
	  .generate = scheme_digest_generate },
	{ .name = "SHA512", .cred_class = "SHA512", .default_enc = SCHEME_ENC_BASE64,
	  .raw_len = 64, .md = SCHEME_MD_SHA512, .verify = scheme_digest_verify,
	  .generate = scheme_digest_generate },
	{ .name = "PLAIN-MD4", .cred_class = "PLAIN-MD4", .default_enc = SCHEME_ENC_HEX,
	  .raw_len = 16, .md = SCHEME_MD_MD4, .weak = true, .verify = scheme_digest_verify,
	  .generate = scheme_digest_generate },
	{ .name = "PLAIN-MD5", .cred_class = "PLAIN-MD5", .default_enc = SCHEME_ENC_HEX,
	  .raw_len = 16, .md = SCHEME_MD_MD5, .weak = true, .verify = scheme_digest_verify,
	  .generate = scheme_digest_generate },
	{ .name = "LDAP-MD5", .cred_class = "PLAIN-MD5", .default_enc = SCHEME_ENC_BASE64,
	  .raw_len = 16, .md = SCHEME_MD_MD5, .weak = true, .verify = scheme_digest_verify,
	  .generate = scheme_digest_generate },
	{ .name = "MD5", .cred_class = "MD5-CRYPT", .default_enc = SCHEME_ENC_NONE,
	  .md = SCHEME_MD_MD5, .weak = true, .expensive = true, .verify = scheme_md5_verify,
	  .generate = scheme_md5_crypt_generate },
	{ .name = "MD5-CRYPT", .cred_class = "MD5-CRYPT", .default_enc = SCHEME_ENC_NONE,
	  .weak = true, .expensive = true, .verify = scheme_md5_crypt_verify,
	  .generate = scheme_md5_crypt_generate },
	{ .name = "SMD5", .cred_class = "SMD5", .default_enc = SCHEME_ENC_BASE64,
	  .md = SCHEME_MD_MD5, .weak = true, .verify = scheme_salted_verify,
	  .generate = scheme_salted_generate },
	{ .name = "SSHA", .cred_class = "SSHA", .default_enc = SCHEME_ENC_BASE64,
	  .md = SCHEME_MD_SHA1, .verify = scheme_salted_verify,
	  .generate = scheme_salted_generate },
	{ .name = "SSHA256", .cred_class = "SSHA256", .default_enc = SCHEME_ENC_BASE64,
	  .md = SCHEME_MD_SHA256, .verify = scheme_salted_verify,
	  .generate = scheme_salted_generate },
	{ .name = "SSHA512", .cred_class = "SSHA512", .default_enc = SCHEME_ENC_BASE64,
	  .md = SCHEME_MD_SHA512, .verify = scheme_salted_verify,
	  .generate = scheme_salted_generate },
	{ .name = "CRYPT", .cred_class = "CRYPT", .default_enc = SCHEME_ENC_NONE,
	  .expensive = true, .verify = scheme_crypt_verify,
	  .generate = scheme_blf_crypt_generate },
	{ .name = "BLF-CRYPT", .cred_class = "CRYPT", .default_enc = SCHEME_ENC_NONE,
	  .expensive = true, .verify = scheme_blf_crypt_verify,
	  .generate = scheme_blf_crypt_generate },
	{ .name = "DES-CRYPT", .cred_class = "DES-CRYPT", .default_enc = SCHEME_ENC_NONE,
	  .weak = true, .expensive = true, .verify = scheme_crypt_verify,
	  .generate = scheme_des_crypt_generate },
	{ .name = "SHA256-CRYPT", .cred_class = "SHA256-CRYPT", .default_enc = SCHEME_ENC_NONE,
	  .md = SCHEME_MD_SHA256, .expensive = true, .verify = scheme_crypt_verify,
	  .generate = scheme_sha_crypt_generate },
	{ .name = "SHA512-CRYPT", .cred_class = "SHA512-CRYPT", .default_enc = SCHEME_ENC_NONE,
	  .md = SCHEME_MD_SHA512, .expensive = true, .verify = scheme_crypt_verify,
	  .generate = scheme_sha_crypt_generate },
	{ .name = "PBKDF2", .cred_class = "PBKDF2", .default_enc = SCHEME_ENC_NONE,
	  .md = SCHEME_MD_SHA1, .expensive = true, .verify = scheme_pbkdf2_verify,
	  .generate = scheme_pbkdf2_generate },
	{ .name = "ARGON2I", .cred_class = "ARGON2I", .default_enc = SCHEME_ENC_NONE,
	  .expensive = true, .verify = scheme_argon2_verify,
	  .generate = scheme_argon2i_generate },
	{ .name = "ARGON2ID", .cred_class = "ARGON2ID", .default_enc = SCHEME_ENC_NONE,
	  .expensive = true, .verify = scheme_argon2_verify,
	  .generate = scheme_argon2id_generate },
	{ .name = "CRAM-MD5", .cred_class = "CRAM-MD5", .default_enc = SCHEME_ENC_HEX,
	  .raw_len = SCHEME_CRAM_MD5_CONTEXT_LEN, .md = SCHEME_MD_MD5,
	  .verify = scheme_cram_md5_verify, .generate = scheme_cram_md5_generate },
	{ .name = "HMAC-MD5", .cred_class = "CRAM-MD5", .default_enc = SCHEME_ENC_HEX,
	  .raw_len = SCHEME_CRAM_MD5_CONTEXT_LEN, .md = SCHEME_MD_MD5, .weak = true,
	  .verify = scheme_cram_md5_verify, .generate = scheme_cram_md5_generate },
	{ .name = "DIGEST-MD5", .cred_class = "DIGEST-MD5", .default_enc = SCHEME_ENC_HEX,
	  .raw_len = 16, .md = SCHEME_MD_MD5, .verify = scheme_digest_md5_verify,
	  .generate = scheme_digest_md5_generate },
	{ .name = "SCRAM-SHA-1", .cred_class = "SCRAM-SHA-1", .default_enc = SCHEME_ENC_NONE,
	  .md = SCHEME_MD_SHA1, .expensive = true, .verify = scheme_scram_verify,
	  .generate = scheme_scram_generate },
	{ .name = "SCRAM-SHA-256", .cred_class = "SCRAM-SHA-256", .default_enc = SCHEME_ENC_NONE,
	  .md = SCHEME_MD_SHA256, .expensive = true, .verify = scheme_scram_verify,
	  .generate = scheme_scram_generate },
	{ .name = "OTP", .cred_class = "OTP", .default_enc = SCHEME_ENC_NONE,
	  .expensive = true, .verify = scheme_otp_verify, .generate = scheme_otp_generate },
	/* authd's additions: not in `doveadm pw -l`. */
	{ .name = "YESCRYPT", .cred_class = "YESCRYPT", .default_enc = SCHEME_ENC_NONE,
	  .expensive = true, .extra = true, .gen_label = "CRYPT",
	  .verify = scheme_crypt_verify, .generate = scheme_yescrypt_generate },
	{ .name = "SCRAM-SHA-512", .cred_class = "SCRAM-SHA-512", .default_enc = SCHEME_ENC_NONE,
	  .md = SCHEME_MD_SHA512, .expensive = true, .extra = true,
	  .verify = scheme_scram_verify, .generate = scheme_scram_generate },
};

#define SCHEME_COUNT (sizeof(scheme_table) / sizeof(scheme_table[0]))

static _Thread_local char scheme_errbuf[SCHEME_ERROR_MAX];

const char *scheme_errorf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(scheme_errbuf, sizeof(scheme_errbuf), fmt, ap);
	va_end(ap);
	return scheme_errbuf;
}

static void scheme_index_prepare(void);

int scheme_init(void)
{
	if (sodium_init() < 0)
		return -1;
	scheme_digest_init();
	scheme_index_prepare();   /* also done on first lookup, for callers without init */
	return 0;
}

bool scheme_has_prefix(const uint8_t *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)prefix[i])
			return false;
	return true;
}

/* name (upper case, NUL-terminated) equals (p, len) ignoring ASCII case;
 * no strlen first, it stops at the first difference. */
static bool scheme_name_eq(const char *name, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (name[i] != c || c == '\0')
			return false;
	}
	return name[len] == '\0';
}

/* Every name and alias in an open-addressing hash table, built on first
 * use: a lookup hashes the name once and usually compares one entry
 * (request handling looks up the stored and the wanted scheme for every
 * login). */
#define SCHEME_INDEX_SIZE 256u   /* power of two, several times the names */

static const char *scheme_index_name[SCHEME_INDEX_SIZE];
static const struct scheme *scheme_index[SCHEME_INDEX_SIZE];
static bool scheme_index_ok;
static pthread_once_t scheme_index_once = PTHREAD_ONCE_INIT;

/* FNV-1a over the upper-cased bytes. */
static uint32_t scheme_name_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)p[i];
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 'a' + 'A');
		h = (h ^ c) * 16777619u;
	}
	return h;
}

static void scheme_index_add(const char *name, const struct scheme *s, size_t *count)
{
	size_t i = scheme_name_hash(name, strlen(name)) & (SCHEME_INDEX_SIZE - 1);
	while (scheme_index_name[i] != NULL)
		i = (i + 1) & (SCHEME_INDEX_SIZE - 1);
	scheme_index_name[i] = name;
	scheme_index[i] = s;
	(*count)++;
}

static void scheme_index_build(void)
{
	size_t count = 0;
	for (size_t k = 0; k < SCHEME_COUNT && count < SCHEME_INDEX_SIZE / 2; k++) {
		const struct scheme *s = &scheme_table[k];
		scheme_index_add(s->name, s, &count);
		for (size_t a = 0; s->aliases != NULL && s->aliases[a] != NULL; a++)
			scheme_index_add(s->aliases[a], s, &count);
	}
	/* too many names for the table: lookups scan scheme_table instead */
	scheme_index_ok = count < SCHEME_INDEX_SIZE / 2;
}

static const struct scheme *scheme_find_linear(const char *p, size_t len)
{
	for (size_t i = 0; i < SCHEME_COUNT; i++) {
		const struct scheme *s = &scheme_table[i];
		if (scheme_name_eq(s->name, p, len))
			return s;
		for (size_t a = 0; s->aliases != NULL && s->aliases[a] != NULL; a++)
			if (scheme_name_eq(s->aliases[a], p, len))
				return s;
	}
	return NULL;
}

static void scheme_index_prepare(void)
{
	pthread_once(&scheme_index_once, scheme_index_build);
}

static const struct scheme *scheme_find_n(const char *p, size_t len)
{
	scheme_index_prepare();
	if (!scheme_index_ok)
		return scheme_find_linear(p, len);
	for (size_t i = scheme_name_hash(p, len) & (SCHEME_INDEX_SIZE - 1);
	     scheme_index_name[i] != NULL; i = (i + 1) & (SCHEME_INDEX_SIZE - 1)) {
		if (scheme_name_eq(scheme_index_name[i], p, len))
			return scheme_index[i];
	}
	return NULL;
}

const struct scheme *scheme_find(const char *name)
{
	return scheme_find_n(name, strlen(name));
}

const char *scheme_name(const struct scheme *scheme)
{
	return scheme->name;
}

/* `doveadm pw -l` on Dovecot 2.3.19 (hash-table order, kept so that
 * scripts comparing the two outputs see the same line). */
static const char *const scheme_doveadm_names[] = {
	"SHA1", "SSHA512", "SCRAM-SHA-256", "BLF-CRYPT", "PLAIN", "HMAC-MD5", "OTP", "SHA512",
	"SHA", "DES-CRYPT", "CRYPT", "SSHA", "MD5-CRYPT", "PLAIN-MD4", "PLAIN-MD5",
	"SCRAM-SHA-1", "SHA512-CRYPT", "CLEAR", "CLEARTEXT", "ARGON2I", "ARGON2ID", "SSHA256",
	"MD5", "PBKDF2", "SHA256", "CRAM-MD5", "PLAIN-TRUNC", "SHA256-CRYPT", "SMD5",
	"DIGEST-MD5", "LDAP-MD5",
};

const char *scheme_list_name(size_t i)
{
	if (i >= sizeof(scheme_doveadm_names) / sizeof(scheme_doveadm_names[0]))
		return NULL;
	return scheme_doveadm_names[i];
}

const char *scheme_list_extra_name(size_t i)
{
	for (size_t k = 0; k < SCHEME_COUNT; k++) {
		if (!scheme_table[k].extra)
			continue;
		if (i-- == 0)
			return scheme_table[k].name;
	}
	return NULL;
}

bool scheme_same_credentials(const struct scheme *a, const struct scheme *b)
{
	return a == b || strcmp(a->cred_class, b->cred_class) == 0;   /* not secret */
}

bool scheme_is_weak(const struct scheme *scheme)
{
	return scheme->weak;
}

/* "Unknown scheme X" with X printable and capped: the name comes from a
 * database and ends up in logs. */
static const char *scheme_unknown_error(const char *p, size_t len)
{
	char name[SCHEME_ERROR_NAME_MAX + 4];
	size_t n = 0;
	for (size_t i = 0; i < len && n < SCHEME_ERROR_NAME_MAX; i++)
		name[n++] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	if (len > SCHEME_ERROR_NAME_MAX) {
		memcpy(name + n, "...", 3);
		n += 3;
	}
	name[n] = '\0';
	return scheme_errorf("Unknown scheme %s", name);
}

int scheme_lookup_spec(const char *p, size_t len, const struct scheme **scheme_r,
		       enum scheme_encoding *enc_r, bool *explicit_r)
{
	const char *dot = memchr(p, '.', len);
	size_t name_len = dot != NULL ? (size_t)(dot - p) : len;
	if (name_len > SCHEME_NAME_MAX || (*scheme_r = scheme_find_n(p, name_len)) == NULL)
		return 0;
	*explicit_r = dot != NULL;
	if (dot == NULL) {
		*enc_r = (*scheme_r)->default_enc;
		return 1;
	}
	const char *enc = dot + 1;
	size_t enc_len = len - name_len - 1;
	if (scheme_name_eq("B64", enc, enc_len) || scheme_name_eq("BASE64", enc, enc_len))
		*enc_r = SCHEME_ENC_BASE64;
	else if (scheme_name_eq("HEX", enc, enc_len))
		*enc_r = SCHEME_ENC_HEX;
	else
		return 0;
	return 1;
}

bool scheme_spec_valid(const char *spec)
{
	const struct scheme *s;
	enum scheme_encoding enc;
	bool explicit_enc;
	return scheme_lookup_spec(spec, strlen(spec), &s, &enc, &explicit_enc) == 1;
}

/* Splits off the scheme part of stored. Returns 1 with the spec (name and
 * suffix) and data, or 0 when there is no prefix. */
static int scheme_split_prefix(const char *stored, size_t len, enum scheme_prefix_rule rule,
			       const char **spec_r, size_t *spec_len_r, size_t *data_off_r,
			       size_t *data_len_r)
{
	if (rule == SCHEME_PREFIX_PASSWD_FILE &&
	    scheme_has_prefix((const uint8_t *)stored, len, "$1$")) {
		const char *salt_end = memchr(stored + 3, '$', len - 3);
		if (salt_end != NULL) {
			size_t after = (size_t)(salt_end - stored) + 1;
			const char *cut = memchr(stored + after, '$', len - after);
			*spec_r = "MD5-CRYPT";
			*spec_len_r = 9;
			*data_off_r = 0;
			*data_len_r = cut != NULL ? (size_t)(cut - stored) : len;
			return 1;
		}
	}
	if (len == 0 || stored[0] != '{')
		return 0;
	const char *close = memchr(stored, '}', len);
	if (close == NULL)
		return 0;
	*spec_r = stored + 1;
	*spec_len_r = (size_t)(close - stored) - 1;
	*data_off_r = (size_t)(close - stored) + 1;
	*data_len_r = len - *data_off_r;
	return 1;
}

int scheme_parse_stored(const char *stored, size_t len, const char *default_scheme,
			enum scheme_prefix_rule rule, struct scheme_stored *out,
			const char **error_r)
{
	const char *spec;
	size_t spec_len, data_off = 0, data_len = len;
	memset(out, 0, sizeof(*out));
	if (scheme_split_prefix(stored, len, rule, &spec, &spec_len, &data_off, &data_len) == 0) {
		if (default_scheme == NULL) {
			*error_r = "Missing {scheme} prefix";
			return 0;
		}
		spec = default_scheme;
		spec_len = strlen(default_scheme);
	}
	out->spec = spec;
	out->spec_len = spec_len;
	if (scheme_lookup_spec(spec, spec_len, &out->scheme, &out->enc, &out->enc_explicit) == 0) {
		out->scheme = NULL;
		*error_r = scheme_unknown_error(spec, spec_len);
		return 0;
	}
	out->scheme_name = out->scheme->name;
	out->data = stored + data_off;
	out->data_len = data_len;
	size_t raw_len = out->scheme->raw_len;
	if (!out->enc_explicit && out->enc != SCHEME_ENC_NONE && raw_len != 0) {
		bool hex = data_len == raw_len * 2 &&
			   hex_is_valid((const uint8_t *)out->data, data_len);
		out->enc = hex ? SCHEME_ENC_HEX : SCHEME_ENC_BASE64;
	}
	return 1;
}

bool scheme_is_expensive(const struct scheme_stored *stored)
{
	return stored->scheme->expensive;
}

int scheme_decode_to(const struct scheme_stored *stored, struct buf *out,
		     const char *limit_error, const char **error_r)
{
	const uint8_t *data = (const uint8_t *)stored->data;
	size_t start = out->len;
	int ret;
	switch (stored->enc) {
	case SCHEME_ENC_NONE:
		ret = buf_append(out, data, stored->data_len) < 0 ? -1 : 1;
		break;
	case SCHEME_ENC_HEX:
		ret = hex_decode(out, data, stored->data_len);
		if (ret == 0)
			*error_r = "Input isn't valid HEX encoded data";
		break;
	case SCHEME_ENC_BASE64:
	default:
		ret = base64_decode_lenient(out, data, stored->data_len);
		if (ret == 0)
			*error_r = "Input isn't valid base64 encoded data";
		break;
	}
	if (ret < 0)
		*error_r = limit_error;
	if (ret <= 0)
		return -1;
	size_t want = stored->scheme->raw_len, got = out->len - start;
	if (want != 0 && got != want) {
		*error_r = scheme_errorf("Input length isn't valid (%zu instead of %zu)", got, want);
		return -1;
	}
	return 1;
}

int scheme_decode(const struct scheme_stored *stored, struct buf *raw, const char **error_r)
{
	return scheme_decode_to(stored, raw, "Stored password is too long", error_r);
}

int scheme_verify(const struct scheme_stored *stored, const uint8_t *password,
		  size_t password_len, const char *user, const char **error_r)
{
	const struct scheme *s = stored->scheme;
	struct buf raw = BUF_INIT(stored->data_len + 1);
	struct scheme_verify_in in = {
		.pw = password, .pw_len = password_len, .user = user,
	};
	int ret;
	if (stored->enc == SCHEME_ENC_NONE) {
		/* No copy needed: the verifiers take (ptr, len). */
		in.raw = (const uint8_t *)stored->data;
		in.raw_len = stored->data_len;
		return s->verify(s, &in, error_r);
	}
	if (scheme_decode(stored, &raw, error_r) < 0) {
		buf_free(&raw);
		return -1;
	}
	in.raw = raw.data != NULL ? raw.data : (const uint8_t *)"";
	in.raw_len = raw.len;
	ret = s->verify(s, &in, error_r);
	buf_free(&raw);
	return ret;
}
