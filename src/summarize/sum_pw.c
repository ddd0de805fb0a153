/* sum_pw.c: pairwise.csv and its stdout table: how each shadow's answers
 * fared against their reference's in the judge's pairwise verdicts.
 *
 * The outcomes come from the cells (sum_cell.pw, set from each shadow line's
 * `pairwise` field) and are counted per item walk in sum_agg.c, per scope
 * as pairs.csv: overall, per slot, per task. It does not read files.
 *
 * Decisions (README "How the summaries decide"):
 * - a shadow line's outcome is its `pairwise.outcome`; a shadow line with no
 *   `pairwise` field is not_compared (its reference or itself failed, or the
 *   run had no pairwise check then);
 * - win_rate = wins / (wins + losses): ties and errors are not decided. Its
 *   Wilson interval, the exact two-sided sign test on wins against losses,
 *   and the verdict "better" / "worse" / "no_difference" at alpha 0.05
 *   (stats/pairwise.h), unadjusted;
 * - position_consistency: the share of compared pairs (win, loss or tie)
 *   whose two orders named the same winner (or both a tie);
 * - the file is written only when some line has a `pairwise` field (and a
 *   stale one is removed otherwise), so runs without a pairwise check keep
 *   their folder as before.
 */
#include "summarize/sum_int.h"

#include <math.h>
#include <string.h>

#include "stats/pairwise.h"

void sum_pw_add(struct sum_pw_acc *p, uint8_t pw)
{
	switch ((enum res_pw_outcome)(pw & SUM_PW_OUTCOME)) {
	case RES_PW_WIN:
		p->wins++;
		break;
	case RES_PW_LOSS:
		p->losses++;
		break;
	case RES_PW_TIE:
		p->ties++;
		break;
	case RES_PW_ERROR:
		p->errors++;
		break;
	default:
		p->not_compared++;
		return;
	}
	if (pw & SUM_PW_CONSISTENT)
		p->consistent++;
}

static const char *const pw_header[] = {
    "scope",	   "scope_value",  "reference", "shadow",
    "n",	   "wins",	   "losses",	"ties",
    "errors",	   "not_compared", "win_rate",	"win_rate_lo",
    "win_rate_hi", "sign_p",	   "verdict",	"position_consistency",
    NULL};

static void pw_row(struct sum_ctx *x, struct sum_csv *csv, enum sum_scope scope, size_t k, size_t m,
		   const struct sum_pw_acc *p)
{
	const struct sum_names *s = &x->names;
	static const char *const scope_name[] = {"overall", "slot", "task"};
	struct stats_win_figures f;
	stats_win_rate(p->wins, p->losses, STATS_ALPHA, &f);
	long compared = p->wins + p->losses + p->ties;
	struct sum_line l;
	sum_line_init(&l);
	sum_line_str(&l, scope_name[scope]);
	sum_line_str(&l, scope == SUM_SCOPE_OVERALL ? "all"
			 : scope == SUM_SCOPE_SLOT  ? s->slot_name[k]
						    : s->task_name[k]);
	sum_line_str(&l, scope == SUM_SCOPE_SLOT ? x->slot_models[k] : "policy");
	sum_line_str(&l, s->model_name[m]);
	sum_line_long(&l, compared + p->errors + p->not_compared);
	sum_line_long(&l, p->wins);
	sum_line_long(&l, p->losses);
	sum_line_long(&l, p->ties);
	sum_line_long(&l, p->errors);
	sum_line_long(&l, p->not_compared);
	sum_line_rate(&l, f.rate);
	sum_line_rate(&l, f.lo);
	sum_line_rate(&l, f.hi);
	sum_line_rate(&l, f.p);
	sum_line_str(&l, f.verdict);
	sum_line_rate(&l, compared ? (double)p->consistent / (double)compared : NAN);
	sum_csv_line(csv, &l);
	sum_line_free(&l);
	if (scope != SUM_SCOPE_OVERALL)
		return;
	struct sum_line *t = sum_tab_row(&x->pw_tab);
	sum_line_str(t, s->model_name[m]);
	sum_line_printf(t, "%ld/%ld/%ld", p->wins, p->losses, p->ties);
	sum_line_long(t, p->errors + p->not_compared);
	if (isnan(f.rate))
		sum_line_str(t, "-");
	else
		sum_line_printf(t, "%.1f%% [%.1f, %.1f]", 100 * f.rate, 100 * f.lo, 100 * f.hi);
	sum_line_printf(t, "%.3g", f.p);
	sum_line_str(t, f.verdict);
	if (compared)
		sum_line_printf(t, "%.1f%%", 100.0 * (double)p->consistent / (double)compared);
	else
		sum_line_str(t, "-");
}

int sum_write_pairwise(struct sum_ctx *x, struct se_err *err)
{
	if (!x->a->any_pairwise)
		return sum_csv_remove(x->dir, "pairwise.csv", err);
	const struct sum_names *s = &x->names;
	struct sum_csv csv;
	if (sum_csv_open(&csv, x->dir, "pairwise.csv", pw_header, NULL, err))
		return -1;
	static const char *const th[] = {"shadow", "W/L/T",   "not decided", "win rate [95% CI]",
					 "sign p", "verdict", "consistent"};
	struct sum_line *h = sum_tab_row(&x->pw_tab);
	for (size_t i = 0; i < sizeof(th) / sizeof(th[0]); i++)
		sum_line_str(h, th[i]);
	for (int scope = 0; scope < SUM_N_SCOPE; scope++) {
		size_t nk = scope == SUM_SCOPE_OVERALL ? 1
			    : scope == SUM_SCOPE_SLOT  ? s->nslots
						       : s->ntasks;
		for (size_t k = 0; k < nk; k++) {
			for (size_t m = 0; m < s->nmodels; m++) {
				const struct sum_pw_acc *p = &x->a->pw[scope][k * s->nmodels + m];
				if (p->wins + p->losses + p->ties + p->errors == 0)
					continue;
				pw_row(x, &csv, (enum sum_scope)scope, k, m, p);
			}
		}
	}
	return sum_csv_commit(&csv, err);
}
