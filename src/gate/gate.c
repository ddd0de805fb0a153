/* gate.c: the regression gate's comparison: two run folders -> struct
 * gate_report (checks, per-model figures, notes). No output here (gate_out.c)
 * and no flag parsing (cmd_check.c).
 *
 * Both results.jsonl files are read through summarize's compact store
 * (sum_store_load / sum_store_finish / sum_view_load), so an item's policy
 * result, the duplicate and unknown-status errors and the latency and cost
 * accumulators are exactly those of the CSV summaries.
 *
 * Decisions (README "check"):
 * - What is gated is the routing policy, i.e. what production would have
 *   served: per item its policy result (the primary line when ok, else an ok
 *   fallback line, else the failed primary; summarize's definition). Items
 *   are paired by item_id; only items present in both runs, with a policy
 *   result in both, are compared ("paired"). Items in one run only are
 *   counted and reported, never compared. No item in common is an input
 *   error (exit 2).
 * - Quality: pass rate, current - baseline, in percentage points, with
 *   Newcombe's paired 95% interval and the exact McNemar p-value (stats.h).
 *   Rule: with a tolerance of T points (--max-pass-drop, default 0) and
 *   alpha (--alpha, default 0.05), a drop D fails when
 *       D > T  and  (McNemar p < alpha  or  D > 10 points).
 *   That is: a drop beyond the tolerance fails when it is significant; and
 *   a drop of more than max(T, 10) points fails whatever its p-value, so that
 *   a small sample cannot hide a disaster (20 items, 3 flipped to failing:
 *   15 points, p = 0.25). On more than ~100 items a 10-point drop is
 *   significant anyway, so the second clause only acts on small samples. The
 *   interval is always 95% (for reading); the decision uses the test.
 * - Cost: cost per 1,000 items of the policy results (cache hits included:
 *   it is what production would pay), on the paired items whose cost is
 *   known in both runs (like for like; how many were left out is noted). It
 *   fails when it rises by more than --max-cost-increase percent (default
 *   10); from 0 to more than 0 is an infinite rise. No item with a known cost
 *   in both runs skips the check with a note.
 * - Latency: type-7 p95 of the policy results' latency_ms on the paired
 *   items, cache hits excluded (their latency is the cache's), errored
 *   results included (a timeout is latency production sees). It fails when
 *   it rises by more than --max-p95-increase percent (default 25). When a
 *   side has no latency value (a replayed run: every result a cache hit) the
 *   check is skipped with a note, not failed.
 * - Per model (every model in both runs): its primary or shadow answers,
 *   paired on the items it answered in both runs; pass rates, delta,
 *   interval and McNemar p are reported as information. They never fail the
 *   gate: a shadow candidate getting worse is not a regression of what is
 *   served; only the three policy checks above are. The models' p-values are
 *   one family, adjusted with --correction (Holm by default; stats.h) and
 *   shown beside the raw p. The pass_rate check is the gate's only test (cost
 *   and latency are tolerances, not tests), a family of one: no adjustment
 *   changes it.
 * - Win rate (only with --min-win-rate R): the judge's pairwise verdicts of
 *   the current run (each shadow against its reference, results.jsonl's
 *   `pairwise`). Per shadow, wins / (wins + losses) with its Wilson 95%
 *   interval (stats/pairwise.h); the check fails when a shadow's upper
 *   bound is below R, i.e. its win rate is below R beyond sampling noise.
 *   The shadow with the lowest upper bound is shown, with its win rate in
 *   the baseline beside it (delta in points) when the baseline has verdicts
 *   for it. No decided verdict skips the check with a note.
 * - Run identity: a different config_sha256 is expected (checking a routing
 *   change is the point) and only reported; a different dataset_sha256 is
 *   reported prominently (items are paired by id, which may then name other
 *   questions). A run folder without manifest.json is accepted (hashes
 *   "unknown"); a malformed one is an input error.
 */
#include "gate/gate.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "manifest/manifest.h"
#include "stats/pairwise.h"
#include "stats/stats.h"
#include "summarize/summarize.h"

/* Rounding slack for comparisons with a tolerance: figures come from counts
 * and sums, a tolerance of exactly the observed change must pass. */
#define GATE_EPS 1e-9

void gate_opts_init(struct gate_opts *o)
{
	o->max_pass_drop = 0;
	o->max_cost_increase = 10;
	o->max_p95_increase = 25;
	o->alpha = STATS_ALPHA;
	o->correction = STATS_HOLM;
	o->min_win_rate = NAN;
}

int gate_nchecks(const struct gate_report *r)
{
	return isnan(r->opts.min_win_rate) ? GATE_NCHECKS - 1 : GATE_NCHECKS;
}

/* One run folder, loaded. */
struct gate_run {
	struct sum_store s;
	bool has_manifest;
	struct man_read man;
};

static int run_load(struct gate_run *x, const char *dir, const char *what, struct se_err *err)
{
	struct stat st;
	if (stat(dir, &st) != 0)
		return se_fail(err, SE_INPUT, dir, "%s run folder not found: %s", what,
			       strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return se_fail(err, SE_INPUT, dir, "%s run folder is not a folder", what);
	char *path = fio_join(dir, "results.jsonl");
	int rc = 0;
	if (access(path, F_OK) != 0)
		rc = se_fail(err, SE_INPUT, path, "%s run folder has no results.jsonl", what);
	else if (sum_store_load(&x->s, path, err) || sum_store_finish(&x->s, path, err))
		rc = -1;
	free(path);
	if (rc)
		return -1;
	path = fio_join(dir, "manifest.json");
	x->has_manifest = access(path, F_OK) == 0;
	free(path);
	if (x->has_manifest && man_read(dir, &x->man, err))
		return -1;
	return 0;
}

static void note(struct gate_report *r, const char *fmt, ...) SE_PRINTF(2, 3);
static void note(struct gate_report *r, const char *fmt, ...)
{
	if (r->nnotes >= GATE_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->notes[r->nnotes++], sizeof(r->notes[0]), fmt, ap);
	va_end(ap);
}

static void why(struct gate_check *c, const char *fmt, ...) SE_PRINTF(2, 3);
static void why(struct gate_check *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* Pass or fail of two answers to one item (a: baseline, b: current) into t. */
static void pair_add(struct stats_pair *t, const struct sum_cell *a, const struct sum_cell *b)
{
	stats_pair_add(t, a->flags & SUM_F_PASS, b->flags & SUM_F_PASS);
}

/* The figures of current against baseline, the delta and its interval in
 * percentage points (the unit of --max-pass-drop). */
static void pair_figures(const struct stats_pair *t, double *base, double *cur, double *delta,
			 double *lo, double *hi, double *pv)
{
	struct stats_pair_figures f;
	stats_pair_figures(t, &f);
	*base = f.rate_a;
	*cur = f.rate_b;
	*delta = 100.0 * f.delta;
	*lo = 100.0 * f.lo;
	*hi = 100.0 * f.hi;
	*pv = f.p;
}

/* A model's own answer to an item: its primary line, else its shadow line
 * (fallback lines answer for another slot's failure, not as the model). */
static const struct sum_cell *own_answer(const struct sum_view *v, size_t model)
{
	const struct sum_cell *c = v->answer[model];
	return c && c->role != RES_FALLBACK ? c : NULL;
}

/* Models in both runs: report entries and their index in each store. */
static size_t match_models(struct gate_report *r, const struct sum_store *b,
			   const struct sum_store *c, size_t **mb, size_t **mc)
{
	size_t n = 0, i = 0, j = 0;
	size_t cap = (b->nmodels < c->nmodels ? b->nmodels : c->nmodels) + 1;
	*mb = xmalloc(cap * sizeof(**mb));
	*mc = xmalloc(cap * sizeof(**mc));
	r->models = xcalloc(cap, sizeof(*r->models));
	while (i < b->nmodels && j < c->nmodels) {
		int d = strcmp(b->model_name[i], c->model_name[j]);
		if (d < 0) {
			i++;
		} else if (d > 0) {
			j++;
		} else {
			(*mb)[n] = i;
			(*mc)[n] = j;
			r->models[n].name = xstrdup(b->model_name[i]);
			n++, i++, j++;
		}
	}
	r->nmodels = n;
	return n;
}

static const char *item_name(const struct sum_store *s, size_t rank)
{
	return s->items.name[s->order[rank]];
}

/* Everything the checks need, summed over the paired items. */
struct gate_sums {
	struct stats_pair quality;
	struct sum_acc base, cur; /* policy results: latency, errors, cache hits */
	long ncost;		  /* items with a known cost in both runs */
	double cost_base, cost_cur;
};

static void walk_items(struct gate_report *r, const struct sum_store *b, const struct sum_store *c,
		       struct gate_sums *x)
{
	size_t *mb, *mc;
	size_t nm = match_models(r, b, c, &mb, &mc);
	struct stats_pair *mp = xcalloc(nm + 1, sizeof(*mp));
	struct sum_view vb, vc;
	sum_view_init(&vb, b);
	sum_view_init(&vc, c);
	size_t i = 0, j = 0;
	while (i < b->nitems && j < c->nitems) {
		int d = strcmp(item_name(b, i), item_name(c, j));
		if (d < 0) {
			r->only_base++, i++;
			continue;
		}
		if (d > 0) {
			r->only_cur++, j++;
			continue;
		}
		sum_view_load(&vb, b, i++);
		sum_view_load(&vc, c, j++);
		for (size_t m = 0; m < nm; m++) {
			const struct sum_cell *ab = own_answer(&vb, mb[m]),
					      *ac = own_answer(&vc, mc[m]);
			if (ab && ac)
				pair_add(&mp[m], ab, ac);
		}
		if (!vb.policy || !vc.policy) {
			r->no_policy++;
			continue;
		}
		r->paired++;
		pair_add(&x->quality, vb.policy, vc.policy);
		sum_acc_add(&x->base, vb.policy);
		sum_acc_add(&x->cur, vc.policy);
		if (!isnan(vb.policy->cost_usd) && !isnan(vc.policy->cost_usd)) {
			x->ncost++;
			x->cost_base += vb.policy->cost_usd;
			x->cost_cur += vc.policy->cost_usd;
		}
	}
	r->only_base += b->nitems - i;
	r->only_cur += c->nitems - j;
	for (size_t m = 0; m < nm; m++) {
		struct gate_model *g = &r->models[m];
		g->n = mp[m].n;
		g->both = mp[m].both;
		g->only_base = mp[m].only_a;
		g->only_cur = mp[m].only_b;
		g->neither = mp[m].neither;
		pair_figures(&mp[m], &g->base_rate, &g->cur_rate, &g->delta, &g->lo, &g->hi, &g->p);
	}
	double *pv = xcalloc(nm + 1, sizeof(*pv));
	size_t *order = xcalloc(nm + 1, sizeof(*order));
	for (size_t m = 0; m < nm; m++)
		pv[m] = r->models[m].n ? r->models[m].p : NAN;
	stats_adjust(pv, nm, r->opts.correction, pv, order);
	for (size_t m = 0; m < nm; m++)
		r->models[m].p_adj = pv[m];
	free(pv);
	free(order);
	sum_view_free(&vb);
	sum_view_free(&vc);
	free(mp);
	free(mb);
	free(mc);
}

/* A check with every figure unknown. */
static struct gate_check *check_init(struct gate_report *r, enum gate_check_id id, const char *name,
				     double limit)
{
	struct gate_check *c = &r->checks[id];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->limit = limit;
	c->base = c->cur = c->delta = c->lo = c->hi = c->p = NAN;
	return c;
}

static void check_quality(struct gate_report *r, const struct stats_pair *q)
{
	struct gate_check *c = check_init(r, GATE_QUALITY, "pass_rate", r->opts.max_pass_drop);
	c->n = q->n;
	c->base_k = q->both + q->only_a;
	c->cur_k = q->both + q->only_b;
	pair_figures(q, &c->base, &c->cur, &c->delta, &c->lo, &c->hi, &c->p);
	double drop = -c->delta, tol = c->limit, alpha = r->opts.alpha;
	char what[160];
	snprintf(what, sizeof(what), "%.1f%% -> %.1f%% on %ld paired items", 100 * c->base,
		 100 * c->cur, c->n);
	if (drop > tol + GATE_EPS && c->p < alpha) {
		c->verdict = GATE_FAIL;
		why(c,
		    "pass rate fell %.1f points (%s): significant (McNemar p = %.3g < %g) and "
		    "beyond "
		    "the %g-point tolerance",
		    drop, what, c->p, alpha, tol);
	} else if (drop > tol + GATE_EPS && drop > GATE_FLOOR_PTS + GATE_EPS) {
		c->verdict = GATE_FAIL;
		why(c,
		    "pass rate fell %.1f points (%s): a drop of more than %g points fails even "
		    "when "
		    "not significant (McNemar p = %.3g)",
		    drop, what, GATE_FLOOR_PTS, c->p);
	} else if (drop <= GATE_EPS) {
		c->verdict = GATE_PASS;
		why(c, "pass rate did not fall (%s)", what);
	} else if (drop <= tol + GATE_EPS) {
		c->verdict = GATE_PASS;
		why(c, "pass rate fell %.1f points (%s), within the %g-point tolerance", drop, what,
		    tol);
	} else {
		c->verdict = GATE_PASS;
		why(c,
		    "pass rate fell %.1f points (%s), not significant (McNemar p = %.3g >= %g) and "
		    "not more than %g points",
		    drop, what, c->p, alpha, GATE_FLOOR_PTS);
	}
}

/* Percent change from a to b; +inf from 0 to more. */
static double pct_change(double a, double b)
{
	if (a > 0)
		return 100.0 * (b - a) / a;
	return b > 0 ? INFINITY : 0.0;
}

static void check_cost(struct gate_report *r, const struct gate_sums *x)
{
	struct gate_check *c =
	    check_init(r, GATE_COST, "cost_per_1k_items", r->opts.max_cost_increase);
	c->n = x->ncost;
	if (x->ncost == 0) {
		c->verdict = GATE_SKIP;
		why(c,
		    "skipped: no paired item has a known cost in both runs (unknown: %ld in the "
		    "baseline, %ld in the current run)",
		    x->base.cost_unknown, x->cur.cost_unknown);
		note(r, "cost check skipped: no paired item has a known cost in both runs");
		return;
	}
	if ((size_t)x->ncost < r->paired)
		note(r,
		     "cost compared on %ld of %zu paired items: the others have no known cost in "
		     "one run (cost_source unknown)",
		     x->ncost, r->paired);
	c->base = sum_cost_per_1k(x->cost_base, x->ncost, 0);
	c->cur = sum_cost_per_1k(x->cost_cur, x->ncost, 0);
	c->delta = pct_change(c->base, c->cur);
	if (c->delta > c->limit + GATE_EPS) {
		c->verdict = GATE_FAIL;
		why(c, "cost per 1,000 items rose %.1f%% (%.6g -> %.6g USD), more than %g%%",
		    c->delta, c->base, c->cur, c->limit);
	} else {
		c->verdict = GATE_PASS;
		why(c, "cost per 1,000 items changed %+.1f%% (%.6g -> %.6g USD), limit +%g%%",
		    c->delta, c->base, c->cur, c->limit);
	}
}

static void check_latency(struct gate_report *r, struct gate_sums *x)
{
	struct gate_check *c =
	    check_init(r, GATE_LATENCY, "latency_p95_ms", r->opts.max_p95_increase);
	c->n = (long)r->paired;
	c->base = sum_fvec_pct(&x->base.lat, 95);
	c->cur = sum_fvec_pct(&x->cur.lat, 95);
	if (x->base.lat.n == 0 || x->cur.lat.n == 0) {
		const char *side = x->base.lat.n == 0 ? "baseline" : "current run";
		const struct sum_acc *a = x->base.lat.n == 0 ? &x->base : &x->cur;
		c->verdict = GATE_SKIP;
		why(c, "skipped: no latency in the %s (%ld of %ld policy results are cache hits)",
		    side, a->cached, a->n);
		note(
		    r,
		    "latency check skipped: the %s has no latency value (%ld of %ld policy results "
		    "are cache hits, e.g. a replayed run)",
		    side, a->cached, a->n);
		return;
	}
	c->delta = pct_change(c->base, c->cur);
	if (c->delta > c->limit + GATE_EPS) {
		c->verdict = GATE_FAIL;
		why(c, "latency p95 rose %.1f%% (%.0f -> %.0f ms), more than %g%%", c->delta,
		    c->base, c->cur, c->limit);
	} else {
		c->verdict = GATE_PASS;
		why(c, "latency p95 changed %+.1f%% (%.0f -> %.0f ms), limit +%g%%", c->delta,
		    c->base, c->cur, c->limit);
	}
}

/* Wins and losses of shadow `name` in the run's pairwise verdicts. */
static void shadow_wins(const struct sum_store *s, const char *name, long *wins, long *losses)
{
	*wins = *losses = 0;
	for (size_t i = 0; i < s->ncells; i++) {
		const struct sum_cell *c = &s->cells[i];
		if (c->role != RES_SHADOW || strcmp(s->model_name[c->model], name))
			continue;
		*wins += (c->pw & SUM_PW_OUTCOME) == RES_PW_WIN;
		*losses += (c->pw & SUM_PW_OUTCOME) == RES_PW_LOSS;
	}
}

/* The win-rate check: every shadow of the current run with pairwise
 * verdicts; it fails when one's Wilson 95% upper bound is below the
 * minimum. The row shows the shadow with the lowest upper bound. */
static void check_win_rate(struct gate_report *r, const struct sum_store *b,
			   const struct sum_store *c)
{
	struct gate_check *k = check_init(r, GATE_WIN_RATE, "win_rate", r->opts.min_win_rate);
	const char *worst = NULL;
	int failing = 0;
	for (size_t m = 0; m < c->nmodels; m++) {
		long w, l;
		shadow_wins(c, c->model_name[m], &w, &l);
		if (w + l == 0)
			continue;
		struct stats_win_figures f;
		stats_win_rate(w, l, r->opts.alpha, &f);
		failing += f.hi < k->limit - GATE_EPS;
		if (worst && f.hi >= k->hi)
			continue;
		worst = c->model_name[m];
		k->cur = f.rate;
		k->lo = f.lo;
		k->hi = f.hi;
		k->p = f.p;
		k->n = w + l;
		k->cur_k = w;
		long bw, bl;
		shadow_wins(b, worst, &bw, &bl);
		k->base_k = bw;
		k->base = (bw + bl) > 0 ? (double)bw / (double)(bw + bl) : NAN;
		k->delta = isnan(k->base) ? NAN : 100 * (k->cur - k->base);
	}
	if (!worst) {
		k->verdict = GATE_SKIP;
		why(k, "skipped: no shadow of the current run has a decided pairwise verdict");
		note(r, "win-rate check skipped: no pairwise verdict (does the eval have a "
			"pairwise check?)");
		return;
	}
	k->verdict = failing ? GATE_FAIL : GATE_PASS;
	why(k,
	    "%s: win rate %.1f%% [%.1f, %.1f] over %ld decided items (%ld wins); %s the "
	    "minimum %g%% %s",
	    worst, 100 * k->cur, 100 * k->lo, 100 * k->hi, k->n, k->cur_k,
	    failing ? "its 95% interval lies below" : "its 95% interval reaches", 100 * k->limit,
	    failing > 1 ? "(and other shadows fail too)" : "");
}

static int hash_same(const struct gate_run *b, const struct gate_run *c, const char *hb,
		     const char *hc)
{
	if (!b->has_manifest || !c->has_manifest)
		return -1;
	return strcmp(hb, hc) == 0;
}

/* The notes a report carries on what differs between the two runs or was
 * left out of the comparison. */
static void note_differences(struct gate_report *r, const struct gate_run *b,
			     const struct gate_run *c)
{
	if (r->dataset_same == 0)
		note(
		    r,
		    "the dataset differs (dataset_sha256 %.12s in the baseline, %.12s here): items "
		    "are paired by item_id",
		    r->base_dataset, r->cur_dataset);
	else if (r->dataset_same < 0)
		note(r, "dataset hashes unknown: no manifest.json in %s",
		     !b->has_manifest ? "the baseline" : "the current run");
	if (r->only_base || r->only_cur)
		note(r,
		     "%zu items only in the baseline and %zu only in the current run: not compared",
		     r->only_base, r->only_cur);
	if (r->no_policy)
		note(
		    r,
		    "%zu items in both runs lack a primary or fallback result in one: not compared",
		    r->no_policy);
	if (b->s.torn || c->s.torn)
		note(r, "a torn last line of results.jsonl was ignored (%s)",
		     b->s.torn && c->s.torn ? "both runs"
		     : b->s.torn	    ? "baseline"
					    : "current run");
}

int gate_compare(const char *dir, const char *baseline, const struct gate_opts *o,
		 struct gate_report *r, struct se_err *err)
{
	memset(r, 0, sizeof(*r));
	r->dir = dir;
	r->baseline = baseline;
	r->opts = *o;
	struct gate_run b, c;
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	sum_store_init(&b.s);
	sum_store_init(&c.s);
	struct gate_sums x;
	memset(&x, 0, sizeof(x));
	int rc = -1;
	if (run_load(&b, baseline, "baseline", err) || run_load(&c, dir, "current", err))
		goto out;
	r->base_items = b.s.nitems;
	r->cur_items = c.s.nitems;
	if (b.has_manifest)
		memcpy(r->base_dataset, b.man.dataset_sha256, sizeof(r->base_dataset));
	if (c.has_manifest)
		memcpy(r->cur_dataset, c.man.dataset_sha256, sizeof(r->cur_dataset));
	r->dataset_same = hash_same(&b, &c, b.man.dataset_sha256, c.man.dataset_sha256);
	r->config_same = hash_same(&b, &c, b.man.config_sha256, c.man.config_sha256);

	walk_items(r, &b.s, &c.s, &x);
	if (r->paired == 0) {
		if (r->no_policy == 0)
			rc = se_fail(
			    err, SE_INPUT, dir,
			    "no item in common with the baseline \"%s\" (%zu items here, %zu "
			    "there): not runs of the same dataset",
			    baseline, r->cur_items, r->base_items);
		else
			rc = se_fail(
			    err, SE_INPUT, dir,
			    "no item has a policy (primary or fallback) result in both this "
			    "run and the baseline \"%s\"",
			    baseline);
		goto out;
	}
	note_differences(r, &b, &c);
	check_quality(r, &x.quality);
	check_cost(r, &x);
	check_latency(r, &x);
	if (!isnan(r->opts.min_win_rate))
		check_win_rate(r, &b.s, &c.s);
	for (int i = 0; i < gate_nchecks(r); i++)
		r->failures += r->checks[i].verdict == GATE_FAIL;
	rc = 0;
out:
	sum_acc_free(&x.base);
	sum_acc_free(&x.cur);
	sum_store_free(&b.s);
	sum_store_free(&c.s);
	if (rc)
		gate_report_free(r);
	return rc;
}

void gate_report_free(struct gate_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nmodels; i++)
		free(r->models[i].name);
	free(r->models);
	r->models = NULL;
	r->nmodels = 0;
}
