/* plan.c: the pilot's paired tables -> items needed and cost (plan.h).
 *
 * Decisions (README "plan"):
 * - pairs are pairs.csv's overall rows: each shadow's line against the
 *   primary line on the items where both exist (fallbacks left out);
 * - the design keeps the pilot's discordance psi = (only_primary +
 *   only_shadow) / n and asks for a gap of delta: a discordant item favours
 *   the better model with probability (psi + delta) / (2 psi). The gap cannot
 *   be larger than the discordance, so psi is raised to delta when the pilot
 *   saw less (shown as psi_used); a pilot without discordant items thus asks
 *   the smallest run where every discordant item goes one way;
 * - the observed gap of the pilot is shown, not used: planning on it would be
 *   planning on noise;
 * - cost per item: the sum of every known cost of the pilot (every model,
 *   every role: what a run of the same eval spends) over its items; lines
 *   without a cost are counted and shown.
 */
#include "plan/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "stats/power.h"
#include "summarize/summarize.h"

void plan_opts_init(struct plan_opts *o)
{
	o->delta = NAN;
	o->power = 0.8;
	o->alpha = STATS_ALPHA;
	o->max_items = 10000000;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nrows; i++)
		free(p->rows[i].shadow);
	free(p->rows);
	p->rows = NULL;
	p->nrows = 0;
}

int plan_compute(const char *dir, const struct plan_opts *o, struct plan *p, struct se_err *err)
{
	memset(p, 0, sizeof(*p));
	p->opts = *o;
	char *path = fio_join(dir, "results.jsonl");
	struct sum_store s;
	sum_store_init(&s);
	int rc = 0;
	if (access(path, F_OK) != 0)
		rc = se_fail(err, SE_INPUT, path, "the pilot run folder has no results.jsonl");
	if (!rc)
		rc = sum_store_load(&s, path, err);
	if (!rc)
		rc = sum_store_finish(&s, path, err);
	if (rc)
		goto out;
	size_t nm = s.nmodels;
	struct stats_pair *t = xcalloc(nm + 1, sizeof(*t));
	double cost = 0;
	long known = 0;
	for (size_t i = 0; i < s.ncells; i++) {
		if (isnan(s.cells[i].cost_usd)) {
			p->cost_unknown++;
		} else {
			cost += s.cells[i].cost_usd;
			known++;
		}
	}
	struct sum_view v;
	sum_view_init(&v, &s);
	for (size_t r = 0; r < s.nitems; r++) {
		sum_view_load(&v, &s, r);
		if (!v.primary)
			continue;
		for (size_t m = 0; m < nm; m++)
			if (v.shadow[m])
				stats_pair_add(&t[m], v.primary->flags & SUM_F_PASS,
					       v.shadow[m]->flags & SUM_F_PASS);
	}
	sum_view_free(&v);
	p->items = (long)s.nitems;
	p->cost_per_item = known && s.nitems ? cost / (double)s.nitems : NAN;
	p->rows = xcalloc(nm + 1, sizeof(*p->rows));
	double d = o->delta / 100.0;
	for (size_t m = 0; m < nm; m++) {
		if (t[m].n == 0)
			continue;
		struct plan_row *w = &p->rows[p->nrows++];
		w->shadow = xstrdup(s.model_name[m]);
		w->n = t[m].n;
		w->only_primary = t[m].only_a;
		w->only_shadow = t[m].only_b;
		w->psi = (double)(t[m].only_a + t[m].only_b) / (double)t[m].n;
		w->psi_used = w->psi < d ? d : w->psi;
		w->observed_delta = 100.0 * (double)(t[m].only_b - t[m].only_a) / (double)t[m].n;
		w->needed =
		    stats_mcnemar_n(w->psi_used, d, o->alpha, o->power, o->max_items, &w->achieved);
		w->approx = stats_mcnemar_n_approx(w->psi_used, d, o->alpha, o->power);
		w->cost_usd = w->needed > 0 ? (double)w->needed * p->cost_per_item : NAN;
	}
	/* the run must serve every comparison: its size is the largest need,
	 * unless one of them needs more than max_items (0) */
	bool beyond = false;
	for (size_t i = 0; i < p->nrows; i++) {
		if (p->rows[i].needed == 0)
			beyond = true;
		else if (p->rows[i].needed > p->needed)
			p->needed = p->rows[i].needed;
	}
	if (beyond)
		p->needed = 0;
	p->cost_usd = p->needed > 0 ? (double)p->needed * p->cost_per_item : NAN;
	free(t);
out:
	sum_store_free(&s);
	free(path);
	return rc;
}

static void fmt_usd(struct sum_line *l, double v)
{
	if (isnan(v))
		sum_line_str(l, "-");
	else
		sum_line_printf(l, "%.4f", v);
}

void plan_write_text(const struct plan *p, FILE *out)
{
	fprintf(out,
		"plan: items needed to detect a gap of %g points between each shadow and the "
		"primary\n(exact McNemar, two-sided alpha %g, power %g; discordance from the "
		"pilot's %ld items)\n",
		p->opts.delta, p->opts.alpha, p->opts.power, p->items);
	if (!p->nrows) {
		fprintf(out, "(no shadow results in the pilot: nothing to plan)\n");
		return;
	}
	struct sum_tab t;
	sum_tab_init(&t);
	static const char *const th[] = {"shadow",	   "pilot n",	   "discordant",
					 "observed delta", "items needed", "exact power",
					 "normal approx",  "run USD"};
	struct sum_line *h = sum_tab_row(&t);
	for (size_t i = 0; i < sizeof(th) / sizeof(th[0]); i++)
		sum_line_str(h, th[i]);
	for (size_t i = 0; i < p->nrows; i++) {
		const struct plan_row *w = &p->rows[i];
		struct sum_line *l = sum_tab_row(&t);
		sum_line_str(l, w->shadow);
		sum_line_long(l, w->n);
		if (w->psi_used > w->psi)
			sum_line_printf(l, "%.1f%% (used %.1f%%)", 100 * w->psi, 100 * w->psi_used);
		else
			sum_line_printf(l, "%.1f%%", 100 * w->psi);
		sum_line_printf(l, "%+.1f pts", w->observed_delta);
		if (w->needed > 0)
			sum_line_long(l, w->needed);
		else
			sum_line_printf(l, "> %ld", p->opts.max_items);
		if (w->needed > 0)
			sum_line_printf(l, "%.3f", w->achieved);
		else
			sum_line_str(l, "-");
		sum_line_printf(l, "%.0f", ceil(w->approx));
		fmt_usd(l, w->cost_usd);
	}
	static const bool right[] = {false, true, true, true, true, true, true, true};
	t.right = xmalloc(sizeof(right));
	memcpy(t.right, right, sizeof(right));
	sum_tab_print(&t, out);
	sum_tab_free(&t);
	if (isnan(p->cost_per_item))
		fprintf(out, "\ncost: unknown (no line of the pilot has a cost)\n");
	else if (p->needed > 0)
		fprintf(out,
			"\na run of %ld items serves every comparison: about $%.4f at the pilot's "
			"$%.6f per item%s\n",
			p->needed, p->cost_usd, p->cost_per_item,
			p->cost_unknown ? " (some pilot lines had no cost: a lower bound)" : "");
	else
		fprintf(out,
			"\nsome comparison needs more than %ld items: the gap is too small "
			"for this discordance\n",
			p->opts.max_items);
}
