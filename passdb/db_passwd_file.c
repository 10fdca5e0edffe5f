/* db_passwd_file: parsing a passwd-file image into an immutable index
 * (passwd-file-and-ldap.md part A). The registry of loaded files with
 * change detection is in db_passwd_file_registry.c. */
#include "passdb/db_passwd_file.h"
#include "common/pool.h"
#include "common/secret.h"
#include "common/strnum.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PF_FIELDS 9u                 /* user, password, uid, gid, gecos, home, shell, 7, 8 */
#define PF_LOG_VALUE_MAX 64u         /* bytes of a user name/value shown in a log line */
#define PF_LOG_LINE_MAX 512u
#define PF_POOL_BLOCK (64u * 1024u)
#define PF_SLOTS_MIN 64u
#define PF_MAX_ENTRIES (UINT32_MAX / 4u)
#define PF_EMPTY_SLOT UINT32_MAX
#define PF_DIGEST_MD5_HEX_LEN 32u
#define PF_ID_NAME_MAX 256u          /* longest uid/gid name resolved via NSS */
#define PF_NSS_BUF_START 16384u
#define PF_NSS_BUF_MAX (1024u * 1024u)

struct pf_entry {
	struct passwd_entry pub;
	size_t user_len;
	uint64_t hash;
};

struct passwd_file {
	struct pool *pool;           /* every string; wiped on free */
	struct pf_entry *entries;    /* file order */
	size_t count, cap;
	uint32_t *slots;             /* open addressing, linear probing */
	size_t nslots;               /* power of two, > 2 * count */
	uint8_t key[crypto_shorthash_KEYBYTES];   /* random: no crafted collisions */
};

/* Last name resolved for uid and for gid: files tend to repeat one name. */
struct pf_id_cache {
	char name[PF_ID_NAME_MAX];
	uint32_t id;
};

struct pf_parse {
	struct passwd_file *pf;
	const struct passwd_file_opts *opts;
	unsigned int line;
	char user[PF_LOG_VALUE_MAX * 4 + 8];   /* escaped user name for messages */
	struct pf_id_cache uid_cache, gid_cache;
};

struct pf_fields {
	const uint8_t *f[PF_FIELDS];
	size_t len[PF_FIELDS];
	size_t n;                    /* fields present (at most PF_FIELDS) */
	const uint8_t *end;          /* end of the line */
};

/* Printable ASCII kept, everything else \xNN, capped. */
static void pf_escape(const uint8_t *p, size_t len, char *out, size_t out_size)
{
	size_t o = 0;
	for (size_t i = 0; i < len && i < PF_LOG_VALUE_MAX && o + 5 < out_size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", p[i]);
	}
	if (len > PF_LOG_VALUE_MAX && o + 4 < out_size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void pf_log(struct pf_parse *p, const char *fmt, ...)
{
	char msg[PF_LOG_LINE_MAX];
	va_list ap;
	if (p->opts->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->opts->log(p->opts->log_ctx, p->opts->path != NULL ? p->opts->path : "", p->line, msg);
}

static uint64_t pf_hash(const struct passwd_file *pf, const void *p, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	crypto_shorthash(h, p, len, pf->key);
	for (size_t i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return v;
}

static const struct pf_entry *pf_find(const struct passwd_file *pf, const void *user,
				      size_t len, uint64_t hash)
{
	if (pf->nslots == 0)
		return NULL;
	size_t mask = pf->nslots - 1;
	for (size_t i = (size_t)hash & mask; pf->slots[i] != PF_EMPTY_SLOT; i = (i + 1) & mask) {
		const struct pf_entry *e = &pf->entries[pf->slots[i]];
		if (e->hash == hash && e->user_len == len && memcmp(e->pub.user, user, len) == 0)
			return e;
	}
	return NULL;
}

static int pf_grow_slots(struct passwd_file *pf)
{
	size_t n = pf->nslots != 0 ? pf->nslots * 2 : PF_SLOTS_MIN;
	if (n > SIZE_MAX / sizeof(uint32_t))
		return -1;
	uint32_t *slots = malloc(n * sizeof(uint32_t));
	if (slots == NULL)
		return -1;
	memset(slots, 0xff, n * sizeof(uint32_t));
	for (size_t k = 0; k < pf->count; k++) {
		size_t i = (size_t)pf->entries[k].hash & (n - 1);
		while (slots[i] != PF_EMPTY_SLOT)
			i = (i + 1) & (n - 1);
		slots[i] = (uint32_t)k;
	}
	free(pf->slots);
	pf->slots = slots;
	pf->nslots = n;
	return 0;
}

/* Appends e to the index. Returns 0 or -1 (out of memory, too many). */
static int pf_insert(struct passwd_file *pf, const struct pf_entry *e)
{
	if (pf->count >= PF_MAX_ENTRIES)
		return -1;
	if (pf->count == pf->cap) {
		size_t cap = pf->cap != 0 ? pf->cap * 2 : PF_SLOTS_MIN;
		if (cap > SIZE_MAX / sizeof(*pf->entries))
			return -1;
		struct pf_entry *n = realloc(pf->entries, cap * sizeof(*n));
		if (n == NULL)
			return -1;
		pf->entries = n;
		pf->cap = cap;
	}
	if ((pf->count + 1) * 2 > pf->nslots && pf_grow_slots(pf) < 0)
		return -1;
	size_t mask = pf->nslots - 1, i = (size_t)e->hash & mask;
	while (pf->slots[i] != PF_EMPTY_SLOT)
		i = (i + 1) & mask;
	pf->entries[pf->count] = *e;
	pf->slots[i] = (uint32_t)pf->count++;
	return 0;
}

static void pf_split(const uint8_t *line, size_t len, struct pf_fields *out)
{
	size_t start = 0;
	out->n = 0;
	out->end = line + len;
	for (size_t i = 0; i <= len && out->n < PF_FIELDS; i++) {
		if (i < len && line[i] != ':')
			continue;
		out->f[out->n] = line + start;
		out->len[out->n++] = i - start;
		start = i + 1;
	}
}

/* libpam-pwdfile's "hash[NN]": [34] PLAIN-MD5, [56] DIGEST-MD5 (32 hex
 * chars), anything else CRYPT, as Dovecot does (which also means a
 * non-digit "[xy]" becomes CRYPT). Returns 0, or -1 to reject the line. */
static int pf_password(struct pf_parse *p, const uint8_t *pw, size_t len, const char **out_r)
{
	if (len <= 4 || pw[0] == '{' || pw[0] == '$' || pw[len - 1] != ']' || pw[len - 4] != '[') {
		*out_r = pool_strndup(p->pf->pool, pw, len);
		return 0;
	}
	uint8_t d1 = pw[len - 3], d2 = pw[len - 2];
	int num = d1 >= '0' && d1 <= '9' && d2 >= '0' && d2 <= '9' ? (d1 - '0') * 10 + (d2 - '0') : -1;
	const char *prefix = num == 34 ? "{PLAIN-MD5}" : num == 56 ? "{DIGEST-MD5}" : "{CRYPT}";
	size_t body = len - 4;
	if (num == 56 && body != PF_DIGEST_MD5_HEX_LEN) {
		pf_log(p, "User %s has invalid password", p->user);
		return -1;
	}
	*out_r = pool_printf(p->pf->pool, "%s%.*s", prefix, (int)body, (const char *)pw);
	return 0;
}

/* Resolves a system user/group name. Returns 1 with *id_r, or 0. May
 * block in NSS. */
static int pf_nss_id(bool gid, const char *name, uint32_t *id_r)
{
	for (size_t size = PF_NSS_BUF_START; size <= PF_NSS_BUF_MAX; size *= 2) {
		char *buf = malloc(size);
		if (buf == NULL)
			return 0;
		struct group gr, *gres = NULL;
		struct passwd pw, *pres = NULL;
		int err = gid ? getgrnam_r(name, &gr, buf, size, &gres) :
				getpwnam_r(name, &pw, buf, size, &pres);
		free(buf);
		if (err == ERANGE)
			continue;
		if (err != 0 || (gid ? (void *)gres : (void *)pres) == NULL)
			return 0;
		*id_r = gid ? (uint32_t)gr.gr_gid : (uint32_t)pw.pw_uid;
		return 1;
	}
	return 0;
}

/* A uid/gid column: decimal, or a name resolved now. 0 and -1 are invalid.
 * Returns 1 with *id_r, or 0. */
static int pf_parse_id(struct pf_id_cache *cache, bool gid, const uint8_t *v, size_t len,
		       uint32_t *id_r)
{
	uint32_t id;
	if (str_to_uint32(v, len, &id)) {
		/* numeric */
	} else if (len == 0 || len >= PF_ID_NAME_MAX || memchr(v, '\0', len) != NULL) {
		return 0;
	} else if (strlen(cache->name) == len && memcmp(cache->name, v, len) == 0) {
		id = cache->id;
	} else {
		char name[PF_ID_NAME_MAX];
		memcpy(name, v, len);
		name[len] = '\0';
		if (!pf_nss_id(gid, name, &id))
			return 0;
		memcpy(cache->name, name, len + 1);
		cache->id = id;
	}
	if (id == 0 || id == UINT32_MAX)
		return 0;
	*id_r = id;
	return 1;
}

/* Columns 2 and 3 (validated only for a userdb). Returns 0 or -1. */
static int pf_ids(struct pf_parse *p, const struct pf_fields *fl, struct passwd_entry *e)
{
	bool userdb = p->opts->userdb;
	char val[PF_LOG_VALUE_MAX * 4 + 8];
	uint32_t id;
	if (fl->n > 2 && userdb && fl->len[2] > 0) {
		if (!pf_parse_id(&p->uid_cache, false, fl->f[2], fl->len[2], &id)) {
			pf_escape(fl->f[2], fl->len[2], val, sizeof(val));
			pf_log(p, "User %s has invalid UID '%s'", p->user, val);
			return -1;
		}
		e->has_uid = true;
		e->uid = (uid_t)id;
	}
	if (fl->n <= 3) {
		/* No userdb data at all: the uid alone must not be used. */
		e->has_uid = false;
		if (userdb && p->opts->single_userdb)
			pf_log(p, "User %s is missing userdb info", p->user);
		return 0;
	}
	e->has_userdb = true;
	if (userdb && fl->len[3] > 0) {
		if (!pf_parse_id(&p->gid_cache, true, fl->f[3], fl->len[3], &id)) {
			pf_escape(fl->f[3], fl->len[3], val, sizeof(val));
			pf_log(p, "User %s has invalid GID '%s'", p->user, val);
			return -1;
		}
		e->has_gid = true;
		e->gid = (gid_t)id;
	}
	return 0;
}

/* Splits (p, len) on runs of spaces into pool strings. */
static void pf_split_spaces(struct pool *pool, const uint8_t *p, size_t len,
			    struct passwd_entry *e)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] != ' ' && (i == 0 || p[i - 1] == ' '))
			n++;
	if (n == 0)
		return;
	const char **items = pool_alloc(pool, n * sizeof(*items));
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		while (i < len && p[i] == ' ')
			i++;
		size_t start = i;
		while (i < len && p[i] != ' ')
			i++;
		if (i > start)
			items[k++] = pool_strndup(pool, p + start, i - start);
	}
	e->extra = items;
	e->extra_count = k;
}

/* Fields 7.. : new format (space separated, colons kept) or old format
 * (field 7 empty, fields 8.. = userdb_mail, only for a userdb). Both are
 * split on spaces, as Dovecot does ("userdb_mail=x y" gives two fields). */
static void pf_extra(struct pf_parse *p, const struct pf_fields *fl, struct passwd_entry *e)
{
	if (fl->n <= 7)
		return;
	if (fl->len[7] > 0) {
		pf_split_spaces(p->pf->pool, fl->f[7], (size_t)(fl->end - fl->f[7]), e);
		return;
	}
	if (fl->n <= 8 || fl->len[8] == 0 || !p->opts->userdb)
		return;
	const char *mail = pool_printf(p->pf->pool, "userdb_mail=%.*s",
				       (int)(fl->end - fl->f[8]), (const char *)fl->f[8]);
	pf_split_spaces(p->pf->pool, (const uint8_t *)mail, strlen(mail), e);
}

/* One non-comment line. Returns 0, or -1 when out of memory. */
static int pf_add_line(struct pf_parse *p, const uint8_t *line, size_t len)
{
	struct pf_fields fl;
	struct pf_entry e;
	pf_split(line, len, &fl);
	memset(&e, 0, sizeof(e));
	e.user_len = fl.len[0];
	e.hash = pf_hash(p->pf, fl.f[0], fl.len[0]);
	pf_escape(fl.f[0], fl.len[0], p->user, sizeof(p->user));
	if (pf_find(p->pf, fl.f[0], fl.len[0], e.hash) != NULL) {
		pf_log(p, "User %s exists more than once", p->user);
		return 0;
	}
	if (fl.n > 1 && pf_password(p, fl.f[1], fl.len[1], &e.pub.password) < 0)
		return 0;
	if (pf_ids(p, &fl, &e.pub) < 0)
		return 0;
	if (fl.n > 5 && p->opts->userdb && fl.len[5] > 0)
		e.pub.home = pool_strndup(p->pf->pool, fl.f[5], fl.len[5]);
	pf_extra(p, &fl, &e.pub);
	e.pub.user = pool_strndup(p->pf->pool, fl.f[0], fl.len[0]);
	return pf_insert(p->pf, &e);
}

/* Skips empty, ':' and '#' lines; rejects over-long lines and NUL bytes. */
static int pf_line(struct pf_parse *p, const uint8_t *line, size_t len)
{
	if (len == 0 || line[0] == ':' || line[0] == '#')
		return 0;
	if (len > PASSWD_FILE_MAX_LINE) {
		pf_log(p, "Line %u is too long (%zu bytes, max %u), ignored", p->line, len,
		       PASSWD_FILE_MAX_LINE);
		return 0;
	}
	if (memchr(line, '\0', len) != NULL) {
		pf_log(p, "Line %u contains a NUL byte, ignored", p->line);
		return 0;
	}
	return pf_add_line(p, line, len);
}

static struct passwd_file *pf_new(void)
{
	if (sodium_init() < 0)
		return NULL;
	struct passwd_file *pf = calloc(1, sizeof(*pf));
	if (pf == NULL)
		return NULL;
	pf->pool = pool_create(PF_POOL_BLOCK);
	randombytes_buf(pf->key, sizeof(pf->key));
	return pf;
}

struct passwd_file *passwd_file_parse(const uint8_t *data, size_t len,
				      const struct passwd_file_opts *opts)
{
	if (len > PASSWD_FILE_MAX_SIZE)
		return NULL;
	struct passwd_file *pf = pf_new();
	if (pf == NULL)
		return NULL;
	struct pf_parse *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		passwd_file_free(&pf);
		return NULL;
	}
	p->pf = pf;
	p->opts = opts;
	for (size_t pos = 0; pos < len && pf != NULL;) {
		const uint8_t *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - data) : len;
		size_t line_len = end - pos;
		if (nl != NULL && line_len > 0 && data[end - 1] == '\r')
			line_len--;
		p->line++;
		if (pf_line(p, data + pos, line_len) < 0)
			passwd_file_free(&pf);
		pos = nl != NULL ? end + 1 : len;
	}
	secret_wipe(p, sizeof(*p));
	free(p);
	return pf;
}

void passwd_file_free(struct passwd_file **_pf)
{
	struct passwd_file *pf = *_pf;
	if (pf == NULL)
		return;
	*_pf = NULL;
	pool_destroy(&pf->pool);
	free(pf->entries);
	free(pf->slots);
	free(pf);
}

const struct passwd_entry *passwd_file_lookup(const struct passwd_file *pf,
					      const char *user, size_t len)
{
	if (pf == NULL || len == 0)
		return NULL;
	const struct pf_entry *e = pf_find(pf, user, len, pf_hash(pf, user, len));
	return e != NULL ? &e->pub : NULL;
}

size_t passwd_file_count(const struct passwd_file *pf)
{
	return pf->count;
}

const struct passwd_entry *passwd_file_entry(const struct passwd_file *pf, size_t i)
{
	return i < pf->count ? &pf->entries[i].pub : NULL;
}
