/* db_vpopmail_parse: the pure parsers of db_vpopmail.h. Every input is
 * (bytes, length) from a file or a client; nothing here allocates, blocks
 * or touches global state. Formats: shared/spec/vpopmail.md sections 2, 3,
 * 5, 8 and 9.1. */
#include "passdb/db_vpopmail.h"
#include "common/strnum.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define VPASSWD_FIELDS 8u          /* name passwd uid gid gecos dir shell clear */
#define VPASSWD_MIN_COLONS 6u      /* vgetent refuses shorter lines */
#define ASSIGN_MIN_FIELDS 6u       /* prefix user uid gid dir dash */
#define ASSIGN_CDB_FIELDS 4u       /* real domain, uid, gid, dir */
#define QUOTA_KILO 1024ull
#define QUOTA_MEGA (1024ull * 1024ull)

enum { F_NAME, F_PASSWD, F_UID, F_GID, F_GECOS, F_DIR, F_SHELL, F_CLEAR };

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* Splits (p, len) on sep into at most max spans (*n_r of them); spans past
 * max are dropped, so the last one kept ends at its separator. Returns the
 * number of separators in the whole input. */
static size_t split_fields(const uint8_t *p, size_t len, uint8_t sep, struct vpopmail_span *out,
			   size_t max, size_t *n_r)
{
	size_t n = 0, seps = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != sep)
			continue;
		if (i < len)
			seps++;
		if (n < max)
			out[n++] = (struct vpopmail_span){ .p = p + start, .len = i - start };
		start = i + 1;
	}
	*n_r = n;
	return seps;
}

/* atoi(3): leading white space, an optional sign, decimal digits; junk or
 * nothing gives 0. Saturates at the int range (atoi is undefined there). */
static uint32_t atoi_semantics(struct vpopmail_span s)
{
	size_t i = 0;
	while (i < s.len && (s.p[i] == ' ' || (s.p[i] >= '\t' && s.p[i] <= '\r')))
		i++;
	bool neg = i < s.len && s.p[i] == '-';
	if (i < s.len && (s.p[i] == '-' || s.p[i] == '+'))
		i++;
	int64_t v = 0;
	for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++) {
		v = v * 10 + (s.p[i] - '0');
		if (v > (int64_t)INT32_MAX + 1)
			v = (int64_t)INT32_MAX + 1;
	}
	if (!neg && v > INT32_MAX)
		v = INT32_MAX;
	return (uint32_t)(int32_t)(neg ? -v : v);
}

/* A vpasswd name: 1..VPOPMAIL_USER_MAX visible ASCII bytes. */
static bool vpasswd_name_ok(struct vpopmail_span s)
{
	if (s.len == 0 || s.len > VPOPMAIL_USER_MAX)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] <= ' ' || s.p[i] >= 0x7f)
			return false;
	return true;
}

static void vpasswd_fill(struct vpasswd_entry *e, const struct vpopmail_span *f, size_t n)
{
	static const uint8_t empty[1];
	struct vpopmail_span none = { .p = empty, .len = 0 };
	e->name = f[F_NAME];
	e->passwd = n > F_PASSWD ? f[F_PASSWD] : none;
	e->uid_field = n > F_UID ? atoi_semantics(f[F_UID]) : 0;
	e->flags = n > F_GID ? atoi_semantics(f[F_GID]) : 0;
	e->gecos = n > F_GECOS ? f[F_GECOS] : none;
	e->dir = n > F_DIR ? f[F_DIR] : none;
	e->shell = n > F_SHELL ? f[F_SHELL] : none;
	e->has_clear = n > F_CLEAR;
	e->clear = e->has_clear ? f[F_CLEAR] : none;
}

int vpasswd_parse_line(const uint8_t *line, size_t len, struct vpasswd_entry *e_r,
		       const char **error_r)
{
	struct vpopmail_span f[VPASSWD_FIELDS];
	size_t n;
	memset(e_r, 0, sizeof(*e_r));
	if (memchr(line, '\0', len) != NULL) {
		*error_r = "NUL byte in line";
		return 0;
	}
	/* The clear field ends at the next ':' (what vpopmail's cdb login
	 * reader sees): at most 8 spans, the 8th cut at its ':'. */
	size_t seps = split_fields(line, len, ':', f, VPASSWD_FIELDS, &n);
	if (seps < VPASSWD_MIN_COLONS) {
		*error_r = "fewer than 7 fields";
		return 0;
	}
	if (!vpasswd_name_ok(f[F_NAME])) {
		*error_r = "invalid user name";
		return 0;
	}
	vpasswd_fill(e_r, f, n);
	return 1;
}

int vpasswd_parse_cdb(const uint8_t *name, size_t name_len, const uint8_t *value,
		      size_t value_len, struct vpasswd_entry *e_r, const char **error_r)
{
	struct vpopmail_span f[VPASSWD_FIELDS];
	size_t n;
	memset(e_r, 0, sizeof(*e_r));
	f[F_NAME] = (struct vpopmail_span){ .p = name, .len = name_len };
	if (!vpasswd_name_ok(f[F_NAME])) {
		*error_r = "invalid user name";
		return 0;
	}
	if (memchr(value, '\0', value_len) != NULL) {
		*error_r = "NUL byte in value";
		return 0;
	}
	(void)split_fields(value, value_len, ':', f + 1, VPASSWD_FIELDS - 1, &n);
	vpasswd_fill(e_r, f, n + 1);
	return 1;
}

/* ------------------------------------------------------------ assign */

enum vpopmail_assign_line vpopmail_assign_parse_line(const uint8_t *line, size_t len,
						     struct vpopmail_assign *a_r,
						     const char **error_r)
{
	struct vpopmail_span f[ASSIGN_MIN_FIELDS];
	size_t n;
	memset(a_r, 0, sizeof(*a_r));
	*error_r = NULL;
	if (len == 1 && line[0] == '.')
		return VPOPMAIL_ASSIGN_END;
	if (len == 0 || line[0] == '=')
		return VPOPMAIL_ASSIGN_IGNORE;
	if (line[0] != '+') {
		*error_r = "not a '+' or '=' line";
		return VPOPMAIL_ASSIGN_INVALID;
	}
	(void)split_fields(line + 1, len - 1, ':', f, ASSIGN_MIN_FIELDS, &n);
	if (n < ASSIGN_MIN_FIELDS) {
		*error_r = "fewer than 6 fields";
		return VPOPMAIL_ASSIGN_INVALID;
	}
	struct vpopmail_span prefix = f[0];
	if (prefix.len < 2 || prefix.p[prefix.len - 1] != '-' ||
	    memchr(prefix.p, '.', prefix.len - 1) == NULL ||
	    !vpopmail_domain_valid(prefix.p, prefix.len - 1)) {
		*error_r = "prefix is not a domain followed by '-'";
		return VPOPMAIL_ASSIGN_INVALID;
	}
	a_r->domain = (struct vpopmail_span){ .p = prefix.p, .len = prefix.len - 1 };
	a_r->real_domain = f[1];
	a_r->dir = f[4];
	if (!vpopmail_domain_valid(f[1].p, f[1].len) || !str_to_uint32(f[2].p, f[2].len, &a_r->uid) ||
	    !str_to_uint32(f[3].p, f[3].len, &a_r->gid) || f[4].len == 0 || f[4].p[0] != '/') {
		*error_r = "invalid real domain, uid, gid or directory";
		return VPOPMAIL_ASSIGN_INVALID;
	}
	return VPOPMAIL_ASSIGN_ENTRY;
}

int vpopmail_assign_parse_cdb(const uint8_t *value, size_t len, struct vpopmail_assign *a_r,
			      const char **error_r)
{
	struct vpopmail_span f[ASSIGN_CDB_FIELDS];
	size_t n = 0, start = 0;
	memset(a_r, 0, sizeof(*a_r));
	/* the first four NUL-terminated strings (vget_assign) */
	for (size_t i = 0; i < len && n < ASSIGN_CDB_FIELDS; i++) {
		if (value[i] != '\0')
			continue;
		f[n++] = (struct vpopmail_span){ .p = value + start, .len = i - start };
		start = i + 1;
	}
	if (n < ASSIGN_CDB_FIELDS) {
		*error_r = "fewer than 4 fields in users/cdb value";
		return 0;
	}
	a_r->real_domain = f[0];
	a_r->dir = f[3];
	if (!vpopmail_domain_valid(f[0].p, f[0].len) || !str_to_uint32(f[1].p, f[1].len, &a_r->uid) ||
	    !str_to_uint32(f[2].p, f[2].len, &a_r->gid) || f[3].len == 0 || f[3].p[0] != '/') {
		*error_r = "invalid real domain, uid, gid or directory in users/cdb value";
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------ limits */

static const struct {
	const char *name;
	uint32_t flag;
} vpopmail_limit_flags[] = {
	{ "disable_pop", VPOPMAIL_NO_POP },
	{ "disable_imap", VPOPMAIL_NO_IMAP },
	{ "disable_smtp", VPOPMAIL_NO_SMTP },
	{ "disable_webmail", VPOPMAIL_NO_WEBMAIL },
	{ "disable_external_relay", VPOPMAIL_NO_RELAY },
	{ "disable_password_changing", VPOPMAIL_NO_PASSWD_CHNG },
	{ "disable_dialup", VPOPMAIL_NO_DIALUP },
	{ "disable_spamassassin", VPOPMAIL_NO_SPAMASSASSIN },
	{ "delete_spam", VPOPMAIL_DELETE_SPAM },
	{ "disable_maildrop", VPOPMAIL_NO_MAILDROP },
};

static bool limits_sep(uint8_t c)
{
	return c == ' ' || c == '\t' || c == ':' || c == '\r';
}

static uint32_t limits_word_flag(const uint8_t *w, size_t n)
{
	for (size_t k = 0; k < sizeof(vpopmail_limit_flags) / sizeof(vpopmail_limit_flags[0]); k++)
		if (strlen(vpopmail_limit_flags[k].name) == n &&
		    memcmp(vpopmail_limit_flags[k].name, w, n) == 0)
			return vpopmail_limit_flags[k].flag;
	return 0;
}

uint32_t vpopmail_limits_parse(const uint8_t *data, size_t len)
{
	uint32_t mask = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && limits_sep(data[i]))
			i++;
		size_t start = i;
		while (i < len && !limits_sep(data[i]) && data[i] != '\n')
			i++;
		mask |= limits_word_flag(data + start, i - start);
		while (i < len && data[i] != '\n')
			i++;
		i++;   /* past the LF */
	}
	return mask;
}

/* ------------------------------------------------------------ quota */

/* strtoll's leading part: white space, optional '+', digits. A '-' sign
 * counts as 0 (vpopmail would wrap it to a huge unsigned size). Returns 1,
 * or 0 on overflow. */
static int quota_number(const uint8_t *p, size_t len, uint64_t *v_r)
{
	size_t i = 0;
	uint64_t v = 0;
	while (i < len && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')))
		i++;
	bool neg = i < len && p[i] == '-';
	if (i < len && (p[i] == '-' || p[i] == '+'))
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9u) / 10u)
			return 0;
		v = v * 10u + (uint64_t)(p[i] - '0');
	}
	*v_r = neg ? 0 : v;
	return 1;
}

/* One comma-separated part of the quota. Returns 1 or 0 (overflow). */
static int quota_part(const uint8_t *p, size_t n, uint64_t *size, uint64_t *count)
{
	if (p[n - 1] == 'C')
		return quota_number(p, n - 1, count);
	if (p[n - 1] == 'S' || p[n - 1] == 's')
		n--;
	if (n > 0 && (p[n - 1] == 'B' || p[n - 1] == 'b'))
		n--;
	uint64_t v = 0, mul = 1;
	if (n > 0 && (p[n - 1] == 'M' || p[n - 1] == 'm'))
		mul = QUOTA_MEGA;
	else if (n > 0 && (p[n - 1] == 'K' || p[n - 1] == 'k'))
		mul = QUOTA_KILO;
	if (!quota_number(p, n, &v) || v > UINT64_MAX / mul)
		return 0;
	*size = v * mul;
	return 1;
}

int vpopmail_quota_normalise(const uint8_t *q, size_t len, char *out, size_t out_size)
{
	uint64_t size = 0, count = 0;
	if (out_size < VPOPMAIL_QUOTA_OUT_MAX)
		return -1;
	out[0] = '\0';
	if (len == 0 || (len == 7 && memcmp(q, "NOQUOTA", 7) == 0))
		return 0;
	for (size_t i = 0; i < len;) {
		size_t start = i;
		while (i < len && q[i] != ',')
			i++;
		/* empty parts are skipped (strtok) */
		if (i > start && !quota_part(q + start, i - start, &size, &count))
			return -1;
		i++;
	}
	if (size == 0 && count == 0)
		return -1;
	if (count == 0)
		snprintf(out, out_size, "%lluS", (unsigned long long)size);
	else if (size == 0)
		snprintf(out, out_size, "%lluC", (unsigned long long)count);
	else
		snprintf(out, out_size, "%lluS,%lluC", (unsigned long long)size,
			 (unsigned long long)count);
	return 1;
}

/* ------------------------------------------------------------ names and paths */

/* vpopmail's is_username_valid characters, without '/' (a separator at
 * login, and a path separator). */
static bool vpopmail_user_char(uint8_t c)
{
	return c == '!' || c == '#' || c == '$' || c == '&' || c == '\'' || c == '*' ||
	       c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == '=' ||
	       c == '?' || (c >= 'A' && c <= 'Z') || (c >= '^' && c <= '~');
}

bool vpopmail_domain_valid(const uint8_t *d, size_t len)
{
	if (len == 0 || len > VPOPMAIL_DOMAIN_MAX || d[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = d[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '.';
		if (!ok || (c == '.' && i + 1 < len && d[i + 1] == '.'))
			return false;
	}
	return true;
}

static bool vpopmail_user_valid(const uint8_t *u, size_t len)
{
	if (len == 0 || len > VPOPMAIL_USER_MAX || u[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!vpopmail_user_char(u[i]) || (u[i] == '.' && i + 1 < len && u[i + 1] == '.'))
			return false;
	return true;
}

int vpopmail_login_split(const uint8_t *login, size_t len, struct vpopmail_login *out,
			 const char **error_r)
{
	memset(out, 0, sizeof(*out));
	const uint8_t *sep = memchr(login, '@', len);
	if (sep == NULL)
		sep = memchr(login, '%', len);
	size_t ulen = sep != NULL ? (size_t)(sep - login) : len;
	size_t dlen = sep != NULL ? len - ulen - 1 : 0;
	if (!vpopmail_user_valid(login, ulen)) {
		*error_r = "invalid user name";
		return 0;
	}
	if (dlen > 0 && !vpopmail_domain_valid(sep + 1, dlen)) {
		*error_r = "invalid domain name";
		return 0;
	}
	for (size_t i = 0; i < ulen; i++)
		out->user[i] = (char)ascii_lower(login[i]);
	for (size_t i = 0; i < dlen; i++)
		out->domain[i] = (char)ascii_lower(sep[1 + i]);
	return 1;
}

bool vpopmail_path_under(const char *root, const uint8_t *path, size_t len)
{
	size_t rlen = strlen(root);
	if (len == 0 || len >= VPOPMAIL_PATH_MAX || path[0] != '/')
		return false;
	if (len > 1 && path[len - 1] == '/')
		len--;   /* one trailing '/' */
	for (size_t i = 0; i < len; i++)
		if (path[i] < 0x20 || path[i] == 0x7f)
			return false;
	for (size_t i = 1; i <= len;) {
		size_t n = 0;
		while (i + n < len && path[i + n] != '/')
			n++;
		if (n == 0 || (n == 1 && path[i] == '.') ||
		    (n == 2 && path[i] == '.' && path[i + 1] == '.'))
			return false;
		i += n + 1;
	}
	return len > rlen + 1 && memcmp(path, root, rlen) == 0 && path[rlen] == '/';
}
