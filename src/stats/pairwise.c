/* pairwise.c: win rate, sign test and Cohen's kappa (see pairwise.h). */
#include <math.h>

#include "stats/pairwise.h"

double stats_sign_test(long wins, long losses)
{
	return stats_mcnemar_exact(wins, losses);
}

void stats_win_rate(long wins, long losses, double alpha, struct stats_win_figures *out)
{
	out->decided = wins + losses;
	out->p = stats_sign_test(wins, losses);
	out->rate = out->lo = out->hi = NAN;
	if (out->decided > 0) {
		out->rate = (double)wins / (double)out->decided;
		stats_wilson(wins, out->decided, STATS_Z95, &out->lo, &out->hi);
	}
	out->verdict = stats_verdict(out->p, out->rate - 0.5, alpha);
}

double stats_agreement(const struct stats_pair *t)
{
	if (t->n <= 0)
		return NAN;
	return (double)(t->both + t->neither) / (double)t->n;
}

double stats_kappa(const struct stats_pair *t)
{
	if (t->n <= 0)
		return NAN;
	double n = (double)t->n;
	double pa = (double)(t->both + t->only_a) / n;
	double pb = (double)(t->both + t->only_b) / n;
	double pe = pa * pb + (1 - pa) * (1 - pb);
	if (pe >= 1.0)
		return NAN;
	return (stats_agreement(t) - pe) / (1 - pe);
}
