/* fuzz_ldap_attrs: attribute lists, templates and LDAP values from the
 * directory (passdb/db_ldap_attrs.h), plus the filter escaper
 * (passdb/db_ldap_escape.h) on the same bytes.
 *
 * Input: line 1 is an attrs list (pass_attrs syntax); every further line
 * "name: value" is an attribute value of the entry (values are untrusted:
 * they come from the directory). Checks: parse/apply return conventions,
 * every field callback gets NUL-terminated text within the limit, and the
 * escaper's output holds no filter special character. */
#include "common/buf.h"
#include "common/pool.h"
#include "passdb/db_ldap_attrs.h"
#include "passdb/db_ldap_escape.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_LDAP_ATTRS_MAX 16384u
#define FUZZ_LDAP_VALUES_MAX 64u

static void fuzz_field(void *ctx, const char *name, const char *value)
{
	(void)ctx;
	if (strlen(name) > LDAP_ATTR_VALUE_MAX || (value != NULL && strlen(value) > LDAP_ATTR_VALUE_MAX))
		abort();
}

static void fuzz_check_escape(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(0);
	if (ldap_escape_bytes(&out, data, size) != 0)
		abort();
	for (size_t i = 0; i < out.len; i++)
		if (out.data[i] == '*' || out.data[i] == '(' || out.data[i] == ')' || out.data[i] == 0 ||
		    (out.data[i] == '\\' && (i + 2 >= out.len + 0 || out.data[i + 1] == 0)))
			abort();
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_LDAP_ATTRS_MAX || memchr(data, 0, size) != NULL)
		return 0;
	fuzz_check_escape(data, size);
	struct pool *pool = pool_create(0);
	char *text = pool_strndup(pool, data, size);
	char *nl = strchr(text, '\n');
	if (nl != NULL)
		*nl++ = '\0';
	struct ldap_attr_map map;
	const char *error = NULL;
	if (ldap_attr_map_parse(pool, text, NULL, &map, &error) < 0) {
		if (error == NULL)
			abort();
		pool_destroy(&pool);
		return 0;
	}
	struct ldap_entry_attr *attrs = pool_alloc(pool, FUZZ_LDAP_VALUES_MAX * sizeof(*attrs));
	struct ldap_entry entry = { .dn = "uid=fuzz,dc=x", .attrs = attrs };
	for (char *line = nl; line != NULL && entry.count < FUZZ_LDAP_VALUES_MAX;) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		char *colon = strstr(line, ": ");
		if (colon != NULL) {
			*colon = '\0';
			const char **values = pool_alloc(pool, 2 * sizeof(*values));
			values[0] = colon + 2;
			attrs[entry.count++] = (struct ldap_entry_attr){ line, values, 1 };
		}
		line = next;
	}
	struct ldap_attr_apply a = { .userdb = (size & 1) != 0, .field = fuzz_field };
	int ret = ldap_attr_map_apply(&map, &entry, &a);
	if (ret != 0 && ret != -1)
		abort();
	ldap_attr_map_iterate(&map, &entry, &a);
	pool_destroy(&pool);
	return 0;
}
