/* test_sum_judge.c: the judged summaries: pairwise.csv, the judge row of
 * models.csv, agreement.csv and their stdout tables, from `summarize`
 * (sum_run_dir) and from the in-run path (sum_live) alike.
 *
 * tests/fixtures/summarize/judged.jsonl is written by hand (14 lines, 7
 * items, two slots and tasks, one shadow): its pairwise outcomes are win,
 * loss, tie (orders disagree), win, error (one order failed), not compared
 * (the shadow failed) and tie (both orders said tie); every ok line has a
 * text check `exact` and a judge check `quality`, one of them an error.
 * The expected figures were worked by hand: win rate 2/3 over 3 decided,
 * Wilson (0.20766, 0.938508) and (0.0945312, 0.905469) and (0.206549, 1)
 * from R's prop.test(k, n, correct = FALSE); sign p 1 for 2-1, 1-1 and
 * 1-0 (binom.test); position consistency 4 of 5; agreement 10 of 12 with
 * marginals 8/12 and 8/12, so kappa = (5/6 - 5/9) / (1 - 5/9) = 5/8; the
 * judge's 25 requests (13 entries, 6 pairwise lines twice), 2 errors, cost
 * 13 x 0.001 + 6 x 0.002.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/files.h"
#include "core/fileio.h"
#include "results/results.h"
#include "summarize/summarize.h"

#define FIX "tests/fixtures/summarize/"

static const char pairwise_want[] =
    "scope,scope_value,reference,shadow,n,wins,losses,ties,errors,not_compared,win_rate,"
    "win_rate_lo,win_rate_hi,sign_p,verdict,position_consistency\n"
    "overall,all,policy,s/cand,7,2,1,2,1,1,0.666667,0.20766,0.938508,1,no_difference,0.8\n"
    "slot,deep,p/deep,s/cand,4,1,0,1,1,1,1,0.206549,1,1,no_difference,1\n"
    "slot,fast,p/fast,s/cand,3,1,1,1,0,0,0.5,0.0945312,0.905469,1,no_difference,0.666667\n"
    "task,draft,policy,s/cand,4,1,0,1,1,1,1,0.206549,1,1,no_difference,1\n"
    "task,summarize,policy,s/cand,3,1,1,1,0,0,0.5,0.0945312,0.905469,1,no_difference,"
    "0.666667\n";

static const char agreement_want[] =
    "check,judge_model,n,both_pass,only_text,only_judge,neither_pass,agreement,kappa,"
    "text_pass_rate,judge_pass_rate\n"
    "quality,j/judge,12,7,1,1,3,0.833333,0.625,0.666667,0.666667\n";

static char *read_in(const char *dir, const char *name)
{
	char *p = fio_join(dir, name);
	size_t len;
	char *text = test_read_file(p, &len);
	free(p);
	return text;
}

/* The cell of column `col` in the row of models.csv starting with `row`. */
static char *models_cell(const char *dir, const char *row, const char *col)
{
	char *text = read_in(dir, "models.csv");
	char *nl = strchr(text, '\n');
	cr_assert(nl);
	*nl = '\0';
	int want = -1, i = 0;
	for (char *h = text, *c; h; h = c ? c + 1 : NULL, i++) {
		c = strchr(h, ',');
		size_t n = c ? (size_t)(c - h) : strlen(h);
		if (n == strlen(col) && !strncmp(h, col, n))
			want = i;
	}
	cr_assert(want >= 0, "models.csv has no column %s", col);
	char *line = strstr(nl + 1, row);
	cr_assert(line, "models.csv has no row %s", row);
	char *end = strchr(line, '\n');
	for (i = 0; i < want; i++)
		line = strchr(line, ',') + 1;
	size_t n = strcspn(line, ",\n");
	char *out = strndup(line, end && line + n > end ? (size_t)(end - line) : n);
	free(text);
	return out;
}

static void expect_cell(const char *dir, const char *row, const char *col, const char *want)
{
	char *got = models_cell(dir, row, col);
	cr_expect_str_eq(got, want, "%s: models.csv %s %s", dir, row, col);
	free(got);
}

static char *summarized(FILE *table)
{
	char *dir = test_mkdtemp("sumj");
	char *src = test_read_file(FIX "judged.jsonl", NULL);
	test_write_file(test_path(dir, "results.jsonl"), src);
	free(src);
	struct se_err err;
	cr_assert_eq(sum_run_dir(dir, table, &err), 0, "%s: %s", err.where, err.msg);
	return dir;
}

static int feed(void *ctx, const struct res_rec *r)
{
	sum_live_add(ctx, r);
	return 0;
}

/* The in-run path: every line fed as `run` feeds them, items done at once. */
static char *lived(FILE *table)
{
	char *dir = test_mkdtemp("sumjl");
	static const char *const models[] = {"p/fast", "p/deep", "s/cand"};
	static const char *const slots[] = {"fast", "deep"};
	struct sum_live *l = sum_live_new(FIX "judged.jsonl", models, 3, slots, 2);
	struct se_err err;
	cr_assert_eq(res_scan(FIX "judged.jsonl", false, feed, l, NULL, &err), 0, "%s", err.msg);
	static const char *const items[] = {"a1", "a2", "a3", "a4", "a5", "a6", "a7"};
	for (size_t i = 0; i < 7; i++)
		sum_live_item_done(l, items[i]);
	cr_assert_eq(sum_live_write(l, dir, table, STATS_HOLM, &err), 0, "%s: %s", err.where,
		     err.msg);
	sum_live_free(l);
	return dir;
}

static void expect_judged_tables(const char *dir)
{
	char *pw = read_in(dir, "pairwise.csv");
	cr_expect_str_eq(pw, pairwise_want, "%s/pairwise.csv", dir);
	free(pw);
	char *ag = read_in(dir, "agreement.csv");
	cr_expect_str_eq(ag, agreement_want, "%s/agreement.csv", dir);
	free(ag);
	expect_cell(dir, "j/judge,", "n", "25");
	expect_cell(dir, "j/judge,", "errors", "2");
	expect_cell(dir, "j/judge,", "pass_rate", "");
	expect_cell(dir, "j/judge,", "cost_usd_total", "0.025");
	expect_cell(dir, "j/judge,", "cost_usd_per_1k_items", "1");
	expect_cell(dir, "j/judge,", "cost_unknown", "0");
	expect_cell(dir, "j/judge,", "role", "judge");
	expect_cell(dir, "s/cand,", "role", "model");
	/* the judge's spend is not the graded model's */
	expect_cell(dir, "s/cand,", "cost_usd_total", "0.0007");
}

Test(sum_judge, summarize_writes_pairwise_agreement_and_the_judge_row)
{
	char *dir = summarized(NULL);
	expect_judged_tables(dir);
	/* exact percentiles over 13 entry latencies of 100 ms and 12 pairwise
	 * orders of 150 ms (each line's sum 300, halved) */
	expect_cell(dir, "j/judge,", "latency_ms_p50", "100.00");
	expect_cell(dir, "j/judge,", "latency_ms_p95", "150.00");
	test_rmdir(dir);
}

Test(sum_judge, the_in_run_path_writes_the_same_tables)
{
	char *a = summarized(NULL), *b = lived(NULL);
	expect_judged_tables(b);
	static const char *const same[] = {"pairwise.csv", "agreement.csv", "pairs.csv"};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		char *x = read_in(a, same[i]), *y = read_in(b, same[i]);
		cr_expect_str_eq(x, y, "%s differs between summarize and run", same[i]);
		free(x);
		free(y);
	}
	test_rmdir(a);
	test_rmdir(b);
}

Test(sum_judge, stdout_shows_the_pairwise_and_agreement_tables)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert(out);
	char *dir = summarized(out);
	fclose(out);
	cr_expect(strstr(text, "pairwise: the judge's verdicts"), "%s", text);
	cr_expect(strstr(text, "2/1/2"), "W/L/T of s/cand: %s", text);
	cr_expect(strstr(text, "66.7% [20.8, 93.9]"), "win rate: %s", text);
	cr_expect(strstr(text, "agreement: each judge check"), "%s", text);
	cr_expect(strstr(text, "83.3%"), "agreement rate: %s", text);
	cr_expect(strstr(text, "0.625"), "kappa: %s", text);
	cr_expect(strstr(text, "j/judge (judge)"), "judge row: %s", text);
	free(text);
	test_rmdir(dir);
}

Test(sum_judge, a_run_without_judging_has_no_pairwise_tables_and_drops_stale_ones)
{
	char *dir = test_mkdtemp("sumj0");
	char *src = test_read_file(FIX "results.jsonl", NULL);
	test_write_file(test_path(dir, "results.jsonl"), src);
	free(src);
	test_write_file(test_path(dir, "pairwise.csv"), "stale\n");
	test_write_file(test_path(dir, "agreement.csv"), "stale\n");
	struct se_err err;
	cr_assert_eq(sum_run_dir(dir, NULL, &err), 0, "%s", err.msg);
	cr_expect_neq(access(test_path(dir, "pairwise.csv"), F_OK), 0);
	cr_expect_neq(access(test_path(dir, "agreement.csv"), F_OK), 0);
	char *models = read_in(dir, "models.csv");
	cr_expect_null(strstr(models, ",role"), "no role column without judges: %s", models);
	free(models);
	test_rmdir(dir);
}
