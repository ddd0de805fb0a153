/* cmd_sweep.c: `shadoweval sweep DIR [--target-quality Q] [--budget USD]
 * [--slots a,b,c] [--max-policies N]`, routing policies simulated offline on
 * a full-matrix run (see sweep/). Parses flags only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/xalloc.h"
#include "sweep/sweep.h"

static const char usage_text[] =
    "usage: shadoweval sweep DIR [--target-quality Q] [--budget USD] [--slots a,b,c]\n"
    "                            [--max-policies N]\n"
    "  simulates routing policies on a full-matrix run (\"shadow\": \"all-slots\"),\n"
    "  writes DIR/sweep.csv and DIR/pareto.csv and prints the recommended routing block\n"
    "  --target-quality Q  the cheapest frontier policy with pass rate >= Q (0..1)\n"
    "  --budget USD        the best frontier policy costing <= USD per 1,000 items\n"
    "  --slots a,b,c       the slots policies may use, in band order (cheapest first)\n"
    "  --max-policies N    per family (complexity, task map); default 5000\n"
    "  without a target or budget: the cheapest frontier policy at least as good as\n"
    "  the current one; exit 1 when no policy qualifies\n";

/* "--flag value" or "--flag=value"; *i advances past what was used. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag, struct se_err *err)
{
	size_t n = strlen(flag);
	if (strncmp(argv[*i], flag, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		se_fail(err, SE_USAGE, flag, "expects a value");
		return NULL;
	}
	return argv[++*i];
}

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

int cmd_sweep(int argc, char **argv, struct se_err *err)
{
	struct sw_opts o;
	sw_opts_init(&o);
	const char *dir = NULL;
	int rc = -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			rc = 0;
			goto out;
		}
		if ((v = flag_value(argc, argv, &i, "--target-quality", err))) {
			if (cli_parse_double("--target-quality", v, 0, &o.target_quality, err))
				goto out;
			if (o.target_quality > 1) {
				se_fail(err, SE_USAGE, "--target-quality",
					"expected a pass rate from 0 to 1, got \"%s\"", v);
				goto out;
			}
		} else if ((v = flag_value(argc, argv, &i, "--budget", err))) {
			if (cli_parse_double("--budget", v, 0, &o.budget_usd, err))
				goto out;
		} else if ((v = flag_value(argc, argv, &i, "--slots", err))) {
			if (o.n_slots) {
				se_fail(err, SE_USAGE, "--slots", "given twice");
				goto out;
			}
			split_slots(v, &o);
			if (o.n_slots == 0) {
				se_fail(err, SE_USAGE, "--slots", "expected slot names, got \"%s\"",
					v);
				goto out;
			}
		} else if ((v = flag_value(argc, argv, &i, "--max-policies", err))) {
			if (cli_parse_long("--max-policies", v, 1, 100000000, &o.max_policies, err))
				goto out;
		} else if (err->kind != SE_OK) {
			goto out; /* a flag without its value */
		} else if (a[0] == '-' && a[1]) {
			se_fail(err, SE_USAGE, NULL, "unknown option \"%s\"", a);
			goto out;
		} else if (dir) {
			se_fail(err, SE_USAGE, NULL,
				"expected one run folder DIR, got \"%s\" and \"%s\"", dir, a);
			goto out;
		} else {
			dir = a;
		}
	}
	if (!dir) {
		se_fail(err, SE_USAGE, NULL, "expected a run folder DIR");
		goto out;
	}
	rc = sw_run_dir(dir, &o, stdout, err);
out:
	free_slots(&o);
	return rc;
}
