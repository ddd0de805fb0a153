/* flags.h: command-line flag values, parsed and worded the same way by every
 * command of shadoweval and by shadowsim.
 *
 * Each function returns 0, or -1 with err (SE_USAGE) naming the flag as the
 * user typed it. Not here: the option tables themselves (each command owns
 * its getopt_long table and usage text).
 */
#ifndef SE_FLAGS_H
#define SE_FLAGS_H

#include <getopt.h>

#include "core/err.h"

/* An integer flag value from min to max; the error names the flag. */
int flag_parse_long(const char *flag, const char *s, long min, long max, long *out,
		    struct se_err *err);
/* A finite number >= min; the error names the flag. */
int flag_parse_double(const char *flag, const char *s, double min, double *out, struct se_err *err);
/* The error for what getopt_long returned when it is not an option of the
 * command (optstring starting with ':', opterr = 0): ':' an option missing its
 * value, '?' an unknown option; named as the user typed it, with the closest
 * long option of opts (the command's table) as a "did you mean". Returns -1. */
int flag_bad_option(int c, char **argv, const struct option *opts, struct se_err *err);

#endif
