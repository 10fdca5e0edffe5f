#include "authd/warn_once.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct warn_once {
	uint64_t slots[WARN_ONCE_CAPACITY];   /* 0 = empty */
	unsigned int used;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

struct warn_once *warn_once_create(void)
{
	struct warn_once *w = calloc(1, sizeof(*w));
	if (w != NULL)
		randombytes_buf(w->key, sizeof(w->key));
	return w;
}

void warn_once_destroy(struct warn_once **w)
{
	free(*w);
	*w = NULL;
}

bool warn_once_first(struct warn_once *w, const char *key)
{
	uint64_t h;
	crypto_shorthash((uint8_t *)&h, (const uint8_t *)key, strlen(key), w->key);
	if (h == 0)
		h = 1;
	/* Linear probing; start over when three quarters full. */
	if (w->used >= WARN_ONCE_CAPACITY / 4 * 3) {
		memset(w->slots, 0, sizeof(w->slots));
		w->used = 0;
	}
	for (unsigned int i = (unsigned int)(h % WARN_ONCE_CAPACITY);; i = (i + 1) % WARN_ONCE_CAPACITY) {
		if (w->slots[i] == h)
			return false;
		if (w->slots[i] == 0) {
			w->slots[i] = h;
			w->used++;
			return true;
		}
	}
}
