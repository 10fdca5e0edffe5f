/* vars: Dovecot 2.3 %-variable expansion (spec section 8).
 *
 * Templates come from the operator's config; values come from requests and
 * are never expanded again (CVE-2017-2669). Every value can be passed
 * through an escape function (LDAP filters, passwd-file paths). */
#ifndef AUTHD_VARS_H
#define AUTHD_VARS_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* One variable: short key (0 if none) and/or long name; value NULL means
 * "known but unset" and expands to "". */
struct var_entry {
	char key;
	const char *long_key;
	const char *value;
};

struct var_expand_ctx {
	const struct var_entry *table;
	size_t count;
	/* Called for %{name} / %{name:default} names not in the table
	 * (passdb:x, userdb:x, env:X ...). Returns the value, or NULL when the
	 * name is unknown (expansion then fails with "Unknown variable"). May
	 * be NULL. */
	const char *(*lookup)(void *ctx, const char *name);
	void *lookup_ctx;
	/* Escapes a variable value while appending it; NULL = append as is.
	 * Returns 0 or -1 (limit). */
	int (*escape)(struct buf *out, const char *value, void *ctx);
	void *escape_ctx;
};

/* Expands tmpl into out. Returns 1 on success, 0 if the template is
 * invalid or names an unknown variable (*error_r says which), -1 if out's
 * limit was crossed. Never blocks; thread-safe. */
int var_expand(struct buf *out, const char *tmpl, const struct var_expand_ctx *ctx,
	       const char **error_r);

/* Returns true if tmpl contains any variable other than %% (used to tell
 * a fixed passwd-file path from a per-user one). */
bool var_has_variables(const char *tmpl);

#endif
