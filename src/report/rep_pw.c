/* rep_pw.c: the report's "Judge: pairwise" section: pairwise.csv (each
 * shadow's wins, losses and ties against its reference, the win rate with
 * its interval, the sign test, the verdict, the judge's position
 * consistency) and, when present, agreement.csv (each judge check against
 * the text checks: agreement rate and Cohen's kappa).
 *
 * Every cell goes through rep_tbl (escaped); it reads only those two CSVs,
 * which `summarize` writes when the run has pairwise verdicts or judge
 * checks beside text checks. It does not compute anything.
 */
#include "report/rep_int.h"

#include <string.h>

static const struct rep_tcol pw_cols[] = {
    {.head = "Scope", .kind = REP_SCOPE, .name = "scope", .aux = "scope_value"},
    {.head = "Reference", .kind = REP_TEXT, .name = "reference"},
    {.head = "Shadow", .kind = REP_NAME, .name = "shadow"},
    {.head = "Items", .kind = REP_INT, .name = "n"},
    {.head = "Wins", .kind = REP_INT, .name = "wins"},
    {.head = "Losses", .kind = REP_INT, .name = "losses"},
    {.head = "Ties", .kind = REP_INT, .name = "ties"},
    {.head = "Errors", .kind = REP_INT, .name = "errors"},
    {.head = "Not compared", .kind = REP_INT, .name = "not_compared"},
    {.head = "Win rate",
     .kind = REP_PCT,
     .name = "win_rate",
     .lo = "win_rate_lo",
     .hi = "win_rate_hi"},
    {.head = "p (sign test)", .kind = REP_P, .name = "sign_p"},
    {.head = "Verdict", .kind = REP_VERDICT, .name = "verdict"},
    {.head = "Same winner in both orders", .kind = REP_PCT, .name = "position_consistency"},
};

static const struct rep_tcol agree_cols[] = {
    {.head = "Judge check", .kind = REP_TEXT, .name = "check"},
    {.head = "Judge", .kind = REP_NAME, .name = "judge_model"},
    {.head = "Items", .kind = REP_INT, .name = "n"},
    {.head = "Text checks pass", .kind = REP_PCT, .name = "text_pass_rate"},
    {.head = "Judge passes", .kind = REP_PCT, .name = "judge_pass_rate"},
    {.head = "Agreement", .kind = REP_PCT, .name = "agreement"},
    {.head = "Cohen's kappa", .kind = REP_TEXT, .name = "kappa"},
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

int rep_section_pairwise(struct buf *b, const struct rep_table *pw, const struct rep_table *agree,
			 struct se_err *err)
{
	buf_puts(b, "<section id=\"pairwise\"><h2>Judge: pairwise</h2><p class=\"note\">"
		    "A judge model saw each shadow's answer beside its reference's, in both "
		    "orders. Win rate = wins / (wins + losses): ties (the orders disagreed, or "
		    "the judge said tie) and errors are not decided. The verdict is the exact "
		    "sign test at alpha 0.05; read it beside the pass rates above, which only "
		    "text checks decide.</p>\n");
	struct rep_tbl tb;
	if (pw) {
		if (rep_tbl_open(&tb, b, pw, pw_cols, NCOLS(pw_cols), err))
			return -1;
		for (size_t r = 0; r < pw->nrows; r++)
			rep_tbl_row(&tb, b, r, NULL);
		if (!pw->nrows)
			rep_tbl_note(&tb, b, "no rows");
		rep_tbl_close(&tb, b);
	}
	if (agree) {
		buf_puts(b, "<h3>Judge against the text checks</h3><p class=\"note\">On the "
			    "answers graded both ways: how often the judge's pass agrees with the "
			    "text checks', and Cohen's kappa (agreement beyond chance; 1 perfect, "
			    "0 chance). Trust the judge on answers without text checks only as "
			    "far as it agrees here.</p>\n");
		if (rep_tbl_open(&tb, b, agree, agree_cols, NCOLS(agree_cols), err))
			return -1;
		for (size_t r = 0; r < agree->nrows; r++)
			rep_tbl_row(&tb, b, r, NULL);
		rep_tbl_close(&tb, b);
	}
	buf_puts(b, "</section>\n");
	return 0;
}
