/* db_ldap_escape: RFC 4515 / RFC 4514 escaping (see db_ldap_escape.h). */
#include "passdb/db_ldap_escape.h"
#include "common/buf.h"

#include <string.h>

/* Longest value escaped in one call: keeps 3*len far from overflow. */
#define LDAP_ESCAPE_INPUT_MAX (16u * 1024u * 1024u)

bool ldap_escape_needed(uint8_t c)
{
	if (c < 0x20 || c >= 0x7f)
		return true;
	return strchr("*,\\#+<>;\"()= ", c) != NULL;
}

int ldap_escape_bytes(struct buf *out, const uint8_t *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	if (len > LDAP_ESCAPE_INPUT_MAX)
		return -1;
	size_t start = out->len;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];
		int ret;
		if (ldap_escape_needed(c)) {
			const char esc[3] = { '\\', hex[c >> 4], hex[c & 0xf] };
			ret = buf_append(out, esc, sizeof(esc));
		} else {
			ret = buf_append_byte(out, c);
		}
		if (ret < 0) {
			/* restore: drop what this call appended */
			if (out->data != NULL) {
				memset(out->data + start, 0, out->len - start);
				out->len = start;
			}
			return -1;
		}
	}
	return 0;
}

int ldap_escape_var(struct buf *out, const char *value, void *ctx)
{
	(void)ctx;
	return ldap_escape_bytes(out, (const uint8_t *)value, strlen(value));
}
