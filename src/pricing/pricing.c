/* pricing.c: the pricing room: per-model prices from a saved /models JSON;
 * see pricing.h.
 *
 * The file is read once (wire_parse_models does the JSON), kept as an array
 * sorted by model id and searched with bsearch. It does not decide whether a
 * reported usage.cost wins over an estimate (the results writer does), and it
 * never fetches prices over the network.
 */
#include "pricing/pricing.h"

#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "wire/wire.h"

struct pricing_entry {
	char *id;
	size_t order; /* position in the file: the first of duplicate ids wins */
	struct price price;
};

struct pricing {
	struct pricing_entry *v;
	size_t n;
	size_t cap;
};

static int collect(void *ctx, const struct wire_model_price *m)
{
	struct pricing *p = ctx;
	/* Without both token prices (openrouter/auto's "-1", a model listed
	 * without pricing) no estimate can be made: leave it out, so
	 * pricing_find says "unknown" rather than a wrong 0. */
	if (m->prompt < 0 || m->completion < 0)
		return 0;
	p->v = xgrow(p->v, &p->cap, p->n + 1, sizeof(*p->v));
	struct pricing_entry *e = &p->v[p->n];
	e->id = xstrdup(m->id);
	e->order = p->n;
	e->price.prompt = m->prompt;
	e->price.completion = m->completion;
	e->price.request = m->request > 0 ? m->request : 0;
	e->price.cache_read = m->cache_read;
	p->n++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct pricing_entry *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_key(const void *key, const void *elem)
{
	const struct pricing_entry *e = elem;
	return strcmp(key, e->id);
}

int pricing_load(const char *path, struct pricing **out, struct se_err *err)
{
	char *data;
	size_t len;
	*out = NULL;
	if (fio_read_all(path, &data, &len, err))
		return -1;
	struct pricing *p = xcalloc(1, sizeof(*p));
	int rc = wire_parse_models(data, len, path, collect, p, err);
	free(data);
	if (rc) {
		pricing_free(p);
		return -1;
	}
	qsort(p->v, p->n, sizeof(*p->v), cmp_entry);
	size_t w = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (w && strcmp(p->v[w - 1].id, p->v[i].id) == 0) {
			free(p->v[i].id);
			continue;
		}
		p->v[w++] = p->v[i];
	}
	p->n = w;
	*out = p;
	return 0;
}

void pricing_free(struct pricing *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].id);
	free(p->v);
	free(p);
}

const struct price *pricing_find(const struct pricing *p, const char *model)
{
	if (!p || !model || !p->n)
		return NULL;
	const struct pricing_entry *e = bsearch(model, p->v, p->n, sizeof(*p->v), cmp_key);
	return e ? &e->price : NULL;
}

double pricing_cost(const struct price *pr, long prompt_tokens, long completion_tokens,
		    long cached_tokens)
{
	if (!pr)
		return -1;
	if (prompt_tokens < 0)
		prompt_tokens = 0;
	if (completion_tokens < 0)
		completion_tokens = 0;
	if (cached_tokens < 0)
		cached_tokens = 0;
	/* cached_tokens is part of prompt_tokens (OpenAI's usage shape). */
	if (cached_tokens > prompt_tokens)
		cached_tokens = prompt_tokens;
	double cache = pr->cache_read >= 0 ? pr->cache_read : pr->prompt;
	double cost = pr->prompt * (double)(prompt_tokens - cached_tokens) +
		      cache * (double)cached_tokens + pr->completion * (double)completion_tokens;
	if (pr->request > 0)
		cost += pr->request;
	return cost;
}
