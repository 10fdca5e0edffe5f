/* db_passwd_file: parsing a passwd-file image into an immutable index
 * (passwd-file-and-ldap.md part A). Each line becomes a struct pf_record
 * of spans into the image, which db_passwd_file_record.c encodes into the
 * compact index (layout in db_passwd_file_index.h). The registry of loaded
 * files with change detection is in db_passwd_file_registry.c. */
#include "passdb/db_passwd_file.h"
#include "passdb/db_passwd_file_index.h"
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
#define PF_DIGEST_MD5_HEX_LEN 32u
#define PF_OLD_MAIL_KEY "userdb_mail="
#define PF_ID_NAME_MAX 256u          /* longest uid/gid name resolved via NSS */
#define PF_NSS_BUF_START 16384u
#define PF_NSS_BUF_MAX (1024u * 1024u)
#define PF_BATCH 16u                 /* lines hashed (and buckets prefetched) ahead */

/* Last name resolved for uid and for gid: files tend to repeat one name. */
struct pf_id_cache {
	char name[PF_ID_NAME_MAX];
	uint32_t id;
};

struct pf_parse {
	struct passwd_file *pf;
	const struct passwd_file_opts *opts;
	unsigned int line;
	bool has_nul;                /* the image has a NUL byte somewhere */
	const uint8_t *user_raw;     /* the current line's user name */
	size_t user_raw_len;
	char user[PF_LOG_VALUE_MAX * 4 + 8];   /* escaped user name for messages */
	struct pf_id_cache uid_cache, gid_cache;
	uint8_t *glue;               /* "userdb_mail=" + old-format mail, or NULL */
};

/* A line found ahead of parsing it, with the hash of its user name. */
struct pf_line_ref {
	const uint8_t *p;
	size_t len;
	uint64_t hash;
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

/* The current user name, escaped for a message. */
static const char *pf_user(struct pf_parse *p)
{
	pf_escape(p->user_raw, p->user_raw_len, p->user, sizeof(p->user));
	return p->user;
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
static int pf_password(struct pf_parse *p, const uint8_t *pw, size_t len, struct pf_record *rec)
{
	rec->has_password = true;
	rec->pw = pw;
	rec->pw_len = len;
	if (len <= 4 || pw[0] == '{' || pw[0] == '$' || pw[len - 1] != ']' || pw[len - 4] != '[')
		return 0;
	uint8_t d1 = pw[len - 3], d2 = pw[len - 2];
	int num = d1 >= '0' && d1 <= '9' && d2 >= '0' && d2 <= '9' ? (d1 - '0') * 10 + (d2 - '0') : -1;
	rec->pw_prefix = num == 34 ? "{PLAIN-MD5}" : num == 56 ? "{DIGEST-MD5}" : "{CRYPT}";
	rec->pw_len = len - 4;
	if (num == 56 && rec->pw_len != PF_DIGEST_MD5_HEX_LEN) {
		pf_log(p, "User %s has invalid password", pf_user(p));
		return -1;
	}
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
static int pf_ids(struct pf_parse *p, const struct pf_fields *fl, struct pf_record *e)
{
	bool userdb = p->opts->userdb;
	char val[PF_LOG_VALUE_MAX * 4 + 8];
	uint32_t id;
	if (fl->n > 2 && userdb && fl->len[2] > 0) {
		if (!pf_parse_id(&p->uid_cache, false, fl->f[2], fl->len[2], &id)) {
			pf_escape(fl->f[2], fl->len[2], val, sizeof(val));
			pf_log(p, "User %s has invalid UID '%s'", pf_user(p), val);
			return -1;
		}
		e->has_uid = true;
		e->uid = id;
	}
	if (fl->n <= 3) {
		/* No userdb data at all: the uid alone must not be used. */
		e->has_uid = false;
		if (userdb && p->opts->single_userdb)
			pf_log(p, "User %s is missing userdb info", pf_user(p));
		return 0;
	}
	e->has_userdb = true;
	if (userdb && fl->len[3] > 0) {
		if (!pf_parse_id(&p->gid_cache, true, fl->f[3], fl->len[3], &id)) {
			pf_escape(fl->f[3], fl->len[3], val, sizeof(val));
			pf_log(p, "User %s has invalid GID '%s'", pf_user(p), val);
			return -1;
		}
		e->has_gid = true;
		e->gid = id;
	}
	return 0;
}

/* Fields 7.. : new format (space separated, colons kept) or old format
 * (field 7 empty, fields 8.. = userdb_mail, only for a userdb). Both are
 * split on spaces when encoded, as Dovecot does ("userdb_mail=x y" gives
 * two fields). Returns 0, or -1 when out of memory. */
static int pf_extra(struct pf_parse *p, const struct pf_fields *fl, struct pf_record *rec)
{
	if (fl->n <= 7)
		return 0;
	if (fl->len[7] > 0) {
		rec->extra = fl->f[7];
		rec->extra_len = (size_t)(fl->end - fl->f[7]);
		return 0;
	}
	if (fl->n <= 8 || fl->len[8] == 0 || !p->opts->userdb)
		return 0;
	size_t key_len = sizeof(PF_OLD_MAIL_KEY) - 1, len = (size_t)(fl->end - fl->f[8]);
	if (p->glue == NULL && (p->glue = malloc(PASSWD_FILE_MAX_LINE + key_len)) == NULL)
		return -1;
	memcpy(p->glue, PF_OLD_MAIL_KEY, key_len);
	memcpy(p->glue + key_len, fl->f[8], len);
	rec->extra = p->glue;
	rec->extra_len = key_len + len;
	return 0;
}

/* One non-comment line; hash is that of its user name. Returns 0, or -1
 * when out of memory. */
static int pf_add_line(struct pf_parse *p, const uint8_t *line, size_t len, uint64_t hash)
{
	struct pf_fields fl;
	struct pf_record rec;
	uint32_t off;
	pf_split(line, len, &fl);
	memset(&rec, 0, sizeof(rec));
	rec.user = p->user_raw = fl.f[0];
	rec.user_len = p->user_raw_len = fl.len[0];
	if (passwd_file_index_find(p->pf, fl.f[0], fl.len[0], hash, &off) != 0) {
		pf_log(p, "User %s exists more than once", pf_user(p));
		return 0;
	}
	if (fl.n > 1 && pf_password(p, fl.f[1], fl.len[1], &rec) < 0)
		return 0;
	if (pf_ids(p, &fl, &rec) < 0)
		return 0;
	if (fl.n > 5 && p->opts->userdb && fl.len[5] > 0) {
		rec.home = fl.f[5];
		rec.home_len = fl.len[5];
	}
	if (pf_extra(p, &fl, &rec) < 0)
		return -1;
	return passwd_file_index_add(p->pf, &rec, hash);
}

static bool pf_is_entry_line(const uint8_t *line, size_t len)
{
	return len > 0 && line[0] != ':' && line[0] != '#';
}

/* Skips empty, ':' and '#' lines; rejects over-long lines and NUL bytes. */
static int pf_line(struct pf_parse *p, const struct pf_line_ref *l)
{
	const uint8_t *line = l->p;
	size_t len = l->len;
	if (!pf_is_entry_line(line, len))
		return 0;
	if (len > PASSWD_FILE_MAX_LINE) {
		pf_log(p, "Line %u is too long (%zu bytes, max %u), ignored", p->line, len,
		       PASSWD_FILE_MAX_LINE);
		return 0;
	}
	if (p->has_nul && memchr(line, '\0', len) != NULL) {
		pf_log(p, "Line %u contains a NUL byte, ignored", p->line);
		return 0;
	}
	return pf_add_line(p, line, len, l->hash);
}

/* Finds the next PF_BATCH lines from *pos on, hashes their user names and
 * prefetches their buckets. Returns the number of lines. */
static size_t pf_batch(const struct passwd_file *pf, const uint8_t *data, size_t len,
		       size_t *pos, struct pf_line_ref *batch)
{
	size_t n = 0;
	for (; n < PF_BATCH && *pos < len; n++) {
		const uint8_t *line = data + *pos, *nl = memchr(line, '\n', len - *pos);
		size_t end = nl != NULL ? (size_t)(nl - data) : len;
		size_t line_len = end - *pos;
		if (nl != NULL && line_len > 0 && data[end - 1] == '\r')
			line_len--;
		*pos = nl != NULL ? end + 1 : len;
		batch[n] = (struct pf_line_ref){ .p = line, .len = line_len };
		if (!pf_is_entry_line(line, line_len) || line_len > PASSWD_FILE_MAX_LINE)
			continue;
		const uint8_t *colon = memchr(line, ':', line_len);
		batch[n].hash = passwd_file_index_hash(pf, line,
						       colon != NULL ? (size_t)(colon - line) : line_len);
		passwd_file_index_prefetch(pf, batch[n].hash);
	}
	return n;
}

size_t passwd_file_count_entry_lines(const uint8_t *data, size_t len)
{
	size_t n = 0;
	for (size_t pos = 0; pos < len;) {
		const uint8_t *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - data) : len;
		n += pf_is_entry_line(data + pos, end - pos);
		pos = end + 1;
	}
	return n;
}

struct pf_parse *passwd_file_parse_begin(const struct passwd_file_opts *opts, size_t data_len,
					 size_t max_entries)
{
	struct pf_parse *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->opts = opts;
	if ((p->pf = passwd_file_index_new(data_len, max_entries)) == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

ssize_t passwd_file_parse_lines(struct pf_parse *p, const uint8_t *data, size_t len, bool final)
{
	if (!final) {
		const uint8_t *last = len > 0 ? memrchr(data, '\n', len) : NULL;
		len = last != NULL ? (size_t)(last - data) + 1 : 0;
	}
	if (p->pf == NULL)
		return -1;
	p->has_nul = len > 0 && memchr(data, '\0', len) != NULL;
	struct pf_line_ref batch[PF_BATCH];
	for (size_t pos = 0; pos < len;) {
		size_t n = pf_batch(p->pf, data, len, &pos, batch);
		for (size_t i = 0; i < n; i++) {
			p->line++;
			if (pf_line(p, &batch[i]) < 0) {
				passwd_file_free(&p->pf);
				return -1;
			}
		}
	}
	return (ssize_t)len;
}

void passwd_file_parse_long_line(struct pf_parse *p, size_t len)
{
	p->line++;
	pf_log(p, "Line %u is too long (%zu bytes, max %u), ignored", p->line, len,
	       PASSWD_FILE_MAX_LINE);
}

struct passwd_file *passwd_file_parse_end(struct pf_parse **_p)
{
	struct pf_parse *p = *_p;
	if (p == NULL)
		return NULL;
	*_p = NULL;
	struct passwd_file *pf = p->pf;
	if (p->glue != NULL) {
		secret_wipe(p->glue, PASSWD_FILE_MAX_LINE + sizeof(PF_OLD_MAIL_KEY) - 1);
		free(p->glue);
	}
	secret_wipe(p, sizeof(*p));
	free(p);
	if (pf != NULL && passwd_file_index_finish(pf) < 0)
		passwd_file_free(&pf);
	return pf;
}

void passwd_file_parse_abort(struct pf_parse **p)
{
	struct passwd_file *pf = passwd_file_parse_end(p);
	passwd_file_free(&pf);
}

struct passwd_file *passwd_file_parse(const uint8_t *data, size_t len,
				      const struct passwd_file_opts *opts)
{
	if (len > PASSWD_FILE_MAX_SIZE)
		return NULL;
	struct pf_parse *p = passwd_file_parse_begin(opts, len,
						     passwd_file_count_entry_lines(data, len));
	if (p != NULL && passwd_file_parse_lines(p, data, len, true) < 0)
		passwd_file_parse_abort(&p);
	return passwd_file_parse_end(&p);
}
