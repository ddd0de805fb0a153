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

static int parse_args(int argc, char **argv, struct check_args *a, int *help, struct se_err *err)
{
	static const struct option opts[] = {
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
	memset(a, 0, sizeof(*a));
	gate_opts_init(&a->opts);
	*help = 0;
	optind = 0; /* glibc: a full re-scan, whatever ran getopt before */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			a->baseline = optarg;
			break;
		case 'q':
			if (flag_parse_double("--max-pass-drop", optarg, 0, &a->opts.max_pass_drop,
					      err))
				return -1;
			if (a->opts.max_pass_drop > 100)
				return se_fail(err, SE_USAGE, "--max-pass-drop",
					       "expected points from 0 to 100, got \"%s\"", optarg);
			break;
		case 'c':
			if (flag_parse_double("--max-cost-increase", optarg, 0,
					      &a->opts.max_cost_increase, err))
				return -1;
			break;
		case 'l':
			if (flag_parse_double("--max-p95-increase", optarg, 0,
					      &a->opts.max_p95_increase, err))
				return -1;
			break;
		case 'a':
			if (flag_parse_double("--alpha", optarg, 0, &a->opts.alpha, err))
				return -1;
			if (a->opts.alpha <= 0 || a->opts.alpha >= 1)
				return se_fail(err, SE_USAGE, "--alpha",
					       "expected a level between 0 and 1, got \"%s\"",
					       optarg);
			break;
		case 'C':
			if (cli_parse_correction(optarg, &a->opts.correction, err))
				return -1;
			break;
		case 'w':
			if (flag_parse_double("--min-win-rate", optarg, 0, &a->opts.min_win_rate,
					      err))
				return -1;
			if (a->opts.min_win_rate <= 0 || a->opts.min_win_rate >= 1)
				return se_fail(err, SE_USAGE, "--min-win-rate",
					       "expected a rate between 0 and 1, got \"%s\"",
					       optarg);
			break;
		case 'j':
			a->junit = optarg;
			break;
		case 'm':
			a->markdown = optarg;
			break;
		case 'h':
			*help = 1;
			return 0;
		default:
			return flag_bad_option(c, argv, opts, err);
		}
	}
	if (optind >= argc)
		return se_fail(err, SE_USAGE, NULL, "expected a run folder DIR");
	if (optind + 1 < argc)
		return se_fail(err, SE_USAGE, NULL, "unexpected argument \"%s\"", argv[optind + 1]);
	a->dir = argv[optind];
	if (!a->baseline)
		return se_fail(err, SE_USAGE, NULL,
			       "missing --baseline BASE (the run to compare with)");
	return 0;
}

int cmd_check(int argc, char **argv, struct se_err *err)
{
	struct check_args a;
	int help;
	if (parse_args(argc, argv, &a, &help, err))
		return -1;
	if (help) {
		fputs(check_usage, stdout);
		return 0;
	}
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
