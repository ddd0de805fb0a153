/* cli.h: the subcommands, one cmd_* per file in src/cli/.
 *
 * Each takes the arguments after the command name (argv[0] is the command)
 * and returns 0 on success or -1 with err filled; err->kind decides the exit
 * code in main.c (SE_FINDING: 1, SE_INTERRUPT: 130, input/usage/io: 2). A
 * command prints its normal output to stdout and progress to stderr; it never
 * prints its own error and never calls exit(), so results are always flushed.
 */
#ifndef SE_CLI_H
#define SE_CLI_H

#include "core/err.h"

int cmd_run(int argc, char **argv, struct se_err *err);
int cmd_validate(int argc, char **argv, struct se_err *err);
int cmd_route(int argc, char **argv, struct se_err *err);
int cmd_summarize(int argc, char **argv, struct se_err *err);
int cmd_check(int argc, char **argv, struct se_err *err); /* src/gate/ */
int cmd_sweep(int argc, char **argv, struct se_err *err);
int cmd_merge(int argc, char **argv, struct se_err *err);
int cmd_report(int argc, char **argv, struct se_err *err);

/* Parses a non-negative integer flag value; error names the flag. */
int cli_parse_long(const char *flag, const char *s, long min, long max, long *out,
		   struct se_err *err);
int cli_parse_double(const char *flag, const char *s, double min, double *out, struct se_err *err);
/* The error for what getopt_long returned when it is not an option of the
 * command (optstring starting with ':', opterr = 0): ':' an option missing its
 * value, '?' an unknown option; named as the user typed it. Returns -1. */
int cli_bad_option(int c, char **argv, struct se_err *err);

#define SE_VERSION "0.1.0"

#endif
