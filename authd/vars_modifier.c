/* vars_modifier: the %-modifiers of Dovecot 2.3 (L U E X R H N M D T),
 * each appending its transform of a value to a buffer. Pure functions of
 * their input; thread-safe. */
#include "authd/vars_private.h"
#include "common/base64.h"
#include "common/strnum.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int var_mod_case(const char *p, size_t len, struct buf *out, bool upper)
{
	size_t start = out->len;
	if (buf_append(out, p, len) < 0)
		return -1;
	for (size_t i = start; i < out->len; i++) {
		uint8_t c = out->data[i];
		if (upper && c >= 'a' && c <= 'z')
			out->data[i] = (uint8_t)(c - 'a' + 'A');
		else if (!upper && c >= 'A' && c <= 'Z')
			out->data[i] = (uint8_t)(c - 'A' + 'a');
	}
	return 0;
}

static int var_mod_lower(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	(void)s;
	return var_mod_case(p, len, out, false);
}

static int var_mod_upper(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	(void)s;
	return var_mod_case(p, len, out, true);
}

static int var_mod_escape(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	(void)s;
	for (size_t i = 0; i < len; i++) {
		if ((p[i] == '\\' || p[i] == '"' || p[i] == '\'') &&
		    buf_append_byte(out, '\\') < 0)
			return -1;
		if (buf_append_byte(out, (uint8_t)p[i]) < 0)
			return -1;
	}
	return 0;
}

static int var_mod_hex(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	uint64_t n;
	(void)s;
	if (!str_to_uint64((const uint8_t *)p, len, &n))
		n = 0;
	return buf_printf(out, "%llx", (unsigned long long)n);
}

static int var_mod_reverse(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	(void)s;
	size_t start = out->len;
	if (buf_append(out, p, len) < 0)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		uint8_t c = out->data[start + i];
		out->data[start + i] = out->data[start + len - 1 - i];
		out->data[start + len - 1 - i] = c;
	}
	return 0;
}

/* H and N: hash mod width, zero-padded to offset; both are consumed. */
static int var_mod_hash_out(uint64_t value, struct var_spec *s, struct buf *out)
{
	char hex[16];
	int n = snprintf(hex, sizeof(hex), "%x", (unsigned int)value);
	for (int i = n; i < s->offset; i++)
		if (buf_append_byte(out, '0') < 0)
			return -1;
	s->offset = 0;
	return buf_append(out, hex, (size_t)n);
}

static int var_mod_hash(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	unsigned int h = 0, g;
	for (size_t i = 0; i < len; i++) {   /* Dovecot's str_hash (PJW) */
		h = (h << 4) + (uint8_t)p[i];
		if ((g = h & 0xf0000000u) != 0) {
			h ^= g >> 24;
			h ^= g;
		}
	}
	if (s->width != 0) {
		h %= (unsigned int)s->width;
		s->width = 0;
	}
	return var_mod_hash_out(h, s, out);
}

static int var_mod_newhash(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	uint64_t value = 0;
	if (EVP_Digest(p, len, md, NULL, EVP_md5(), NULL) != 1)
		return -1;
	for (unsigned int i = 0; i < 8; i++)
		value = value << 8 | md[i];
	if (s->width != 0) {
		value %= (uint64_t)(int64_t)s->width;
		s->width = 0;
	}
	return var_mod_hash_out(value, s, out);
}

static int var_mod_md5(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	(void)s;
	if (EVP_Digest(p, len, md, &md_len, EVP_md5(), NULL) != 1)
		return -1;
	return hex_encode(out, md, md_len);
}

static int var_mod_ldap_dn(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	(void)s;
	for (size_t i = 0; i < len; i++) {
		int ret = p[i] == '.' ? buf_append_str(out, ",dc=") :
					buf_append_byte(out, (uint8_t)p[i]);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int var_mod_trim(const char *p, size_t len, struct var_spec *s, struct buf *out)
{
	(void)s;
	while (len > 0 && strchr(" \t\n\v\f\r", p[len - 1]) != NULL)
		len--;
	return buf_append(out, p, len);
}

static const struct var_modifier {
	char key;
	var_modifier_fn *fn;
} var_modifiers[] = {
	{ 'L', var_mod_lower }, { 'U', var_mod_upper }, { 'E', var_mod_escape },
	{ 'X', var_mod_hex }, { 'R', var_mod_reverse }, { 'H', var_mod_hash },
	{ 'N', var_mod_newhash }, { 'M', var_mod_md5 }, { 'D', var_mod_ldap_dn },
	{ 'T', var_mod_trim },
};

var_modifier_fn *var_find_modifier(char c)
{
	for (size_t i = 0; i < sizeof(var_modifiers) / sizeof(var_modifiers[0]); i++)
		if (var_modifiers[i].key == c)
			return var_modifiers[i].fn;
	return NULL;
}
