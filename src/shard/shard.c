/* shard.c: shard assignment and limit splitting (see shard.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/sha256.h"
#include "shard/shard.h"

static const char *const scheme_names[] = {"hash", "index"};
static const char *const limits_names[] = {"split", "whole"};

/* The index of s in names[0..1], or -1. */
static int pick(const char *s, const char *const names[2])
{
	return !strcmp(s, names[0]) ? 0 : !strcmp(s, names[1]) ? 1 : -1;
}

int shd_scheme_parse(const char *s, enum shd_scheme *out)
{
	int i = pick(s, scheme_names);
	if (i < 0)
		return -1;
	*out = i ? SHD_INDEX : SHD_HASH;
	return 0;
}

const char *shd_scheme_name(enum shd_scheme s)
{
	return scheme_names[s == SHD_INDEX];
}

int shd_limits_parse(const char *s, enum shd_limits *out)
{
	int i = pick(s, limits_names);
	if (i < 0)
		return -1;
	*out = i ? SHD_WHOLE : SHD_SPLIT;
	return 0;
}

const char *shd_limits_name(enum shd_limits l)
{
	return limits_names[l == SHD_WHOLE];
}

/* A run of 1 to 8 decimal digits (no sign, no space: strtol would take
 * " +3"); the end in *end. */
static int digits(const char *s, const char **end, long *out)
{
	long v = 0;
	const char *p = s;
	while (*p >= '0' && *p <= '9' && p - s < 8)
		v = v * 10 + (*p++ - '0');
	if (p == s || (*p >= '0' && *p <= '9'))
		return -1;
	*end = p;
	*out = v;
	return 0;
}

int shd_parse(const char *s, long *k, long *n)
{
	const char *p;
	long a, b;
	if (digits(s, &p, &a) || *p != '/' || digits(p + 1, &p, &b) || *p)
		return -1;
	if (a < 1 || b < 1 || a > b || b > SHD_MAX_N)
		return -1;
	*k = a;
	*n = b;
	return 0;
}

long shd_of(enum shd_scheme s, const char *id, size_t index, long n)
{
	if (n <= 1)
		return 1;
	if (s == SHD_INDEX)
		return (long)(index % (size_t)n) + 1;
	char hex[65];
	sha256_hex(id, strlen(id), hex);
	hex[16] = '\0';
	uint64_t h = strtoull(hex, NULL, 16);
	return (long)(h % (uint64_t)n) + 1;
}

int shd_split(int limit, long n)
{
	if (limit <= 0 || n <= 1)
		return limit;
	long v = limit / n;
	return v < 1 ? 1 : (int)v;
}

void shd_split_limits(struct cfg *cfg, long n)
{
	for (size_t i = 0; n > 1 && i < cfg->n_endpoints; i++) {
		struct cfg_endpoint *ep = &cfg->endpoints[i];
		ep->rpm = shd_split(ep->rpm, n);
		ep->max_concurrency = shd_split(ep->max_concurrency, n);
	}
}
