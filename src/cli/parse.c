/* parse.c: flag value parsing shared by the subcommands. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "cli/cli.h"

int cli_parse_long(const char *flag, const char *s, long min, long max, long *out,
		   struct se_err *err)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return se_fail(err, SE_USAGE, flag,
			       "expected an integer from %ld to %ld, got \"%s\"", min, max, s);
	*out = v;
	return 0;
}

int cli_parse_double(const char *flag, const char *s, double min, double *out, struct se_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min)
		return se_fail(err, SE_USAGE, flag, "expected a number >= %g, got \"%s\"", min, s);
	*out = v;
	return 0;
}
