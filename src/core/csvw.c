/* csvw.c: CSV cells, quoted and neutralised against formulas; see csvw.h. */
#include "core/csvw.h"

#include <string.h>

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* s[i], or NUL past the end. */
static char at(const char *s, size_t n, size_t i)
{
	return i < n ? s[i] : '\0';
}

/* Whether s[0..n) is a number (see csvw_is_number); a NUL inside is not. */
static bool is_number_n(const char *s, size_t n)
{
	size_t i = 0, d = 0;
	if (at(s, n, i) == '+' || at(s, n, i) == '-')
		i++;
	while (digit(at(s, n, i)))
		i++, d++;
	if (at(s, n, i) == '.')
		for (i++; digit(at(s, n, i)); i++)
			d++;
	if (!d)
		return false;
	if (at(s, n, i) == 'e' || at(s, n, i) == 'E') {
		i++;
		if (at(s, n, i) == '+' || at(s, n, i) == '-')
			i++;
		if (!digit(at(s, n, i)))
			return false;
		while (digit(at(s, n, i)))
			i++;
	}
	return i == n;
}

bool csvw_is_number(const char *s)
{
	return is_number_n(s, strlen(s));
}

static bool is_formula_n(const char *s, size_t n)
{
	return n && s[0] && strchr("=+-@\t\r", s[0]) && !is_number_n(s, n);
}

bool csvw_is_formula(const char *s)
{
	return s && is_formula_n(s, strlen(s));
}

void csvw_celln(struct buf *b, const char *s, size_t n, unsigned flags)
{
	if (!(flags & CSVW_FIRST))
		buf_putc(b, ',');
	if (!s)
		n = 0;
	bool neutral = is_formula_n(s, n), quote = flags & CSVW_QUOTE;
	for (size_t i = 0; i < n && !quote; i++)
		quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
	if (!quote) {
		if (neutral)
			buf_putc(b, '\'');
		buf_append(b, s, n);
		return;
	}
	/* RFC 4180: quoted, each quote doubled (what libcsv's csv_fwrite does) */
	buf_putc(b, '"');
	if (neutral)
		buf_putc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_putc(b, '"');
		buf_putc(b, s[i]);
	}
	buf_putc(b, '"');
}

void csvw_cell(struct buf *b, const char *s, unsigned flags)
{
	csvw_celln(b, s, s ? strlen(s) : 0, flags);
}

void csvw_fcell(FILE *fp, const char *s, unsigned flags)
{
	struct buf b;
	buf_init(&b);
	csvw_cell(&b, s, flags);
	fwrite(b.data, 1, b.len, fp);
	buf_free(&b);
}
