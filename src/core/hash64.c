/* hash64.c: the one 64-bit hash of byte strings; see hash64.h. */
#include "core/hash64.h"

#include <string.h>

uint64_t hash64_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t hash64(uint64_t seed, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ hash64_mix(n + 0x9e3779b97f4a7c15ULL);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ hash64_mix(w)) * 0x9e3779b97f4a7c15ULL;
		h = (h << 31) | (h >> 33);
		s += 8;
		n -= 8;
	}
	uint64_t w = 0;
	if (n)
		memcpy(&w, s, n);
	h = (h ^ hash64_mix(w ^ 0xa0761d6478bd642fULL)) * 0x9e3779b97f4a7c15ULL;
	return hash64_mix(h);
}
