/* config: Dovecot 2.3 configuration syntax, parsed into a generic tree.
 *
 * Knows the syntax only, not what any setting means (that is settings.c):
 *   key = value              value unquoted, "quoted" or 'quoted'
 *   key = <path              value read from a file when asked for
 *                            (config_node_value), so files of settings
 *                            authd ignores (ssl_key = </etc/...) are never
 *                            opened
 *   key = $name other        a token starting with '$' is replaced by the
 *                            current value of the top-level setting "name"
 *                            ($ENV:NAME: environment variable), as Dovecot
 *                            does; quoted values are not expanded
 *   type [name] {  ...  }    sections, nested; '}' alone on its line
 *   !include GLOB / !include_try GLOB
 *                            relative to the including file's directory
 *   # comment                also in the middle of a line (outside quotes)
 *   text \                   continues on the next line
 * The quirks follow Dovecot 2.3.19's config-parser.c, checked against
 * doveconf: an ambiguous '#' glued to a value ("a#b") still starts a
 * comment (with a warning), a blank or comment line ends a pending
 * continuation (which is then dropped, with a warning), sections may open
 * in one file and close in another.
 *
 * Errors are "FILE:LINE: KEY: problem" (or "FILE:LINE: problem" when no key
 * is involved). Parsing never blocks on anything but reading local files. */
#ifndef AUTHD_CONFIG_H
#define AUTHD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Limits (every one is checked; crossing one is a config error). */
#define CONFIG_MAX_LINE_LEN        8192u  /* one line, also after joining continuations */
#define CONFIG_MAX_FILE_SIZE       (1024u * 1024u)  /* one config file */
#define CONFIG_MAX_VALUE_FILE_SIZE (64u * 1024u)    /* one `key = <file` */
#define CONFIG_MAX_VALUE_LEN       (64u * 1024u)    /* one value after $expansion */
#define CONFIG_MAX_INCLUDE_DEPTH   16u    /* nested !include levels */
#define CONFIG_MAX_INCLUDE_FILES   256u   /* files read in one parse */
#define CONFIG_MAX_SECTION_DEPTH   8u     /* nested { } levels */
#define CONFIG_MAX_NODES           10000u /* settings + sections in one parse */
#define CONFIG_MAX_TOTAL_VALUES    (4u * 1024u * 1024u)  /* all values of one parse */
#define CONFIG_MAX_ERROR_LEN       1024u  /* error text, truncated beyond */

enum config_node_type {
	CONFIG_NODE_KEY,       /* key = value */
	CONFIG_NODE_SECTION,   /* key [value] { children } */
};

struct config_node {
	enum config_node_type type;
	const char *key;       /* setting name, or section type ("passdb") */
	const char *value;     /* KEY: the value (unquoted, $-expanded); with
				* value_file: the path of the file.
				* SECTION: the section name, "" if none */
	bool value_file;       /* `key = <path`: read with config_node_value() */
	const char *file;      /* file the node was read from */
	unsigned int line;     /* line in file (the last line of a continued
				* line; the opening line of a section) */
	struct config_node *parent;     /* NULL for the root */
	struct config_node *children;   /* SECTION: first child, in file order */
	struct config_node *last_child;
	struct config_node *next;       /* next sibling */
};

struct config_tree {
	struct pool *pool;          /* owns every node and string */
	struct config_node *root;   /* a SECTION with key "" */
	unsigned int flags;         /* enum config_parse_flags */
};

enum config_parse_flags {
	CONFIG_PARSE_NO_FILES = 1u << 0,  /* refuse !include and `<file`
					   * (for parsing untrusted buffers) */
	CONFIG_PARSE_QUIET    = 1u << 1,  /* no warnings to the log */
};

/* Returns the default value of a setting that the config has not set (yet),
 * for `$name` references, or NULL when no such setting exists. */
typedef const char *config_default_lookup_fn(const char *name);

struct config_parse_opts {
	unsigned int flags;                        /* enum config_parse_flags */
	config_default_lookup_fn *default_lookup;  /* may be NULL */
};

/* Parses the file at path and everything it includes. Returns 0 and a tree
 * the caller frees with config_tree_free(), or -1 with *error_r set to text
 * in a static buffer valid until the next config_* call. Blocks on file
 * reads only. */
int config_parse_file(const char *path, const struct config_parse_opts *opts,
		      struct config_tree **tree_r, const char **error_r);

/* Same for an in-memory buffer (untrusted bytes); name is used in error
 * messages and relative includes are resolved against the current working
 * directory. */
int config_parse_buffer(const char *name, const uint8_t *data, size_t len,
			const struct config_parse_opts *opts,
			struct config_tree **tree_r, const char **error_r);

/* Frees the tree and everything in it; NULLs *tree. */
void config_tree_free(struct config_tree **tree);

/* The value of a KEY node: node->value, or for `key = <file` the file's
 * contents without trailing line breaks (must not contain NUL bytes).
 * Returns 0 with *value_r owned by tree's pool, or -1 with *error_r set as
 * above ("FILE:LINE: KEY: can't read PATH: ..."). May block reading the
 * file. */
int config_node_value(struct config_tree *tree, const struct config_node *node,
		      const char **value_r, const char **error_r);

/* Writes an error "FILE:LINE: KEY: <fmt...>" for node into the static error
 * buffer and returns it (for callers that validate nodes). */
const char *config_node_error(const struct config_node *node, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
