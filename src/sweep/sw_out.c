/* sw_out.c: the sweep's outputs: sweep.csv, pareto.csv, recommended.json (the
 * recommended policy, for the report), the stdout table and the recommended
 * routing block. Computes nothing (sweep.c does).
 *
 * Decisions (README "sweep"):
 * - numbers as summarize writes them: rates %.6g, USD %.8g, milliseconds
 *   %.2f, an unknown figure an empty cell, "-0" written 0; cells holding a
 *   comma, quote or line break quoted by libcsv (RFC 4180), lines end "\n";
 *   both files replaced atomically (temp file + rename);
 * - sweep.csv rows in policy_id order; pareto.csv the on_frontier rows by
 *   cost, then pass rate (higher first), then policy_id;
 * - the routing block is config syntax: a single slot is {"rules": [],
 *   "default": S}; a complexity policy one complexity rule (estimator
 *   chars/4) with the last band's slot as default (never reached); a task
 *   map one rule per slot listing its tasks, except the default slot's: the
 *   slot of the items without a task when there are some, else the slot that
 *   serves the most items (it also catches tasks the sweep never saw).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/csvw.h"
#include "core/fileio.h"
#include "core/jsonw.h"
#include "core/xalloc.h"
#include "sweep/sw_int.h"

static const char *const header[] = {
    "policy_id",      "kind",		"description",	   "n",
    "pass_rate",      "pass_rate_lo",	"pass_rate_hi",	   "cost_usd_per_1k_items",
    "latency_ms_p50", "latency_ms_p95", "delta_pass_rate", "delta_cost_usd_per_1k_items",
    "on_frontier",
};
#define NCOLS (sizeof(header) / sizeof(header[0]))

/* A number in a literal format into out, or "" when unknown; never "-0". A
 * macro so that the compiler checks each call's format against a double. */
#define num(out, size, fmt, v)                                                                     \
	do {                                                                                       \
		double num_v_ = (v);                                                               \
		if (isnan(num_v_))                                                                 \
			(out)[0] = '\0';                                                           \
		else                                                                               \
			snprintf((out), (size), fmt, num_v_ == 0 ? 0.0 : num_v_);                  \
	} while (0)

static void cell(FILE *fp, const char *s, bool first)
{
	csvw_fcell(fp, s, first ? CSVW_FIRST : 0);
}

static void write_row(FILE *fp, const struct sw_run *r, const struct sw_policy *p)
{
	const struct sw_policy *cur = &r->p[0];
	char v[NCOLS][64];
	snprintf(v[0], sizeof(v[0]), "%d", p->id);
	snprintf(v[1], sizeof(v[1]), "%s", sw_kind_names[p->kind]);
	snprintf(v[3], sizeof(v[3]), "%ld", p->n);
	num(v[4], sizeof(v[4]), "%.6g", p->n ? (double)p->passed / (double)p->n : NAN);
	num(v[5], sizeof(v[5]), "%.6g", p->lo);
	num(v[6], sizeof(v[6]), "%.6g", p->hi);
	num(v[7], sizeof(v[7]), "%.8g", p->cost_1k);
	num(v[8], sizeof(v[8]), "%.2f", p->p50);
	num(v[9], sizeof(v[9]), "%.2f", p->p95);
	num(v[10], sizeof(v[10]), "%.6g",
	    p->n ? (double)(p->passed - cur->passed) / (double)p->n : NAN);
	num(v[11], sizeof(v[11]), "%.8g", p->cost_1k - cur->cost_1k);
	snprintf(v[12], sizeof(v[12]), "%d", p->on_frontier ? 1 : 0);
	for (size_t i = 0; i < NCOLS; i++)
		cell(fp, i == 2 ? p->desc : v[i], i == 0);
	fputc('\n', fp);
}

static int cmp_pareto(const void *a, const void *b, void *arg)
{
	const struct sw_policy *p = arg;
	const struct sw_policy *x = &p[*(const size_t *)a], *y = &p[*(const size_t *)b];
	if (isnan(x->cost_key) != isnan(y->cost_key))
		return isnan(x->cost_key) ? 1 : -1; /* an unknown cost last */
	if (!isnan(x->cost_key) && x->cost_key != y->cost_key)
		return x->cost_key < y->cost_key ? -1 : 1;
	if (x->passed != y->passed)
		return x->passed > y->passed ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* The frontier rows (plus, when `with_current`, the current row), sorted. */
static size_t *frontier(const struct sw_run *r, bool with_current, size_t *n)
{
	size_t *idx = xmalloc((r->np + 1) * sizeof(*idx));
	*n = 0;
	for (size_t i = 0; i < r->np; i++)
		if (r->p[i].on_frontier || (with_current && i == 0))
			idx[(*n)++] = i;
	qsort_r(idx, *n, sizeof(*idx), cmp_pareto, r->p);
	return idx;
}

static int write_csv(const struct sw_run *r, const char *dir, const char *name, bool pareto,
		     struct se_err *err)
{
	char *path = fio_join(dir, name);
	FILE *fp;
	if (fio_replace_begin(path, &fp, err)) {
		free(path);
		return -1;
	}
	for (size_t i = 0; i < NCOLS; i++)
		cell(fp, header[i], i == 0);
	fputc('\n', fp);
	if (pareto) {
		size_t n;
		size_t *idx = frontier(r, false, &n);
		for (size_t i = 0; i < n; i++)
			write_row(fp, r, &r->p[idx[i]]);
		free(idx);
	} else {
		for (size_t i = 0; i < r->np; i++)
			write_row(fp, r, &r->p[i]);
	}
	int rc = fio_replace_commit(path, fp, err);
	free(path);
	return rc;
}

/* recommended.json: the recommended policy's id and rule (null when no
 * policy meets the rule), with the options that chose it, so that the
 * report marks the same policy the sweep printed. */
static int write_recommended(const struct sw_run *r, const char *dir, struct se_err *err)
{
	const struct sw_policy *p = r->rec >= 0 ? &r->p[r->rec] : NULL;
	struct buf b;
	buf_init(&b);
	buf_putc(&b, '{');
	jsonw_key(&b, "policy_id");
	if (p)
		jsonw_long(&b, p->id);
	else
		buf_puts(&b, "null");
	buf_putc(&b, ',');
	jsonw_key(&b, "description");
	jsonw_str(&b, p ? p->desc : NULL);
	buf_putc(&b, ',');
	jsonw_key(&b, "rule");
	jsonw_str(&b, r->rec_rule);
	buf_putc(&b, ',');
	jsonw_key(&b, "target_quality");
	jsonw_double(&b, r->o->target_quality);
	buf_putc(&b, ',');
	jsonw_key(&b, "budget_usd");
	jsonw_double(&b, r->o->budget_usd);
	buf_puts(&b, "}\n");
	char *path = fio_join(dir, "recommended.json");
	int rc = fio_write_atomic(path, b.data, b.len, err);
	free(path);
	buf_free(&b);
	return rc;
}

int sw_write_csvs(const struct sw_run *r, const char *dir, struct se_err *err)
{
	if (write_csv(r, dir, "sweep.csv", false, err) ||
	    write_csv(r, dir, "pareto.csv", true, err))
		return -1;
	return write_recommended(r, dir, err);
}

/* ---- routing block ---- */

static void slot_str(const struct sw_run *r, struct buf *b, uint8_t sl)
{
	jsonw_str(b, r->s->slot_name[sl]);
}

void sw_routing_json(const struct sw_run *r, const struct sw_policy *p, struct buf *b)
{
	const struct sw_store *s = r->s;
	uint8_t def = p->band_slot[0];
	buf_puts(b, "{\n  \"rules\": [");
	if (p->kind == SW_COMPLEXITY) {
		buf_puts(b,
			 "\n    {\"complexity\": {\"estimator\": \"chars/4\", \"thresholds\": [");
		for (int i = 0; i + 1 < p->nbands; i++)
			buf_printf(b, "%s%ld", i ? ", " : "", p->thr[i]);
		buf_puts(b, "], \"slots\": [");
		for (int i = 0; i < p->nbands; i++) {
			if (i)
				buf_puts(b, ", ");
			slot_str(r, b, p->band_slot[i]);
		}
		buf_puts(b, "]}}\n  ");
		def = p->band_slot[p->nbands - 1];
	} else if (p->kind == SW_TASK_MAP) {
		long items[SW_MAX_SLOTS] = {0};
		long *per_task = xcalloc(s->ntasks + 1, sizeof(long));
		for (size_t k = 0; k < s->ncomplete; k++)
			per_task[s->task_rank[s->task[s->order[k]]]]++;
		bool no_task = false;
		for (size_t t = 0; t < s->ntasks; t++) {
			items[p->task_slot[t]] += per_task[t];
			if (!s->task_sorted[t][0]) {
				no_task = true;
				def = p->task_slot[t];
			}
		}
		free(per_task);
		if (!no_task) {
			def = r->order[0];
			for (size_t i = 1; i < r->norder; i++)
				if (items[r->order[i]] > items[def])
					def = r->order[i];
		}
		bool first = true;
		for (size_t i = 0; i < r->norder; i++) {
			uint8_t sl = r->order[i];
			if (sl == def || items[sl] == 0)
				continue;
			buf_puts(b, first ? "\n    {\"task\": [" : ",\n    {\"task\": [");
			first = false;
			bool ft = true;
			for (size_t t = 0; t < s->ntasks; t++) {
				if (p->task_slot[t] != sl)
					continue;
				if (!ft)
					buf_puts(b, ", ");
				ft = false;
				jsonw_str(b, s->task_sorted[t]);
			}
			buf_puts(b, "], \"slot\": ");
			slot_str(r, b, sl);
			buf_putc(b, '}');
		}
		if (!first)
			buf_puts(b, "\n  ");
	}
	buf_puts(b, "],\n  \"default\": ");
	slot_str(r, b, def);
	buf_puts(b, "\n}\n");
}

/* ---- stdout ---- */

static void pct_cell(char *out, size_t size, double v)
{
	if (isnan(v))
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%.1f", v * 100.0);
}

/* What was swept: items, slots, the grid and the policy counts. */
static void print_header(const struct sw_run *r, const char *dir, FILE *out)
{
	const struct sw_store *s = r->s;
	fprintf(out,
		"sweep: %zu items simulated, %zu skipped (no result from a needed slot's "
		"model or no est_tokens)\n",
		s->ncomplete, s->nskipped);
	fprintf(out, "slots in band order:");
	for (size_t i = 0; i < r->norder; i++)
		fprintf(out, "%s%s", i ? ", " : " ", s->slot_name[r->order[i]]);
	fprintf(out, "; est_tokens grid: %d%% steps", r->grid_step);
	if (r->n_cur_thr) {
		fprintf(out, " + current thresholds");
		for (size_t i = 0; i < r->n_cur_thr; i++)
			fprintf(out, "%s%ld", i ? ", " : " ", r->cur_thr[i]);
	}
	fputc('\n', out);
	size_t nf = 0;
	for (size_t i = 0; i < r->np; i++)
		nf += r->p[i].on_frontier;
	fprintf(out,
		"policies: %zu (current %zu, single %zu, complexity %zu%s, task_map %zu%s); "
		"on the frontier: %zu\n",
		r->np, r->count[SW_CURRENT], r->count[SW_SINGLE], r->count[SW_COMPLEXITY],
		r->complexity_truncated ? ", cut at --max-policies" : "", r->count[SW_TASK_MAP],
		r->task_greedy ? ", greedy" : "", nf);
	fprintf(out, "wrote %s/sweep.csv and %s/pareto.csv\n\n", dir, dir);
}

/* The frontier table, cheapest first, against the current policy. */
static void print_frontier(const struct sw_run *r, FILE *out)
{
	const struct sw_policy *cur = &r->p[0];
	fprintf(out, "frontier, cheapest first (* recommended, = current)\n");
	fprintf(out, "    %4s  %-10s  %-20s  %12s  %9s  %9s  %9s  %12s  %s\n", "id", "kind",
		"pass rate [95% CI]", "USD/1k", "p50 ms", "p95 ms", "delta pts", "USD/1k delta",
		"policy");
	size_t n;
	size_t *idx = frontier(r, true, &n);
	for (size_t i = 0; i < n; i++) {
		const struct sw_policy *p = &r->p[idx[i]];
		char rate[16], lo[16], hi[16], ci[64], cost[24], p50[24], p95[24], dq[24], dc[24];
		pct_cell(rate, sizeof(rate), (double)p->passed / (double)p->n);
		pct_cell(lo, sizeof(lo), p->lo);
		pct_cell(hi, sizeof(hi), p->hi);
		snprintf(ci, sizeof(ci), "%s%% [%s, %s]", rate, lo, hi);
		num(cost, sizeof(cost), "%.4f", p->cost_1k);
		num(p50, sizeof(p50), "%.0f", p->p50);
		num(p95, sizeof(p95), "%.0f", p->p95);
		num(dq, sizeof(dq), "%+.1f",
		    (double)(p->passed - cur->passed) * 100.0 / (double)p->n);
		num(dc, sizeof(dc), "%+.4f", p->cost_1k - cur->cost_1k);
		char mark = (int)idx[i] == r->rec ? '*' : idx[i] == 0 ? '=' : ' ';
		fprintf(out, "  %c %4d  %-10s  %-20s  %12s  %9s  %9s  %9s  %12s  %s\n", mark, p->id,
			sw_kind_names[p->kind], ci, cost[0] ? cost : "-", p50[0] ? p50 : "-",
			p95[0] ? p95 : "-", dq, dc[0] ? dc : "-", p->desc);
	}
	free(idx);
	fputc('\n', out);
}

/* The recommended policy, its routing block and the caveat. */
static void print_recommendation(const struct sw_run *r, FILE *out)
{
	const struct sw_policy *cur = &r->p[0];
	if (r->rec < 0) {
		fprintf(out, "no recommendation: no policy meets the rule (%s)\n", r->rec_rule);
		return;
	}
	const struct sw_policy *p = &r->p[r->rec];
	fprintf(out, "recommended (%s", r->rec_rule);
	if (!isnan(r->o->target_quality))
		fprintf(out, "; target %g", r->o->target_quality);
	if (!isnan(r->o->budget_usd))
		fprintf(out, "; budget %g USD per 1k items", r->o->budget_usd);
	fprintf(out, "): policy %d, %s\n", p->id, p->desc);
	fprintf(out, "  pass rate %.1f%% (current %.1f%%), %.4f USD per 1k items (current %.4f)\n",
		100.0 * (double)p->passed / (double)p->n,
		100.0 * (double)cur->passed / (double)cur->n, p->cost_1k, cur->cost_1k);
	if (p->kind == SW_CURRENT) {
		fprintf(out, "keep the current routing: no simulated policy does better\n");
		return;
	}
	struct buf b;
	buf_init(&b);
	sw_routing_json(r, p, &b);
	fprintf(out, "routing block (the value of \"routing\" in the eval config):\n%s", b.data);
	buf_free(&b);
	/* The best of many policies scored on the same items is optimistic: the
	 * winner's figures include its luck. Say so, with the remedy. */
	fprintf(out,
		"note: chosen among %zu policies on the same %ld items, so its figures are "
		"optimistic;\n      --holdout F or --folds K measure by how much; confirm it with "
		"a run on other items\n      (another --shard or dataset) before adopting it\n",
		r->np, cur->n);
}

void sw_print(const struct sw_run *r, const char *dir, FILE *out)
{
	print_header(r, dir, out);
	print_frontier(r, out);
	print_recommendation(r, out);
}
