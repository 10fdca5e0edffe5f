/* config_private: helpers shared by config.c (the parser) and
 * config_file.c (file reading, path handling). Not for other modules. */
#ifndef AUTHD_CONFIG_PRIVATE_H
#define AUTHD_CONFIG_PRIVATE_H

#include "authd/config.h"

#include <sys/stat.h>

/* Reads a whole regular file of at most limit bytes into malloc'd memory
 * (NUL-terminated, the caller frees). Returns 0, or -1 with errno set
 * (EFBIG when over the limit, EISDIR/EINVAL when not a regular file).
 * Blocks on the read. */
int config_read_file(const char *path, size_t limit, uint8_t **data_r,
		     size_t *len_r, struct stat *st_r);

/* Wipes (a config may hold secrets) and frees data from config_read_file(). */
void config_free_data(uint8_t *data, size_t len);

/* The directory part of path: "" for a bare file name (= the working
 * directory), "/" for a file in the root. Owned by pool. */
const char *config_path_dir(struct pool *pool, const char *path);

/* rel when it is absolute or dir is "", else dir/rel. Owned by pool. */
const char *config_path_join(struct pool *pool, const char *dir, const char *rel);

/* Formats an error into the static error buffer; returns -1 and sets
 * *error_r to it. */
int config_fail(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
