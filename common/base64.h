/* base64 and hex codecs (common/base64.c, common/hex.c), strict as the
 * protocol requires: standard alphabet, '=' padding, canonical (unused bits
 * zero), no whitespace.
 *
 * Constant time in the data (the data are passwords and stored hashes):
 * the conversions are libsodium's (sodium_bin2base64, sodium_base642bin,
 * sodium_bin2hex, sodium_hex2bin), the digit checks around them are
 * branch-free over the bytes.
 *
 * Nothing here allocates: results are written straight into the caller's
 * buffer (only a decode whose worst-case size would cross the buffer's
 * limit goes through a wiped temporary). Never blocks. */
#ifndef COMMON_BASE64_H
#define COMMON_BASE64_H

#include "common/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters of the base64 of n bytes, padding included (no NUL). */
#define BASE64_ENCODED_LEN(n) (((n) + 2u) / 3u * 4u)

/* Appends the base64 of (in, len) to out. Returns 0, or -1 if out's limit
 * would be crossed (out is then unchanged). */
int base64_encode(struct buf *out, const uint8_t *in, size_t len);
/* Writes the base64 of (in, len) and a NUL to dst, which must hold
 * BASE64_ENCODED_LEN(len) + 1 bytes. */
void base64_encode_str(char *dst, const uint8_t *in, size_t len);

/* Strictly decodes (in, len) and appends the bytes to out.
 * Returns 1 on success, 0 for invalid base64 (out unchanged), -1 when out's
 * limit would be crossed (out unchanged). */
int base64_decode(struct buf *out, const uint8_t *in, size_t len);

/* Like base64_decode but skips whitespace (" \t\r\n") anywhere in the
 * input (the stored password format of password-schemes.md 2.3 allows it). */
int base64_decode_lenient(struct buf *out, const uint8_t *in, size_t len);

/* Appends lowercase hex of (in, len). Returns 0, or -1 (out unchanged). */
int hex_encode(struct buf *out, const uint8_t *in, size_t len);
/* Writes the lowercase hex of (in, len) and a NUL to dst, which must hold
 * 2 * len + 1 bytes. */
void hex_encode_str(char *dst, const uint8_t *in, size_t len);
/* True if every byte of (p, len) is a lowercase hex digit ('0'-'9',
 * 'a'-'f'); true for len 0. Constant time in the bytes. */
bool hex_is_lower(const uint8_t *p, size_t len);
/* True if every byte is a hex digit of either case; true for len 0.
 * Constant time in the bytes. */
bool hex_is_valid(const uint8_t *p, size_t len);
/* Decodes hex (either case, even length). Returns 1, 0 invalid, -1 limit;
 * out is unchanged unless 1 is returned. */
int hex_decode(struct buf *out, const uint8_t *in, size_t len);

#endif
