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

#include "../support/files.h"
#include "../support/rawsrv.h"
#include "../support/simproc.h"
#include "core/buf.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

static const char *bin(void)
{
	static char path[4096];
	if (!path[0])
		cr_assert(realpath(test_bin_dir(), path), "%s", test_bin_dir());
	return path;
}

/* dir/eval.json: one endpoint, slot "fast" on model, 3 items; stream on or
 * off; a pricing file when pricing is not NULL. */
static void write_eval(const char *dir, const char *base_url, const char *model, bool stream,
		       const char *pricing)
{
	char path[600], text[2048];
	snprintf(path, sizeof(path), "%s/items.jsonl", dir);
	write_text(path, "{\"id\": \"i1\", \"prompt\": \"1+4?\", \"expected\": \"5\"}\n"
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
	write_text(path, text);
}

/* Runs the eval into dir/out (a fresh folder each time). */
static void run_eval(const char *dir)
{
	struct buf out = {0};
	int rc =
	    test_sh(&out, "cd '%s' && rm -rf out && '%s/shadoweval' run eval.json -o out --quiet",
		    dir, bin());
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
	write_text(prof, profiles);
	write_text(pr, pricing);
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
