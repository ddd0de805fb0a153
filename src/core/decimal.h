/* decimal.h: a number as a person or a JSON document writes it, read
 * strictly, for every place that turns text into a number: flag values,
 * LiteLLM's cost header, a judge's score, numbers sent as strings.
 *
 * strtod alone also reads leading spaces, hexadecimal ("0x10" is 16),
 * "inf", "nan" and "infinity": none of them is a decimal number, and each
 * has turned a malformed value into a plausible one. Accepted: an optional
 * sign, digits with an optional point (or a point and digits), and an
 * optional exponent; the whole text, finite.
 */
#ifndef SE_DECIMAL_H
#define SE_DECIMAL_H

#include <stdbool.h>

/* The decimal number s (NUL-terminated) into *out; false for anything else
 * (then *out is untouched). */
bool decimal_parse(const char *s, double *out);

#endif
