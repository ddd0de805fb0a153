/* flags.c: flag value parsing shared by the commands and shadowsim. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>

#include "core/flags.h"

int flag_parse_long(const char *flag, const char *s, long min, long max, long *out,
		    struct se_err *err)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		if (max >= (1L << 40)) /* no useful upper bound to show */
			return se_fail(err, SE_USAGE, flag,
				       "expected a whole number >= %ld, got \"%s\"", min, s);
		return se_fail(err, SE_USAGE, flag,
			       "expected an integer from %ld to %ld, got \"%s\"", min, max, s);
	}
	*out = v;
	return 0;
}

int flag_parse_double(const char *flag, const char *s, double min, double *out, struct se_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min)
		return se_fail(err, SE_USAGE, flag, "expected a number >= %g, got \"%s\"", min, s);
	*out = v;
	return 0;
}

int flag_bad_option(int c, char **argv, struct se_err *err)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	char shortopt[3] = {'-', (char)optopt, '\0'};
	/* a long option is named as typed; a short one by its letter (argv may
	 * hold a cluster such as -qz) */
	const char *name = arg && arg[0] == '-' && arg[1] == '-' ? arg
			   : optopt > 0 && optopt < 256		 ? shortopt
			   : arg				 ? arg
								 : "?";
	if (c == ':')
		return se_fail(err, SE_USAGE, name, "expects a value");
	return se_fail(err, SE_USAGE, NULL, "unknown option \"%s\"", name);
}
