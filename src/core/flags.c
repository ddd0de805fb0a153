/* flags.c: flag value parsing shared by the commands and shadowsim. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/decimal.h"
#include "core/flags.h"
#include "core/suggest.h"

/* An integer as a person types it: an optional sign, then a digit (strtol
 * alone also takes leading spaces). */
static bool integer_start(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return *s >= '0' && *s <= '9';
}

int flag_parse_long(const char *flag, const char *s, long min, long max, long *out,
		    struct se_err *err)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!integer_start(s) || errno || end == s || *end || v < min || v > max) {
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
	double v = 0;
	if (!decimal_parse(s, &v) || v < min)
		return se_fail(err, SE_USAGE, flag, "expected a number >= %g, got \"%s\"", min, s);
	*out = v;
	return 0;
}

int flag_parse_in(const char *flag, const char *s, double lo, double hi, int open, const char *what,
		  double *out, struct se_err *err)
{
	if (flag_parse_double(flag, s, 0, out, err))
		return -1;
	double v = *out;
	bool above = open & FLAG_LO_OPEN ? v > lo : v >= lo;
	bool below = open & FLAG_HI_OPEN ? v < hi : v <= hi;
	if (!above || !below)
		return se_fail(err, SE_USAGE, flag, "expected %s, got \"%s\"", what, s);
	return 0;
}

/* The closest long option of opts to what the user typed ("--lmit=5" ->
 * "limit"), or NULL. */
static const char *closest_long(const char *typed, const struct option *opts)
{
	enum { MAX_OPTS = 64 };
	const char *names[MAX_OPTS];
	size_t n = 0;
	for (; opts && opts[n].name && n < MAX_OPTS; n++)
		names[n] = opts[n].name;
	char word[65];
	size_t len = strcspn(typed, "=");
	if (len >= sizeof(word))
		return NULL;
	memcpy(word, typed, len);
	word[len] = '\0';
	return suggest_closest(word, names, n);
}

int flag_bad_option(int c, char **argv, const struct option *opts, struct se_err *err)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	char shortopt[3] = {'-', (char)optopt, '\0'};
	/* a long option is named as typed; a short one by its letter (argv may
	 * hold a cluster such as -qz) */
	bool is_long = arg && arg[0] == '-' && arg[1] == '-';
	const char *name = is_long ? arg : optopt > 0 && optopt < 256 ? shortopt : arg ? arg : "?";
	if (c == ':')
		return se_fail(err, SE_USAGE, name, "expects a value");
	const char *close = is_long ? closest_long(arg + 2, opts) : NULL;
	if (close)
		return se_fail(err, SE_USAGE, NULL,
			       "unknown option \"%.*s\"; did you mean \"--%s\"?",
			       (int)strcspn(name, "="), name, close);
	return se_fail(err, SE_USAGE, NULL, "unknown option \"%s\"", name);
}

int flag_value_given(int c, int longindex, const struct option *opts, const char *arg,
		     struct se_err *err)
{
	if (c == ':' || c == '?' || !arg || *arg)
		return 0;
	if (longindex >= 0)
		return se_fail(err, SE_USAGE, NULL, "--%s needs a value, got an empty one",
			       opts[longindex].name);
	return se_fail(err, SE_USAGE, NULL, "-%c needs a value, got an empty one", c);
}

int flag_scan(int argc, char **argv, const char *shortopts, const struct option *opts,
	      const char *usage, flag_take_fn take, void *ctx, struct se_err *err)
{
	optind = 0; /* glibc: a full re-scan, whatever ran getopt before */
	opterr = 0;
	int c, li = -1;
	while ((c = getopt_long(argc, argv, shortopts, opts, &li)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (flag_value_given(c, li, opts, optarg, err))
			return -1;
		li = -1;
		int took = c == ':' || c == '?' ? 1 : take(ctx, c, optarg, err);
		if (took > 0)
			return flag_bad_option(c, argv, opts, err);
		if (took < 0)
			return -1;
	}
	return 0;
}
