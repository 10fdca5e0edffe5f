#include "common/pool.h"
#include "common/secret.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_DEFAULT_BLOCK 2048u
#define POOL_ALIGN 16u

struct pool_block {
	struct pool_block *next;
	size_t size;
	size_t used;
	_Alignas(16) uint8_t data[];
};

struct pool {
	struct pool_block *blocks;   /* newest first; the last one is the first allocated */
	size_t block_size;
};

static struct pool_block *pool_block_new(size_t size)
{
	struct pool_block *b = malloc(sizeof(*b) + size);
	if (b == NULL)
		abort();
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct pool *pool_create(size_t block_size)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (p == NULL)
		abort();
	p->block_size = block_size != 0 ? block_size : POOL_DEFAULT_BLOCK;
	p->blocks = pool_block_new(p->block_size);
	return p;
}

static void pool_block_free(struct pool_block *b)
{
	secret_wipe(b->data, b->used);
	free(b);
}

void pool_reset(struct pool *pool)
{
	struct pool_block *b = pool->blocks;
	while (b->next != NULL) {
		struct pool_block *next = b->next;
		pool_block_free(b);
		b = next;
	}
	secret_wipe(b->data, b->used);
	b->used = 0;
	pool->blocks = b;
}

void pool_destroy(struct pool **pool)
{
	if (*pool == NULL)
		return;
	struct pool_block *b = (*pool)->blocks;
	while (b != NULL) {
		struct pool_block *next = b->next;
		pool_block_free(b);
		b = next;
	}
	free(*pool);
	*pool = NULL;
}

void *pool_alloc(struct pool *pool, size_t size)
{
	if (size > SIZE_MAX - POOL_ALIGN)
		abort();
	size = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	struct pool_block *b = pool->blocks;
	if (b->size - b->used < size) {
		size_t bs = size > pool->block_size ? size : pool->block_size;
		struct pool_block *nb = pool_block_new(bs);
		/* Keep the original block last so pool_reset() retains it. */
		nb->next = b;
		pool->blocks = nb;
		b = nb;
	}
	void *ret = b->data + b->used;
	b->used += size;
	memset(ret, 0, size);
	return ret;
}

char *pool_strndup(struct pool *pool, const void *p, size_t len)
{
	if (len == SIZE_MAX)
		abort();
	char *s = pool_alloc(pool, len + 1);
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

char *pool_strdup(struct pool *pool, const char *s)
{
	return pool_strndup(pool, s, strlen(s));
}

char *pool_printf(struct pool *pool, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	char *s = pool_alloc(pool, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}
