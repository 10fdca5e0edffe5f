/* db_ldap_attrs: pass_attrs / user_attrs / iterate_attrs mapping of LDAP
 * attributes to passdb and userdb fields (spec passwd-file-and-ldap.md B.3).
 *
 * Items (comma separated, spaces after commas allowed):
 *   attr            field named like the attribute
 *   attr=field      field gets the attribute's value
 *   =field=TMPL     field from TMPL only (static, %vars, %{ldap:x})
 *   attr=field=TMPL TMPL with %$ = the value; a TMPL without any '%' is a
 *                   prefix (%$ appended); no field when attr is missing
 *   !attr           fetched (for templates) but no field
 * Templates know the request's variables plus %$, %{ldap_dn},
 * %{ldap:attr}, %{ldap:attr:default} and %{ldap_ptr:attr}; attributes they
 * name are added to the search list. Values are not LDAP-escaped (they
 * are not queries). Attribute names match case-insensitively.
 * Multi-valued attributes: the first value with a warning "Multiple values
 * found for 'field', using value 'v'", except userdb `gid`, whose values
 * are joined with ','. This module does no I/O and never blocks. */
#ifndef PASSDB_DB_LDAP_ATTRS_H
#define PASSDB_DB_LDAP_ATTRS_H

#include "authd/vars.h"

#include <stdbool.h>
#include <stddef.h>

struct pool;

/* Items in one list; attribute names requested by one search. */
#define LDAP_ATTRS_MAX 128u
/* Longest expanded field value or name. */
#define LDAP_ATTR_VALUE_MAX (64u * 1024u)
/* Request variables copied into a template's table. */
#define LDAP_ATTR_VARS_MAX 64u

/* One attribute of a returned entry. values are NUL-terminated. */
struct ldap_entry_attr {
	const char *name;
	const char *const *values;
	size_t count;
};

struct ldap_entry {
	const char *dn;
	const struct ldap_entry_attr *attrs;
	size_t count;
};

struct ldap_field {
	const char *ldap_attr;   /* "" for =field=TMPL */
	const char *name;        /* may contain %vars; "" for !attr */
	const char *tmpl;        /* NULL: the attribute's value as is */
};

struct ldap_attr_map {
	struct ldap_field *fields;
	size_t count;
	const char **attr_names; /* NULL-terminated, unique; for ldap_search */
	size_t attr_count;
};

/* Parses list into *map (pool-owned). Items whose field is skip_field
 * (e.g. "password" in auth_bind mode; may be NULL) are dropped. Returns 0,
 * or -1 with *error_r ("Invalid attrs entry: ..."). */
int ldap_attr_map_parse(struct pool *pool, const char *list, const char *skip_field,
			struct ldap_attr_map *map, const char **error_r);

/* Returns the attribute of entry named name (case-insensitive) or NULL. */
const struct ldap_entry_attr *ldap_entry_find(const struct ldap_entry *entry, const char *name);

typedef void ldap_attr_field_fn(void *ctx, const char *name, const char *value);
typedef void ldap_attr_log_fn(void *ctx, bool error, const char *msg);
/* Fills the request's variables (at least LDAP_ATTR_VARS_MAX - 2 entries
 * fit); called before each expansion so a renamed user shows in %u. */
typedef void ldap_attr_vars_fn(void *ctx, struct var_entry *vars, size_t max,
			       struct var_expand_ctx *vctx);

struct ldap_attr_apply {
	bool userdb;                 /* gid values joined */
	ldap_attr_vars_fn *vars;     /* may be NULL: no request variables */
	ldap_attr_field_fn *field;   /* value NULL: attribute missing */
	ldap_attr_log_fn *log;       /* warnings and template errors; may be NULL */
	void *ctx;                   /* for field */
	void *vars_ctx;              /* for vars and log */
};

/* Calls a->field for every mapped field of entry, in list order; a missing
 * attribute gives value NULL for plain `attr=field` items (the caller
 * decides), and nothing for template items. value pointers are valid only
 * during the call. Returns 0, or -1 if a template failed (logged; the
 * other fields are still applied). */
int ldap_attr_map_apply(const struct ldap_attr_map *map, const struct ldap_entry *entry,
			const struct ldap_attr_apply *a);

/* iterate_attrs: calls fn(ctx, "user", value) for every value of every
 * field named "user"; other fields are reported through log. */
void ldap_attr_map_iterate(const struct ldap_attr_map *map, const struct ldap_entry *entry,
			   const struct ldap_attr_apply *a);

#endif
