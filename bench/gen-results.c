/* gen-results.c: a synthetic results.jsonl for the summarize benchmark.
 *
 * usage: gen-results LINES [SEED [SLOTS [TASKS]]] > results.jsonl
 *
 * Writes LINES result lines shaped like the engine's (results.h field order):
 * a full matrix of 5 models over LINES / 5 items, SLOTS slots (default 3:
 * fast, balanced, deep, each one model's primary; up to 5: extra, reserve),
 * TASKS tasks (default 4, up to 8) and every other model as a shadow, with
 * errors, cache hits, unknown costs, fallbacks off. Deterministic for a seed.
 * It is a load generator only: no statistics are checked here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t state;

static uint64_t next(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform(void)
{
	return (double)(next() >> 11) * 0x1.0p-53;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: gen-results LINES [SEED [SLOTS [TASKS]]]\n");
		return 2;
	}
	long lines = atol(argv[1]);
	state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	static const char *const model[] = {"google/gemini-flash-1.5", "openai/gpt-4o-mini",
					    "anthropic/claude-opus-4", "openai/gpt-4.1-mini",
					    "meta-llama/llama-3.1-8b-instruct"};
	static const double acc[] = {0.72, 0.80, 0.88, 0.83, 0.65};
	static const double speed[] = {300, 600, 1500, 700, 250};
	static const double price[] = {0.00002, 0.0001, 0.004, 0.0003, 0.00001};
	static const char *const slot[] = {"fast", "balanced", "deep", "extra", "reserve"};
	static const char *const task[] = {"summarize", "classify", "code",	 "qa",
					   "draft",	"reason",   "extract", "translate"};
	int nslots = argc > 3 ? atoi(argv[3]) : 3, ntasks = argc > 4 ? atoi(argv[4]) : 4;
	if (nslots < 1 || nslots > 5 || ntasks < 1 || ntasks > 8) {
		fprintf(stderr, "gen-results: SLOTS is 1 to 5, TASKS 1 to 8\n");
		return 2;
	}
	static const char *const error[] = {"timeout", "http_5xx", "rate_limited"};
	long items = lines / 5;
	for (long i = 0; i < items; i++) {
		int t = (int)(next() % (uint64_t)ntasks), s = (int)(next() % (uint64_t)nslots);
		/* the routing estimate is the item's (chars/4 of its prompt); each
		 * model's tokenizer then counts the prompt a little differently */
		long est = 25 + (long)(next() % 225);
		for (int m = 0; m < 5; m++) {
			const char *role = m == s ? "primary" : "shadow";
			double u = uniform();
			const char *status = u < 0.02 ? error[next() % 3] : "ok";
			int ok = status[0] == 'o' && status[1] == 'k';
			int pass = ok && uniform() < acc[m];
			int cached = uniform() < 0.05;
			double lat = speed[m] * (0.5 + uniform() * 1.5);
			double ttft = lat * 0.2;
			long pt = est * 4 + (long)(next() % 40),
			     ct = ok ? 20 + (long)(next() % 300) : -1;
			int unknown_cost = !ok || uniform() < 0.01;
			printf("{\"item_id\":\"item-%07ld\",\"item_index\":%ld,\"task\":\"%s\","
			       "\"slot\":\"%s\",\"model\":\"%s\",\"served_model\":\"%s\","
			       "\"role\":\"%s\",\"status\":\"%s\",\"http_status\":%d,"
			       "\"attempts\":1,\"latency_ms\":%.3f,",
			       i, i, task[t], slot[s], model[m], model[m], role, status,
			       ok ? 200 : 503, lat);
			if (ok)
				printf("\"ttft_ms\":%.3f,\"prompt_tokens\":%ld,\"completion_"
				       "tokens\":%ld,",
				       ttft, pt, ct);
			else
				printf("\"ttft_ms\":null,\"prompt_tokens\":null,"
				       "\"completion_tokens\":null,");
			if (unknown_cost)
				printf("\"cost_usd\":null,\"cost_source\":\"unknown\",");
			else
				printf("\"cost_usd\":%.9f,\"cost_source\":\"reported\",",
				       price[m] * (double)(pt + ct) / 100.0);
			printf("\"cached\":%s,\"est_tokens\":%ld,\"finish_reason\":%s,"
			       "\"pass\":%s,\"score\":%d,\"checks\":{\"answer\":%s},\"error\":%s,"
			       "\"output\":\"The answer, after some reasoning about the question, "
			       "is below.\\n#### %ld\"}\n",
			       cached ? "true" : "false", est, ok ? "\"stop\"" : "null",
			       pass ? "true" : "false", pass, pass ? "true" : "false",
			       ok ? "null" : "\"server error\"", pass ? 42L : i % 100);
		}
	}
	return 0;
}
