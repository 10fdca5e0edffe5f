/* cache: the auth cache (see cache.h for what is stored and why).
 *
 * A chained hash table (keyed SipHash of passdb id, user and service) plus
 * a doubly linked LRU list, newest first. Each entry is one allocation:
 * header, then user, service and fields bytes. */
#include "authd/cache.h"
#include "common/secret.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_VERIFY_LEN 32u            /* BLAKE2b-256 of user + password */
#define CACHE_FP_LEN 16u                /* BLAKE2b-128 of the stored password */
#define CACHE_INITIAL_BUCKETS 64u
#define CACHE_MAX_BUCKETS (1u << 24)    /* the table stops growing here */
#define CACHE_MSECS_PER_SEC 1000u
/* Domain bytes so the two keyed hashes can never be confused. */
#define CACHE_DOMAIN_VERIFY 'V'
#define CACHE_DOMAIN_STORED 'S'

enum cache_kind {
	CACHE_KIND_FOUND,
	CACHE_KIND_UNKNOWN,
};

struct cache_entry {
	struct cache_entry *chain;           /* next in the bucket */
	struct cache_entry *newer, *older;   /* LRU list */
	uint64_t hash;
	uint64_t created_ms;
	uint64_t generation;
	size_t size;                         /* bytes counted against the limit */
	unsigned int passdb_id;
	uint16_t user_len, service_len;
	uint32_t fields_len;
	uint8_t kind;                        /* enum cache_kind */
	bool has_fp, has_verify;
	uint8_t fp[CACHE_FP_LEN];
	uint8_t verify[CACHE_VERIFY_LEN];
	uint8_t data[];                      /* user, service, fields */
};

struct auth_cache {
	struct cache_entry **buckets;
	size_t bucket_count;                 /* a power of two */
	struct cache_entry *newest, *oldest;
	uint64_t ttl_ms, negative_ttl_ms;
	uint8_t table_key[crypto_shorthash_KEYBYTES];
	uint8_t mac_key[crypto_generichash_KEYBYTES];
	struct auth_cache_stats stats;
};

static const struct auth_cache_state cache_no_state = { .generation = 0 };

/* ------------------------------------------------------------ hashing */

static bool key_cacheable(const struct auth_cache_key *key)
{
	return key->user_len <= AUTH_CACHE_USER_MAX && key->service_len <= AUTH_CACHE_SERVICE_MAX &&
	       (key->user != NULL || key->user_len == 0) &&
	       (key->service != NULL || key->service_len == 0);
}

/* Table hash of id, user length, user and service (the length keeps
 * "ab"+"c" apart from "a"+"bc"). */
static uint64_t cache_key_hash(const struct auth_cache *cache, const struct auth_cache_key *key)
{
	uint8_t in[4 + 2 + AUTH_CACHE_USER_MAX + AUTH_CACHE_SERVICE_MAX];
	uint8_t out[crypto_shorthash_BYTES];
	size_t n = 0;
	uint32_t id = key->passdb_id;

	in[n++] = (uint8_t)id;
	in[n++] = (uint8_t)(id >> 8);
	in[n++] = (uint8_t)(id >> 16);
	in[n++] = (uint8_t)(id >> 24);
	in[n++] = (uint8_t)key->user_len;
	in[n++] = (uint8_t)(key->user_len >> 8);
	if (key->user_len > 0)
		memcpy(in + n, key->user, key->user_len);
	n += key->user_len;
	if (key->service_len > 0)
		memcpy(in + n, key->service, key->service_len);
	n += key->service_len;
	crypto_shorthash(out, in, n, cache->table_key);
	uint64_t h = 0;
	for (size_t i = 0; i < sizeof(out); i++)
		h = (h << 8) | out[i];
	return h;
}

/* Keyed BLAKE2b of domain, a length-prefixed first part and a second part. */
static void cache_mac(const struct auth_cache *cache, uint8_t domain, const uint8_t *a,
		      size_t alen, const uint8_t *b, size_t blen, uint8_t *out, size_t outlen)
{
	crypto_generichash_state st;
	uint8_t hdr[9];

	hdr[0] = domain;
	for (size_t i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)((uint64_t)alen >> (8 * i));
	crypto_generichash_init(&st, cache->mac_key, sizeof(cache->mac_key), outlen);
	crypto_generichash_update(&st, hdr, sizeof(hdr));
	if (alen > 0)
		crypto_generichash_update(&st, a, alen);
	if (blen > 0)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, outlen);
	secret_wipe(&st, sizeof(st));
}

static void cache_verify_hash(const struct auth_cache *cache, const struct auth_cache_key *key,
			      const uint8_t *password, size_t len, uint8_t out[CACHE_VERIFY_LEN])
{
	cache_mac(cache, CACHE_DOMAIN_VERIFY, key->user, key->user_len, password, len, out,
		  CACHE_VERIFY_LEN);
}

static void cache_fingerprint(const struct auth_cache *cache, const struct auth_cache_state *state,
			      uint8_t out[CACHE_FP_LEN])
{
	cache_mac(cache, CACHE_DOMAIN_STORED, state->stored, state->stored_len, NULL, 0, out,
		  CACHE_FP_LEN);
}

/* ------------------------------------------------------------ table and LRU */

static const uint8_t *entry_user(const struct cache_entry *e)
{
	return e->data;
}

static const uint8_t *entry_fields(const struct cache_entry *e)
{
	return e->data + e->user_len + e->service_len;
}

static bool entry_matches(const struct cache_entry *e, uint64_t hash,
			  const struct auth_cache_key *key)
{
	return e->hash == hash && e->passdb_id == key->passdb_id &&
	       e->user_len == key->user_len && e->service_len == key->service_len &&
	       (key->user_len == 0 || memcmp(e->data, key->user, key->user_len) == 0) &&
	       (key->service_len == 0 ||
		memcmp(e->data + e->user_len, key->service, key->service_len) == 0);
}

static struct cache_entry *cache_find(const struct auth_cache *cache, uint64_t hash,
				      const struct auth_cache_key *key)
{
	struct cache_entry *e = cache->buckets[hash & (cache->bucket_count - 1)];
	while (e != NULL && !entry_matches(e, hash, key))
		e = e->chain;
	return e;
}

static void lru_unlink(struct auth_cache *cache, struct cache_entry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		cache->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		cache->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push_newest(struct auth_cache *cache, struct cache_entry *e)
{
	e->older = cache->newest;
	e->newer = NULL;
	if (cache->newest != NULL)
		cache->newest->newer = e;
	cache->newest = e;
	if (cache->oldest == NULL)
		cache->oldest = e;
}

static void bucket_unlink(struct auth_cache *cache, struct cache_entry *e)
{
	struct cache_entry **p = &cache->buckets[e->hash & (cache->bucket_count - 1)];
	while (*p != NULL && *p != e)
		p = &(*p)->chain;
	if (*p == e)
		*p = e->chain;
	e->chain = NULL;
}

static void entry_free(struct auth_cache *cache, struct cache_entry *e)
{
	bucket_unlink(cache, e);
	lru_unlink(cache, e);
	cache->stats.entries--;
	cache->stats.bytes -= e->size;
	secret_wipe(e, e->size);
	free(e);
}

/* Doubles the table when there are more entries than buckets; on
 * allocation failure the old table stays (longer chains, still correct). */
static void cache_maybe_grow(struct auth_cache *cache)
{
	if (cache->stats.entries <= cache->bucket_count || cache->bucket_count >= CACHE_MAX_BUCKETS)
		return;
	size_t count = cache->bucket_count * 2;
	struct cache_entry **b = calloc(count, sizeof(*b));
	if (b == NULL)
		return;
	for (size_t i = 0; i < cache->bucket_count; i++) {
		struct cache_entry *e = cache->buckets[i];
		while (e != NULL) {
			struct cache_entry *next = e->chain;
			e->chain = b[e->hash & (count - 1)];
			b[e->hash & (count - 1)] = e;
			e = next;
		}
	}
	free(cache->buckets);
	cache->buckets = b;
	cache->bucket_count = count;
}

/* ------------------------------------------------------------ lifecycle */

struct auth_cache *auth_cache_create(uint64_t max_bytes, unsigned int ttl_secs,
				     unsigned int negative_ttl_secs, const char **error_r)
{
	if (max_bytes < AUTH_CACHE_MIN_SIZE) {
		*error_r = "auth_cache_size is too small (at least 1k)";
		return NULL;
	}
	if (sodium_init() < 0) {
		*error_r = "sodium_init() failed";
		return NULL;
	}
	struct auth_cache *cache = calloc(1, sizeof(*cache));
	if (cache != NULL)
		cache->buckets = calloc(CACHE_INITIAL_BUCKETS, sizeof(*cache->buckets));
	if (cache == NULL || cache->buckets == NULL) {
		free(cache);
		*error_r = "Out of memory";
		return NULL;
	}
	cache->bucket_count = CACHE_INITIAL_BUCKETS;
	cache->stats.max_bytes = max_bytes > SIZE_MAX ? SIZE_MAX : (size_t)max_bytes;
	cache->ttl_ms = (uint64_t)ttl_secs * CACHE_MSECS_PER_SEC;
	cache->negative_ttl_ms = (uint64_t)negative_ttl_secs * CACHE_MSECS_PER_SEC;
	randombytes_buf(cache->table_key, sizeof(cache->table_key));
	randombytes_buf(cache->mac_key, sizeof(cache->mac_key));
	return cache;
}

void auth_cache_destroy(struct auth_cache **cachep)
{
	struct auth_cache *cache = *cachep;
	if (cache == NULL)
		return;
	(void)auth_cache_flush_all(cache);
	free(cache->buckets);
	secret_wipe(cache, sizeof(*cache));
	free(cache);
	*cachep = NULL;
}

/* ------------------------------------------------------------ lookup */

/* True when what the passdb says now contradicts the entry. */
static bool entry_stale(const struct auth_cache *cache, const struct cache_entry *e,
			const struct auth_cache_state *state)
{
	bool gen_changed = state->generation != 0 && e->generation != state->generation;
	if (e->kind == CACHE_KIND_UNKNOWN)
		return state->stored != NULL || gen_changed;
	if (state->stored == NULL)
		return gen_changed;
	if (!e->has_fp)
		return true;
	uint8_t fp[CACHE_FP_LEN];
	cache_fingerprint(cache, state, fp);
	int same = secret_equal(fp, sizeof(fp), e->fp, sizeof(e->fp));
	secret_wipe(fp, sizeof(fp));
	return !same;
}

static bool entry_expired(const struct auth_cache *cache, const struct cache_entry *e,
			  uint64_t now_ms)
{
	uint64_t ttl = e->kind == CACHE_KIND_UNKNOWN ? cache->negative_ttl_ms : cache->ttl_ms;
	return now_ms < e->created_ms || now_ms - e->created_ms >= ttl;
}

static bool password_matches(const struct auth_cache *cache, const struct cache_entry *e,
			     const struct auth_cache_key *key, const uint8_t *password,
			     size_t len)
{
	if (!e->has_verify)
		return false;
	uint8_t h[CACHE_VERIFY_LEN];
	cache_verify_hash(cache, key, password, len, h);
	int same = secret_equal(h, sizeof(h), e->verify, sizeof(e->verify));
	secret_wipe(h, sizeof(h));
	return same == 1;
}

static enum auth_cache_result cache_miss(struct auth_cache *cache)
{
	cache->stats.misses++;
	return AUTH_CACHE_MISS;
}

enum auth_cache_result auth_cache_lookup(struct auth_cache *cache,
					 const struct auth_cache_key *key,
					 const struct auth_cache_state *state,
					 const uint8_t *password, size_t password_len,
					 bool allow_expired, uint64_t now_ms,
					 struct auth_cache_hit *hit_r)
{
	memset(hit_r, 0, sizeof(*hit_r));
	if (cache == NULL)
		return AUTH_CACHE_MISS;
	if (state == NULL)
		state = &cache_no_state;
	if (!key_cacheable(key))
		return cache_miss(cache);
	struct cache_entry *e = cache_find(cache, cache_key_hash(cache, key), key);
	if (e == NULL)
		return cache_miss(cache);
	if (entry_stale(cache, e, state)) {
		cache->stats.stale++;
		entry_free(cache, e);
		return cache_miss(cache);
	}
	bool expired = entry_expired(cache, e, now_ms);
	if (expired && !allow_expired)
		return cache_miss(cache);
	if (e->kind == CACHE_KIND_FOUND && password != NULL &&
	    !password_matches(cache, e, key, password, password_len))
		return cache_miss(cache);
	cache->stats.hits++;
	lru_unlink(cache, e);
	lru_push_newest(cache, e);
	hit_r->expired = expired;
	if (e->kind == CACHE_KIND_UNKNOWN)
		return AUTH_CACHE_HIT_UNKNOWN;
	hit_r->fields = entry_fields(e);
	hit_r->fields_len = e->fields_len;
	return AUTH_CACHE_HIT_OK;
}

/* ------------------------------------------------------------ insert */

/* Evicts least recently used entries until size more bytes fit. */
static void cache_make_room(struct auth_cache *cache, size_t size)
{
	while (cache->oldest != NULL && cache->stats.bytes + size > cache->stats.max_bytes) {
		entry_free(cache, cache->oldest);
		cache->stats.evictions++;
	}
}

static struct cache_entry *entry_new(struct auth_cache *cache, const struct auth_cache_key *key,
				     const struct auth_cache_state *state, size_t fields_len,
				     uint64_t now_ms)
{
	size_t size = sizeof(struct cache_entry) + key->user_len + key->service_len + fields_len;
	if (size > cache->stats.max_bytes)
		return NULL;
	cache_make_room(cache, size);
	struct cache_entry *e = calloc(1, size);
	if (e == NULL)
		return NULL;
	e->size = size;
	e->hash = cache_key_hash(cache, key);
	e->created_ms = now_ms;
	e->generation = state->generation;
	e->passdb_id = key->passdb_id;
	e->user_len = (uint16_t)key->user_len;
	e->service_len = (uint16_t)key->service_len;
	e->fields_len = (uint32_t)fields_len;
	if (key->user_len > 0)
		memcpy(e->data, key->user, key->user_len);
	if (key->service_len > 0)
		memcpy(e->data + key->user_len, key->service, key->service_len);
	if (state->stored != NULL) {
		cache_fingerprint(cache, state, e->fp);
		e->has_fp = true;
	}
	return e;
}

static void cache_link(struct auth_cache *cache, struct cache_entry *e)
{
	size_t b = e->hash & (cache->bucket_count - 1);
	e->chain = cache->buckets[b];
	cache->buckets[b] = e;
	lru_push_newest(cache, e);
	cache->stats.entries++;
	cache->stats.bytes += e->size;
	cache->stats.inserts++;
	cache_maybe_grow(cache);
}

/* Common part of both inserts: drops the key's old entry, builds the new
 * one. Returns it, or NULL with *ret_r 0 (not cacheable) or -1 (memory). */
static struct cache_entry *cache_insert_start(struct auth_cache *cache,
					      const struct auth_cache_key *key,
					      const struct auth_cache_state *state,
					      size_t fields_len, uint64_t now_ms, int *ret_r)
{
	*ret_r = 0;
	if (cache == NULL || !key_cacheable(key) || fields_len > AUTH_CACHE_FIELDS_MAX)
		return NULL;
	(void)auth_cache_remove(cache, key);
	struct cache_entry *e = entry_new(cache, key, state == NULL ? &cache_no_state : state,
					  fields_len, now_ms);
	size_t size = sizeof(struct cache_entry) + key->user_len + key->service_len + fields_len;
	if (e == NULL && size <= cache->stats.max_bytes)
		*ret_r = -1;
	return e;
}

int auth_cache_insert_found(struct auth_cache *cache, const struct auth_cache_key *key,
			    const struct auth_cache_state *state,
			    const uint8_t *password, size_t password_len,
			    const uint8_t *fields, size_t fields_len, uint64_t now_ms)
{
	int ret;
	if (fields == NULL)
		fields_len = 0;
	struct cache_entry *e = cache_insert_start(cache, key, state, fields_len, now_ms, &ret);
	if (e == NULL)
		return ret;
	e->kind = CACHE_KIND_FOUND;
	if (fields_len > 0)
		memcpy(e->data + e->user_len + e->service_len, fields, fields_len);
	if (password != NULL) {
		cache_verify_hash(cache, key, password, password_len, e->verify);
		e->has_verify = true;
	}
	cache_link(cache, e);
	return 1;
}

int auth_cache_insert_unknown(struct auth_cache *cache, const struct auth_cache_key *key,
			      const struct auth_cache_state *state, uint64_t now_ms)
{
	int ret;
	struct cache_entry *e = cache_insert_start(cache, key, state, 0, now_ms, &ret);
	if (e == NULL)
		return ret;
	e->kind = CACHE_KIND_UNKNOWN;
	cache_link(cache, e);
	return 1;
}

/* ------------------------------------------------------------ removal */

unsigned int auth_cache_remove(struct auth_cache *cache, const struct auth_cache_key *key)
{
	if (cache == NULL || !key_cacheable(key))
		return 0;
	struct cache_entry *e = cache_find(cache, cache_key_hash(cache, key), key);
	if (e == NULL)
		return 0;
	entry_free(cache, e);
	return 1;
}

unsigned int auth_cache_flush_user(struct auth_cache *cache, const uint8_t *user, size_t len)
{
	unsigned int n = 0;
	if (cache == NULL)
		return 0;
	struct cache_entry *e = cache->newest;
	while (e != NULL) {
		struct cache_entry *older = e->older;
		if (e->user_len == len && (len == 0 || memcmp(entry_user(e), user, len) == 0)) {
			entry_free(cache, e);
			n++;
		}
		e = older;
	}
	return n;
}

unsigned int auth_cache_flush_all(struct auth_cache *cache)
{
	unsigned int n = 0;
	if (cache == NULL)
		return 0;
	while (cache->oldest != NULL) {
		entry_free(cache, cache->oldest);
		n++;
	}
	return n;
}

void auth_cache_get_stats(const struct auth_cache *cache, struct auth_cache_stats *stats_r)
{
	if (cache == NULL)
		memset(stats_r, 0, sizeof(*stats_r));
	else
		*stats_r = cache->stats;
}
