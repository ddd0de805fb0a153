/* test_sum_hist.c: the summaries' latency histogram (src/summarize/
 * sum_hist.c) against exact type-7 percentiles: within the stated 0.5% over
 * a wide range of values, merging, the empty case, and memory that follows
 * the range of the values, not their count. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "stats/stats.h"
#include "summarize/sum_hist.h"
#include "summarize/summarize.h"

/* splitmix64: the same values on every run */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A latency in ms at results.jsonl's resolution (1 us), log-uniform from
 * 0.01 ms to 100 s. */
static float latency(uint64_t *s)
{
	double u = (double)(next(s) >> 11) / 9007199254740992.0;
	double ms = 0.01 * pow(10.0, 7.0 * u);
	return (float)(round(ms * 1000.0) / 1000.0);
}

Test(sum_hist, percentiles_are_within_half_a_percent_of_the_exact_ones)
{
	static const int pcts[] = {0, 1, 50, 90, 95, 99, 100};
	uint64_t seed = 42;
	for (size_t n = 1; n <= 20001; n += 2500) {
		float *v = malloc(n * sizeof(*v));
		struct sum_hist h = {0};
		for (size_t i = 0; i < n; i++) {
			v[i] = latency(&seed);
			sum_hist_add(&h, v[i]);
		}
		stats_sort(v, n);
		for (size_t k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
			double exact = stats_percentile(v, n, pcts[k]);
			double got = sum_hist_pct(&h, pcts[k]);
			/* relative, or the microsecond the file is rounded to */
			cr_assert_leq(fabs(got - exact), 0.005 * exact + 0.0005,
				      "n %zu p%d: %.6f, exact %.6f", n, pcts[k], got, exact);
		}
		free(v);
		sum_hist_free(&h);
	}
}

Test(sum_hist, a_merge_is_the_histogram_of_both)
{
	uint64_t seed = 7;
	struct sum_hist a = {0}, b = {0}, all = {0};
	for (int i = 0; i < 3000; i++) {
		float x = latency(&seed);
		sum_hist_add(i % 3 ? &a : &b, x);
		sum_hist_add(&all, x);
	}
	sum_hist_merge(&a, &b);
	cr_assert_eq(a.n, all.n);
	for (int p = 0; p <= 100; p += 5)
		cr_assert_eq(sum_hist_pct(&a, p), sum_hist_pct(&all, p), "p%d", p);
	sum_hist_free(&a);
	sum_hist_free(&b);
	sum_hist_free(&all);
}

Test(sum_hist, empty_is_unknown_and_memory_follows_the_range)
{
	struct sum_hist h = {0};
	cr_assert(isnan(sum_hist_pct(&h, 50)));
	/* a million values between 40 and 60 ms: two powers of two */
	uint64_t seed = 1;
	for (int i = 0; i < 1000000; i++)
		sum_hist_add(&h, 40.0 + (double)(next(&seed) % 20000) / 1000.0);
	int blocks = 0;
	for (int b = 0; b < SUM_HIST_BLOCKS; b++)
		blocks += h.block[b] != NULL;
	cr_assert_leq(blocks, 2, "%d blocks for values in [40, 60) ms", blocks);
	cr_assert_eq(h.n, 1000000);
	sum_hist_free(&h);
}

Test(sum_hist, a_bounded_fvec_uses_the_histogram_an_exact_one_every_value)
{
	struct sum_fvec exact = {0}, bounded = {.bounded = true};
	for (int i = 1; i <= 1000; i++) {
		sum_fvec_push(&exact, (float)i);
		sum_fvec_push(&bounded, (float)i);
	}
	cr_assert_eq(exact.n, 1000);
	cr_assert_null(bounded.v, "a bounded set keeps no values");
	cr_assert_eq(sum_fvec_pct(&exact, 50), 500.5);
	cr_assert_leq(fabs(sum_fvec_pct(&bounded, 50) - 500.5), 0.005 * 500.5);
	sum_fvec_free(&exact);
	sum_fvec_free(&bounded);
}
