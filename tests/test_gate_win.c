/* test_gate_win.c: `check --min-win-rate`, the gate on the judge's pairwise
 * win rate (src/gate/gate.c, check_win_rate).
 *
 * Both runs are tests/fixtures/summarize/judged.jsonl (hand-written; its
 * shadow s/cand has 2 wins and 1 loss: win rate 2/3, Wilson 95% interval
 * 0.20766 to 0.938508 from R's prop.test(2, 3, correct = FALSE)). So a
 * minimum of 0.95 lies above the interval and fails, 0.9 lies inside it
 * and passes; without the flag the gate runs its three checks as before.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/files.h"
#include "gate/gate.h"

#define FIX "tests/fixtures/summarize/"

static char *run_dir(const char *tag, const char *results)
{
	char *dir = test_mkdtemp(tag);
	char *src = test_read_file(results, NULL);
	test_write_file(test_path(dir, "results.jsonl"), src);
	free(src);
	return dir;
}

static void compare(double min_win_rate, struct gate_report *r)
{
	char *base = run_dir("gwb", FIX "judged.jsonl"), *cur = run_dir("gwc", FIX "judged.jsonl");
	struct gate_opts o;
	gate_opts_init(&o);
	o.min_win_rate = min_win_rate;
	struct se_err err;
	cr_assert_eq(gate_compare(cur, base, &o, r, &err), 0, "%s: %s", err.where, err.msg);
	test_rmdir(base);
	test_rmdir(cur);
}

Test(gate_win, a_win_rate_below_the_minimum_beyond_its_interval_fails)
{
	struct gate_report r;
	compare(0.95, &r);
	cr_assert_eq(gate_nchecks(&r), 4);
	const struct gate_check *c = &r.checks[GATE_WIN_RATE];
	cr_expect_str_eq(c->name, "win_rate");
	cr_expect_eq(c->verdict, GATE_FAIL, "%s", c->why);
	cr_expect_eq(c->n, 3);
	cr_expect_eq(c->cur_k, 2);
	cr_expect_float_eq(c->cur, 2.0 / 3.0, 1e-12);
	cr_expect_float_eq(c->hi, 0.938508, 5e-7);
	cr_expect_float_eq(c->base, 2.0 / 3.0, 1e-12);
	cr_expect_float_eq(c->delta, 0, 1e-12);
	cr_expect(strstr(c->why, "s/cand"), "%s", c->why);
	cr_expect_eq(r.failures, 1);
	gate_report_free(&r);
}

Test(gate_win, a_minimum_inside_the_interval_passes)
{
	struct gate_report r;
	compare(0.9, &r);
	cr_expect_eq(r.checks[GATE_WIN_RATE].verdict, GATE_PASS, "%s", r.checks[GATE_WIN_RATE].why);
	cr_expect_eq(r.failures, 0);
	gate_report_free(&r);
}

Test(gate_win, without_the_flag_the_gate_has_three_checks)
{
	struct gate_report r;
	compare(NAN, &r);
	cr_expect_eq(gate_nchecks(&r), 3);
	cr_expect_null(r.checks[GATE_WIN_RATE].name);
	gate_report_free(&r);
}

Test(gate_win, runs_without_verdicts_skip_the_check)
{
	char *base = run_dir("gw0b", FIX "results.jsonl"),
	     *cur = run_dir("gw0c", FIX "results.jsonl");
	struct gate_opts o;
	gate_opts_init(&o);
	o.min_win_rate = 0.5;
	struct gate_report r;
	struct se_err err;
	cr_assert_eq(gate_compare(cur, base, &o, &r, &err), 0, "%s", err.msg);
	cr_expect_eq(r.checks[GATE_WIN_RATE].verdict, GATE_SKIP);
	cr_expect_eq(r.failures, 0);
	gate_report_free(&r);
	test_rmdir(base);
	test_rmdir(cur);
}
