/* test_cost.c: where a row's cost comes from, end to end, for the gateways
 * that report it their own way: LiteLLM's proxy sends the cost of each call
 * in an x-litellm-response-cost response header (cost_source
 * "litellm_header"), read from shadowsim ("cost_report": "litellm_header",
 * streaming and not) and from a recorded LiteLLM reply served as is
 * (tests/fixtures/cost/); usage.cost (OpenRouter) wins over the header, the
 * header over the pricing file. Runs are a few requests to 127.0.0.1 with
 * no latency. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/rawsrv.h"
#include "../support/simproc.h"
#include "core/buf.h"

/* dir/eval.json: one endpoint, slot "fast" on model, 3 items; stream on or
 * off; a pricing file when pricing is not NULL. */
static void write_eval(const char *dir, const char *base_url, const char *model, bool stream,
		       const char *pricing)
{
	char path[600], text[2048];
	snprintf(path, sizeof(path), "%s/items.jsonl", dir);
	test_write_file(path, "{\"id\": \"i1\", \"prompt\": \"1+4?\", \"expected\": \"5\"}\n"
			      "{\"id\": \"i2\", \"prompt\": \"2+3?\", \"expected\": \"5\"}\n"
			      "{\"id\": \"i3\", \"prompt\": \"0+5?\", \"expected\": \"5\"}\n");
	char pr[300] = "";
	if (pricing)
		snprintf(pr, sizeof(pr), ",\n \"pricing\": \"%s\"", pricing);
	snprintf(text, sizeof(text),
		 "{\"name\": \"cost\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
		 " \"endpoints\": {\"gw\": {\"base_url\": \"%s\"}},\n"
		 " \"slots\": {\"fast\": \"%s\"}, \"routing\": {\"default\": \"fast\"},\n"
		 " \"params\": {\"max_tokens\": 8, \"stream\": %s},\n"
		 " \"retry\": {\"max_attempts\": 1}, \"timeout_s\": 10%s}\n",
		 base_url, model, stream ? "true" : "false", pr);
	snprintf(path, sizeof(path), "%s/eval.json", dir);
	test_write_file(path, text);
}

/* Runs the eval into dir/out (a fresh folder each time). */
static void run_eval(const char *dir)
{
	struct buf out = {0};
	int rc =
	    test_sh(&out, "cd '%s' && rm -rf out && '%s/shadoweval' run eval.json -o out --quiet",
		    dir, test_bin_abs());
	cr_assert_eq(rc, 0, "%s", out.data);
	buf_free(&out);
}

/* Each results row's cost_source must be want; returns the summed cost and
 * checks each row's cost against the tokens at the given prices (when
 * price_p >= 0). */
static double expect_rows(const char *dir, const char *want, double price_p, double price_c)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/out/results.jsonl", dir);
	char *s = test_read_file(path, NULL);
	cr_assert(s, "no %s", path);
	int n = 0;
	double sum = 0;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(line);
		cr_assert(o, "%s", line);
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "cost_source");
		const cJSON *cost = cJSON_GetObjectItemCaseSensitive(o, "cost_usd");
		cr_expect(cJSON_IsString(src) && !strcmp(src->valuestring, want), "%s", line);
		cr_expect(cJSON_IsNumber(cost), "%s", line);
		if (price_p >= 0 && cJSON_IsNumber(cost)) {
			double p =
			    cJSON_GetObjectItemCaseSensitive(o, "prompt_tokens")->valuedouble;
			double c =
			    cJSON_GetObjectItemCaseSensitive(o, "completion_tokens")->valuedouble;
			double expect = p * price_p + c * price_c;
			cr_expect(fabs(cost->valuedouble - expect) <= 1e-12 + 1e-9 * expect,
				  "cost %.17g, tokens at the model's prices %.17g: %s",
				  cost->valuedouble, expect, line);
		}
		sum += cJSON_IsNumber(cost) ? cost->valuedouble : 0;
		n++;
		cJSON_Delete(o);
	}
	cr_expect_eq(n, 3);
	free(s);
	return sum;
}

/* shadowsim's profiles: gw/litellm reports cost in the header, gw/router
 * in usage.cost; both at 1e-6 / 2e-6 USD per token. */
static const char profiles[] =
    "{\"seed\": 5, \"models\": {"
    "\"gw/litellm\": {\"cost_report\": \"litellm_header\", \"pricing\": {\"prompt\": 0.000001, "
    "\"completion\": 0.000002}, \"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}},"
    "\"gw/router\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": 0.000002}, "
    "\"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}}}}\n";

/* A pricing file that prices both models 100 times higher than they bill. */
static const char pricing[] =
    "{\"data\": [{\"id\": \"gw/litellm\", \"pricing\": {\"prompt\": \"0.0001\", \"completion\": "
    "\"0.0002\"}}, {\"id\": \"gw/router\", \"pricing\": {\"prompt\": \"0.0001\", "
    "\"completion\": \"0.0002\"}}]}\n";

Test(cost, litellm_header_is_read_as_its_own_cost_source_streaming_or_not, .timeout = 120)
{
	char *dir = test_mkdtemp("cost");
	char prof[600], pr[600];
	snprintf(prof, sizeof(prof), "%s/profiles.json", dir);
	snprintf(pr, sizeof(pr), "%s/pricing.json", dir);
	test_write_file(prof, profiles);
	test_write_file(pr, pricing);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, prof, NULL, NULL), 0, "%s", sp.error);
	for (int stream = 0; stream < 2; stream++) {
		/* the header, not the 100x pricing file */
		write_eval(dir, sp.base_url, "gw/litellm", stream, "pricing.json");
		run_eval(dir);
		double sum = expect_rows(dir, "litellm_header", 0.000001, 0.000002);
		cr_expect_gt(sum, 0);
		/* usage.cost wins where the gateway sends it */
		write_eval(dir, sp.base_url, "gw/router", stream, "pricing.json");
		run_eval(dir);
		expect_rows(dir, "reported", 0.000001, 0.000002);
	}
	/* the summary counts a header cost as reported by the gateway */
	write_eval(dir, sp.base_url, "gw/litellm", false, NULL);
	run_eval(dir);
	struct buf out = {0};
	cr_expect_eq(test_sh(&out,
			     "head -1 '%s/out/models.csv' | tr ',' '\\n' | grep -n "
			     "'^cost_reported$' | cut -d: -f1",
			     dir),
		     0);
	int col = atoi(out.data);
	cr_assert_gt(col, 0, "models.csv has no cost_reported column");
	buf_reset(&out);
	test_sh(&out, "sed -n 2p '%s/out/models.csv' | cut -d, -f%d", dir, col);
	cr_expect_eq(atoi(out.data), 3, "cost_reported: %s", out.data);
	buf_free(&out);
	simproc_stop(&sp);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* The recorded LiteLLM reply, with its header, served as is. */
static void litellm_fixture(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)req;
	(void)len;
	(void)conn;
	const char *body = ctx;
	rawsrv_reply(fd, 200,
		     "Content-Type: application/json\r\n"
		     "x-litellm-response-cost: 2.3e-05\r\n"
		     "x-litellm-model-id: 4b7f\r\n",
		     body, strlen(body));
}

Test(cost, a_recorded_litellm_reply_gets_the_header_cost, .timeout = 60)
{
	char *body = test_read_file("tests/fixtures/cost/litellm_reply.json", NULL);
	cr_assert(body);
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, litellm_fixture, body, 30), 0);
	char *dir = test_mkdtemp("cost");
	write_eval(dir, srv.base_url, "gpt-4o-mini", false, NULL);
	run_eval(dir);
	double sum = expect_rows(dir, "litellm_header", -1, -1);
	cr_expect(fabs(sum - 3 * 2.3e-05) < 1e-15, "sum %.17g", sum);
	rawsrv_stop(&srv);
	free(body);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* ---- OpenRouter's generation lookup (engine/gencost.h) ---- */

/* dir/eval.json for the lookup tests: one endpoint with `gen` as its
 * generation_cost ("" leaves it out), 3 items (n_items 1: the first only),
 * no retries of the chat request, lookups retried after 5 ms. */
static void write_gen_eval(const char *dir, const char *base_url, const char *model, bool stream,
			   const char *gen, int n_items)
{
	char path[600], text[2048], opt[64] = "";
	snprintf(path, sizeof(path), "%s/items.jsonl", dir);
	test_write_file(
	    path, n_items == 1 ? "{\"id\": \"i1\", \"prompt\": \"1+4?\", \"expected\": \"5\"}\n"
			       : "{\"id\": \"i1\", \"prompt\": \"1+4?\", \"expected\": \"5\"}\n"
				 "{\"id\": \"i2\", \"prompt\": \"2+3?\", \"expected\": \"5\"}\n"
				 "{\"id\": \"i3\", \"prompt\": \"0+5?\", \"expected\": \"5\"}\n");
	if (gen[0])
		snprintf(opt, sizeof(opt), ", \"generation_cost\": %s", gen);
	snprintf(text, sizeof(text),
		 "{\"name\": \"gen\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
		 " \"endpoints\": {\"gw\": {\"base_url\": \"%s\"%s}},\n"
		 " \"slots\": {\"fast\": \"%s\"}, \"routing\": {\"default\": \"fast\"},\n"
		 " \"params\": {\"max_tokens\": 8, \"stream\": %s},\n"
		 " \"retry\": {\"max_attempts\": 1, \"base_ms\": 5, \"max_ms\": 20}, "
		 "\"timeout_s\": 10}\n",
		 base_url, opt, model, stream ? "true" : "false");
	snprintf(path, sizeof(path), "%s/eval.json", dir);
	test_write_file(path, text);
}

/* Runs the eval into dir/out with extra flags. Every reply here is cut, so
 * the run ends with exit 1 (all results are errors: --max-error-rate, or
 * --max-cost stopped it); it must end normally, its manifest saying
 * `status`. */
static void run_cut(const char *dir, const char *extra, const char *status)
{
	struct buf out = {0};
	int rc = test_sh(&out,
			 "cd '%s' && rm -rf out && '%s/shadoweval' run eval.json -o out --quiet %s",
			 dir, test_bin_abs(), extra);
	cr_expect_eq(rc, 1, "%s", out.data);
	buf_free(&out);
	char mpath[600];
	snprintf(mpath, sizeof(mpath), "%s/out/manifest.json", dir);
	char *ms = test_read_file(mpath, NULL);
	cr_assert(ms, "no %s", mpath);
	cJSON *m = cJSON_Parse(ms);
	cr_assert(m, "%s", mpath);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(m, "status");
	cr_expect(cJSON_IsString(st) && !strcmp(st->valuestring, status), "%s", ms);
	cJSON_Delete(m);
	free(ms);
}

/* Every row of dir/out/results.jsonl: its status is `status`, its
 * cost_source `source`, its cost_usd `cost` (< 0: null); returns the rows. */
static int expect_gen_rows(const char *dir, const char *status, const char *source, double cost,
			   const char *error_part)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/out/results.jsonl", dir);
	char *s = test_read_file(path, NULL);
	cr_assert(s, "no %s", path);
	int n = 0;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(line);
		cr_assert(o, "%s", line);
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "cost_source");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cost_usd");
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
		cr_expect(cJSON_IsString(st) && !strcmp(st->valuestring, status), "%s", line);
		cr_expect(cJSON_IsString(src) && !strcmp(src->valuestring, source), "%s", line);
		if (cost < 0)
			cr_expect(cJSON_IsNull(c), "%s", line);
		else
			cr_expect(cJSON_IsNumber(c) && fabs(c->valuedouble - cost) < 1e-12, "%s",
				  line);
		if (error_part)
			cr_expect(cJSON_IsString(err) && strstr(err->valuestring, error_part),
				  "wanted \"%s\" in the error: %s", error_part, line);
		n++;
		cJSON_Delete(o);
	}
	free(s);
	return n;
}

/* gw/cut: every reply cut half-way (streamed or not), billed 0.25 USD a
 * request by shadowsim, which its generation endpoint tells. */
static const char cut_profiles[] =
    "{\"seed\": 5, \"models\": {\"gw/cut\": {\"pricing\": {\"prompt\": 0, \"completion\": 0, "
    "\"request\": 0.25}, \"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, "
    "\"faults\": {\"truncate\": 1}}}}\n";

Test(cost, a_cut_reply_gets_its_cost_from_the_generation_endpoint, .timeout = 120)
{
	char *dir = test_mkdtemp("gen");
	char prof[600];
	snprintf(prof, sizeof(prof), "%s/profiles.json", dir);
	test_write_file(prof, cut_profiles);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, prof, NULL, NULL), 0, "%s", sp.error);
	for (int stream = 1; stream >= 0; stream--) {
		write_gen_eval(dir, sp.base_url, "gw/cut", stream, "true", 3);
		run_cut(dir, "", "complete");
		cr_expect_eq(expect_gen_rows(dir, stream ? "stream_error" : "network", "generation",
					     0.25, NULL),
			     3, "stream %d", stream);
	}
	/* not OpenRouter (a 127.0.0.1 base_url, no generation_cost): no lookup,
	 * the cost of a cut stream stays unknown */
	write_gen_eval(dir, sp.base_url, "gw/cut", true, "", 3);
	run_cut(dir, "", "complete");
	cr_expect_eq(expect_gen_rows(dir, "stream_error", "unknown", -1, NULL), 3);
	/* --max-cost counts the looked-up cost: with one item at a time, the
	 * third is not admitted once 0.5 USD of 0.3 is spent */
	write_gen_eval(dir, sp.base_url, "gw/cut", true, "true", 3);
	run_cut(dir, "--concurrency 1 --max-cost 0.3", "stopped_by_budget");
	cr_expect_eq(expect_gen_rows(dir, "stream_error", "generation", 0.25, NULL), 2);
	char mpath[600];
	snprintf(mpath, sizeof(mpath), "%s/out/manifest.json", dir);
	char *ms = test_read_file(mpath, NULL);
	cJSON *m = cJSON_Parse(ms);
	cr_assert(m, "%s", mpath);
	const cJSON *spent = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(m, "counts"), "spent_usd");
	cr_expect(cJSON_IsNumber(spent) && fabs(spent->valuedouble - 0.5) < 1e-12, "%s", ms);
	cJSON_Delete(m);
	free(ms);
	simproc_stop(&sp);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* A raw server: a chat request gets a stream cut after one chunk (id
 * gen-raw-1); each GET of its generation is logged as a line in log, and
 * answered `fail` (an HTTP status) for the first `fails` lookups, then 200
 * with a total_cost of 0.125. */
struct gen_srv {
	char log[600];
	int fails;
	int fail;
};

static void gen_server(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)len;
	(void)conn;
	struct gen_srv *g = ctx;
	if (!strncmp(req, "POST ", 5)) {
		static const char cut[] =
		    "data: "
		    "{\"id\":\"gen-raw-1\",\"model\":\"m\",\"object\":\"chat.completion.chunk\","
		    "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
		    "\"Half an\"},\"finish_reason\":null}]}\n\n";
		rawsrv_reply(fd, 200, "Content-Type: text/event-stream\r\n", cut, strlen(cut));
		return;
	}
	FILE *f = fopen(g->log, "a+");
	if (!f)
		return;
	int seen = 0;
	for (int ch; (ch = fgetc(f)) != EOF;)
		seen += ch == '\n';
	fprintf(f, "%.*s\n", (int)strcspn(req, "\r\n"), req);
	fclose(f);
	if (seen < g->fails) {
		static const char nf[] = "{\"error\":{\"code\":404,\"message\":\"Not found\"}}";
		rawsrv_reply(fd, g->fail, "Content-Type: application/json\r\n", nf, strlen(nf));
		return;
	}
	static const char ok[] = "{\"data\":{\"id\":\"gen-raw-1\",\"total_cost\":0.125,"
				 "\"tokens_prompt\":10,\"tokens_completion\":2,\"streamed\":true}}";
	rawsrv_reply(fd, 200, "Content-Type: application/json\r\n", ok, strlen(ok));
}

/* The lookups the raw server saw (and the first one, in first). */
static int lookups(const struct gen_srv *g, char *first, size_t size)
{
	first[0] = '\0';
	if (access(g->log, F_OK) != 0)
		return 0; /* never asked */
	char *s = test_read_file(g->log, NULL);
	int n = 0;
	for (char *p = s; *p; p++)
		n += *p == '\n';
	snprintf(first, size, "%.*s", (int)strcspn(s, "\n"), s);
	free(s);
	return n;
}

Test(cost, the_generation_lookup_is_tried_a_bounded_number_of_times, .timeout = 120)
{
	char *dir = test_mkdtemp("gen");
	struct gen_srv g = {.fails = 1, .fail = 404};
	snprintf(g.log, sizeof(g.log), "%s/lookups.log", dir);
	struct rawsrv srv;
	cr_assert_eq(rawsrv_start(&srv, gen_server, &g, 60), 0);
	char first[300];

	/* not recorded yet (404), then found: the second lookup prices it */
	write_gen_eval(dir, srv.base_url, "m", true, "true", 1);
	run_cut(dir, "", "complete");
	cr_expect_eq(expect_gen_rows(dir, "stream_error", "generation", 0.125, NULL), 1);
	cr_expect_eq(lookups(&g, first, sizeof(first)), 2);
	cr_expect_str_eq(first, "GET /v1/generation?id=gen-raw-1 HTTP/1.1");
	rawsrv_stop(&srv);

	/* failing every time: ENG_GEN_ATTEMPTS (4) lookups, then the cost is
	 * unknown, the row says why, and the run ends fine */
	remove(g.log);
	g.fails = 1000;
	g.fail = 500;
	cr_assert_eq(rawsrv_start(&srv, gen_server, &g, 60), 0);
	write_gen_eval(dir, srv.base_url, "m", true, "true", 1);
	run_cut(dir, "", "complete");
	cr_expect_eq(expect_gen_rows(dir, "stream_error", "unknown", -1,
				     "generation cost lookup: HTTP 500 (4 tries)"),
		     1);
	cr_expect_eq(lookups(&g, first, sizeof(first)), 4);

	/* a client error is not tried again */
	remove(g.log);
	g.fail = 401;
	rawsrv_stop(&srv);
	cr_assert_eq(rawsrv_start(&srv, gen_server, &g, 60), 0);
	write_gen_eval(dir, srv.base_url, "m", true, "true", 1);
	run_cut(dir, "", "complete");
	cr_expect_eq(expect_gen_rows(dir, "stream_error", "unknown", -1, "HTTP 401 (1 try)"), 1);
	cr_expect_eq(lookups(&g, first, sizeof(first)), 1);

	/* generation_cost false, or absent on a host that is not
	 * openrouter.ai: never asked */
	remove(g.log);
	write_gen_eval(dir, srv.base_url, "m", true, "false", 1);
	run_cut(dir, "", "complete");
	write_gen_eval(dir, srv.base_url, "m", true, "", 1);
	run_cut(dir, "", "complete");
	cr_expect_eq(expect_gen_rows(dir, "stream_error", "unknown", -1, NULL), 1);
	cr_expect_eq(lookups(&g, first, sizeof(first)), 0);
	rawsrv_stop(&srv);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}
