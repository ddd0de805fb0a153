/* wire_int.h: what the two reply parsers of the wire room share: the cJSON
 * path (wire.c) and its fast path (wire_fast.c) turn the same values into
 * the same fields through these, so the two cannot drift apart. Not for use
 * outside src/wire/.
 */
#ifndef SE_WIRE_INT_H
#define SE_WIRE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "wire/wire.h"

/* Copies src[0..n) into dst[size], cut at a UTF-8 character boundary when
 * n >= size (reading src[size - 1] then): a message cut inside a character
 * would be invalid UTF-8 downstream. */
void wire_copy_strn(char *dst, size_t size, const char *src, size_t n);

/* A decimal number in a C string ("0.000003", "2.376e-05"), all of it. */
bool wire_parse_decimal(const char *s, double *out);

/* A usage token count from a JSON number d (pass -1 for a value that is not
 * a number): d itself, or -1 (unknown) when it is not a count (negative,
 * fractional, not finite, over 1e15). */
long wire_count(double d);

/* Records a present, non-null usage.cost into u: ok says whether it was a
 * finite number or a numeric string, v its value; out of range or not ok,
 * it is bad_cost (cost 0) rather than has_cost. */
void wire_set_cost(struct wire_usage *u, bool ok, double v);

#endif
