/* hash64.h: the one 64-bit hash of byte strings, for in-memory tables and
 * fingerprints (the dataset reader's id set, merge's seen pairs, diff's
 * items). Not cryptographic and not stable across versions: never write a
 * hash64 value to a file.
 *
 * Eight bytes at a time, each word mixed before it is folded in, then a
 * final avalanche, so the low bits index a power-of-two table well. The
 * length is part of the hash and the seed chains: hash64(hash64(s, a), b)
 * tells ("ab", "c") from ("a", "bc").
 */
#ifndef SE_HASH64_H
#define SE_HASH64_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit finalizer (MurmurHash3's fmix64): a bijection. */
uint64_t hash64_mix(uint64_t h);
uint64_t hash64(uint64_t seed, const void *p, size_t n);

#endif
