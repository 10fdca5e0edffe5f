/* base64 and hex codecs (libsodium underneath), strict as the protocol
 * requires: standard alphabet, '=' padding, no whitespace. */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include "common/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Appends the base64 of (in, len) to out. Returns 0, or -1 if out's limit
 * would be crossed. */
int base64_encode(struct buf *out, const uint8_t *in, size_t len);

/* Strictly decodes (in, len) and appends the bytes to out.
 * Returns 1 on success, 0 for invalid base64 (out unchanged), -1 when out's
 * limit would be crossed. */
int base64_decode(struct buf *out, const uint8_t *in, size_t len);

/* Like base64_decode but skips whitespace inside the input (the stored
 * password format of password-schemes.md 2.3 allows it). */
int base64_decode_lenient(struct buf *out, const uint8_t *in, size_t len);

/* Appends lowercase hex of (in, len). Returns 0 or -1. */
int hex_encode(struct buf *out, const uint8_t *in, size_t len);
/* Decodes hex (either case, even length). Returns 1, 0 invalid, -1 limit. */
int hex_decode(struct buf *out, const uint8_t *in, size_t len);

#endif
