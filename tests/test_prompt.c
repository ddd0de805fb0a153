/* test_prompt.c: the prompt room (src/prompt/): messages built from an item
 * (prompt, messages, template, system text), template errors, the chars/4
 * token estimate and its band boundaries, and that the shipped demo set
 * covers every task type and complexity band. Run from the project root. */
#include <criterion/criterion.h>

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "dataset/dataset.h"
#include "prompt/prompt.h"

#define ITEMS "tests/fixtures/prompt/items.jsonl"

/* The n-th (0-based) item of the fixture file, read by the dataset room. */
static void load_item(size_t n, struct ds_item *it)
{
	struct cfg_dataset d = {.path = ITEMS};
	struct ds_reader *r = NULL;
	struct se_err err = {0};
	cr_assert_eq(ds_open(&r, &d, &err), 0, "%s", err.msg);
	for (size_t i = 0; i <= n; i++)
		cr_assert_eq(ds_next(r, it, &err), 1, "%s: %s", err.where, err.msg);
	ds_close(r);
}

/* An item holding `prompt` (JSON object text), as if read at line 9. */
static void make_item(const char *json, struct ds_item *it)
{
	memset(it, 0, sizeof(*it));
	it->obj = cJSON_Parse(json);
	cr_assert_not_null(it->obj, "bad test JSON %s", json);
	it->id = "made";
	it->task = "";
	it->line = 9;
}

static void cfg_init(struct cfg *cfg, const char *system, const char *template)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dataset.path = ITEMS;
	cfg->prompt.system = (char *)system;
	cfg->prompt.template = (char *)template;
}

static cJSON *render_ok(const struct cfg *cfg, const struct ds_item *it, long *est)
{
	struct buf b;
	struct se_err err = {0};
	buf_init(&b);
	cr_assert_eq(prompt_render(cfg, it, &b, est, &err), 0, "%s: %s", err.where, err.msg);
	cJSON *j = cJSON_Parse(b.data);
	cr_assert(cJSON_IsArray(j), "not a JSON array: %s", b.data);
	buf_free(&b);
	return j;
}

static void expect_message(const cJSON *arr, int i, const char *role, const char *content)
{
	const cJSON *m = cJSON_GetArrayItem(arr, i);
	cr_assert_not_null(m, "no message %d", i);
	cr_assert_str_eq(cJSON_GetObjectItem(m, "role")->valuestring, role);
	cr_assert_str_eq(cJSON_GetObjectItem(m, "content")->valuestring, content);
}

Test(prompt, prompt_becomes_one_user_message)
{
	struct cfg cfg;
	struct ds_item it = {0};
	long est = -1;
	cfg_init(&cfg, NULL, NULL);
	load_item(0, &it);
	struct buf b;
	struct se_err err = {0};
	buf_init(&b);
	cr_assert_eq(prompt_render(&cfg, &it, &b, &est, &err), 0);
	cr_assert_str_eq(b.data, "[{\"role\":\"user\",\"content\":\"Say \\\"hi\\\"\\n\"}]");
	cr_assert_eq(est, 9 / 4);
	buf_free(&b);
	ds_item_clear(&it);
}

Test(prompt, appends_to_what_the_buffer_holds)
{
	struct cfg cfg;
	struct ds_item it = {0};
	long est;
	cfg_init(&cfg, NULL, NULL);
	load_item(0, &it);
	struct buf b;
	struct se_err err = {0};
	buf_init(&b);
	buf_puts(&b, "{\"messages\":");
	cr_assert_eq(prompt_render(&cfg, &it, &b, &est, &err), 0);
	cr_assert(!strncmp(b.data, "{\"messages\":[{\"role\":\"user\"", 27), "%s", b.data);
	buf_free(&b);
	ds_item_clear(&it);
}

Test(prompt, system_text_is_prepended)
{
	struct cfg cfg;
	struct ds_item it = {0};
	long est;
	cfg_init(&cfg, "Answer briefly.", NULL);
	load_item(0, &it);
	cJSON *j = render_ok(&cfg, &it, &est);
	cr_assert_eq(cJSON_GetArraySize(j), 2);
	expect_message(j, 0, "system", "Answer briefly.");
	expect_message(j, 1, "user", "Say \"hi\"\n");
	cr_assert_eq(est, (15 + 9) / 4, "the system text counts");
	cJSON_Delete(j);
	ds_item_clear(&it);
}

Test(prompt, template_fills_fields_metadata_and_numbers)
{
	struct cfg cfg;
	struct ds_item it = {0};
	long est;
	cfg_init(&cfg, NULL,
		 "Q: {{question}} ({{ metadata.topic }}, n={{n}}, x={{  x }}, tier={{tier}}, "
		 "flag={{flag}}, id={{id}}) {{ unclosed");
	load_item(0, &it);
	cJSON *j = render_ok(&cfg, &it, &est);
	const char *want =
	    "Q: What is 6*7? (math, n=42, x=1.5, tier=premium, flag=true, id=p1) {{ unclosed";
	cr_assert_eq(cJSON_GetArraySize(j), 1);
	expect_message(j, 0, "user", want);
	cr_assert_eq(est, (long)strlen(want) / 4);
	cJSON_Delete(j);
	ds_item_clear(&it);
}

Test(prompt, template_with_unknown_field_names_item_and_field)
{
	struct cfg cfg;
	struct ds_item it = {0};
	long est = -1;
	cfg_init(&cfg, "sys", "{{question}} and {{ nope }}");
	load_item(0, &it);
	struct buf b;
	struct se_err err = {0};
	buf_init(&b);
	buf_puts(&b, "keep");
	cr_assert_eq(prompt_render(&cfg, &it, &b, &est, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert_str_eq(err.where, ITEMS ":1");
	cr_assert_str_eq(err.msg, "template: item \"p1\" has no field \"nope\"");
	cr_assert_str_eq(b.data, "keep", "a failed render leaves the buffer as it was");
	buf_free(&b);
	ds_item_clear(&it);
}

Test(prompt, messages_pass_through_and_keep_their_system)
{
	struct cfg cfg;
	struct ds_item it = {0};
	long est;
	cfg_init(&cfg, "ignored: the item has its own", NULL);
	load_item(1, &it);
	cJSON *j = render_ok(&cfg, &it, &est);
	cr_assert(cJSON_Compare(j, cJSON_GetObjectItem(it.obj, "messages"), 1),
		  "messages changed on the way");
	cr_assert_eq(est, (8 + 5) / 4);
	cJSON_Delete(j);
	ds_item_clear(&it);
}

Test(prompt, system_prepended_to_messages_without_one)
{
	struct cfg cfg;
	struct ds_item it = {0};
	long est;
	cfg_init(&cfg, "sys!", NULL);
	load_item(2, &it);
	cJSON *j = render_ok(&cfg, &it, &est);
	cr_assert_eq(cJSON_GetArraySize(j), 2);
	expect_message(j, 0, "system", "sys!");
	const cJSON *user = cJSON_GetArrayItem(j, 1);
	cr_assert(
	    cJSON_Compare(user, cJSON_GetArrayItem(cJSON_GetObjectItem(it.obj, "messages"), 0), 1));
	cr_assert_eq(est, (4 + 4) / 4, "text parts count, images do not");
	cJSON_Delete(j);
	ds_item_clear(&it);
}

static char *repeat(const char *unit, size_t n)
{
	size_t u = strlen(unit);
	char *s = malloc(u * n + 1);
	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

Test(prompt, estimate_is_code_points_over_four)
{
	char *a = repeat("a", 2000);
	cr_assert_eq(prompt_estimate_tokens(a, 1999), 499);
	cr_assert_eq(prompt_estimate_tokens(a, 2000), 500);
	cr_assert_eq(prompt_estimate_tokens(a, 3), 0);
	cr_assert_eq(prompt_estimate_tokens("", 0), 0);
	free(a);
	char *e = repeat("\xc3\xa9", 2000); /* é: 2 bytes, 1 code point */
	cr_assert_eq(prompt_estimate_tokens(e, strlen(e)), 500);
	cr_assert_eq(prompt_estimate_tokens(e, 2 * 1999), 499);
	free(e);
	char *emoji = repeat("\xf0\x9f\x98\x80", 8);
	cr_assert_eq(prompt_estimate_tokens(emoji, strlen(emoji)), 2);
	free(emoji);
}

static long render_est(const char *system, const char *prompt)
{
	struct cfg cfg;
	struct ds_item it;
	long est = -1;
	cfg_init(&cfg, system, NULL);
	make_item("{}", &it);
	cJSON_AddStringToObject(it.obj, "prompt", prompt);
	cJSON *j = render_ok(&cfg, &it, &est);
	cJSON_Delete(j);
	cJSON_Delete(it.obj);
	return est;
}

Test(prompt, rendered_estimate_boundaries)
{
	char *a1999 = repeat("a", 1999), *a2000 = repeat("a", 2000), *e = repeat("\xc3\xa9", 2000);
	cr_assert_eq(render_est(NULL, a1999), 499);
	cr_assert_eq(render_est(NULL, a2000), 500);
	cr_assert_eq(render_est(NULL, e), 500);
	cr_assert_eq(render_est("a", a1999), 500, "sum every message, then divide");
	free(a1999);
	free(a2000);
	free(e);
}

Test(prompt, item_without_prompt_and_template_is_an_error)
{
	struct cfg cfg;
	struct ds_item it;
	long est;
	struct buf b;
	struct se_err err = {0};
	cfg_init(&cfg, NULL, NULL);
	make_item("{\"question\": \"q\"}", &it);
	buf_init(&b);
	cr_assert_eq(prompt_render(&cfg, &it, &b, &est, &err), -1);
	cr_assert_str_eq(err.where, ITEMS ":9");
	cr_assert(strstr(err.msg, "\"made\""), "%s", err.msg);
	buf_free(&b);
	cJSON_Delete(it.obj);
}

/* The demo set must exercise every task of the routing seed and every band
 * of chars/4 with thresholds 500 and 2000. */
Test(prompt, demo_set_covers_every_task_and_band)
{
	static const char *tasks[] = {"summarize", "classify", "draft", "reason", "code"};
	enum { NT = 5 };
	size_t count[NT][3] = {{0}};
	struct cfg cfg;
	cfg_init(&cfg, NULL, NULL);
	cfg.dataset.path = "datasets/mixed.jsonl";
	struct ds_reader *r = NULL;
	struct se_err err = {0};
	cr_assert_eq(ds_open(&r, &cfg.dataset, &err), 0, "%s", err.msg);
	struct ds_item it = {0};
	struct buf b;
	buf_init(&b);
	int rc;
	while ((rc = ds_next(r, &it, &err)) == 1) {
		long est;
		buf_reset(&b);
		cr_assert_eq(prompt_render(&cfg, &it, &b, &est, &err), 0, "%s", err.msg);
		int band = est < 500 ? 0 : est < 2000 ? 1 : 2;
		int t;
		for (t = 0; t < NT && strcmp(it.task, tasks[t]); t++)
			;
		cr_assert_lt(t, NT, "item %s has task \"%s\"", it.id, it.task);
		count[t][band]++;
	}
	cr_assert_eq(rc, 0, "%s: %s", err.where, err.msg);
	size_t band_total[3] = {0};
	for (int t = 0; t < NT; t++) {
		size_t n = 0;
		for (int k = 0; k < 3; k++) {
			n += count[t][k];
			band_total[k] += count[t][k];
		}
		cr_assert_gt(n, 0, "no item of task %s", tasks[t]);
	}
	for (int k = 0; k < 3; k++)
		cr_assert_geq(band_total[k], 3, "band %d has %zu items", k, band_total[k]);
	/* reason is routed by complexity in the seed: it needs every band. */
	for (int k = 0; k < 3; k++)
		cr_assert_gt(count[3][k], 0, "no reason item in band %d", k);
	buf_free(&b);
	ds_item_clear(&it);
	ds_close(r);
}

Test(prompt, last_user_message_is_the_checks_input)
{
	struct buf b;
	buf_init(&b);
	const char *m = "[{\"role\":\"system\",\"content\":\"sys\"},{\"role\":\"user\",\"content\":"
			"\"first\"},{\"role\":\"assistant\",\"content\":\"a\"},{\"role\":\"user\","
			"\"content\":\"second \\u00e9\"}]";
	cr_assert_eq(prompt_last_user(m, strlen(m), &b), 0);
	cr_expect_str_eq(b.data, "second \xC3\xA9");
	const char *parts = "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"one\"},"
			    "{\"type\":\"image_url\"},{\"type\":\"text\",\"text\":\"two\"}]}]";
	cr_assert_eq(prompt_last_user(parts, strlen(parts), &b), 0);
	cr_expect_str_eq(b.data, "one\ntwo");
	const char *none = "[{\"role\":\"system\",\"content\":\"sys\"}]";
	cr_expect_eq(prompt_last_user(none, strlen(none), &b), -1);
	cr_expect_eq(b.len, 0);
	cr_expect_eq(prompt_last_user("not json", 8, &b), -1);
	buf_free(&b);
}
