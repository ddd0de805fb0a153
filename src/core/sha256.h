/* sha256.h: SHA-256 (FIPS 180-4), for run identity and cache keys.
 *
 * Config and dataset hashes in manifest.json and response-cache keys must be
 * stable across machines and versions, so a standard digest is used rather
 * than a fast non-cryptographic hash. Streaming: init, update any number of
 * times, final.
 */
#ifndef SE_SHA256_H
#define SE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
/* Writes 64 lowercase hex digits and a NUL into hex[65]. */
void sha256_final_hex(struct sha256 *s, char hex[65]);
void sha256_hex(const void *p, size_t n, char hex[65]);
/* For tests: true makes every hash use the portable block function even
 * where the CPU has SHA instructions. Returns whether it has them. */
bool sha256_force_portable(bool on);

#endif
