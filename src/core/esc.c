/* esc.c: HTML and markdown escaping; see esc.h. */
#include "core/esc.h"

#include <stdbool.h>
#include <string.h>

/* The entity of an HTML-special byte, or NULL. */
static const char *entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

static bool is_control(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

void esc_html(struct buf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		const char *e = entity(s[i]);
		if (!e)
			continue;
		buf_append(b, s + run, i - run);
		buf_puts(b, e);
		run = i + 1;
	}
	buf_append(b, s + run, n - run);
}

void esc_html_pre(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		const char *e = entity(c);
		if (e)
			buf_puts(b, e);
		else if (c == '\n')
			buf_puts(b, "&#10;");
		else if (c == '\r')
			continue;
		else if (is_control(c))
			buf_printf(b, "&#%d;", 0x2400 + (c == 0x7f ? 0x21 : c)); /* pictures */
		else
			buf_putc(b, c);
	}
}

/* Markdown text: & < > (and " when quote) as entities, control bytes as a
 * space, the characters of punct with a backslash. */
static void md_escape(struct buf *b, const char *s, size_t n, const char *punct, bool quote)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		const char *e = c == '\'' || (c == '"' && !quote) ? NULL : entity(c);
		if (e) {
			buf_puts(b, e);
		} else if (is_control(c)) {
			buf_putc(b, ' ');
		} else if (strchr(punct, c)) {
			buf_putc(b, '\\');
			buf_putc(b, c);
		} else {
			buf_putc(b, c);
		}
	}
}

void esc_md_inline(struct buf *b, const char *s, size_t n)
{
	md_escape(b, s, n, "\\`*_{}[]()#+!|~", true);
}

void esc_md_cell(struct buf *b, const char *s, size_t n)
{
	md_escape(b, s, n, "\\`*_[]|", false);
}

void esc_term(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
}

const char *esc_term_str(const char *s, int slot)
{
	static struct buf out[4];
	struct buf *b = &out[slot & 3];
	buf_reset(b);
	esc_term(b, s, strlen(s));
	buf_putc(b, '\0');
	return b->data;
}
