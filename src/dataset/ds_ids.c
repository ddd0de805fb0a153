/* ds_ids.c: the set of item-id fingerprints (see ds_ids.h). */
#include "dataset/ds_ids.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash64.h"
#include "core/xalloc.h"

#define RECENT_MIN 1024 /* fingerprints the small table takes at least */
#define RECENT_SHARE 64 /* ... or 1/64 of those in the sorted array */
#define FP_BYTES 6	/* a fingerprint in the sorted array: its low 48 bits */
#define FP_MASK ((UINT64_C(1) << (8 * FP_BYTES)) - 1)

/* The i-th fingerprint of the sorted array (little-endian, 6 bytes). */
static uint64_t sorted_at(const struct ds_ids *s, size_t i)
{
	const uint8_t *p = s->sorted + i * FP_BYTES;
	uint64_t v = 0;
	for (int k = FP_BYTES - 1; k >= 0; k--)
		v = v << 8 | p[k];
	return v;
}

static void sorted_put(struct ds_ids *s, size_t i, uint64_t v)
{
	uint8_t *p = s->sorted + i * FP_BYTES;
	for (int k = 0; k < FP_BYTES; k++, v >>= 8)
		p[k] = (uint8_t)v;
}

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
	uint64_t h = hash64(0, id, strlen(id)) & FP_MASK;
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
		if (sorted_at(s, mid) < fp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_sorted && sorted_at(s, lo) == fp;
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
	s->sorted = xrealloc(s->sorted, (s->n_sorted + m + 1) * FP_BYTES);
	size_t a = s->n_sorted, b = m, out = s->n_sorted + m;
	while (b > 0) {
		uint64_t top = a > 0 ? sorted_at(s, a - 1) : 0;
		if (a > 0 && top > s->recent[b - 1]) {
			sorted_put(s, --out, top);
			a--;
		} else {
			sorted_put(s, --out, s->recent[--b]);
		}
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

bool ds_ids_has(const struct ds_ids *s, uint64_t fp)
{
	return in_sorted(s, fp) || (s->recent && *slot(s, fp));
}

bool ds_ids_add(struct ds_ids *s, uint64_t fp)
{
	if (ds_ids_has(s, fp))
		return true;
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
