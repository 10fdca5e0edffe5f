/* vars_func: the %{...} functions of Dovecot 2.3: hashes
 * (%{md5;rounds=2,truncate=16,format=base64,salt=...:user}, pkcs5) through
 * OpenSSL EVP, and %{if;lhs;op;rhs;then;else}. Thread-safe. */
#include "authd/vars_private.h"
#include "common/base64.h"
#include "common/secret.h"
#include "common/strnum.h"

#include <openssl/evp.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define VAR_IF_PARAMS 5      /* lhs op rhs then else */
#define VAR_PKCS5_ROUNDS 2048
#define VAR_PKCS5_DK_LEN 256 /* Dovecot passes HMAC_MAX_CONTEXT_SIZE */

/* ---- %{if;lhs;op;rhs;then;else} ---- */

enum var_if_op {
	VAR_OP_NUM_EQ, VAR_OP_NUM_NE, VAR_OP_NUM_LT, VAR_OP_NUM_LE, VAR_OP_NUM_GT,
	VAR_OP_NUM_GE, VAR_OP_STR_EQ, VAR_OP_STR_NE, VAR_OP_STR_LT, VAR_OP_STR_LE,
	VAR_OP_STR_GT, VAR_OP_STR_GE, VAR_OP_LIKE, VAR_OP_NOT_LIKE, VAR_OP_REGEX,
	VAR_OP_NOT_REGEX,
};

static const char *const var_if_ops[] = {
	[VAR_OP_NUM_EQ] = "==", [VAR_OP_NUM_NE] = "!=", [VAR_OP_NUM_LT] = "<",
	[VAR_OP_NUM_LE] = "<=", [VAR_OP_NUM_GT] = ">", [VAR_OP_NUM_GE] = ">=",
	[VAR_OP_STR_EQ] = "eq", [VAR_OP_STR_NE] = "ne", [VAR_OP_STR_LT] = "lt",
	[VAR_OP_STR_LE] = "le", [VAR_OP_STR_GT] = "gt", [VAR_OP_STR_GE] = "ge",
	[VAR_OP_LIKE] = "*", [VAR_OP_NOT_LIKE] = "!*", [VAR_OP_REGEX] = "~",
	[VAR_OP_NOT_REGEX] = "!~",
};

/* Dovecot's str_to_intmax: optional '-', decimal digits. */
static bool var_parse_int(const char *s, int64_t *num_r)
{
	bool neg = *s == '-';
	uint64_t n;
	s += neg;
	if (!str_to_uint64((const uint8_t *)s, strlen(s), &n) ||
	    n > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	*num_r = neg ? (int64_t)(0 - n) : (int64_t)n;
	return true;
}

/* Wildcard match of s against mask: '*' any run, '?' any byte. */
static bool var_wildcard(const char *s, const char *m)
{
	const char *star = NULL, *retry = NULL;
	while (*s != '\0') {
		if (*m == '*') {
			star = m++;
			retry = s;
		} else if (*m == '?' || *m == *s) {
			s++;
			m++;
		} else if (star != NULL) {
			m = star + 1;
			s = ++retry;
		} else
			return false;
	}
	while (*m == '*')
		m++;
	return *m == '\0';
}

static int var_if_regex(struct var_state *st, const char *lhs, const char *rhs, bool *res)
{
	regex_t re;
	if (strlen(rhs) > VAR_REGEX_MAX_LEN)
		return var_fail(st, "if: regex too long");
	if (regcomp(&re, rhs, REG_EXTENDED | REG_NOSUB) != 0)
		return var_fail(st, "if: regex failed");
	*res = regexec(&re, lhs, 0, NULL, 0) == 0;
	regfree(&re);
	return 1;
}

static int var_if_compare(struct var_state *st, const char *lhs, const char *op,
			  const char *rhs, bool *res)
{
	size_t i = 0, n = sizeof(var_if_ops) / sizeof(var_if_ops[0]);
	int64_t a, b;
	while (i < n && strcmp(op, var_if_ops[i]) != 0)
		i++;
	if (i == n)
		return var_fail(st, "if: Unsupported comparator");
	if (i <= VAR_OP_NUM_GE) {
		if (!var_parse_int(lhs, &a) || !var_parse_int(rhs, &b))
			return var_fail(st, "if: operand is not a number");
	} else {
		a = strcmp(lhs, rhs);
		b = 0;
	}
	switch ((enum var_if_op)i) {
	case VAR_OP_NUM_EQ: case VAR_OP_STR_EQ: *res = a == b; break;
	case VAR_OP_NUM_NE: case VAR_OP_STR_NE: *res = a != b; break;
	case VAR_OP_NUM_LT: case VAR_OP_STR_LT: *res = a < b; break;
	case VAR_OP_NUM_LE: case VAR_OP_STR_LE: *res = a <= b; break;
	case VAR_OP_NUM_GT: case VAR_OP_STR_GT: *res = a > b; break;
	case VAR_OP_NUM_GE: case VAR_OP_STR_GE: *res = a >= b; break;
	case VAR_OP_LIKE: *res = var_wildcard(lhs, rhs); break;
	case VAR_OP_NOT_LIKE: *res = !var_wildcard(lhs, rhs); break;
	case VAR_OP_REGEX: case VAR_OP_NOT_REGEX:
		if (var_if_regex(st, lhs, rhs, res) == 0)
			return 0;
		*res = *res != (i == VAR_OP_NOT_REGEX);
		break;
	}
	return 1;
}

/* Splits the if arguments at top-level ';' into NUL-terminated, unescaped
 * pieces in pb; start[i] is where piece i begins (i < VAR_IF_PARAMS).
 * Returns 0, or -1 at pb's limit; *n_r is the number of pieces. */
static int var_if_split(const char *p, size_t len, struct buf *pb,
			size_t start[VAR_IF_PARAMS], unsigned int *n_r)
{
	unsigned int n = 0, depth = 0;
	bool esc = false;
	start[0] = 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (!esc && c == '\\') {
			esc = true;
			continue;
		}
		if (!esc && c == ';' && depth == 0) {
			if (buf_append_byte(pb, 0) < 0)
				return -1;
			if (++n < VAR_IF_PARAMS)
				start[n] = pb->len;
			continue;
		}
		if (!esc && c == '{')
			depth++;
		else if (!esc && c == '}' && depth > 0)
			depth--;
		esc = false;
		if (buf_append_byte(pb, (uint8_t)c) < 0)
			return -1;
	}
	/* an empty last piece is dropped, as Dovecot does */
	if (n < VAR_IF_PARAMS && pb->len > start[n])
		n++;
	else if (n >= VAR_IF_PARAMS && pb->len > 0 && pb->data[pb->len - 1] != 0)
		n++;
	*n_r = n;
	return buf_append_byte(pb, 0);
}

static int var_if_expand(struct var_state *st, struct buf *pb, const size_t *start,
			 unsigned int i, struct buf *out, unsigned int depth)
{
	const char *p = (const char *)pb->data + start[i];
	return var_expand_range(st, out, p, p + strlen(p), depth + 1);
}

static int var_func_if(struct var_state *st, const char *args, size_t len,
		       struct var_frame *f, unsigned int depth, struct var_value *v)
{
	struct buf pb = BUF_INIT(st->limit), op = BUF_INIT(st->limit);
	struct buf lhs = BUF_INIT(st->limit), rhs = BUF_INIT(st->limit);
	size_t start[VAR_IF_PARAMS];
	bool res = false, esc = st->escape_on;
	unsigned int n = 0;
	int ret = var_if_split(args, len, &pb, start, &n) < 0 ? -1 : 1;

	if (ret == 1 && n != VAR_IF_PARAMS && n != VAR_IF_PARAMS - 1) {
		snprintf(var_error_buf(), VAR_ERROR_MAX,
			 "if: requires four or five parameters, got %u", n);
		ret = var_fail(st, var_error_buf());
	}
	st->escape_on = false;   /* compare the raw values */
	if (ret == 1 && (ret = var_if_expand(st, &pb, start, 0, &lhs, depth)) == 1 &&
	    (ret = var_if_expand(st, &pb, start, 1, &op, depth)) == 1 &&
	    (ret = var_if_expand(st, &pb, start, 2, &rhs, depth)) == 1)
		ret = var_if_compare(st, buf_cstr(&lhs), buf_cstr(&op), buf_cstr(&rhs), &res);
	st->escape_on = esc;
	if (ret == 1) {   /* the value is built in slot 0 */
		buf_reset(&f->tmp[0]);
		ret = res ? var_if_expand(st, &pb, start, 3, &f->tmp[0], depth) :
		      n == VAR_IF_PARAMS ? var_if_expand(st, &pb, start, 4, &f->tmp[0], depth) : 1;
		var_set_slot(v, f, 0);
		v->escaped = true;
	}
	if (ret < 0 && st->error == NULL)
		var_limit(st);
	buf_free(&pb);
	buf_free(&op);
	buf_free(&lhs);
	buf_free(&rhs);
	return ret;
}

/* ---- %{method;options:field} hashes ---- */

static const struct var_hash_method {
	const char *name;
	const EVP_MD *(*md)(void);
} var_hash_methods[] = {
	{ "md4", EVP_md4 }, { "md5", EVP_md5 }, { "sha1", EVP_sha1 },
	{ "sha256", EVP_sha256 }, { "sha384", EVP_sha384 }, { "sha512", EVP_sha512 },
	{ "sha3-256", EVP_sha3_256 }, { "sha3-512", EVP_sha3_512 },
	{ "pkcs5", EVP_sha256 },   /* PBKDF2-HMAC-SHA256 */
};

enum var_hash_format { VAR_HASH_HEX, VAR_HASH_BASE64 };

struct var_hash_args {
	const struct var_hash_method *method;
	bool pkcs5;
	unsigned int rounds, truncbits;
	enum var_hash_format format;
	const char *salt, *field;   /* template ranges */
	size_t salt_len, field_len;
};

/* Finds the method named by name up to the first ';' or ':'. */
static const struct var_hash_method *var_hash_find(const char *name, size_t len)
{
	size_t n = 0;
	while (n < len && name[n] != ';' && name[n] != ':')
		n++;
	for (size_t i = 0; i < sizeof(var_hash_methods) / sizeof(var_hash_methods[0]); i++) {
		const char *m = var_hash_methods[i].name;
		if (strncasecmp(m, name, n) == 0 && m[n] == '\0')
			return &var_hash_methods[i];
	}
	return NULL;
}

static int var_hash_option(struct var_state *st, struct var_hash_args *a, const char *k,
			   size_t klen, const char *val, size_t vlen)
{
	uint32_t n;
	size_t bits = (size_t)EVP_MD_get_size(a->method->md()) * 8;  /* pkcs5 too */
	if (klen == 6 && memcmp(k, "rounds", 6) == 0) {
		if (!str_to_uint32((const uint8_t *)val, vlen, &n) || n < 1)
			return var_fail(st, "Cannot parse hash arguments: invalid rounds");
		if (n > VAR_HASH_MAX_ROUNDS)
			return var_fail(st, "Cannot parse hash arguments: too many rounds");
		a->rounds = n;
	} else if (klen == 8 && memcmp(k, "truncate", 8) == 0) {
		if (!str_to_uint32((const uint8_t *)val, vlen, &n))
			return var_fail(st, "Cannot parse hash arguments: invalid truncate");
		a->truncbits = n < bits ? n : (unsigned int)bits;
	} else if (klen == 6 && memcmp(k, "format", 6) == 0) {
		if ((vlen == 3 && memcmp(val, "hex", 3) == 0) ||
		    (vlen == 5 && memcmp(val, "hexuc", 5) == 0))
			a->format = VAR_HASH_HEX;   /* hexuc: lowercase in 2.3.19 */
		else if (vlen == 6 && memcmp(val, "base64", 6) == 0)
			a->format = VAR_HASH_BASE64;
		else
			return var_fail(st, "Cannot parse hash arguments: unsupported format");
	}
	return 1;
}

static int var_hash_parse(struct var_state *st, const char *name, size_t len,
			  struct var_hash_args *a)
{
	const char *end = name + len, *colon = memchr(name, ':', len);
	const char *p = memchr(name, ';', len);
	a->rounds = a->pkcs5 ? VAR_PKCS5_ROUNDS : 1;
	a->field = colon != NULL ? colon + 1 : end;
	a->field_len = (size_t)(end - a->field);
	if (a->pkcs5) {
		a->salt = a->field;   /* Dovecot: the variable's name */
		a->salt_len = a->field_len;
	}
	if (p == NULL || (colon != NULL && p > colon))
		return 1;
	for (p++; p < (colon != NULL ? colon : end);) {
		const char *optend = colon != NULL ? colon : end;
		const char *comma = memchr(p, ',', (size_t)(optend - p));
		const char *item_end = comma != NULL ? comma : optend;
		const char *eq = memchr(p, '=', (size_t)(item_end - p));
		if (eq != NULL && eq - p == 4 && memcmp(p, "salt", 4) == 0) {
			a->salt = eq + 1;   /* salt ends the options */
			a->salt_len = (size_t)(item_end - a->salt);
			return 1;
		}
		if (eq != NULL && var_hash_option(st, a, p, (size_t)(eq - p), eq + 1,
						  (size_t)(item_end - eq - 1)) == 0)
			return 0;
		p = item_end + 1;
	}
	return 1;
}

/* Keeps the leading bits of d as a big-endian number; returns the length. */
static size_t var_truncate_bits(uint8_t *d, size_t len, unsigned int bits)
{
	if (bits == 0 || bits > len * 8)
		return len;
	size_t bytes = (bits + 7) / 8;
	unsigned int rem = bits % 8;
	if (rem != 0) {
		for (size_t i = bytes - 1; i > 0; i--)
			d[i] = (uint8_t)(d[i] >> (8 - rem) | d[i - 1] << rem);
		d[0] = (uint8_t)(d[0] >> (8 - rem));
	}
	return bytes;
}

/* out = H^rounds with H(x) = md(salt || x); or PBKDF2 for pkcs5. */
static int var_hash_compute(const struct var_hash_args *a, const struct buf *salt,
			    const struct var_value *in, uint8_t *out, size_t *out_len)
{
	const EVP_MD *md = a->method->md();
	if (a->pkcs5) {
		*out_len = VAR_PKCS5_DK_LEN;
		return PKCS5_PBKDF2_HMAC(in->p, (int)in->len,
					 salt->len > 0 ? salt->data : (const uint8_t *)"", (int)salt->len,
					 (int)a->rounds, md, VAR_PKCS5_DK_LEN, out) == 1 ? 1 : -1;
	}
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const uint8_t *cur = (const uint8_t *)in->p;
	size_t cur_len = in->len;
	unsigned int md_len = 0;
	int ok = c != NULL;
	for (unsigned int r = 0; ok && r < a->rounds; r++) {
		ok = EVP_DigestInit_ex(c, md, NULL) == 1 &&
		     (salt->len == 0 || EVP_DigestUpdate(c, salt->data, salt->len) == 1) &&
		     EVP_DigestUpdate(c, cur, cur_len) == 1 &&
		     EVP_DigestFinal_ex(c, out, &md_len) == 1;
		cur = out;
		cur_len = md_len;
	}
	EVP_MD_CTX_free(c);
	*out_len = md_len;
	return ok ? 1 : -1;
}

static int var_func_hash(struct var_state *st, const char *name, size_t len,
			 struct var_frame *f, unsigned int depth, struct var_value *v)
{
	struct var_hash_args a = { .method = var_hash_find(name, len) };
	struct buf salt = BUF_INIT(st->limit);
	struct var_frame sub;
	struct var_value in;
	uint8_t dk[VAR_PKCS5_DK_LEN];
	size_t dk_len = 0;
	bool esc = st->escape_on;
	int ret;

	a.pkcs5 = strcmp(a.method->name, "pkcs5") == 0;
	var_frame_init(&sub, st->limit);
	st->escape_on = false;   /* hash the raw values */
	if ((ret = var_hash_parse(st, name, len, &a)) == 1 &&
	    (a.salt == NULL ||
	     (ret = var_expand_range(st, &salt, a.salt, a.salt + a.salt_len, depth + 1)) == 1) &&
	    (ret = var_resolve_long(st, a.field, a.field_len, &sub, depth + 1, &in)) == 1 &&
	    (ret = var_hash_compute(&a, &salt, &in, dk, &dk_len)) < 0)
		st->error = "Cannot hash: digest failed (md4 needs the legacy provider)";
	st->escape_on = esc;
	if (ret == 1) {   /* the value is built in slot 0 */
		struct buf *b = &f->tmp[0];
		dk_len = var_truncate_bits(dk, dk_len, a.truncbits);
		buf_reset(b);
		ret = (a.format == VAR_HASH_HEX ? hex_encode(b, dk, dk_len) :
		       base64_encode(b, dk, dk_len)) < 0 ? var_limit(st) : 1;
		var_set_slot(v, f, 0);
	}
	secret_wipe(dk, sizeof(dk));
	buf_free(&salt);
	var_frame_free(&sub);
	return ret;
}


/* "if" followed by ';', ':' or the end. */
static bool var_func_is_if(const char *name, size_t len)
{
	return len >= 2 && strncasecmp(name, "if", 2) == 0 &&
	       (len == 2 || name[2] == ';' || name[2] == ':');
}

bool var_func_exists(const char *name, size_t len)
{
	return var_func_is_if(name, len) || var_hash_find(name, len) != NULL;
}

int var_func_call(struct var_state *st, const char *name, size_t len,
		  struct var_frame *f, unsigned int depth, struct var_value *v)
{
	if (!var_func_is_if(name, len))
		return var_func_hash(st, name, len, f, depth, v);
	if (len == 2 || name[2] != ';')
		return var_fail(st, "if: missing parameter(s)");
	return var_func_if(st, name + 3, len - 3, f, depth, v);
}
