/* sum_store.c: results.jsonl -> compact cells in a canonical order.
 *
 * Reads each line once through res_scan and keeps only what the tables need
 * (see struct sum_cell): no output text, no checks. It does not compute any
 * figure; sum_tables.c does, walking items in the canonical order built by
 * sum_store_finish.
 *
 * Decisions (README "summaries"):
 * - an item's task and slot are the same on all its lines; a line without
 *   one takes the others', lines that disagree are an input error;
 * - at most one line per (item, model), whatever its role, and one primary
 *   per item: a duplicate, even a byte-identical copy, is an input error
 *   naming both lines rather than a silent double count (a concatenation of
 *   overlapping shards must be merged, not averaged; `merge` collapses
 *   identical copies across its inputs, never within one file);
 * - res_scan has checked every field (types, ranges, known status, role and
 *   cost source): a line this version does not understand is an error, never
 *   a guess;
 * - an errored line (status != ok) never passes, whatever its `pass` says.
 */
#include "summarize/sum_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strtab.h"
#include "core/xalloc.h"
#include "results/results.h"

void sum_store_init(struct sum_store *s)
{
	memset(s, 0, sizeof(*s));
}

void sum_store_free(struct sum_store *s)
{
	if (!s)
		return;
	strtab_free(&s->items);
	strtab_free(&s->models);
	strtab_free(&s->tasks);
	strtab_free(&s->slots);
	free(s->item_task);
	free(s->item_slot);
	free(s->cells);
	free(s->model_name);
	free(s->task_name);
	free(s->slot_name);
	free(s->order);
	free(s->first);
	free(s->idx);
	memset(s, 0, sizeof(*s));
}

struct load_ctx {
	struct sum_store *s;
	const char *path;
	struct se_err *err;
	size_t nth;
	char where[600]; /* path:line of the line being read */
};

static int set_item_name(struct load_ctx *x, struct strtab *t, uint16_t *slot, const char *v,
			 const char *what, const char *item)
{
	if (!v)
		return 0;
	size_t id = strtab_intern(t, v, NULL);
	if (id >= SUM_NONE16)
		return se_fail(x->err, SE_INPUT, x->where, "result %zu: more than %d distinct %ss",
			       x->nth, SUM_NONE16 - 1, what);
	if (*slot == SUM_NONE16)
		*slot = (uint16_t)id;
	else if (*slot != id)
		return se_fail(
		    x->err, SE_INPUT, x->where,
		    "result %zu: item \"%s\" has %s \"%s\" here and \"%s\" on another line", x->nth,
		    item, what, v, t->name[*slot]);
	return 0;
}

static float to_ms(double v)
{
	return isfinite(v) && v >= 0 ? (float)v : NAN;
}

static uint32_t to_tokens(long v)
{
	return v >= 0 && v < (long)SUM_NO_TOKENS ? (uint32_t)v : SUM_NO_TOKENS;
}

void sum_cell_from_rec(struct sum_cell *c, const struct res_rec *r)
{
	memset(c, 0, sizeof(*c));
	c->role = (uint8_t)r->role;
	c->status = (uint8_t)r->status;
	c->latency_ms = to_ms(r->latency_ms);
	c->ttft_ms = to_ms(r->ttft_ms);
	c->prompt_tokens = to_tokens(r->prompt_tokens);
	c->completion_tokens = to_tokens(r->completion_tokens);
	c->cost_usd = isfinite(r->cost_usd) && r->cost_usd >= 0 ? r->cost_usd : NAN;
	if (r->status == RES_OK && r->pass)
		c->flags |= SUM_F_PASS;
	if (r->cached)
		c->flags |= SUM_F_CACHED;
	if (!isnan(c->cost_usd) && RES_COST_FROM_GATEWAY(r->cost_source))
		c->flags |= SUM_F_REPORTED;
	c->pw = (uint8_t)(r->pairwise & SUM_PW_OUTCOME);
	if (r->pairwise != RES_PW_NONE && r->pairwise != RES_PW_ERROR && r->pw_ab == r->pw_ba)
		c->pw |= SUM_PW_CONSISTENT;
}

static int on_row(void *ctx, const struct res_rec *r)
{
	struct load_ctx *x = ctx;
	struct sum_store *s = x->s;
	x->nth++;
	snprintf(x->where, sizeof(x->where), "%s:%zu", x->path, r->line);
	/* Names, types and ranges were checked by res_scan. */
	size_t item = strtab_intern(&s->items, r->item_id, NULL);
	if (item >= UINT32_MAX - 1)
		return se_fail(x->err, SE_INPUT, x->where, "result %zu: too many items", x->nth);
	if (item >= s->item_cap) {
		size_t old = s->item_cap, cap = old;
		s->item_task = xgrow(s->item_task, &cap, item + 1, sizeof(*s->item_task));
		s->item_slot = xrealloc(s->item_slot, cap * sizeof(*s->item_slot));
		for (size_t i = old; i < cap; i++)
			s->item_task[i] = s->item_slot[i] = SUM_NONE16;
		s->item_cap = cap;
	}
	if (set_item_name(x, &s->tasks, &s->item_task[item], r->task, "task", r->item_id) ||
	    set_item_name(x, &s->slots, &s->item_slot[item], r->slot, "slot", r->item_id))
		return -1;
	size_t model = strtab_intern(&s->models, r->model, NULL);
	if (model >= SUM_NONE16)
		return se_fail(x->err, SE_INPUT, x->where, "result %zu: too many models", x->nth);

	s->cells = xgrow(s->cells, &s->cells_cap, s->ncells + 1, sizeof(*s->cells));
	struct sum_cell *c = &s->cells[s->ncells++];
	sum_cell_from_rec(c, r);
	c->item = (uint32_t)item;
	c->model = (uint16_t)model;
	c->line = r->line > UINT32_MAX ? UINT32_MAX : (uint32_t)r->line;
	if (s->judges)
		sum_judges_add(s->judges, r);
	return 0;
}

int sum_store_load(struct sum_store *s, const char *path, struct se_err *err)
{
	struct load_ctx x = {s, path, err, 0, ""};
	struct res_scan_stats st = {0, 0};
	int rc = res_scan(path, false, on_row, &x, &st, err);
	s->lines = st.lines;
	s->torn = st.torn;
	return rc ? -1 : 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted copy of t's names and the old index -> rank map. */
static char **sort_names(const struct strtab *t, uint16_t **rank)
{
	char **sorted = xmalloc((t->n + 1) * sizeof(*sorted));
	if (t->n)
		memcpy(sorted, t->name, t->n * sizeof(*sorted));
	qsort(sorted, t->n, sizeof(*sorted), cmp_name);
	*rank = xmalloc((t->n + 1) * sizeof(**rank));
	for (size_t r = 0; r < t->n; r++)
		(*rank)[strtab_find(t, sorted[r])] = (uint16_t)r;
	return sorted;
}

static int cmp_item(const void *a, const void *b, void *ctx)
{
	char **names = ctx;
	return strcmp(names[*(const uint32_t *)a], names[*(const uint32_t *)b]);
}

static int cell_key(const struct sum_cell *c)
{
	return c->model * RES_N_ROLE + c->role;
}

/* Models, tasks and slots renumbered in name order; lines without a task
 * or slot get the empty name, so every item has one. */
static void rank_names(struct sum_store *s)
{
	size_t ni = s->items.n;
	for (size_t i = 0; i < ni; i++) {
		if (s->item_task[i] == SUM_NONE16)
			s->item_task[i] = (uint16_t)strtab_intern(&s->tasks, "", NULL);
		if (s->item_slot[i] == SUM_NONE16)
			s->item_slot[i] = (uint16_t)strtab_intern(&s->slots, "", NULL);
	}
	uint16_t *mr, *tr, *sr;
	s->model_name = sort_names(&s->models, &mr);
	s->task_name = sort_names(&s->tasks, &tr);
	s->slot_name = sort_names(&s->slots, &sr);
	s->nmodels = s->models.n;
	s->ntasks = s->tasks.n;
	s->nslots = s->slots.n;
	for (size_t i = 0; i < s->ncells; i++)
		s->cells[i].model = mr[s->cells[i].model];
	for (size_t i = 0; i < ni; i++) {
		s->item_task[i] = tr[s->item_task[i]];
		s->item_slot[i] = sr[s->item_slot[i]];
	}
	free(mr);
	free(tr);
	free(sr);
}

/* Items by id, then the cells of each item (idx[first[r]..first[r + 1]]):
 * a counting sort, so no second copy of the cells. */
static void group_cells(struct sum_store *s)
{
	size_t ni = s->items.n;
	s->order = xmalloc((ni + 1) * sizeof(*s->order));
	for (size_t i = 0; i < ni; i++)
		s->order[i] = (uint32_t)i;
	qsort_r(s->order, ni, sizeof(*s->order), cmp_item, s->items.name);
	uint32_t *rank = xmalloc((ni + 1) * sizeof(*rank));
	for (size_t r = 0; r < ni; r++)
		rank[s->order[r]] = (uint32_t)r;
	s->first = xcalloc(ni + 1, sizeof(*s->first));
	for (size_t i = 0; i < s->ncells; i++)
		s->first[rank[s->cells[i].item] + 1]++;
	for (size_t r = 0; r < ni; r++)
		s->first[r + 1] += s->first[r];
	s->idx = xmalloc((s->ncells + 1) * sizeof(*s->idx));
	uint32_t *fill = xmalloc((ni + 1) * sizeof(*fill));
	memcpy(fill, s->first, ni * sizeof(*fill));
	for (size_t i = 0; i < s->ncells; i++)
		s->idx[fill[rank[s->cells[i].item]]++] = (uint32_t)i;
	free(fill);
	free(rank);
}

/* The cells of item r by (model, role), with at most one answer per model
 * and one primary. */
static int order_item_cells(struct sum_store *s, size_t r, const char *path, struct se_err *err)
{
	uint32_t *g = s->idx + s->first[r];
	size_t n = s->first[r + 1] - s->first[r];
	for (size_t i = 1; i < n; i++) { /* few cells per item */
		uint32_t v = g[i];
		size_t j = i;
		while (j > 0 && cell_key(&s->cells[g[j - 1]]) > cell_key(&s->cells[v])) {
			g[j] = g[j - 1];
			j--;
		}
		g[j] = v;
	}
	const struct sum_cell *primary = NULL;
	const char *id = s->items.name[s->order[r]];
	for (size_t i = 0; i < n; i++) {
		const struct sum_cell *c = &s->cells[g[i]];
		const struct sum_cell *p = i > 0 ? &s->cells[g[i - 1]] : NULL;
		if (p && p->model == c->model) {
			/* Even a byte-identical copy: one file never holds a
			 * pair twice (README "summaries"). */
			const struct sum_cell *a = p->line < c->line ? p : c;
			const struct sum_cell *b = a == p ? c : p;
			return res_fail_duplicate(err, id, s->model_name[c->model],
						  (enum res_role)b->role, path, b->line,
						  (enum res_role)a->role, path, a->line);
		}
		if (c->role != RES_PRIMARY)
			continue;
		if (primary) {
			unsigned lo = primary->line < c->line ? primary->line : c->line;
			unsigned hi = primary->line > c->line ? primary->line : c->line;
			char where[600];
			snprintf(where, sizeof(where), "%s:%u", path, hi);
			return se_fail(err, SE_INPUT, where,
				       "item \"%s\" has more than one primary result (lines %u and "
				       "%u)",
				       id, lo, hi);
		}
		primary = c;
	}
	return 0;
}

int sum_store_finish(struct sum_store *s, const char *path, struct se_err *err)
{
	s->nitems = s->items.n;
	rank_names(s);
	group_cells(s);
	for (size_t r = 0; r < s->nitems; r++)
		if (order_item_cells(s, r, path, err))
			return -1;
	return 0;
}

void sum_view_init_n(struct sum_view *v, size_t nmodels)
{
	memset(v, 0, sizeof(*v));
	v->answer = xcalloc(nmodels + 1, sizeof(*v->answer));
	v->shadow = xcalloc(nmodels + 1, sizeof(*v->shadow));
}

void sum_view_init(struct sum_view *v, const struct sum_store *s)
{
	sum_view_init_n(v, s->nmodels);
}

void sum_view_free(struct sum_view *v)
{
	free(v->answer);
	free(v->shadow);
	memset(v, 0, sizeof(*v));
}

void sum_view_begin(struct sum_view *v, size_t nmodels, uint16_t task, uint16_t slot)
{
	memset(v->answer, 0, nmodels * sizeof(*v->answer));
	memset(v->shadow, 0, nmodels * sizeof(*v->shadow));
	v->task = task;
	v->slot = slot;
	v->primary = v->policy = v->fallback_ok = NULL;
	v->fallback_served = false;
}

/* Cells come by (model, role): primary before shadow before fallback for
 * one model, so the first one seen is the model's answer. */
void sum_view_cell(struct sum_view *v, const struct sum_cell *c)
{
	if (!v->answer[c->model])
		v->answer[c->model] = c;
	if (c->role == RES_PRIMARY)
		v->primary = c;
	else if (c->role == RES_SHADOW)
		v->shadow[c->model] = c;
	else if (c->status == RES_OK && !v->fallback_ok)
		v->fallback_ok = c; /* several ok: the first by model name */
}

void sum_view_end(struct sum_view *v)
{
	/* Production serves the fallback when the primary failed and a
	 * fallback answered; else the primary's answer, pass or fail. */
	if (v->fallback_ok && !(v->primary && v->primary->status == RES_OK)) {
		v->policy = v->fallback_ok;
		v->fallback_served = true;
	} else {
		v->policy = v->primary;
	}
}

void sum_view_load(struct sum_view *v, const struct sum_store *s, size_t rank)
{
	uint32_t item = s->order[rank];
	sum_view_begin(v, s->nmodels, s->item_task[item], s->item_slot[item]);
	v->item = item;
	for (uint32_t i = s->first[rank]; i < s->first[rank + 1]; i++)
		sum_view_cell(v, &s->cells[s->idx[i]]);
	sum_view_end(v);
}
