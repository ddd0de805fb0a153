/* jsonnul.h: finding NUL characters in the strings of a JSON text.
 *
 * cJSON decodes "\u0000" (and copies a raw NUL byte inside a string) into
 * its NUL-terminated valuestring, so every reader would silently see the
 * text cut at the NUL: an output "#### 4\u0000hidden" would be scored as
 * "#### 4", a prompt or an item id would lose its tail. shadoweval refuses
 * such strings instead, with a located error; every reader of JSON whose
 * strings matter (config, dataset, wire replies, results) asks this one
 * function before it trusts a parsed tree. It does not parse values: it
 * walks the text once, tracking the JSON path, and is meant for text that
 * cJSON has already accepted.
 */
#ifndef SE_JSONNUL_H
#define SE_JSONNUL_H

#include <stdbool.h>
#include <stddef.h>

/* Finds the first string of the JSON text s[0..n), key or value, that holds
 * a NUL character, raw or escaped as \u0000 (or as a \u escape whose four
 * characters are not all hex digits, which cJSON reads as NUL). Returns 1 and writes its path
 * ("checks[1].value", "items[0]", "(root)"; for a key, the path the key
 * names) to path[size], truncated when long; 0 when there is none. */
int jsonnul_find(const char *s, size_t n, char *path, size_t size);

/* Whether s[0..n) may hold such a NUL at all: a raw NUL byte, or a \u
 * escape that decodes to one (which may also be an escaped backslash
 * followed by "u0000": jsonnul_find tells them apart). Almost no text has
 * either: a fast first look (memchr, memmem) for readers with a fast path. */
bool jsonnul_maybe(const char *s, size_t n);

/* The message to give with that path, e.g. se_fail(err, SE_INPUT, where,
 * "%s: %s", path, JSONNUL_MSG). */
#define JSONNUL_MSG                                                                                \
	"contains a NUL character (\\u0000), which would cut the text; NUL is not allowed "        \
	"(a \\u escape without four hex digits reads as one)"

#endif
