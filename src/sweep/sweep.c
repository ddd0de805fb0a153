/* sweep.c: routing policies replayed offline on a full-matrix run.
 *
 * Given, for every item, the answer of every slot's model (sw_store.c), the
 * outcome of any policy that maps items to slots is known without sending a
 * request: this file enumerates policies, computes their figures, finds the
 * cost-quality frontier and picks a recommendation. It does not read the
 * dataset (an item's token estimate and task come from results.jsonl) and
 * simulates no fallbacks.
 *
 * Decisions (README "sweep"):
 * - items: an item enters the sweep when it has est_tokens, a slot, and a
 *   result (primary or shadow row) from its own slot's model and from the
 *   model of every slot policies may use (--slots, default all). The others
 *   are skipped from every policy, so all rows share the same n, and their
 *   number is printed. Items are walked in id order: sums do not depend on
 *   the line order of results.jsonl.
 * - figures: pass_rate = passed / n with a Wilson 95% interval (stats.h);
 *   cost_usd_per_1k_items = sum of known costs / n * 1000 (an unknown cost,
 *   typically a failed request, adds nothing, as in summarize; empty when
 *   every cost is unknown); latency_ms_p50/p95: exact type-7 percentiles over
 *   the items with a known latency; deltas against the `current` row.
 * - policies, in this order (policy_id 0, 1, ...):
 *   current: each item to the slot the run routed it to (its `slot`);
 *   single: every item to one slot, one per slot;
 *   complexity: "est < t: A, else B" for every pair of slots A before B and
 *     "est < t1: A, < t2: B, else C" for every triple, in the slot order
 *     (--slots as given, else cheapest first by the mean observed cost per
 *     item). Thresholds come from a grid: the est_tokens value at rank
 *     floor(p * n / 100) of the sorted estimates for p = 5, 10, ... 95 (a
 *     threshold no item lies below is dropped), plus the current config's
 *     thresholds when manifest.json's config file still has the recorded
 *     SHA-256. An item whose estimate equals a threshold goes to the upper
 *     band, as route_pick does. A policy with a band no item falls in is
 *     skipped (it equals a smaller policy). When the grid gives more than
 *     --max-policies policies it is coarsened (10%, 20%, 25%, 50% steps),
 *     then cut;
 *   task_map: each task (by name) to one slot; all |slots|^|tasks| maps when
 *     that is at most --max-policies (maps sending everything to one slot are
 *     the single rows), else a greedy path: start with every task on the
 *     cheapest slot, then repeatedly move the one task whose move adds the
 *     most passes per extra dollar (a move that adds passes and costs nothing
 *     first), emitting each map, until no move adds passes.
 * - frontier: a row with a known cost is on it when no other row has
 *   pass_rate >= and cost <= with one strict; costs are compared rounded to
 *   10 significant digits so summation order cannot split a tie. Rows with
 *   the same figures are all on it. pareto.csv lists them by cost.
 * - recommendation, among the frontier rows, cheapest first: with
 *   --target-quality Q the cheapest with pass_rate >= Q; with --budget B the
 *   best pass rate with cost <= B (both: the cheapest meeting both); with
 *   neither, the cheapest whose pass rate is at least the current policy's
 *   (the same quality or better for the least money). No row qualifying is
 *   a finding (exit 1) after the CSVs are written. When the pick is the
 *   current policy itself, no routing block is printed: keep it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "stats/stats.h"
#include "sweep/sw_int.h"

const char *const sw_kind_names[] = {"current", "single", "complexity", "task_map"};

void sw_opts_init(struct sw_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->target_quality = NAN;
	o->budget_usd = NAN;
	o->max_policies = 5000;
}

/* ---- exact percentiles over a union of sorted arrays ---- */

struct lat_set {
	const float **v;
	size_t *n;
	size_t m, total;
};

static size_t upper_bound(const float *v, size_t n, float x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static float bits_float(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* The r-th smallest (0-based) value of the union. Values are finite and
 * >= +0, whose bit patterns sort like the values: a binary search on the
 * bits finds the smallest value with more than r values at or below it. */
static float lat_select(const struct lat_set *ls, size_t r)
{
	uint32_t lo = 0, hi = 0x7f800000u;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		float x = bits_float(mid);
		size_t c = 0;
		for (size_t i = 0; i < ls->m; i++)
			c += upper_bound(ls->v[i], ls->n[i], x);
		if (c > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return bits_float(lo);
}

/* Type 7, the same arithmetic as stats_percentile. */
static double lat_pct(const struct lat_set *ls, int pct)
{
	size_t n = ls->total;
	if (n == 0)
		return NAN;
	double h = (double)(n - 1) * (double)pct / 100.0;
	size_t i = (size_t)floor(h);
	if (i + 1 >= n)
		return lat_select(ls, n - 1);
	double f = h - (double)i;
	double a = lat_select(ls, i), b = lat_select(ls, i + 1);
	return a + f * (b - a);
}

/* ---- partitions: items grouped into atoms a policy routes as a whole ---- */

struct atom {
	long n, passed, unknown;
	double cost;
	float *lat;
	size_t nlat;
};

struct part {
	size_t natoms, nslots;
	struct atom *a; /* [atom * nslots + slot] */
	float *pool;
	struct lat_set ls;
};

static void part_build(struct part *pt, const struct sw_store *s, const bool *used,
		       const uint32_t *atom_of, size_t natoms)
{
	pt->natoms = natoms;
	pt->nslots = s->nslots;
	pt->a = xcalloc(natoms * s->nslots + 1, sizeof(*pt->a));
	size_t total = 0;
	for (size_t k = 0; k < s->ncomplete; k++)
		for (size_t sl = 0; sl < s->nslots; sl++) {
			const struct sw_cell *c = sw_cell(s, s->order[k], sl);
			if (used[sl] && !isnan(c->lat)) {
				pt->a[atom_of[k] * s->nslots + sl].nlat++;
				total++;
			}
		}
	pt->pool = xmalloc((total + 1) * sizeof(float));
	size_t off = 0;
	for (size_t i = 0; i < natoms * s->nslots; i++) {
		pt->a[i].lat = pt->pool + off;
		off += pt->a[i].nlat;
		pt->a[i].nlat = 0;
	}
	for (size_t k = 0; k < s->ncomplete; k++)
		for (size_t sl = 0; sl < s->nslots; sl++) {
			if (!used[sl])
				continue;
			const struct sw_cell *c = sw_cell(s, s->order[k], sl);
			struct atom *a = &pt->a[atom_of[k] * s->nslots + sl];
			a->n++;
			a->passed += c->pass;
			if (isnan(c->cost))
				a->unknown++;
			else
				a->cost += c->cost;
			if (!isnan(c->lat))
				a->lat[a->nlat++] = c->lat;
		}
	for (size_t i = 0; i < natoms * s->nslots; i++)
		stats_sort(pt->a[i].lat, pt->a[i].nlat);
	pt->ls.v = xcalloc(natoms + 1, sizeof(*pt->ls.v));
	pt->ls.n = xcalloc(natoms + 1, sizeof(*pt->ls.n));
}

static void part_free(struct part *pt)
{
	free(pt->a);
	free(pt->pool);
	free(pt->ls.v);
	free(pt->ls.n);
	memset(pt, 0, sizeof(*pt));
}

static double cost_key(double c)
{
	if (isnan(c))
		return NAN;
	char t[40];
	snprintf(t, sizeof(t), "%.10g", c);
	return strtod(t, NULL);
}

static void set_figures(struct sw_policy *p, long n, long passed, double cost, long unknown)
{
	p->n = n;
	p->passed = passed;
	p->cost_1k = n > 0 && unknown < n ? cost / (double)n * 1000.0 : NAN;
	p->cost_key = cost_key(p->cost_1k);
	stats_wilson(passed, n, STATS_Z95, &p->lo, &p->hi);
}

/* Figures of the policy routing atom i to slot assign[i]. */
static void part_eval(struct part *pt, const uint8_t *assign, struct sw_policy *p)
{
	long n = 0, passed = 0, unknown = 0;
	double cost = 0;
	pt->ls.m = pt->ls.total = 0;
	for (size_t i = 0; i < pt->natoms; i++) {
		const struct atom *a = &pt->a[i * pt->nslots + assign[i]];
		n += a->n;
		passed += a->passed;
		unknown += a->unknown;
		cost += a->cost;
		if (a->nlat) {
			pt->ls.v[pt->ls.m] = a->lat;
			pt->ls.n[pt->ls.m++] = a->nlat;
			pt->ls.total += a->nlat;
		}
	}
	set_figures(p, n, passed, cost, unknown);
	p->p50 = lat_pct(&pt->ls, 50);
	p->p95 = lat_pct(&pt->ls, 95);
}

/* ---- policies ---- */

static struct sw_policy *add_policy(struct sw_run *r, enum sw_kind kind)
{
	r->p = xgrow(r->p, &r->cap, r->np + 1, sizeof(*r->p));
	struct sw_policy *p = &r->p[r->np];
	memset(p, 0, sizeof(*p));
	p->id = (int)r->np++;
	p->kind = kind;
	r->count[kind]++;
	return p;
}

static void eval_current(struct sw_run *r)
{
	const struct sw_store *s = r->s;
	struct sw_policy *p = add_policy(r, SW_CURRENT);
	p->desc = xstrdup("as run (each item's slot in results.jsonl)");
	long passed = 0, unknown = 0;
	double cost = 0;
	float *lat = xmalloc((s->ncomplete + 1) * sizeof(float));
	size_t nlat = 0;
	for (size_t k = 0; k < s->ncomplete; k++) {
		uint32_t it = s->order[k];
		const struct sw_cell *c = sw_cell(s, it, s->cur[it]);
		passed += c->pass;
		if (isnan(c->cost))
			unknown++;
		else
			cost += c->cost;
		if (!isnan(c->lat))
			lat[nlat++] = c->lat;
	}
	set_figures(p, (long)s->ncomplete, passed, cost, unknown);
	stats_sort(lat, nlat);
	p->p50 = stats_percentile(lat, nlat, 50);
	p->p95 = stats_percentile(lat, nlat, 95);
	free(lat);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* The threshold grid for a percent step; returns its size. */
static size_t make_grid(const struct sw_run *r, const long *est, size_t n, int step, long *grid)
{
	size_t g = 0;
	for (int p = step; p < 100; p += step) {
		long v = est[(size_t)p * n / 100];
		if (v > est[0])
			grid[g++] = v;
	}
	for (size_t i = 0; i < r->n_cur_thr; i++)
		grid[g++] = r->cur_thr[i];
	qsort(grid, g, sizeof(*grid), cmp_long);
	size_t u = 0;
	for (size_t i = 0; i < g; i++)
		if (u == 0 || grid[i] != grid[u - 1])
			grid[u++] = grid[i];
	return u;
}

static void complexity_desc(struct sw_run *r, struct sw_policy *p)
{
	const struct sw_store *s = r->s;
	struct buf b;
	buf_init(&b);
	if (p->nbands == 2)
		buf_printf(&b, "est<%ld:%s, else %s", p->thr[0], s->slot_name[p->band_slot[0]],
			   s->slot_name[p->band_slot[1]]);
	else
		buf_printf(&b, "est<%ld:%s, <%ld:%s, else %s", p->thr[0],
			   s->slot_name[p->band_slot[0]], p->thr[1], s->slot_name[p->band_slot[1]],
			   s->slot_name[p->band_slot[2]]);
	p->desc = buf_detach(&b, NULL);
}

/* The threshold grid: the finest step whose policies fit in
 * --max-policies (the coarsest when none does). Returns its size. */
static size_t choose_grid(struct sw_run *r, long *grid)
{
	const struct sw_store *s = r->s;
	size_t n = s->ncomplete, U = r->norder;
	long *est = xmalloc(n * sizeof(*est));
	for (size_t k = 0; k < n; k++)
		est[k] = s->est[s->order[k]];
	qsort(est, n, sizeof(*est), cmp_long);
	static const int steps[] = {5, 10, 20, 25, 50};
	size_t G = 0;
	unsigned long long pairs = U * (U - 1) / 2, triples = U * (U - 1) * (U - 2) / 6;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r->grid_step = steps[i];
		G = make_grid(r, est, n, steps[i], grid);
		unsigned long long count = pairs * G + triples * G * (G ? G - 1 : 0) / 2;
		if (count <= (unsigned long long)r->o->max_policies)
			break;
	}
	free(est);
	return G;
}

/* The complexity sweep's state: the partition by grid atom (atom k holds
 * the items with grid[k-1] <= est < grid[k]) and the policy budget. */
struct cx {
	struct sw_run *r;
	struct part pt;
	const long *grid;
	size_t G, n;
	size_t *below;	 /* below[g + 1]: items with est < grid[g] */
	uint8_t *assign; /* slot per atom, G + 1 */
	long made, cap;
};

static void cx_init(struct cx *x, struct sw_run *r, const bool *used, const long *grid, size_t G)
{
	const struct sw_store *s = r->s;
	x->r = r;
	x->grid = grid;
	x->G = G;
	x->n = s->ncomplete;
	x->made = 0;
	x->cap = r->o->max_policies;
	uint32_t *atom_of = xmalloc((x->n + 1) * sizeof(*atom_of));
	for (size_t k = 0; k < x->n; k++) {
		long e = s->est[s->order[k]];
		size_t lo = 0, hi = G;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (grid[mid] <= e)
				lo = mid + 1;
			else
				hi = mid;
		}
		atom_of[k] = (uint32_t)lo;
	}
	part_build(&x->pt, s, used, atom_of, G + 1);
	free(atom_of);
	x->assign = xmalloc(G + 1);
	/* A band without items makes a policy equal to a smaller one that is
	 * generated anyway: skipped. */
	x->below = xmalloc((G + 1) * sizeof(*x->below));
	for (size_t g = 0, acc = 0; g <= G; g++) {
		x->below[g] = acc;
		acc += (size_t)x->pt.a[g * x->pt.nslots + r->order[0]].n;
	}
}

static void cx_free(struct cx *x)
{
	free(x->below);
	free(x->assign);
	part_free(&x->pt);
}

/* One slot for every item: "all:SLOT". */
static void add_singles(struct cx *x)
{
	struct sw_run *r = x->r;
	for (size_t i = 0; i < r->norder; i++) {
		struct sw_policy *p = add_policy(r, SW_SINGLE);
		p->nbands = 1;
		p->band_slot[0] = r->order[i];
		memset(x->assign, r->order[i], x->G + 1);
		part_eval(&x->pt, x->assign, p);
		struct buf b;
		buf_init(&b);
		buf_printf(&b, "all:%s", r->s->slot_name[r->order[i]]);
		p->desc = buf_detach(&b, NULL);
	}
}

/* False once the budget is spent (the sweep is then truncated). */
static bool cx_room(struct cx *x)
{
	if (x->made < x->cap)
		return true;
	x->r->complexity_truncated = true;
	return false;
}

/* Two bands: slot a below grid[g], slot c from it on. */
static void add_two_bands(struct cx *x)
{
	struct sw_run *r = x->r;
	size_t U = r->norder;
	for (size_t a = 0; a < U; a++)
		for (size_t c = a + 1; c < U; c++)
			for (size_t g = 0; g < x->G; g++) {
				if (x->below[g + 1] == 0 || x->below[g + 1] == x->n)
					continue;
				if (!cx_room(x))
					return;
				struct sw_policy *p = add_policy(r, SW_COMPLEXITY);
				p->nbands = 2;
				p->band_slot[0] = r->order[a];
				p->band_slot[1] = r->order[c];
				p->thr[0] = x->grid[g];
				for (size_t k = 0; k <= x->G; k++)
					x->assign[k] = k <= g ? r->order[a] : r->order[c];
				part_eval(&x->pt, x->assign, p);
				complexity_desc(r, p);
				x->made++;
			}
}

/* Three bands a < grid[g1] <= b < grid[g2] <= c, each band non-empty. */
static void add_three_bands_at(struct cx *x, size_t a, size_t b, size_t c, size_t g1, size_t g2)
{
	struct sw_run *r = x->r;
	struct sw_policy *p = add_policy(r, SW_COMPLEXITY);
	p->nbands = 3;
	p->band_slot[0] = r->order[a];
	p->band_slot[1] = r->order[b];
	p->band_slot[2] = r->order[c];
	p->thr[0] = x->grid[g1];
	p->thr[1] = x->grid[g2];
	for (size_t k = 0; k <= x->G; k++)
		x->assign[k] = k <= g1 ? r->order[a] : k <= g2 ? r->order[b] : r->order[c];
	part_eval(&x->pt, x->assign, p);
	complexity_desc(r, p);
	x->made++;
}

static void add_three_bands(struct cx *x)
{
	size_t U = x->r->norder;
	const size_t *below = x->below;
	for (size_t a = 0; a < U; a++)
		for (size_t b = a + 1; b < U; b++)
			for (size_t c = b + 1; c < U; c++)
				for (size_t g1 = 0; g1 < x->G; g1++)
					for (size_t g2 = g1 + 1; g2 < x->G; g2++) {
						if (below[g1 + 1] == 0 ||
						    below[g2 + 1] == below[g1 + 1] ||
						    below[g2 + 1] == x->n)
							continue;
						if (!cx_room(x))
							return;
						add_three_bands_at(x, a, b, c, g1, g2);
					}
}

/* Singles and complexity policies, on the partition by threshold grid. */
static void sweep_complexity(struct sw_run *r, const bool *used)
{
	long *grid = xmalloc((20 + r->n_cur_thr) * sizeof(*grid));
	size_t G = choose_grid(r, grid);
	struct cx x;
	cx_init(&x, r, used, grid, G);
	add_singles(&x);
	add_two_bands(&x);
	add_three_bands(&x);
	cx_free(&x);
	free(grid);
}

static void task_map_add(struct sw_run *r, struct part *pt, const uint8_t *assign)
{
	const struct sw_store *s = r->s;
	struct sw_policy *p = add_policy(r, SW_TASK_MAP);
	p->task_slot = xmalloc(s->ntasks);
	memcpy(p->task_slot, assign, s->ntasks);
	part_eval(pt, assign, p);
	struct buf b;
	buf_init(&b);
	for (size_t t = 0; t < s->ntasks; t++)
		buf_printf(&b, "%s%s:%s", t ? ", " : "",
			   s->task_sorted[t][0] ? s->task_sorted[t] : "(no task)",
			   s->slot_name[assign[t]]);
	p->desc = buf_detach(&b, NULL);
}

static bool all_same(const uint8_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

/* A task's figures on one slot, for the greedy path. */
static void task_fig(const struct part *pt, size_t t, uint8_t sl, long *passed, double *cost)
{
	const struct atom *a = &pt->a[t * pt->nslots + sl];
	*passed = a->passed;
	*cost = a->cost;
}

static void sweep_task_maps(struct sw_run *r, const bool *used)
{
	const struct sw_store *s = r->s;
	size_t T = s->ntasks, U = r->norder;
	if (T < 2 || U < 2)
		return;
	uint32_t *atom_of = xmalloc(s->ncomplete * sizeof(*atom_of));
	for (size_t k = 0; k < s->ncomplete; k++)
		atom_of[k] = s->task_rank[s->task[s->order[k]]];
	struct part pt;
	part_build(&pt, s, used, atom_of, T);
	free(atom_of);
	uint8_t *assign = xmalloc(T);
	size_t *digit = xcalloc(T, sizeof(*digit));

	unsigned long long combos = 1;
	for (size_t t = 0; t < T && combos <= (unsigned long long)r->o->max_policies; t++)
		combos *= U;
	if (combos <= (unsigned long long)r->o->max_policies) {
		for (;;) {
			for (size_t t = 0; t < T; t++)
				assign[t] = r->order[digit[t]];
			if (!all_same(assign, T))
				task_map_add(r, &pt, assign);
			size_t t = T;
			while (t > 0 && ++digit[t - 1] == U)
				digit[--t] = 0;
			if (t == 0)
				break;
		}
	} else {
		r->task_greedy = true;
		memset(assign, r->order[0], T);
		for (long step = 0; step < r->o->max_policies; step++) {
			long best_dq = 0;
			double best_score = 0;
			size_t best_t = 0;
			uint8_t best_s = 0;
			for (size_t t = 0; t < T; t++) {
				long q0, q1;
				double c0, c1;
				task_fig(&pt, t, assign[t], &q0, &c0);
				for (size_t j = 0; j < U; j++) {
					uint8_t sl = r->order[j];
					if (sl == assign[t])
						continue;
					task_fig(&pt, t, sl, &q1, &c1);
					long dq = q1 - q0;
					double dc = c1 - c0;
					if (dq <= 0)
						continue;
					double score = dc <= 0 ? INFINITY : (double)dq / dc;
					if (best_dq == 0 || score > best_score ||
					    (score == best_score && dq > best_dq)) {
						best_dq = dq;
						best_score = score;
						best_t = t;
						best_s = sl;
					}
				}
			}
			if (best_dq == 0)
				break;
			assign[best_t] = best_s;
			if (!all_same(assign, T))
				task_map_add(r, &pt, assign);
		}
	}
	free(digit);
	free(assign);
	part_free(&pt);
}

/* ---- frontier and recommendation ---- */

static int cmp_frontier(const void *a, const void *b, void *arg)
{
	const struct sw_policy *p = arg;
	const struct sw_policy *x = &p[*(const size_t *)a], *y = &p[*(const size_t *)b];
	if (x->cost_key != y->cost_key)
		return x->cost_key < y->cost_key ? -1 : 1;
	if (x->passed != y->passed)
		return x->passed > y->passed ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Policies with a known cost, by cost (then pass rate, id); *n set. */
static size_t *by_cost(const struct sw_run *r, size_t *n)
{
	size_t *idx = xmalloc((r->np + 1) * sizeof(*idx));
	*n = 0;
	for (size_t i = 0; i < r->np; i++)
		if (!isnan(r->p[i].cost_key))
			idx[(*n)++] = i;
	qsort_r(idx, *n, sizeof(*idx), cmp_frontier, r->p);
	return idx;
}

static void mark_frontier(struct sw_run *r)
{
	size_t n;
	size_t *idx = by_cost(r, &n);
	long best_before = -1;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		long top = r->p[idx[i]].passed; /* the group's best: sorted first */
		while (j < n && r->p[idx[j]].cost_key == r->p[idx[i]].cost_key) {
			struct sw_policy *p = &r->p[idx[j]];
			p->on_frontier = p->passed == top && p->passed > best_before;
			j++;
		}
		if (top > best_before)
			best_before = top;
		i = j;
	}
	free(idx);
}

static void recommend(struct sw_run *r)
{
	const struct sw_opts *o = r->o;
	const struct sw_policy *cur = &r->p[0];
	size_t n;
	size_t *idx = by_cost(r, &n);
	bool tq = !isnan(o->target_quality), bu = !isnan(o->budget_usd);
	r->rec = -1;
	if (tq && bu)
		r->rec_rule = "the cheapest frontier policy with pass rate >= the target and cost "
			      "<= the budget";
	else if (tq)
		r->rec_rule = "the cheapest frontier policy with pass rate >= the target";
	else if (bu)
		r->rec_rule = "the best pass rate on the frontier with cost <= the budget";
	else
		r->rec_rule = "the cheapest frontier policy whose pass rate is at least the "
			      "current policy's";
	for (size_t i = 0; i < n; i++) {
		const struct sw_policy *p = &r->p[idx[i]];
		if (!p->on_frontier)
			continue;
		double rate = (double)p->passed / (double)p->n;
		if (bu && p->cost_key > o->budget_usd)
			break;
		if (tq && rate < o->target_quality)
			continue;
		if (!tq && !bu && p->passed < cur->passed)
			continue;
		if (r->rec >= 0 && p->passed <= r->p[r->rec].passed)
			continue;
		r->rec = (int)idx[i];
		if (tq || !bu)
			break; /* the cheapest; with a budget only, keep climbing */
	}
	free(idx);
}

/* ---- the current config's thresholds, when it can still be read ---- */

static void current_thresholds(struct sw_run *r)
{
	const struct sw_store *s = r->s;
	if (!s->config_path)
		return;
	struct cfg *cfg = NULL;
	struct se_err e;
	se_clear(&e);
	if (cfg_load(s->config_path, &cfg, &e))
		return; /* moved or edited since the run: the grid alone will do */
	if (!strcmp(cfg->sha256, s->config_sha)) {
		size_t n = 0;
		for (size_t i = 0; i < cfg->n_rules; i++)
			n += cfg->rules[i].n_thresholds;
		r->cur_thr = xmalloc((n + 1) * sizeof(long));
		for (size_t i = 0; i < cfg->n_rules; i++)
			for (size_t j = 0; j < cfg->rules[i].n_thresholds; j++)
				if (cfg->rules[i].thresholds[j] > 0)
					r->cur_thr[r->n_cur_thr++] = cfg->rules[i].thresholds[j];
	}
	cfg_free(cfg);
}

/* ---- the slots policies use, in band order ---- */

static int pick_slots(struct sw_run *r, const struct sw_store *s, bool *used, struct se_err *err)
{
	const struct sw_opts *o = r->o;
	r->order = xmalloc(s->nslots + 1);
	if (!o->slots || o->n_slots == 0) {
		for (size_t i = 0; i < s->nslots; i++) {
			used[i] = true;
			r->order[r->norder++] = (uint8_t)i;
		}
		return 0;
	}
	for (size_t i = 0; i < o->n_slots; i++) {
		size_t sl = 0;
		while (sl < s->nslots && strcmp(s->slot_name[sl], o->slots[i]))
			sl++;
		if (sl == s->nslots) {
			struct buf b;
			buf_init(&b);
			for (size_t k = 0; k < s->nslots; k++)
				buf_printf(&b, "%s%s", k ? ", " : "", s->slot_name[k]);
			se_fail(err, SE_USAGE, "--slots", "unknown slot \"%s\" (known: %s)",
				o->slots[i], b.data);
			buf_free(&b);
			return -1;
		}
		if (used[sl])
			return se_fail(err, SE_USAGE, "--slots", "slot \"%s\" given twice",
				       o->slots[i]);
		used[sl] = true;
		r->order[r->norder++] = (uint8_t)sl;
	}
	return 0;
}

/* Orders the used slots cheapest first by mean known cost per item (slots
 * without a known cost last, ties in manifest order). */
static void order_by_cost(struct sw_run *r)
{
	const struct sw_store *s = r->s;
	double mean[SW_MAX_SLOTS];
	for (size_t i = 0; i < r->norder; i++) {
		double sum = 0;
		long known = 0;
		for (size_t k = 0; k < s->ncomplete; k++) {
			const struct sw_cell *c = sw_cell(s, s->order[k], r->order[i]);
			if (!isnan(c->cost)) {
				sum += c->cost;
				known++;
			}
		}
		mean[r->order[i]] = known ? sum / (double)known : INFINITY;
	}
	for (size_t i = 1; i < r->norder; i++) /* insertion sort: stable */
		for (size_t j = i; j > 0 && mean[r->order[j]] < mean[r->order[j - 1]]; j--) {
			uint8_t t = r->order[j];
			r->order[j] = r->order[j - 1];
			r->order[j - 1] = t;
		}
}

static void run_free(struct sw_run *r)
{
	for (size_t i = 0; i < r->np; i++) {
		free(r->p[i].desc);
		free(r->p[i].task_slot);
	}
	free(r->p);
	free(r->order);
	free(r->cur_thr);
}

/* ---- honest figures: holdout, folds, oracle, AIQ ---- */

uint64_t sw_hash_id(const char *id)
{
	/* FNV-1a, 64 bits: stable across machines and runs, so a split is the
	 * same every time and for every shard of the same items */
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *c = (const unsigned char *)id; *c; c++) {
		h ^= *c;
		h *= 0x100000001b3ull;
	}
	return h;
}

double sw_split_unit(const char *id)
{
	/* FNV-1a's high bits barely depend on the last bytes of short ids
	 * ("e00".."e19" all land together): MurmurHash3's fmix64 mixes them */
	uint64_t h = sw_hash_id(id);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (double)(h >> 11) * 0x1.0p-53;
}

/* The slot policy p sends item `it` to. */
static uint8_t policy_slot(const struct sw_store *s, const struct sw_policy *p, uint32_t it)
{
	switch (p->kind) {
	case SW_CURRENT:
		return s->cur[it];
	case SW_SINGLE:
		return p->band_slot[0];
	case SW_COMPLEXITY: {
		long e = s->est[it];
		if (e < p->thr[0])
			return p->band_slot[0];
		if (p->nbands == 3 && e < p->thr[1])
			return p->band_slot[1];
		return p->band_slot[p->nbands - 1];
	}
	case SW_TASK_MAP:
		return p->task_slot[s->task_rank[s->task[it]]];
	}
	return p->band_slot[0];
}

/* Pass rate and cost of policy p on the given items. */
static void eval_on(const struct sw_store *s, const struct sw_policy *p, const uint32_t *items,
		    size_t n, struct sw_eval *e)
{
	memset(e, 0, sizeof(*e));
	double cost = 0;
	for (size_t k = 0; k < n; k++) {
		const struct sw_cell *c = sw_cell(s, items[k], policy_slot(s, p, items[k]));
		e->n++;
		e->passed += c->pass;
		if (isnan(c->cost))
			e->unknown++;
		else
			cost += c->cost;
	}
	e->cost_1k = e->n > e->unknown ? cost / (double)e->n * 1000.0 : NAN;
}

/* Per item the cheapest slot model (among the used slots) that passes it,
 * else the cheapest: no routing policy passes more items, and none passes
 * them all for less. A model with an unknown cost counts as the dearest. */
static void oracle(const struct sw_run *r, struct sw_eval *e)
{
	const struct sw_store *s = r->s;
	memset(e, 0, sizeof(*e));
	double cost = 0;
	for (size_t k = 0; k < s->ncomplete; k++) {
		uint32_t it = s->order[k];
		const struct sw_cell *best = NULL;
		for (size_t i = 0; i < r->norder; i++) {
			const struct sw_cell *c = sw_cell(s, it, r->order[i]);
			double cc = isnan(c->cost) ? INFINITY : c->cost;
			double bc = best && !isnan(best->cost) ? best->cost : INFINITY;
			if (!best || (c->pass && !best->pass) || (c->pass == best->pass && cc < bc))
				best = c;
		}
		e->n++;
		e->passed += best->pass;
		if (isnan(best->cost))
			e->unknown++;
		else
			cost += best->cost;
	}
	e->cost_1k = e->n > e->unknown ? cost / (double)e->n * 1000.0 : NAN;
}

static int cmp_point(const void *a, const void *b)
{
	const double *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return (x[1] < y[1]) - (x[1] > y[1]); /* higher quality first */
}

double sw_aiq(const double *cost, const double *quality, size_t n, double *hull, size_t *nhull)
{
	double *pt = xmalloc((2 * n + 2) * sizeof(*pt));
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(cost[i]) && !isnan(quality[i])) {
			pt[2 * m] = cost[i];
			pt[2 * m + 1] = quality[i];
			m++;
		}
	*nhull = 0;
	if (m == 0) {
		free(pt);
		return NAN;
	}
	qsort(pt, m, 2 * sizeof(*pt), cmp_point);
	double cmin = pt[0], cmax = pt[2 * (m - 1)];
	/* non-decreasing: keep a point only when it beats every cheaper one;
	 * then the upper concave hull (a mix of two policies, item by item at
	 * random, reaches any point of the segment between them) */
	size_t h = 0;
	double best = -INFINITY;
	for (size_t i = 0; i < m; i++) {
		double c = pt[2 * i], q = pt[2 * i + 1];
		if (!(q > best))
			continue;
		best = q;
		while (h >= 2) {
			double c1 = hull[2 * (h - 2)], q1 = hull[2 * (h - 2) + 1];
			double c2 = hull[2 * (h - 1)], q2 = hull[2 * (h - 1) + 1];
			/* drop the middle point when it lies on or under the chord */
			if ((q2 - q1) * (c - c1) <= (q - q1) * (c2 - c1))
				h--;
			else
				break;
		}
		hull[2 * h] = c;
		hull[2 * h + 1] = q;
		h++;
	}
	*nhull = h;
	free(pt);
	if (cmax <= cmin)
		return hull[1];
	double area = 0;
	for (size_t i = 1; i < h; i++)
		area += (hull[2 * i] - hull[2 * (i - 1)]) *
			(hull[2 * i + 1] + hull[2 * (i - 1) + 1]) / 2.0;
	/* past the best policy the quality stays at its best */
	area += (cmax - hull[2 * (h - 1)]) * hull[2 * (h - 1) + 1];
	return area / (cmax - cmin);
}

static void aiq_of_run(const struct sw_run *r, struct sw_honest *hn)
{
	double *c = xmalloc((r->np + 1) * sizeof(*c)), *q = xmalloc((r->np + 1) * sizeof(*q));
	for (size_t i = 0; i < r->np; i++) {
		c[i] = r->p[i].cost_1k;
		q[i] = r->p[i].n ? (double)r->p[i].passed / (double)r->p[i].n : NAN;
	}
	hn->hull = xmalloc((2 * r->np + 2) * sizeof(*hn->hull));
	hn->aiq = sw_aiq(c, q, r->np, hn->hull, &hn->nhull);
	free(c);
	free(q);
}

/* Everything a sweep does to choose, on the run's items (r->s). */
static int simulate(struct sw_run *r, bool *used, struct se_err *err)
{
	if (pick_slots(r, r->s, used, err))
		return -1;
	if (!r->o->slots || r->o->n_slots == 0)
		order_by_cost(r);
	current_thresholds(r);
	eval_current(r);
	sweep_complexity(r, used);
	sweep_task_maps(r, used);
	mark_frontier(r);
	recommend(r);
	return 0;
}

/* Chooses on `train` items (a view of s) and scores the choice on `test`.
 * *chosen: the recommended policy's figures in sample; *out: out of sample.
 * Returns 0 with *has = false when the training part recommends nothing. */
static int choose_and_score(const struct sw_store *s, const struct sw_opts *o,
			    const uint32_t *train, size_t ntrain, const uint32_t *test,
			    size_t ntest, bool *has, struct sw_eval *chosen, struct sw_eval *out,
			    char **desc, struct se_err *err)
{
	struct sw_store sub = *s;
	sub.order = (uint32_t *)train;
	sub.ncomplete = ntrain;
	struct sw_run r;
	memset(&r, 0, sizeof(r));
	r.s = &sub;
	r.o = o;
	r.rec = -1;
	bool used[SW_MAX_SLOTS] = {false};
	int rc = simulate(&r, used, err);
	*has = !rc && r.rec >= 0;
	if (*has) {
		const struct sw_policy *p = &r.p[r.rec];
		eval_on(s, p, train, ntrain, chosen);
		eval_on(s, p, test, ntest, out);
		if (desc)
			*desc = xstrdup(p->desc);
	}
	run_free(&r);
	return rc;
}

static int honest(const struct sw_run *r, const struct sw_opts *o, struct sw_honest *hn,
		  struct se_err *err)
{
	const struct sw_store *s = r->s;
	oracle(r, &hn->oracle);
	aiq_of_run(r, hn);
	size_t n = s->ncomplete;
	uint32_t *a = xmalloc((n + 1) * sizeof(*a)), *b = xmalloc((n + 1) * sizeof(*b));
	int rc = 0;
	if (o->holdout > 0) {
		size_t na = 0, nb = 0;
		for (size_t k = 0; k < n; k++) {
			uint32_t it = s->order[k];
			if (sw_split_unit(s->ids.name[it]) < o->holdout)
				b[nb++] = it; /* reported on */
			else
				a[na++] = it; /* chosen on */
		}
		hn->holdout_choose = na;
		hn->holdout_report = nb;
		if (na == 0 || nb == 0) {
			rc = se_fail(err, SE_INPUT, NULL,
				     "--holdout %g leaves %zu items to choose on and %zu to report "
				     "on: both must be non-empty",
				     o->holdout, na, nb);
			goto out;
		}
		rc = choose_and_score(s, o, a, na, b, nb, &hn->holdout_has, &hn->holdout_in,
				      &hn->holdout_out, &hn->holdout_desc, err);
		if (rc)
			goto out;
	}
	if (o->folds >= 2) {
		struct sw_eval sum = {0};
		double cost = 0;
		for (long f = 0; f < o->folds; f++) {
			size_t na = 0, nb = 0;
			for (size_t k = 0; k < n; k++) {
				uint32_t it = s->order[k];
				if ((long)(sw_split_unit(s->ids.name[it]) * (double)o->folds) == f)
					b[nb++] = it;
				else
					a[na++] = it;
			}
			bool has = false;
			struct sw_eval in, out;
			if (na && nb &&
			    (rc = choose_and_score(s, o, a, na, b, nb, &has, &in, &out, NULL, err)))
				goto out;
			if (!has) {
				hn->folds_without += nb;
				continue;
			}
			hn->folds_used++;
			sum.n += out.n;
			sum.passed += out.passed;
			sum.unknown += out.unknown;
			if (!isnan(out.cost_1k))
				cost += out.cost_1k * (double)out.n / 1000.0;
		}
		sum.cost_1k = sum.n > sum.unknown ? cost / (double)sum.n * 1000.0 : NAN;
		hn->folds = sum;
	}
out:
	free(a);
	free(b);
	return rc;
}

static void pct_or_dash(FILE *out, const struct sw_eval *e)
{
	if (e->n)
		fprintf(out, "pass rate %.1f%% (%ld/%ld)", 100.0 * (double)e->passed / (double)e->n,
			e->passed, e->n);
	else
		fprintf(out, "no items");
	if (isnan(e->cost_1k))
		fprintf(out, ", cost unknown");
	else
		fprintf(out, ", %.4f USD/1k items", e->cost_1k);
}

static void print_honest(const struct sw_run *r, const struct sw_opts *o,
			 const struct sw_honest *hn, FILE *out)
{
	fprintf(out, "\nupper bound, the oracle router (per item the cheapest slot model that "
		     "passes it): ");
	pct_or_dash(out, &hn->oracle);
	fputc('\n', out);
	if (isnan(hn->aiq)) {
		fprintf(out, "AIQ: - (no policy with a known cost)\n");
	} else {
		fprintf(out,
			"AIQ (RouterBench: area under the non-decreasing cost-quality hull / "
			"cost range): %.4f; hull:",
			hn->aiq);
		for (size_t i = 0; i < hn->nhull; i++)
			fprintf(out, "%s(%.4g USD/1k, %.1f%%)", i ? ", " : " ", hn->hull[2 * i],
				100.0 * hn->hull[2 * i + 1]);
		fputc('\n', out);
	}
	if (o->holdout > 0) {
		fprintf(out, "holdout %g: chosen on %zu items, reported on the other %zu\n",
			o->holdout, hn->holdout_choose, hn->holdout_report);
		if (!hn->holdout_has) {
			fprintf(out, "  no policy qualifies on the choosing part\n");
		} else {
			fprintf(out, "  chosen: %s\n  on the items it was chosen on: ",
				hn->holdout_desc);
			pct_or_dash(out, &hn->holdout_in);
			fprintf(out, "\n  on the held-out items:         ");
			pct_or_dash(out, &hn->holdout_out);
			fputc('\n', out);
		}
	}
	if (o->folds >= 2) {
		fprintf(out,
			"%ld-fold cross-validation (each item scored by the policy chosen "
			"without it): ",
			o->folds);
		pct_or_dash(out, &hn->folds);
		if (hn->folds_without)
			fprintf(out, "; %zu items in folds where nothing qualified",
				hn->folds_without);
		fputc('\n', out);
	}
	(void)r;
}

int sw_run_dir(const char *dir, const struct sw_opts *o, FILE *out, struct se_err *err)
{
	struct sw_store s;
	struct sw_run r;
	struct sw_honest hn;
	bool used[SW_MAX_SLOTS] = {false};
	memset(&r, 0, sizeof(r));
	memset(&hn, 0, sizeof(hn));
	hn.aiq = NAN;
	sw_store_init(&s);
	r.s = &s;
	r.o = o;
	r.rec = -1;
	int rc = -1;
	if (o->max_policies < 1) {
		se_fail(err, SE_USAGE, "--max-policies", "expected at least 1, got %ld",
			o->max_policies);
		goto out;
	}
	if (o->holdout < 0 || o->holdout >= 1) {
		se_fail(err, SE_USAGE, "--holdout", "expected a share between 0 and 1, got %g",
			o->holdout);
		goto out;
	}
	if (sw_store_load(&s, dir, err) || pick_slots(&r, &s, used, err) ||
	    sw_store_finish(&s, used, err))
		goto out;
	free(r.order); /* simulate picks them again */
	r.order = NULL;
	r.norder = 0;
	memset(used, 0, sizeof(used));
	if (simulate(&r, used, err))
		goto out;
	if (honest(&r, o, &hn, err))
		goto out;

	if (sw_write_csvs(&r, dir, err))
		goto out;
	if (out) {
		sw_print(&r, dir, out);
		print_honest(&r, o, &hn, out);
	}
	if (r.rec < 0) {
		bool tq = !isnan(o->target_quality), bu = !isnan(o->budget_usd);
		const struct sw_policy *best = NULL;
		for (size_t i = 0; i < r.np; i++)
			if (!best || r.p[i].passed > best->passed)
				best = &r.p[i];
		if (tq && bu)
			se_fail(err, SE_FINDING, NULL,
				"no simulated policy reaches pass rate %g within %g USD per 1k "
				"items",
				o->target_quality, o->budget_usd);
		else if (tq)
			se_fail(err, SE_FINDING, NULL,
				"no simulated policy reaches pass rate %g (best: %.4g, policy %d)",
				o->target_quality, (double)best->passed / (double)best->n,
				best->id);
		else if (bu)
			se_fail(err, SE_FINDING, NULL,
				"no simulated policy costs at most %g USD per 1k items",
				o->budget_usd);
		else
			se_fail(err, SE_FINDING, NULL,
				"no simulated policy with a known cost is as good as the current "
				"one");
		goto out;
	}
	rc = 0;
out:
	free(hn.hull);
	free(hn.holdout_desc);
	run_free(&r);
	sw_store_free(&s);
	return rc;
}
