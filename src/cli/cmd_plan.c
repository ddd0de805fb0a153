/* cmd_plan.c: `shadoweval plan DIR --delta PTS [--power P] [--alpha A]`,
 * the items a run needs to detect a gap, from a pilot run (see plan/). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "plan/plan.h"

static const char plan_usage[] =
    "usage: shadoweval plan DIR --delta PTS [--power P] [--alpha A]\n"
    "  from the pilot run in DIR: per shadow, the items needed for the exact\n"
    "  McNemar test to detect a pass-rate gap of PTS points from the primary,\n"
    "  using the pilot's discordance, and what such a run would cost\n"
    "  --delta PTS   the gap to detect, in points (0 < PTS < 100; required)\n"
    "  --power P     the chance of detecting it (default 0.8)\n"
    "  --alpha A     two-sided significance level (default 0.05)\n"
    "example:\n"
    "  shadoweval plan runs/pilot --delta 5\n";

int cmd_plan(int argc, char **argv, struct se_err *err)
{
	static const struct option opts[] = {
	    {"delta", required_argument, NULL, 'd'},
	    {"power", required_argument, NULL, 'p'},
	    {"alpha", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct plan_opts o;
	plan_opts_init(&o);
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (flag_parse_double("--delta", optarg, 0, &o.delta, err))
				return -1;
			if (!(o.delta > 0 && o.delta < 100))
				return se_fail(err, SE_USAGE, "--delta",
					       "expected points between 0 and 100, got \"%s\"",
					       optarg);
			break;
		case 'p':
			if (flag_parse_double("--power", optarg, 0, &o.power, err))
				return -1;
			if (!(o.power > 0 && o.power < 1))
				return se_fail(err, SE_USAGE, "--power",
					       "expected a probability between 0 and 1, got \"%s\"",
					       optarg);
			break;
		case 'a':
			if (flag_parse_double("--alpha", optarg, 0, &o.alpha, err))
				return -1;
			if (!(o.alpha > 0 && o.alpha < 1))
				return se_fail(err, SE_USAGE, "--alpha",
					       "expected a level between 0 and 1, got \"%s\"",
					       optarg);
			break;
		case 'h':
			fputs(plan_usage, stdout);
			return 0;
		default:
			return flag_bad_option(c, argv, opts, err);
		}
	}
	if (optind + 1 != argc)
		return se_fail(err, SE_USAGE, NULL, "expected one pilot run folder DIR");
	if (isnan(o.delta))
		return se_fail(err, SE_USAGE, "--delta", "is required (the gap to detect, points)");
	struct plan p;
	if (plan_compute(argv[optind], &o, &p, err))
		return -1;
	plan_write_text(&p, stdout);
	plan_free(&p);
	return 0;
}
