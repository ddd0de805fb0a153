/* test_pricing.c: the pricing room's suite: loading a saved /models list and
 * estimating a request's cost (src/pricing/).
 *
 * Prices are those of tests/fixtures/wire/models.json (its README's table);
 * the edge cases the snapshot lacks are in tests/fixtures/pricing/. Not
 * tested here: choosing between a reported cost and an estimate (results/).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "pricing/pricing.h"
#include "wire/wire.h"

#define MODELS "tests/fixtures/wire/models.json"
#define EXTRA "tests/fixtures/pricing/extra_models.json"

static struct pricing *load(const char *path)
{
	struct pricing *p = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(pricing_load(path, &p, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert_not_null(p);
	return p;
}

struct price_case {
	const char *id;
	double prompt, completion, cache_read;
};

/* tests/fixtures/wire/README.md, "Model prices used in models.json" */
static const struct price_case fixture_prices[] = {
    {"google/gemini-flash-1.5", 0.000000075, 0.0000003, 0.00000001875},
    {"openai/gpt-4o-mini", 0.00000015, 0.0000006, 0.000000075},
    {"anthropic/claude-opus-4", 0.000015, 0.000075, 0.0000015},
    {"anthropic/claude-sonnet-4", 0.000003, 0.000015, 0.0000003},
    {"meta-llama/llama-3.1-8b-instruct", 0.00000002, 0.00000005, -1},
    {"openai/gpt-4.1-mini", 0.0000004, 0.0000016, 0.0000001},
};

Test(pricing, loads_the_price_of_each_fixture_model)
{
	struct pricing *p = load(MODELS);
	for (size_t i = 0; i < sizeof(fixture_prices) / sizeof(fixture_prices[0]); i++) {
		const struct price_case *c = &fixture_prices[i];
		const struct price *pr = pricing_find(p, c->id);
		cr_assert_not_null(pr, "%s not found", c->id);
		cr_assert_float_eq(pr->prompt, c->prompt, 1e-18, "%s prompt %g", c->id, pr->prompt);
		cr_assert_float_eq(pr->completion, c->completion, 1e-18, "%s completion %g", c->id,
				   pr->completion);
		cr_assert_float_eq(pr->cache_read, c->cache_read, 1e-18, "%s cache_read %g", c->id,
				   pr->cache_read);
		cr_assert_float_eq(pr->request, 0, 1e-18, "%s request %g", c->id, pr->request);
	}
	pricing_free(p);
}

Test(pricing, absent_model_has_no_price)
{
	struct pricing *p = load(MODELS);
	cr_assert_null(pricing_find(p, "openai/gpt-5"));
	cr_assert_null(pricing_find(p, "openai/gpt-4o")); /* a prefix of gpt-4o-mini */
	cr_assert_null(pricing_find(p, "OPENAI/GPT-4O-MINI"));
	cr_assert_null(pricing_find(p, ""));
	cr_assert_null(pricing_find(p, NULL));
	cr_assert_null(pricing_find(NULL, "openai/gpt-4o-mini"));
	pricing_free(p);
}

Test(pricing, auto_router_sentinel_and_missing_pricing_have_no_price)
{
	struct pricing *p = load(EXTRA);
	cr_assert_null(pricing_find(p, "openrouter/auto"));
	cr_assert_null(pricing_find(p, "acme/no-pricing"));
	const struct price *num = pricing_find(p, "sim/numeric-prices");
	cr_assert_not_null(num);
	cr_assert_float_eq(num->prompt, 2e-06, 1e-18);
	cr_assert_float_eq(num->completion, 8e-06, 1e-18);
	cr_assert_float_eq(num->cache_read, 5e-07, 1e-18);
	pricing_free(p);
}

Test(pricing, first_of_duplicate_ids_wins)
{
	struct pricing *p = load(EXTRA);
	const struct price *pr = pricing_find(p, "acme/per-request");
	cr_assert_not_null(pr);
	cr_assert_float_eq(pr->prompt, 0.000001, 1e-18);
	cr_assert_float_eq(pr->request, 0.005, 1e-18);
	pricing_free(p);
}

Test(pricing, cost_with_cached_tokens_matches_the_reported_cost)
{
	/* chat_completion.json was billed 0.0035352 for 1500 prompt tokens
	 * (1024 cached) and 120 completion tokens of claude-sonnet-4. */
	struct pricing *p = load(MODELS);
	char *body;
	size_t len;
	struct se_err err;
	cr_assert_eq(fio_read_all("tests/fixtures/wire/chat_completion.json", &body, &len, &err),
		     0);
	struct wire_reply r;
	wire_reply_init(&r);
	cr_assert_eq(wire_parse_completion(body, len, &r, &err), 0, "%s: %s", err.where, err.msg);
	const struct price *pr = pricing_find(p, r.model);
	cr_assert_not_null(pr);
	double c = pricing_cost(pr, r.usage.prompt_tokens, r.usage.completion_tokens,
				r.usage.cached_tokens);
	cr_assert_float_eq(c, r.usage.cost, 1e-12, "estimated %.10g, reported %.10g", c,
			   r.usage.cost);
	/* without the cache discount it would be more */
	cr_assert_gt(pricing_cost(pr, 1500, 120, 0), c + 1e-4);
	wire_reply_free(&r);
	free(body);
	pricing_free(p);
}

Test(pricing, cost_arithmetic)
{
	struct pricing *p = load(MODELS);
	const struct price *mini = pricing_find(p, "openai/gpt-4o-mini");
	/* stream_ok.sse: 14 prompt + 9 completion tokens, reported 7.5e-06 */
	cr_assert_float_eq(pricing_cost(mini, 14, 9, 0), 7.5e-06, 1e-15);
	cr_assert_float_eq(pricing_cost(mini, 0, 0, 0), 0, 1e-18);
	cr_assert_float_eq(pricing_cost(mini, 1000, 0, 400), 600 * 0.00000015 + 400 * 0.000000075,
			   1e-15);
	/* llama has no cache price: cached tokens cost the prompt price */
	const struct price *llama = pricing_find(p, "meta-llama/llama-3.1-8b-instruct");
	cr_assert_float_eq(pricing_cost(llama, 1000, 50, 200), 1000 * 0.00000002 + 50 * 0.00000005,
			   1e-15);
	/* more cached than prompt tokens is capped at the prompt tokens */
	const struct price *opus = pricing_find(p, "anthropic/claude-opus-4");
	cr_assert_float_eq(pricing_cost(opus, 100, 0, 500), 100 * 0.0000015, 1e-15);
	cr_assert_float_eq(pricing_cost(NULL, 100, 10, 0), -1, 1e-18);
	pricing_free(p);
}

Test(pricing, cost_includes_the_per_request_price)
{
	struct pricing *p = load(EXTRA);
	const struct price *pr = pricing_find(p, "acme/per-request");
	cr_assert_float_eq(pricing_cost(pr, 100, 10, 0), 100 * 0.000001 + 10 * 0.000002 + 0.005,
			   1e-15);
	cr_assert_float_eq(pricing_cost(pr, 0, 0, 0), 0.005, 1e-15);
	pricing_free(p);
}

static char *read_line(FILE *fp, char *buf, size_t size)
{
	if (!fgets(buf, (int)size, fp))
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

Test(pricing, malformed_files_fail_naming_file_and_path)
{
	const char *names[] = {"bad_price_string", "bad_price_type",	 "data_not_array",
			       "id_missing",	   "pricing_not_object", "root_array",
			       "invalid_json"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char json[256], expect[256], where_end[256], msg[256], want[600];
		snprintf(json, sizeof(json), "tests/fixtures/pricing/%s.json", names[i]);
		snprintf(expect, sizeof(expect), "tests/fixtures/pricing/%s.expect", names[i]);
		FILE *fp = fopen(expect, "r");
		cr_assert_not_null(fp, "cannot open %s", expect);
		cr_assert_not_null(read_line(fp, where_end, sizeof(where_end)), "%s", expect);
		cr_assert_not_null(read_line(fp, msg, sizeof(msg)), "%s", expect);
		fclose(fp);
		snprintf(want, sizeof(want), "%s%s%s", json, where_end[0] == ':' ? "" : ": ",
			 where_end);

		struct pricing *p = (struct pricing *)1;
		struct se_err err;
		se_clear(&err);
		cr_assert_eq(pricing_load(json, &p, &err), -1, "%s accepted", json);
		cr_assert_null(p);
		cr_assert_eq(err.kind, SE_INPUT, "%s", json);
		cr_assert_str_eq(err.where, want, "%s: where \"%s\"", json, err.where);
		cr_assert(strstr(err.msg, msg), "%s: message \"%s\", expected \"%s\"", json,
			  err.msg, msg);
	}
}

Test(pricing, missing_file_is_an_io_error_naming_the_file)
{
	struct pricing *p = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(pricing_load("tests/fixtures/pricing/no-such-file.json", &p, &err), -1);
	cr_assert_null(p);
	cr_assert_eq(err.kind, SE_IO);
	cr_assert_str_eq(err.where, "tests/fixtures/pricing/no-such-file.json");
}

Test(pricing, free_null_is_safe)
{
	pricing_free(NULL);
	struct pricing *p = load(MODELS);
	pricing_free(p);
	cr_assert(true);
}
