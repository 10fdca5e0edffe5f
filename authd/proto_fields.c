#include "authd/proto_fields.h"
#include "common/tabescape.h"

#include <string.h>

size_t proto_split(uint8_t *line, size_t len, uint8_t **fields, size_t *lens, size_t max,
		   bool unescape)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != '\t')
			continue;
		if (n == max)
			return 0;
		fields[n] = line + start;
		lens[n] = unescape ? tab_unescape_inplace(line + start, i - start) : i - start;
		n++;
		start = i + 1;
	}
	return n;
}

bool proto_field_is(const uint8_t *f, size_t len, const char *word)
{
	size_t wl = strlen(word);
	return len == wl && memcmp(f, word, wl) == 0;
}
