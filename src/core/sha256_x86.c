/* sha256_x86.c: SHA-256 blocks on the x86 SHA extensions (see sha256_x86.h).
 * The schedule and rounds follow Intel's "SHA Extensions" paper: two
 * sha256rnds2 per four rounds, the message words of group g (g >= 4) made
 * from groups g-4 .. g-1 by sha256msg1/msg2. About ten times the portable
 * code's speed, which matters for the cache: a key per request and a
 * checksum per stored or replayed response. */
#include "core/sha256_x86.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

bool sha256_x86_available(void)
{
	static int known = -1;
	if (known < 0) {
		unsigned a = 0, b = 0, c = 0, d = 0;
		bool sse41 = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) && (c & bit_SSSE3);
		bool sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
		known = sse41 && sha;
	}
	return known == 1;
}

__attribute__((target("sha,sse4.1"))) void sha256_x86_blocks(uint32_t h[8], const unsigned char *p,
							     size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	/* h[0..7] = A..H into the ABEF and CDGH lanes the instructions take */
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);
	__m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);
	__m128i s0 = _mm_alignr_epi8(t, s1, 8);
	s1 = _mm_blend_epi16(s1, t, 0xF0);
	for (; n > 0; n--, p += 64) {
		__m128i abef = s0, cdgh = s1, w[4];
		for (int g = 0; g < 16; g++) {
			if (g < 4)
				w[g] = _mm_shuffle_epi8(
				    _mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			else
				w[g & 3] = _mm_sha256msg2_epu32(
				    _mm_add_epi32(
					_mm_sha256msg1_epu32(w[g & 3], w[(g - 3) & 3]),
					_mm_alignr_epi8(w[(g - 1) & 3], w[(g - 2) & 3], 4)),
				    w[(g - 1) & 3]);
			__m128i m = _mm_add_epi32(
			    w[g & 3], _mm_loadu_si128((const __m128i *)&sha256_k[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, m);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);
	s1 = _mm_shuffle_epi32(s1, 0xB1);
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xF0));
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));
}

#else

bool sha256_x86_available(void)
{
	return false;
}

void sha256_x86_blocks(uint32_t h[8], const unsigned char *p, size_t n)
{
	(void)h, (void)p, (void)n;
}

#endif
