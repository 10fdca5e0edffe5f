#include "common/strnum.h"

int str_to_uint64(const uint8_t *p, size_t len, uint64_t *num_r)
{
	if (len == 0 || len > 20)
		return 0;
	uint64_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		uint64_t d = (uint64_t)(p[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return 0;
		n = n * 10 + d;
	}
	*num_r = n;
	return 1;
}

int str_to_uint32(const uint8_t *p, size_t len, uint32_t *num_r)
{
	uint64_t n;
	if (len > 10 || !str_to_uint64(p, len, &n) || n > UINT32_MAX)
		return 0;
	*num_r = (uint32_t)n;
	return 1;
}

int str_to_octal(const uint8_t *p, size_t len, uint32_t *num_r)
{
	if (len == 0 || len > 11)
		return 0;
	uint32_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '7')
			return 0;
		if (n > (UINT32_MAX >> 3))
			return 0;
		n = n << 3 | (uint32_t)(p[i] - '0');
	}
	*num_r = n;
	return 1;
}
