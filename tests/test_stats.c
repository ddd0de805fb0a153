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
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "stats/power.h"
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
