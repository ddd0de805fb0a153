/* test_pairing.c: the pairwise check's engine parts alone (engine/pairing.h):
 * the pairing's decisions (which line waits, when the reference's is
 * written, what a failed reference does to the waiting shadows), recorded
 * through fake eng_pair_ops, and the worker's halves: verdict letters to
 * picks by role in each order, the line's pairwise object and its sums. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checks/judge.h"
#include "engine/pairing.h"
#include "results/results.h"

/* What the pairing asked the engine to do, as "w:S1 c:S2 h:R ..." */
static char calls[256];

static void rec(const char *what, void *job)
{
	size_t n = strlen(calls);
	snprintf(calls + n, sizeof(calls) - n, "%s%s:%s", n ? " " : "", what, (const char *)job);
}

static struct eng_pair_ops ops;

static void on_write(void *ctx, void *job)
{
	rec("w", job);
	/* as the engine: each shadow line handed over is reported */
	if (((const char *)job)[0] == 'S')
		eng_pair_shadow_line(ctx, &ops);
}

static void on_compare(void *ctx, void *job)
{
	(void)ctx;
	rec("c", job);
}

static void on_hold(void *ctx, void *job)
{
	(void)ctx;
	rec("h", job);
}

/* The ops, with the pair as ctx so on_write can report a shadow line. */
static void ops_for(struct eng_pair *p)
{
	calls[0] = '\0';
	ops = (struct eng_pair_ops){on_write, on_compare, on_hold, p};
}

Test(pairing, shadows_wait_for_the_reference_and_its_line_waits_for_theirs)
{
	struct eng_pair p;
	eng_pair_init(&p, 2, true);
	ops_for(&p);
	cr_expect(eng_pair_waits(&p, true), "a shadow waits while the reference may answer");
	cr_expect(eng_pair_waits(&p, false), "the reference waits while shadows are to come");
	eng_pair_shadow_ready(&p, "S1", false, &ops);
	cr_expect_str_eq(calls, "h:S1", "no reference yet: held");
	eng_pair_ref_ok(&p, "R", &ops);
	cr_expect_str_eq(calls, "h:S1 h:R c:S1", "the waiting shadow is compared, R held");
	eng_pair_shadow_ready(&p, "S2", false, &ops);
	cr_expect_str_eq(calls, "h:S1 h:R c:S1 c:S2", "a later shadow is compared at once");
	calls[0] = '\0';
	eng_pair_shadow_ready(&p, "S1", true, &ops);
	eng_pair_shadow_ready(&p, "S2", true, &ops);
	/* the second shadow line was the last: the reference's follows it */
	cr_expect_eq(p.shadows_left, 0);
	cr_expect_not(p.ref_held);
	cr_expect_str_eq(calls, "w:S1 w:S2 w:R", "%s", calls);
	eng_pair_free(&p);
}

Test(pairing, the_reference_line_follows_the_last_shadow_line)
{
	struct eng_pair p;
	eng_pair_init(&p, 1, true);
	ops_for(&p);
	eng_pair_ref_ok(&p, "R", &ops);
	cr_expect_str_eq(calls, "h:R");
	calls[0] = '\0';
	eng_pair_shadow_ready(&p, "S1", false, &ops);
	eng_pair_shadow_ready(&p, "S1", true, &ops);
	cr_expect_str_eq(calls, "c:S1 w:S1 w:R",
			 "the held reference is written after the shadow's");
	eng_pair_free(&p);
}

Test(pairing, a_reference_with_no_shadow_left_is_written_at_once)
{
	struct eng_pair p;
	eng_pair_init(&p, 1, true);
	ops_for(&p);
	eng_pair_shadow_line(&p, &ops); /* the shadow failed: written by its first pass */
	cr_expect_str_eq(calls, "", "no reference held yet");
	cr_expect_not(eng_pair_waits(&p, false));
	eng_pair_ref_ok(&p, "R", &ops);
	cr_expect_str_eq(calls, "h:R w:R");
	eng_pair_free(&p);
}

Test(pairing, no_reference_answer_leaves_the_shadows_not_compared)
{
	struct eng_pair p;
	eng_pair_init(&p, 2, true);
	ops_for(&p);
	eng_pair_shadow_ready(&p, "S1", false, &ops);
	eng_pair_ref_line(&p, false, &ops); /* failed, no fallback follows */
	cr_expect_str_eq(calls, "h:S1 w:S1", "the waiting shadow is written, not compared");
	calls[0] = '\0';
	eng_pair_shadow_ready(&p, "S2", false, &ops);
	cr_expect_str_eq(calls, "w:S2", "a later one too");
	cr_expect_not(eng_pair_waits(&p, true));
	eng_pair_free(&p);

	eng_pair_init(&p, 1, false); /* --resume: no reference job runs */
	ops_for(&p);
	cr_expect_not(eng_pair_waits(&p, true), "nothing to wait for");
	eng_pair_free(&p);
}

static struct jdg_check pairwise_check(void)
{
	struct jdg_check jc;
	struct se_err err;
	cJSON *o = cJSON_Parse("{\"type\": \"pairwise\", \"judge\": \"j/j\", \"reply_chars\": 12}");
	cr_assert(o);
	cr_assert_eq(jdg_parse(&jc, JDG_PAIRWISE, o, "e.json", "checks[0]", &err), 0, "%s",
		     err.msg);
	cJSON_Delete(o);
	return jc;
}

/* A verdict letter names a position; the pick names the role that held it. */
Test(pairing, verdicts_name_the_winner_by_role_in_each_order)
{
	struct jdg_check jc = pairwise_check();
	struct eng_pw_order o = {0};
	static const struct {
		int order;
		const char *reply;
		enum res_pw_pick want;
	} cases[] = {
	    {0, "Verdict: A", RES_PICK_REFERENCE}, {0, "Verdict: B", RES_PICK_SHADOW},
	    {1, "Verdict: A", RES_PICK_SHADOW},	   {1, "Verdict: B", RES_PICK_REFERENCE},
	    {0, "Verdict: tie", RES_PICK_TIE},	   {1, "Verdict: tie", RES_PICK_TIE},
	    {0, "I like both.", RES_PICK_ERROR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		eng_pw_read(&jc, cases[i].order, true, NULL, cases[i].reply, strlen(cases[i].reply),
			    &o);
		cr_expect_eq(o.pick, cases[i].want, "order %d, \"%s\": %s", cases[i].order,
			     cases[i].reply, res_pw_pick_name(o.pick));
		cr_expect_leq(o.reply_len, 12, "cut to reply_chars");
	}
	eng_pw_read(&jc, 0, false, "http_5xx", NULL, 0, &o);
	cr_expect_eq(o.pick, RES_PICK_ERROR, "a failed request is an error, never a tie");
	cr_expect_not_null(strstr(o.why, "http_5xx"), "%s", o.why);
	eng_pw_order_free(&o);
	jdg_free(&jc);
}

Test(pairing, the_line_object_sums_both_orders_and_keeps_both_replies)
{
	struct eng_pw_order o[2] = {
	    {.pick = RES_PICK_SHADOW, .judge_model = "j/a", .cost_usd = 0.5, .latency_ms = 10},
	    {.pick = RES_PICK_ERROR, .judge_model = "j/b", .cost_usd = 0.25, .latency_ms = 20}};
	o[0].reply = strdup("Verdict: B");
	o[0].reply_len = strlen(o[0].reply);
	snprintf(o[1].why, sizeof(o[1].why), "no match for pattern");
	struct res_pairwise pw;
	struct buf detail;
	buf_init(&detail);
	double cost = 1, lat = 0;
	eng_pw_row(o, "vs_primary", "p/main", &pw, &detail, &cost, &lat);
	cr_expect_str_eq(pw.check, "vs_primary");
	cr_expect_str_eq(pw.reference_model, "p/main");
	cr_expect_str_eq(pw.judge_model, "j/a");
	cr_expect_eq(res_pw_outcome_of(pw.ab, pw.ba), RES_PW_ERROR);
	cr_expect_float_eq(cost, 1.75, 1e-12, "added to what the line's judges cost");
	cr_expect_float_eq(lat, 30, 1e-12);
	cr_expect_not_null(strstr(pw.detail, "A/B: Verdict: B"), "%s", pw.detail);
	cr_expect_not_null(strstr(pw.detail, "B/A: error (no match for pattern)"), "%s", pw.detail);
	o[1].cost_usd = NAN;
	cost = 0;
	eng_pw_row(o, "vs_primary", "p/main", &pw, &detail, &cost, &lat);
	cr_expect(isnan(cost), "an unknown cost makes the sum unknown (null)");
	buf_free(&detail);
	eng_pw_order_free(&o[0]);
}
