/* test_route.c: the routing policy: the seed's task map, complexity bands at
 * their boundaries, metadata rules, rule order, and the estimate fed to it. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "dataset/dataset.h"
#include "prompt/prompt.h"
#include "route/route.h"

static struct cfg *load(const char *path)
{
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cfg_load(path, &cfg, &err), 0, "%s: %s", err.where, err.msg);
	return cfg;
}

/* An item built from JSON text, as the dataset reader would give it. */
static struct ds_item make_item(const char *json)
{
	struct ds_item it = {0};
	it.obj = cJSON_Parse(json);
	cr_assert_not_null(it.obj, "bad test JSON: %s", json);
	const cJSON *id = cJSON_GetObjectItem(it.obj, "id");
	const cJSON *task = cJSON_GetObjectItem(it.obj, "task");
	it.id = cJSON_IsString(id) ? id->valuestring : "x";
	it.task = cJSON_IsString(task) ? task->valuestring : "";
	return it;
}

static const char *pick(struct cfg *cfg, const char *json, long est, struct route_decision *d)
{
	struct ds_item it = make_item(json);
	route_pick(cfg, &it, est, d);
	cJSON_Delete(it.obj);
	return cfg->slots[d->slot].name;
}

Test(route, seed_task_map)
{
	struct cfg *cfg = load("tests/fixtures/route/seed.json");
	struct route_decision d;
	cr_assert_str_eq(pick(cfg, "{\"task\":\"summarize\"}", 10, &d), "fast");
	cr_assert_str_eq(pick(cfg, "{\"task\":\"classify\"}", 10, &d), "fast");
	cr_assert_eq(d.rule, 1);
	cr_assert_str_eq(pick(cfg, "{\"task\":\"draft\"}", 10, &d), "balanced");
	cr_assert_str_eq(pick(cfg, "{\"task\":\"reason\"}", 10, &d), "deep");
	cr_assert_str_eq(pick(cfg, "{\"task\":\"code\"}", 10, &d), "code");
	cr_assert_str_eq(cfg->models[d.model].id, "c/code");
	cfg_free(cfg);
}

Test(route, unknown_task_goes_to_default)
{
	struct cfg *cfg = load("tests/fixtures/route/seed.json");
	struct route_decision d;
	cr_assert_str_eq(pick(cfg, "{\"task\":\"translate\"}", 10, &d), "balanced");
	cr_assert_eq(d.rule, -1);
	cr_assert_str_eq(d.why, "routing.default");
	cr_assert_str_eq(pick(cfg, "{}", 10, &d), "balanced");
	cfg_free(cfg);
}

Test(route, metadata_rule_wins_over_later_task_rule)
{
	struct cfg *cfg = load("tests/fixtures/route/seed.json");
	struct route_decision d;
	cr_assert_str_eq(
	    pick(cfg, "{\"task\":\"classify\",\"metadata\":{\"tier\":\"premium\"}}", 10, &d),
	    "deep");
	cr_assert_eq(d.rule, 0);
	cr_assert(strstr(d.why, "tier=premium"), "why: %s", d.why);
	/* another tier does not match: the task rule decides */
	cr_assert_str_eq(
	    pick(cfg, "{\"task\":\"classify\",\"metadata\":{\"tier\":\"free\"}}", 10, &d), "fast");
	/* a top-level field of that name counts too (metadata rules read item fields) */
	cr_assert_str_eq(pick(cfg, "{\"task\":\"draft\",\"tier\":\"premium\"}", 10, &d), "deep");
	cfg_free(cfg);
}

Test(route, numeric_metadata_values_compare_as_text)
{
	struct cfg *cfg = load("tests/fixtures/route/complexity.json");
	struct route_decision d;
	cr_assert_str_eq(pick(cfg, "{\"task\":\"reason\",\"metadata\":{\"bucket\":2}}", 10, &d),
			 "code");
	cr_assert_str_eq(pick(cfg, "{\"task\":\"reason\",\"metadata\":{\"bucket\":3}}", 10, &d),
			 "balanced");
	cfg_free(cfg);
}

/* Config and dataset render numbers the same way, so large numbers and
 * booleans in metadata rules match the item's values. */
Test(route, large_numbers_and_booleans_in_metadata_match)
{
	struct cfg *cfg = load("tests/fixtures/route/seed.json");
	struct route_decision d;
	cr_assert_str_eq(
	    pick(cfg, "{\"task\":\"translate\",\"metadata\":{\"account\":1234567,\"beta\":true}}",
		 1, &d),
	    "deep");
	cr_assert_eq(d.rule, 5);
	cr_assert_str_eq(
	    pick(cfg, "{\"task\":\"translate\",\"metadata\":{\"account\":1234568,\"beta\":true}}",
		 1, &d),
	    "balanced");
	cr_assert_str_eq(
	    pick(cfg, "{\"task\":\"translate\",\"metadata\":{\"account\":1234567,\"beta\":false}}",
		 1, &d),
	    "balanced");
	cfg_free(cfg);
}

Test(route, complexity_band_boundaries)
{
	struct cfg *cfg = load("tests/fixtures/route/complexity.json");
	struct route_decision d;
	const char *item = "{\"task\":\"summarize\"}";
	cr_assert_str_eq(pick(cfg, item, 0, &d), "fast");
	cr_assert_str_eq(pick(cfg, item, 499, &d), "fast");
	cr_assert_eq(d.band, 0);
	cr_assert_str_eq(pick(cfg, item, 500, &d), "balanced");
	cr_assert_eq(d.band, 1);
	cr_assert_str_eq(pick(cfg, item, 1999, &d), "balanced");
	cr_assert_str_eq(pick(cfg, item, 2000, &d), "deep");
	cr_assert_eq(d.band, 2);
	cr_assert(strstr(d.why, "est 2000 >= 2000"), "why: %s", d.why);
	cr_assert_str_eq(pick(cfg, item, 1000000, &d), "deep");
	cfg_free(cfg);
}

Test(route, combined_task_then_complexity_and_catch_all_rule)
{
	struct cfg *cfg = load("tests/fixtures/route/complexity.json");
	struct route_decision d;
	/* code items never reach the complexity rules */
	cr_assert_str_eq(pick(cfg, "{\"task\":\"code\"}", 5000, &d), "code");
	/* other tasks fall through to the catch-all complexity rule (one threshold) */
	cr_assert_str_eq(pick(cfg, "{\"task\":\"reason\"}", 999, &d), "balanced");
	cr_assert_eq(d.rule, 3);
	cr_assert_str_eq(pick(cfg, "{\"task\":\"reason\"}", 1000, &d), "deep");
	cfg_free(cfg);
}

/* The estimate is chars/4 of what is sent: 1999 chars is 499 tokens. */
Test(route, estimate_from_rendered_prompt_decides_band)
{
	struct cfg *cfg = load("tests/fixtures/route/complexity.json");
	static const size_t lengths[] = {1999, 2000, 7999, 8000};
	static const char *const want[] = {"fast", "balanced", "balanced", "deep"};
	for (size_t i = 0; i < 4; i++) {
		cJSON *o = cJSON_CreateObject();
		char *text = malloc(lengths[i] + 1);
		memset(text, 'x', lengths[i]);
		text[lengths[i]] = '\0';
		cJSON_AddStringToObject(o, "task", "classify");
		cJSON_AddStringToObject(o, "prompt", text);
		free(text);
		struct ds_item it = {.obj = o, .id = "len", .task = "classify"};
		struct buf msgs;
		buf_init(&msgs);
		long est = -1;
		struct se_err err;
		se_clear(&err);
		cr_assert_eq(prompt_render(cfg, &it, &msgs, &est, &err), 0, "%s", err.msg);
		struct route_decision d;
		route_pick(cfg, &it, est, &d);
		cr_assert_str_eq(cfg->slots[d.slot].name, want[i], "%zu chars -> est %ld -> %s",
				 lengths[i], est, cfg->slots[d.slot].name);
		buf_free(&msgs);
		cJSON_Delete(o);
	}
	cfg_free(cfg);
}
