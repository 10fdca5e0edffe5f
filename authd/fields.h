/* fields: an ordered key/value list (passdb extra fields, userdb fields)
 * with Dovecot's snapshot/rollback: a failing passdb's fields are undone.
 *
 * Keys and values are copied into the list's pool. A value of NULL is a
 * bare key ("nologin"). Lists are small (tens of entries), so lookups are
 * linear. */
#ifndef AUTHD_FIELDS_H
#define AUTHD_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

struct pool;

struct field {
	const char *key;
	const char *value;   /* NULL for a bare key */
};

struct fields {
	struct pool *pool;
	struct field *items;
	size_t count, cap;
	struct field *snap;  /* copy at the last snapshot; NULL = empty */
	size_t snap_count;
};

/* Initialises an empty list allocating from pool (owned by the caller). */
void fields_init(struct fields *f, struct pool *pool);
/* Sets key (replacing an existing entry in place, else appending). */
void fields_set(struct fields *f, const char *key, const char *value);
/* Returns the entry for key or NULL. */
const struct field *fields_find(const struct fields *f, const char *key);
/* Value of key: NULL if absent, "" for a bare key. */
const char *fields_get(const struct fields *f, const char *key);
bool fields_has(const struct fields *f, const char *key);
void fields_remove(struct fields *f, const char *key);
void fields_snapshot(struct fields *f);
void fields_rollback(struct fields *f);
void fields_clear(struct fields *f);

#endif
