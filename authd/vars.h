/* vars: Dovecot 2.3 %-variable expansion (spec section 8).
 *
 * Templates come from the operator's config; values come from requests and
 * are never expanded again (CVE-2017-2669). Every value can be passed
 * through an escape function (LDAP filters, passwd-file paths).
 *
 * Syntax: %[-][0][width][.[-][0]width2][modifiers](key | {long key}), %%.
 * Modifiers L U E X R H N M D T, applied left to right before the
 * offset/width cut. A long key is resolved in this order: table long keys;
 * functions %{md4|md5|sha1|sha256|sha384|sha512|sha3-256|sha3-512|pkcs5
 *   [;rounds=N,truncate=BITS,format=hex|hexuc|base64,salt=TEMPLATE]:longvar}
 * and %{if;lhs;op;rhs;then[;else]}; ctx->lookup (passdb:x, userdb:x ...);
 * pid uid gid hostname of this process; env:NAME; name:default where name
 * is a table long key (default used when the entry's value is NULL).
 *
 * Deliberate differences from Dovecot 2.3, all on inputs Dovecot mishandles:
 * - modifiers and the width cut apply to the raw value and the escape runs
 *   last (Dovecot escapes first, so %1u could cut an LDAP escape in half);
 *   hashes are computed over the raw value;
 * - if: lhs/op/rhs are compared unescaped; only the chosen branch is
 *   expanded; a top-level ':' in a parameter is ordinary text; "\\" is a
 *   literal backslash;
 * - the first unknown variable stops the expansion (Dovecot carries on and
 *   writes "UNSUPPORTED_VARIABLE_x");
 * - widths, offsets, rounds, template length and nesting are bounded.
 * Kept on purpose (bug-compatible with stored data and paths): format=hexuc
 * yields lowercase hex; %.-N cuts nothing when the value is shorter than N;
 * pkcs5 without salt= uses the variable's *name* as salt. */
#ifndef AUTHD_VARS_H
#define AUTHD_VARS_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* Longer templates are refused ("Template too long"). */
#define VAR_TEMPLATE_MAX_LEN 8192
/* Nesting of %{if}, hash arguments and salt templates. */
#define VAR_MAX_DEPTH 8
/* Modifiers per variable, as in Dovecot; an 11th letter is the key. */
#define VAR_MAX_MODIFIERS 10
/* Longest %{name} handed to the table, lookup callback or env. */
#define VAR_NAME_MAX_LEN 256
/* Largest width or offset number. */
#define VAR_WIDTH_MAX 100000
/* Largest rounds= for hashes and pkcs5 (expansion runs on the event loop). */
#define VAR_HASH_MAX_ROUNDS 10000
/* Longest regular expression accepted by %{if;...;~;...}. */
#define VAR_REGEX_MAX_LEN 512
/* Size of the per-thread buffer that holds formatted error text. */
#define VAR_ERROR_MAX 160

/* One variable: short key (0 if none) and/or long name; value NULL means
 * "known but unset" and expands to "" (or to the default of %{name:dflt}). */
struct var_entry {
	char key;
	const char *long_key;
	const char *value;
};

struct var_expand_ctx {
	const struct var_entry *table;
	size_t count;
	/* Called for %{name} / %{name:default} names that are neither in the
	 * table nor functions (passdb:x, userdb:x ...) with the whole text
	 * between the braces, so "passdb:field:default" semantics are the
	 * callback's. Returns the value, or NULL when the name is unknown
	 * (then the built-ins, env:X and name:default of a table entry are
	 * tried, else "Unknown variable"). May be NULL. Must be thread-safe
	 * if var_expand() is called from several threads with the same ctx. */
	const char *(*lookup)(void *ctx, const char *name);
	void *lookup_ctx;
	/* Escapes a variable value while appending it; NULL = append as is.
	 * Returns 0 or -1 (limit). Literal template text, %% and zero padding
	 * are never escaped. */
	int (*escape)(struct buf *out, const char *value, void *ctx);
	void *escape_ctx;
};

/* Expands tmpl (NUL-terminated, from the config) into out, appending.
 * ctx may be NULL (no variables but the built-ins).
 * Returns 1 on success, 0 if the template is invalid or names an unknown
 * variable, -1 if out's limit was crossed or an internal error happened
 * (memory, OpenSSL; e.g. md4 needs scheme_init()'s legacy provider).
 * On 0 and -1 *error_r says why ("Unknown variable '%x'",
 * "Unknown variable '{name}'", ...) and out is restored to its length at
 * entry (the dropped bytes are wiped). *error_r is static text or points
 * to per-thread storage valid until this thread's next var_expand(); it
 * never contains a variable's value. Never blocks (hashes are bounded by
 * VAR_HASH_MAX_ROUNDS); thread-safe, no global state. */
int var_expand(struct buf *out, const char *tmpl, const struct var_expand_ctx *ctx,
	       const char **error_r);

/* Returns true if tmpl contains any variable other than %% (used to tell
 * a fixed passwd-file path from a per-user one). */
bool var_has_variables(const char *tmpl);

#endif
