#include "authd/proto_fields.h"
#include "common/tabescape.h"

#include <string.h>

size_t proto_split(uint8_t *line, size_t len, uint8_t **fields, size_t *lens, size_t max,
		   bool unescape)
{
	size_t n = 0;
	uint8_t *p = line;
	uint8_t *end = line + len;
	for (;;) {
		uint8_t *tab = len > 0 ? memchr(p, '\t', (size_t)(end - p)) : NULL;
		size_t flen = (size_t)((tab != NULL ? tab : end) - p);
		if (n == max)
			return 0;
		fields[n] = p;
		lens[n] = unescape ? tab_unescape_inplace(p, flen) : flen;
		n++;
		if (tab == NULL)
			return n;
		p = tab + 1;
	}
}

void proto_append_cmd_id(struct buf *line, const char *cmd, uint32_t id)
{
	buf_append_str(line, cmd);
	buf_append_byte(line, '\t');
	buf_append_uint(line, id);
}

bool proto_field_is(const uint8_t *f, size_t len, const char *word)
{
	size_t wl = strlen(word);
	return len == wl && memcmp(f, word, wl) == 0;
}
