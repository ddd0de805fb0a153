/* plan.h: `shadoweval plan`, how many items a run needs to detect a gap.
 *
 * Reads a pilot run folder's results.jsonl (through summarize's store, so
 * pairs are exactly pairs.csv's overall rows) and, for each shadow against
 * the routed primary, takes the pilot's observed discordance (the share of
 * items where exactly one of the two passed) as the design's nuisance
 * parameter. It then finds the smallest number of items at which the exact
 * McNemar test detects a gap of --delta points with the given power
 * (stats/power.h), and what a run of that size would cost at the pilot's
 * observed cost per item. Not here: running anything, or changing the pilot.
 *
 * Ownership: plan_compute fills a struct plan the caller frees with
 * plan_free (safe on a zeroed or already freed plan).
 */
#ifndef SE_PLAN_H
#define SE_PLAN_H

#include <stdbool.h>
#include <stdio.h>

#include "core/err.h"

struct plan_opts {
	double delta;	/* the gap to detect, points (0 < delta < 100) */
	double power;	/* default 0.8 */
	double alpha;	/* default 0.05 */
	long max_items; /* the search stops here (default 10,000,000) */
};

struct plan_row {
	char *shadow;
	long n, only_primary, only_shadow; /* the pilot's paired table */
	double psi;			   /* observed discordance, only_* / n */
	double psi_used;		   /* max(psi, delta): a gap needs that much */
	double observed_delta;		   /* shadow - primary, points */
	long needed;			   /* items; 0: more than max_items */
	double achieved;		   /* exact power at `needed` */
	double approx;			   /* Connor's normal approximation */
	double cost_usd;		   /* needed x the pilot's cost per item */
};

struct plan {
	struct plan_opts opts;
	long items;	      /* pilot items */
	double cost_per_item; /* USD, every model's known cost / items; NAN: none known */
	long cost_unknown;    /* pilot lines without a cost */
	struct plan_row *rows;
	size_t nrows;
	long needed;	 /* the largest need over the rows */
	double cost_usd; /* a run of `needed` items */
};

void plan_opts_init(struct plan_opts *o);
int plan_compute(const char *dir, const struct plan_opts *o, struct plan *p, struct se_err *err);
void plan_free(struct plan *p);
void plan_write_text(const struct plan *p, FILE *out);

#endif
