/* flags.h: command-line flag values, parsed and worded the same way by every
 * command of shadoweval and by shadowsim.
 *
 * Each function returns 0, or -1 with err (SE_USAGE) naming the flag as the
 * user typed it. Not here: the option tables themselves (each command owns
 * its getopt_long table, usage text and what each option sets).
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
/* Which ends of flag_parse_in's range are excluded. */
enum { FLAG_CLOSED = 0, FLAG_LO_OPEN = 1, FLAG_HI_OPEN = 2, FLAG_OPEN = 3 };
/* A finite number >= 0 (flag_parse_double's error) within [lo, hi], the ends
 * in `open` excluded; else "expected <what>, got "<s>"". */
int flag_parse_in(const char *flag, const char *s, double lo, double hi, int open, const char *what,
		  double *out, struct se_err *err);
/* The error for what getopt_long returned when it is not an option of the
 * command (optstring starting with ':', opterr = 0): ':' an option missing its
 * value, '?' an unknown option; named as the user typed it, with the closest
 * long option of opts (the command's table) as a "did you mean". Returns -1. */
int flag_bad_option(int c, char **argv, const struct option *opts, struct se_err *err);

/* An option's value must not be empty: `-o ''` would name the current
 * folder, `--cache-dir ''` too, an empty pattern match everything. For what
 * getopt_long returned (c, its longindex or -1, optarg): 0, or -1 with err
 * naming the option. flag_scan applies it to every option. */
int flag_value_given(int c, int longindex, const struct option *opts, const char *arg,
		     struct se_err *err);
/* One option of a command for flag_scan: 0 taken, -1 with err, 1 when c is
 * not one of its options. */
typedef int (*flag_take_fn)(void *ctx, int c, const char *arg, struct se_err *err);
/* The getopt_long loop every command runs, from the first argument after
 * argv[0]: shortopts starts with ':'; 'h' (-h, --help) prints usage on
 * stdout and returns 1; every other option goes to take, and one that is
 * not an option of the command (or lacks its value) is flag_bad_option's
 * error. Returns 0 with optind at the first operand, or -1. */
int flag_scan(int argc, char **argv, const char *shortopts, const struct option *opts,
	      const char *usage, flag_take_fn take, void *ctx, struct se_err *err);

#endif
