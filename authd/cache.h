/* cache: the auth cache (auth_cache_size, auth_cache_ttl,
 * auth_cache_negative_ttl), with Dovecot 2.3's semantics and without its
 * historical holes.
 *
 * What it stores, per (passdb id, user, service) key — exact bytes and
 * lengths, so two users (or "ab"+"c" and "a"+"bc") never share an entry:
 *   - positive entries: the passdb extra fields of a successful lookup (an
 *     opaque byte string the request code serialises, e.g. tab-escaped
 *     key=value lines) and, for verify-plain successes, a KEYED HASH of the
 *     password the user typed;
 *   - negative entries: "user unknown".
 *
 * The password hash. Dovecot caches an unsalted {SHA1} of the typed
 * password: a memory dump of the auth process then gives crackable hashes.
 * authd stores BLAKE2b-256 (libsodium crypto_generichash) keyed with a
 * 32-byte key drawn at random per cache (so per process, never written
 * anywhere), over the user name and the password: without the key nothing
 * can be tried offline, and equal passwords of two users give unrelated
 * values. It is deliberately not a slow hash: the cache exists to skip the
 * slow one (crypt, PBKDF2), and the key, not the cost, is what protects it.
 *
 * Invalidation ("the old password stops working after a change"). Besides
 * the TTLs, every lookup passes what the passdb says about the user NOW
 * (struct auth_cache_state):
 *   - stored/stored_len: the user's stored password as the passdb has it
 *     (passwd-file: the in-memory field). Positive entries remember a keyed
 *     fingerprint of the stored password they were made with; a different
 *     one makes the entry stale (removed, MISS). A negative entry is stale
 *     as soon as the passdb has a stored password for the user.
 *   - generation: the passdb's data version, bumped whenever its source
 *     changes (passwd-file re-read, LDAP: 0). An entry made under another
 *     non-zero generation is stale unless the stored-password fingerprint
 *     proves the user is unchanged.
 * A passdb that can tell neither (stored NULL, generation 0: LDAP before
 * the query, PAM) gets Dovecot's behaviour: TTL only.
 * A password that does not match a positive entry is always a MISS (ask
 * the passdb), never a cached failure: the password may have changed, and
 * some schemes accept more than one password for one stored value (DES
 * crypt reads 8 characters).
 * Proposed passdb interface for the lead: a `uint64_t (*generation)(struct
 * passdb *)` method (NULL = 0) plus the stored password the lookup already
 * reports through auth_request_passdb_done().
 *
 * Memory: auth_cache_size bytes bound the entries' own memory (header + key
 * + fields, as Dovecot counts them); the least recently used entries are
 * evicted first. An entry larger than the whole cache is not stored. The
 * hash table is indexed with keyed SipHash (crypto_shorthash), so names
 * cannot be chosen to collide.
 *
 * Threads: one cache belongs to the event loop thread; nothing blocks. */
#ifndef AUTHD_CACHE_H
#define AUTHD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longer names / services / field blobs are simply not cached. */
#define AUTH_CACHE_USER_MAX 1024u
#define AUTH_CACHE_SERVICE_MAX 256u
#define AUTH_CACHE_FIELDS_MAX (64u * 1024u)
/* Smallest auth_cache_size the settings accept (1 KiB). */
#define AUTH_CACHE_MIN_SIZE 1024u

struct auth_cache;

/* Whose entry: exact bytes, compared with their lengths. */
struct auth_cache_key {
	unsigned int passdb_id;        /* struct passdb id (1-based) */
	const uint8_t *user;
	size_t user_len;
	const uint8_t *service;        /* "" allowed */
	size_t service_len;
};

/* What the passdb says about the user now (see the header comment). */
struct auth_cache_state {
	uint64_t generation;           /* 0 = the passdb cannot tell */
	const uint8_t *stored;         /* stored password; NULL = not known */
	size_t stored_len;
};

enum auth_cache_result {
	AUTH_CACHE_MISS = 0,           /* ask the passdb */
	AUTH_CACHE_HIT_OK = 1,         /* user found (and password verified) */
	AUTH_CACHE_HIT_UNKNOWN = 2,    /* negative entry: user unknown */
};

/* A hit's extra fields: point into the cache, valid until the next call
 * that inserts, removes or flushes (copy them into the request's pool). */
struct auth_cache_hit {
	const uint8_t *fields;
	size_t fields_len;
	bool expired;                  /* served with allow_expired */
};

struct auth_cache_stats {
	uint64_t hits, misses;         /* lookups answered / not answered */
	uint64_t inserts, evictions;   /* evictions: LRU victims of the size limit */
	uint64_t stale;                /* entries dropped by generation/fingerprint */
	size_t entries;
	size_t bytes;                  /* counted against max_bytes */
	size_t max_bytes;
};

/* Creates an empty cache of max_bytes (>= AUTH_CACHE_MIN_SIZE) with the
 * TTLs in seconds, and draws its random keys. Returns NULL with *error_r
 * (static text) when out of memory or max_bytes is too small. The caller
 * owns it. Never blocks (the keys come from libsodium's getrandom). */
struct auth_cache *auth_cache_create(uint64_t max_bytes, unsigned int ttl_secs,
				     unsigned int negative_ttl_secs, const char **error_r);
/* Wipes (keys, hashes, fields) and frees every entry; NULLs *cache. */
void auth_cache_destroy(struct auth_cache **cache);

/* Looks key up. password NULL: a lookup without a password (PASS / USER
 * lookups, credentials); otherwise verify-plain: HIT_OK only when the
 * entry holds the keyed hash of exactly this password for this user.
 * allow_expired: serve an expired entry (Dovecot does after a passdb
 * internal failure); hit_r->expired says so. now_ms: a monotonic clock.
 * Stale entries are removed here. cache NULL (disabled): MISS. */
enum auth_cache_result auth_cache_lookup(struct auth_cache *cache,
					 const struct auth_cache_key *key,
					 const struct auth_cache_state *state,
					 const uint8_t *password, size_t password_len,
					 bool allow_expired, uint64_t now_ms,
					 struct auth_cache_hit *hit_r);

/* Stores a positive entry (replacing the key's old one): the passdb found
 * the user, and (password non-NULL) verified this password. fields are
 * copied. Returns 1 stored, 0 not stored (too large / names too long /
 * cache NULL), -1 out of memory. */
int auth_cache_insert_found(struct auth_cache *cache, const struct auth_cache_key *key,
			    const struct auth_cache_state *state,
			    const uint8_t *password, size_t password_len,
			    const uint8_t *fields, size_t fields_len, uint64_t now_ms);
/* Stores a negative entry: the passdb does not know the user. Returns as
 * auth_cache_insert_found. */
int auth_cache_insert_unknown(struct auth_cache *cache, const struct auth_cache_key *key,
			      const struct auth_cache_state *state, uint64_t now_ms);

/* Removes the key's entry (e.g. after the passdb reported a mismatch for
 * a cached user). Returns the number removed (0 or 1). */
unsigned int auth_cache_remove(struct auth_cache *cache, const struct auth_cache_key *key);
/* Removes every entry of this user name (any passdb, any service).
 * Returns the number removed. O(entries). */
unsigned int auth_cache_flush_user(struct auth_cache *cache, const uint8_t *user, size_t len);
/* Removes everything. Returns the number removed. */
unsigned int auth_cache_flush_all(struct auth_cache *cache);

/* Copies the counters (all zero for a NULL cache). */
void auth_cache_get_stats(const struct auth_cache *cache, struct auth_cache_stats *stats_r);

#endif
