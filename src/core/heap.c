/* heap.c: binary min-heap of deadlines; see heap.h. */
#include "core/heap.h"

#include <string.h>

#include "core/xalloc.h"

void heap_init(struct heap *h)
{
	memset(h, 0, sizeof(*h));
}

void heap_free(struct heap *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

void heap_push(struct heap *h, double at, void *data)
{
	h->v = xgrow(h->v, &h->cap, h->n + 1, sizeof(*h->v));
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->v[p].at <= at)
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i].at = at;
	h->v[i].data = data;
}

bool heap_peek(const struct heap *h, struct heap_entry *out)
{
	if (!h->n)
		return false;
	*out = h->v[0];
	return true;
}

bool heap_pop(struct heap *h, struct heap_entry *out)
{
	if (!h->n)
		return false;
	*out = h->v[0];
	struct heap_entry last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].at < h->v[c].at)
			c++;
		if (last.at <= h->v[c].at)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return true;
}
