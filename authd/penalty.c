#include "authd/penalty.h"
#include "common/secret.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PENALTY_BUCKETS 4096u

struct penalty_entry {
	struct penalty_entry *hash_next;
	struct penalty_entry *lru_prev, *lru_next;   /* most recent at head */
	uint8_t key[PENALTY_ADDR_LEN];
	unsigned int penalty;
	uint64_t last_failure_ms;
	uint64_t checksum;
};

struct penalty {
	struct penalty_entry *buckets[PENALTY_BUCKETS];
	struct penalty_entry *lru_head, *lru_tail;
	size_t count;
	unsigned int cap_secs;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

struct penalty *penalty_create(unsigned int failure_delay_secs)
{
	struct penalty *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	unsigned int cap = PENALTY_CLIENT_DEADLINE_SECS > failure_delay_secs ?
			   PENALTY_CLIENT_DEADLINE_SECS - failure_delay_secs : 0;
	p->cap_secs = cap < PENALTY_DOVECOT_MAX_SECS ? cap : PENALTY_DOVECOT_MAX_SECS;
	randombytes_buf(p->hash_key, sizeof(p->hash_key));
	return p;
}

void penalty_destroy(struct penalty **pp)
{
	struct penalty *p = *pp;
	if (p == NULL)
		return;
	struct penalty_entry *e = p->lru_head;
	while (e != NULL) {
		struct penalty_entry *next = e->lru_next;
		free(e);
		e = next;
	}
	secret_wipe(p->hash_key, sizeof(p->hash_key));
	free(p);
	*pp = NULL;
}

bool penalty_addr_parse(const char *ip, struct penalty_addr *addr_r)
{
	uint8_t *key = addr_r->key;
	memset(key, 0, PENALTY_ADDR_LEN);
	if (ip == NULL)
		return false;
	if (inet_pton(AF_INET, ip, key + 1) == 1) {
		key[0] = 4;
		return true;
	}
	if (inet_pton(AF_INET6, ip, key + 1) == 1) {
		key[0] = 6;
		memset(key + 1 + 6, 0, 10);
		return true;
	}
	memset(key, 0, PENALTY_ADDR_LEN);
	return false;
}

static unsigned int penalty_bucket(const struct penalty *p, const uint8_t *key)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, key, PENALTY_ADDR_LEN, p->hash_key);
	return (unsigned int)(h[0] | h[1] << 8) % PENALTY_BUCKETS;
}

static struct penalty_entry *penalty_find(struct penalty *p, const uint8_t *key)
{
	for (struct penalty_entry *e = p->buckets[penalty_bucket(p, key)]; e != NULL; e = e->hash_next)
		if (memcmp(e->key, key, PENALTY_ADDR_LEN) == 0)
			return e;
	return NULL;
}

static void penalty_lru_unlink(struct penalty *p, struct penalty_entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		p->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		p->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void penalty_lru_push(struct penalty *p, struct penalty_entry *e)
{
	e->lru_next = p->lru_head;
	if (p->lru_head != NULL)
		p->lru_head->lru_prev = e;
	p->lru_head = e;
	if (p->lru_tail == NULL)
		p->lru_tail = e;
}

static void penalty_remove(struct penalty *p, struct penalty_entry *e)
{
	struct penalty_entry **pp = &p->buckets[penalty_bucket(p, e->key)];
	while (*pp != e)
		pp = &(*pp)->hash_next;
	*pp = e->hash_next;
	penalty_lru_unlink(p, e);
	p->count--;
	free(e);
}

/* Drops expired entries from the old end and, when full, the oldest one. */
static void penalty_trim(struct penalty *p, uint64_t now_ms)
{
	while (p->lru_tail != NULL &&
	       (now_ms - p->lru_tail->last_failure_ms >= PENALTY_EXPIRE_SECS * 1000u ||
		p->count >= PENALTY_MAX_ENTRIES))
		penalty_remove(p, p->lru_tail);
}

static uint64_t penalty_secs(const struct penalty *p, unsigned int penalty)
{
	uint64_t secs = PENALTY_INIT_SECS;
	for (unsigned int i = 0; i < penalty && secs < PENALTY_DOVECOT_MAX_SECS; i++)
		secs *= 2;
	if (secs > PENALTY_DOVECOT_MAX_SECS)
		secs = PENALTY_DOVECOT_MAX_SECS;
	return secs < p->cap_secs ? secs : p->cap_secs;
}

uint64_t penalty_delay_ms(struct penalty *p, const struct penalty_addr *addr, uint64_t now_ms)
{
	/* The common case, nobody failed lately, costs no hashing. */
	if (p->count == 0)
		return 0;
	struct penalty_entry *e = penalty_find(p, addr->key);
	if (e == NULL || e->penalty == 0)
		return 0;
	uint64_t wait = penalty_secs(p, e->penalty) * 1000u;
	uint64_t elapsed = now_ms - e->last_failure_ms;
	return elapsed >= wait ? 0 : wait - elapsed;
}

void penalty_failure(struct penalty *p, const struct penalty_addr *addr, uint64_t checksum,
		     uint64_t now_ms)
{
	const uint8_t *key = addr->key;
	penalty_trim(p, now_ms);
	struct penalty_entry *e = penalty_find(p, key);
	if (e == NULL) {
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return;
		memcpy(e->key, key, PENALTY_ADDR_LEN);
		unsigned int b = penalty_bucket(p, key);
		e->hash_next = p->buckets[b];
		p->buckets[b] = e;
		p->count++;
	} else {
		penalty_lru_unlink(p, e);
	}
	penalty_lru_push(p, e);
	/* The same user+password again is a confused client, not a guess. */
	if (e->penalty == 0 || e->checksum != checksum) {
		if (e->penalty < PENALTY_MAX)
			e->penalty++;
		e->checksum = checksum;
	}
	e->last_failure_ms = now_ms;
}

void penalty_success(struct penalty *p, const struct penalty_addr *addr)
{
	if (p->count == 0)
		return;
	struct penalty_entry *e = penalty_find(p, addr->key);
	if (e != NULL)
		penalty_remove(p, e);
}

uint64_t penalty_checksum(const struct penalty *p, const char *user, const uint8_t *password,
			  size_t password_len)
{
	crypto_generichash_state st;
	uint8_t out[8];
	uint64_t v = 0;
	crypto_generichash_init(&st, p->hash_key, sizeof(p->hash_key), sizeof(out));
	crypto_generichash_update(&st, (const uint8_t *)user, strlen(user) + 1);
	if (password_len > 0)
		crypto_generichash_update(&st, password, password_len);
	crypto_generichash_final(&st, out, sizeof(out));
	memcpy(&v, out, sizeof(v));
	secret_wipe(&st, sizeof(st));
	return v;
}
