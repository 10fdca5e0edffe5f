/* settings_value: Dovecot 2.3's typed setting values, parsed and printed.
 * The accepted forms were checked against doveconf 2.3.19. */
#include "authd/settings_private.h"
#include "common/buf.h"
#include "common/pool.h"
#include "common/strnum.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SETTINGS_MAX_MODE 07777u
#define SETTINGS_MAX_PORT 65535u
#define VMAX SETTINGS_ERROR_VALUE_MAX

struct unit_name {
	const char *name;
	uint64_t mult;
};

/* Dovecot's time units (lib/settings-parser.c); ms ones are refused. */
static const struct unit_name time_units[] = {
	{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
	{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
	{ "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
	{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
	{ "w", 604800 }, { "week", 604800 }, { "weeks", 604800 },
};
static const char *const msec_units[] = {
	"ms", "msec", "msecs", "millisecond", "milliseconds",
};

/* Parses leading decimal digits of s. Returns the number of digits (0 if
 * none) and sets *overflow_r when the number does not fit. */
static size_t parse_digits(const char *s, uint64_t *num_r, bool *overflow_r)
{
	size_t i = 0;
	uint64_t n = 0;
	*overflow_r = false;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			*overflow_r = true;
		else
			n = n * 10 + d;
	}
	*num_r = n;
	return i;
}

static const char *skip_white(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int settings_parse_bool(struct pool *pool, const char *value, bool *b_r, const char **error_r)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "y") == 0 ||
	    strcmp(value, "1") == 0) {
		*b_r = true;
		return 0;
	}
	if (strcasecmp(value, "no") == 0) {
		*b_r = false;
		return 0;
	}
	*error_r = pool_printf(pool, "invalid boolean '%.*s' (use yes or no)", VMAX, value);
	return -1;
}

int settings_parse_uint(struct pool *pool, const char *value, unsigned int *num_r,
			const char **error_r)
{
	uint32_t n;
	if (str_to_uint32((const uint8_t *)value, strlen(value), &n) == 0 || n > UINT_MAX) {
		*error_r = pool_printf(pool, "invalid number '%.*s'", VMAX, value);
		return -1;
	}
	*num_r = n;
	return 0;
}

static bool time_is_msecs(const char *unit)
{
	for (size_t i = 0; i < sizeof(msec_units) / sizeof(msec_units[0]); i++) {
		if (strcasecmp(unit, msec_units[i]) == 0)
			return true;
	}
	return false;
}

static uint64_t time_unit(const char *unit)
{
	for (size_t i = 0; i < sizeof(time_units) / sizeof(time_units[0]); i++) {
		if (strcasecmp(unit, time_units[i].name) == 0)
			return time_units[i].mult;
	}
	return 0;
}

int settings_parse_time(struct pool *pool, const char *value, unsigned int *secs_r,
			const char **error_r)
{
	uint64_t n;
	bool overflow;
	size_t digits = parse_digits(value, &n, &overflow);
	const char *unit = skip_white(value + digits);
	uint64_t mult = *unit == '\0' ? 1 : time_unit(unit);
	if (digits == 0) {
		*error_r = pool_printf(pool, "invalid time '%.*s'", VMAX, value);
	} else if (*unit == '\0' && n != 0 && !overflow) {
		*error_r = pool_printf(pool, "invalid time '%.*s' (missing unit, e.g. 's' for seconds)",
				       VMAX, value);
	} else if (time_is_msecs(unit)) {
		*error_r = pool_printf(pool, "invalid time '%.*s' (milliseconds are not "
				       "supported for this setting)", VMAX, value);
	} else if (mult == 0) {
		*error_r = pool_printf(pool, "invalid time '%.*s'", VMAX, value);
	} else if (overflow || n > UINT_MAX / mult) {
		*error_r = pool_printf(pool, "invalid time '%.*s' (too large)", VMAX, value);
	} else {
		*secs_r = (unsigned int)(n * mult);
		return 0;
	}
	return -1;
}

/* Multiplier of a size unit: B, k, M, G, T (any case; k..T may be followed
 * by "B" or "iB"). "" means bytes. 0 if invalid. */
static uint64_t size_unit(const char *unit)
{
	static const char letters[] = "bkmgt";
	if (*unit == '\0')
		return 1;
	const char *l = strchr(letters, unit[0] | 0x20);
	if (l == NULL)
		return 0;
	const char *rest = unit + 1;
	if (*rest != '\0' && (*l == 'b' || (strcasecmp(rest, "b") != 0 &&
					    strcasecmp(rest, "ib") != 0)))
		return 0;
	return (uint64_t)1 << (10 * (l - letters));
}

int settings_parse_size(struct pool *pool, const char *value, uint64_t *bytes_r,
			const char **error_r)
{
	uint64_t n;
	bool overflow;
	size_t digits = parse_digits(value, &n, &overflow);
	uint64_t mult = size_unit(skip_white(value + digits));
	if (digits == 0 || mult == 0) {
		*error_r = pool_printf(pool, "invalid size '%.*s'", VMAX, value);
		return -1;
	}
	if (overflow || n > UINT64_MAX / mult) {
		*error_r = pool_printf(pool, "invalid size '%.*s' (too large)", VMAX, value);
		return -1;
	}
	*bytes_r = n * mult;
	return 0;
}

int settings_parse_mode(struct pool *pool, const char *value, mode_t *mode_r,
			const char **error_r)
{
	uint32_t n;
	if (str_to_octal((const uint8_t *)value, strlen(value), &n) == 0 ||
	    n > SETTINGS_MAX_MODE) {
		*error_r = pool_printf(pool, "invalid mode '%.*s' (octal, e.g. 0660)", VMAX, value);
		return -1;
	}
	*mode_r = (mode_t)n;
	return 0;
}

int settings_parse_port(struct pool *pool, const char *value, unsigned int *port_r,
			const char **error_r)
{
	uint32_t n;
	if (str_to_uint32((const uint8_t *)value, strlen(value), &n) == 0 ||
	    n > SETTINGS_MAX_PORT) {
		*error_r = pool_printf(pool, "invalid port '%.*s' (1..65535, or 0 to disable)",
				       VMAX, value);
		return -1;
	}
	*port_r = n;
	return 0;
}

int settings_format_time(struct buf *out, unsigned int secs)
{
	static const struct unit_name units[] = {
		{ "weeks", 604800 }, { "days", 86400 }, { "hours", 3600 }, { "mins", 60 },
	};
	if (secs == 0)
		return buf_append_str(out, "0");
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs % units[i].mult == 0)
			return buf_printf(out, "%u %s", (unsigned int)(secs / units[i].mult),
					  units[i].name);
	}
	return buf_printf(out, "%u secs", secs);
}

int settings_format_size(struct buf *out, uint64_t bytes)
{
	static const char units[] = "TGMk";
	if (bytes == 0)
		return buf_append_str(out, "0");
	for (size_t i = 0; i < 4; i++) {
		unsigned int shift = 10u * (unsigned int)(4 - i);
		if ((bytes & (((uint64_t)1 << shift) - 1)) == 0)
			return buf_printf(out, "%llu %c", (unsigned long long)(bytes >> shift),
					  units[i]);
	}
	return buf_printf(out, "%llu B", (unsigned long long)bytes);
}

static int append_quoted(struct buf *out, const char *s)
{
	int ret = buf_append_byte(out, '"');
	for (; *s != '\0' && ret == 0; s++) {
		if (*s == '"' || *s == '\\')
			ret = buf_append_byte(out, '\\');
		if (ret == 0)
			ret = buf_append_byte(out, (uint8_t)*s);
	}
	return ret == 0 ? buf_append_byte(out, '"') : -1;
}

int settings_format_value(struct buf *out, const char *value)
{
	size_t len = strlen(value);
	bool quote = len > 0 &&
		(value[0] == ' ' || value[0] == '\t' || value[0] == '<' ||
		 value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\\' ||
		 strpbrk(value, "#$\"'") != NULL);
	return quote ? append_quoted(out, value) : buf_append_str(out, value);
}

bool settings_name_valid(const char *name)
{
	for (const char *p = name; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return false;
		if (strchr("\"'\\#{}", *p) != NULL || *p == 0x7f)
			return false;
	}
	return true;
}

int settings_format_name(struct buf *out, const char *name)
{
	/* valid names (settings_name_valid) need no escaping inside quotes;
	 * a leading '=' would make `passdb =x {` a key = value line */
	bool quote = name[0] == '=' || strpbrk(name, " \t") != NULL;
	return quote ? append_quoted(out, name) : buf_append_str(out, name);
}
