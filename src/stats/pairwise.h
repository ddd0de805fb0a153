/* pairwise.h: the statistics of judged comparisons (pairwise.csv, the
 * agreement table, the win-rate gate).
 *
 * Pure functions on counts: no I/O, no allocation. Methods (decisions,
 * copied to the README):
 * - win rate: wins / (wins + losses); ties and errors are not decided and do
 *   not count. Its interval is the Wilson score interval (stats_wilson) on
 *   those decided items.
 * - sign test: exact two-sided binomial test with p = 1/2 on the decided
 *   items, min(1, 2 P(X <= min(wins, losses))), 1 when nothing is decided.
 *   It is the same test as the exact McNemar (the discordant pairs of a
 *   2x2 table are a sign test), so it is that function under its own name.
 * - verdict: "better" when p < alpha and the win rate is above 1/2,
 *   "worse" when p < alpha and below, else "no_difference" (pairs.csv's
 *   names, stats_verdict on win rate - 1/2).
 * - agreement of two pass/fail graders on the same items (a stats_pair:
 *   a = the text checks, b = the judge): the share of items where they
 *   agree, and Cohen's kappa (1960), (po - pe) / (1 - pe), pe the agreement
 *   expected from the two marginal pass rates alone. Kappa is NAN when n is
 *   0 or pe is 1 (both graders constant and equal: 0/0, as scikit-learn's
 *   cohen_kappa_score gives).
 */
#ifndef SE_STATS_PAIRWISE_H
#define SE_STATS_PAIRWISE_H

#include "stats/stats.h"

/* Exact two-sided sign test p-value for wins against losses. */
double stats_sign_test(long wins, long losses);

struct stats_win_figures {
	long decided;	     /* wins + losses */
	double rate, lo, hi; /* NAN when nothing is decided */
	double p;	     /* 1 when nothing is decided */
	const char *verdict; /* "better", "worse" or "no_difference" */
};

void stats_win_rate(long wins, long losses, double alpha, struct stats_win_figures *out);

/* Share of agreeing items and Cohen's kappa of the table's a and b. */
double stats_agreement(const struct stats_pair *t);
double stats_kappa(const struct stats_pair *t);

#endif
