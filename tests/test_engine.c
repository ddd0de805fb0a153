/* test_engine.c: the engine's small parts alone: status classes, full-jitter
 * backoff, the timer heap, the rpm token bucket, the cache key and database, the
 * --resume set and the manifest. The event loop itself is tested end to end
 * against a real shadowsim in tests/e2e/test_run.c. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "engine/cache.h"
#include "engine/engine.h"
#include "engine/gencost.h"
#include "engine/redact.h"
#include "manifest/manifest.h"
#include "wire/wire.h"

Test(engine, classifies_curl_and_http_outcomes)
{
	cr_assert_eq(eng_classify(CURLE_OPERATION_TIMEDOUT, 0), RES_TIMEOUT);
	cr_assert_eq(eng_classify(CURLE_COULDNT_CONNECT, 0), RES_NETWORK);
	cr_assert_eq(eng_classify(CURLE_GOT_NOTHING, 0), RES_NETWORK);
	cr_assert_eq(eng_classify(CURLE_PARTIAL_FILE, 200), RES_NETWORK);
	cr_assert_eq(eng_classify(CURLE_RECV_ERROR, 200), RES_NETWORK);
	cr_assert_eq(eng_classify(CURLE_OK, 429), RES_RATE_LIMITED);
	cr_assert_eq(eng_classify(CURLE_OK, 408), RES_TIMEOUT);
	cr_assert_eq(eng_classify(CURLE_OK, 400), RES_HTTP_4XX);
	cr_assert_eq(eng_classify(CURLE_OK, 401), RES_HTTP_4XX);
	cr_assert_eq(eng_classify(CURLE_OK, 502), RES_HTTP_5XX);
	cr_assert_eq(eng_classify(CURLE_OK, 524), RES_HTTP_5XX);
	cr_assert_eq(eng_classify(CURLE_OK, 599), RES_HTTP_5XX);
	/* past 599 is no HTTP status: a bad reply, not a server error to retry */
	cr_assert_eq(eng_classify(CURLE_OK, 600), RES_BAD_RESPONSE);
	cr_assert_eq(eng_classify(CURLE_OK, 999), RES_BAD_RESPONSE);
	cr_assert_eq(eng_classify(CURLE_OK, 200), RES_OK);
	cr_assert_eq(eng_classify(CURLE_OK, 204), RES_OK);
}

Test(engine, retries_transient_faults_only)
{
	cr_assert(eng_status_retryable(RES_RATE_LIMITED));
	cr_assert(eng_status_retryable(RES_HTTP_5XX));
	cr_assert(eng_status_retryable(RES_TIMEOUT));
	cr_assert(eng_status_retryable(RES_NETWORK));
	cr_assert(eng_status_retryable(RES_BAD_RESPONSE));
	cr_assert(eng_status_retryable(RES_STREAM_ERROR));
	cr_assert_not(eng_status_retryable(RES_HTTP_4XX));
	cr_assert_not(eng_status_retryable(RES_BUDGET));
	cr_assert_not(eng_status_retryable(RES_OK));
}

Test(engine, names_every_status_as_the_spec_does)
{
	const char *want[] = {"ok",	 "http_4xx",	 "http_5xx",	 "rate_limited", "timeout",
			      "network", "bad_response", "stream_error", "budget"};
	for (int i = 0; i < RES_N_STATUS; i++)
		cr_assert_str_eq(res_status_name((enum res_status)i), want[i]);
}

Test(engine, parses_cache_modes_and_rejects_others)
{
	enum eng_cache_mode m;
	cr_assert_eq(eng_cache_mode_parse("replay", &m), 0);
	cr_assert_eq(m, ENG_CACHE_REPLAY);
	cr_assert_eq(eng_cache_mode_parse("use", &m), 0);
	cr_assert_eq(m, ENG_CACHE_USE);
	cr_assert_eq(eng_cache_mode_parse("on", &m), -1);
	cr_assert_str_eq(eng_cache_mode_name(ENG_CACHE_REFRESH), "refresh");
}

Test(engine, backoff_stays_within_the_full_jitter_window)
{
	struct cfg_retry r = {.max_attempts = 10, .base_ms = 100, .max_ms = 1000};
	uint64_t rng = 42;
	double max_seen[6] = {0};
	for (int i = 0; i < 2000; i++) {
		for (int a = 1; a <= 5; a++) {
			double d = eng_backoff_ms(&r, a, -1, &rng);
			double cap = fmin(1000, 100 * pow(2, a - 1));
			cr_assert(d >= 0 && d <= cap, "attempt %d: %f not in [0, %f]", a, d, cap);
			if (d > max_seen[a])
				max_seen[a] = d;
		}
	}
	/* jitter spreads over the whole window, not a fixed delay */
	cr_assert_gt(max_seen[1], 90);
	cr_assert_gt(max_seen[5], 900);
}

Test(engine, backoff_honours_retry_after_as_a_floor)
{
	struct cfg_retry r = {.max_attempts = 4, .base_ms = 10, .max_ms = 50};
	uint64_t rng = 7;
	for (int i = 0; i < 200; i++)
		cr_assert_geq(eng_backoff_ms(&r, 1, 2000, &rng), 2000);
}

Test(engine, prng_is_deterministic_per_seed)
{
	uint64_t a = 99, b = 99, c = 100;
	uint64_t x = eng_rand(&a);
	cr_assert_eq(x, eng_rand(&b));
	cr_assert_neq(x, eng_rand(&c));
	for (int i = 0; i < 1000; i++) {
		double u = eng_rand01(&a);
		cr_assert(u >= 0 && u < 1);
	}
}

Test(engine, bucket_limits_requests_per_minute)
{
	struct eng_bucket b;
	eng_bucket_init(&b, 120, 0); /* 2 per second, burst 2 */
	cr_assert(eng_bucket_take(&b, 0));
	cr_assert(eng_bucket_take(&b, 0));
	cr_assert_not(eng_bucket_take(&b, 0));
	double w = eng_bucket_wait_ms(&b, 0);
	cr_assert(w > 499 && w < 501, "wait %f", w);
	cr_assert_not(eng_bucket_take(&b, 400));
	cr_assert(eng_bucket_take(&b, 500));
	/* over a minute at most rpm (+ the burst) are let through */
	int n = 0;
	for (double t = 500; t < 60500; t += 10)
		n += eng_bucket_take(&b, t);
	cr_assert(n >= 119 && n <= 121, "took %d", n);
}

Test(engine, bucket_without_rpm_is_unlimited)
{
	struct eng_bucket b;
	eng_bucket_init(&b, 0, 0);
	for (int i = 0; i < 10000; i++)
		cr_assert(eng_bucket_take(&b, 0));
	cr_assert_eq(eng_bucket_wait_ms(&b, 0), 0);
}

Test(engine, cache_key_depends_on_url_model_and_body)
{
	char a[65], b[65], c[65], d[65], e[65];
	eng_cache_key("http://h/v1", "m/x", "{}", 2, a);
	eng_cache_key("http://h/v1", "m/x", "{}", 2, b);
	eng_cache_key("http://h/v2", "m/x", "{}", 2, c);
	eng_cache_key("http://h/v1", "m/y", "{}", 2, d);
	eng_cache_key("http://h/v1", "m/x", "{ }", 3, e);
	cr_assert_str_eq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_str_neq(a, d);
	cr_assert_str_neq(a, e);
	cr_assert_eq(strlen(a), 64);
	/* the separator keeps ("ab","c") apart from ("a","bc") */
	eng_cache_key("ab", "c", "", 0, b);
	eng_cache_key("a", "bc", "", 0, c);
	cr_assert_str_neq(b, c);
}

Test(engine, cache_round_trips_an_entry_and_misses_others)
{
	char dir[] = "/tmp/se-engine-cache-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char key[65], other[65];
	eng_cache_key("u", "m", "body", 4, key);
	eng_cache_key("u", "m", "body2", 5, other);
	struct eng_cache_entry e = {.stream = true, .latency_ms = 12.5, .ttft_ms = 3};
	const char body[] = "data: {\"x\":\"caf\xc3\xa9\"}\n\ndata: [DONE]\n\n";
	struct se_err err;
	struct eng_cache *c;
	cr_assert_eq(eng_cache_open(&c, dir, true, NULL, &err), 0, "%s", err.msg);
	struct eng_cache_key k = {"u", "m", key, 0}, ko = {"u", "m", other, 0};
	cr_assert_eq(eng_cache_store(c, &k, &e, body, strlen(body), &err), 0, "%s", err.msg);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	/* a new handle reads what the first one wrote */
	cr_assert_eq(eng_cache_open(&c, dir, false, NULL, &err), 0, "%s", err.msg);
	struct eng_cache_entry got;
	struct buf b;
	buf_init(&b);
	cr_assert_eq(eng_cache_load(c, &k, &got, &b, &err), ENG_CACHE_HIT, "%s", err.msg);
	cr_assert_str_eq(b.data, body);
	cr_assert(got.stream);
	cr_assert_float_eq(got.latency_ms, 12.5, 1e-9);
	cr_assert_float_eq(got.ttft_ms, 3, 1e-9);
	buf_reset(&b);
	cr_assert_eq(eng_cache_load(c, &ko, &got, &b, &err), ENG_CACHE_MISS);
	/* the other sample of the same request is another entry */
	k.sample = 1;
	cr_assert_eq(eng_cache_load(c, &k, &got, &b, &err), ENG_CACHE_MISS);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	/* one database file in the folder */
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, ENG_CACHE_FILE);
	cr_assert_eq(access(path, F_OK), 0);
	buf_free(&b);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(engine, doneset_remembers_pairs_and_their_outcome)
{
	struct eng_doneset d;
	eng_doneset_init(&d);
	cr_assert_eq(eng_doneset_get(&d, "1", "a/b"), 0);
	char id[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "item-%d", i);
		eng_doneset_add(&d, id, "a/b", i % 2 == 0);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "item-%d", i);
		cr_assert_eq(eng_doneset_get(&d, id, "a/b"), i % 2 == 0 ? 2 : 1, "%s", id);
		cr_assert_eq(eng_doneset_get(&d, id, "a/c"), 0);
	}
	/* ("ab","c") is not ("a","bc") */
	eng_doneset_add(&d, "ab", "c", true);
	cr_assert_eq(eng_doneset_get(&d, "a", "bc"), 0);
	eng_doneset_free(&d);
	cr_assert_eq(eng_doneset_get(NULL, "x", "y"), 0);
}

Test(engine, manifest_round_trips_the_hashes_resume_checks)
{
	char dir[] = "/tmp/se-engine-man-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct cfg *cfg = NULL;
	struct se_err err;
	cr_assert_eq(cfg_load("tests/fixtures/run/eval.json", &cfg, &err), 0, "%s", err.msg);
	struct man_status_count counts[2] = {{"ok", 3}, {"http_5xx", 1}};
	struct man_info mi = {.cfg = cfg,
			      .dataset_path = "items.jsonl",
			      .dataset_sha256 = "ab12",
			      .status = "complete",
			      .started_at = "2026-01-01T00:00:00Z",
			      .ended_at = "2026-01-01T00:01:00Z",
			      .shard = "1/2",
			      .limit = -1,
			      .concurrency = 8,
			      .cache_mode = "off",
			      .items = 2,
			      .requests = 5,
			      .results_written = 4,
			      .by_status = counts,
			      .n_status = 2};
	cr_assert_eq(man_write(dir, &mi, &err), 0, "%s", err.msg);
	struct man_read got;
	cr_assert_eq(man_read(dir, &got, &err), 0, "%s", err.msg);
	cr_assert_str_eq(got.config_sha256, cfg->sha256);
	cr_assert_str_eq(got.dataset_sha256, "ab12");
	cr_assert_str_eq(got.started_at, "2026-01-01T00:00:00Z");
	char path[256];
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	char *text = NULL;
	size_t len = 0;
	cr_assert_eq(fio_read_all(path, &text, &len, &err), 0);
	cr_assert_not_null(strstr(text, "\"slots\": {\"fast\":\"sim/fast\""), "%s", text);
	cr_assert_not_null(strstr(text, "\"shard\": \"1/2\""), "%s", text);
	cr_assert_not_null(strstr(text, "\"http_5xx\":1"), "%s", text);
	cr_assert_null(strstr(text, "Authorization"));
	free(text);
	/* a missing manifest is an error naming it */
	snprintf(path, sizeof(path), "%s/nope", dir);
	cr_assert_eq(man_read(path, &got, &err), -1);
	cr_assert_not_null(strstr(err.where, "manifest.json"), "%s", err.where);
	cfg_free(cfg);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* ---- keys (issue 9.14, 9.15) ------------------------------------------- */

Test(engine, refuses_a_key_with_a_line_break_without_echoing_it)
{
	struct cfg *cfg = NULL;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cfg_load("tests/fixtures/run/eval-key.json", &cfg, &err), 0, "%s: %s",
		     err.where, err.msg);
	static const char *const bad[] = {"sk-secret-value\r\nX-Injected: 1", "sk-secret\nvalue",
					  "sk-secret\rvalue", "sk-secret\tvalue",
					  "sk-secret\x7fvalue"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("SE_E2E_RUN_KEY", bad[i], 1);
		se_clear(&err);
		cr_assert_eq(eng_check_keys(cfg, &err), -1, "accepted key %zu", i);
		cr_assert_eq(err.kind, SE_INPUT);
		cr_assert(strstr(err.msg, "SE_E2E_RUN_KEY"), "%s", err.msg);
		cr_assert(strstr(err.msg, "line break"), "%s", err.msg);
		cr_assert_null(strstr(err.msg, "secret"), "the key was echoed: %s", err.msg);
		cr_assert_null(strstr(err.where, "secret"), "the key was echoed: %s", err.where);
	}
	setenv("SE_E2E_RUN_KEY", "sk-secret-value", 1);
	cr_assert_eq(eng_check_keys(cfg, &err), 0);
	unsetenv("SE_E2E_RUN_KEY");
	cr_assert_eq(eng_check_keys(cfg, &err), -1);
	cfg_free(cfg);
}

Test(engine, redacts_every_secret_and_a_tail_cut_inside_one)
{
	struct eng_redact r;
	eng_redact_init(&r);
	eng_redact_add(&r, "sk-canary-0123456789");
	eng_redact_add(&r, "abc"); /* too short to be a key: ignored */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "Authorization: Bearer sk-canary-0123456789\r\nx sk-canary-0123456789abc");
	cr_assert_eq(eng_redact_buf(&r, &b), 2);
	cr_assert_str_eq(b.data, "Authorization: Bearer " ENG_REDACTED "\r\nx " ENG_REDACTED "abc");
	/* a fixed array cut inside the key: the tail is redacted too */
	char s[20] = "model sk-canary-012";
	cr_assert_eq(strlen(s), sizeof(s) - 1);
	cr_assert_eq(eng_redact_str(&r, s, sizeof(s)), 1);
	cr_assert_null(strstr(s, "sk-canary"), "%s", s);
	/* an escaped key is found */
	const char *esc = "{\"x\":\"\\u0073k-canary-0123456789\"}";
	cr_assert(eng_redact_escaped(&r, esc, strlen(esc)));
	cr_assert_not(eng_redact_escaped(&r, "{\"x\":\"\\u0073k\"}", 14));
	cr_assert(eng_redact_header_is_secret("Authorization"));
	cr_assert(eng_redact_header_is_secret("X-Api-Key"));
	cr_assert_not(eng_redact_header_is_secret("X-Title"));
	buf_free(&b);
	eng_redact_free(&r);
}

Test(engine, a_corrupt_cache_entry_is_not_a_miss)
{
	char dir[] = "/tmp/se-engine-cache-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char key[65];
	eng_cache_key("u", "m", "body", 4, key);
	struct eng_cache_entry e = {.stream = false, .latency_ms = 1, .ttft_ms = NAN};
	struct se_err err;
	struct eng_cache *c;
	cr_assert_eq(eng_cache_open(&c, dir, true, NULL, &err), 0, "%s", err.msg);
	struct eng_cache_key k = {"u", "m", key, 0};
	cr_assert_eq(eng_cache_store(c, &k, &e, "{\"ok\":1}", 8, &err), 0, "%s", err.msg);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	/* the text changed behind the cache's back: its checksum no longer
	 * matches, and the load says so rather than answer or miss */
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, ENG_CACHE_FILE);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "UPDATE responses SET body = CAST('{\"ok\":2}' AS BLOB)",
				  NULL, NULL, NULL),
		     SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	cr_assert_eq(eng_cache_open(&c, dir, false, NULL, &err), 0, "%s", err.msg);
	struct eng_cache_entry got;
	struct buf b;
	buf_init(&b);
	se_clear(&err);
	cr_assert_eq(eng_cache_load(c, &k, &got, &b, &err), ENG_CACHE_BAD_ENTRY);
	cr_assert_eq(b.len, 0);
	cr_assert(strstr(err.msg, "checksum"), "%s", err.msg);
	cr_assert(strstr(err.where, ENG_CACHE_FILE), "%s", err.where);
	/* storing it again repairs it */
	cr_assert_eq(eng_cache_store(c, &k, &e, "{\"ok\":1}", 8, &err), 0, "%s", err.msg);
	cr_assert_eq(eng_cache_flush(c, &err), 0, "%s", err.msg);
	cr_assert_eq(eng_cache_load(c, &k, &got, &b, &err), ENG_CACHE_HIT, "%s", err.msg);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	buf_free(&b);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* OpenRouter's generation lookup (engine/gencost.h): who is asked, and how
 * often. */
Test(engine, generation_lookup_is_for_openrouter_or_an_endpoint_that_asks)
{
	struct cfg_endpoint ep = {.base_url = "https://openrouter.ai/api/v1",
				  .generation_cost = -1};
	cr_expect(eng_gen_enabled(&ep));
	ep.base_url = "https://OpenRouter.AI:443/api/v1";
	cr_expect(eng_gen_enabled(&ep));
	ep.generation_cost = 0;
	cr_expect_not(eng_gen_enabled(&ep), "generation_cost: false is off");
	ep.generation_cost = -1;
	ep.base_url = "https://openrouter.ai.example.com/v1";
	cr_expect_not(eng_gen_enabled(&ep));
	ep.base_url = "http://127.0.0.1:4000/v1";
	cr_expect_not(eng_gen_enabled(&ep));
	ep.generation_cost = 1;
	cr_expect(eng_gen_enabled(&ep), "a gateway that copies the API opts in");

	/* only a 2xx reply with an id and no cost of its own */
	struct eng_gen g;
	eng_gen_init(&g);
	struct wire_reply r;
	wire_reply_init(&r);
	cr_expect_not(eng_gen_wanted(&g, &ep, &r, NAN, 200), "no id");
	snprintf(r.id, sizeof(r.id), "gen-1-abc");
	cr_expect(eng_gen_wanted(&g, &ep, &r, NAN, 200));
	cr_expect_str_eq(g.id, "gen-1-abc");
	cr_expect_not(eng_gen_wanted(&g, &ep, &r, NAN, 502), "an error reply is not billed");
	cr_expect_not(eng_gen_wanted(&g, &ep, &r, 0.5, 200), "the LiteLLM header said");
	r.usage.has_cost = true;
	cr_expect_not(eng_gen_wanted(&g, &ep, &r, NAN, 200), "usage.cost said");
	ep.generation_cost = 0;
	r.usage.has_cost = false;
	cr_expect_not(eng_gen_wanted(&g, &ep, &r, NAN, 200));
	wire_reply_free(&r);
	eng_gen_free(&g);
}

Test(engine, generation_lookup_tries_are_bounded_in_number_and_time)
{
	struct cfg_retry rt = {.max_attempts = 1, .base_ms = 100, .max_ms = 250};
	struct eng_gen g;
	eng_gen_init(&g);
	snprintf(g.id, sizeof(g.id), "gen 1/2");
	CURL *h = curl_easy_init();
	cr_assert(h);
	double now = 1000, at = 0;
	/* a transport error is tried again: 100, 200, then capped at 250 ms */
	double want[] = {100, 200};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(eng_gen_setup(&g, h, "http://gw/v1", NULL, NULL, now), 0);
		cr_assert_eq(eng_gen_done(&g, h, CURLE_COULDNT_CONNECT, &rt, now, &at),
			     ENG_GEN_AGAIN);
		cr_expect_eq(at - now, want[i], "try %d", i + 1);
	}
	cr_expect_str_eq(g.url.data, "http://gw/v1/generation?id=gen%201%2F2");
	cr_assert_eq(eng_gen_setup(&g, h, "http://gw/v1", NULL, NULL, now), 0);
	cr_assert_eq(eng_gen_done(&g, h, CURLE_COULDNT_CONNECT, &rt, now, &at), ENG_GEN_AGAIN);
	cr_expect_eq(at - now, 250);
	/* the fourth try is the last */
	cr_assert_eq(eng_gen_setup(&g, h, "http://gw/v1", NULL, NULL, now), 0);
	cr_expect_eq(g.attempts, ENG_GEN_ATTEMPTS);
	cr_expect_eq(eng_gen_done(&g, h, CURLE_COULDNT_CONNECT, &rt, now, &at), ENG_GEN_GIVE_UP);
	cr_expect(strlen(g.why) > 0);
	/* and no try starts past the deadline, however few were made */
	eng_gen_reset(&g);
	snprintf(g.id, sizeof(g.id), "gen-2");
	cr_assert_eq(eng_gen_setup(&g, h, "http://gw/v1", NULL, NULL, now), 0);
	cr_expect_eq(
	    eng_gen_done(&g, h, CURLE_OPERATION_TIMEDOUT, &rt, now + ENG_GEN_TOTAL_MS, &at),
	    ENG_GEN_GIVE_UP);
	curl_easy_cleanup(h);
	eng_gen_free(&g);
}
