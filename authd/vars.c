/* vars: Dovecot 2.3 %-variable expansion. See vars.h for the syntax and
 * the (few, deliberate) differences from Dovecot.
 *
 * Shape: var_expand_range() copies literal text and hands each %-sequence
 * to var_expand_one(): parse (var_parse_spec), resolve the value (table,
 * functions in vars_func.c, built-ins, lookup callback), run the modifiers
 * (vars_modifier.c), cut offset/width, append (escaped). Intermediate
 * strings live in three scratch buffers per nesting level, allocated only
 * when needed and wiped on exit (values may be passwords). */
#include "authd/vars_private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Per-thread error text: var_expand() has no other place to put a
 * formatted message, and this keeps it free of shared mutable state. */
static _Thread_local char var_errbuf[VAR_ERROR_MAX];

char *var_error_buf(void)
{
	return var_errbuf;
}

int var_fail(struct var_state *st, const char *error)
{
	st->error = error;
	return 0;
}

int var_limit(struct var_state *st)
{
	st->error = "Expansion result too long";
	return -1;
}

/* "Unknown variable '%x'" or "Unknown variable '{name}'" (name capped). */
static int var_fail_unknown(struct var_state *st, bool is_long, const char *name, size_t len)
{
	int n = (int)(len < VAR_ERROR_MAX / 2 ? len : VAR_ERROR_MAX / 2);
	if (is_long)
		snprintf(var_errbuf, sizeof(var_errbuf), "Unknown variable '{%.*s}'", n, name);
	else
		snprintf(var_errbuf, sizeof(var_errbuf), "Unknown variable '%%%.*s'", n, name);
	return var_fail(st, var_errbuf);
}

/* Empties and returns a slot that does not hold v. */
static struct buf *var_next_slot(struct var_frame *f, const struct var_value *v, int *slot_r)
{
	*slot_r = v->slot < 0 ? 0 : (v->slot + 1) % VAR_SCRATCH;
	buf_reset(&f->tmp[*slot_r]);
	return &f->tmp[*slot_r];
}

/* ---- parsing ---- */

static int var_parse_num(struct var_state *st, const char **pp, const char *end, int *num_r)
{
	const char *p = *pp;
	int n = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > VAR_WIDTH_MAX)
			return var_fail(st, "Variable width or offset too large");
	}
	*num_r = n;
	*pp = p;
	return 1;
}

static void var_parse_key(const char *p, const char *end, struct var_spec *s)
{
	s->key = *p;
	s->next = p + 1;
	if (*p != '{' || memchr(p, '}', (size_t)(end - p)) == NULL)
		return;
	/* %{long key}: braces nest, a backslash hides the next byte; without
	 * a matching '}' the key is the rest of the template (as Dovecot). */
	unsigned int depth = 1;
	bool esc = false;
	const char *q = p + 1;
	for (; q < end; q++) {
		if (esc)
			esc = false;
		else if (*q == '\\')
			esc = true;
		else if (*q == '{')
			depth++;
		else if (*q == '}' && --depth == 0)
			break;
	}
	s->is_long = true;
	s->name = p + 1;
	s->name_len = (size_t)(q - s->name);
	s->next = q < end ? q + 1 : end;
}

/* Parses what follows a '%'. Returns 1, or 0 with st->error. */
static int var_parse_spec(struct var_state *st, const char *p, const char *end,
			  struct var_spec *s)
{
	int sign = 1, n;
	*s = (struct var_spec){ .next = end };
	if (p < end && *p == '-') {
		sign = -1;
		p++;
	}
	if (p < end && *p == '0') {
		s->zero_pad = true;
		p++;
	}
	if (var_parse_num(st, &p, end, &s->width) == 0)
		return 0;
	if (p < end && *p == '.') {
		/* the number before the dot was the offset */
		s->offset = sign * s->width;
		sign = 1;
		p++;
		s->zero_pad = p < end && *p == '0';
		if (s->zero_pad)
			p++;
		if (p < end && *p == '-') {
			sign = -1;
			p++;
		}
		if (var_parse_num(st, &p, end, &n) == 0)
			return 0;
		s->width = sign * n;
	}
	while (s->mod_count < VAR_MAX_MODIFIERS && p < end && var_find_modifier(*p) != NULL)
		s->mods[s->mod_count++] = *p++;
	if (p < end)
		var_parse_key(p, end, s);
	return 1;
}

/* ---- value resolution ---- */

static const struct var_entry *var_table_long(const struct var_expand_ctx *ctx,
					      const char *name, size_t len)
{
	for (size_t i = 0; ctx != NULL && i < ctx->count; i++) {
		const char *k = ctx->table[i].long_key;
		if (k != NULL && strncmp(k, name, len) == 0 && k[len] == '\0')
			return &ctx->table[i];
	}
	return NULL;
}

static int var_resolve_short(struct var_state *st, char key, struct var_value *v)
{
	const struct var_expand_ctx *ctx = st->ctx;
	for (size_t i = 0; ctx != NULL && i < ctx->count; i++) {
		if (ctx->table[i].key == key && key != '\0') {
			const char *val = ctx->table[i].value != NULL ? ctx->table[i].value : "";
			var_set(v, val, strlen(val));
			return 1;
		}
	}
	if (key == '%') {
		var_set(v, "%", 1);
		v->escaped = true;   /* template text, not a value */
		return 1;
	}
	return var_fail_unknown(st, false, &key, 1);
}

/* pid, uid, gid and hostname of this process, formatted into slot 0. */
static int var_builtin(const char *key, struct var_frame *f, struct var_value *v)
{
	struct buf *b = &f->tmp[0];
	char host[256];
	int ret;

	buf_reset(b);
	if (strcmp(key, "pid") == 0)
		ret = buf_printf(b, "%ld", (long)getpid());
	else if (strcmp(key, "uid") == 0)
		ret = buf_printf(b, "%lu", (unsigned long)geteuid());
	else if (strcmp(key, "gid") == 0)
		ret = buf_printf(b, "%lu", (unsigned long)getegid());
	else if (strcmp(key, "hostname") == 0) {
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		ret = buf_append_str(b, host);
	} else
		return 0;
	if (ret < 0)
		return -1;
	var_set_slot(v, f, 0);
	return 1;
}

/* Names that are not functions: lookup, built-ins, env:, name:default. */
static int var_resolve_named(struct var_state *st, const char *name, size_t len,
			     struct var_frame *f, struct var_value *v)
{
	const struct var_expand_ctx *ctx = st->ctx;
	char key[VAR_NAME_MAX_LEN + 1];
	const char *val;
	int ret;

	if (len > VAR_NAME_MAX_LEN)
		return var_fail(st, "Variable name too long");
	memcpy(key, name, len);
	key[len] = '\0';
	if (ctx != NULL && ctx->lookup != NULL &&
	    (val = ctx->lookup(ctx->lookup_ctx, key)) != NULL) {
		var_set(v, val, strlen(val));
		return 1;
	}
	if ((ret = var_builtin(key, f, v)) != 0)
		return ret < 0 ? var_limit(st) : 1;
	if (strncmp(key, "env:", 4) == 0) {
		val = getenv(key + 4);
		val = val != NULL ? val : "";
		var_set(v, val, strlen(val));
		return 1;
	}
	const char *colon = memchr(name, ':', len);
	const struct var_entry *e = colon == NULL ? NULL :
		var_table_long(ctx, name, (size_t)(colon - name));
	if (e == NULL)
		return var_fail_unknown(st, true, name, len);
	if (e->value != NULL)
		var_set(v, e->value, strlen(e->value));
	else
		var_set(v, colon + 1, len - (size_t)(colon + 1 - name));
	return 1;
}

/* %{...}: table, functions, then var_resolve_named. */
int var_resolve_long(struct var_state *st, const char *name, size_t len,
		     struct var_frame *f, unsigned int depth, struct var_value *v)
{
	const struct var_entry *e = var_table_long(st->ctx, name, len);
	if (e != NULL) {
		const char *val = e->value != NULL ? e->value : "";
		var_set(v, val, strlen(val));
		return 1;
	}
	if (depth >= VAR_MAX_DEPTH)
		return var_fail(st, "Variables nested too deeply");
	if (var_func_exists(name, len))
		return var_func_call(st, name, len, f, depth, v);
	return var_resolve_named(st, name, len, f, v);
}

/* ---- output ---- */

static void var_cut(const struct var_spec *s, struct var_value *v)
{
	if (s->offset < 0) {
		size_t back = (size_t)-(long)s->offset;
		if (v->len > back) {
			v->p += v->len - back;
			v->len = back;
		}
	} else {
		size_t skip = (size_t)s->offset < v->len ? (size_t)s->offset : v->len;
		v->p += skip;
		v->len -= skip;
	}
	if (s->width == 0 || s->zero_pad)
		return;
	if (s->width > 0 && v->len > (size_t)s->width)
		v->len = (size_t)s->width;
	else if (s->width < 0 && v->len >= (size_t)-(long)s->width)
		v->len -= (size_t)-(long)s->width;   /* shorter: kept whole (Dovecot) */
}

static int var_emit(struct var_state *st, struct buf *out, const struct var_spec *s,
		    struct var_frame *f, struct var_value *v)
{
	static const char zeros[] = "0000000000000000";
	for (size_t pad = s->zero_pad && s->width > 0 && v->len < (size_t)s->width ?
		     (size_t)s->width - v->len : 0; pad > 0;) {
		size_t n = pad < sizeof(zeros) - 1 ? pad : sizeof(zeros) - 1;
		if (buf_append(out, zeros, n) < 0)
			return var_limit(st);
		pad -= n;
	}
	if (!st->escape_on || v->escaped || st->ctx == NULL || st->ctx->escape == NULL)
		return buf_append(out, v->p, v->len) < 0 ? var_limit(st) : 1;
	const char *z = v->p;
	if (v->p[v->len] != '\0') {   /* cut value: escape wants a C string */
		int slot;
		struct buf *b = var_next_slot(f, v, &slot);
		if (buf_append(b, v->p, v->len) < 0)
			return var_limit(st);
		z = buf_cstr(b);
	}
	return st->ctx->escape(out, z, st->ctx->escape_ctx) < 0 ? var_limit(st) : 1;
}

static int var_expand_one(struct var_state *st, struct buf *out, struct var_spec *s,
			  struct var_frame *f, unsigned int depth)
{
	struct var_value v;
	int ret = s->is_long ?
		var_resolve_long(st, s->name, s->name_len, f, depth, &v) :
		var_resolve_short(st, s->key, &v);
	if (ret != 1)
		return ret;
	for (unsigned int i = 0; i < s->mod_count; i++) {
		int slot;
		struct buf *b = var_next_slot(f, &v, &slot);
		bool escaped = v.escaped;
		if (var_find_modifier(s->mods[i])(v.p, v.len, s, b) < 0)
			return var_limit(st);
		var_set_slot(&v, f, slot);
		v.escaped = escaped;
	}
	var_cut(s, &v);
	return var_emit(st, out, s, f, &v);
}

int var_expand_range(struct var_state *st, struct buf *out, const char *p,
		     const char *end, unsigned int depth)
{
	struct var_frame f;
	struct var_spec s;
	int ret = 1;

	var_frame_init(&f, st->limit);
	while (ret == 1 && p < end) {
		const char *pct = memchr(p, '%', (size_t)(end - p));
		if (pct == NULL)
			pct = end;
		if (buf_append(out, p, (size_t)(pct - p)) < 0) {
			ret = var_limit(st);
			break;
		}
		/* a '%' at the very end is dropped, as Dovecot does */
		if (pct == end || (ret = var_parse_spec(st, pct + 1, end, &s)) != 1 ||
		    s.key == '\0')
			break;
		ret = var_expand_one(st, out, &s, &f, depth);
		p = s.next;
	}
	var_frame_free(&f);
	return ret;
}

int var_expand(struct buf *out, const char *tmpl, const struct var_expand_ctx *ctx,
	       const char **error_r)
{
	size_t len = strnlen(tmpl, VAR_TEMPLATE_MAX_LEN + 1), orig = out->len;
	struct var_state st = {
		.ctx = ctx,
		.escape_on = ctx != NULL && ctx->escape != NULL,
		.limit = out->limit != 0 ? out->limit : BUF_DEFAULT_LIMIT,
	};
	int ret = len > VAR_TEMPLATE_MAX_LEN ? var_fail(&st, "Template too long") :
		  var_expand_range(&st, out, tmpl, tmpl + len, 0);
	if (ret != 1) {
		buf_truncate(out, orig);
		*error_r = st.error != NULL ? st.error : "Variable expansion failed";
	}
	return ret;
}

bool var_has_variables(const char *tmpl)
{
	for (const char *p = strchr(tmpl, '%'); p != NULL; p = strchr(p + 1, '%')) {
		p++;
		p += strspn(p, "0123456789-");
		if (*p == '.')
			p += 1 + strspn(p + 1, "0123456789-");
		while (*p != '\0' && var_find_modifier(*p) != NULL)
			p++;
		if (*p == '\0')
			return false;
		if (*p != '%')
			return true;
	}
	return false;
}
