/* sum_samples.c: samples.csv, the figures of a run with K samples per (item,
 * model) (run --repeats), the item as the unit (stats/cluster.h).
 *
 * The other tables read one answer per (item, model), the first sample
 * (results/results.h): they are a K = 1 run's, byte for byte. This file reads
 * every sample, and only writes samples.csv when some line has a sample
 * index above 0, so a K = 1 run's folder is unchanged. Rows, sorted by
 * model name:
 * - scope "model": per model, its items, samples, mean per-item pass
 *   fraction with the cluster-robust 95% interval, pass@1, pass@K (K: the
 *   largest sample count of the model's items) and consistency;
 * - scope "pair": per shadow model, against the primary of each item both
 *   answered: the mean per-item difference of pass fractions (shadow minus
 *   primary) with its paired t interval and p.
 * Items and models are walked in name order, so the figures do not depend
 * on the order of the lines.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/strtab.h"
#include "core/xalloc.h"
#include "results/results.h"
#include "stats/cluster.h"
#include "summarize/sum_int.h"

struct smp_rec {
	uint32_t item, model;
	bool pass, primary;
};

struct smp_load {
	struct strtab items, models;
	struct smp_rec *r;
	size_t n, cap;
	bool sampled; /* some line has sample > 0 */
};

static int on_line(void *ctx, const struct res_rec *row)
{
	struct smp_load *l = ctx;
	l->r = xgrow(l->r, &l->cap, l->n + 1, sizeof(*l->r));
	l->r[l->n++] = (struct smp_rec){(uint32_t)strtab_intern(&l->items, row->item_id, NULL),
					(uint32_t)strtab_intern(&l->models, row->model, NULL),
					row->pass, row->role == RES_PRIMARY};
	l->sampled |= row->sample > 0;
	return 0;
}

static int by_name(const void *a, const void *b, void *arg)
{
	const struct strtab *t = arg;
	return strcmp(t->name[*(const uint32_t *)a], t->name[*(const uint32_t *)b]);
}

/* rank[i]: the position of name i in name order; order: the inverse. */
static void ranks(const struct strtab *t, uint32_t **rank, uint32_t **order)
{
	*order = xmalloc((t->n + 1) * sizeof(uint32_t));
	*rank = xmalloc((t->n + 1) * sizeof(uint32_t));
	for (size_t i = 0; i < t->n; i++)
		(*order)[i] = (uint32_t)i;
	qsort_r(*order, t->n, sizeof(uint32_t), by_name, (void *)t);
	for (size_t i = 0; i < t->n; i++)
		(*rank)[(*order)[i]] = (uint32_t)i;
}

static const char *const header[] = {"scope",	  "model",     "items",	       "samples",
				     "k",	  "pass_rate", "pass_rate_lo", "pass_rate_hi",
				     "pass_at_1", "pass_at_k", "consistency",  "delta_pass_rate",
				     "delta_lo",  "delta_hi",  "t_test_p",     NULL};

/* The per-(item, model) counts in name order: cnt[item * nm + model];
 * prim[item] is the item's primary model (-1: none). */
struct smp_grid {
	size_t ni, nm;
	struct stats_item_count *cnt;
	long *prim;
	bool *is_shadow;
	const char **model_name;	/* in name order */
	struct stats_item_count *a, *b; /* ni scratch rows each */
};

static void grid_build(struct smp_grid *g, const struct smp_load *l)
{
	uint32_t *irank, *iorder, *mrank, *morder;
	g->ni = l->items.n;
	g->nm = l->models.n;
	ranks(&l->items, &irank, &iorder);
	ranks(&l->models, &mrank, &morder);
	g->cnt = xcalloc(g->ni * g->nm + 1, sizeof(*g->cnt));
	g->prim = xmalloc((g->ni + 1) * sizeof(*g->prim));
	g->is_shadow = xcalloc(g->nm + 1, sizeof(bool));
	g->model_name = xcalloc(g->nm + 1, sizeof(*g->model_name));
	g->a = xmalloc((g->ni + 1) * sizeof(*g->a));
	g->b = xmalloc((g->ni + 1) * sizeof(*g->b));
	for (size_t m = 0; m < g->nm; m++)
		g->model_name[m] = l->models.name[morder[m]];
	for (size_t i = 0; i < g->ni; i++)
		g->prim[i] = -1;
	for (size_t i = 0; i < l->n; i++) {
		const struct smp_rec *r = &l->r[i];
		uint32_t it = irank[r->item], m = mrank[r->model];
		g->cnt[(size_t)it * g->nm + m].k++;
		g->cnt[(size_t)it * g->nm + m].passed += r->pass;
		if (r->primary)
			g->prim[it] = m;
		else
			g->is_shadow[m] = true;
	}
	free(irank);
	free(iorder);
	free(mrank);
	free(morder);
}

static void grid_free(struct smp_grid *g)
{
	free(g->cnt);
	free(g->prim);
	free(g->is_shadow);
	free(g->model_name);
	free(g->a);
	free(g->b);
}

/* Scope "model": model m's items, samples and per-item pass figures. */
static void write_model_row(struct smp_grid *g, size_t m, struct sum_csv *csv,
			    struct sum_line *line, FILE *table)
{
	size_t n = 0;
	long samples = 0;
	int kmax = 0;
	for (size_t it = 0; it < g->ni; it++) {
		const struct stats_item_count *c = &g->cnt[it * g->nm + m];
		if (!c->k)
			continue;
		g->a[n++] = *c;
		samples += c->k;
		kmax = c->k > kmax ? c->k : kmax;
	}
	double mean, lo, hi;
	stats_cluster_rate(g->a, n, &mean, &lo, &hi);
	double p1 = stats_pass_at_k(g->a, n, 1), pk = stats_pass_at_k(g->a, n, kmax);
	double cons = stats_consistency(g->a, n);
	sum_line_reset(line);
	sum_line_str(line, "model");
	sum_line_str(line, g->model_name[m]);
	sum_line_long(line, (long long)n);
	sum_line_long(line, samples);
	sum_line_long(line, kmax);
	sum_line_rate(line, mean);
	sum_line_rate(line, lo);
	sum_line_rate(line, hi);
	sum_line_rate(line, p1);
	sum_line_rate(line, pk);
	sum_line_rate(line, cons);
	for (int i = 0; i < 4; i++)
		sum_line_str(line, "");
	sum_csv_line(csv, line);
	if (table)
		fprintf(table,
			"  %-32s %6zu items  pass %5.1f%% [%5.1f, %5.1f]  pass@1 %5.1f%%  "
			"pass@%d %5.1f%%  consistent %5.1f%%\n",
			g->model_name[m], n, 100 * mean, 100 * lo, 100 * hi, 100 * p1, kmax,
			100 * pk, 100 * cons);
}

/* Scope "pair": shadow m against the primary, on the items both answered. */
static void write_pair_row(struct smp_grid *g, size_t m, struct sum_csv *csv, struct sum_line *line,
			   FILE *table)
{
	size_t n = 0, nm = g->nm;
	for (size_t it = 0; it < g->ni; it++) {
		long pm = g->prim[it];
		if (pm < 0 || (size_t)pm == m || !g->cnt[it * nm + m].k ||
		    !g->cnt[it * nm + (size_t)pm].k)
			continue;
		g->a[n] = g->cnt[it * nm + (size_t)pm];
		g->b[n++] = g->cnt[it * nm + m];
	}
	double d, lo, hi, p;
	stats_cluster_diff(g->a, g->b, n, &d, &lo, &hi, &p);
	sum_line_reset(line);
	sum_line_str(line, "pair");
	sum_line_str(line, g->model_name[m]);
	sum_line_long(line, (long long)n);
	for (int i = 0; i < 8; i++)
		sum_line_str(line, "");
	sum_line_rate(line, d);
	sum_line_rate(line, lo);
	sum_line_rate(line, hi);
	sum_line_rate(line, p);
	sum_csv_line(csv, line);
	if (table)
		fprintf(table,
			"  %-32s %6zu items  vs primary %+5.1f pts [%+5.1f, %+5.1f]  t-test "
			"p %.3g\n",
			g->model_name[m], n, 100 * d, 100 * lo, 100 * hi, p);
}

int sum_write_samples(const char *dir, const char *results_path, FILE *table, struct se_err *err)
{
	struct smp_load l = {0};
	strtab_init(&l.items);
	strtab_init(&l.models);
	int rc = res_scan_samples(results_path, false, on_line, &l, NULL, err);
	if (rc || !l.sampled)
		goto out;
	struct smp_grid g;
	grid_build(&g, &l);
	struct sum_csv csv;
	rc = sum_csv_open(&csv, dir, "samples.csv", header, NULL, err);
	if (rc)
		goto free_grid;
	struct sum_line line;
	sum_line_init(&line);
	if (table)
		fprintf(table, "\nsamples: K answers per (item, model), the item as the unit\n");
	for (size_t m = 0; m < g.nm; m++)
		write_model_row(&g, m, &csv, &line, table);
	for (size_t m = 0; m < g.nm; m++)
		if (g.is_shadow[m])
			write_pair_row(&g, m, &csv, &line, table);
	sum_line_free(&line);
	rc = sum_csv_commit(&csv, err);
free_grid:
	grid_free(&g);
out:
	free(l.r);
	strtab_free(&l.items);
	strtab_free(&l.models);
	return rc;
}
