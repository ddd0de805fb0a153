/* sweep.h: offline routing-policy simulation on a full-matrix run.
 *
 * `shadoweval sweep DIR` reads DIR/manifest.json (the slot -> model map) and
 * DIR/results.jsonl of a run made with "shadow": "all-slots" (every item has
 * an answer from every slot's model), replays many routing policies on those
 * answers without sending a request, and writes DIR/sweep.csv (one row per
 * policy) and DIR/pareto.csv (the cost-quality frontier), then prints a short
 * table and the recommended `routing` block. The decisions (which policies,
 * how figures are computed, how the recommendation is chosen) are listed at
 * the top of sweep.c.
 *
 * Not here: running anything, reading the dataset, or changing a config.
 */
#ifndef SE_SWEEP_H
#define SE_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

struct sw_opts {
	double target_quality; /* pass rate 0..1 to reach; NAN: none */
	double budget_usd;     /* USD per 1,000 items not to exceed; NAN: none */
	char **slots;	       /* slots policies may use, cheapest first; NULL: all */
	size_t n_slots;
	long max_policies; /* per family (complexity, task map); default 5000 */
	double holdout;	   /* share of items held out to report on; 0: off */
	long folds;	   /* cross-validation folds; 0: off */
};

void sw_opts_init(struct sw_opts *o);

/* Simulates, writes dir/sweep.csv and dir/pareto.csv and prints the table
 * and recommendation to out (when not NULL). Returns 0, or -1 with err:
 * SE_INPUT (missing or bad manifest or results, not a full-matrix run),
 * SE_USAGE (an unknown slot in o->slots), SE_IO, or SE_FINDING when no
 * policy meets --target-quality / --budget (the CSVs are written first). */
int sw_run_dir(const char *dir, const struct sw_opts *o, FILE *out, struct se_err *err);

#endif
