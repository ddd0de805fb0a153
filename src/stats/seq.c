/* seq.c: the mixture SPRT and the confidence sequence of seq.h.
 *
 * The methods and why they were chosen are in seq.h. Nothing here reads or
 * writes files, and nothing allocates.
 */
#include "stats/seq.h"

#include <math.h>

/* The mixing variance of the normal-mixture boundary, in units of the
 * intrinsic time t sigma^2 (seq.h). */
#define SEQ_RHO 25.0

void stats_seq_init(struct stats_seq *s)
{
	*s = (struct stats_seq){0};
}

double stats_seq_log_lr(long b, long c)
{
	if (b < 0 || c < 0)
		return NAN;
	/* log B(b + 1, c + 1) + (b + c) log 2 */
	double bb = (double)b, cc = (double)c;
	return lgamma(bb + 1.0) + lgamma(cc + 1.0) - lgamma(bb + cc + 2.0) + (bb + cc) * M_LN2;
}

/* Two-sided normal-mixture confidence sequence for the mean of a Bernoulli
 * after k successes in t draws, at level alpha, clamped to [0, 1]. */
static void bern_cs(long k, long t, double alpha, double *lo, double *hi)
{
	if (t <= 0) {
		*lo = 0.0;
		*hi = 1.0;
		return;
	}
	double tt = (double)t, v = tt * 0.25 + SEQ_RHO;
	double half = sqrt(2.0 * v * (0.5 * log(v / SEQ_RHO) - log(alpha))) / tt;
	double m = (double)k / tt;
	*lo = fmax(0.0, m - half);
	*hi = fmin(1.0, m + half);
}

void stats_seq_delta_cs(long n, long b, long c, double alpha, double *lo, double *hi)
{
	if (n <= 0 || b < 0 || c < 0 || b + c > n) {
		*lo = *hi = NAN;
		return;
	}
	double psi_lo, psi_hi, th_lo, th_hi;
	bern_cs(b + c, n, alpha / 2.0, &psi_lo, &psi_hi);
	bern_cs(b, b + c, alpha / 2.0, &th_lo, &th_hi);
	/* delta = psi (2 theta - 1) with psi >= 0: each end is a product of
	 * ends; the larger psi stretches a factor away from 0 */
	double f_lo = 2.0 * th_lo - 1.0, f_hi = 2.0 * th_hi - 1.0;
	*lo = f_lo < 0 ? psi_hi * f_lo : psi_lo * f_lo;
	*hi = f_hi > 0 ? psi_hi * f_hi : psi_lo * f_hi;
}

enum stats_seq_state stats_seq_add(struct stats_seq *s, const struct stats_seq_opts *o, bool a_pass,
				   bool b_pass)
{
	if (s->state != STATS_SEQ_OPEN)
		return s->state;
	s->n++;
	if (b_pass && !a_pass)
		s->b++;
	else if (a_pass && !b_pass)
		s->c++;
	if (s->n < o->min_items)
		return s->state;
	if (s->b != s->c && stats_seq_log_lr(s->b, s->c) >= -log(o->alpha)) {
		s->state = s->b > s->c ? STATS_SEQ_BETTER : STATS_SEQ_WORSE;
	} else if (o->margin > 0) {
		double lo, hi;
		stats_seq_delta_cs(s->n, s->b, s->c, o->alpha, &lo, &hi);
		if (lo > -o->margin && hi < o->margin)
			s->state = STATS_SEQ_EQUIVALENT;
	}
	if (s->state != STATS_SEQ_OPEN)
		s->at = s->n;
	return s->state;
}

const char *stats_seq_state_name(enum stats_seq_state s)
{
	switch (s) {
	case STATS_SEQ_BETTER:
		return "better";
	case STATS_SEQ_WORSE:
		return "worse";
	case STATS_SEQ_EQUIVALENT:
		return "equivalent";
	case STATS_SEQ_OPEN:
		break;
	}
	return "open";
}
