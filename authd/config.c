/* config: the Dovecot 2.3 syntax parser. See config.h for the syntax; the
 * line-level rules mirror config_parse_line() in Dovecot 2.3.19. */
#include "authd/config_private.h"
#include "authd/log.h"
#include "common/buf.h"
#include "common/pool.h"
#include "common/secret.h"

#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_ERROR_KEY_MAX 64   /* bytes of a key or path quoted in an error */
#define IS_WHITE(c) ((c) == ' ' || (c) == '\t')

static char config_errbuf[CONFIG_MAX_ERROR_LEN];

/* One file (or buffer) being read; they form a stack through includes. */
struct config_input {
	const char *path;
	const char *dir;              /* base of relative paths, "" = cwd */
	const uint8_t *data;
	size_t len, pos;
	unsigned int linenum;
	bool has_id;                  /* dev/ino valid (a real file) */
	dev_t dev;
	ino_t ino;
	struct config_input *prev;
};

struct config_parser {
	struct config_tree *tree;
	const struct config_parse_opts *opts;
	struct config_node *cur;      /* section receiving new nodes */
	unsigned int section_depth;
	unsigned int include_depth;
	unsigned int files_read;
	size_t node_count;
	size_t value_bytes;           /* sum of all values so far */
	char *line;                   /* CONFIG_MAX_LINE_LEN + 1 bytes */
	struct config_input *input;   /* innermost */
	const char **error_r;
};

static int config_parse_path(struct config_parser *p, const char *path,
			     bool try, const char *key);

int config_fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(config_errbuf, sizeof(config_errbuf), fmt, ap);
	va_end(ap);
	*error_r = config_errbuf;
	return -1;
}

/* "FILE:LINE: KEY: msg" at the current input position; key may be NULL. */
static int parser_fail(struct config_parser *p, const char *key, size_t klen,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int parser_fail(struct config_parser *p, const char *key, size_t klen,
		       const char *fmt, ...)
{
	char msg[CONFIG_MAX_ERROR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int kl = klen > CONFIG_ERROR_KEY_MAX ? CONFIG_ERROR_KEY_MAX : (int)klen;
	if (key == NULL)
		return config_fail(p->error_r, "%s:%u: %s", p->input->path,
				   p->input->linenum, msg);
	return config_fail(p->error_r, "%s:%u: %.*s: %s", p->input->path,
			   p->input->linenum, kl, key, msg);
}

const char *config_node_error(const struct config_node *node, const char *fmt, ...)
{
	char msg[CONFIG_MAX_ERROR_LEN];
	const char *error;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)config_fail(&error, "%s:%u: %.*s: %s", node->file, node->line,
			  CONFIG_ERROR_KEY_MAX, node->key, msg);
	return error;
}

static void parser_warn(struct config_parser *p, const char *msg)
{
	if ((p->opts->flags & CONFIG_PARSE_QUIET) == 0)
		log_warning("%s:%u: %s", p->input->path, p->input->linenum, msg);
}

static bool token_is(const char *s, size_t len, const char *word)
{
	size_t wlen = strlen(word);
	return len == wlen && memcmp(s, word, len) == 0;
}

static struct config_node *parser_add(struct config_parser *p,
				      enum config_node_type type,
				      const char *key, size_t klen, const char *value)
{
	if (p->node_count >= CONFIG_MAX_NODES) {
		parser_fail(p, NULL, 0, "too many settings (limit %u)", CONFIG_MAX_NODES);
		return NULL;
	}
	size_t vlen = strlen(value);
	if (vlen > CONFIG_MAX_TOTAL_VALUES - p->value_bytes) {
		parser_fail(p, NULL, 0, "values too large in total (limit %u bytes)",
			    CONFIG_MAX_TOTAL_VALUES);
		return NULL;
	}
	p->value_bytes += vlen;
	p->node_count++;
	struct config_node *node = pool_alloc(p->tree->pool, sizeof(*node));
	node->type = type;
	node->key = pool_strndup(p->tree->pool, key, klen);
	node->value = value;
	node->file = p->input->path;
	node->line = p->input->linenum;
	node->parent = p->cur;
	if (p->cur->last_child == NULL)
		p->cur->children = node;
	else
		p->cur->last_child->next = node;
	p->cur->last_child = node;
	return node;
}

/* Dovecot's str_unescape(): a backslash keeps the next byte literally. */
static char *config_unescape(struct pool *pool, const char *s, size_t len)
{
	char *out = pool_alloc(pool, len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && ++i == len)
			break;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/* The current value of top-level setting name: its last assignment so far,
 * else its default. Returns 1 found, 0 unknown, -1 error (file read). */
static int parser_lookup(struct config_parser *p, const char *name, const char **value_r)
{
	const struct config_node *found = NULL;
	for (const struct config_node *n = p->tree->root->children; n != NULL; n = n->next) {
		if (n->type == CONFIG_NODE_KEY && strcmp(n->key, name) == 0)
			found = n;
	}
	if (found != NULL)
		return config_node_value(p->tree, found, value_r, p->error_r) < 0 ? -1 : 1;
	if (p->opts->default_lookup != NULL &&
	    (*value_r = p->opts->default_lookup(name)) != NULL)
		return 1;
	return 0;
}

static int parser_expand_var(struct config_parser *p, const char *key, size_t klen,
			     const char *name, size_t nlen, struct buf *out)
{
	const char *value = NULL;
	if (nlen >= 4 && memcmp(name, "ENV:", 4) == 0) {
		value = getenv(pool_strndup(p->tree->pool, name + 4, nlen - 4));
	} else {
		int ret = parser_lookup(p, pool_strndup(p->tree->pool, name, nlen), &value);
		if (ret < 0)
			return -1;
		if (ret == 0)
			return parser_fail(p, key, klen, "unknown variable '$%.*s'",
					   nlen > CONFIG_ERROR_KEY_MAX ? CONFIG_ERROR_KEY_MAX :
					   (int)nlen, name);
	}
	if (value != NULL && buf_append_str(out, value) < 0)
		return parser_fail(p, key, klen, "value too long after expanding variables");
	return 0;
}

/* Dovecot's config_write_keyvariable(): space-separated tokens that start
 * with '$' are replaced by the named setting's current value. */
static int parser_expand(struct config_parser *p, const char *key, size_t klen,
			 const char *v, size_t vlen, const char **value_r)
{
	struct buf out = BUF_INIT(CONFIG_MAX_VALUE_LEN);
	size_t i = 0;
	int ret = 0;
	for (;;) {
		const char *sp = memchr(v + i, ' ', vlen - i);
		size_t end = sp != NULL ? (size_t)(sp - v) : vlen;
		if (end > i && v[i] == '$')
			ret = parser_expand_var(p, key, klen, v + i + 1, end - i - 1, &out);
		else if (buf_append(&out, v + i, end - i) < 0)
			ret = parser_fail(p, key, klen, "value too long after expanding variables");
		if (ret < 0 || sp == NULL)
			break;
		if (buf_append_byte(&out, ' ') < 0) {
			ret = parser_fail(p, key, klen, "value too long after expanding variables");
			break;
		}
		i = end + 1;
	}
	if (ret == 0)
		*value_r = pool_strndup(p->tree->pool, buf_cstr(&out), out.len);
	buf_free(&out);
	return ret;
}

static int parser_key_value(struct config_parser *p, const char *key, size_t klen,
			    const char *v, size_t vlen)
{
	const char *value = "";
	bool file = false;
	if (klen == 0)
		return parser_fail(p, NULL, 0, "missing setting name before '='");
	if (vlen > 0 && v[0] == '<') {
		if ((p->opts->flags & CONFIG_PARSE_NO_FILES) != 0)
			return parser_fail(p, key, klen, "reading values from files is disabled here");
		size_t i = 1;
		while (i < vlen && IS_WHITE(v[i]))
			i++;
		value = config_path_join(p->tree->pool, p->input->dir,
					 pool_strndup(p->tree->pool, v + i, vlen - i));
		file = true;
	} else if (vlen > 0 && v[0] != '"' && v[0] != '\'' && memchr(v, '$', vlen) != NULL) {
		if (parser_expand(p, key, klen, v, vlen, &value) < 0)
			return -1;
	} else if (vlen > 0 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
		value = config_unescape(p->tree->pool, v + 1, vlen == 1 ? 0 : vlen - 2);
	} else {
		value = pool_strndup(p->tree->pool, v, vlen);
	}
	struct config_node *node = parser_add(p, CONFIG_NODE_KEY, key, klen, value);
	if (node == NULL)
		return -1;
	node->value_file = file;
	return 0;
}

/* Parses the section name in r (after the section type) up to the '{'. */
static int parser_section_name(struct config_parser *p, const char *key, size_t klen,
			       const char *r, size_t rlen, const char **name_r)
{
	size_t i = 0;
	if (rlen == 0 || memchr(r, '{', rlen) == NULL)
		return parser_fail(p, key, klen, "missing '='");
	if (r[0] == '{') {
		*name_r = "";
	} else if (r[0] != '"') {
		while (i < rlen && !IS_WHITE(r[i]))
			i++;
		*name_r = pool_strndup(p->tree->pool, r, i);
	} else {
		const char *q = memchr(r + 1, '"', rlen - 1);
		if (q == NULL)
			return parser_fail(p, key, klen, "unterminated quoted section name");
		*name_r = config_unescape(p->tree->pool, r + 1, (size_t)(q - r - 1));
		i = (size_t)(q - r) + 1;
	}
	while (i < rlen && IS_WHITE(r[i]))
		i++;
	if (i >= rlen || r[i] != '{')
		return parser_fail(p, key, klen, "expecting '{' after the section name");
	if (i + 1 != rlen)
		return parser_fail(p, key, klen, "garbage after '{'");
	return 0;
}

static int parser_section_begin(struct config_parser *p, const char *key, size_t klen,
				const char *r, size_t rlen)
{
	const char *name = "";
	if (klen == 0)
		return parser_fail(p, NULL, 0, "syntax error: missing setting name");
	if (token_is(key, klen, "}"))
		return parser_fail(p, NULL, 0, "garbage after '}'");
	if (parser_section_name(p, key, klen, r, rlen, &name) < 0)
		return -1;
	if (p->section_depth >= CONFIG_MAX_SECTION_DEPTH)
		return parser_fail(p, key, klen, "sections nested too deeply (limit %u)",
				   CONFIG_MAX_SECTION_DEPTH);
	struct config_node *node = parser_add(p, CONFIG_NODE_SECTION, key, klen, name);
	if (node == NULL)
		return -1;
	p->cur = node;
	p->section_depth++;
	return 0;
}

static int parser_include(struct config_parser *p, const char *key, size_t klen,
			  bool try, const char *pat, size_t plen)
{
	struct pool *pool = p->tree->pool;
	if ((p->opts->flags & CONFIG_PARSE_NO_FILES) != 0)
		return parser_fail(p, key, klen, "includes are disabled here");
	if (p->include_depth >= CONFIG_MAX_INCLUDE_DEPTH)
		return parser_fail(p, key, klen, "include depth limit (%u) exceeded",
				   CONFIG_MAX_INCLUDE_DEPTH);
	const char *keyz = pool_strndup(pool, key, klen);
	const char *path = config_path_join(pool, p->input->dir, pool_strndup(pool, pat, plen));
	glob_t g;
	memset(&g, 0, sizeof(g));
	int r = glob(path, GLOB_BRACE, NULL, &g);
	if (r == GLOB_NOMATCH) {
		globfree(&g);
		return try ? 0 : parser_fail(p, key, klen, "no file matches '%s'", path);
	}
	if (r != 0) {
		globfree(&g);
		return parser_fail(p, key, klen, "can't expand '%s'", path);
	}
	int ret = 0;
	for (size_t i = 0; i < g.gl_pathc && ret == 0; i++)
		ret = config_parse_path(p, pool_strdup(pool, g.gl_pathv[i]), try, keyz);
	globfree(&g);
	return ret;
}

/* s: one logical line, no leading or trailing white space, len > 0. */
static int parser_logical_line(struct config_parser *p, const char *s, size_t len)
{
	size_t klen = 0;
	while (klen < len && !IS_WHITE(s[klen]) && s[klen] != '=')
		klen++;
	size_t i = klen;
	while (i < len && IS_WHITE(s[i]))
		i++;
	if (token_is(s, klen, "!include") || token_is(s, klen, "!include_try"))
		return parser_include(p, s, klen, klen > 8, s + i, len - i);
	if (i < len && s[i] == '=') {
		i++;
		while (i < len && IS_WHITE(s[i]))
			i++;
		return parser_key_value(p, s, klen, s + i, len - i);
	}
	if (token_is(s, klen, "}") && i == len) {
		if (p->cur == p->tree->root)
			return parser_fail(p, NULL, 0, "unexpected '}'");
		p->cur = p->cur->parent;
		p->section_depth--;
		return 0;
	}
	return parser_section_begin(p, s, klen, s + i, len - i);
}

/* Cuts a comment off line and returns the new length. Dovecot's rules: '#'
 * outside quotes starts a comment; inside quotes a backslash protects the
 * next byte; an unterminated quote protects the rest of the line. */
static size_t parser_strip_comment(struct config_parser *p, const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = line[i];
		if (c == '\'' || c == '"') {
			for (i++; i < len && line[i] != c; i++) {
				if (line[i] == '\\' && i + 1 < len)
					i++;
			}
			if (i >= len)
				return len;
		} else if (c == '#') {
			if (i > 0 && !IS_WHITE(line[i - 1]))
				parser_warn(p, "ambiguous '#' character in line, treating it as a "
					    "comment (add a space before it to remove this warning)");
			return i;
		}
	}
	return len;
}

static int parser_physical_line(struct config_parser *p, struct buf *cont,
				const uint8_t *data, size_t len)
{
	if (len > 0 && data[len - 1] == '\r')
		len--;
	if (len > CONFIG_MAX_LINE_LEN)
		return parser_fail(p, NULL, 0, "line too long (limit %u bytes)", CONFIG_MAX_LINE_LEN);
	if (memchr(data, '\0', len) != NULL)
		return parser_fail(p, NULL, 0, "NUL byte in line");
	size_t i = 0;
	while (i < len && IS_WHITE(data[i]))
		i++;
	if (i == len || data[i] == '#') {
		if (cont->len > 0)
			parser_warn(p, "line continuation ended by an empty or comment line; "
				    "the continued line is ignored");
		buf_reset(cont);
		return 0;
	}
	char *line = p->line;
	len -= i;
	memcpy(line, data + i, len);
	len = parser_strip_comment(p, line, len);
	while (len > 0 && IS_WHITE(line[len - 1]))
		len--;
	bool more = len > 0 && line[len - 1] == '\\';
	if (more) {
		len--;
		while (len > 0 && IS_WHITE(line[len - 1]))
			len--;
	}
	if (cont->len > 0 || more) {
		if (buf_append(cont, line, len) < 0 || (more && buf_append_byte(cont, ' ') < 0))
			return parser_fail(p, NULL, 0, "line too long (limit %u bytes)",
					   CONFIG_MAX_LINE_LEN);
		if (more)
			return 0;
		memcpy(line, cont->data, cont->len);
		len = cont->len;
		buf_reset(cont);
	}
	return len == 0 ? 0 : parser_logical_line(p, line, len);
}

static int config_parse_input(struct config_parser *p, struct config_input *in)
{
	struct buf cont = BUF_INIT(CONFIG_MAX_LINE_LEN);
	int ret = 0;
	while (ret == 0 && in->pos < in->len) {
		size_t start = in->pos;
		const uint8_t *nl = memchr(in->data + start, '\n', in->len - start);
		size_t end = nl != NULL ? (size_t)(nl - in->data) : in->len;
		in->pos = nl != NULL ? end + 1 : end;
		in->linenum++;
		ret = parser_physical_line(p, &cont, in->data + start, end - start);
	}
	if (ret == 0 && cont.len > 0)
		parser_warn(p, "line continuation at the end of the file; the continued line is ignored");
	buf_free(&cont);
	return ret;
}

/* Reads one file found by an include (or the main file when key is NULL). */
static int config_parse_path(struct config_parser *p, const char *path,
			     bool try, const char *key)
{
	uint8_t *data;
	size_t len;
	struct stat st;
	const char *k = key != NULL ? key : "";
	if (p->files_read >= CONFIG_MAX_INCLUDE_FILES)
		return parser_fail(p, k, strlen(k), "too many included files (limit %u)",
				   CONFIG_MAX_INCLUDE_FILES);
	if (config_read_file(path, CONFIG_MAX_FILE_SIZE, &data, &len, &st) < 0) {
		int err = errno;
		if (try)
			return 0;
		const char *why = err == EFBIG ? "file too large" : strerror(err);
		if (key == NULL)
			return config_fail(p->error_r, "%s: can't read: %s", path, why);
		return parser_fail(p, k, strlen(k), "can't read %s: %s", path, why);
	}
	for (const struct config_input *in = p->input; in != NULL; in = in->prev) {
		if (in->has_id && in->dev == st.st_dev && in->ino == st.st_ino) {
			config_free_data(data, len);
			return parser_fail(p, k, strlen(k), "include loop: %s is already being read", path);
		}
	}
	struct config_input in = {
		.path = path, .dir = config_path_dir(p->tree->pool, path),
		.data = data, .len = len, .has_id = true, .dev = st.st_dev,
		.ino = st.st_ino, .prev = p->input,
	};
	p->files_read++;
	p->include_depth += key != NULL ? 1 : 0;
	p->input = &in;
	int ret = config_parse_input(p, &in);
	p->input = in.prev;
	p->include_depth -= key != NULL ? 1 : 0;
	config_free_data(data, len);
	return ret;
}

static struct config_tree *config_tree_new(unsigned int flags)
{
	struct pool *pool = pool_create(16384);
	struct config_tree *tree = pool_alloc(pool, sizeof(*tree));
	tree->pool = pool;
	tree->flags = flags;
	tree->root = pool_alloc(pool, sizeof(*tree->root));
	tree->root->type = CONFIG_NODE_SECTION;
	tree->root->key = "";
	tree->root->value = "";
	tree->root->file = "";
	return tree;
}

/* Runs parse(p, arg) with a fresh parser and checks every section closed. */
static int config_parse_run(const struct config_parse_opts *opts,
			    int (*parse)(struct config_parser *, const void *), const void *arg,
			    struct config_tree **tree_r, const char **error_r)
{
	static const struct config_parse_opts no_opts = { .flags = 0 };
	struct config_parser p = {
		.tree = config_tree_new(opts != NULL ? opts->flags : 0),
		.opts = opts != NULL ? opts : &no_opts, .error_r = error_r,
	};
	p.cur = p.tree->root;
	p.line = malloc(CONFIG_MAX_LINE_LEN + 1);
	if (p.line == NULL)
		abort();
	int ret = parse(&p, arg);
	if (ret == 0 && p.cur != p.tree->root) {
		*error_r = config_node_error(p.cur, "section not closed (missing '}')");
		ret = -1;
	}
	secret_wipe(p.line, CONFIG_MAX_LINE_LEN + 1);
	free(p.line);
	if (ret < 0) {
		config_tree_free(&p.tree);
		return -1;
	}
	*tree_r = p.tree;
	return 0;
}

static int config_parse_file_cb(struct config_parser *p, const void *arg)
{
	return config_parse_path(p, pool_strdup(p->tree->pool, arg), false, NULL);
}

int config_parse_file(const char *path, const struct config_parse_opts *opts,
		      struct config_tree **tree_r, const char **error_r)
{
	return config_parse_run(opts, config_parse_file_cb, path, tree_r, error_r);
}

struct config_buffer_arg {
	const char *name;
	const uint8_t *data;
	size_t len;
};

static int config_parse_buffer_cb(struct config_parser *p, const void *arg)
{
	const struct config_buffer_arg *b = arg;
	struct config_input in = {
		.path = pool_strdup(p->tree->pool, b->name), .dir = "",
		.data = b->data, .len = b->len,
	};
	p->input = &in;
	p->files_read++;
	int ret = config_parse_input(p, &in);
	p->input = NULL;
	return ret;
}

int config_parse_buffer(const char *name, const uint8_t *data, size_t len,
			const struct config_parse_opts *opts,
			struct config_tree **tree_r, const char **error_r)
{
	if (len > CONFIG_MAX_FILE_SIZE)
		return config_fail(error_r, "%s: can't read: file too large", name);
	const struct config_buffer_arg arg = { .name = name, .data = data, .len = len };
	return config_parse_run(opts, config_parse_buffer_cb, &arg, tree_r, error_r);
}

void config_tree_free(struct config_tree **tree)
{
	if (*tree == NULL)
		return;
	struct pool *pool = (*tree)->pool;
	*tree = NULL;
	pool_destroy(&pool);
}
