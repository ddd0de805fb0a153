/* cmd_check.c: `shadoweval check DIR --baseline BASE [tolerances] [--junit FILE]
 * [--markdown FILE]`, the regression gate's command line: flags, then
 * gate_compare, the report on stdout, the files, and the exit status (0 pass,
 * SE_FINDING on a regression, SE_USAGE / SE_INPUT / SE_IO on bad input).
 * The comparison and its rules are in gate/gate.c; the formats in
 * gate/gate_out.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/outpath.h"
#include "gate/gate.h"

static const char check_usage[] =
    "usage: shadoweval check DIR --baseline BASE [options]\n"
    "  the regression gate: compares run DIR with run BASE on the items in both\n"
    "  exit 0 pass, 1 regression, 2 bad input\n"
    "  --baseline BASE            the baseline run folder (required)\n"
    "  --max-pass-drop PTS        tolerated pass-rate drop, points (default 0)\n"
    "  --max-cost-increase PCT    tolerated rise of cost per 1,000 items, % (default 10)\n"
    "  --max-p95-increase PCT     tolerated rise of latency p95, % (default 25)\n"
    "  --alpha A                  significance level of the McNemar test (default 0.05)\n"
    "  --correction C             holm (default) | bh | none: the per-model p_adjusted\n"
    "  --min-win-rate R           fail when a shadow's judged pairwise win rate is\n"
    "                             below R (0..1) beyond its 95% interval (default: off)\n"
    "  --junit FILE               also write a JUnit XML report (default: none)\n"
    "  --markdown FILE            also write a markdown report, for a PR comment\n"
    "                             (default: none)\n"
    "  a pass-rate drop fails when it is beyond the tolerance and significant,\n"
    "  or beyond max(tolerance, 10) points whatever the sample size\n"
    "example:\n"
    "  shadoweval check runs/pr --baseline runs/main --junit gate.xml\n";

struct check_args {
	const char *dir, *baseline, *junit, *markdown;
	struct gate_opts opts;
};

static const struct option check_opts[] = {
    {"baseline", required_argument, NULL, 'b'},
    {"max-pass-drop", required_argument, NULL, 'q'},
    {"max-cost-increase", required_argument, NULL, 'c'},
    {"max-p95-increase", required_argument, NULL, 'l'},
    {"alpha", required_argument, NULL, 'a'},
    {"correction", required_argument, NULL, 'C'},
    {"min-win-rate", required_argument, NULL, 'w'},
    {"junit", required_argument, NULL, 'j'},
    {"markdown", required_argument, NULL, 'm'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int take_check_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct check_args *a = ctx;
	switch (c) {
	case 'b':
		a->baseline = arg;
		return 0;
	case 'q':
		return flag_parse_in("--max-pass-drop", arg, 0, 100, FLAG_CLOSED,
				     "points from 0 to 100", &a->opts.max_pass_drop, err);
	case 'c':
		return flag_parse_double("--max-cost-increase", arg, 0, &a->opts.max_cost_increase,
					 err);
	case 'l':
		return flag_parse_double("--max-p95-increase", arg, 0, &a->opts.max_p95_increase,
					 err);
	case 'a':
		return flag_parse_in("--alpha", arg, 0, 1, FLAG_OPEN, "a level between 0 and 1",
				     &a->opts.alpha, err);
	case 'C':
		return cli_parse_correction(arg, &a->opts.correction, err);
	case 'w':
		return flag_parse_in("--min-win-rate", arg, 0, 1, FLAG_OPEN,
				     "a rate between 0 and 1", &a->opts.min_win_rate, err);
	case 'j':
		a->junit = arg;
		return 0;
	case 'm':
		a->markdown = arg;
		return 0;
	}
	return 1;
}

/* Returns 1 when --help was printed, 0 to go on, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct check_args *a, struct se_err *err)
{
	memset(a, 0, sizeof(*a));
	gate_opts_init(&a->opts);
	int rc = flag_scan(argc, argv, ":h", check_opts, check_usage, take_check_flag, a, err);
	if (rc)
		return rc;
	if (optind >= argc)
		return se_fail(err, SE_USAGE, NULL, "expected a run folder DIR");
	if (optind + 1 < argc)
		return se_fail(err, SE_USAGE, NULL, "unexpected argument \"%s\"", argv[optind + 1]);
	a->dir = argv[optind];
	if (!a->baseline)
		return se_fail(err, SE_USAGE, NULL,
			       "missing --baseline BASE (the run to compare with)");
	if (a->junit && a->markdown && !strcmp(a->junit, a->markdown))
		return se_fail(err, SE_USAGE, "--markdown",
			       "names the same file as --junit; write elsewhere");
	if ((a->junit && out_path_check("--junit", a->junit, NULL, 0, err)) ||
	    (a->markdown && out_path_check("--markdown", a->markdown, NULL, 0, err)))
		return -1;
	return 0;
}

int cmd_check(int argc, char **argv, struct se_err *err)
{
	struct check_args a;
	int p = parse_args(argc, argv, &a, err);
	if (p)
		return p > 0 ? 0 : -1;
	struct gate_report r;
	if (gate_compare(a.dir, a.baseline, &a.opts, &r, err))
		return -1;
	gate_write_text(&r, stdout);
	int rc = 0;
	if (fflush(stdout) != 0)
		rc = se_fail_errno(err, "stdout", "write failed");
	if (!rc && a.junit && gate_write_junit(&r, a.junit, err))
		rc = -1;
	if (!rc && a.markdown && gate_write_markdown(&r, a.markdown, err))
		rc = -1;
	if (!rc && r.failures) {
		char names[128] = "";
		for (int i = 0; i < gate_nchecks(&r); i++) {
			if (r.checks[i].verdict != GATE_FAIL)
				continue;
			size_t len = strlen(names);
			snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "",
				 r.checks[i].name);
		}
		rc = se_fail(err, SE_FINDING, a.dir, "regression against baseline \"%s\": %s",
			     a.baseline, names);
	}
	gate_report_free(&r);
	return rc;
}
