/* test_cache: the auth cache (authd/cache.c).
 *
 * Scenarios are tables of steps (insert / lookup / remove / flush) run
 * against one fresh cache each, every step with its wanted outcome. They
 * include the two cases of Dovecot's auth-cache CVE history:
 *   - the same password for two users never lets one in as the other,
 *     and names that concatenate alike ("ab"+"c", "a"+"bc") stay apart;
 *   - the old password stops working as soon as the passdb's stored
 *     password (or its generation) changes. */
#include "authd/cache.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS 16
#define BIG_CACHE (1024u * 1024u)
#define TTL_SECS 60u
#define NEG_TTL_SECS 10u
#define SEC 1000u

enum op {
	OP_END,
	OP_FOUND,       /* auth_cache_insert_found */
	OP_UNKNOWN,     /* auth_cache_insert_unknown */
	OP_LOOKUP,      /* auth_cache_lookup */
	OP_REMOVE,      /* auth_cache_remove */
	OP_FLUSH_USER,  /* auth_cache_flush_user */
	OP_FLUSH_ALL,
};

struct step {
	enum op op;
	unsigned int db;            /* passdb id; 0 means 1 */
	const char *user;
	const char *service;        /* NULL means "smtp" */
	const char *stored;         /* state.stored; NULL = unknown */
	uint64_t gen;               /* state.generation */
	const char *pw;             /* NULL = no password */
	const char *fields;         /* insert: what to store; lookup HIT_OK: wanted */
	uint64_t now;               /* ms */
	bool allow_expired;
	int want;                   /* lookup: enum auth_cache_result; others: return */
	bool want_expired;
};

struct scenario {
	const char *name;
	uint64_t size;              /* 0 = BIG_CACHE */
	struct step steps[MAX_STEPS];
	/* counters after the last step (want_entries < 0: not checked) */
	int want_entries;
	unsigned int want_hits, want_misses, want_stale;
};

static const char *const result_names[] = { "MISS", "HIT_OK", "HIT_UNKNOWN" };

static struct auth_cache_key step_key(const struct step *s)
{
	const char *service = s->service != NULL ? s->service : "smtp";
	return (struct auth_cache_key){
		.passdb_id = s->db != 0 ? s->db : 1,
		.user = (const uint8_t *)s->user, .user_len = strlen(s->user),
		.service = (const uint8_t *)service, .service_len = strlen(service),
	};
}

static struct auth_cache_state step_state(const struct step *s)
{
	return (struct auth_cache_state){
		.generation = s->gen,
		.stored = (const uint8_t *)s->stored,
		.stored_len = s->stored != NULL ? strlen(s->stored) : 0,
	};
}

static bool run_lookup(struct auth_cache *cache, const struct scenario *sc, size_t i)
{
	const struct step *s = &sc->steps[i];
	struct auth_cache_key key = step_key(s);
	struct auth_cache_state state = step_state(s);
	struct auth_cache_hit hit;
	int got = auth_cache_lookup(cache, &key, &state, (const uint8_t *)s->pw,
				    s->pw != NULL ? strlen(s->pw) : 0, s->allow_expired, s->now, &hit);
	if (got != s->want) {
		print_error("%s step %zu: lookup %s/%s: got %s, want %s\n", sc->name, i, s->user,
			    s->pw != NULL ? "(password)" : "-", result_names[got],
			    result_names[s->want]);
		return false;
	}
	if (got == AUTH_CACHE_HIT_OK && s->fields != NULL &&
	    (hit.fields_len != strlen(s->fields) ||
	     memcmp(hit.fields, s->fields, hit.fields_len) != 0)) {
		print_error("%s step %zu: fields: got \"%.*s\", want \"%s\"\n", sc->name, i,
			    (int)hit.fields_len, (const char *)hit.fields, s->fields);
		return false;
	}
	if (got != AUTH_CACHE_MISS && hit.expired != s->want_expired) {
		print_error("%s step %zu: expired: got %d, want %d\n", sc->name, i, hit.expired,
			    s->want_expired);
		return false;
	}
	return true;
}

static int run_other(struct auth_cache *cache, const struct step *s)
{
	struct auth_cache_key key = step_key(s);
	struct auth_cache_state state = step_state(s);
	switch (s->op) {
	case OP_FOUND:
		return auth_cache_insert_found(cache, &key, &state, (const uint8_t *)s->pw,
					       s->pw != NULL ? strlen(s->pw) : 0,
					       (const uint8_t *)s->fields,
					       s->fields != NULL ? strlen(s->fields) : 0, s->now);
	case OP_UNKNOWN:
		return auth_cache_insert_unknown(cache, &key, &state, s->now);
	case OP_REMOVE:
		return (int)auth_cache_remove(cache, &key);
	case OP_FLUSH_USER:
		return (int)auth_cache_flush_user(cache, key.user, key.user_len);
	case OP_FLUSH_ALL:
		return (int)auth_cache_flush_all(cache);
	default:
		return -100;
	}
}

static bool check_stats(const struct auth_cache *cache, const struct scenario *sc)
{
	struct auth_cache_stats st;
	auth_cache_get_stats(cache, &st);
	if (sc->want_entries >= 0 && st.entries != (size_t)sc->want_entries) {
		print_error("%s: entries: got %zu, want %d\n", sc->name, st.entries, sc->want_entries);
		return false;
	}
	if (st.hits != sc->want_hits || st.misses != sc->want_misses || st.stale != sc->want_stale) {
		print_error("%s: hits/misses/stale: got %llu/%llu/%llu, want %u/%u/%u\n", sc->name,
			    (unsigned long long)st.hits, (unsigned long long)st.misses,
			    (unsigned long long)st.stale, sc->want_hits, sc->want_misses,
			    sc->want_stale);
		return false;
	}
	if (st.bytes > st.max_bytes) {
		print_error("%s: bytes %zu over the limit %zu\n", sc->name, st.bytes, st.max_bytes);
		return false;
	}
	return true;
}

static bool run_scenario(const struct scenario *sc)
{
	const char *error = NULL;
	struct auth_cache *cache = auth_cache_create(sc->size != 0 ? sc->size : BIG_CACHE,
						     TTL_SECS, NEG_TTL_SECS, &error);
	bool ok = true;
	assert_non_null(cache);
	for (size_t i = 0; i < MAX_STEPS && sc->steps[i].op != OP_END && ok; i++) {
		const struct step *s = &sc->steps[i];
		if (s->op == OP_LOOKUP) {
			ok = run_lookup(cache, sc, i);
			continue;
		}
		int got = run_other(cache, s);
		if (got != s->want) {
			print_error("%s step %zu: op %d user %s: got %d, want %d\n", sc->name, i,
				    (int)s->op, s->user, got, s->want);
			ok = false;
		}
	}
	ok = ok && check_stats(cache, sc);
	auth_cache_destroy(&cache);
	assert_null(cache);
	return ok;
}

#define FOUND(...) { .op = OP_FOUND, .want = 1, __VA_ARGS__ }
#define LOOKUP(...) { .op = OP_LOOKUP, __VA_ARGS__ }

static const struct scenario scenarios[] = {
	{ .name = "verify hit and miss",
	  .steps = {
		LOOKUP(.user = "alice", .pw = "pw1", .want = AUTH_CACHE_MISS),
		FOUND(.user = "alice", .stored = "{BLF-CRYPT}$2y$x", .pw = "pw1",
		      .fields = "uid=1000"),
		LOOKUP(.user = "alice", .stored = "{BLF-CRYPT}$2y$x", .pw = "pw1",
		       .fields = "uid=1000", .want = AUTH_CACHE_HIT_OK),
		/* a wrong password is a miss (the passdb decides), never a cached failure */
		LOOKUP(.user = "alice", .stored = "{BLF-CRYPT}$2y$x", .pw = "pw2",
		       .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "alice", .stored = "{BLF-CRYPT}$2y$x", .pw = "",
		       .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "alice", .stored = "{BLF-CRYPT}$2y$x", .pw = "pw1x",
		       .want = AUTH_CACHE_MISS),
		/* a lookup without a password (PASS/USER) is a hit */
		LOOKUP(.user = "alice", .stored = "{BLF-CRYPT}$2y$x", .want = AUTH_CACHE_HIT_OK),
	  },
	  .want_entries = 1, .want_hits = 2, .want_misses = 4 },

	{ .name = "CVE: same password for two users",
	  .steps = {
		FOUND(.user = "alice", .stored = "{SHA512-CRYPT}$6$a", .pw = "same",
		      .fields = "uid=1000"),
		/* bob is not alice: the same password must not get bob in */
		LOOKUP(.user = "bob", .stored = "{SHA512-CRYPT}$6$b", .pw = "same",
		       .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "bob", .pw = "same", .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "ALICE", .pw = "same", .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "alice ", .pw = "same", .want = AUTH_CACHE_MISS),
		FOUND(.user = "bob", .stored = "{SHA512-CRYPT}$6$b", .pw = "same",
		      .fields = "uid=1001"),
		/* each gets its own fields back */
		LOOKUP(.user = "bob", .stored = "{SHA512-CRYPT}$6$b", .pw = "same",
		       .fields = "uid=1001", .want = AUTH_CACHE_HIT_OK),
		LOOKUP(.user = "alice", .stored = "{SHA512-CRYPT}$6$a", .pw = "same",
		       .fields = "uid=1000", .want = AUTH_CACHE_HIT_OK),
	  },
	  .want_entries = 2, .want_hits = 2, .want_misses = 4 },

	{ .name = "key parts never run together",
	  .steps = {
		FOUND(.user = "ab", .service = "c", .pw = "p", .fields = "who=ab/c"),
		LOOKUP(.user = "a", .service = "bc", .pw = "p", .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "abc", .service = "", .pw = "p", .want = AUTH_CACHE_MISS),
		/* another passdb, another service: other entries */
		LOOKUP(.db = 2, .user = "ab", .service = "c", .pw = "p", .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "ab", .service = "imap", .pw = "p", .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "ab", .service = "c", .pw = "p", .fields = "who=ab/c",
		       .want = AUTH_CACHE_HIT_OK),
	  },
	  .want_entries = 1, .want_hits = 1, .want_misses = 4 },

	{ .name = "CVE: old password after a change (stored password)",
	  .steps = {
		FOUND(.user = "alice", .stored = "{PLAIN}old", .pw = "old"),
		LOOKUP(.user = "alice", .stored = "{PLAIN}old", .pw = "old",
		       .want = AUTH_CACHE_HIT_OK),
		/* the passdb now has another password: the entry is stale */
		LOOKUP(.user = "alice", .stored = "{PLAIN}new", .pw = "old",
		       .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "alice", .stored = "{PLAIN}old", .pw = "old",
		       .want = AUTH_CACHE_MISS),
		FOUND(.user = "alice", .stored = "{PLAIN}new", .pw = "new"),
		LOOKUP(.user = "alice", .stored = "{PLAIN}new", .pw = "old",
		       .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "alice", .stored = "{PLAIN}new", .pw = "new",
		       .want = AUTH_CACHE_HIT_OK),
	  },
	  .want_entries = 1, .want_hits = 2, .want_misses = 3, .want_stale = 1 },

	{ .name = "CVE: old password after a change (generation only)",
	  .steps = {
		FOUND(.user = "alice", .gen = 7, .pw = "old"),
		LOOKUP(.user = "alice", .gen = 7, .pw = "old", .want = AUTH_CACHE_HIT_OK),
		LOOKUP(.user = "alice", .gen = 8, .pw = "old", .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "alice", .gen = 7, .pw = "old", .want = AUTH_CACHE_MISS),
	  },
	  .want_entries = 0, .want_hits = 1, .want_misses = 2, .want_stale = 1 },

	{ .name = "unchanged stored password survives a reload",
	  .steps = {
		FOUND(.user = "alice", .gen = 1, .stored = "{PLAIN}pw", .pw = "pw"),
		LOOKUP(.user = "alice", .gen = 2, .stored = "{PLAIN}pw", .pw = "pw",
		       .want = AUTH_CACHE_HIT_OK),
		/* an entry made without a fingerprint cannot prove anything */
		FOUND(.user = "bob", .gen = 1, .pw = "pw"),
		LOOKUP(.user = "bob", .gen = 1, .stored = "{PLAIN}pw", .pw = "pw",
		       .want = AUTH_CACHE_MISS),
	  },
	  .want_entries = 1, .want_hits = 1, .want_misses = 1, .want_stale = 1 },

	{ .name = "negative entries",
	  .steps = {
		{ .op = OP_UNKNOWN, .user = "ghost", .gen = 3, .want = 1 },
		LOOKUP(.user = "ghost", .gen = 3, .pw = "x", .want = AUTH_CACHE_HIT_UNKNOWN),
		LOOKUP(.user = "ghost", .want = AUTH_CACHE_HIT_UNKNOWN),
		/* negative TTL (10 s) */
		LOOKUP(.user = "ghost", .now = 10 * SEC, .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "ghost", .now = 10 * SEC, .allow_expired = true,
		       .want = AUTH_CACHE_HIT_UNKNOWN, .want_expired = true),
		/* the passdb has the user now (created or file re-read) */
		LOOKUP(.user = "ghost", .stored = "{PLAIN}x", .want = AUTH_CACHE_MISS),
		{ .op = OP_UNKNOWN, .user = "ghost2", .gen = 3, .want = 1 },
		LOOKUP(.user = "ghost2", .gen = 4, .want = AUTH_CACHE_MISS),
	  },
	  .want_entries = 0, .want_hits = 3, .want_misses = 3, .want_stale = 2 },

	{ .name = "positive TTL and allow_expired",
	  .steps = {
		FOUND(.user = "alice", .pw = "pw", .fields = "f", .now = 5 * SEC),
		LOOKUP(.user = "alice", .pw = "pw", .now = 64 * SEC, .want = AUTH_CACHE_HIT_OK),
		LOOKUP(.user = "alice", .pw = "pw", .now = 65 * SEC, .want = AUTH_CACHE_MISS),
		LOOKUP(.user = "alice", .pw = "pw", .now = 65 * SEC, .allow_expired = true,
		       .fields = "f", .want = AUTH_CACHE_HIT_OK, .want_expired = true),
		/* a clock before the entry: treated as expired */
		LOOKUP(.user = "alice", .pw = "pw", .now = 1 * SEC, .want = AUTH_CACHE_MISS),
		/* re-inserting renews it */
		FOUND(.user = "alice", .pw = "pw", .fields = "g", .now = 65 * SEC),
		LOOKUP(.user = "alice", .pw = "pw", .now = 66 * SEC, .fields = "g",
		       .want = AUTH_CACHE_HIT_OK),
	  },
	  .want_entries = 1, .want_hits = 3, .want_misses = 2 },

	{ .name = "remove and flush",
	  .steps = {
		FOUND(.user = "alice", .service = "smtp", .pw = "a"),
		FOUND(.user = "alice", .service = "imap", .pw = "a"),
		FOUND(.db = 2, .user = "alice", .pw = "a"),
		FOUND(.user = "alicex", .pw = "a"),
		FOUND(.user = "bob", .pw = "b"),
		{ .op = OP_UNKNOWN, .user = "carol", .want = 1 },
		{ .op = OP_REMOVE, .user = "bob", .service = "imap", .want = 0 },
		{ .op = OP_FLUSH_USER, .user = "alice", .want = 3 },
		{ .op = OP_FLUSH_USER, .user = "alice", .want = 0 },
		LOOKUP(.user = "alicex", .pw = "a", .want = AUTH_CACHE_HIT_OK),
		{ .op = OP_REMOVE, .user = "bob", .want = 1 },
		LOOKUP(.user = "bob", .pw = "b", .want = AUTH_CACHE_MISS),
		{ .op = OP_FLUSH_ALL, .user = "", .want = 2 },
		{ .op = OP_FLUSH_ALL, .user = "", .want = 0 },
		LOOKUP(.user = "alicex", .pw = "a", .want = AUTH_CACHE_MISS),
	  },
	  .want_entries = 0, .want_hits = 1, .want_misses = 2 },

};

static void test_scenarios(void **state)
{
	(void)state;
	bool ok = true;
	for (size_t i = 0; i < N_ELEMS(scenarios); i++)
		ok &= run_scenario(&scenarios[i]);
	assert_true(ok);
}

/* Inserts n users "userN" with a password; returns how many were stored. */
static int insert_users(struct auth_cache *cache, unsigned int first, unsigned int n,
			size_t fields_len)
{
	static const uint8_t fields[512];
	char name[32];
	int stored = 0;
	for (unsigned int i = first; i < first + n; i++) {
		int len = snprintf(name, sizeof(name), "user%u", i);
		struct auth_cache_key key = {
			.passdb_id = 1, .user = (const uint8_t *)name, .user_len = (size_t)len,
			.service = (const uint8_t *)"smtp", .service_len = 4,
		};
		stored += auth_cache_insert_found(cache, &key, NULL, (const uint8_t *)"pw", 2,
						  fields, fields_len, 0);
	}
	return stored;
}

static enum auth_cache_result lookup_user(struct auth_cache *cache, unsigned int i)
{
	char name[32];
	struct auth_cache_hit hit;
	int len = snprintf(name, sizeof(name), "user%u", i);
	struct auth_cache_key key = {
		.passdb_id = 1, .user = (const uint8_t *)name, .user_len = (size_t)len,
		.service = (const uint8_t *)"smtp", .service_len = 4,
	};
	return auth_cache_lookup(cache, &key, NULL, (const uint8_t *)"pw", 2, false, 0, &hit);
}

/* The size limit holds; the least recently used entries go first. */
static void test_lru_eviction(void **state)
{
	(void)state;
	const char *error;
	struct auth_cache *cache = auth_cache_create(8192, TTL_SECS, NEG_TTL_SECS, &error);
	struct auth_cache_stats st;
	assert_non_null(cache);
	assert_int_equal(insert_users(cache, 0, 4, 200), 4);
	/* touch user0 so user1 is the oldest */
	assert_int_equal(lookup_user(cache, 0), AUTH_CACHE_HIT_OK);
	assert_int_equal(insert_users(cache, 4, 100, 200), 100);
	auth_cache_get_stats(cache, &st);
	if (st.bytes > 8192 || st.evictions == 0 || st.entries == 0)
		fail_msg("got bytes %zu evictions %llu entries %zu, want <= 8192, > 0, > 0",
			 st.bytes, (unsigned long long)st.evictions, st.entries);
	assert_int_equal(lookup_user(cache, 103), AUTH_CACHE_HIT_OK);
	assert_int_equal(lookup_user(cache, 1), AUTH_CACHE_MISS);
	/* an entry larger than the whole cache is not stored */
	auth_cache_destroy(&cache);
	cache = auth_cache_create(1024, TTL_SECS, NEG_TTL_SECS, &error);
	assert_non_null(cache);
	assert_int_equal(insert_users(cache, 0, 1, 0), 1);
	assert_int_equal(insert_users(cache, 0, 1, 1000), 0);
	/* ... and the key's older entry is gone with it */
	assert_int_equal(lookup_user(cache, 0), AUTH_CACHE_MISS);
	auth_cache_destroy(&cache);
}

/* Many entries: the table grows and every entry stays reachable. */
static void test_many(void **state)
{
	(void)state;
	const char *error;
	struct auth_cache *cache = auth_cache_create(64u * 1024u * 1024u, TTL_SECS, NEG_TTL_SECS,
						     &error);
	assert_non_null(cache);
	assert_int_equal(insert_users(cache, 0, 20000, 16), 20000);
	for (unsigned int i = 0; i < 20000; i += 97)
		assert_int_equal(lookup_user(cache, i), AUTH_CACHE_HIT_OK);
	assert_int_equal(auth_cache_flush_all(cache), 20000);
	auth_cache_destroy(&cache);
}

/* Limits, a disabled (NULL) cache, bad sizes. */
static void test_limits(void **state)
{
	(void)state;
	const char *error = NULL;
	struct auth_cache_hit hit;
	struct auth_cache_stats st;
	static uint8_t long_name[AUTH_CACHE_USER_MAX + 1];
	memset(long_name, 'a', sizeof(long_name));
	struct auth_cache_key key = { .passdb_id = 1, .user = long_name,
				      .user_len = sizeof(long_name) };

	assert_null(auth_cache_create(1023, 1, 1, &error));
	assert_non_null(error);
	struct auth_cache *cache = auth_cache_create(BIG_CACHE, 1, 1, &error);
	assert_non_null(cache);
	assert_int_equal(auth_cache_insert_found(cache, &key, NULL, NULL, 0, NULL, 0, 0), 0);
	assert_int_equal(auth_cache_insert_unknown(cache, &key, NULL, 0), 0);
	key.user_len = AUTH_CACHE_USER_MAX;
	assert_int_equal(auth_cache_insert_found(cache, &key, NULL, NULL, 0, long_name,
						 AUTH_CACHE_FIELDS_MAX + 1, 0), 0);
	assert_int_equal(auth_cache_insert_found(cache, &key, NULL, NULL, 0, NULL, 0, 0), 1);
	/* found without a password: no proof for a verify, a hit for a lookup */
	assert_int_equal(auth_cache_lookup(cache, &key, NULL, (const uint8_t *)"", 0, false, 0,
					   &hit), AUTH_CACHE_MISS);
	assert_int_equal(auth_cache_lookup(cache, &key, NULL, NULL, 0, false, 0, &hit),
			 AUTH_CACHE_HIT_OK);
	assert_int_equal(hit.fields_len, 0);
	auth_cache_destroy(&cache);

	/* disabled cache */
	assert_int_equal(auth_cache_lookup(NULL, &key, NULL, NULL, 0, false, 0, &hit),
			 AUTH_CACHE_MISS);
	assert_int_equal(auth_cache_insert_unknown(NULL, &key, NULL, 0), 0);
	assert_int_equal(auth_cache_flush_all(NULL), 0);
	assert_int_equal(auth_cache_flush_user(NULL, long_name, 1), 0);
	assert_int_equal(auth_cache_remove(NULL, &key), 0);
	auth_cache_get_stats(NULL, &st);
	assert_int_equal(st.entries, 0);
	auth_cache_destroy(&cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
