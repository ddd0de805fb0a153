/* sum_hist.c: the log-linear latency histogram (see sum_hist.h). */
#include "summarize/sum_hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

#define EXACT (2 * SUM_HIST_SUB) /* microseconds with a bucket each */
#define MAX_US 1e13		 /* 1e10 ms */

static size_t block_len(size_t b)
{
	return b == 0 ? EXACT : SUM_HIST_SUB;
}

/* Block and index of v microseconds. */
static void locate(uint64_t v, size_t *b, size_t *i)
{
	if (v < EXACT) {
		*b = 0;
		*i = (size_t)v;
		return;
	}
	int e = 63 - __builtin_clzll(v); /* 2^e <= v, e >= 9 */
	int shift = e - 8;		 /* bucket width 2^shift */
	*b = (size_t)(e - 8);		 /* 1 for [512, 1024) */
	*i = (size_t)((v >> shift) - SUM_HIST_SUB);
}

/* The midpoint of bucket i of block b, in microseconds. */
static double midpoint(size_t b, size_t i)
{
	if (b == 0)
		return (double)i;
	int shift = (int)b;
	double lo = (double)(((uint64_t)SUM_HIST_SUB + i) << shift);
	return lo + ((double)((uint64_t)1 << shift) - 1) / 2.0;
}

void sum_hist_add(struct sum_hist *h, double ms)
{
	if (!(ms >= 0))
		return;
	double us = round(ms * 1000.0);
	if (us > MAX_US)
		us = MAX_US;
	size_t b, i;
	locate((uint64_t)us, &b, &i);
	if (!h->block[b])
		h->block[b] = xcalloc(block_len(b), sizeof(uint32_t));
	h->block[b][i]++;
	h->n++;
}

void sum_hist_merge(struct sum_hist *dst, const struct sum_hist *src)
{
	for (size_t b = 0; b < SUM_HIST_BLOCKS; b++) {
		if (!src->block[b])
			continue;
		if (!dst->block[b])
			dst->block[b] = xcalloc(block_len(b), sizeof(uint32_t));
		for (size_t i = 0; i < block_len(b); i++)
			dst->block[b][i] += src->block[b][i];
	}
	dst->n += src->n;
}

/* The midpoint of the bucket holding the value of 0-based rank r. */
static double rank_value(const struct sum_hist *h, uint64_t r)
{
	uint64_t seen = 0;
	for (size_t b = 0; b < SUM_HIST_BLOCKS; b++) {
		if (!h->block[b])
			continue;
		for (size_t i = 0; i < block_len(b); i++) {
			seen += h->block[b][i];
			if (seen > r)
				return midpoint(b, i);
		}
	}
	return NAN; /* r >= n: not reached by sum_hist_pct */
}

double sum_hist_pct(const struct sum_hist *h, int pct)
{
	if (h->n == 0)
		return NAN;
	double pos = (double)(h->n - 1) * pct / 100.0;
	uint64_t lo = (uint64_t)floor(pos);
	double frac = pos - (double)lo;
	double a = rank_value(h, lo);
	double v = a;
	if (frac > 0 && lo + 1 < h->n)
		v = a + frac * (rank_value(h, lo + 1) - a);
	return v / 1000.0;
}

void sum_hist_free(struct sum_hist *h)
{
	for (size_t b = 0; b < SUM_HIST_BLOCKS; b++)
		free(h->block[b]);
	memset(h, 0, sizeof(*h));
}
