/* jsonw.h: writing JSON text into a buf by hand, for hot paths.
 *
 * results.jsonl lines and request bodies are built with these instead of a
 * cJSON tree so that one request costs no allocations beyond its reused
 * buffers. Strings are escaped per RFC 8259; invalid UTF-8 bytes are replaced
 * by U+FFFD so that every line written is valid JSON whatever a server sent.
 * Numbers: non-finite doubles are written as null.
 */
#ifndef SE_JSONW_H
#define SE_JSONW_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

void jsonw_str(struct buf *b, const char *s);		 /* "..." ; NULL writes null */
void jsonw_strn(struct buf *b, const char *s, size_t n); /* "..." of n bytes; NULL: null */
void jsonw_double(struct buf *b, double v);		 /* shortest round-trip, or null */
/* The text jsonw_double writes, into out: integers without a fraction
 * ("2", not "2.0" or "2e+00"), others in the shortest form that reads back to
 * the same double, "null" when not finite. Dataset fields, metadata rules and
 * result lines all render numbers with it, so they compare equal as text. */
void jsonw_number_text(double v, char *out, size_t size);
void jsonw_long(struct buf *b, long long v);
void jsonw_bool(struct buf *b, bool v);
/* `"key":` : the key is written unescaped, so it must be a plain literal. */
void jsonw_key(struct buf *b, const char *key);

/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);
/* Appends s[0..n) to b with every invalid UTF-8 byte replaced by U+FFFD. */
void utf8_repair(const char *s, size_t n, struct buf *b);
/* Number of code points in valid UTF-8 (each invalid byte counts as one). */
size_t utf8_count(const char *s, size_t n);

#endif
