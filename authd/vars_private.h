/* vars_private: what the parts of the %-expander share (vars.c: parsing,
 * resolution and output; vars_modifier.c: L U E X R H N M D T;
 * vars_func.c: %{hash...} and %{if...}). Not for use outside authd/vars*.c. */
#ifndef AUTHD_VARS_PRIVATE_H
#define AUTHD_VARS_PRIVATE_H

#include "authd/vars.h"

#include <stdbool.h>
#include <stddef.h>

#define VAR_SCRATCH 3        /* ping-pong buffers for modifiers + escape copy */

/* One expansion in progress. */
struct var_state {
	const struct var_expand_ctx *ctx;
	bool escape_on;       /* values go through ctx->escape */
	size_t limit;         /* scratch buffer limit (out's limit) */
	const char *error;    /* set on failure: static or var_error_buf() */
};

/* One parsed %-sequence. */
struct var_spec {
	int offset, width;
	bool zero_pad;
	unsigned int mod_count;
	char mods[VAR_MAX_MODIFIERS];
	char key;             /* short key; 0 at the end of the template */
	bool is_long;         /* %{name} */
	const char *name;     /* long key, not NUL-terminated */
	size_t name_len;
	const char *next;     /* template position after the variable */
};

/* A resolved value; not NUL-terminated, but p[len] is always readable (a
 * NUL or more template text). */
struct var_value {
	const char *p;
	size_t len;
	bool escaped;         /* already escaped: an if branch */
	int slot;             /* scratch slot holding p, or -1 */
};

/* Scratch buffers of one nesting level; storage is allocated on first use
 * and wiped by var_frame_free(). */
struct var_frame {
	struct buf tmp[VAR_SCRATCH];
};

/* A modifier: appends the transformed (p, len) to out; H and N consume
 * s->width and s->offset. Returns 0 or -1 (limit, OpenSSL). */
typedef int var_modifier_fn(const char *p, size_t len, struct var_spec *s,
			    struct buf *out);

static inline void var_frame_init(struct var_frame *f, size_t limit)
{
	for (unsigned int i = 0; i < VAR_SCRATCH; i++)
		f->tmp[i] = (struct buf)BUF_INIT(limit);
}

static inline void var_frame_free(struct var_frame *f)
{
	for (unsigned int i = 0; i < VAR_SCRATCH; i++)
		buf_free(&f->tmp[i]);
}

static inline void var_set(struct var_value *v, const char *p, size_t len)
{
	*v = (struct var_value){ .p = p, .len = len, .slot = -1 };
}

/* Points v at the contents of scratch slot i of f. */
static inline void var_set_slot(struct var_value *v, struct var_frame *f, int i)
{
	const struct buf *b = &f->tmp[i];
	*v = (struct var_value){ .p = b->len > 0 ? (const char *)b->data : "",
				 .len = b->len, .slot = i };
}

/* Record an error; return 0 (invalid template) / -1 (output limit). */
int var_fail(struct var_state *st, const char *error);
int var_limit(struct var_state *st);
/* This thread's buffer for formatted error text (VAR_ERROR_MAX bytes). */
char *var_error_buf(void);

/* Expands the template range [p, end) into out at nesting depth. Returns
 * 1, 0 or -1 as var_expand() (without restoring out). */
int var_expand_range(struct var_state *st, struct buf *out, const char *p,
		     const char *end, unsigned int depth);
/* Resolves the long key (name, len) into v (possibly into a slot of f).
 * Returns 1, 0 or -1. */
int var_resolve_long(struct var_state *st, const char *name, size_t len,
		     struct var_frame *f, unsigned int depth, struct var_value *v);

/* The modifier for letter c, or NULL. */
var_modifier_fn *var_find_modifier(char c);

/* True if (name, len) calls a function (if;..., md5..., pkcs5...). */
bool var_func_exists(const char *name, size_t len);
/* Runs that function; the result goes to slot 0 of f. Returns 1, 0, -1. */
int var_func_call(struct var_state *st, const char *name, size_t len,
		  struct var_frame *f, unsigned int depth, struct var_value *v);

#endif
