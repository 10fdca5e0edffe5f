#include "common/tabescape.h"

#include <string.h>

static int tab_escape_code(uint8_t c)
{
	switch (c) {
	case 0x00: return '0';
	case 0x01: return '1';
	case '\t': return 't';
	case '\r': return 'r';
	case '\n': return 'n';
	default: return -1;
	}
}

int tab_escape(struct buf *out, const uint8_t *in, size_t len)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		int code = tab_escape_code(in[i]);
		if (code < 0)
			continue;
		uint8_t esc[2] = { 0x01, (uint8_t)code };
		if (buf_append(out, in + run, i - run) < 0 || buf_append(out, esc, 2) < 0)
			return -1;
		run = i + 1;
	}
	return buf_append(out, in + run, len - run);
}

int tab_escape_str(struct buf *out, const char *s)
{
	return tab_escape(out, (const uint8_t *)s, strlen(s));
}

static uint8_t tab_unescape_code(uint8_t c)
{
	switch (c) {
	case '0': return 0x00;
	case '1': return 0x01;
	case 't': return '\t';
	case 'r': return '\r';
	case 'n': return '\n';
	default: return c;
	}
}

size_t tab_unescape_inplace(uint8_t *p, size_t len)
{
	/* Most fields carry no escape: nothing to move. */
	const uint8_t *esc = len > 0 ? memchr(p, 0x01, len) : NULL;
	if (esc == NULL)
		return len;
	size_t w = (size_t)(esc - p);
	for (size_t r = w; r < len; r++) {
		if (p[r] != 0x01) {
			p[w++] = p[r];
		} else if (r + 1 < len) {
			p[w++] = tab_unescape_code(p[++r]);
		}
	}
	return w;
}
