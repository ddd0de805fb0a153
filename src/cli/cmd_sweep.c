/* cmd_sweep.c: `shadoweval sweep DIR [--target-quality Q] [--budget USD]
 * [--slots a,b,c] [--max-policies N]`, routing policies simulated offline on
 * a full-matrix run (see sweep/). Parses flags only. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runlock.h"
#include "core/xalloc.h"
#include "sweep/sweep.h"

static const char usage_text[] =
    "usage: shadoweval sweep DIR [--target-quality Q] [--budget USD] [--slots a,b,c]\n"
    "                            [--max-policies N] [--holdout F] [--folds K]\n"
    "  simulates routing policies on a full-matrix run (\"shadow\": \"all-slots\"),\n"
    "  writes DIR/sweep.csv, DIR/pareto.csv and DIR/recommended.json and prints the\n"
    "  recommended routing block\n"
    "  --target-quality Q  the cheapest frontier policy with pass rate >= Q (0..1;\n"
    "                      default: none)\n"
    "  --budget USD        the best frontier policy costing <= USD per 1,000 items\n"
    "                      (default: none)\n"
    "  --slots a,b,c       the slots policies may use, in band order (cheapest first;\n"
    "                      default: every slot)\n"
    "  --max-policies N    per family (complexity, task map) (default 5000)\n"
    "  --holdout F         choose on the other items, report the choice on a share F\n"
    "                      of them, split by a hash of the item id (default: none)\n"
    "  --folds K           K-fold cross-validated pass rate and cost of the choice\n"
    "                      (default: none)\n"
    "  without a target or budget: the cheapest frontier policy at least as good as\n"
    "  the current one; exit 1 when no policy qualifies\n"
    "example:\n"
    "  shadoweval sweep runs/matrix --target-quality 0.9\n";

static void split_slots(const char *v, struct sw_opts *o)
{
	char *copy = xstrdup(v), *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		o->slots = xrealloc(o->slots, (o->n_slots + 1) * sizeof(*o->slots));
		o->slots[o->n_slots++] = xstrdup(t);
	}
	free(copy);
}

static void free_slots(struct sw_opts *o)
{
	for (size_t i = 0; i < o->n_slots; i++)
		free(o->slots[i]);
	free(o->slots);
	o->slots = NULL;
	o->n_slots = 0;
}

static const struct option sweep_opts[] = {
    {"target-quality", required_argument, NULL, 't'},
    {"budget", required_argument, NULL, 'b'},
    {"slots", required_argument, NULL, 's'},
    {"max-policies", required_argument, NULL, 'm'},
    {"holdout", required_argument, NULL, 'H'},
    {"folds", required_argument, NULL, 'F'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One flag of the table into o: 0, 1 when c is none of them, -1 with err. */
static int take_sweep_flag(void *ctx, int c, const char *arg, struct se_err *err)
{
	struct sw_opts *o = ctx;
	switch (c) {
	case 't':
		return flag_parse_in("--target-quality", arg, 0, 1, FLAG_CLOSED,
				     "a pass rate from 0 to 1", &o->target_quality, err);
	case 'b':
		return flag_parse_double("--budget", arg, 0, &o->budget_usd, err);
	case 's':
		if (o->n_slots)
			return se_fail(err, SE_USAGE, "--slots", "given twice");
		split_slots(arg, o);
		if (o->n_slots == 0)
			return se_fail(err, SE_USAGE, "--slots", "expected slot names, got \"%s\"",
				       arg);
		return 0;
	case 'm':
		return flag_parse_long("--max-policies", arg, 1, 100000000, &o->max_policies, err);
	case 'H':
		return flag_parse_in("--holdout", arg, 0, 1, FLAG_OPEN, "a share between 0 and 1",
				     &o->holdout, err);
	case 'F':
		return flag_parse_long("--folds", arg, 2, 1000, &o->folds, err);
	}
	return 1;
}

int cmd_sweep(int argc, char **argv, struct se_err *err)
{
	struct sw_opts o;
	sw_opts_init(&o);
	const char *dir = NULL;
	int rc = flag_scan(argc, argv, ":h", sweep_opts, usage_text, take_sweep_flag, &o, err);
	if (rc) {
		rc = rc > 0 ? 0 : -1;
		goto out;
	}
	rc = -1;
	if (optind < argc)
		dir = argv[optind];
	if (optind + 1 < argc) {
		se_fail(err, SE_USAGE, NULL, "expected one run folder DIR, got \"%s\" and \"%s\"",
			dir, argv[optind + 1]);
		goto out;
	}
	if (!dir) {
		se_fail(err, SE_USAGE, NULL, "expected a run folder DIR");
		goto out;
	}
	int lock;
	if (run_lock_existing(dir, "sweep", &lock, err))
		goto out;
	rc = sw_run_dir(dir, &o, stdout, err);
	run_lock_release(lock);
out:
	free_slots(&o);
	return rc;
}
