/* seq.h: anytime-valid decisions for one paired comparison watched item by
 * item (`run --stop-when-decided`).
 *
 * A fixed-sample test (the verdicts' exact McNemar) is valid once, at the
 * planned n; looked at after every item, its chance of a false "better" or
 * "worse" grows with each look. The tests here stay valid however often they
 * are looked at and whenever the looking stops (Ville's inequality on a
 * nonnegative martingale). Pure functions on counts: no I/O, no allocation.
 *
 * Methods (decisions, copied to the README):
 * - better / worse: a mixture sequential probability ratio test on the
 *   discordant pairs. Under "no difference" a discordant item favours b with
 *   probability 1/2. With b items won by b and c by a, the likelihood ratio
 *   of a uniform (Beta(1, 1)) mixture over that probability against 1/2 is
 *   L = B(b + 1, c + 1) 2^(b + c); it is a martingale under the null, so
 *   P(L ever >= 1/alpha) <= alpha. Settled when L >= 1/alpha: "better" when
 *   b > c, "worse" when c > b. Concordant items do not move L.
 * - equivalent: a confidence sequence for the paired difference delta =
 *   p_b - p_a = psi (2 theta - 1), psi the discordance rate and theta the
 *   share of discordant items won by b. Each gets a two-sided normal-mixture
 *   confidence sequence at alpha / 2 (Robbins 1970; Howard et al. 2021, eq.
 *   14; a Bernoulli is 1/2-sub-Gaussian): mean +- sqrt(2 (t/4 + rho)
 *   log(sqrt((t/4 + rho) / rho) / (alpha/2))) / t after t draws, rho = 25
 *   (the width is tightest near t = 100). Both hold at every t at once with
 *   probability >= 1 - alpha; their product bounds delta. Settled
 *   "equivalent" when the bounds lie inside (-margin, margin). Splitting
 *   delta this way uses the discordance: when models rarely disagree,
 *   equivalence is shown with far fewer items than a bound on the raw
 *   +-1/0 differences would need.
 * - nothing is settled before min_items items.
 */
#ifndef SE_STATS_SEQ_H
#define SE_STATS_SEQ_H

#include <stdbool.h>

enum stats_seq_state { STATS_SEQ_OPEN, STATS_SEQ_BETTER, STATS_SEQ_WORSE, STATS_SEQ_EQUIVALENT };

struct stats_seq_opts {
	double alpha;	/* (0, 1) */
	long min_items; /* >= 1 */
	double margin;	/* equivalence margin, a difference of pass rates in (0, 1]; 0: never */
};

/* One comparison: a (the primary) against b (a shadow) on the same items. */
struct stats_seq {
	long n; /* items seen */
	long b; /* items only b passed */
	long c; /* items only a passed */
	enum stats_seq_state state;
	long at; /* n when settled (0 while open) */
};

void stats_seq_init(struct stats_seq *s);
/* Adds one item's pair of answers unless already settled; returns the state. */
enum stats_seq_state stats_seq_add(struct stats_seq *s, const struct stats_seq_opts *o, bool a_pass,
				   bool b_pass);

/* log of the mixture likelihood ratio L above (0 when b + c = 0). */
double stats_seq_log_lr(long b, long c);
/* The confidence-sequence bounds of delta after n items with b and c
 * discordant as above, at level alpha (NAN bounds when n is 0). */
void stats_seq_delta_cs(long n, long b, long c, double alpha, double *lo, double *hi);

/* "open", "better", "worse", "equivalent". */
const char *stats_seq_state_name(enum stats_seq_state s);

#endif
