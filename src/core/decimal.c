/* decimal.c: strict decimal numbers; see decimal.h. */
#include "core/decimal.h"

#include <math.h>
#include <stdlib.h>

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

bool decimal_parse(const char *s, double *out)
{
	if (!s)
		return false;
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	bool digits = false;
	while (digit(*p))
		p++, digits = true;
	if (*p == '.') {
		p++;
		while (digit(*p))
			p++, digits = true;
	}
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!digit(*p))
			return false;
		while (digit(*p))
			p++;
	}
	if (*p)
		return false;
	double v = strtod(s, NULL);
	if (!isfinite(v))
		return false;
	*out = v;
	return true;
}
