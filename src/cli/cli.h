/* cli.h: the subcommands, one cmd_* per file in src/cli/ (cmd_<name>.c).
 *
 * Each takes the arguments after the command name (argv[0] is the command)
 * and returns 0 on success or -1 with err filled; err->kind decides the exit
 * code in main.c (SE_FINDING: 1, SE_INTERRUPT: 130, input/usage/io: 2). A
 * command prints its normal output to stdout and progress to stderr; it never
 * prints its own error and never calls exit(), so results are always flushed.
 * A command parses flags (core/flags.h) and calls its room's library API;
 * only src/cli/ and src/main.c include this header.
 */
#ifndef SE_CLI_H
#define SE_CLI_H

#include "core/err.h"
#include "core/flags.h"
#include "stats/stats.h"

int cmd_run(int argc, char **argv, struct se_err *err);
int cmd_validate(int argc, char **argv, struct se_err *err);
int cmd_route(int argc, char **argv, struct se_err *err);
int cmd_summarize(int argc, char **argv, struct se_err *err);
/* `check DIR --baseline BASE [--max-pass-drop PTS] [--max-cost-increase PCT]
 * [--max-p95-increase PCT] [--alpha A] [--correction C] [--junit FILE]
 * [--markdown FILE]`: 0
 * pass, -1 with SE_FINDING on a regression (the report and files are written
 * first), SE_USAGE / SE_INPUT / SE_IO on bad input. */
int cmd_check(int argc, char **argv, struct se_err *err);
/* `sweep DIR [--target-quality Q] [--budget USD] [--slots a,b,c]
 * [--max-policies N]` */
int cmd_sweep(int argc, char **argv, struct se_err *err);
/* `merge DIR... -o OUT [--quiet]` */
int cmd_merge(int argc, char **argv, struct se_err *err);
/* `report DIR [-o FILE]` */
int cmd_report(int argc, char **argv, struct se_err *err);
int cmd_diff(int argc, char **argv, struct se_err *err); /* src/cli/cmd_diff.c */
int cmd_plan(int argc, char **argv, struct se_err *err);
/* `init [DIR] [--force]`: the starter files (src/starter/) and next commands. */
int cmd_init(int argc, char **argv, struct se_err *err);
/* `cache stats|export|import|merge [--cache-dir DIR] [-o BUNDLE] [BUNDLE...]` */
int cmd_cache(int argc, char **argv, struct se_err *err);

/* --correction holm|bh|none (cmd_summarize.c); the error names the flag. */
int cli_parse_correction(const char *s, enum stats_correction *out, struct se_err *err);

#endif
