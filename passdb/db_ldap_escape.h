/* db_ldap_escape: escaping of user input placed into LDAP filters (RFC
 * 4515) and DNs (RFC 4514), spec passwd-file-and-ldap.md B.5.
 *
 * Dovecot's set of specials `* , \ # + < > ; " ( ) =` and space, every byte
 * >= 0x80 and (beyond Dovecot) every control byte < 0x20 and 0x7f become
 * `\XX` with two uppercase hex digits. The result is safe inside a filter's
 * assertion value and inside a DN attribute value alike, so a login such as
 * `*)(uid=*` or `a,b` can never change the structure of a query. */
#ifndef PASSDB_DB_LDAP_ESCAPE_H
#define PASSDB_DB_LDAP_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Whether byte c is written as \XX. */
bool ldap_escape_needed(uint8_t c);

/* Appends the escaped (data, len) to out. Returns 0, or -1 when out's limit
 * would be crossed (out is then unchanged). Never blocks. */
int ldap_escape_bytes(struct buf *out, const uint8_t *data, size_t len);

/* var_expand_ctx.escape signature: escapes the NUL-terminated value; ctx is
 * unused. Returns 0 or -1 as ldap_escape_bytes(). */
int ldap_escape_var(struct buf *out, const char *value, void *ctx);

#endif
