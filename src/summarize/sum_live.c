/* sum_live.c: the summaries `run` accumulates while it runs, so that the
 * end of a run writes the CSVs without re-reading results.jsonl.
 *
 * Each line written (and, on --resume, each earlier line, fed while the
 * resume set is read) becomes a compact cell held with its item until the
 * engine says the item has no line to come (sum_live_item_done); the item
 * is then reduced into the bounded accumulators (sum_agg.c with latency
 * histograms) and forgotten. Memory follows the items in flight, the
 * models, tasks and slots, never the run's length; on --resume the earlier
 * lines of items not yet reached wait too (a compact cell each), since a
 * resumed item's old and new lines are compared together. Whatever is
 * still held at the end (an interrupted item, a resumed item whose every
 * pair was done) is reduced then.
 *
 * The same checks as `summarize` (sum_store.c): one line per (item, model),
 * one primary per item, one task and slot per item; the first failure is
 * kept and returned by sum_live_write. Not thread-safe: one thread feeds it
 * (the engine's worker), and the caller writes it after that thread ended.
 */
#include "summarize/summarize.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "results/results.h"
#include "summarize/sum_int.h"

struct pend {
	struct pend *next; /* hash chain */
	char *id;
	uint64_t hash;
	uint16_t task, slot;
	struct sum_cell *cells;
	size_t n, cap;
};

struct sum_live {
	struct sum_agg agg;
	struct sum_judges judges; /* fed every line, in the order written */
	char *path;		  /* results.jsonl, for messages */
	char **models, **slots;	  /* sorted copies */
	size_t nm, ns;
	struct strtab tasks; /* in the order they come; sorted at the end */
	struct pend **bucket;
	size_t nbucket, npend;
	size_t lines;
	bool failed;
	struct se_err err;
	struct sum_view v;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **sorted_copy(const char *const *names, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(names[i]);
	qsort(out, n, sizeof(*out), cmp_str);
	return out;
}

static long find_name(char **sorted, size_t n, const char *name)
{
	char **hit = bsearch(&name, sorted, n, sizeof(*sorted), cmp_str);
	return hit ? (long)(hit - sorted) : -1;
}

struct sum_live *sum_live_new(const char *results_path, const char *const *models, size_t nm,
			      const char *const *slots, size_t ns)
{
	struct sum_live *l = xcalloc(1, sizeof(*l));
	l->path = xstrdup(results_path);
	l->models = sorted_copy(models, nm);
	l->slots = sorted_copy(slots, ns);
	l->nm = nm;
	l->ns = ns;
	sum_agg_init(&l->agg, true, nm, 0, ns);
	sum_judges_init(&l->judges, true);
	l->nbucket = 64;
	l->bucket = xcalloc(l->nbucket, sizeof(*l->bucket));
	sum_view_init_n(&l->v, nm);
	se_clear(&l->err);
	return l;
}

static uint64_t hash_id(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

static struct pend **pend_slot(struct sum_live *l, const char *id, uint64_t h)
{
	struct pend **pp = &l->bucket[h & (l->nbucket - 1)];
	while (*pp && ((*pp)->hash != h || strcmp((*pp)->id, id)))
		pp = &(*pp)->next;
	return pp;
}

static void grow_buckets(struct sum_live *l)
{
	size_t nb = l->nbucket * 2;
	struct pend **b = xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < l->nbucket; i++) {
		struct pend *p = l->bucket[i];
		while (p) {
			struct pend *next = p->next;
			p->next = b[p->hash & (nb - 1)];
			b[p->hash & (nb - 1)] = p;
			p = next;
		}
	}
	free(l->bucket);
	l->bucket = b;
	l->nbucket = nb;
}

static void fail(struct sum_live *l, size_t line, const char *fmt, ...) SE_PRINTF(3, 4);
static void fail(struct sum_live *l, size_t line, const char *fmt, ...)
{
	if (l->failed)
		return;
	char where[600], msg[700];
	snprintf(where, sizeof(where), "%s:%zu", l->path, line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	se_fail(&l->err, SE_INPUT, where, "%s", msg);
	l->failed = true;
}

static void pend_free(struct pend *p)
{
	free(p->id);
	free(p->cells);
	free(p);
}

static int cell_key(const struct sum_cell *c)
{
	return c->model * RES_N_ROLE + c->role;
}

/* Reduces one item into the accumulators: the checks of sum_store_finish,
 * then its view. */
static void reduce(struct sum_live *l, struct pend *p)
{
	struct sum_cell *g = p->cells;
	for (size_t i = 1; i < p->n; i++) { /* few cells per item */
		struct sum_cell v = g[i];
		size_t j = i;
		while (j > 0 && cell_key(&g[j - 1]) > cell_key(&v)) {
			g[j] = g[j - 1];
			j--;
		}
		g[j] = v;
	}
	const struct sum_cell *primary = NULL;
	for (size_t i = 0; i < p->n; i++) {
		const struct sum_cell *c = &g[i];
		if (i > 0 && g[i - 1].model == c->model) {
			const struct sum_cell *a = g[i - 1].line < c->line ? &g[i - 1] : c;
			const struct sum_cell *b = a == c ? &g[i - 1] : c;
			if (!l->failed)
				res_fail_duplicate(&l->err, p->id, l->models[c->model],
						   (enum res_role)b->role, l->path, b->line,
						   (enum res_role)a->role, l->path, a->line);
			l->failed = true;
			return;
		}
		if (c->role != RES_PRIMARY)
			continue;
		if (primary) {
			fail(l, c->line,
			     "item \"%s\" has more than one primary result (lines %u and %u)",
			     p->id, primary->line < c->line ? primary->line : c->line,
			     primary->line > c->line ? primary->line : c->line);
			return;
		}
		primary = c;
	}
	sum_view_begin(&l->v, l->nm, p->task, p->slot);
	for (size_t i = 0; i < p->n; i++)
		sum_view_cell(&l->v, &g[i]);
	sum_view_end(&l->v);
	sum_agg_item(&l->agg, &l->v);
}

void sum_live_add(struct sum_live *l, const struct res_rec *r)
{
	l->lines++;
	size_t line = r->line ? r->line : l->lines;
	if (l->failed)
		return;
	long m = find_name(l->models, l->nm, r->model);
	if (m < 0) {
		fail(l, line, "model \"%s\" of item \"%s\" is not in the eval config", r->model,
		     r->item_id);
		return;
	}
	long s = find_name(l->slots, l->ns, r->slot ? r->slot : "");
	if (s < 0) {
		fail(l, line, "slot \"%s\" of item \"%s\" is not in the eval config",
		     r->slot ? r->slot : "", r->item_id);
		return;
	}
	size_t t = strtab_intern(&l->tasks, r->task ? r->task : "", NULL);
	if (t >= SUM_NONE16) {
		fail(l, line, "more than %d distinct tasks", SUM_NONE16 - 1);
		return;
	}
	sum_agg_grow_tasks(&l->agg, l->tasks.n);
	uint64_t h = hash_id(r->item_id);
	struct pend **pp = pend_slot(l, r->item_id, h);
	struct pend *p = *pp;
	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->id = xstrdup(r->item_id);
		p->hash = h;
		p->task = (uint16_t)t;
		p->slot = (uint16_t)s;
		*pp = p;
		if (++l->npend > l->nbucket)
			grow_buckets(l);
	} else if (p->task != t) {
		fail(l, line, "item \"%s\" has task \"%s\" here and another on another line",
		     r->item_id, r->task ? r->task : "");
		return;
	} else if (p->slot != s) {
		fail(l, line, "item \"%s\" has slot \"%s\" here and another on another line",
		     r->item_id, r->slot ? r->slot : "");
		return;
	}
	p->cells = xgrow(p->cells, &p->cap, p->n + 1, sizeof(*p->cells));
	struct sum_cell *c = &p->cells[p->n++];
	sum_cell_from_rec(c, r);
	c->model = (uint16_t)m;
	c->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	sum_judges_add(&l->judges, r);
}

void sum_live_item_done(struct sum_live *l, const char *item_id)
{
	struct pend **pp = pend_slot(l, item_id, hash_id(item_id));
	struct pend *p = *pp;
	if (!p)
		return;
	*pp = p->next;
	l->npend--;
	if (!l->failed)
		reduce(l, p);
	pend_free(p);
}

size_t sum_live_pending(const struct sum_live *l)
{
	return l->npend;
}

static int cmp_task(const void *a, const void *b, void *ctx)
{
	char **names = ctx;
	return strcmp(names[*(const size_t *)a], names[*(const size_t *)b]);
}

int sum_live_write(struct sum_live *l, const char *dir, FILE *table, enum stats_correction c,
		   struct se_err *err)
{
	for (size_t i = 0; i < l->nbucket; i++) {
		while (l->bucket[i]) {
			struct pend *p = l->bucket[i];
			l->bucket[i] = p->next;
			if (!l->failed)
				reduce(l, p);
			pend_free(p);
		}
	}
	l->npend = 0;
	if (l->failed) {
		*err = l->err;
		return -1;
	}
	/* tasks by name, as summarize orders them */
	size_t nt = l->tasks.n;
	size_t *order = xcalloc(nt + 1, sizeof(*order));
	for (size_t i = 0; i < nt; i++)
		order[i] = i;
	qsort_r(order, nt, sizeof(*order), cmp_task, l->tasks.name);
	sum_agg_order_tasks(&l->agg, order);
	char **task_name = xcalloc(nt + 1, sizeof(*task_name));
	for (size_t r = 0; r < nt; r++)
		task_name[r] = l->tasks.name[order[r]];
	free(order);
	struct sum_ctx x = {.a = &l->agg, .dir = dir, .correction = c, .judges = &l->judges};
	x.names = (struct sum_names){l->models, task_name, l->slots, l->nm, nt, l->ns};
	int rc = sum_write_all(&x, table, err);
	free(task_name);
	return rc;
}

void sum_live_free(struct sum_live *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nbucket; i++) {
		while (l->bucket[i]) {
			struct pend *p = l->bucket[i];
			l->bucket[i] = p->next;
			pend_free(p);
		}
	}
	free(l->bucket);
	for (size_t i = 0; i < l->nm; i++)
		free(l->models[i]);
	for (size_t i = 0; i < l->ns; i++)
		free(l->slots[i]);
	free(l->models);
	free(l->slots);
	strtab_free(&l->tasks);
	sum_agg_free(&l->agg);
	sum_judges_free(&l->judges);
	sum_view_free(&l->v);
	free(l->path);
	free(l);
}
