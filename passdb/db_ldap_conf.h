/* db_ldap_conf: Dovecot's dovecot-ldap.conf.ext files (spec
 * passwd-file-and-ldap.md B.1, B.2), read unchanged.
 *
 * Syntax: `key = value` lines, `#` comments (outside quotes; a `#` glued to
 * text warns), a trailing `\` joins the next line with one space, "..." and
 * '...' values are unquoted with backslash escapes, unquoted values get
 * $ENV:NAME expansion, `!include` / `!include_try` (globs, relative to the
 * including file). An unknown key, a bad boolean, number or enum value, a
 * missing `base` or `hosts`/`uris`, and `tls = yes` with an ldaps:// URI are
 * errors "PATH:LINE: message". Every limit below is enforced. */
#ifndef PASSDB_DB_LDAP_CONF_H
#define PASSDB_DB_LDAP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Longest physical or joined line, value after unescaping. */
#define LDAP_CONF_LINE_MAX (64u * 1024u)
/* Nesting of !include. */
#define LDAP_CONF_INCLUDE_DEPTH_MAX 10u
/* Files one config may pull in through !include (globs included). */
#define LDAP_CONF_FILES_MAX 64u
/* Size of one file. */
#define LDAP_CONF_FILE_MAX (1024u * 1024u)
/* uris / hosts entries. */
#define LDAP_CONF_URIS_MAX 16u
#define LDAP_CONF_DEFAULT_PORT 389u

enum ldap_conf_scope { LDAP_CONF_SCOPE_BASE, LDAP_CONF_SCOPE_ONELEVEL, LDAP_CONF_SCOPE_SUBTREE };
enum ldap_conf_deref {
	LDAP_CONF_DEREF_NEVER, LDAP_CONF_DEREF_SEARCHING,
	LDAP_CONF_DEREF_FINDING, LDAP_CONF_DEREF_ALWAYS,
};
/* tls_require_cert; NONE = not set (library default). */
enum ldap_conf_require_cert {
	LDAP_CONF_REQCERT_UNSET, LDAP_CONF_REQCERT_NEVER, LDAP_CONF_REQCERT_HARD,
	LDAP_CONF_REQCERT_DEMAND, LDAP_CONF_REQCERT_ALLOW, LDAP_CONF_REQCERT_TRY,
};

struct ldap_conf {
	const char *path;
	/* connection */
	const char *hosts, *uris;
	const char *uri_list[LDAP_CONF_URIS_MAX];   /* uris, or ldap://host:port from hosts */
	size_t uri_count;
	const char *dn, *dnpass;                      /* NULL = anonymous */
	unsigned int ldap_version;
	bool tls;
	const char *tls_ca_cert_file, *tls_ca_cert_dir, *tls_cert_file, *tls_key_file;
	const char *tls_cipher_suite;
	enum ldap_conf_require_cert tls_require_cert;
	bool sasl_bind;
	const char *sasl_mech, *sasl_realm, *sasl_authz_id;
	bool blocking;
	unsigned int debug_level;
	const char *ldaprc_path;
	bool userdb_warning_disable;
	/* lookups */
	bool auth_bind;
	const char *auth_bind_userdn;                 /* NULL = search for the DN */
	const char *base;
	enum ldap_conf_scope scope;
	enum ldap_conf_deref deref;
	const char *pass_attrs, *pass_filter;
	const char *user_attrs, *user_filter;
	const char *iterate_attrs, *iterate_filter;
	const char *default_pass_scheme;
};

/* Called for warnings (ambiguous '#'); may be NULL. */
typedef void ldap_conf_warn_fn(void *ctx, const char *path, unsigned int line, const char *msg);

/* Reads path (and its includes) into *conf with defaults for unset keys.
 * Strings are owned by pool. Returns 0, or -1 with *error_r
 * "PATH:LINE: message" (pool text). Blocks on file reads. */
int ldap_conf_read(struct pool *pool, const char *path, ldap_conf_warn_fn *warn, void *warn_ctx,
		   struct ldap_conf *conf, const char **error_r);

/* Same from a buffer (untrusted bytes: tests, fuzzing); name appears in
 * messages. !include is refused unless allow_include. */
int ldap_conf_parse(struct pool *pool, const char *name, const uint8_t *data, size_t len,
		    bool allow_include, ldap_conf_warn_fn *warn, void *warn_ctx,
		    struct ldap_conf *conf, const char **error_r);

/* Whether a and b would behave the same (connections can be shared). */
bool ldap_conf_equal(const struct ldap_conf *a, const struct ldap_conf *b);

#endif
