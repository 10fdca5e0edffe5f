/* test_fields: the ordered key/value list (authd/fields.h): set/replace in
 * place, get/has/find, bare keys, remove, growth, and Dovecot's
 * snapshot/rollback (a failing passdb's fields are undone). */
#include "authd/fields.h"
#include "common/pool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define BARE ((const char *)1)   /* in op tables: value NULL (bare key) */

enum op_kind { OP_END, OP_SET, OP_REMOVE, OP_SNAPSHOT, OP_ROLLBACK, OP_CLEAR };

struct op {
	enum op_kind kind;
	const char *key;
	const char *value;   /* BARE for a bare key */
};

struct fields_case {
	const char *name;
	struct op ops[12];
	/* expected list afterwards, "key=value" or "key" for bare, in order */
	const char *want[12];
};

/* Renders the list as "k=v k2 ..." for messages. */
static const char *render(const struct fields *f, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < f->count && o < size; i++) {
		const struct field *it = &f->items[i];
		o += (size_t)snprintf(out + o, size - o, "%s%s%s%s", i > 0 ? " " : "", it->key,
				      it->value != NULL ? "=" : "",
				      it->value != NULL ? it->value : "");
	}
	return out;
}

static bool fields_match(const struct fields *f, const char *const *want)
{
	size_t n = 0;
	while (want[n] != NULL)
		n++;
	if (f->count != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct field *it = &f->items[i];
		const char *eq = strchr(want[i], '=');
		size_t klen = eq != NULL ? (size_t)(eq - want[i]) : strlen(want[i]);
		if (strlen(it->key) != klen || memcmp(it->key, want[i], klen) != 0)
			return false;
		if ((eq == NULL) != (it->value == NULL))
			return false;
		if (eq != NULL && strcmp(it->value, eq + 1) != 0)
			return false;
	}
	return true;
}

static void apply(struct fields *f, const struct op *op)
{
	switch (op->kind) {
	case OP_SET:
		fields_set(f, op->key, op->value == BARE ? NULL : op->value);
		break;
	case OP_REMOVE:
		fields_remove(f, op->key);
		break;
	case OP_SNAPSHOT:
		fields_snapshot(f);
		break;
	case OP_ROLLBACK:
		fields_rollback(f);
		break;
	case OP_CLEAR:
		fields_clear(f);
		break;
	case OP_END:
		break;
	}
}

#define SET(k, v) { .kind = OP_SET, .key = (k), .value = (v) }
#define REMOVE(k) { .kind = OP_REMOVE, .key = (k) }
#define SNAPSHOT { .kind = OP_SNAPSHOT }
#define ROLLBACK { .kind = OP_ROLLBACK }
#define CLEAR { .kind = OP_CLEAR }

static void test_operations(void **state)
{
	static const struct fields_case cases[] = {
		{ .name = "set appends in order",
		  .ops = { SET("uid", "1001"), SET("gid", "1001"), SET("home", "/home/a") },
		  .want = { "uid=1001", "gid=1001", "home=/home/a" } },
		{ .name = "replace keeps position",
		  .ops = { SET("a", "1"), SET("b", "2"), SET("c", "3"), SET("b", "two") },
		  .want = { "a=1", "b=two", "c=3" } },
		{ .name = "bare key", .ops = { SET("nologin", BARE), SET("reason", "moved") },
		  .want = { "nologin", "reason=moved" } },
		{ .name = "bare replaced by value and back",
		  .ops = { SET("x", BARE), SET("x", "v"), SET("y", "w"), SET("y", BARE) },
		  .want = { "x=v", "y" } },
		{ .name = "empty value is not bare", .ops = { SET("e", "") }, .want = { "e=" } },
		{ .name = "remove middle keeps order",
		  .ops = { SET("a", "1"), SET("b", "2"), SET("c", "3"), REMOVE("b") },
		  .want = { "a=1", "c=3" } },
		{ .name = "remove first and last",
		  .ops = { SET("a", "1"), SET("b", "2"), SET("c", "3"), REMOVE("a"), REMOVE("c") },
		  .want = { "b=2" } },
		{ .name = "remove absent is a no-op", .ops = { SET("a", "1"), REMOVE("zz") },
		  .want = { "a=1" } },
		{ .name = "remove then set appends at the end",
		  .ops = { SET("a", "1"), SET("b", "2"), REMOVE("a"), SET("a", "new") },
		  .want = { "b=2", "a=new" } },
		{ .name = "keys are case-sensitive", .ops = { SET("Uid", "1"), SET("uid", "2") },
		  .want = { "Uid=1", "uid=2" } },
		{ .name = "rollback undoes set, replace and remove",
		  .ops = { SET("a", "1"), SET("b", "2"), SNAPSHOT, SET("c", "3"), SET("a", "x"),
			   REMOVE("b"), SET("d", BARE), ROLLBACK },
		  .want = { "a=1", "b=2" } },
		{ .name = "rollback twice to the same snapshot",
		  .ops = { SET("a", "1"), SNAPSHOT, SET("b", "2"), ROLLBACK, SET("c", "3"), ROLLBACK },
		  .want = { "a=1" } },
		{ .name = "changes after rollback stay",
		  .ops = { SET("a", "1"), SNAPSHOT, SET("b", "2"), ROLLBACK, SET("c", "3") },
		  .want = { "a=1", "c=3" } },
		{ .name = "snapshot of empty list",
		  .ops = { SNAPSHOT, SET("a", "1"), SET("b", "2"), ROLLBACK }, .want = { NULL } },
		{ .name = "rollback without snapshot empties",
		  .ops = { SET("a", "1"), ROLLBACK }, .want = { NULL } },
		{ .name = "second snapshot replaces the first",
		  .ops = { SET("a", "1"), SNAPSHOT, SET("b", "2"), SNAPSHOT, SET("c", "3"),
			   ROLLBACK },
		  .want = { "a=1", "b=2" } },
		{ .name = "clear drops fields and snapshot",
		  .ops = { SET("a", "1"), SNAPSHOT, CLEAR, SET("b", "2"), ROLLBACK },
		  .want = { NULL } },
		{ .name = "clear then reuse",
		  .ops = { SET("a", "1"), SET("b", "2"), CLEAR, SET("c", "3") },
		  .want = { "c=3" } },
	};
	bool ok = true;
	char got[512];
	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		const struct fields_case *c = &cases[i];
		struct pool *pool = pool_create(0);
		struct fields f;
		fields_init(&f, pool);
		for (size_t j = 0; j < N_ELEMS(c->ops) && c->ops[j].kind != OP_END; j++)
			apply(&f, &c->ops[j]);
		if (!fields_match(&f, c->want)) {
			print_error("%s: got [%s], want [", c->name, render(&f, got, sizeof(got)));
			for (size_t j = 0; c->want[j] != NULL; j++)
				print_error("%s%s", j > 0 ? " " : "", c->want[j]);
			print_error("]\n");
			ok = false;
		}
		pool_destroy(&pool);
	}
	if (!ok)
		fail();
}

static void test_get_has_find(void **state)
{
	struct pool *pool = pool_create(0);
	struct fields f;
	(void)state;
	fields_init(&f, pool);
	assert_null(fields_get(&f, "a"));
	assert_false(fields_has(&f, "a"));
	assert_null(fields_find(&f, "a"));
	fields_set(&f, "a", "1");
	fields_set(&f, "nologin", NULL);
	assert_string_equal(fields_get(&f, "a"), "1");
	/* a bare key reads as "" and exists */
	assert_string_equal(fields_get(&f, "nologin"), "");
	assert_true(fields_has(&f, "nologin"));
	assert_null(fields_find(&f, "nologin")->value);
	assert_null(fields_get(&f, "A"));
	assert_null(fields_get(&f, ""));
	pool_destroy(&pool);
}

static void test_values_are_copied(void **state)
{
	struct pool *pool = pool_create(0);
	struct fields f;
	char key[8] = "k", value[8] = "v1";
	(void)state;
	fields_init(&f, pool);
	fields_set(&f, key, value);
	key[0] = 'X';
	value[1] = '2';
	assert_string_equal(fields_get(&f, "k"), "v1");
	/* a value taken from the list itself */
	fields_set(&f, "copy", fields_get(&f, "k"));
	fields_set(&f, "k", "changed");
	assert_string_equal(fields_get(&f, "copy"), "v1");
	pool_destroy(&pool);
}

static void test_growth_and_rollback(void **state)
{
	struct pool *pool = pool_create(0);
	struct fields f;
	char key[16], val[16];
	(void)state;
	fields_init(&f, pool);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		fields_set(&f, key, val);
	}
	fields_snapshot(&f);
	/* grow well past the snapshot (several reallocations) */
	for (int i = 5; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		fields_set(&f, key, val);
	}
	fields_set(&f, "k2", "changed");
	assert_int_equal(f.count, 100);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_string_equal(f.items[i].key, key);
	}
	fields_rollback(&f);
	assert_int_equal(f.count, 5);
	for (int i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		if (strcmp(f.items[i].key, key) != 0 || strcmp(f.items[i].value, val) != 0) {
			print_error("entry %d: got %s=%s, want %s=%s\n", i, f.items[i].key,
				    f.items[i].value, key, val);
			fail();
		}
	}
	assert_null(fields_get(&f, "k50"));
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operations),
		cmocka_unit_test(test_get_has_find),
		cmocka_unit_test(test_values_are_copied),
		cmocka_unit_test(test_growth_and_rollback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
