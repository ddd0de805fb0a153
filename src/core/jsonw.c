/* jsonw.c: JSON text writer and UTF-8 helpers; see jsonw.h. */
#include "core/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned min;
	unsigned cp;
	if ((c & 0xE0) == 0xC0) {
		len = 2, min = 0x80, cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, min = 0x800, cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t k = utf8_seq(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Appends the UTF-8 sequence at p (n bytes left), or U+FFFD for an invalid
 * byte; returns the bytes consumed. */
static size_t put_utf8_seq(struct buf *b, const unsigned char *p, size_t n)
{
	size_t k = utf8_seq(p, n);
	if (!k) {
		buf_puts(b, "\xEF\xBF\xBD");
		return 1;
	}
	buf_append(b, p, k);
	return k;
}

void utf8_repair(const char *s, size_t n, struct buf *b)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;)
		i += put_utf8_seq(b, p + i, n - i);
}

size_t utf8_count(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, count = 0;
	while (i < n) {
		size_t k = utf8_seq(p + i, n - i);
		i += k ? k : 1;
		count++;
	}
	return count;
}

/* RFC 8259's two-character escapes; other bytes below 0x20 are \u00XX. */
static const char *const short_escape[0x80] = {
    ['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
    ['\t'] = "\\t", ['\b'] = "\\b",  ['\f'] = "\\f",
};

void jsonw_strn(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) {
		buf_puts(b, "null");
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	buf_reserve(b, n + 2);
	buf_putc(b, '"');
	size_t i = 0, run = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run++;
			i++;
			continue;
		}
		if (run) {
			buf_append(b, p + i - run, run);
			run = 0;
		}
		if (c >= 0x80) {
			i += put_utf8_seq(b, p + i, n - i);
			continue;
		}
		if (short_escape[c]) {
			buf_puts(b, short_escape[c]);
		} else {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_append(b, esc, 6);
		}
		i++;
	}
	if (run)
		buf_append(b, p + n - run, run);
	buf_putc(b, '"');
}

void jsonw_str(struct buf *b, const char *s)
{
	if (!s)
		buf_puts(b, "null");
	else
		jsonw_strn(b, s, strlen(s));
}

void jsonw_number_text(double v, char *out, size_t size)
{
	if (!isfinite(v)) {
		snprintf(out, size, "null");
	} else if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, size, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
	} else {
		snprintf(out, size, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, size, "%.17g", v);
	}
}

void jsonw_double(struct buf *b, double v)
{
	char tmp[40];
	jsonw_number_text(v, tmp, sizeof(tmp));
	buf_puts(b, tmp);
}

void jsonw_long(struct buf *b, long long v)
{
	buf_printf(b, "%lld", v);
}

void jsonw_bool(struct buf *b, bool v)
{
	buf_puts(b, v ? "true" : "false");
}

void jsonw_key(struct buf *b, const char *key)
{
	buf_putc(b, '"');
	buf_puts(b, key);
	buf_puts(b, "\":");
}
