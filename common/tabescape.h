/* tabescape: Dovecot's field escaping (spec section 1.2).
 *
 * 0x01 -> 0x01 '1', TAB -> 0x01 't', CR -> 0x01 'r', LF -> 0x01 'n',
 * NUL -> 0x01 '0'. Decoding maps 0x01 followed by any other byte to that
 * byte and drops a lone trailing 0x01. */
#ifndef COMMON_TABESCAPE_H
#define COMMON_TABESCAPE_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Appends the escaped form of (in, len) to out. Returns 0 or -1 (limit). */
int tab_escape(struct buf *out, const uint8_t *in, size_t len);
int tab_escape_str(struct buf *out, const char *s);

/* Unescapes (p, len) in place and returns the new length (<= len). */
size_t tab_unescape_inplace(uint8_t *p, size_t len);

#endif
