/* test_sim_judge.c: shadowsim's judge models in-process (src/sim/judge.c,
 * the judge keys of src/sim/profile.c).
 *
 * The profile keys are validated with JSON-path errors; the decision
 * functions follow JUDGE.md section 5 exactly (each branch at a draw chosen
 * on either side of its threshold). The end-to-end behaviour through a real
 * shadowsim is tests/e2e/test_sim_judge.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sim/sim.h"

#define FIX "tests/fixtures/sim/"

static void expect_profile_error(const char *file, const char *message)
{
	struct sim_profiles p;
	struct se_err err;
	cr_assert_eq(sim_profiles_load(file, &p, &err), -1, "%s loaded", file);
	cr_assert_eq(err.kind, SE_INPUT);
	char full[4096];
	snprintf(full, sizeof(full), "%s: %s", err.where, err.msg);
	cr_assert(strstr(full, message), "%s", full);
	sim_profiles_free(&p);
}

Test(sim_judge_profile, bias_without_judge_accuracy_is_an_error_at_its_path)
{
	expect_profile_error(FIX "bad_judge_bias.json",
			     FIX "bad_judge_bias.json: models[\"sim/a\"].position_bias: needs "
				 "judge_accuracy");
}

Test(sim_judge_profile, judge_accuracy_above_1_is_out_of_range)
{
	expect_profile_error(FIX "bad_judge_range.json",
			     FIX "bad_judge_range.json: models[\"judge/a\"].judge_accuracy: out "
				 "of range (expected 0..1)");
}

Test(sim_judge_profile, judge_keys_are_read)
{
	struct sim_profiles p;
	struct se_err err;
	cr_assert_eq(sim_profiles_load(FIX "profiles_judge.json", &p, &err), 0, "%s", err.msg);
	const struct sim_model *coin = sim_profiles_find(&p, "judge/coin");
	cr_assert(coin && coin->judge);
	cr_assert_float_eq(coin->judge_accuracy, 0.5, 1e-12);
	cr_assert_float_eq(coin->position_bias, 0.2, 1e-12);
	const struct sim_model *right = sim_profiles_find(&p, "sim/right");
	cr_assert(right && !right->judge);
	const struct sim_model *liar = sim_profiles_find(&p, "judge/liar");
	cr_assert(liar && liar->judge && liar->judge_accuracy == 0);
	sim_profiles_free(&p);
}

Test(sim_judge_decide, score_tells_the_truth_below_the_accuracy)
{
	cr_assert(sim_judge_decide(0.9, true, 0.89));
	cr_assert_not(sim_judge_decide(0.9, true, 0.9));
	cr_assert_not(sim_judge_decide(0.9, false, 0.1));
	cr_assert(sim_judge_decide(0.9, false, 0.95));
}

Test(sim_judge_decide, pairwise_bias_then_truth_then_the_other_letter)
{
	const double bias_hit[3] = {0.1, 0.99, 0.99};
	cr_assert_eq(sim_pairwise_decide(0.9, 0.2, SIM_PICK_B, bias_hit), SIM_PICK_A);
	const double truthful[3] = {0.5, 0.3, 0.99};
	cr_assert_eq(sim_pairwise_decide(0.9, 0.2, SIM_PICK_B, truthful), SIM_PICK_B);
	cr_assert_eq(sim_pairwise_decide(0.9, 0.2, SIM_PICK_TIE, truthful), SIM_PICK_TIE);
	const double lie_low[3] = {0.5, 0.95, 0.2}, lie_high[3] = {0.5, 0.95, 0.7};
	cr_assert_eq(sim_pairwise_decide(0.9, 0.2, SIM_PICK_B, lie_low), SIM_PICK_A);
	cr_assert_eq(sim_pairwise_decide(0.9, 0.2, SIM_PICK_A, lie_low), SIM_PICK_B);
	cr_assert_eq(sim_pairwise_decide(0.9, 0.2, SIM_PICK_TIE, lie_low), SIM_PICK_A);
	cr_assert_eq(sim_pairwise_decide(0.9, 0.2, SIM_PICK_TIE, lie_high), SIM_PICK_B);
	/* No bias: u[0] never forces A. */
	const double zero[3] = {0.0, 0.3, 0.3};
	cr_assert_eq(sim_pairwise_decide(0.9, 0.0, SIM_PICK_B, zero), SIM_PICK_B);
}
