/* ds_ids.c: the set of item-id fingerprints (see ds_ids.h). */
#include "dataset/ds_ids.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash64.h"
#include "core/xalloc.h"

#define RECENT_MIN 1024 /* fingerprints the small table takes at least */
#define RECENT_SHARE 64 /* ... or 1/64 of those in the sorted array */

void ds_ids_init(struct ds_ids *s)
{
	memset(s, 0, sizeof(*s));
}

void ds_ids_free(struct ds_ids *s)
{
	free(s->sorted);
	free(s->recent);
	memset(s, 0, sizeof(*s));
}

uint64_t ds_ids_fingerprint(const char *id)
{
	uint64_t h = hash64(0, id, strlen(id));
	return h ? h : 1;
}

size_t ds_ids_count(const struct ds_ids *s)
{
	return s->n_sorted + s->n_recent;
}

static bool in_sorted(const struct ds_ids *s, uint64_t fp)
{
	size_t lo = 0, hi = s->n_sorted;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->sorted[mid] < fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_sorted && s->sorted[lo] == fp;
}

static uint64_t *slot(const struct ds_ids *s, uint64_t fp)
{
	size_t i = (size_t)fp & (s->cap_recent - 1);
	while (s->recent[i] && s->recent[i] != fp)
		i = (i + 1) & (s->cap_recent - 1);
	return &s->recent[i];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The table's fingerprints into the sorted array (merged from the back, in
 * place), then a new empty table sized for the new total. */
static void merge_recent(struct ds_ids *s)
{
	size_t m = 0;
	for (size_t i = 0; i < s->cap_recent; i++)
		if (s->recent[i])
			s->recent[m++] = s->recent[i];
	qsort(s->recent, m, sizeof(*s->recent), cmp_u64);
	s->sorted = xrealloc(s->sorted, (s->n_sorted + m + 1) * sizeof(*s->sorted));
	size_t a = s->n_sorted, b = m, out = s->n_sorted + m;
	while (b > 0) {
		if (a > 0 && s->sorted[a - 1] > s->recent[b - 1])
			s->sorted[--out] = s->sorted[--a];
		else
			s->sorted[--out] = s->recent[--b];
	}
	s->n_sorted += m;
	s->n_recent = 0;
	free(s->recent);
	s->recent = NULL;
	s->cap_recent = 0;
}

/* The table holds at most `limit` fingerprints at a load of at most 1/2. */
static size_t recent_limit(const struct ds_ids *s)
{
	size_t l = s->n_sorted / RECENT_SHARE;
	return l < RECENT_MIN ? RECENT_MIN : l;
}

bool ds_ids_add(struct ds_ids *s, uint64_t fp)
{
	if (in_sorted(s, fp))
		return true;
	if (s->recent) {
		uint64_t *p = slot(s, fp);
		if (*p)
			return true;
	}
	if (s->n_recent + 1 > recent_limit(s) || !s->recent) {
		if (s->n_recent)
			merge_recent(s);
		size_t cap = 1;
		while (cap < recent_limit(s) * 2)
			cap <<= 1;
		s->recent = xcalloc(cap, sizeof(*s->recent));
		s->cap_recent = cap;
	}
	*slot(s, fp) = fp;
	s->n_recent++;
	return false;
}
