#include "authd/fields.h"
#include "common/pool.h"

#include <string.h>

void fields_init(struct fields *f, struct pool *pool)
{
	memset(f, 0, sizeof(*f));
	f->pool = pool;
}

static struct field *fields_find_mut(struct fields *f, const char *key)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->items[i].key, key) == 0)
			return &f->items[i];
	return NULL;
}

const struct field *fields_find(const struct fields *f, const char *key)
{
	return fields_find_mut((struct fields *)f, key);
}

void fields_set(struct fields *f, const char *key, const char *value)
{
	const char *v = value != NULL ? pool_strdup(f->pool, value) : NULL;
	struct field *it = fields_find_mut(f, key);
	if (it != NULL) {
		it->value = v;
		return;
	}
	if (f->count == f->cap) {
		size_t cap = f->cap != 0 ? f->cap * 2 : 8;
		struct field *items = pool_alloc(f->pool, cap * sizeof(*items));
		if (f->count > 0)
			memcpy(items, f->items, f->count * sizeof(*items));
		f->items = items;
		f->cap = cap;
	}
	f->items[f->count].key = pool_strdup(f->pool, key);
	f->items[f->count].value = v;
	f->count++;
}

const char *fields_get(const struct fields *f, const char *key)
{
	const struct field *it = fields_find(f, key);
	if (it == NULL)
		return NULL;
	return it->value != NULL ? it->value : "";
}

bool fields_has(const struct fields *f, const char *key)
{
	return fields_find(f, key) != NULL;
}

void fields_remove(struct fields *f, const char *key)
{
	struct field *it = fields_find_mut(f, key);
	if (it == NULL)
		return;
	size_t i = (size_t)(it - f->items);
	memmove(&f->items[i], &f->items[i + 1], (f->count - i - 1) * sizeof(*it));
	f->count--;
}

void fields_snapshot(struct fields *f)
{
	f->snap_count = f->count;
	f->snap = NULL;
	if (f->count == 0)
		return;
	f->snap = pool_alloc(f->pool, f->count * sizeof(*f->snap));
	memcpy(f->snap, f->items, f->count * sizeof(*f->snap));
}

void fields_rollback(struct fields *f)
{
	if (f->snap_count > f->cap) {
		f->items = pool_alloc(f->pool, f->snap_count * sizeof(*f->items));
		f->cap = f->snap_count;
	}
	if (f->snap_count > 0)
		memcpy(f->items, f->snap, f->snap_count * sizeof(*f->items));
	f->count = f->snap_count;
}

void fields_clear(struct fields *f)
{
	f->count = 0;
	f->snap = NULL;
	f->snap_count = 0;
}
