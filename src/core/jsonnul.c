/* jsonnul.c: NUL characters in JSON strings; see jsonnul.h. */
#include "core/jsonnul.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

/* cJSON refuses deeper nesting (CJSON_NESTING_LIMIT is 1000); past this the
 * path is cut to the outer levels, the search still goes on. */
#define JSONNUL_DEPTH 1024

struct level {
	bool array;
	size_t base;  /* path length before this level's own segment */
	size_t index; /* array: the current element */
};

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether the four characters after a \u at s[i] decode to NUL in cJSON:
 * "0000", or anything that is not four hex digits (cJSON 1.7.15's
 * parse_hex4 returns 0 for a non-hex digit instead of failing, so
 * "4\uZZZZhidden" would be read as "4"). Fewer than four characters left:
 * cJSON refuses the text itself. */
static bool hex4_nul(const char *s, size_t n, size_t i)
{
	if (i + 4 > n)
		return false;
	bool zero = true;
	for (size_t k = i; k < i + 4; k++) {
		if (!is_hex(s[k]))
			return true;
		zero = zero && s[k] == '0';
	}
	return zero;
}

/* Scans the string whose opening quote is at s[i]; returns the index just
 * after its closing quote (or n), and whether it holds a NUL. */
static size_t scan_string(const char *s, size_t n, size_t i, bool *nul)
{
	*nul = false;
	for (i++; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\0')
			*nul = true;
		if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'u' && hex4_nul(s, n, i + 2))
				*nul = true;
			i++;
		}
	}
	return n;
}

/* The key as written in the JSON text, a raw control byte (a NUL among
 * them) spelled \u00XX so that the path stays one printable string. */
static void put_key(struct buf *p, const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)k[i] < 0x20)
			buf_printf(p, "\\u%04x", (unsigned char)k[i]);
		else
			buf_putc(p, k[i]);
	}
}

static void put_index(struct buf *p, size_t index)
{
	buf_printf(p, "[%zu]", index);
}

bool jsonnul_maybe(const char *s, size_t n)
{
	if (memchr(s, '\0', n))
		return true;
	/* memchr, not memmem: glibc's memmem walks a two-byte needle a byte at
	 * a time (0.35 us a results line); a line holds few backslashes (a
	 * "\n" in an output). A backslash that is itself escaped may be taken
	 * for the start of an escape here: jsonnul_find tells them apart. */
	const char *end = s + n;
	for (const char *p = s; (p = memchr(p, '\\', (size_t)(end - p))) && p + 1 < end; p += 2)
		if (p[1] == 'u' && hex4_nul(s, n, (size_t)(p - s) + 2))
			return true;
	return false;
}

int jsonnul_find(const char *s, size_t n, char *path, size_t size)
{
	if (!jsonnul_maybe(s, n))
		return 0;
	struct level st[JSONNUL_DEPTH];
	size_t depth = 0, skipped = 0; /* levels past JSONNUL_DEPTH */
	bool want_key = false;
	struct buf p;
	int found = 0;
	buf_init(&p);
	for (size_t i = 0; i < n && !found;) {
		char c = s[i];
		if (c == '"') {
			bool nul;
			size_t end = scan_string(s, n, i, &nul);
			if (want_key && depth && !skipped) {
				/* the key names the member's path */
				struct level *l = &st[depth - 1];
				p.len = l->base;
				if (p.len)
					buf_putc(&p, '.');
				else
					buf_reset(&p);
				size_t klen = end - i >= 2 ? end - i - 2 : 0;
				put_key(&p, s + i + 1, klen > 200 ? 200 : klen);
			}
			if (nul)
				found = 1;
			i = end;
			continue;
		}
		if (c == '\0') {
			found = 1; /* a raw NUL outside a string: cJSON stops reading there */
			break;
		}
		if (c == '{' || c == '[') {
			if (depth == JSONNUL_DEPTH) {
				skipped++;
			} else {
				struct level *l = &st[depth++];
				l->array = c == '[';
				l->base = p.len;
				l->index = 0;
				if (l->array)
					put_index(&p, 0);
			}
			want_key = c == '{';
		} else if (c == '}' || c == ']') {
			if (skipped) {
				skipped--;
			} else if (depth) {
				depth--;
				p.len = st[depth].base;
				if (p.cap)
					p.data[p.len] = '\0';
			}
			want_key = false;
		} else if (c == ',' && depth && !skipped) {
			struct level *l = &st[depth - 1];
			if (l->array) {
				p.len = l->base;
				put_index(&p, ++l->index);
			}
			want_key = !l->array;
		} else if (c == ':') {
			want_key = false;
		}
		i++;
	}
	if (found && size) {
		const char *text = p.len ? p.data : "(root)";
		size_t len = p.len ? p.len : strlen(text);
		if (len >= size)
			len = size - 1;
		memcpy(path, text, len);
		path[len] = '\0';
	}
	buf_free(&p);
	return found;
}
