/* db_passwd_file_index: the mmap'd regions, the bucketed hash index and
 * the public read side of a parsed passwd-file (lookup, LIST, free). The
 * layout is described in db_passwd_file_index.h. */
#include "passdb/db_passwd_file_index.h"
#include "common/secret.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PF_REGION_MIN (64u * 1024u)
#define PF_HUGE_PAGE (2u * 1024u * 1024u)
#define PF_RECS_PER_FILE_BYTE_NUM 3u   /* first reservation: 3/4 of the file */
#define PF_RECS_PER_FILE_BYTE_DEN 4u

static size_t pf_page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	return n > SIZE_MAX - page ? 0 : (n + page - 1) & ~(page - 1);
}

/* A fresh anonymous mapping; one of PF_HUGE_PAGE bytes or more starts on a
 * huge page boundary and asks for transparent huge pages: a lookup in a
 * million users then costs no TLB miss on top of its cache misses. */
static void *pf_map(size_t size)
{
	bool huge = size >= PF_HUGE_PAGE;
	size_t span = huge ? size + PF_HUGE_PAGE : size;
	uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (huge) {
		size_t head = (PF_HUGE_PAGE - (uintptr_t)p % PF_HUGE_PAGE) % PF_HUGE_PAGE;
		if (head > 0)
			munmap(p, head);
		if (span - head > size)
			munmap(p + head + size, span - head - size);
		p += head;
		(void)madvise(p, size, MADV_HUGEPAGE);
	}
	(void)madvise(p, size, MADV_DONTDUMP);   /* password hashes stay out of cores */
	return p;
}

/* Maps cap bytes (rounded up to pages) for r, or moves it there. */
static int pf_region_resize(struct pf_region *r, size_t cap)
{
	cap = pf_page_round(cap);
	if (cap == 0)
		return -1;
	void *p = r->base == NULL ? pf_map(cap) : mremap(r->base, r->cap, cap, MREMAP_MAYMOVE);
	if (p == NULL || p == MAP_FAILED)
		return -1;
	r->base = p;
	r->cap = cap;
	return 0;
}

uint8_t *passwd_file_region_reserve(struct pf_region *r, size_t n)
{
	if (n > PF_REGION_MAX - r->len)
		return NULL;
	if (r->base == NULL || r->cap - r->len < n) {
		size_t cap = r->cap < PF_REGION_MIN ? PF_REGION_MIN : r->cap;
		while (cap - r->len < n)
			cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
		if (pf_region_resize(r, cap) < 0)
			return NULL;
	}
	return r->base + r->len;
}

/* Gives back the unused tail of r's mapping. */
static void pf_region_trim(struct pf_region *r)
{
	size_t cap = pf_page_round(r->len);
	if (r->base == NULL || cap >= r->cap)
		return;
	if (cap == 0) {
		munmap(r->base, r->cap);
		r->base = NULL;
		r->cap = 0;
		return;
	}
	void *p = mremap(r->base, r->cap, cap, 0);
	if (p != MAP_FAILED) {
		r->base = p;
		r->cap = cap;
	}
}

void passwd_file_region_free(struct pf_region *r, bool wipe)
{
	if (r->base == NULL)
		return;
	if (wipe)
		secret_wipe(r->base, r->len);
	munmap(r->base, r->cap);
	r->base = NULL;
	r->len = r->cap = 0;
}

/* Maps an empty bucket table for max_entries at PF_LOAD_PERCENT. */
static int pf_buckets_new(struct passwd_file *pf, size_t max_entries)
{
	if (max_entries > PF_REGION_MAX)
		return -1;
	size_t slots = max_entries / PF_LOAD_PERCENT * 100u + max_entries % PF_LOAD_PERCENT * 100u /
		       PF_LOAD_PERCENT + 1u;
	size_t n = slots / PF_BUCKET_SLOTS + 1u;
	struct pf_bucket *b = pf_map(n * sizeof(struct pf_bucket));
	if (b == NULL)
		return -1;
	pf->buckets = b;
	pf->nbuckets = n;
	pf->max_count = n * PF_BUCKET_SLOTS * PF_LOAD_MAX_PERCENT / 100u;
	return 0;
}

static void pf_buckets_free(struct pf_bucket *b, size_t n)
{
	if (b != NULL)
		munmap(b, n * sizeof(struct pf_bucket));
}

struct passwd_file *passwd_file_index_new(size_t data_len, size_t max_entries)
{
	if (sodium_init() < 0)
		return NULL;
	struct passwd_file *pf = calloc(1, sizeof(*pf));
	if (pf == NULL)
		return NULL;
	randombytes_buf(pf->key, sizeof(pf->key));
	size_t recs = data_len / PF_RECS_PER_FILE_BYTE_DEN * PF_RECS_PER_FILE_BYTE_NUM;
	if (pf_buckets_new(pf, max_entries) < 0 ||
	    passwd_file_region_reserve(&pf->recs, recs < PF_REGION_MIN ? PF_REGION_MIN : recs) == NULL ||
	    passwd_file_intern_init(pf) < 0) {
		passwd_file_free(&pf);
		return NULL;
	}
	return pf;
}

int passwd_file_index_finish(struct passwd_file *pf)
{
	passwd_file_intern_free(pf);
	pf_region_trim(&pf->recs);
	pf_region_trim(&pf->strs);
	pf_region_trim(&pf->ids);
	pf_region_trim(&pf->marks);
	return 0;
}

void passwd_file_free(struct passwd_file **_pf)
{
	struct passwd_file *pf = *_pf;
	if (pf == NULL)
		return;
	*_pf = NULL;
	passwd_file_intern_free(pf);
	passwd_file_region_free(&pf->recs, true);
	passwd_file_region_free(&pf->strs, true);
	passwd_file_region_free(&pf->ids, false);
	passwd_file_region_free(&pf->marks, false);
	pf_buckets_free(pf->buckets, pf->nbuckets);
	free(pf);
}

uint64_t passwd_file_index_hash(const struct passwd_file *pf, const void *user, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;
	crypto_shorthash(h, user, len, pf->key);
	memcpy(&v, h, sizeof(v));
	return v;
}

static size_t pf_bucket_of(const struct passwd_file *pf, uint64_t hash)
{
	return (size_t)(((hash >> 32) * (uint64_t)pf->nbuckets) >> 32);
}

void passwd_file_index_prefetch(const struct passwd_file *pf, uint64_t hash)
{
	__builtin_prefetch(&pf->buckets[pf_bucket_of(pf, hash)], 1);
}

int passwd_file_index_find(const struct passwd_file *pf, const void *user, size_t len,
			   uint64_t hash, uint32_t *off_r)
{
	uint8_t tag = (uint8_t)hash;
	size_t b = pf_bucket_of(pf, hash);
	for (size_t probes = 0; probes < pf->nbuckets; probes++) {
		const struct pf_bucket *bk = &pf->buckets[b];
		for (unsigned int i = 0; i < bk->used; i++) {
			if (bk->tag[i] == tag && passwd_file_record_key_eq(pf, bk->off[i], user, len)) {
				*off_r = bk->off[i];
				return 1;
			}
		}
		if (bk->overflow == 0)
			return 0;
		b = b + 1 == pf->nbuckets ? 0 : b + 1;
	}
	return 0;
}

/* Puts off into the first bucket with room, marking the full ones passed. */
static int pf_bucket_insert(struct passwd_file *pf, uint64_t hash, uint32_t off)
{
	size_t b = pf_bucket_of(pf, hash);
	for (size_t probes = 0; probes < pf->nbuckets; probes++) {
		struct pf_bucket *bk = &pf->buckets[b];
		if (bk->used < PF_BUCKET_SLOTS) {
			bk->off[bk->used] = off;
			bk->tag[bk->used++] = (uint8_t)hash;
			return 0;
		}
		bk->overflow = 1;
		b = b + 1 == pf->nbuckets ? 0 : b + 1;
	}
	return -1;   /* the load stays under PF_LOAD_MAX_PERCENT: cannot happen */
}

/* Rebuilds the bucket table twice as large, from the records (the sizing
 * estimate was short). Returns 0 or -1. */
static int pf_grow(struct passwd_file *pf)
{
	struct pf_bucket *old = pf->buckets;
	size_t old_n = pf->nbuckets;
	if (pf_buckets_new(pf, pf->count * 2 + PF_BUCKET_SLOTS) < 0)
		return -1;   /* pf keeps the old table */
	pf_buckets_free(old, old_n);
	uint32_t off = 0;
	for (size_t i = 0; i < pf->count; i++) {
		size_t len;
		const char *user = passwd_file_record_key(pf, off, &len);
		if (pf_bucket_insert(pf, passwd_file_index_hash(pf, user, len), off) < 0)
			return -1;   /* sized for twice the entries: cannot happen */
		off = passwd_file_record_skip(pf, off);
	}
	return 0;
}

int passwd_file_index_add(struct passwd_file *pf, const struct pf_record *rec, uint64_t hash)
{
	uint32_t off;
	if (pf->count >= pf->max_count && pf_grow(pf) < 0)
		return -1;
	if (pf->count % PF_MARK_EVERY == 0) {
		uint8_t *m = passwd_file_region_reserve(&pf->marks, sizeof(uint32_t));
		if (m == NULL)
			return -1;
	}
	if (passwd_file_record_encode(pf, rec, &off) < 0 || pf_bucket_insert(pf, hash, off) < 0)
		return -1;
	if (pf->count % PF_MARK_EVERY == 0) {
		memcpy(pf->marks.base + pf->marks.len, &off, sizeof(off));
		pf->marks.len += sizeof(off);
	}
	pf->count++;
	return 0;
}

int passwd_file_lookup(const struct passwd_file *pf, const char *user, size_t len,
		       struct pool *pool, struct passwd_entry *entry_r)
{
	uint32_t off;
	if (pf == NULL || len == 0 || pf->count == 0 ||
	    passwd_file_index_find(pf, user, len, passwd_file_index_hash(pf, user, len), &off) == 0)
		return 0;
	passwd_file_record_decode(pf, off, pool, entry_r);
	return 1;
}

size_t passwd_file_count(const struct passwd_file *pf)
{
	return pf != NULL ? pf->count : 0;
}

/* Offset of the i-th record (i < count). */
static uint32_t pf_record_at(const struct passwd_file *pf, size_t i)
{
	uint32_t off;
	memcpy(&off, pf->marks.base + i / PF_MARK_EVERY * sizeof(uint32_t), sizeof(off));
	for (size_t k = 0; k < i % PF_MARK_EVERY; k++)
		off = passwd_file_record_skip(pf, off);
	return off;
}

int passwd_file_entry(const struct passwd_file *pf, size_t i, struct pool *pool,
		      struct passwd_entry *entry_r)
{
	if (pf == NULL || i >= pf->count)
		return 0;
	passwd_file_record_decode(pf, pf_record_at(pf, i), pool, entry_r);
	return 1;
}

const char *passwd_file_user(const struct passwd_file *pf, size_t i)
{
	if (pf == NULL || i >= pf->count)
		return NULL;
	const uint8_t *p = pf->recs.base + pf_record_at(pf, i);
	while ((*p++ & 0x80u) != 0)
		;   /* the user_len varint */
	return (const char *)p;
}

size_t passwd_file_memory(const struct passwd_file *pf)
{
	if (pf == NULL)
		return 0;
	return sizeof(*pf) + pf->recs.cap + pf->strs.cap + pf->ids.cap + pf->marks.cap +
	       pf->nbuckets * sizeof(struct pf_bucket);
}
