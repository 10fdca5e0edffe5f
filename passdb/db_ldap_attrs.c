/* db_ldap_attrs: attribute mapping and templates (see db_ldap_attrs.h). */
#include "passdb/db_ldap_attrs.h"
#include "common/buf.h"
#include "common/pool.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LDAP_ATTR_MSG_MAX 512u

static const char *ldap_trim(struct pool *pool, const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	return pool_strndup(pool, p, n);
}

static int ldap_attr_name_add(struct pool *pool, struct ldap_attr_map *map, const char *name,
			      size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < map->attr_count; i++)
		if (strncasecmp(map->attr_names[i], name, len) == 0 && map->attr_names[i][len] == '\0')
			return 0;
	if (map->attr_count >= LDAP_ATTRS_MAX)
		return -1;
	map->attr_names[map->attr_count++] = pool_strndup(pool, name, len);
	return 0;
}

/* Adds the attributes named by %{ldap:X...} and %{ldap_ptr:X} in tmpl. */
static int ldap_attr_tmpl_names(struct pool *pool, struct ldap_attr_map *map, const char *tmpl)
{
	static const char *const prefixes[] = { "%{ldap:", "%{ldap_ptr:" };
	for (size_t k = 0; k < 2; k++) {
		for (const char *p = tmpl; (p = strstr(p, prefixes[k])) != NULL;) {
			p += strlen(prefixes[k]);
			size_t n = strcspn(p, ":}");
			if (ldap_attr_name_add(pool, map, p, n) < 0)
				return -1;
			p += n;
		}
	}
	return 0;
}

/* Parses one item into f. Returns 1, 0 to drop it, -1 invalid. */
static int ldap_attr_item(struct pool *pool, const char *item, const char *skip_field,
			  struct ldap_field *f)
{
	const char *eq = strchr(item, '=');
	if (eq == NULL) {
		bool skip = item[0] == '!';
		f->ldap_attr = ldap_trim(pool, item + skip, strlen(item + skip));
		f->name = skip ? "" : f->ldap_attr;
		f->tmpl = NULL;
		return *f->ldap_attr == '\0' ? -1 : 1;
	}
	f->ldap_attr = ldap_trim(pool, item, (size_t)(eq - item));
	const char *name = eq + 1;
	const char *eq2 = strchr(name, '=');
	if (eq2 == NULL) {
		f->name = ldap_trim(pool, name, strlen(name));
		f->tmpl = *f->ldap_attr == '\0' ? "" : NULL;
	} else {
		f->name = ldap_trim(pool, name, (size_t)(eq2 - name));
		f->tmpl = eq2 + 1;
		if (*f->ldap_attr != '\0' && strchr(f->tmpl, '%') == NULL)
			f->tmpl = pool_printf(pool, "%s%%$", f->tmpl);
	}
	if (*f->name == '\0' || strchr(f->ldap_attr, '@') != NULL || f->name[0] == '@')
		return -1;
	if (skip_field != NULL && strcmp(f->name, skip_field) == 0)
		return 0;
	return 1;
}

int ldap_attr_map_parse(struct pool *pool, const char *list, const char *skip_field,
			struct ldap_attr_map *map, const char **error_r)
{
	*map = (struct ldap_attr_map){
		.fields = pool_alloc(pool, LDAP_ATTRS_MAX * sizeof(struct ldap_field)),
		.attr_names = pool_alloc(pool, (LDAP_ATTRS_MAX + 1) * sizeof(const char *)),
	};
	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");
		const char *item = ldap_trim(pool, p, n);
		p += n + (p[n] == ',');
		if (*item == '\0')
			continue;
		if (map->count >= LDAP_ATTRS_MAX) {
			*error_r = "Too many attrs entries";
			return -1;
		}
		struct ldap_field *f = &map->fields[map->count];
		int ret = ldap_attr_item(pool, item, skip_field, f);
		if (ret < 0) {
			*error_r = pool_printf(pool, "Invalid attrs entry: %s", item);
			return -1;
		}
		if (ret == 0)
			continue;
		map->count++;
		if (ldap_attr_name_add(pool, map, f->ldap_attr, strlen(f->ldap_attr)) < 0 ||
		    (f->tmpl != NULL && ldap_attr_tmpl_names(pool, map, f->tmpl) < 0) ||
		    ldap_attr_tmpl_names(pool, map, f->name) < 0) {
			*error_r = "Too many attributes";
			return -1;
		}
	}
	map->attr_names[map->attr_count] = NULL;
	return 0;
}

const struct ldap_entry_attr *ldap_entry_find(const struct ldap_entry *entry, const char *name)
{
	for (size_t i = 0; entry != NULL && i < entry->count; i++)
		if (strcasecmp(entry->attrs[i].name, name) == 0)
			return &entry->attrs[i];
	return NULL;
}

/* --- template expansion --- */

struct ldap_tmpl_ctx {
	const struct ldap_entry *entry;
	const struct var_expand_ctx *base;
};

static const char *ldap_first_value(const struct ldap_entry *entry, const char *name)
{
	const struct ldap_entry_attr *a = ldap_entry_find(entry, name);
	return a != NULL && a->count > 0 ? a->values[0] : NULL;
}

/* %{ldap:attr[:default]}, %{ldap_ptr:attr}; else the request's lookup. */
static const char *ldap_tmpl_lookup(void *ctx, const char *name)
{
	struct ldap_tmpl_ctx *t = ctx;
	bool ptr = strncmp(name, "ldap_ptr:", 9) == 0;
	if (ptr || strncmp(name, "ldap:", 5) == 0) {
		char attr[256];
		const char *p = name + (ptr ? 9 : 5);
		size_t n = strcspn(p, ":");
		if (n >= sizeof(attr))
			return "";
		memcpy(attr, p, n);
		attr[n] = '\0';
		const char *value = ldap_first_value(t->entry, attr);
		if (ptr && value != NULL)
			value = ldap_first_value(t->entry, value);
		if (value == NULL)
			value = p[n] == ':' ? p + n + 1 : "";
		return value;
	}
	if (t->base != NULL && t->base->lookup != NULL)
		return t->base->lookup(t->base->lookup_ctx, name);
	return NULL;
}

static void ldap_attr_log(const struct ldap_attr_apply *a, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ldap_attr_log(const struct ldap_attr_apply *a, bool error, const char *fmt, ...)
{
	char msg[LDAP_ATTR_MSG_MAX];
	va_list ap;
	if (a->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->log(a->vars_ctx, error, msg);
}

/* Expands tmpl into out with %$ = value. Returns 0 or -1 (logged). */
static int ldap_attr_expand(const struct ldap_attr_apply *a, const struct ldap_entry *entry,
			    const char *tmpl, const char *value, struct buf *out)
{
	struct var_entry vars[LDAP_ATTR_VARS_MAX];
	struct var_expand_ctx base = { 0 }, vctx;
	size_t n = 0;
	if (a->vars != NULL) {
		a->vars(a->vars_ctx, vars, LDAP_ATTR_VARS_MAX - 2, &base);
		n = base.count > LDAP_ATTR_VARS_MAX - 2 ? LDAP_ATTR_VARS_MAX - 2 : base.count;
	}
	vars[n++] = (struct var_entry){ .key = '$', .value = value };
	vars[n++] = (struct var_entry){ .long_key = "ldap_dn", .value = entry->dn };
	struct ldap_tmpl_ctx t = { .entry = entry, .base = &base };
	vctx = (struct var_expand_ctx){
		.table = vars, .count = n, .lookup = ldap_tmpl_lookup, .lookup_ctx = &t,
	};
	const char *error = NULL;
	buf_reset(out);
	int ret = var_expand(out, tmpl, &vctx, &error);
	if (ret <= 0) {
		ldap_attr_log(a, true, "Failed to expand template '%s': %s", tmpl,
			      ret == 0 && error != NULL ? error : "result too long");
		return -1;
	}
	return 0;
}

/* The field's value(s) joined or first-with-warning. */
static const char *ldap_attr_pick(const struct ldap_attr_apply *a, const char *name,
				  const struct ldap_entry_attr *attr, struct buf *out)
{
	if (attr->count > 1 && a->userdb && strcmp(name, "gid") == 0) {
		buf_reset(out);
		for (size_t i = 0; i < attr->count; i++) {
			if ((i > 0 && buf_append_byte(out, ',') < 0) ||
			    buf_append_str(out, attr->values[i]) < 0)
				break;
		}
		return buf_cstr(out);
	}
	if (attr->count > 1)
		ldap_attr_log(a, false, "Multiple values found for '%s', using value '%s'",
			      name, attr->values[0]);
	return attr->values[0];
}

/* One field. Returns 0 or -1 (template failed). */
static int ldap_attr_apply_field(const struct ldap_field *f, const struct ldap_entry *entry,
				 const struct ldap_attr_apply *a, struct buf *name_buf,
				 struct buf *value_buf)
{
	if (*f->name == '\0')
		return 0;   /* !attr */
	const char *name = f->name;
	if (strchr(name, '%') != NULL) {
		if (ldap_attr_expand(a, entry, f->name, "", name_buf) < 0)
			return -1;
		name = buf_cstr(name_buf);
	}
	const struct ldap_entry_attr *attr =
		*f->ldap_attr != '\0' ? ldap_entry_find(entry, f->ldap_attr) : NULL;
	bool missing = *f->ldap_attr != '\0' && (attr == NULL || attr->count == 0);
	if (f->tmpl == NULL) {
		a->field(a->ctx, name, missing ? NULL : ldap_attr_pick(a, name, attr, value_buf));
		return 0;
	}
	if (missing)
		return 0;
	if (attr != NULL && attr->count > 1)
		ldap_attr_log(a, false, "Multiple values found for '%s', using value '%s'",
			      name, attr->values[0]);
	if (ldap_attr_expand(a, entry, f->tmpl, attr != NULL ? attr->values[0] : "", value_buf) < 0)
		return -1;
	a->field(a->ctx, name, buf_cstr(value_buf));
	return 0;
}

int ldap_attr_map_apply(const struct ldap_attr_map *map, const struct ldap_entry *entry,
			const struct ldap_attr_apply *a)
{
	struct buf name_buf = BUF_INIT(LDAP_ATTR_VALUE_MAX);
	struct buf value_buf = BUF_INIT(LDAP_ATTR_VALUE_MAX);
	int ret = 0;
	for (size_t i = 0; i < map->count; i++)
		if (ldap_attr_apply_field(&map->fields[i], entry, a, &name_buf, &value_buf) < 0)
			ret = -1;
	buf_free(&name_buf);
	buf_free(&value_buf);
	return ret;
}

void ldap_attr_map_iterate(const struct ldap_attr_map *map, const struct ldap_entry *entry,
			   const struct ldap_attr_apply *a)
{
	struct buf value_buf = BUF_INIT(LDAP_ATTR_VALUE_MAX);
	for (size_t i = 0; i < map->count; i++) {
		const struct ldap_field *f = &map->fields[i];
		if (*f->name == '\0')
			continue;
		if (strcmp(f->name, "user") != 0) {
			ldap_attr_log(a, false, "iterate: Ignoring field not named 'user': %s", f->name);
			continue;
		}
		const struct ldap_entry_attr *attr = ldap_entry_find(entry, f->ldap_attr);
		for (size_t v = 0; attr != NULL && v < attr->count; v++) {
			if (f->tmpl == NULL) {
				a->field(a->ctx, "user", attr->values[v]);
			} else if (ldap_attr_expand(a, entry, f->tmpl, attr->values[v], &value_buf) == 0) {
				a->field(a->ctx, "user", buf_cstr(&value_buf));
			}
		}
		if (f->tmpl != NULL && *f->ldap_attr == '\0' &&
		    ldap_attr_expand(a, entry, f->tmpl, "", &value_buf) == 0)
			a->field(a->ctx, "user", buf_cstr(&value_buf));
	}
	buf_free(&value_buf);
}
