/* sum_hist.h: a log-linear latency histogram (HdrHistogram-style) for the
 * summaries a run accumulates while it runs: memory follows the range of
 * the values, never their count.
 *
 * Values are milliseconds, kept in microseconds (results.jsonl's own
 * resolution). Below 512 us every microsecond has its own bucket (exact);
 * above, each power of two is split into 256 equal buckets, so a bucket is
 * at most 1/256 of its lower edge wide and its midpoint, which stands for
 * every value in it, is within 0.2% of each of them. A percentile (type 7,
 * as stats_percentile) interpolates between two such midpoints, so it is
 * within 0.2% of the exact one: the stated bound is 0.5%. Up to 1e10 ms
 * (results.jsonl's range); blocks of 256 counts are allocated only for the
 * powers of two that occur (a few KB for a model's latencies).
 *
 * Ownership: the histogram owns its blocks; sum_hist_free releases them. A
 * zeroed struct is an empty histogram.
 */
#ifndef SE_SUM_HIST_H
#define SE_SUM_HIST_H

#include <stdint.h>

#define SUM_HIST_SUB 256 /* buckets per power of two above the exact range */
#define SUM_HIST_BLOCKS 38

struct sum_hist {
	uint32_t *block[SUM_HIST_BLOCKS]; /* 0: the exact range, 512 counts */
	uint64_t n;
};

void sum_hist_add(struct sum_hist *h, double ms);
/* dst += src. */
void sum_hist_merge(struct sum_hist *dst, const struct sum_hist *src);
/* Type-7 percentile in ms, within 0.5% of the exact one; NAN when empty. */
double sum_hist_pct(const struct sum_hist *h, int pct);
void sum_hist_free(struct sum_hist *h);

#endif
