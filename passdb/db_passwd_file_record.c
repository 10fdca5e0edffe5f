/* db_passwd_file_record: encoding one user's values into a compact record,
 * decoding it back, and the string interning both rely on. The layout is
 * described in db_passwd_file_index.h. Encoding happens while parsing (one
 * thread); decoding only reads and may run on several threads. */
#include "passdb/db_passwd_file_index.h"
#include "common/pool.h"

#include <stdlib.h>
#include <string.h>

#define PF_INTERN_SLOTS_MIN 256u
#define PF_RECORD_SLACK 64u          /* fixed-size parts of a record, generously */
#define PF_EXTRA_COST 4u             /* worst bytes of record per byte of extra fields */

enum pf_intern_kind {
	PF_KIND_PREFIX,
	PF_KIND_DIR,
	PF_KIND_EXTRA,
	PF_KIND_COUNT
};

/* Parse-time hash table of the interned strings. */
struct pf_intern {
	uint32_t *slots;             /* id + 1; 0 = empty; linear probing */
	size_t nslots;               /* power of two, at least twice the ids */
	uint32_t last[PF_KIND_COUNT];   /* last id of each kind: files repeat */
};

static const uint32_t *pf_ids(const struct passwd_file *pf)
{
	return (const uint32_t *)(const void *)pf->ids.base;
}

static size_t pf_nids(const struct passwd_file *pf)
{
	return pf->ids.len / sizeof(uint32_t);
}

/* The interned string id, with its length. */
static const char *pf_str(const struct passwd_file *pf, uint32_t id, size_t *len_r)
{
	uint32_t off = pf_ids(pf)[id];
	*len_r = pf->strs.base[off - 1];
	return (const char *)pf->strs.base + off;
}

static bool pf_str_eq(const struct passwd_file *pf, uint32_t id, const uint8_t *s, size_t len)
{
	size_t n;
	const char *str = pf_str(pf, id, &n);
	return n == len && memcmp(str, s, len) == 0;
}

/* Appends [len] s NUL to strs and its offset to ids. Returns the new id, or
 * -1 when out of memory. */
static int64_t pf_str_append(struct passwd_file *pf, const uint8_t *s, size_t len)
{
	uint8_t *p = passwd_file_region_reserve(&pf->strs, len + 2);
	uint8_t *ip = passwd_file_region_reserve(&pf->ids, sizeof(uint32_t));
	if (p == NULL || ip == NULL)
		return -1;
	uint32_t off = (uint32_t)pf->strs.len + 1;
	p[0] = (uint8_t)len;
	memcpy(p + 1, s, len);
	p[len + 1] = '\0';
	pf->strs.len += len + 2;
	memcpy(ip, &off, sizeof(off));
	pf->ids.len += sizeof(off);
	return (int64_t)pf_nids(pf) - 1;
}

static void pf_intern_put(struct passwd_file *pf, uint32_t id)
{
	struct pf_intern *in = pf->intern;
	size_t len, mask = in->nslots - 1;
	const char *s = pf_str(pf, id, &len);
	size_t i = (size_t)passwd_file_index_hash(pf, s, len) & mask;
	while (in->slots[i] != 0)
		i = (i + 1) & mask;
	in->slots[i] = id + 1;
}

/* Doubles the slots, re-inserting ids 1.. (id 0, "", is never looked up). */
static int pf_intern_grow(struct passwd_file *pf)
{
	struct pf_intern *in = pf->intern;
	size_t n = in->nslots * 2;
	uint32_t *slots = calloc(n, sizeof(*slots));
	if (slots == NULL)
		return -1;
	free(in->slots);
	in->slots = slots;
	in->nslots = n;
	for (uint32_t id = 1; id < pf_nids(pf); id++)
		pf_intern_put(pf, id);
	return 0;
}

int passwd_file_intern_init(struct passwd_file *pf)
{
	struct pf_intern *in = calloc(1, sizeof(*in));
	if (in == NULL)
		return -1;
	pf->intern = in;
	in->nslots = PF_INTERN_SLOTS_MIN;
	in->slots = calloc(in->nslots, sizeof(*in->slots));
	if (in->slots == NULL || pf_str_append(pf, (const uint8_t *)"", 0) != 0)
		return -1;
	return 0;
}

void passwd_file_intern_free(struct passwd_file *pf)
{
	if (pf->intern == NULL)
		return;
	free(pf->intern->slots);
	free(pf->intern);
	pf->intern = NULL;
}

/* Returns 1 with the id of (s, len), 0 when it is not interned (too long,
 * table full), -1 when out of memory. */
static int pf_intern(struct passwd_file *pf, enum pf_intern_kind kind, const uint8_t *s,
		     size_t len, uint32_t *id_r)
{
	struct pf_intern *in = pf->intern;
	if (len == 0) {
		*id_r = 0;
		return 1;
	}
	if (len > PF_INTERN_LEN_MAX)
		return 0;
	if (pf_str_eq(pf, in->last[kind], s, len)) {
		*id_r = in->last[kind];
		return 1;
	}
	size_t mask = in->nslots - 1, i = (size_t)passwd_file_index_hash(pf, s, len) & mask;
	for (; in->slots[i] != 0; i = (i + 1) & mask) {
		if (pf_str_eq(pf, in->slots[i] - 1, s, len)) {
			*id_r = in->last[kind] = in->slots[i] - 1;
			return 1;
		}
	}
	if (pf_nids(pf) >= PF_INTERN_MAX)
		return 0;
	int64_t id = pf_str_append(pf, s, len);
	if (id < 0)
		return -1;
	in->slots[i] = (uint32_t)id + 1;
	if (pf_nids(pf) * 2 > in->nslots && pf_intern_grow(pf) < 0)
		return -1;
	*id_r = in->last[kind] = (uint32_t)id;
	return 1;
}

static uint8_t *pf_put_varint(uint8_t *p, size_t v)
{
	while (v >= 0x80u) {
		*p++ = (uint8_t)(v | 0x80u);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint32_t pf_get_varint(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint32_t v = 0;
	for (unsigned int shift = 0; shift < 7u * PF_VARINT_MAX; shift += 7) {
		v |= (uint32_t)(*p & 0x7fu) << shift;
		if ((*p++ & 0x80u) == 0)
			break;
	}
	*pp = p;
	return v;
}

static uint8_t *pf_put_bytes(uint8_t *p, const void *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/* prefix id, body: "{SCHEME}" is interned when possible. */
static int pf_enc_password(struct passwd_file *pf, const struct pf_record *rec, uint8_t **pp)
{
	const uint8_t *pre = (const uint8_t *)rec->pw_prefix, *body = rec->pw;
	size_t pre_len = pre != NULL ? strlen(rec->pw_prefix) : 0, body_len = rec->pw_len;
	if (pre == NULL && body_len > 0 && body[0] == '{') {
		const uint8_t *close = memchr(body, '}', body_len);
		if (close != NULL) {
			pre = body;
			pre_len = (size_t)(close - body) + 1;
			body += pre_len;
			body_len -= pre_len;
		}
	}
	uint32_t id = 0;
	int ret = pf_intern(pf, PF_KIND_PREFIX, pre, pre_len, &id);
	if (ret < 0)
		return -1;
	uint8_t *p = pf_put_varint(*pp, ret > 0 ? id : 0);
	p = pf_put_varint(p, body_len + (ret > 0 ? 0 : pre_len));
	if (ret == 0)
		p = pf_put_bytes(p, pre, pre_len);
	*pp = pf_put_bytes(p, body, body_len);
	return 0;
}

/* dir id, base code: the directory part is interned; a base equal to the
 * user name (or its part before '@') costs nothing. */
static int pf_enc_home(struct passwd_file *pf, const struct pf_record *rec, uint8_t **pp)
{
	const uint8_t *home = rec->home, *slash = memrchr(home, '/', rec->home_len);
	size_t dir_len = slash != NULL ? (size_t)(slash - home) + 1 : 0;
	uint32_t id = 0;
	int ret = pf_intern(pf, PF_KIND_DIR, home, dir_len, &id);
	if (ret < 0)
		return -1;
	if (ret == 0)
		dir_len = 0;   /* id 0 (""): all of home is the base */
	const uint8_t *base = home + dir_len;
	size_t base_len = rec->home_len - dir_len;
	const uint8_t *at = memchr(rec->user, '@', rec->user_len);
	uint8_t *p = pf_put_varint(*pp, id);
	if (base_len == rec->user_len && memcmp(base, rec->user, base_len) == 0) {
		p = pf_put_varint(p, PF_BASE_USER);
	} else if (at != NULL && base_len == (size_t)(at - rec->user) &&
		   memcmp(base, rec->user, base_len) == 0) {
		p = pf_put_varint(p, PF_BASE_LOCALPART);
	} else {
		p = pf_put_varint(p, base_len + PF_BASE_LITERAL);
		p = pf_put_bytes(p, base, base_len);
	}
	*pp = p;
	return 0;
}

/* Next field of (s, len) from *pos on, split on runs of spaces. */
static bool pf_next_field(const uint8_t *s, size_t len, size_t *pos, size_t *start_r,
			  size_t *len_r)
{
	size_t i = *pos;
	while (i < len && s[i] == ' ')
		i++;
	if (i == len)
		return false;
	*start_r = i;
	while (i < len && s[i] != ' ')
		i++;
	*len_r = i - *start_r;
	*pos = i;
	return true;
}

static int pf_enc_extra(struct passwd_file *pf, const struct pf_record *rec, size_t count,
			uint8_t **pp)
{
	size_t pos, start, n;
	uint8_t *p = pf_put_varint(*pp, count);
	for (pos = 0; pf_next_field(rec->extra, rec->extra_len, &pos, &start, &n);) {
		uint32_t id;
		int ret = pf_intern(pf, PF_KIND_EXTRA, rec->extra + start, n, &id);
		if (ret < 0)
			return -1;
		if (ret > 0) {
			p = pf_put_varint(p, (size_t)id << 1);
			continue;
		}
		p = pf_put_varint(p, n << 1 | 1u);
		p = pf_put_bytes(p, rec->extra + start, n);
		*p++ = '\0';
	}
	*pp = p;
	return 0;
}

static size_t pf_count_fields(const struct pf_record *rec)
{
	size_t count = 0, pos = 0, start, n;
	while (rec->extra != NULL && pf_next_field(rec->extra, rec->extra_len, &pos, &start, &n))
		count++;
	return count;
}

static unsigned int pf_flags(const struct pf_record *rec, size_t nfields)
{
	return (rec->has_password ? PF_F_PASSWORD : 0u) | (rec->has_userdb ? PF_F_USERDB : 0u) |
	       (rec->has_uid ? PF_F_UID : 0u) | (rec->has_gid ? PF_F_GID : 0u) |
	       (rec->has_uid && rec->has_gid && rec->uid == rec->gid ? PF_F_GID_IS_UID : 0u) |
	       (rec->home != NULL ? PF_F_HOME : 0u) | (nfields > 0 ? PF_F_EXTRA : 0u);
}

int passwd_file_record_encode(struct passwd_file *pf, const struct pf_record *rec,
			      uint32_t *off_r)
{
	size_t need = PF_RECORD_SLACK + rec->user_len + rec->pw_len + rec->home_len +
		      PF_EXTRA_COST * rec->extra_len;
	uint8_t *start = passwd_file_region_reserve(&pf->recs, need), *p = start;
	if (p == NULL)
		return -1;
	size_t nfields = pf_count_fields(rec);
	unsigned int flags = pf_flags(rec, nfields);
	p = pf_put_varint(p, rec->user_len);
	p = pf_put_bytes(p, rec->user, rec->user_len);
	*p++ = '\0';
	*p++ = (uint8_t)flags;
	if ((flags & PF_F_PASSWORD) != 0 && pf_enc_password(pf, rec, &p) < 0)
		return -1;
	if ((flags & PF_F_UID) != 0)
		p = pf_put_varint(p, rec->uid);
	if ((flags & PF_F_GID) != 0 && (flags & PF_F_GID_IS_UID) == 0)
		p = pf_put_varint(p, rec->gid);
	if ((flags & PF_F_HOME) != 0 && pf_enc_home(pf, rec, &p) < 0)
		return -1;
	if ((flags & PF_F_EXTRA) != 0 && pf_enc_extra(pf, rec, nfields, &p) < 0)
		return -1;
	*off_r = (uint32_t)pf->recs.len;
	pf->recs.len += (size_t)(p - start);
	return 0;
}

const char *passwd_file_record_key(const struct passwd_file *pf, uint32_t off, size_t *len_r)
{
	const uint8_t *p = pf->recs.base + off;
	*len_r = pf_get_varint(&p);
	return (const char *)p;
}

bool passwd_file_record_key_eq(const struct passwd_file *pf, uint32_t off, const void *user,
			       size_t len)
{
	const uint8_t *p = pf->recs.base + off;
	return pf_get_varint(&p) == len && memcmp(p, user, len) == 0;
}

static const char *pf_dec_password(const struct passwd_file *pf, const uint8_t **pp,
				   struct pool *pool)
{
	size_t pre_len;
	const char *pre = pf_str(pf, pf_get_varint(pp), &pre_len);
	size_t body_len = pf_get_varint(pp);
	char *pw = pool != NULL ? pool_alloc(pool, pre_len + body_len + 1) : NULL;
	if (pw != NULL) {
		memcpy(pw, pre, pre_len);
		memcpy(pw + pre_len, *pp, body_len);
		pw[pre_len + body_len] = '\0';
	}
	*pp += body_len;
	return pw;
}

static const char *pf_dec_home(const struct passwd_file *pf, const uint8_t **pp,
			       const char *user, size_t user_len, struct pool *pool)
{
	size_t dir_len;
	const char *dir = pf_str(pf, pf_get_varint(pp), &dir_len);
	uint32_t code = pf_get_varint(pp);
	const char *base = user, *at;
	size_t base_len = user_len;
	if (code == PF_BASE_LOCALPART && (at = memchr(user, '@', user_len)) != NULL) {
		base_len = (size_t)(at - user);
	} else if (code >= PF_BASE_LITERAL) {
		base = (const char *)*pp;
		base_len = code - PF_BASE_LITERAL;
		*pp += base_len;
	}
	char *home = pool != NULL ? pool_alloc(pool, dir_len + base_len + 1) : NULL;
	if (home != NULL) {
		memcpy(home, dir, dir_len);
		memcpy(home + dir_len, base, base_len);
		home[dir_len + base_len] = '\0';
	}
	return home;
}

static void pf_dec_extra(const struct passwd_file *pf, const uint8_t **pp, struct pool *pool,
			 struct passwd_entry *e)
{
	size_t count = pf_get_varint(pp), len;
	const char **items = pool != NULL ? pool_alloc(pool, count * sizeof(*items)) : NULL;
	for (size_t i = 0; i < count; i++) {
		uint32_t code = pf_get_varint(pp);
		const char *s = (const char *)*pp;
		if ((code & 1u) == 0)
			s = pf_str(pf, code >> 1, &len);
		else
			*pp += (code >> 1) + 1;
		if (items != NULL)
			items[i] = s;
	}
	e->extra = items;
	e->extra_count = items != NULL ? count : 0;
}

/* Decodes (pool != NULL) or just walks (pool == NULL) the record at off;
 * returns the offset past it. */
static uint32_t pf_decode(const struct passwd_file *pf, uint32_t off, struct pool *pool,
			  struct passwd_entry *e)
{
	const uint8_t *start = pf->recs.base + off, *p = start;
	size_t user_len = pf_get_varint(&p);
	memset(e, 0, sizeof(*e));
	e->user = (const char *)p;
	p += user_len + 1;
	unsigned int flags = *p++;
	if ((flags & PF_F_PASSWORD) != 0)
		e->password = pf_dec_password(pf, &p, pool);
	e->has_userdb = (flags & PF_F_USERDB) != 0;
	e->has_uid = (flags & PF_F_UID) != 0;
	e->has_gid = (flags & PF_F_GID) != 0;
	if (e->has_uid)
		e->uid = (uid_t)pf_get_varint(&p);
	if (e->has_gid)
		e->gid = (flags & PF_F_GID_IS_UID) != 0 ? (gid_t)e->uid : (gid_t)pf_get_varint(&p);
	if ((flags & PF_F_HOME) != 0)
		e->home = pf_dec_home(pf, &p, e->user, user_len, pool);
	if ((flags & PF_F_EXTRA) != 0)
		pf_dec_extra(pf, &p, pool, e);
	return off + (uint32_t)(p - start);
}

uint32_t passwd_file_record_skip(const struct passwd_file *pf, uint32_t off)
{
	struct passwd_entry e;
	return pf_decode(pf, off, NULL, &e);
}

void passwd_file_record_decode(const struct passwd_file *pf, uint32_t off, struct pool *pool,
			       struct passwd_entry *e)
{
	(void)pf_decode(pf, off, pool, e);
}
