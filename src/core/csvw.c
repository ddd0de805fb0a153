/* csvw.c: CSV cells, quoted and neutralised against formulas; see csvw.h. */
#include "core/csvw.h"

#include <string.h>

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

bool csvw_is_number(const char *s)
{
	size_t i = 0, d = 0;
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (digit(s[i]))
		i++, d++;
	if (s[i] == '.')
		for (i++; digit(s[i]); i++)
			d++;
	if (!d)
		return false;
	if (s[i] == 'e' || s[i] == 'E') {
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (!digit(s[i]))
			return false;
		while (digit(s[i]))
			i++;
	}
	return s[i] == '\0';
}

bool csvw_is_formula(const char *s)
{
	return s && strchr("=+-@\t\r", s[0]) && s[0] && !csvw_is_number(s);
}

void csvw_cell(struct buf *b, const char *s, unsigned flags)
{
	if (!(flags & CSVW_FIRST))
		buf_putc(b, ',');
	if (!s)
		s = "";
	bool neutral = csvw_is_formula(s);
	if (!(flags & CSVW_QUOTE) && !strpbrk(s, ",\"\r\n")) {
		if (neutral)
			buf_putc(b, '\'');
		buf_puts(b, s);
		return;
	}
	/* RFC 4180: quoted, each quote doubled (what libcsv's csv_fwrite does) */
	buf_putc(b, '"');
	if (neutral)
		buf_putc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_putc(b, '"');
		buf_putc(b, *p);
	}
	buf_putc(b, '"');
}

void csvw_fcell(FILE *fp, const char *s, unsigned flags)
{
	struct buf b;
	buf_init(&b);
	csvw_cell(&b, s, flags);
	fwrite(b.data, 1, b.len, fp);
	buf_free(&b);
}
