/* pool: an arena allocator for one request or one parse.
 *
 * Allocations are released all at once by pool_destroy(), which wipes every
 * block first, so request data (user names, passwords, credentials) never
 * lingers in freed memory. Allocation failure aborts the process: the
 * arena sizes are bounded by the callers' limits, so running out means the
 * machine is out of memory. pool_reset() keeps the first block for reuse,
 * which keeps the request hot path free of malloc. */
#ifndef COMMON_POOL_H
#define COMMON_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool;

/* Creates a pool whose first block has block_size bytes (0 = default). */
struct pool *pool_create(size_t block_size);
/* Wipes and frees everything; NULLs *pool. */
void pool_destroy(struct pool **pool);
/* Wipes everything and makes the pool empty again, keeping one block. */
void pool_reset(struct pool *pool);

/* Zeroed, 16-byte aligned memory owned by the pool. Never returns NULL. */
void *pool_alloc(struct pool *pool, size_t size);
/* Copy of (p, len) plus a terminating NUL. */
char *pool_strndup(struct pool *pool, const void *p, size_t len);
char *pool_strdup(struct pool *pool, const char *s);
char *pool_printf(struct pool *pool, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
