/* config_file: reading configuration files (the config itself and `key =
 * <file` values) and resolving their paths. See config_private.h. */
#include "authd/config_private.h"
#include "common/pool.h"
#include "common/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_READ_CHUNK 8192u

void config_free_data(uint8_t *data, size_t len)
{
	if (data == NULL)
		return;
	secret_wipe(data, len);
	free(data);
}

static int config_read_fd(int fd, size_t limit, uint8_t **data_r, size_t *len_r)
{
	size_t cap = 0, len = 0;
	uint8_t *data = NULL;
	for (;;) {
		if (len == cap) {
			if (cap > limit) {
				config_free_data(data, len);
				errno = EFBIG;
				return -1;
			}
			/* no realloc(): the old copy is wiped, a config may hold secrets */
			size_t ncap = cap + CONFIG_READ_CHUNK;
			uint8_t *nd = malloc(ncap + 1);
			if (nd == NULL)
				abort();
			if (len > 0)
				memcpy(nd, data, len);
			config_free_data(data, len);
			data = nd;
			cap = ncap;
		}
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			config_free_data(data, len);
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > limit) {
		config_free_data(data, len);
		errno = EFBIG;
		return -1;
	}
	if (data == NULL && (data = malloc(1)) == NULL)
		abort();
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	return 0;
}

int config_read_file(const char *path, size_t limit, uint8_t **data_r,
		     size_t *len_r, struct stat *st_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, st_r) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	if (!S_ISREG(st_r->st_mode)) {
		close(fd);
		errno = S_ISDIR(st_r->st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	if (st_r->st_size < 0 || (uint64_t)st_r->st_size > limit) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	int ret = config_read_fd(fd, limit, data_r, len_r);
	int err = errno;
	close(fd);
	errno = err;
	return ret;
}

const char *config_path_dir(struct pool *pool, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return "";
	if (slash == path)
		return "/";
	return pool_strndup(pool, path, (size_t)(slash - path));
}

const char *config_path_join(struct pool *pool, const char *dir, const char *rel)
{
	if (rel[0] == '/' || dir[0] == '\0')
		return pool_strdup(pool, rel);
	size_t dlen = strlen(dir);
	if (dir[dlen - 1] == '/')
		return pool_printf(pool, "%s%s", dir, rel);
	return pool_printf(pool, "%s/%s", dir, rel);
}

int config_node_value(struct config_tree *tree, const struct config_node *node,
		      const char **value_r, const char **error_r)
{
	uint8_t *data;
	size_t len;
	struct stat st;
	if (!node->value_file) {
		*value_r = node->value;
		return 0;
	}
	if ((tree->flags & CONFIG_PARSE_NO_FILES) != 0) {
		*error_r = config_node_error(node, "reading values from files is disabled here");
		return -1;
	}
	if (config_read_file(node->value, CONFIG_MAX_VALUE_FILE_SIZE, &data, &len, &st) < 0) {
		const char *why = errno == EFBIG ? "file too large" : strerror(errno);
		*error_r = config_node_error(node, "can't read %s: %s", node->value, why);
		return -1;
	}
	if (memchr(data, '\0', len) != NULL) {
		config_free_data(data, len);
		*error_r = config_node_error(node, "%s contains a NUL byte", node->value);
		return -1;
	}
	size_t full = len;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	*value_r = pool_strndup(tree->pool, data, len);
	config_free_data(data, full);
	return 0;
}
