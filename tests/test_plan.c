/* test_plan.c: `shadoweval plan` on pilot runs built here with a known
 * paired table, against tests/fixtures/stats/mcnemar_power.py (exact
 * rational sums; case 0: discordance 0.3, a 10-point gap, alpha 0.05, power
 * 0.8 needs 249 items, at power 0.801446921029032).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/files.h"
#include "cli/cli.h"
#include "core/fileio.h"
#include "plan/plan.h"

/* 100 items, every line costing 0.001 USD. The primary passes items 0-49.
 * sim/wide: 15 items only the primary passes, 15 only the shadow (psi 0.3);
 * sim/close: 2 and 3 (psi 0.05). */
static char *pilot(void)
{
	char *dir = test_mkdtemp("plan");
	char *p = fio_join(dir, "results.jsonl");
	FILE *fp = fopen(p, "w");
	cr_assert(fp);
	static const char *const fmt =
	    "{\"item_id\":\"i%03d\",\"task\":\"t\",\"slot\":\"s\",\"model\":\"%s\","
	    "\"role\":\"%s\",\"status\":\"ok\",\"latency_ms\":100,\"ttft_ms\":null,"
	    "\"prompt_tokens\":10,\"completion_tokens\":5,\"cost_usd\":0.001,"
	    "\"cost_source\":\"pricing\",\"cached\":false,\"pass\":%s}\n";
	for (int i = 0; i < 100; i++) {
		bool prim = i < 50;
		bool wide = i < 50 ? i >= 15 : i < 65;
		bool close = i < 50 ? i >= 2 : i < 53;
		fprintf(fp, fmt, i, "sim/p", "primary", prim ? "true" : "false");
		fprintf(fp, fmt, i, "sim/wide", "shadow", wide ? "true" : "false");
		fprintf(fp, fmt, i, "sim/close", "shadow", close ? "true" : "false");
	}
	cr_assert_eq(fclose(fp), 0);
	free(p);
	return dir;
}

static const struct plan_row *row(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->nrows; i++)
		if (!strcmp(p->rows[i].shadow, name))
			return &p->rows[i];
	cr_assert_fail("no row for %s", name);
	return NULL;
}

Test(plan, items_needed_match_the_exact_reference_and_cost_follows)
{
	char *dir = pilot();
	struct plan_opts o;
	plan_opts_init(&o);
	o.delta = 10;
	struct plan p;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(plan_compute(dir, &o, &p, &err), 0, "%s", err.msg);
	cr_assert_eq(p.items, 100);
	cr_expect(fabs(p.cost_per_item - 0.003) < 1e-12, "%g", p.cost_per_item);
	const struct plan_row *w = row(&p, "sim/wide");
	cr_expect_eq(w->n, 100);
	cr_expect_eq(w->only_primary, 15);
	cr_expect_eq(w->only_shadow, 15);
	cr_expect(fabs(w->psi - 0.3) < 1e-12);
	cr_expect_eq(w->needed, 249);
	cr_expect(fabs(w->achieved - 0.801446921029032) < 1e-9, "%.15f", w->achieved);
	cr_expect(fabs(w->cost_usd - 249 * 0.003) < 1e-9, "%g", w->cost_usd);
	/* the pilot saw less discordance than the gap needs: raised to it */
	const struct plan_row *c = row(&p, "sim/close");
	cr_expect(fabs(c->psi - 0.05) < 1e-12);
	cr_expect(fabs(c->psi_used - 0.10) < 1e-12);
	cr_expect(c->needed > 0 && c->needed < 249, "%ld", c->needed);
	cr_expect(fabs(c->observed_delta - 1.0) < 1e-9, "%g", c->observed_delta);
	/* the run serves both comparisons */
	cr_expect_eq(p.needed, 249);

	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	plan_write_text(&p, fp);
	fclose(fp);
	cr_expect(strstr(text, "a run of 249 items"), "%s", text);
	cr_expect(strstr(text, "5.0% (used 10.0%)"), "%s", text);
	free(text);
	plan_free(&p);
	test_rmdir(dir);
}

static int plan_cli(const char *a1, const char *a2, const char *a3, struct se_err *err)
{
	char *argv[] = {"plan", (char *)a1, (char *)a2, (char *)a3, NULL};
	int argc = 1;
	while (argv[argc])
		argc++;
	se_clear(err);
	return cmd_plan(argc, argv, err);
}

Test(plan, bad_flags_are_usage_errors_and_a_missing_pilot_an_input_error)
{
	struct se_err err;
	cr_expect_eq(plan_cli("runs/x", NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.msg, "required"), "%s", err.msg);
	cr_expect_eq(plan_cli("runs/x", "--delta", "0", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect_eq(plan_cli("runs/x", "--delta", "abc", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect_eq(plan_cli("--delta", "5", "--power=1.5", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	char *dir = test_mkdtemp("plan");
	cr_expect_eq(plan_cli(dir, "--delta", "5", &err), -1);
	cr_expect_eq(err.kind, SE_INPUT, "%d %s", err.kind, err.msg);
	cr_expect(strstr(err.where, "results.jsonl"), "%s", err.where);
	test_rmdir(dir);
}
