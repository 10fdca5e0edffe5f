/* strnum: strict decimal/octal number parsing of (ptr, len) input. */
#ifndef COMMON_STRNUM_H
#define COMMON_STRNUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses a decimal unsigned integer of 1..10 digits that fits in uint32_t,
 * no sign, no spaces. Returns 1 and sets *num_r, or 0 if invalid. */
int str_to_uint32(const uint8_t *p, size_t len, uint32_t *num_r);
/* Same for a value that fits in uint64_t. */
int str_to_uint64(const uint8_t *p, size_t len, uint64_t *num_r);
/* Parses octal digits (with optional leading 0). Returns 1 or 0. */
int str_to_octal(const uint8_t *p, size_t len, uint32_t *num_r);

#endif
