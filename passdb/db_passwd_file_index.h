/* db_passwd_file_index: the in-memory form of a parsed passwd-file, shared
 * by the parser (db_passwd_file.c), the record codec
 * (db_passwd_file_record.c) and the index (db_passwd_file_index.c). Not a
 * public interface: callers use db_passwd_file.h.
 *
 * Memory: a handful of anonymous mmap regions, grown with mremap (no copy)
 * while parsing and trimmed after it, marked MADV_DONTDUMP; freeing wipes
 * the regions that hold file contents and unmaps them, so the memory goes
 * back to the kernel at once.
 *   recs    one record per user, in file order, byte-packed (below)
 *   strs    interned strings: [len byte] bytes NUL, referred to by id
 *   ids     uint32 offset into strs of each interned id (id 0 is "")
 *   marks   uint32 offset into recs of every PF_MARK_EVERY-th record, so
 *           the i-th record (LIST) is at most PF_MARK_EVERY-1 skips away
 *   buckets the hash index (below)
 *
 * Record (varint = unsigned LEB128, at most 5 bytes for 32 bits):
 *   varint user_len, user bytes, NUL     the key, first, and a C string
 *   flags byte                           PF_F_*
 *   PF_F_PASSWORD: varint prefix id, varint body_len, body
 *                  password = interned "{SCHEME}" (0: none) + body; the
 *                  [NN] suffix forms are stored as their rewrite
 *   PF_F_UID: varint uid; PF_F_GID without PF_F_GID_IS_UID: varint gid
 *   PF_F_HOME: varint dir id, varint base code (+ bytes)
 *                  home = interned directory part (up to the last '/') +
 *                  base; base code 0: the user name, 1: the user name
 *                  before its '@', n >= 2: the n - 2 bytes that follow
 *   PF_F_EXTRA: varint count, then per field varint (id << 1) for an
 *                  interned field, or varint (len << 1 | 1) + bytes + NUL
 *                  for one kept inline
 * Interning (scheme prefixes, home directories, extra fields of at most
 * PF_INTERN_LEN_MAX bytes) stops after PF_INTERN_MAX distinct strings;
 * later new values are stored inline, so a file of unique values costs no
 * more than inline storage.
 *
 * Hash index: keyed SipHash (crypto_shorthash, random key per index) of the
 * user name; the high 32 bits pick a 64-byte bucket (multiply-shift range
 * reduction, any bucket count), the low 8 bits are a tag. A bucket holds
 * PF_BUCKET_SLOTS record offsets with their tags; a full bucket gets its
 * overflow mark and further entries go to the next bucket (wrapping). A
 * lookup reads one bucket (plus the next only when the bucket overflowed)
 * and the records whose tag matches: about one cache miss for the bucket
 * and one for the record. The table is sized before parsing for the entry
 * lines of the file (counted, or estimated from the first block when the
 * file is streamed), at PF_LOAD_PERCENT; if the load would pass
 * PF_LOAD_MAX_PERCENT it is rebuilt twice as large from the records. */
#ifndef PASSDB_DB_PASSWD_FILE_INDEX_H
#define PASSDB_DB_PASSWD_FILE_INDEX_H

#include "passdb/db_passwd_file.h"

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PF_BUCKET_SLOTS 12u
#define PF_LOAD_PERCENT 70u
#define PF_LOAD_MAX_PERCENT 85u
#define PF_MARK_EVERY 16u
#define PF_INTERN_MAX 65536u
#define PF_INTERN_LEN_MAX 255u
#define PF_REGION_MAX ((size_t)UINT32_MAX)   /* offsets are 32-bit */
#define PF_VARINT_MAX 5u

#define PF_F_PASSWORD 0x01u
#define PF_F_USERDB 0x02u
#define PF_F_UID 0x04u
#define PF_F_GID 0x08u
#define PF_F_GID_IS_UID 0x10u
#define PF_F_HOME 0x20u
#define PF_F_EXTRA 0x40u

#define PF_BASE_USER 0u
#define PF_BASE_LOCALPART 1u
#define PF_BASE_LITERAL 2u

struct pf_bucket {
	uint32_t off[PF_BUCKET_SLOTS];
	uint8_t tag[PF_BUCKET_SLOTS];
	uint8_t used;                /* slots filled, in order */
	uint8_t overflow;            /* an entry of this bucket went further */
	uint8_t pad[2];
};
_Static_assert(sizeof(struct pf_bucket) == 64, "a bucket is one cache line");

struct pf_region {
	uint8_t *base;               /* NULL until first use */
	size_t len, cap;             /* cap: mapped bytes (page multiple) */
};

struct pf_intern;                    /* parse-time table, db_passwd_file_record.c */

struct passwd_file {
	struct pf_region recs, strs, ids, marks;
	struct pf_bucket *buckets;   /* mmap'd, nbuckets * 64 bytes */
	size_t nbuckets;
	size_t max_count;            /* count that makes the table grow */
	size_t count;                /* records */
	struct pf_intern *intern;    /* NULL once parsing finished */
	uint8_t key[crypto_shorthash_KEYBYTES];
};

/* One line's values for the encoder. Spans point into the file image. */
struct pf_record {
	const uint8_t *user;
	size_t user_len;
	bool has_password;
	const char *pw_prefix;       /* "{PLAIN-MD5}" etc. for the [NN] forms, or NULL */
	const uint8_t *pw;
	size_t pw_len;
	bool has_userdb, has_uid, has_gid;
	uint32_t uid, gid;
	const uint8_t *home;         /* NULL: none */
	size_t home_len;
	const uint8_t *extra;        /* fields separated by runs of spaces, or NULL */
	size_t extra_len;
};

/* ---- db_passwd_file.c: the line parser, fed whole or in pieces ---- */

struct pf_parse;

/* Entry lines (not empty, not a comment) of an image: an upper bound of
 * its entries. */
size_t passwd_file_count_entry_lines(const uint8_t *data, size_t len);
/* A parser for an index sized for about max_entries (it grows past them)
 * and data_len bytes. NULL when out of memory. */
struct pf_parse *passwd_file_parse_begin(const struct passwd_file_opts *opts, size_t data_len,
					 size_t max_entries);
/* Parses the lines of (data, len) that end in LF, or all of them when
 * final. Returns the bytes consumed, or -1 when out of memory (then only
 * passwd_file_parse_end/abort may follow). */
ssize_t passwd_file_parse_lines(struct pf_parse *p, const uint8_t *data, size_t len, bool final);
/* Counts and logs a line of len bytes the caller skipped as too long. */
void passwd_file_parse_long_line(struct pf_parse *p, size_t len);
/* Frees the parser; returns the index (caller owns) or NULL after a
 * failure. */
struct passwd_file *passwd_file_parse_end(struct pf_parse **p);
void passwd_file_parse_abort(struct pf_parse **p);

/* ---- db_passwd_file_index.c ---- */

/* An empty index with a bucket table for about max_entries entries and
 * room reserved for data_len bytes of file. NULL when out of memory. */
struct passwd_file *passwd_file_index_new(size_t data_len, size_t max_entries);
/* Trims the regions and drops the parse-time tables. Returns 0 or -1. */
int passwd_file_index_finish(struct passwd_file *pf);
uint64_t passwd_file_index_hash(const struct passwd_file *pf, const void *user, size_t len);
/* Starts loading the bucket of hash into the cache (parsing hashes a few
 * lines ahead, so the bucket miss overlaps other work). */
void passwd_file_index_prefetch(const struct passwd_file *pf, uint64_t hash);
/* Offset of user's record: 1 with *off_r, or 0. */
int passwd_file_index_find(const struct passwd_file *pf, const void *user, size_t len,
			   uint64_t hash, uint32_t *off_r);
/* Encodes rec and indexes it under hash (the caller checked it is new),
 * growing the table first when needed. Returns 0, or -1 when out of
 * memory or past PF_REGION_MAX. */
int passwd_file_index_add(struct passwd_file *pf, const struct pf_record *rec, uint64_t hash);
/* Makes room for n more bytes in r. Returns a pointer to r->base + r->len,
 * or NULL when out of memory or past PF_REGION_MAX. */
uint8_t *passwd_file_region_reserve(struct pf_region *r, size_t n);
/* Unmaps r (wiping its used bytes first when wipe) and empties it. */
void passwd_file_region_free(struct pf_region *r, bool wipe);

/* ---- db_passwd_file_record.c ---- */

int passwd_file_intern_init(struct passwd_file *pf);
void passwd_file_intern_free(struct passwd_file *pf);
/* Appends the record for rec to pf->recs. Returns its offset in *off_r
 * and 0, or -1 when out of memory or past PF_REGION_MAX. */
int passwd_file_record_encode(struct passwd_file *pf, const struct pf_record *rec,
			      uint32_t *off_r);
/* The user name of the record at off (NUL-terminated), with its length. */
const char *passwd_file_record_key(const struct passwd_file *pf, uint32_t off, size_t *len_r);
/* True when the record at off has this user name. */
bool passwd_file_record_key_eq(const struct passwd_file *pf, uint32_t off,
			       const void *user, size_t len);
/* Offset just past the record at off. */
uint32_t passwd_file_record_skip(const struct passwd_file *pf, uint32_t off);
/* Fills *e from the record at off (see passwd_file_lookup for lifetimes). */
void passwd_file_record_decode(const struct passwd_file *pf, uint32_t off, struct pool *pool,
			       struct passwd_entry *e);

#endif
