/* test_sim_judge.c: shadowsim's judge models, end to end (JUDGE.md 5).
 *
 * A real shadowsim (tests/support/simproc) with tests/fixtures/sim/
 * profiles_judge.json and eval.json: the graded answers are the ones
 * shadowsim itself gave to the eval's items (sim/right always correct,
 * sim/wrong always wrong), pasted between the built-in rubrics' delimiters
 * with the item's input quoted, as the harness's judge checks do. The judges
 * with accuracy 0 or 1 and bias 0 or 1 make every verdict known in advance;
 * judge/coin checks that draws are deterministic and usage is reported.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/simproc.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "dataset/dataset.h"
#include "prompt/prompt.h"
#include "wire/wire.h"

#define FIX "tests/fixtures/sim/"
#define N_ITEMS 8

static struct simproc sp;

static void start(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cr_assert_eq(simproc_start(&sp, FIX "profiles_judge.json", FIX "eval.json", NULL), 0, "%s",
		     sp.error);
}

static void stop(void)
{
	cr_assert_eq(simproc_stop(&sp), 0);
	curl_global_cleanup();
}

TestSuite(sim_judge, .init = start, .fini = stop, .timeout = 60);

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

/* POSTs body to /chat/completions and parses the 200 reply into r. */
static void post(const char *body, struct wire_reply *r)
{
	char url[256];
	snprintf(url, sizeof(url), "%s/chat/completions", sp.base_url);
	struct buf out;
	buf_init(&out);
	CURL *h = curl_easy_init();
	cr_assert(h);
	struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
	cr_assert_eq(curl_easy_perform(h), CURLE_OK);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	cr_assert_eq(status, 200, "%s", out.data);
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	struct se_err err;
	wire_reply_init(r);
	cr_assert_eq(wire_parse_completion(out.data, out.len, r, &err), 0, "%s", out.data);
	buf_free(&out);
}

/* An eval item as the judge sees it: its input and both models' answers. */
struct graded {
	char *input;
	char *right; /* sim/right's answer: correct */
	char *wrong; /* sim/wrong's answer: wrong */
};

static char *answer_of(const char *model, const char *msgs, size_t len)
{
	struct buf body;
	buf_init(&body);
	wire_build_request(&body, model, msgs, len, NULL);
	struct wire_reply r;
	post(body.data, &r);
	buf_free(&body);
	char *text = strdup(r.content.data);
	wire_reply_free(&r);
	return text;
}

static char *last_user(const char *msgs, size_t len)
{
	cJSON *arr = cJSON_ParseWithLength(msgs, len);
	cr_assert(arr);
	const cJSON *m = cJSON_GetArrayItem(arr, cJSON_GetArraySize(arr) - 1);
	char *s = strdup(cJSON_GetObjectItem(m, "content")->valuestring);
	cJSON_Delete(arr);
	return s;
}

static size_t load_items(struct graded *g)
{
	struct cfg *cfg;
	struct se_err err;
	cr_assert_eq(cfg_load(FIX "eval.json", &cfg, &err), 0, "%s", err.msg);
	struct ds_reader *rd;
	cr_assert_eq(ds_open(&rd, &cfg->dataset, &err), 0, "%s", err.msg);
	struct ds_item it;
	memset(&it, 0, sizeof(it));
	size_t n = 0;
	while (n < N_ITEMS && ds_next(rd, &it, &err) == 1) {
		struct buf msgs;
		buf_init(&msgs);
		long est;
		cr_assert_eq(prompt_render(cfg, &it, &msgs, &est, &err), 0, "%s", err.msg);
		g[n].input = last_user(msgs.data, msgs.len);
		g[n].right = answer_of("sim/right", msgs.data, msgs.len);
		g[n].wrong = answer_of("sim/wrong", msgs.data, msgs.len);
		cr_assert_str_neq(g[n].right, g[n].wrong);
		buf_free(&msgs);
		n++;
	}
	ds_item_clear(&it);
	ds_close(rd);
	cfg_free(cfg);
	cr_assert_eq(n, N_ITEMS);
	return n;
}

static void free_items(struct graded *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].input);
		free(g[i].right);
		free(g[i].wrong);
	}
}

/* A judge request as the built-in rubrics shape it: one user message. */
static char *rubric_body(const char *judge, const char *input, const char *a, const char *b)
{
	struct buf text, body;
	buf_init(&text);
	buf_init(&body);
	buf_printf(&text, "Grade the answer to this request.\n[INPUT]\n%s\n[/INPUT]\n", input);
	if (b)
		buf_printf(&text,
			   "[ANSWER A]\n%s\n[/ANSWER A]\n[ANSWER B]\n%s\n[/ANSWER B]\n"
			   "Reply with a line `Verdict: A`, `Verdict: B` or `Verdict: tie`.",
			   a, b);
	else
		buf_printf(&text,
			   "[ANSWER]\n%s\n[/ANSWER]\nReply with a line `Score: N` (N from 1 "
			   "to 5).",
			   a);
	buf_puts(&body, "{\"model\":");
	jsonw_str(&body, judge);
	buf_puts(&body, ",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":");
	jsonw_str(&body, text.data);
	buf_puts(&body, "}]}");
	buf_free(&text);
	return buf_detach(&body, NULL);
}

/* The judge's reply text for one rubric request (malloc'd). */
static char *ask(const char *judge, const char *input, const char *a, const char *b)
{
	char *body = rubric_body(judge, input, a, b);
	struct wire_reply r;
	post(body, &r);
	free(body);
	char *text = strdup(r.content.data);
	wire_reply_free(&r);
	return text;
}

static void expect(const char *judge, const char *input, const char *a, const char *b,
		   const char *want, size_t item)
{
	char *got = ask(judge, input, a, b);
	cr_assert_str_eq(got, want, "%s, item %zu", judge, item);
	free(got);
}

Test(sim_judge, an_accurate_judge_scores_correct_answers_5_and_wrong_ones_1)
{
	struct graded g[N_ITEMS];
	size_t n = load_items(g);
	/* The classify items share labels: one item's wrong answer is the
	 * text of another's correct one, so the quoted input must decide. */
	for (size_t i = 0; i < n; i++) {
		expect("judge/true", g[i].input, g[i].right, NULL, "Score: 5", i);
		expect("judge/true", g[i].input, g[i].wrong, NULL, "Score: 1", i);
		expect("judge/liar", g[i].input, g[i].right, NULL, "Score: 1", i);
		expect("judge/liar", g[i].input, g[i].wrong, NULL, "Score: 5", i);
	}
	expect("judge/true", g[0].input, "an answer shadowsim never gave", NULL, "Score: 1", 0);
	free_items(g, n);
}

Test(sim_judge, pairwise_verdicts_follow_the_truth_in_both_orders)
{
	struct graded g[N_ITEMS];
	size_t n = load_items(g);
	for (size_t i = 0; i < n; i++) {
		expect("judge/true", g[i].input, g[i].right, g[i].wrong, "Verdict: A", i);
		expect("judge/true", g[i].input, g[i].wrong, g[i].right, "Verdict: B", i);
		expect("judge/true", g[i].input, g[i].right, g[i].right, "Verdict: tie", i);
		expect("judge/true", g[i].input, g[i].wrong, g[i].wrong, "Verdict: tie", i);
		expect("judge/liar", g[i].input, g[i].right, g[i].wrong, "Verdict: B", i);
		expect("judge/liar", g[i].input, g[i].wrong, g[i].right, "Verdict: A", i);
	}
	free_items(g, n);
}

Test(sim_judge, a_full_position_bias_always_answers_a)
{
	struct graded g[N_ITEMS];
	size_t n = load_items(g);
	for (size_t i = 0; i < n; i++) {
		expect("judge/first", g[i].input, g[i].right, g[i].wrong, "Verdict: A", i);
		expect("judge/first", g[i].input, g[i].wrong, g[i].right, "Verdict: A", i);
		/* The bias is pairwise only: a score still tells the truth. */
		expect("judge/first", g[i].input, g[i].wrong, NULL, "Score: 1", i);
	}
	free_items(g, n);
}

Test(sim_judge, draws_are_deterministic_and_usage_is_priced)
{
	struct graded g[N_ITEMS];
	size_t n = load_items(g);
	int seen[3] = {0};
	for (size_t i = 0; i < n; i++) {
		char *first = ask("judge/coin", g[i].input, g[i].right, g[i].wrong);
		char *again = ask("judge/coin", g[i].input, g[i].right, g[i].wrong);
		cr_assert_str_eq(first, again, "item %zu", i);
		seen[strcmp(first, "Verdict: A") == 0	? 0
		     : strcmp(first, "Verdict: B") == 0 ? 1
							: 2]++;
		cr_assert(strstr("Verdict: A|Verdict: B|Verdict: tie", first), "%s", first);
		free(first);
		free(again);
	}
	/* judge/coin (accuracy 0.5) is no constant answer. */
	cr_assert(seen[0] < (int)n, "always A");

	char *body = rubric_body("judge/true", g[0].input, g[0].right, g[0].wrong);
	struct wire_reply r;
	post(body, &r);
	cr_assert(r.usage.present && r.usage.has_cost);
	double want =
	    (double)r.usage.prompt_tokens * 0.000002 + (double)r.usage.completion_tokens * 0.00001;
	cr_assert(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
	cr_assert_float_eq(r.usage.cost, want, 1e-12);
	cr_assert_str_eq(r.model, "judge/true");
	wire_reply_free(&r);
	free(body);
	free_items(g, n);
}

Test(sim_judge, a_judge_model_without_a_rubric_answers_like_any_model)
{
	struct graded g[N_ITEMS];
	size_t n = load_items(g);
	char *body = rubric_body("judge/true", g[0].input, g[0].right, NULL);
	/* No delimiters: the request is an ordinary chat message. */
	char *plain = strstr(body, "[ANSWER]");
	cr_assert(plain);
	memcpy(plain, "[ANSWERS", 8);
	struct wire_reply r;
	post(body, &r);
	cr_assert_null(strstr(r.content.data, "Score:"), "%s", r.content.data);
	wire_reply_free(&r);
	free(body);
	free_items(g, n);
}
