#include "common/secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

void secret_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

int secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (blen == 0)
		return alen == 0;
	/* Compare against b itself when lengths differ so the work done is
	 * the same as for an equal-length candidate. */
	const void *cand = alen == blen ? a : b;
	int diff = CRYPTO_memcmp(cand, b, blen);
	return (diff == 0) & (alen == blen);
}

void secret_free_str(char **s)
{
	if (*s == NULL)
		return;
	secret_wipe(*s, strlen(*s));
	free(*s);
	*s = NULL;
}
