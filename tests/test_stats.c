/* test_stats.c: the statistics room against values computed independently.
 *
 * Reference values and where they come from:
 * - Wilson: Newcombe (1998), "Two-sided confidence intervals for the single
 *   proportion", Stat Med 17:857, table II (81/263, 15/148, 0/20, 1/29, to
 *   4 decimals); 0/10, 5/10, 10/10 by solving |p - pi| = z sqrt(pi(1-pi)/n)
 *   for pi by bisection in Python (not the closed form the code uses).
 * - Newcombe paired: Fagerland, Lydersen & Laake (2017), "Statistical
 *   Analysis of Contingency Tables", ch. 8, Cavo et al. 2012 data
 *   (59, 6 / 16, 80): -0.0621 (-0.1186 to -0.0046); the R package
 *   contingencytables checks the same figures in its tests.
 * - McNemar exact: by hand (b=0,c=5: 2/32; b=1,c=9: 2*11/1024; b=3,c=3: 1)
 *   and with exact fractions in Python (sum of C(n,k) / 2^n) for the rest;
 *   6/16 is the Cavo table (0.0525 in Fagerland et al.).
 * - Percentiles: Python's statistics.quantiles(method="inclusive"), which is
 *   Hyndman & Fan type 7.
 * - Holm and BH adjustments: Benjamini & Hochberg (1995), section 4.1, the
 *   15 p-values of their example (BH rejects 4 at 0.05, Holm 3); every
 *   adjusted value from tests/fixtures/stats/p_adjust.py (exact fractions,
 *   R's p.adjust definitions as brute-force loops; its output is
 *   p_adjust.out beside it).
 * - McNemar power and sample size: tests/fixtures/stats/mcnemar_power.py,
 *   exact rational sums over every number of discordant pairs and a scan of
 *   n from 1 (output in mcnemar_power.out); Connor (1987) for the normal
 *   approximation, by hand.
 * - Sequential tests (seq.h): the mixture likelihood ratio as exact
 *   fractions (b=8, c=0: 2^8/9; b=3, c=5: 3! 5! / 9! 2^8 = 16/31.5); the
 *   confidence sequence's boundary by integrating the normal mixture
 *   numerically (not the closed form the code uses); error rates and
 *   stopping times by simulation with a known truth.
 * - Repeated samples (cluster.h): Student's t against its closed forms for
 *   1 and 2 degrees of freedom (Cauchy: 1/2 + atan(t)/pi; df 2: 1/2 +
 *   t / (2 sqrt(2 + t^2))) and a printed table (df 10, 30); the interval,
 *   p-value, pass@k (Chen et al. 2021: 1 - C(K-c, k)/C(K, k)) and
 *   consistency worked by hand.
 * - Pairwise (pairwise.h): the sign test against R's binom.test(x, n, 0.5)
 *   (9 of 10: 0.02148438; 7 of 20: 0.2631760; 30 of 48: 0.1114029; 0 of 5:
 *   0.0625; 60 of 100: 0.05688793), which for p = 1/2 equals the doubled
 *   tail; the win rate's Wilson interval against R's prop.test(9, 10,
 *   correct = FALSE) (0.5958500 to 0.9821238). Cohen's kappa against the
 *   worked examples of Wikipedia's "Cohen's kappa" article (20/5/10/15:
 *   0.4; 45/15/25/15: 0.1304; 25/35/5/35: 0.2593), which scikit-learn's
 *   cohen_kappa_score reproduces.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "stats/cluster.h"
#include "stats/pairwise.h"
#include "stats/power.h"
#include "stats/seq.h"
#include "stats/stats.h"

static void check_wilson(long k, long n, double lo, double hi, double tol)
{
	double l, h;
	stats_wilson(k, n, STATS_Z95, &l, &h);
	cr_expect(fabs(l - lo) <= tol, "wilson %ld/%ld lo: got %.12f want %.12f", k, n, l, lo);
	cr_expect(fabs(h - hi) <= tol, "wilson %ld/%ld hi: got %.12f want %.12f", k, n, h, hi);
}

Test(stats, wilson_matches_newcombe_table)
{
	check_wilson(81, 263, 0.2553, 0.3662, 0.00005);
	check_wilson(15, 148, 0.0624, 0.1605, 0.00005);
	check_wilson(0, 20, 0.0, 0.1611, 0.00005);
	check_wilson(1, 29, 0.0061, 0.1718, 0.00005);
}

Test(stats, wilson_matches_bisection_reference)
{
	check_wilson(0, 10, 0.0, 0.277532799863, 1e-9);
	check_wilson(10, 10, 0.722467200137, 1.0, 1e-9);
	check_wilson(5, 10, 0.236593090513, 0.763406909487, 1e-9);
	check_wilson(81, 263, 0.255288519878, 0.366209576983, 1e-9);
}

Test(stats, wilson_edges_are_exact_and_empty_is_nan)
{
	double l, h;
	stats_wilson(0, 7, STATS_Z95, &l, &h);
	cr_expect(l == 0.0 && !signbit(l));
	stats_wilson(7, 7, STATS_Z95, &l, &h);
	cr_expect(h == 1.0);
	stats_wilson(0, 0, STATS_Z95, &l, &h);
	cr_expect(isnan(l) && isnan(h));
}

Test(stats, paired_interval_matches_fagerland_cavo_example)
{
	double lo, hi;
	/* rows: before (a), columns: after (b); the book reports p_a - p_b. */
	stats_paired_diff_ci(59, 6, 16, 80, STATS_Z95, &lo, &hi);
	cr_expect(fabs(-hi - -0.1186) <= 0.00005, "lo of p_a - p_b: %.6f", -hi);
	cr_expect(fabs(-lo - -0.0046) <= 0.00005, "hi of p_a - p_b: %.6f", -lo);
	/* swapping the two answers mirrors the interval */
	double lo2, hi2;
	stats_paired_diff_ci(59, 16, 6, 80, STATS_Z95, &lo2, &hi2);
	cr_expect(fabs(lo2 - -0.1186) <= 0.00005 && fabs(hi2 - -0.0046) <= 0.00005,
		  "mirrored: %.6f %.6f", lo2, hi2);
}

Test(stats, paired_interval_without_discordant_pairs_is_not_degenerate)
{
	double lo, hi;
	stats_paired_diff_ci(10, 0, 0, 10, STATS_Z95, &lo, &hi);
	cr_expect(lo < 0.0 && hi > 0.0, "got [%g, %g]", lo, hi);
	stats_paired_diff_ci(0, 0, 0, 0, STATS_Z95, &lo, &hi);
	cr_expect(isnan(lo) && isnan(hi));
	/* all discordant one way: stays inside [-1, 1] and excludes 0 */
	stats_paired_diff_ci(0, 0, 12, 0, STATS_Z95, &lo, &hi);
	cr_expect(lo > 0.0 && hi <= 1.0, "got [%g, %g]", lo, hi);
}

Test(stats, mcnemar_small_tables_worked_by_hand)
{
	cr_expect_eq(stats_mcnemar_exact(0, 5), 0.0625);
	cr_expect_eq(stats_mcnemar_exact(5, 0), 0.0625);
	cr_expect_eq(stats_mcnemar_exact(1, 9), 0.021484375);
	cr_expect_eq(stats_mcnemar_exact(3, 3), 1.0);
	cr_expect_eq(stats_mcnemar_exact(0, 0), 1.0);
	cr_expect_eq(stats_mcnemar_exact(0, 1), 1.0);
	cr_expect_eq(stats_mcnemar_exact(1, 7), 0.0703125);
}

Test(stats, mcnemar_matches_exact_fractions)
{
	struct {
		long b, c;
		double p;
	} ref[] = {
	    {6, 16, 0.0524787902832031},
	    {120, 170, 0.00393333651282518},
	    {700, 820, 0.00226052830829919}, /* n > 1000: the log-space path */
	};
	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		double p = stats_mcnemar_exact(ref[i].b, ref[i].c);
		cr_expect(fabs(p - ref[i].p) <= 1e-9 * ref[i].p,
			  "b=%ld c=%ld: got %.15g want %.15g", ref[i].b, ref[i].c, p, ref[i].p);
	}
}

static double pct_of(float *v, size_t n, int pct)
{
	stats_sort(v, n);
	return stats_percentile(v, n, pct);
}

Test(stats, percentiles_interpolate_with_ties)
{
	float a[] = {10, 2, 2, 3, 1, 2};
	cr_expect_eq(pct_of(a, 6, 50), 2.0);
	cr_expect(fabs(pct_of(a, 6, 90) - 6.5) < 1e-9);
	cr_expect(fabs(pct_of(a, 6, 95) - 8.25) < 1e-9);
	cr_expect(fabs(pct_of(a, 6, 99) - 9.65) < 1e-5);

	float b[] = {5, 1, 4, 4, 4, 2, 9, 9, 100, 3};
	cr_expect_eq(pct_of(b, 10, 50), 4.0);
	cr_expect(fabs(pct_of(b, 10, 90) - 18.1) < 1e-5);
	cr_expect(fabs(pct_of(b, 10, 95) - 59.05) < 1e-5);
	cr_expect(fabs(pct_of(b, 10, 99) - 91.81) < 1e-5);
	cr_expect_eq(stats_percentile(b, 10, 0), 1.0);
	cr_expect_eq(stats_percentile(b, 10, 100), 100.0);
}

Test(stats, percentile_of_one_value_is_that_value_and_of_none_is_nan)
{
	float a[] = {7};
	cr_expect_eq(pct_of(a, 1, 50), 7.0);
	cr_expect_eq(pct_of(a, 1, 99), 7.0);
	cr_expect(isnan(stats_percentile(a, 0, 50)));
}

Test(stats, verdict_needs_significance_and_a_direction)
{
	cr_expect_str_eq(stats_verdict(0.01, 0.05, STATS_ALPHA), "better");
	cr_expect_str_eq(stats_verdict(0.01, -0.05, STATS_ALPHA), "worse");
	cr_expect_str_eq(stats_verdict(0.05, 0.05, STATS_ALPHA), "no_difference");
	cr_expect_str_eq(stats_verdict(0.2, -0.3, STATS_ALPHA), "no_difference");
	cr_expect_str_eq(stats_verdict(NAN, 0.3, STATS_ALPHA), "no_difference");
}

/* The paired table summarize's pairs/swaps and the gate share. */
Test(stats, paired_table_counts_and_figures)
{
	struct stats_pair t = {0};
	static const bool a[] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const bool b[] = {1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
		stats_pair_add(&t, a[i], b[i]);
	cr_assert_eq(t.n, 15);
	cr_assert_eq(t.both, 3);
	cr_assert_eq(t.only_a, 1);
	cr_assert_eq(t.only_b, 9);
	cr_assert_eq(t.neither, 2);
	struct stats_pair_figures f;
	stats_pair_figures(&t, &f);
	cr_assert_float_eq(f.rate_a, 4.0 / 15, 1e-12);
	cr_assert_float_eq(f.rate_b, 12.0 / 15, 1e-12);
	cr_assert_float_eq(f.delta, 8.0 / 15, 1e-12);
	cr_assert_float_eq(f.p, 0.021484375, 1e-12); /* 2 * P(X <= 1), X ~ Bin(10, 1/2) */
	cr_assert(f.lo < f.delta && f.delta < f.hi);
	struct stats_pair empty = {0};
	stats_pair_figures(&empty, &f);
	cr_assert(isnan(f.delta) && isnan(f.rate_a));
	cr_assert_float_eq(f.p, 1.0, 1e-12);
}

static const double bh1995[] = {0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
				0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000};

static void expect_adjusted(const double *p, size_t n, enum stats_correction c, const double *want)
{
	double adj[16];
	size_t order[16];
	cr_assert(n <= 16);
	stats_adjust(p, n, c, adj, order);
	for (size_t i = 0; i < n; i++)
		cr_expect(fabs(adj[i] - want[i]) <= 1e-12, "%s [%zu]: got %.17g want %.17g",
			  stats_correction_name(c), i, adj[i], want[i]);
	/* in place gives the same */
	double inplace[16];
	memcpy(inplace, p, n * sizeof(*p));
	stats_adjust(inplace, n, c, inplace, order);
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(inplace[i], adj[i], "%s in place [%zu]", stats_correction_name(c), i);
}

Test(stats, holm_matches_the_reference_on_benjamini_hochberg_1995)
{
	static const double want[] = {0.0015, 0.0056, 0.0247, 0.114, 0.2211, 0.278, 0.278, 0.278,
				      0.3213, 1,      1,      1,     1,	     1,	    1};
	expect_adjusted(bh1995, 15, STATS_HOLM, want);
}

Test(stats, bh_matches_the_reference_on_benjamini_hochberg_1995)
{
	static const double want[] = {0.0015,
				      0.003,
				      0.0095,
				      0.035625,
				      0.0603,
				      0.063857142857142862,
				      0.063857142857142862,
				      0.0645,
				      0.0765,
				      0.486,
				      0.58118181818181813,
				      0.714875,
				      0.75323076923076926,
				      0.81321428571428567,
				      1};
	expect_adjusted(bh1995, 15, STATS_BH, want);
}

Test(stats, the_published_example_rejects_four_with_bh_and_three_with_holm)
{
	double adj[15];
	size_t order[15];
	int holm = 0, bh = 0, none = 0;
	stats_adjust(bh1995, 15, STATS_HOLM, adj, order);
	for (int i = 0; i < 15; i++)
		holm += adj[i] < STATS_ALPHA;
	stats_adjust(bh1995, 15, STATS_BH, adj, order);
	for (int i = 0; i < 15; i++)
		bh += adj[i] < STATS_ALPHA;
	stats_adjust(bh1995, 15, STATS_NONE, adj, order);
	for (int i = 0; i < 15; i++)
		none += adj[i] < STATS_ALPHA;
	cr_expect_eq(holm, 3);
	cr_expect_eq(bh, 4);
	cr_expect_eq(none, 9);
}

Test(stats, adjustment_of_an_unsorted_family_with_ties)
{
	static const double p[] = {0.04, 0.01, 0.03, 0.01, 0.5, 0.002};
	static const double holm[] = {0.09, 0.05, 0.09, 0.05, 0.5, 0.012};
	static const double bh[] = {0.048, 0.02, 0.045, 0.02, 0.5, 0.012};
	expect_adjusted(p, 6, STATS_HOLM, holm);
	expect_adjusted(p, 6, STATS_BH, bh);
	expect_adjusted(p, 6, STATS_NONE, p);
}

Test(stats, nan_p_values_are_left_out_of_the_family)
{
	double p[] = {NAN, 0.01, 0.02, NAN}, adj[4];
	size_t order[4];
	stats_adjust(p, 4, STATS_HOLM, adj, order);
	cr_expect(isnan(adj[0]) && isnan(adj[3]));
	cr_expect(fabs(adj[1] - 0.02) < 1e-15 && fabs(adj[2] - 0.02) < 1e-15, "%g %g", adj[1],
		  adj[2]);
	/* a family of one is unchanged by every correction */
	double one = 0.03;
	stats_adjust(&one, 1, STATS_HOLM, adj, order);
	cr_expect_eq(adj[0], 0.03);
	stats_adjust(&one, 1, STATS_BH, adj, order);
	cr_expect_eq(adj[0], 0.03);
}

Test(stats, correction_names_parse_and_round_trip)
{
	enum stats_correction c;
	static const char *const names[] = {"holm", "bh", "none"};
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(stats_correction_parse(names[i], &c), 0);
		cr_expect_str_eq(stats_correction_name(c), names[i]);
	}
	cr_expect_eq(stats_correction_parse("bonferroni", &c), -1);
	cr_expect_eq(stats_correction_parse("", &c), -1);
}

/* ---- McNemar power (plan) ---- */

Test(stats, mcnemar_power_matches_exact_rational_sums)
{
	static const struct {
		double psi, delta;
		long n;
		double power;
	} ref[] = {
	    {0.3, 0.1, 50, 0.178725744439820},	 {0.3, 0.1, 100, 0.373077084301821},
	    {0.3, 0.1, 200, 0.703403532706286},	 {0.2, 0.1, 60, 0.307534418856599},
	    {0.1, 0.05, 150, 0.404912483152263},
	};
	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		struct stats_power *pw = stats_power_new(ref[i].psi, ref[i].delta, 0.05);
		double p = stats_power_at(pw, ref[i].n);
		cr_expect(fabs(p - ref[i].power) < 1e-9,
			  "psi %g delta %g n %ld: got %.15f want %.15f", ref[i].psi, ref[i].delta,
			  ref[i].n, p, ref[i].power);
		/* the direction of the gap does not matter */
		struct stats_power *neg = stats_power_new(ref[i].psi, -ref[i].delta, 0.05);
		cr_expect(fabs(stats_power_at(neg, ref[i].n) - p) < 1e-12);
		stats_power_free(neg);
		stats_power_free(pw);
	}
}

Test(stats, mcnemar_sample_size_matches_a_full_scan)
{
	static const struct {
		double psi, delta, alpha, power;
		long n;
		double achieved;
	} ref[] = {
	    {0.3, 0.1, 0.05, 0.8, 249, 0.801446921029032},
	    {0.2, 0.1, 0.05, 0.9, 215, 0.900762686029354},
	    {0.1, 0.05, 0.05, 0.8, 337, 0.800738860476570},
	    {0.3, 0.1, 0.01, 0.8, 361, 0.800854169370556},
	};
	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		double got;
		long n = stats_mcnemar_n(ref[i].psi, ref[i].delta, ref[i].alpha, ref[i].power,
					 1000000, &got);
		cr_expect_eq(n, ref[i].n, "case %zu: n %ld want %ld", i, n, ref[i].n);
		cr_expect(fabs(got - ref[i].achieved) < 1e-9, "case %zu: power %.15f", i, got);
	}
}

/* Larger designs: the same n as power.c's former n-by-n walk from half of
 * Connor's n (run before the bounded search replaced it, seconds each then),
 * past the scan's SCAN_STEPS too; and gaps so small that half of the normal
 * approximation is past max_n (1e22 items, or inf) answer "none" (0) at
 * once instead of walking every n up to max_n. No timing asserted: the
 * suite's timeout bounds it. */
Test(stats, mcnemar_sample_size_is_bounded_for_any_gap, .timeout = 120)
{
	static const struct {
		double psi, delta, power;
		long n;
		double achieved;
	} ref[] = {
	    {0.2, 0.02, 0.8, 4016, 0.800063450614379},
	    {0.4, 0.01, 0.8, 31590, 0.800009142036201},
	    {0.2, 0.005, 0.8, 63180, 0.800003200731975},
	    {0.3, 0.004, 0.8, 147659, 0.800002450098670},
	    {0.05, 0.002, 0.9, 132290, 0.900001130393747},
	    {1.0, 0.005, 0.8, 314142, 0.800001624734725},
	};
	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		double got;
		long n =
		    stats_mcnemar_n(ref[i].psi, ref[i].delta, 0.05, ref[i].power, 10000000, &got);
		cr_expect_eq(n, ref[i].n, "case %zu: n %ld want %ld", i, n, ref[i].n);
		cr_expect(fabs(got - ref[i].achieved) < 1e-9, "case %zu: power %.15f", i, got);
	}
	/* millions of items: a crossing of the target, found by bisection */
	double got;
	long n = stats_mcnemar_n(0.3, 0.001, 0.05, 0.8, 10000000, &got);
	cr_expect(n > 2000000 && n < 2500000 && got >= 0.8, "n %ld power %g", n, got);
	struct stats_power *pw = stats_power_new(0.3, 0.001, 0.05);
	cr_expect(fabs(stats_power_at(pw, n) - got) < 1e-9);
	cr_expect(stats_power_at(pw, n - 1) < 0.8);
	stats_power_free(pw);
	/* gaps no run of 10^7 items detects: 0 at once, whatever the start */
	static const double tiny[][2] = {{0.3, 1e-10},	{0.3, 1e-11},	  {1.0, 1e-9},
					 {0.5, 1e-200}, {1e-300, 1e-300}, {0.2, 0.0001}};
	for (size_t i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
		got = 0.0;
		cr_expect_eq(stats_mcnemar_n(tiny[i][0], tiny[i][1], 0.05, 0.8, 10000000, &got), 0,
			     "psi %g delta %g", tiny[i][0], tiny[i][1]);
		cr_expect(isnan(got));
	}
	/* and with max_n as large as a long goes */
	cr_expect_eq(stats_mcnemar_n(0.3, 1e-11, 0.05, 0.8, LONG_MAX, &got), 0);
}

/* Connor (1987): n = (z_a/2 sqrt(psi) + z_b sqrt(psi - delta^2))^2 / delta^2;
 * psi 0.3, delta 0.1, 80%: (1.959964 * 0.547723 + 0.841621 * 0.538516)^2 /
 * 0.01 = 233.0. The exact n (249) is larger: the exact test is conservative. */
Test(stats, connor_approximation_and_bad_designs)
{
	cr_expect(fabs(stats_mcnemar_n_approx(0.3, 0.1, 0.05, 0.8) - 233.0) < 0.1, "%.3f",
		  stats_mcnemar_n_approx(0.3, 0.1, 0.05, 0.8));
	cr_expect(fabs(stats_qnorm(0.975) - STATS_Z95) < 1e-12);
	cr_expect(fabs(stats_qnorm(0.8) - 0.8416212335729143) < 1e-12);
	cr_expect(fabs(stats_qnorm(0.001) + 3.090232306167813) < 1e-12);
	double got;
	/* a gap larger than the discordance cannot happen */
	cr_expect_eq(stats_mcnemar_n(0.05, 0.1, 0.05, 0.8, 1000, &got), -1);
	cr_expect_eq(stats_mcnemar_n(0.3, 0.0, 0.05, 0.8, 1000, &got), -1);
	/* none within max_n */
	cr_expect_eq(stats_mcnemar_n(0.3, 0.1, 0.05, 0.8, 100, &got), 0);
	/* every item discordant, all one way: the exact test needs 6 (2/64 < 0.05) */
	cr_expect_eq(stats_mcnemar_n(1.0, 1.0, 0.05, 0.8, 1000, &got), 6);
	cr_expect_eq(got, 1.0);
	/* all discordant pairs one way (psi == delta): a handful of items */
	long n = stats_mcnemar_n(0.1, 0.1, 0.05, 0.8, 1000, &got);
	cr_expect(n > 0 && n < 100 && got >= 0.8, "n %ld power %g", n, got);
}

/* ---- sequential tests (seq.h) ----------------------------------------- */

Test(stats, seq_likelihood_ratio_matches_exact_fractions)
{
	cr_expect(fabs(exp(stats_seq_log_lr(8, 0)) - 256.0 / 9.0) < 1e-9);
	cr_expect(fabs(exp(stats_seq_log_lr(0, 8)) - 256.0 / 9.0) < 1e-9);
	cr_expect(fabs(exp(stats_seq_log_lr(3, 5)) - 720.0 * 256.0 / 362880.0) < 1e-12);
	cr_expect_eq(stats_seq_log_lr(0, 0), 0.0);
	/* at alpha 0.05 (L >= 20): 8 discordant pairs all one way settle, 7 do not */
	struct stats_seq_opts o = {.alpha = 0.05, .min_items = 1, .margin = 0};
	struct stats_seq s;
	stats_seq_init(&s);
	for (int i = 0; i < 7; i++)
		cr_expect_eq(stats_seq_add(&s, &o, false, true), STATS_SEQ_OPEN);
	cr_expect_eq(stats_seq_add(&s, &o, true, true), STATS_SEQ_OPEN);
	cr_expect_eq(stats_seq_add(&s, &o, false, true), STATS_SEQ_BETTER);
	cr_expect_eq(s.at, 9);
	/* settled stays settled: later items are not counted */
	cr_expect_eq(stats_seq_add(&s, &o, true, false), STATS_SEQ_BETTER);
	cr_expect_eq(s.n, 9);
	stats_seq_init(&s);
	for (int i = 0; i < 8; i++)
		stats_seq_add(&s, &o, true, false);
	cr_expect_eq(s.state, STATS_SEQ_WORSE);
	cr_expect_str_eq(stats_seq_state_name(s.state), "worse");
}

Test(stats, seq_nothing_settles_before_min_items)
{
	struct stats_seq_opts o = {.alpha = 0.05, .min_items = 20, .margin = 0};
	struct stats_seq s;
	stats_seq_init(&s);
	for (int i = 0; i < 19; i++)
		cr_expect_eq(stats_seq_add(&s, &o, false, true), STATS_SEQ_OPEN);
	cr_expect_eq(stats_seq_add(&s, &o, false, true), STATS_SEQ_BETTER);
	cr_expect_eq(s.at, 20);
}

/* The normal mixture over lambda ~ N(0, 1/rho) of exp(lambda S - lambda^2 V
 * / 2), by the trapezoid rule: at the boundary it must equal 1/alpha. */
static double mixture_at(double S, double V, double rho)
{
	double sum = 0, h = 1e-4;
	for (double l = -4.0; l <= 4.0; l += h)
		sum += exp(l * S - l * l * V / 2.0) * sqrt(rho / (2.0 * M_PI)) *
		       exp(-rho * l * l / 2.0);
	return sum * h;
}

Test(stats, seq_confidence_sequence_boundary_is_the_mixture_at_one_over_alpha)
{
	/* no discordant pair after n items: delta is bounded by the upper end
	 * of psi's sequence (theta is unknown: 2 theta - 1 spans [-1, 1]) */
	static const long ns[] = {50, 100, 400, 3000};
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		double lo, hi, n = (double)ns[i];
		stats_seq_delta_cs(ns[i], 0, 0, 0.05, &lo, &hi);
		cr_expect(fabs(lo + hi) < 1e-15, "symmetric");
		double m = mixture_at(n * hi, n / 4.0, 25.0);
		cr_expect(fabs(m * 0.025 - 1.0) < 1e-6, "n %ld: mixture %.9f at the bound", ns[i],
			  m);
	}
	/* the decomposition by hand: 1000 items, 60 won by b, 40 by a; psi's
	 * and theta's ends from the same boundary */
	double lo, hi;
	stats_seq_delta_cs(1000, 60, 40, 0.05, &lo, &hi);
	cr_expect(fabs(lo - -0.030638354604351607) < 1e-12, "%.15f", lo);
	cr_expect(fabs(hi - 0.09137790098235019) < 1e-12, "%.15f", hi);
	cr_expect(lo < 0.02 && hi > 0.02, "covers the observed 2 points");
	stats_seq_delta_cs(0, 0, 0, 0.05, &lo, &hi);
	cr_expect(isnan(lo) && isnan(hi));
}

static uint64_t sm64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool draw(uint64_t *s, double p)
{
	return (double)(sm64(s) >> 11) * 0x1.0p-53 < p;
}

/* Independent models at 80%, watched after every item up to 1,000: the
 * mixture SPRT says "better" or "worse" in at most alpha of 2,000 A/A
 * sequences; the fixed-sample McNemar looked at after every item (from the
 * 20th) says it far more often. */
Test(stats, seq_continuous_monitoring_keeps_alpha_where_peeking_does_not, .timeout = 120)
{
	enum { RUNS = 2000, N = 1000 };
	struct stats_seq_opts o = {.alpha = 0.05, .min_items = 20, .margin = 0};
	uint64_t rng = 14;
	int seq_false = 0, peek_false = 0;
	for (int r = 0; r < RUNS; r++) {
		struct stats_seq s;
		stats_seq_init(&s);
		long b = 0, c = 0;
		bool peeked = false;
		for (int i = 1; i <= N; i++) {
			bool pa = draw(&rng, 0.8), pb = draw(&rng, 0.8);
			b += pb && !pa;
			c += pa && !pb;
			stats_seq_add(&s, &o, pa, pb);
			if (!peeked && i >= 20 && stats_mcnemar_exact(b, c) < 0.05)
				peeked = true;
		}
		seq_false += s.state == STATS_SEQ_BETTER || s.state == STATS_SEQ_WORSE;
		peek_false += peeked;
	}
	fprintf(stderr, "A/A: sequential %d of %d (%.1f%%), peeking %d (%.1f%%)\n", seq_false, RUNS,
		100.0 * seq_false / RUNS, peek_false, 100.0 * peek_false / RUNS);
	cr_expect_leq(seq_false, RUNS / 20, "sequential: %d of %d", seq_false, RUNS);
	cr_expect_geq(peek_false, RUNS / 10, "peeking: %d of %d", peek_false, RUNS);
}

/* A 10-point gap (80% vs 90%, independent answers) is found, and long before
 * the 2,000 items a fixed run would spend; never in the wrong direction. */
Test(stats, seq_a_real_gap_stops_early)
{
	enum { RUNS = 200, N = 2000 };
	struct stats_seq_opts o = {.alpha = 0.05, .min_items = 20, .margin = 0};
	uint64_t rng = 15;
	int better = 0, worse = 0;
	double sum_at = 0;
	for (int r = 0; r < RUNS; r++) {
		struct stats_seq s;
		stats_seq_init(&s);
		for (int i = 0; i < N && s.state == STATS_SEQ_OPEN; i++)
			stats_seq_add(&s, &o, draw(&rng, 0.8), draw(&rng, 0.9));
		better += s.state == STATS_SEQ_BETTER;
		worse += s.state == STATS_SEQ_WORSE;
		sum_at += s.state == STATS_SEQ_OPEN ? N : (double)s.at;
	}
	cr_expect_geq(better, RUNS * 95 / 100, "found in %d of %d", better, RUNS);
	cr_expect_eq(worse, 0);
	cr_expect_lt(sum_at / RUNS, N / 2.0, "mean stop %.0f", sum_at / RUNS);
}

/* Two models that agree on 95% of the items and have the same pass rate:
 * equivalence within 5 points is shown; with a true gap of 7 points it is
 * never claimed. */
Test(stats, seq_equivalence_needs_the_interval_inside_the_margin)
{
	enum { RUNS = 200, N = 3000 };
	struct stats_seq_opts o = {.alpha = 0.05, .min_items = 20, .margin = 0.05};
	uint64_t rng = 16;
	int eq = 0, false_eq = 0;
	for (int r = 0; r < RUNS; r++) {
		struct stats_seq s, g;
		stats_seq_init(&s);
		stats_seq_init(&g);
		for (int i = 0; i < N; i++) {
			bool pa = draw(&rng, 0.8);
			/* 5% of the items flip the answer: b keeps a's rate */
			bool flip = draw(&rng, 0.05);
			bool pb = flip ? draw(&rng, 0.8) : pa;
			stats_seq_add(&s, &o, pa, pb);
			/* a 7-point gap: b wins 9% of the items, loses 2% */
			double u = (double)(sm64(&rng) >> 11) * 0x1.0p-53;
			bool ga = u >= 0.09, gb = u >= 0.09 ? u < 0.98 : true;
			stats_seq_add(&g, &o, ga, gb);
		}
		eq += s.state == STATS_SEQ_EQUIVALENT;
		false_eq += g.state == STATS_SEQ_EQUIVALENT;
	}
	cr_expect_geq(eq, RUNS * 9 / 10, "equivalent in %d of %d", eq, RUNS);
	cr_expect_eq(false_eq, 0, "a true 7-point gap called equivalent %d times", false_eq);
}

/* ---- repeated samples (cluster.h) ------------------------------------- */

Test(stats, student_t_matches_closed_forms_and_tables)
{
	double ts[] = {-30.0, -2.5, -0.3, 0.0, 0.7, 4.0, 100.0};
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		double t = ts[i];
		cr_expect(fabs(stats_t_cdf(t, 1) - (0.5 + atan(t) / M_PI)) < 1e-12, "df 1, t %g",
			  t);
		cr_expect(fabs(stats_t_cdf(t, 2) - (0.5 + t / (2.0 * sqrt(2.0 + t * t)))) < 1e-12,
			  "df 2, t %g", t);
	}
	cr_expect(fabs(stats_t_quantile(0.975, 1) - tan(M_PI * 0.475)) < 1e-9);
	cr_expect(fabs(stats_t_quantile(0.975, 2) - 0.95 / sqrt(2 * 0.975 * 0.025)) < 1e-9);
	/* the printed tables, to their 3 decimals */
	cr_expect(fabs(stats_t_quantile(0.975, 10) - 2.228) < 5e-4);
	cr_expect(fabs(stats_t_quantile(0.975, 30) - 2.042) < 5e-4);
	cr_expect(fabs(stats_t_quantile(0.975, 1e6) - STATS_Z95) < 1e-5);
	cr_expect(isnan(stats_t_quantile(1.0, 3)));
}

Test(stats, cluster_rate_and_paired_difference_by_hand)
{
	/* 3 items of 10 samples: fractions 0.6, 0.8, 0.7: mean 0.7, sd 0.1,
	 * half-width t(2) 0.1 / sqrt 3 */
	struct stats_item_count a[] = {{6, 10}, {8, 10}, {7, 10}};
	struct stats_item_count b[] = {{8, 10}, {9, 10}, {9, 10}};
	double m, lo, hi, p;
	stats_cluster_rate(a, 3, &m, &lo, &hi);
	double half = 0.95 / sqrt(2 * 0.975 * 0.025) * 0.1 / sqrt(3.0);
	cr_expect(fabs(m - 0.7) < 1e-12);
	cr_expect(fabs(lo - (0.7 - half)) < 1e-9, "%.12f", lo);
	cr_expect(fabs(hi - (0.7 + half)) < 1e-9, "%.12f", hi);
	/* d = 0.2, 0.1, 0.2: mean 1/6, sd 1/sqrt(300), t = 5: p = 1 - 5/sqrt(27) */
	stats_cluster_diff(a, b, 3, &m, &lo, &hi, &p);
	cr_expect(fabs(m - 1.0 / 6.0) < 1e-12);
	cr_expect(fabs(p - (1.0 - 5.0 / sqrt(27.0))) < 1e-9, "p %.12f", p);
	cr_expect(lo > 0 && hi < 0.5);
	/* no difference at all */
	stats_cluster_diff(a, a, 3, &m, &lo, &hi, &p);
	cr_expect(m == 0 && p == 1.0);
	/* one item: a rate, no interval */
	stats_cluster_rate(a, 1, &m, &lo, &hi);
	cr_expect(fabs(m - 0.6) < 1e-12 && isnan(lo) && isnan(hi));
}

Test(stats, pass_at_k_and_consistency_by_hand)
{
	struct stats_item_count c[] = {{2, 5}, {0, 5}, {5, 5}};
	/* k = 1: 2/5, 0, 1; k = 2: 1 - C(3,2)/C(5,2) = 0.7, 0, 1 */
	cr_expect(fabs(stats_pass_at_k(c, 3, 1) - (0.4 + 0 + 1) / 3) < 1e-12);
	cr_expect(fabs(stats_pass_at_k(c, 3, 2) - (0.7 + 0 + 1) / 3) < 1e-12);
	cr_expect(fabs(stats_pass_at_k(c, 3, 5) - 2.0 / 3.0) < 1e-12);
	cr_expect(isnan(stats_pass_at_k(c, 3, 6)));
	/* the second and third agree, the first does not */
	cr_expect(fabs(stats_consistency(c, 3) - 2.0 / 3.0) < 1e-12);
	struct stats_item_count one[] = {{1, 1}};
	cr_expect(isnan(stats_consistency(one, 1)));
}

Test(stats_pairwise, sign_test_matches_r_binom_test)
{
	cr_expect_float_eq(stats_sign_test(9, 1), 0.021484375, 1e-12);
	cr_expect_float_eq(stats_sign_test(1, 9), 0.021484375, 1e-12);
	cr_expect_float_eq(stats_sign_test(7, 13), 0.26317596435546875, 1e-12);
	cr_expect_float_eq(stats_sign_test(30, 18), 0.11140289106101875, 1e-12);
	cr_expect_float_eq(stats_sign_test(0, 5), 0.0625, 1e-12);
	cr_expect_float_eq(stats_sign_test(60, 40), 0.05688793364098079, 1e-12);
	cr_expect_float_eq(stats_sign_test(0, 0), 1.0, 1e-12);
}

Test(stats_pairwise, win_rate_has_its_wilson_interval_and_verdict)
{
	struct stats_win_figures f;
	stats_win_rate(9, 1, STATS_ALPHA, &f);
	cr_expect_eq(f.decided, 10);
	cr_expect_float_eq(f.rate, 0.9, 1e-12);
	cr_expect_float_eq(f.lo, 0.5958499732047615, 1e-9);
	cr_expect_float_eq(f.hi, 0.9821237869049271, 1e-9);
	cr_expect_str_eq(f.verdict, "better");
	stats_win_rate(1, 9, STATS_ALPHA, &f);
	cr_expect_str_eq(f.verdict, "worse");
	stats_win_rate(60, 40, STATS_ALPHA, &f);
	cr_expect_str_eq(f.verdict, "no_difference"); /* p 0.0569 */
	stats_win_rate(0, 0, STATS_ALPHA, &f);
	cr_expect(isnan(f.rate) && isnan(f.lo) && isnan(f.hi));
	cr_expect_float_eq(f.p, 1.0, 1e-12);
	cr_expect_str_eq(f.verdict, "no_difference");
}

/* a = rater 1 yes, b = rater 2 yes: both, only_a, only_b, neither. */
static double kappa_of(long both, long only_a, long only_b, long neither)
{
	struct stats_pair t = {both + only_a + only_b + neither, both, only_a, only_b, neither};
	return stats_kappa(&t);
}

Test(stats_pairwise, kappa_matches_the_worked_examples)
{
	cr_expect_float_eq(kappa_of(20, 5, 10, 15), 0.4, 1e-12);
	cr_expect_float_eq(kappa_of(45, 15, 25, 15), 0.1304, 5e-5);
	cr_expect_float_eq(kappa_of(25, 35, 5, 35), 0.2593, 5e-5);
	cr_expect_float_eq(kappa_of(10, 0, 0, 10), 1.0, 1e-12);
	cr_expect_float_eq(kappa_of(0, 10, 10, 0), -1.0, 1e-12);
	struct stats_pair t = {50, 20, 5, 10, 15};
	cr_expect_float_eq(stats_agreement(&t), 0.7, 1e-12);
}

Test(stats_pairwise, kappa_is_undefined_without_variation_or_items)
{
	cr_expect(isnan(kappa_of(10, 0, 0, 0)));
	cr_expect(isnan(kappa_of(0, 0, 0, 0)));
	struct stats_pair empty = {0, 0, 0, 0, 0};
	cr_expect(isnan(stats_agreement(&empty)));
}
