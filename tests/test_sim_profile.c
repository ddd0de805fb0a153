/* test_sim_profile.c: shadowsim's latency numbers in-process (the latency
 * keys of src/sim/profile.c, the delays of src/sim/reply.c).
 *
 * A profile's latency must give delays that end: a rate so small that one
 * token takes longer than the age of the universe is refused at its JSON
 * path, and whatever a model struct holds (a profile's bounds bypassed), the
 * planned ttft and generation times are finite and at most SIM_MAX_DELAY_MS,
 * so the server's timer never meets inf (which wedged every model).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "sim/sim.h"

#define FIX "tests/fixtures/sim/"

Test(sim_profile, a_rate_that_never_ends_is_refused_at_its_path)
{
	struct sim_profiles p;
	struct se_err err;
	cr_assert_eq(sim_profiles_load(FIX "bad_tps.json", &p, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	char full[4096];
	snprintf(full, sizeof(full), "%s: %s", err.where, err.msg);
	cr_assert(strstr(full, FIX "bad_tps.json: models[\"m/inf\"].latency.tokens_per_s: out of "
				   "range (expected 0 for instant, or 0.01..1e+09)"),
		  "%s", full);
	sim_profiles_free(&p);
}

/* Plans one request to `model` of profiles.json after `tweak` set its
 * latency beyond what a profile may hold. */
static void plan_with(void (*tweak)(struct sim_model *), struct sim_plan *pl)
{
	struct sim_profiles p;
	struct se_err err;
	cr_assert_eq(sim_profiles_load(FIX "profiles.json", &p, &err), 0, "%s", err.msg);
	struct sim_model *m = (struct sim_model *)sim_profiles_find(&p, "sim/slow");
	cr_assert(m);
	tweak(m);
	struct sim_request_ctx ctx = {.profiles = &p, .seed = 7, .attempt = 1};
	static const char body[] =
	    "{\"model\":\"sim/slow\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
	struct buf eb;
	buf_init(&eb);
	sim_plan_init(pl);
	cr_assert_eq(sim_plan_request(&ctx, body, strlen(body), pl, &eb), 0, "%s", eb.data);
	buf_free(&eb);
	pl->model = NULL; /* the profiles go now */
	sim_profiles_free(&p);
}

static void tiny_rate(struct sim_model *m)
{
	m->tokens_per_s = 1e-300;
	m->jitter = SIM_JITTER_NONE;
}

static void huge_everything(struct sim_model *m)
{
	m->tokens_per_s = 4.9e-324;
	m->ttft_ms = 1e308;
	m->jitter = SIM_JITTER_LOGNORMAL;
	m->jitter_frac = 1e6;
}

static void nan_latency(struct sim_model *m)
{
	m->tokens_per_s = NAN;
	m->ttft_ms = NAN;
	m->jitter = SIM_JITTER_UNIFORM;
	m->jitter_frac = 10;
}

Test(sim_profile, every_planned_delay_saturates_at_the_maximum)
{
	static void (*const tweaks[])(struct sim_model *) = {tiny_rate, huge_everything,
							     nan_latency};
	for (size_t i = 0; i < sizeof(tweaks) / sizeof(tweaks[0]); i++) {
		struct sim_plan pl;
		plan_with(tweaks[i], &pl);
		cr_expect(isfinite(pl.ttft_ms) && pl.ttft_ms >= 0 && pl.ttft_ms <= SIM_MAX_DELAY_MS,
			  "case %zu: ttft %g", i, pl.ttft_ms);
		cr_expect(isfinite(pl.gen_ms) && pl.gen_ms >= 0 && pl.gen_ms <= SIM_MAX_DELAY_MS,
			  "case %zu: gen %g", i, pl.gen_ms);
		sim_plan_free(&pl);
	}
	/* a tiny rate: the whole answer at the maximum, not later */
	struct sim_plan pl;
	plan_with(tiny_rate, &pl);
	cr_expect_eq(pl.gen_ms, SIM_MAX_DELAY_MS);
	sim_plan_free(&pl);
}
