/* proto_fields: splitting protocol lines into TAB-separated fields,
 * shared by the auth-client and master protocols. */
#ifndef AUTHD_PROTO_FIELDS_H
#define AUTHD_PROTO_FIELDS_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Splits (line, len) in place into at most max fields, tab-unescaping
 * each when unescape is set. Returns the field count, or 0 when there are
 * more than max fields. Never allocates. */
size_t proto_split(uint8_t *line, size_t len, uint8_t **fields, size_t *lens, size_t max,
		   bool unescape);
/* Appends "cmd<TAB>id" (a reply's first two fields) to line. */
void proto_append_cmd_id(struct buf *line, const char *cmd, uint32_t id);
/* True if field (f, len) is exactly word. */
bool proto_field_is(const uint8_t *f, size_t len, const char *word);

#endif
