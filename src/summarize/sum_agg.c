/* sum_agg.c: every figure of the five tables, accumulated one item at a
 * time (see struct sum_agg in sum_int.h).
 *
 * `summarize` walks the store's items in canonical order and adds each; a
 * run adds each item when its last line is written (sum_live.c). Either way
 * each accumulator receives the same values in the order its items come, so
 * a summary of a folder is bit-identical whatever the line order, as
 * before. Bounded accumulators (a run's) keep latencies in histograms
 * (sum_hist.h) instead of every value. It does not write anything.
 */
#include "summarize/sum_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

void sum_pair_add(struct sum_pair_acc *p, const struct sum_cell *a, const struct sum_cell *b)
{
	stats_pair_add(&p->t, a->flags & SUM_F_PASS, b->flags & SUM_F_PASS);
	p->a_err += a->status != RES_OK;
	p->b_err += b->status != RES_OK;
	if (isnan(a->cost_usd))
		p->a_cost_unknown++;
	else
		p->a_cost += a->cost_usd;
	if (isnan(b->cost_usd))
		p->b_cost_unknown++;
	else
		p->b_cost += b->cost_usd;
	sum_push_latency(&p->a_lat, a);
	sum_push_latency(&p->b_lat, b);
}

void sum_push_latency(struct sum_fvec *f, const struct sum_cell *c)
{
	if (!(c->flags & SUM_F_CACHED) && !isnan(c->latency_ms))
		sum_fvec_push(f, c->latency_ms);
}

static void pair_free(struct sum_pair_acc *p)
{
	sum_fvec_free(&p->a_lat);
	sum_fvec_free(&p->b_lat);
}

static void bound_acc(struct sum_acc *a, size_t n, bool bounded)
{
	for (size_t i = 0; i < n; i++) {
		a[i].lat.bounded = bounded;
		a[i].ttft.bounded = bounded;
	}
}

static void bound_pair(struct sum_pair_acc *p, size_t n, bool bounded)
{
	for (size_t i = 0; i < n; i++) {
		p[i].a_lat.bounded = bounded;
		p[i].b_lat.bounded = bounded;
	}
}

void sum_agg_init(struct sum_agg *a, bool bounded, size_t nm, size_t nt, size_t ns)
{
	memset(a, 0, sizeof(*a));
	a->bounded = bounded;
	a->nm = nm;
	a->ns = ns;
	a->model = xcalloc(nm + 1, sizeof(*a->model));
	bound_acc(a->model, nm, bounded);
	a->slot = xcalloc(ns + 1, sizeof(*a->slot));
	bound_acc(a->slot, ns, bounded);
	bound_acc(&a->policy, 1, bounded);
	a->slot_items = xcalloc(ns + 1, sizeof(*a->slot_items));
	a->slot_fb = xcalloc(ns + 1, sizeof(*a->slot_fb));
	a->slot_uses = xcalloc(ns * nm + 1, sizeof(*a->slot_uses));
	a->pair[SUM_SCOPE_OVERALL] = xcalloc(nm + 1, sizeof(struct sum_pair_acc));
	bound_pair(a->pair[SUM_SCOPE_OVERALL], nm, bounded);
	a->pair[SUM_SCOPE_SLOT] = xcalloc(ns * nm + 1, sizeof(struct sum_pair_acc));
	bound_pair(a->pair[SUM_SCOPE_SLOT], ns * nm, bounded);
	a->swap = xcalloc(ns * nm + 1, sizeof(*a->swap));
	bound_pair(a->swap, ns * nm, bounded);
	a->out = xcalloc(ns + 1, sizeof(*a->out));
	bound_pair(a->out, ns, bounded);
	a->out_pass = xcalloc(ns + 1, sizeof(*a->out_pass));
	a->current = xcalloc(ns * nm + 1, sizeof(*a->current));
	a->pw[SUM_SCOPE_OVERALL] = xcalloc(nm + 1, sizeof(struct sum_pw_acc));
	a->pw[SUM_SCOPE_SLOT] = xcalloc(ns * nm + 1, sizeof(struct sum_pw_acc));
	sum_agg_grow_tasks(a, nt);
}

void sum_agg_grow_tasks(struct sum_agg *a, size_t nt)
{
	if (nt <= a->nt && a->task)
		return;
	size_t old = a->task ? a->nt : 0, nm = a->nm;
	if (nt < old)
		nt = old;
	a->task = xrealloc(a->task, (nt * nm + 1) * sizeof(*a->task));
	a->pair[SUM_SCOPE_TASK] =
	    xrealloc(a->pair[SUM_SCOPE_TASK], (nt * nm + 1) * sizeof(struct sum_pair_acc));
	memset(a->task + old * nm, 0, ((nt - old) * nm + 1) * sizeof(*a->task));
	memset(a->pair[SUM_SCOPE_TASK] + old * nm, 0,
	       ((nt - old) * nm + 1) * sizeof(struct sum_pair_acc));
	a->pw[SUM_SCOPE_TASK] =
	    xrealloc(a->pw[SUM_SCOPE_TASK], (nt * nm + 1) * sizeof(struct sum_pw_acc));
	memset(a->pw[SUM_SCOPE_TASK] + old * nm, 0,
	       ((nt - old) * nm + 1) * sizeof(struct sum_pw_acc));
	bound_acc(a->task + old * nm, (nt - old) * nm, a->bounded);
	bound_pair(a->pair[SUM_SCOPE_TASK] + old * nm, (nt - old) * nm, a->bounded);
	a->nt = nt;
}

/* Reorders the task dimension: new task r is old task order[r]. */
void sum_agg_order_tasks(struct sum_agg *a, const size_t *order)
{
	size_t nt = a->nt, nm = a->nm;
	struct sum_acc *t = xcalloc(nt * nm + 1, sizeof(*t));
	struct sum_pair_acc *p = xcalloc(nt * nm + 1, sizeof(*p));
	struct sum_pw_acc *w = xcalloc(nt * nm + 1, sizeof(*w));
	for (size_t r = 0; r < nt; r++) {
		memcpy(t + r * nm, a->task + order[r] * nm, nm * sizeof(*t));
		memcpy(p + r * nm, a->pair[SUM_SCOPE_TASK] + order[r] * nm, nm * sizeof(*p));
		memcpy(w + r * nm, a->pw[SUM_SCOPE_TASK] + order[r] * nm, nm * sizeof(*w));
	}
	free(a->task);
	free(a->pair[SUM_SCOPE_TASK]);
	free(a->pw[SUM_SCOPE_TASK]);
	a->task = t;
	a->pair[SUM_SCOPE_TASK] = p;
	a->pw[SUM_SCOPE_TASK] = w;
}

void sum_agg_free(struct sum_agg *a)
{
	size_t nm = a->nm, ns = a->ns, nt = a->nt;
	for (size_t i = 0; a->model && i < nm; i++)
		sum_acc_free(&a->model[i]);
	for (size_t i = 0; a->task && i < nt * nm; i++)
		sum_acc_free(&a->task[i]);
	for (size_t i = 0; a->slot && i < ns; i++)
		sum_acc_free(&a->slot[i]);
	sum_acc_free(&a->policy);
	const size_t np[SUM_N_SCOPE] = {nm, ns * nm, nt * nm};
	for (int s = 0; s < SUM_N_SCOPE; s++) {
		for (size_t i = 0; a->pair[s] && i < np[s]; i++)
			pair_free(&a->pair[s][i]);
		free(a->pair[s]);
		free(a->pw[s]);
	}
	for (size_t i = 0; a->swap && i < ns * nm; i++)
		pair_free(&a->swap[i]);
	for (size_t i = 0; a->out && i < ns; i++)
		pair_free(&a->out[i]);
	free(a->model);
	free(a->task);
	free(a->slot);
	free(a->slot_items);
	free(a->slot_fb);
	free(a->slot_uses);
	free(a->swap);
	free(a->out);
	free(a->out_pass);
	free(a->current);
	memset(a, 0, sizeof(*a));
}

void sum_agg_item(struct sum_agg *a, const struct sum_view *v)
{
	size_t nm = a->nm;
	a->nitems++;
	/* models.csv, tasks.csv: each model's answer */
	for (size_t m = 0; m < nm; m++) {
		if (!v->answer[m])
			continue;
		sum_acc_add(&a->model[m], v->answer[m]);
		sum_acc_add(&a->task[v->task * nm + m], v->answer[m]);
	}
	/* slots.csv */
	a->slot_items[v->slot]++;
	if (v->primary) {
		sum_acc_add(&a->slot[v->slot], v->primary);
		a->slot_uses[v->slot * nm + v->primary->model] = true;
	}
	if (v->policy)
		sum_acc_add(&a->policy, v->policy);
	if (v->fallback_served) {
		a->slot_fb[v->slot]++;
		a->fb_all++;
	}
	/* pairs.csv: the primary line against each shadow, in three scopes */
	if (v->primary) {
		for (size_t m = 0; m < nm; m++) {
			if (!v->shadow[m])
				continue;
			sum_pair_add(&a->pair[SUM_SCOPE_OVERALL][m], v->primary, v->shadow[m]);
			sum_pair_add(&a->pair[SUM_SCOPE_SLOT][v->slot * nm + m], v->primary,
				     v->shadow[m]);
			sum_pair_add(&a->pair[SUM_SCOPE_TASK][v->task * nm + m], v->primary,
				     v->shadow[m]);
		}
	}
	/* pairwise.csv: each shadow line's judged outcome */
	for (size_t m = 0; m < nm; m++) {
		const struct sum_cell *c = v->shadow[m];
		if (!c)
			continue;
		a->any_pairwise |= (c->pw & SUM_PW_OUTCOME) != RES_PW_NONE;
		sum_pw_add(&a->pw[SUM_SCOPE_OVERALL][m], c->pw);
		sum_pw_add(&a->pw[SUM_SCOPE_SLOT][v->slot * nm + m], c->pw);
		sum_pw_add(&a->pw[SUM_SCOPE_TASK][v->task * nm + m], c->pw);
	}
	/* swaps.csv: for every other slot this item is unchanged traffic; for
	 * its own slot, each shadow is a candidate answer */
	if (!v->policy)
		return;
	for (size_t s = 0; s < a->ns; s++) {
		if (s == v->slot)
			continue;
		struct sum_pair_acc *out = &a->out[s];
		out->t.n++;
		a->out_pass[s] += (v->policy->flags & SUM_F_PASS) != 0;
		if (isnan(v->policy->cost_usd))
			out->a_cost_unknown++;
		else
			out->a_cost += v->policy->cost_usd;
		sum_push_latency(&out->a_lat, v->policy);
	}
	if (v->primary)
		a->current[v->slot * nm + v->primary->model] = true;
	for (size_t m = 0; m < nm; m++)
		if (v->shadow[m])
			sum_pair_add(&a->swap[v->slot * nm + m], v->policy, v->shadow[m]);
}
