/* sum_tables.c: models.csv, tasks.csv, slots.csv, pairs.csv and swaps.csv.
 *
 * Each table is one walk over the items in canonical order (sum_store.c), so
 * sums come out bit-identical whatever the line order of results.jsonl. It
 * does not read files or parse anything.
 *
 * Decisions (README "summaries"):
 * - a model's answer to an item is its primary line, else its shadow line,
 *   else its fallback line: models.csv and tasks.csv count one answer per
 *   (item, model), so a model that was both a shadow and a fallback on an
 *   item is not counted twice;
 * - the policy result of an item is what production would have served: the
 *   primary's line when it is ok, else an ok fallback line when there is one
 *   (the first by model name if several), else the failed primary line. Its
 *   latency and cost are that line's own (the failed primary's time and cost
 *   are not added: they are in models.csv);
 * - slots.csv: per slot (the slot the policy chose, from results.jsonl), the
 *   items routed to it, their share, how many a fallback served, and the
 *   figures of the slot's primary lines; a `policy` row gives the figures of
 *   the policy results over all items;
 * - pairs.csv compares, on the same items, the primary line (role primary)
 *   with each shadow model's line: scope `overall` (primary "policy":
 *   whichever model each item was routed to), `slot` (the slot's model on
 *   the items routed to it) and `task`. delta = shadow - primary. Fallbacks
 *   are left out on both sides: model against model;
 * - swaps.csv: for a slot S and a candidate X that shadowed S's items (and is
 *   not S's model), the policy with X answering S's items. The items compared
 *   are the items of S that X answered (n_swapped) plus every item of the
 *   other slots (unchanged); the current policy is compared on the same
 *   items, paired. X's failures count as failures (no fallback is assumed);
 * - errored lines count as failures for quality and are counted in the
 *   errors columns (primary_errors, shadow_errors, candidate_errors);
 * - cost deltas are differences of cost per 1,000 items, each the sum of
 *   known costs over the items compared; the *_cost_unknown columns say how
 *   many lines had none. Latency deltas are differences of percentiles over
 *   the same items (not percentiles of differences);
 * - intervals: Wilson for rates, Newcombe's paired interval for deltas, the
 *   exact McNemar test for the verdict at alpha 0.05 (stats.h). The interval
 *   and the test are different methods: near alpha they can disagree.
 */
#include "summarize/sum_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "stats/stats.h"

/* ---- the stdout tables: the CSV figures, rounded for people ---- */

/* A CSV cell of l as a number; NAN when empty. */
static double cell_num(const struct sum_line *l, size_t col)
{
	const char *c = sum_line_cell(l, col);
	return *c ? strtod(c, NULL) : NAN;
}

/* "95.6% [85.2, 98.8]" */
static void tab_pct_ci(struct sum_line *t, double v, double lo, double hi)
{
	if (isnan(v))
		sum_line_str(t, "-");
	else
		sum_line_printf(t, "%.1f%% [%.1f, %.1f]", 100 * v, 100 * lo, 100 * hi);
}

/* A difference of rates in percentage points: "+1.7 [-7.4, +10.7]" */
static void tab_pts_ci(struct sum_line *t, double v, double lo, double hi)
{
	if (isnan(v))
		sum_line_str(t, "-");
	else
		sum_line_printf(t, "%+.1f [%+.1f, %+.1f]", 100 * v, 100 * lo, 100 * hi);
}

/* A number in a literal format, or "-" when unknown. A macro so that the
 * compiler checks each call's format against a double. */
#define tab_fmt(t, fmt, v)                                                                         \
	do {                                                                                       \
		double tab_v_ = (v);                                                               \
		if (isnan(tab_v_))                                                                 \
			sum_line_str((t), "-");                                                    \
		else                                                                               \
			sum_line_printf((t), fmt, tab_v_);                                         \
	} while (0)

static size_t col_of(const char *const *header, const char *name)
{
	for (size_t i = 0; header[i]; i++)
		if (!strcmp(header[i], name))
			return i;
	abort(); /* a column this file names must exist */
}

static size_t acc_col(const char *name)
{
	return col_of(sum_acc_header, name);
}

static double diff(double a, double b)
{
	return isnan(a) || isnan(b) ? NAN : a - b;
}

int sum_write_models(struct sum_ctx *x, struct se_err *err)
{
	const struct sum_names *s = &x->names;
	struct sum_acc *acc = x->a->model;

	static const char *const key[] = {"model", NULL};
	/* With judges, a last column says which rows are judges (README). */
	bool judged = x->judges && x->judges->n;
	const char *cols[64];
	size_t nc = 0;
	for (; nc < 62 && sum_acc_header[nc]; nc++)
		cols[nc] = sum_acc_header[nc];
	cols[nc++] = judged ? "role" : NULL;
	cols[nc] = NULL;
	struct sum_csv csv;
	int rc = sum_csv_open(&csv, x->dir, "models.csv", key, cols, err);
	struct sum_line *h = sum_tab_row(&x->models_tab);
	static const char *const th[] = {"model",  "n",	     "pass rate [95% CI]", "errors",
					 "p50 ms", "p95 ms", "cost USD",	   "USD/1k items"};
	for (size_t i = 0; i < sizeof(th) / sizeof(th[0]); i++)
		sum_line_str(h, th[i]);
	struct sum_line l;
	sum_line_init(&l);
	for (size_t m = 0; m < s->nmodels; m++) {
		if (acc[m].n == 0 || rc)
			continue;
		sum_line_reset(&l);
		sum_line_str(&l, s->model_name[m]);
		sum_line_acc(&l, &acc[m]);
		if (judged)
			sum_line_str(&l, "model");
		sum_csv_line(&csv, &l);

		struct sum_line *t = sum_tab_row(&x->models_tab);
		sum_line_str(t, s->model_name[m]);
		sum_line_str(t, sum_line_cell(&l, 1 + acc_col("n")));
		tab_pct_ci(t, cell_num(&l, 1 + acc_col("pass_rate")),
			   cell_num(&l, 1 + acc_col("pass_rate_lo")),
			   cell_num(&l, 1 + acc_col("pass_rate_hi")));
		sum_line_str(t, sum_line_cell(&l, 1 + acc_col("errors")));
		tab_fmt(t, "%.0f", cell_num(&l, 1 + acc_col("latency_ms_p50")));
		tab_fmt(t, "%.0f", cell_num(&l, 1 + acc_col("latency_ms_p95")));
		tab_fmt(t, "%.4f", cell_num(&l, 1 + acc_col("cost_usd_total")));
		tab_fmt(t, "%.4f", cell_num(&l, 1 + acc_col("cost_usd_per_1k_items")));
	}
	for (size_t i = 0; judged && !rc && i < x->judges->n; i++) {
		sum_line_reset(&l);
		sum_line_str(&l, x->judges->row[i].model);
		sum_judge_line(&l, &x->judges->row[i]);
		sum_line_str(&l, "judge");
		sum_csv_line(&csv, &l);

		struct sum_line *t = sum_tab_row(&x->models_tab);
		sum_line_printf(t, "%s (judge)", x->judges->row[i].model);
		sum_line_str(t, sum_line_cell(&l, 1 + acc_col("n")));
		sum_line_str(t, "-");
		sum_line_str(t, sum_line_cell(&l, 1 + acc_col("errors")));
		tab_fmt(t, "%.0f", cell_num(&l, 1 + acc_col("latency_ms_p50")));
		tab_fmt(t, "%.0f", cell_num(&l, 1 + acc_col("latency_ms_p95")));
		tab_fmt(t, "%.4f", cell_num(&l, 1 + acc_col("cost_usd_total")));
		sum_line_str(t, "-");
	}
	sum_line_free(&l);
	return rc ? -1 : sum_csv_commit(&csv, err);
}

int sum_write_tasks(struct sum_ctx *x, struct se_err *err)
{
	const struct sum_names *s = &x->names;
	size_t nm = s->nmodels;
	struct sum_acc *acc = x->a->task;

	static const char *const key[] = {"task", "model", NULL};
	struct sum_csv csv;
	int rc = sum_csv_open(&csv, x->dir, "tasks.csv", key, sum_acc_header, err);
	struct sum_line l;
	sum_line_init(&l);
	for (size_t t = 0; t < s->ntasks && !rc; t++) {
		for (size_t m = 0; m < nm; m++) {
			struct sum_acc *a = &acc[t * nm + m];
			if (a->n == 0)
				continue;
			sum_line_reset(&l);
			sum_line_str(&l, s->task_name[t]);
			sum_line_str(&l, s->model_name[m]);
			sum_line_acc(&l, a);
			sum_csv_line(&csv, &l);
		}
	}
	sum_line_free(&l);
	return rc ? -1 : sum_csv_commit(&csv, err);
}

int sum_write_slots(struct sum_ctx *x, struct se_err *err)
{
	const struct sum_names *s = &x->names;
	struct sum_agg *a = x->a;
	size_t nm = s->nmodels, ns = s->nslots;
	struct sum_acc *acc = a->slot;
	const long *items = a->slot_items, *fb = a->slot_fb;
	const bool *uses = a->slot_uses;

	/* A slot's model: one name, or several ";"-joined when results of
	 * different configurations were merged. */
	x->slot_models = xcalloc(ns + 1, sizeof(*x->slot_models));
	for (size_t sl = 0; sl < ns; sl++) {
		struct buf b;
		buf_init(&b);
		for (size_t m = 0; m < nm; m++) {
			if (!uses[sl * nm + m])
				continue;
			if (b.len)
				buf_putc(&b, ';');
			buf_puts(&b, s->model_name[m]);
		}
		x->slot_models[sl] = buf_detach(&b, NULL);
	}

	static const char *const key[] = {"slot",  "model",	      "items",
					  "share", "fallback_served", NULL};
	struct sum_csv csv;
	int rc = sum_csv_open(&csv, x->dir, "slots.csv", key, sum_acc_header, err);
	struct sum_line l;
	sum_line_init(&l);
	double total = (double)a->nitems;
	for (size_t sl = 0; sl < ns && !rc; sl++) {
		if (items[sl] == 0)
			continue; /* a slot of the config no item was routed to */
		sum_line_reset(&l);
		sum_line_str(&l, s->slot_name[sl]);
		sum_line_str(&l, x->slot_models[sl]);
		sum_line_long(&l, items[sl]);
		sum_line_rate(&l, total > 0 ? (double)items[sl] / total : NAN);
		sum_line_long(&l, fb[sl]);
		sum_line_acc(&l, &acc[sl]);
		sum_csv_line(&csv, &l);
	}
	if (!rc) {
		sum_line_reset(&l);
		sum_line_str(&l, "policy");
		sum_line_str(&l, "");
		sum_line_long(&l, (long long)a->nitems);
		sum_line_rate(&l, total > 0 ? 1.0 : NAN);
		sum_line_long(&l, a->fb_all);
		sum_line_acc(&l, &a->policy);
		sum_csv_line(&csv, &l);
	}
	sum_line_free(&l);
	return rc ? -1 : sum_csv_commit(&csv, err);
}

/* delta_pass_rate, its interval, mcnemar_p and the verdict of b against a. */
static void pair_verdict(struct sum_line *l, const struct stats_pair *t, bool with_verdict)
{
	struct stats_pair_figures f;
	stats_pair_figures(t, &f);
	sum_line_rate(l, f.delta);
	sum_line_rate(l, f.lo);
	sum_line_rate(l, f.hi);
	sum_line_rate(l, f.p);
	if (with_verdict)
		sum_line_str(l, stats_verdict(f.p, f.delta, STATS_ALPHA));
}

/* The rows of one family of verdicts (a pairs scope, or all swaps): held
 * until the family is complete, since each row's adjusted p depends on every
 * other row's p. */
struct family {
	struct sum_line *rows;
	double *p, *delta, *adj;
	size_t n, cap, pcap, dcap;
};

static struct sum_line *family_row(struct family *f, double p, double delta)
{
	f->rows = xgrow(f->rows, &f->cap, f->n + 1, sizeof(*f->rows));
	f->p = xgrow(f->p, &f->pcap, f->n + 1, sizeof(*f->p));
	f->delta = xgrow(f->delta, &f->dcap, f->n + 1, sizeof(*f->delta));
	f->p[f->n] = p;
	f->delta[f->n] = delta;
	sum_line_init(&f->rows[f->n]);
	return &f->rows[f->n++];
}

/* Adjusts the family's p-values and appends the four family columns
 * (family_header) to each row. */
static void family_finish(struct family *f, enum stats_correction c)
{
	f->adj = xcalloc(f->n + 1, sizeof(*f->adj));
	size_t *order = xcalloc(f->n + 1, sizeof(*order));
	stats_adjust(f->p, f->n, c, f->adj, order);
	free(order);
	for (size_t i = 0; i < f->n; i++) {
		sum_line_rate(&f->rows[i], f->adj[i]);
		sum_line_str(&f->rows[i], stats_verdict(f->adj[i], f->delta[i], STATS_ALPHA));
		sum_line_str(&f->rows[i], stats_correction_name(c));
		sum_line_long(&f->rows[i], (long long)f->n);
	}
}

static void family_free(struct family *f)
{
	for (size_t i = 0; i < f->n; i++)
		sum_line_free(&f->rows[i]);
	free(f->rows);
	free(f->p);
	free(f->delta);
	free(f->adj);
	memset(f, 0, sizeof(*f));
}

static const char *const pairs_header[] = {
    "scope",
    "scope_value",
    "primary",
    "shadow",
    "n",
    "both_pass",
    "only_primary",
    "only_shadow",
    "neither",
    "delta_pass_rate",
    "delta_pass_rate_lo",
    "delta_pass_rate_hi",
    "mcnemar_p",
    "delta_cost_usd_per_1k_items",
    "delta_latency_ms_p50",
    "delta_latency_ms_p95",
    "verdict",
    "primary_pass_rate",
    "shadow_pass_rate",
    "primary_errors",
    "shadow_errors",
    "primary_cost_unknown",
    "shadow_cost_unknown",
    "mcnemar_p_adjusted",
    "verdict_adjusted",
    "correction",
    "family_size",
    NULL,
};

static void pairs_scope(struct sum_ctx *x, struct sum_csv *csv, enum sum_scope scope)
{
	const struct sum_names *s = &x->names;
	size_t nm = s->nmodels;
	size_t nk = scope == SUM_SCOPE_OVERALL ? 1
		    : scope == SUM_SCOPE_SLOT  ? s->nslots
					       : s->ntasks;
	struct sum_pair_acc *acc = x->a->pair[scope];

	static const char *const scope_name[] = {"overall", "slot", "task"};
	struct family fam = {0};
	for (size_t k = 0; k < nk; k++) {
		for (size_t m = 0; m < nm; m++) {
			struct sum_pair_acc *p = &acc[k * nm + m];
			if (p->t.n == 0)
				continue;
			struct stats_pair_figures f;
			stats_pair_figures(&p->t, &f);
			struct sum_line *l = family_row(&fam, f.p, f.delta);
			sum_line_str(l, scope_name[scope]);
			sum_line_str(l, scope == SUM_SCOPE_OVERALL ? "all"
					: scope == SUM_SCOPE_SLOT  ? s->slot_name[k]
								   : s->task_name[k]);
			sum_line_str(l, scope == SUM_SCOPE_SLOT ? x->slot_models[k] : "policy");
			sum_line_str(l, s->model_name[m]);
			sum_line_long(l, p->t.n);
			sum_line_long(l, p->t.both);
			sum_line_long(l, p->t.only_a);
			sum_line_long(l, p->t.only_b);
			sum_line_long(l, p->t.neither);
			pair_verdict(l, &p->t, false);
			sum_line_usd(l,
				     diff(sum_cost_per_1k(p->b_cost, p->t.n, p->b_cost_unknown),
					  sum_cost_per_1k(p->a_cost, p->t.n, p->a_cost_unknown)));
			sum_line_ms(l,
				    diff(sum_fvec_pct(&p->b_lat, 50), sum_fvec_pct(&p->a_lat, 50)));
			sum_line_ms(l,
				    diff(sum_fvec_pct(&p->b_lat, 95), sum_fvec_pct(&p->a_lat, 95)));
			sum_line_str(l, stats_verdict(f.p, f.delta, STATS_ALPHA));
			sum_line_rate(l, f.rate_a);
			sum_line_rate(l, f.rate_b);
			sum_line_long(l, p->a_err);
			sum_line_long(l, p->b_err);
			sum_line_long(l, p->a_cost_unknown);
			sum_line_long(l, p->b_cost_unknown);
		}
	}
	/* the scope is the family: the rows of one scope are read together */
	family_finish(&fam, x->correction);
	for (size_t i = 0; i < fam.n; i++) {
		const struct sum_line *l = &fam.rows[i];
		sum_csv_line(csv, l);
		if (scope != SUM_SCOPE_OVERALL)
			continue;
		struct sum_line *t = sum_tab_row(&x->pairs_tab);
		sum_line_str(t, sum_line_cell(l, col_of(pairs_header, "shadow")));
		sum_line_str(t, sum_line_cell(l, col_of(pairs_header, "n")));
		tab_pts_ci(t, cell_num(l, col_of(pairs_header, "delta_pass_rate")),
			   cell_num(l, col_of(pairs_header, "delta_pass_rate_lo")),
			   cell_num(l, col_of(pairs_header, "delta_pass_rate_hi")));
		tab_fmt(t, "%.3g", cell_num(l, col_of(pairs_header, "mcnemar_p")));
		tab_fmt(t, "%.3g", cell_num(l, col_of(pairs_header, "mcnemar_p_adjusted")));
		sum_line_str(t, sum_line_cell(l, col_of(pairs_header, "verdict_adjusted")));
		tab_fmt(t, "%+.4f",
			cell_num(l, col_of(pairs_header, "delta_cost_usd_per_1k_items")));
		tab_fmt(t, "%+.0f", cell_num(l, col_of(pairs_header, "delta_latency_ms_p95")));
	}
	x->pairs_family = scope == SUM_SCOPE_OVERALL ? fam.n : x->pairs_family;
	family_free(&fam);
}

int sum_write_pairs(struct sum_ctx *x, struct se_err *err)
{
	struct sum_csv csv;
	if (sum_csv_open(&csv, x->dir, "pairs.csv", pairs_header, NULL, err))
		return -1;
	struct sum_line *h = sum_tab_row(&x->pairs_tab);
	static const char *const th[] = {"shadow",
					 "n",
					 "pass rate delta, pts [95% CI]",
					 "p",
					 "p adj",
					 "verdict (adjusted)",
					 "USD/1k delta",
					 "p95 ms delta"};
	for (size_t i = 0; i < sizeof(th) / sizeof(th[0]); i++)
		sum_line_str(h, th[i]);
	pairs_scope(x, &csv, SUM_SCOPE_OVERALL);
	pairs_scope(x, &csv, SUM_SCOPE_SLOT);
	pairs_scope(x, &csv, SUM_SCOPE_TASK);
	return sum_csv_commit(&csv, err);
}

static const char *const swaps_header[] = {
    "slot",
    "current_model",
    "candidate",
    "n",
    "n_swapped",
    "pass_rate",
    "pass_rate_lo",
    "pass_rate_hi",
    "cost_usd_per_1k_items",
    "latency_ms_p95",
    "current_pass_rate",
    "current_cost_usd_per_1k_items",
    "current_latency_ms_p95",
    "delta_pass_rate",
    "delta_pass_rate_lo",
    "delta_pass_rate_hi",
    "mcnemar_p",
    "verdict",
    "delta_cost_usd_per_1k_items",
    "delta_latency_ms_p95",
    "candidate_errors",
    "current_errors",
    "candidate_cost_unknown",
    "current_cost_unknown",
    "mcnemar_p_adjusted",
    "verdict_adjusted",
    "correction",
    "family_size",
    NULL,
};

/* The 95th percentile of the union of two sets of values. */
static double union_p95(struct sum_fvec *a, struct sum_fvec *b, struct sum_fvec *tmp)
{
	if (a->bounded || b->bounded)
		return sum_fvec_union_pct(a, b, 95);
	sum_fvec_sort(a);
	sum_fvec_sort(b);
	tmp->n = 0;
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		if (j >= b->n || (i < a->n && a->v[i] <= b->v[j]))
			sum_fvec_push(tmp, a->v[i++]);
		else
			sum_fvec_push(tmp, b->v[j++]);
	}
	return stats_percentile(tmp->v, tmp->n, 95);
}

/* One slot: the items of the other slots once, then each candidate's table
 * over the slot's items (a = current policy, b = candidate). */
static void swaps_slot(struct sum_ctx *x, struct family *fam, size_t slot, struct sum_fvec *tmp)
{
	const struct sum_names *s = &x->names;
	size_t nm = s->nmodels;
	struct sum_agg *a = x->a;
	struct sum_pair_acc *acc = a->swap + slot * nm;
	struct sum_pair_acc out = a->out[slot]; /* a shallow copy: read only */
	long out_pass = a->out_pass[slot];
	const bool *current = a->current + slot * nm;

	for (size_t m = 0; m < nm; m++) {
		struct sum_pair_acc *p = &acc[m];
		if (p->t.n == 0 || current[m])
			continue;
		/* the whole traffic: the other slots' items are concordant */
		struct stats_pair whole = p->t;
		whole.n += out.t.n;
		whole.both += out_pass;
		whole.neither += out.t.n - out_pass;
		double cur_cost = out.a_cost + p->a_cost, new_cost = out.a_cost + p->b_cost;
		long cur_unk = out.a_cost_unknown + p->a_cost_unknown;
		long new_unk = out.a_cost_unknown + p->b_cost_unknown;
		double nn = (double)whole.n, lo, hi;
		long new_pass = whole.both + whole.only_b, cur_pass = whole.both + whole.only_a;
		double new_p95 = union_p95(&out.a_lat, &p->b_lat, tmp);
		double cur_p95 = union_p95(&out.a_lat, &p->a_lat, tmp);
		double new_1k = sum_cost_per_1k(new_cost, whole.n, new_unk);
		double cur_1k = sum_cost_per_1k(cur_cost, whole.n, cur_unk);

		struct stats_pair_figures f;
		stats_pair_figures(&whole, &f);
		struct sum_line *l = family_row(fam, f.p, f.delta);
		sum_line_str(l, s->slot_name[slot]);
		sum_line_str(l, x->slot_models[slot]);
		sum_line_str(l, s->model_name[m]);
		sum_line_long(l, whole.n);
		sum_line_long(l, p->t.n);
		stats_wilson(new_pass, whole.n, STATS_Z95, &lo, &hi);
		sum_line_rate(l, (double)new_pass / nn);
		sum_line_rate(l, lo);
		sum_line_rate(l, hi);
		sum_line_usd(l, new_1k);
		sum_line_ms(l, new_p95);
		sum_line_rate(l, (double)cur_pass / nn);
		sum_line_usd(l, cur_1k);
		sum_line_ms(l, cur_p95);
		pair_verdict(l, &whole, true);
		sum_line_usd(l, diff(new_1k, cur_1k));
		sum_line_ms(l, diff(new_p95, cur_p95));
		sum_line_long(l, p->b_err);
		sum_line_long(l, p->a_err);
		sum_line_long(l, new_unk);
		sum_line_long(l, cur_unk);
	}
	a->out[slot].a_lat = out.a_lat; /* sorted in place by union_p95 */
}

int sum_write_swaps(struct sum_ctx *x, struct se_err *err)
{
	struct sum_csv csv;
	if (sum_csv_open(&csv, x->dir, "swaps.csv", swaps_header, NULL, err))
		return -1;
	struct sum_line *h = sum_tab_row(&x->swaps_tab);
	static const char *const th[] = {"slot",
					 "current -> candidate",
					 "n swapped",
					 "policy pass rate [95% CI]",
					 "delta, pts [95% CI]",
					 "verdict (adjusted)",
					 "USD/1k delta"};
	for (size_t i = 0; i < sizeof(th) / sizeof(th[0]); i++)
		sum_line_str(h, th[i]);
	struct sum_fvec tmp = {0};
	struct family fam = {0};
	for (size_t sl = 0; sl < x->names.nslots; sl++)
		swaps_slot(x, &fam, sl, &tmp);
	sum_fvec_free(&tmp);
	/* every swap of every slot is one family: together they are the
	 * answer to "which slot should change model?" */
	family_finish(&fam, x->correction);
	x->swaps_family = fam.n;
	for (size_t i = 0; i < fam.n; i++) {
		const struct sum_line *l = &fam.rows[i];
		sum_csv_line(&csv, l);
		struct sum_line *tr = sum_tab_row(&x->swaps_tab);
		sum_line_str(tr, sum_line_cell(l, col_of(swaps_header, "slot")));
		sum_line_printf(tr, "%s -> %s",
				sum_line_cell(l, col_of(swaps_header, "current_model")),
				sum_line_cell(l, col_of(swaps_header, "candidate")));
		sum_line_str(tr, sum_line_cell(l, col_of(swaps_header, "n_swapped")));
		tab_pct_ci(tr, cell_num(l, col_of(swaps_header, "pass_rate")),
			   cell_num(l, col_of(swaps_header, "pass_rate_lo")),
			   cell_num(l, col_of(swaps_header, "pass_rate_hi")));
		tab_pts_ci(tr, cell_num(l, col_of(swaps_header, "delta_pass_rate")),
			   cell_num(l, col_of(swaps_header, "delta_pass_rate_lo")),
			   cell_num(l, col_of(swaps_header, "delta_pass_rate_hi")));
		sum_line_str(tr, sum_line_cell(l, col_of(swaps_header, "verdict_adjusted")));
		tab_fmt(tr, "%+.4f",
			cell_num(l, col_of(swaps_header, "delta_cost_usd_per_1k_items")));
	}
	family_free(&fam);
	return sum_csv_commit(&csv, err);
}
