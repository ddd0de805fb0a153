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

static const struct option plan_opts[] = {
    {"delta", required_argument, NULL, 'd'},
    {"power", required_argument, NULL, 'p'},
    {"alpha", required_argument, NULL, 'a'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int take_plan_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct plan_opts *o = ctx;
	switch (c) {
	case 'd':
		return flag_parse_in("--delta", arg, 0, 100, FLAG_OPEN, "points between 0 and 100",
				     &o->delta, err);
	case 'p':
		return flag_parse_in("--power", arg, 0, 1, FLAG_OPEN,
				     "a probability between 0 and 1", &o->power, err);
	case 'a':
		return flag_parse_in("--alpha", arg, 0, 1, FLAG_OPEN, "a level between 0 and 1",
				     &o->alpha, err);
	}
	return 1;
}

int cmd_plan(int argc, char **argv, struct se_err *err)
{
	struct plan_opts o;
	plan_opts_init(&o);
	int rc = flag_scan(argc, argv, ":h", plan_opts, plan_usage, take_plan_flag, &o, err);
	if (rc)
		return rc > 0 ? 0 : -1;
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
