/* secret: the one place secrets are wiped and compared.
 *
 * No other code calls memcmp/strcmp on a password, hash or credential
 * (tests/daemon/test_no_secret_compare.py greps for it). */
#ifndef COMMON_SECRET_H
#define COMMON_SECRET_H

#include <stddef.h>
#include <stdint.h>

/* Overwrites n bytes with zeros in a way the compiler cannot elide. */
void secret_wipe(void *p, size_t n);

/* Constant-time equality of (a, alen) and (b, blen). The time depends only
 * on blen (pass the stored/expected value as b). Returns 1 if equal, 0 if
 * not. */
int secret_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Wipes and frees a NUL-terminated heap string; NULLs the pointer. */
void secret_free_str(char **s);

#endif
