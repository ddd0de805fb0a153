/* sha256_x86.h: SHA-256's block function on the x86 SHA extensions (SHA-NI),
 * for sha256.c only. Where the CPU (or the compiler) has none, available()
 * is false and sha256.c keeps its portable block function. */
#ifndef SE_SHA256_X86_H
#define SE_SHA256_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The round constants (FIPS 180-4, 4.2.2), defined in sha256.c. */
extern const uint32_t sha256_k[64];

/* Whether sha256_x86_blocks may be called on this CPU (checked once). */
bool sha256_x86_available(void);
/* Runs the compression function over n 64-byte blocks at p. */
void sha256_x86_blocks(uint32_t h[8], const unsigned char *p, size_t n);

#endif
