/* test_run.c: `shadoweval run` end to end: the real binary against a real
 * shadowsim on 127.0.0.1, with fault profiles written per test.
 *
 * The eval (tests/fixtures/run/eval*.json) has 20 items, slots fast (sim/fast)
 * and deep (sim/deep, items with task "hard", fallback sim/backup), one
 * shadow (sim/cand), 3 attempts with a 10-50 ms backoff, a 2 s timeout (6 s
 * in eval-slow.json). Every test checks the invariant of SPEC.md §6: exactly
 * one results.jsonl line per (item, model). Nothing here asserts speed, and
 * no sleep stands in for an event: tests wait for the line in a file.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/seproc.h"
#include "../support/simproc.h"
#include "merge/merge.h"
#include "summarize/summarize.h"

#define FIX "tests/fixtures/run"
#define N_ITEMS 20
#define N_HARD 5
#define KEY "sk-or-v1-TESTKEY-e2e-0f1e2d3c4b5a69788796a5b4c3d2e1f0"

/* ---- helpers ------------------------------------------------------------ */

static char *tmpdir;

static void make_tmp(void)
{
	tmpdir = test_mkdtemp("e2e-run");
}

static void rm_tmp(void)
{
	test_rmtree(tmpdir);
	tmpdir = NULL;
}

static char *tpath(const char *name)
{
	return test_path(tmpdir, name);
}

/* A profiles file: the four models, instant unless latency_ms, and `faults`
 * (a JSON object, or NULL) on the model `faulty`. */
static const char *profiles(const char *faulty, const char *faults, int ttft_ms, bool require_key)
{
	static const char *const models[] = {"sim/fast", "sim/deep", "sim/cand", "sim/backup"};
	char *path = tpath("profiles.json");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "{\"seed\": 7, \"require_key\": %s, \"models\": {",
		require_key ? "true" : "false");
	for (int i = 0; i < 4; i++) {
		fprintf(f,
			"%s\"%s\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": 0.000002},"
			" \"latency\": {\"ttft_ms\": %d, \"tokens_per_s\": 0},"
			" \"accuracy\": {\"default\": 1.0}",
			i ? ", " : "", models[i], ttft_ms);
		if (faulty && faults && !strcmp(faulty, models[i]))
			fprintf(f, ", \"faults\": %s", faults);
		fputs("}", f);
	}
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static void sim_up(struct simproc *sp, const char *prof, const char *eval)
{
	int rc = simproc_start(sp, prof, eval, NULL);
	cr_assert_eq(rc, 0, "shadowsim did not start: %s", sp->error);
}

/* Waits until the file at path holds a whole line (the event a test wants
 * to act on), checking every 5 ms; fails the test if the child exits
 * first. The test's own .timeout bounds the wait. */
static void wait_for_line(struct se_child *c, const char *path)
{
	for (;;) {
		size_t len = 0;
		char *text = test_slurp(path, &len);
		bool line = text && memchr(text, '\n', len);
		free(text);
		if (line)
			return;
		int st;
		cr_assert_eq(waitpid(c->pid, &st, WNOHANG), 0,
			     "shadoweval exited before writing a line to %s", path);
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Runs shadoweval with args (NULL-terminated, after "shadoweval"); with
 * kill_ms > 0 sends sig after that many ms (a moment chosen by the test,
 * not a stand-in for an event). */
static struct proc_out run_se_sig(const char *const *args, int kill_ms, int sig)
{
	struct se_child c;
	seproc_start(&c, tmpdir, args);
	if (kill_ms > 0) {
		struct timespec ts = {kill_ms / 1000, (kill_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		kill(c.pid, sig);
	}
	return seproc_finish(&c);
}

static struct proc_out run_se(const char *const *args)
{
	return run_se_sig(args, 0, 0);
}

/* results.jsonl parsed: one cJSON object per line. */
struct rows {
	cJSON **v;
	size_t n;
};

static struct rows load_rows(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	size_t len = 0;
	char *s = test_slurp(path, &len);
	struct rows r = {calloc(4096, sizeof(cJSON *)), 0};
	cr_assert_not_null(s, "no %s", path);
	cr_assert(len == 0 || s[len - 1] == '\n', "results.jsonl does not end with a newline");
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		cr_assert_not_null(o, "a line is not JSON: %.200s", line);
		cr_assert_lt(r.n, 4096);
		r.v[r.n++] = o;
	}
	free(s);
	return r;
}

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->v[i]);
	free(r->v);
}

static const char *sfield(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double nfield(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static bool is_null(const cJSON *o, const char *k)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Every (item_id, model) pair at most once; returns the number of lines. */
static size_t assert_unique_pairs(const struct rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = i + 1; j < r->n; j++) {
			bool same =
			    !strcmp(sfield(r->v[i], "item_id"), sfield(r->v[j], "item_id")) &&
			    !strcmp(sfield(r->v[i], "model"), sfield(r->v[j], "model"));
			cr_assert_not(same, "duplicate pair (%s, %s)", sfield(r->v[i], "item_id"),
				      sfield(r->v[i], "model"));
		}
	return r->n;
}

static size_t count_where(const struct rows *r, const char *k, const char *v)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += sfield(r->v[i], k) && !strcmp(sfield(r->v[i], k), v);
	return n;
}

static void run_ok(const char *eval, const char *url, const char *dir, const char *extra1,
		   const char *extra2)
{
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", url);
	const char *args[] = {"run", eval,	"-o",	dir,	"--endpoint",
			      ep,    "--quiet", extra1, extra2, NULL};
	struct proc_out p = run_se(args);
	cr_assert_eq(p.status, 0, "shadoweval run exited %d: %s", p.status, p.err);
	proc_out_free(&p);
}

/* ---- tests ------------------------------------------------------------- */

Test(run, writes_one_scored_line_per_item_and_model, .timeout = 60)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("r"), NULL, NULL);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	cr_assert_eq(count_where(&r, "role", "primary"), N_ITEMS);
	cr_assert_eq(count_where(&r, "role", "shadow"), N_ITEMS);
	cr_assert_eq(count_where(&r, "model", "sim/deep"), N_HARD);
	cr_assert_eq(count_where(&r, "status", "ok"), 2 * N_ITEMS);
	static const char *const fields[] = {"item_id",	    "task",	     "slot",
					     "model",	    "role",	     "status",
					     "http_status", "attempts",	     "latency_ms",
					     "ttft_ms",	    "prompt_tokens", "completion_tokens",
					     "cost_usd",    "cost_source",   "cached",
					     "output",	    "finish_reason", "checks",
					     "pass",	    "score",	     "error"};
	for (size_t i = 0; i < r.n; i++) {
		for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
			cr_assert(cJSON_HasObjectItem(r.v[i], fields[k]), "line %zu lacks %s", i,
				  fields[k]);
		cr_assert_eq(nfield(r.v[i], "attempts"), 1);
		cr_assert_eq(nfield(r.v[i], "http_status"), 200);
		cr_assert(is_null(r.v[i], "ttft_ms"), "ttft_ms must be null without streaming");
		cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.v[i], "pass")),
			  "accuracy 1.0 must pass: %s", sfield(r.v[i], "output"));
		cr_assert_gt(nfield(r.v[i], "prompt_tokens"), 0);
		cr_assert_str_eq(sfield(r.v[i], "cost_source"), "reported");
		cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.v[i], "cached")));
	}
	rows_free(&r);
	char *m = test_slurp(tpath("r/manifest.json"), NULL);
	cr_assert_not_null(m);
	cJSON *mo = cJSON_Parse(m);
	cr_assert_str_eq(sfield(mo, "status"), "complete");
	cr_assert_str_eq(sfield(mo, "tool"), "shadoweval");
	cr_assert_eq(strlen(sfield(mo, "config_sha256")), 64);
	cJSON_Delete(mo);
	free(m);
	cr_assert_eq(access(tpath("r/models.csv"), F_OK), 0);
	cr_assert_eq(access(tpath("r/tasks.csv"), F_OK), 0);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, streams_record_ttft_and_usage, .timeout = 60)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 5, false), FIX "/eval-stream.json");
	run_ok(FIX "/eval-stream.json", sp.base_url, tpath("r"), NULL, NULL);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_str_eq(sfield(r.v[i], "status"), "ok", "%s", sfield(r.v[i], "error"));
		double ttft = nfield(r.v[i], "ttft_ms"), lat = nfield(r.v[i], "latency_ms");
		cr_assert_geq(ttft, 0, "streaming lines carry ttft_ms");
		cr_assert_leq(ttft, lat);
		cr_assert_gt(nfield(r.v[i], "completion_tokens"), 0, "usage from the last chunk");
		cr_assert_str_eq(sfield(r.v[i], "finish_reason"), "stop");
		cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.v[i], "pass")));
	}
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

struct fault_case {
	const char *eval;
	const char *faults;
	const char *status;
	int attempts;
};

/* Faults on the shadow (no fallbacks): every shadow line has the class and
 * the attempts, every primary line is ok. */
static void check_fault(const struct fault_case *c)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles("sim/cand", c->faults, 0, false), c->eval);
	run_ok(c->eval, sp.base_url, tpath("r"), "--concurrency", "64");
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS, "%s", c->faults);
	for (size_t i = 0; i < r.n; i++) {
		const char *model = sfield(r.v[i], "model");
		if (strcmp(model, "sim/cand")) {
			cr_assert_str_eq(sfield(r.v[i], "status"), "ok");
			continue;
		}
		cr_assert_str_eq(sfield(r.v[i], "status"), c->status, "%s: got %s (%s)", c->faults,
				 sfield(r.v[i], "status"), sfield(r.v[i], "error"));
		cr_assert_eq(nfield(r.v[i], "attempts"), c->attempts, "%s: attempts %g", c->faults,
			     nfield(r.v[i], "attempts"));
		cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(r.v[i], "pass")));
		if (strcmp(c->status, "ok"))
			cr_assert_not_null(sfield(r.v[i], "error"));
	}
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, rate_limits_are_retried_then_reported, .timeout = 90)
{
	struct fault_case c = {FIX "/eval.json", "{\"rate_limit\": 1.0, \"retry_after_s\": 0}",
			       "rate_limited", 3};
	check_fault(&c);
}

Test(run, server_errors_are_retried_then_reported, .timeout = 90)
{
	struct fault_case c = {FIX "/eval.json", "{\"http_502\": 1.0}", "http_5xx", 3};
	check_fault(&c);
}

Test(run, stalls_end_as_timeouts, .timeout = 120)
{
	struct fault_case c = {FIX "/eval.json", "{\"stall\": 1.0, \"stall_ms\": 4000}", "timeout",
			       3};
	check_fault(&c);
}

Test(run, dropped_connections_are_network_errors, .timeout = 90)
{
	struct fault_case c = {FIX "/eval.json", "{\"drop\": 1.0}", "network", 3};
	check_fault(&c);
}

Test(run, malformed_bodies_are_bad_responses, .timeout = 90)
{
	struct fault_case c = {FIX "/eval.json", "{\"malformed\": 1.0}", "bad_response", 3};
	check_fault(&c);
}

Test(run, truncated_bodies_are_network_errors, .timeout = 90)
{
	struct fault_case c = {FIX "/eval.json", "{\"truncate\": 1.0}", "network", 3};
	check_fault(&c);
}

Test(run, midstream_errors_are_stream_errors, .timeout = 90)
{
	struct fault_case c = {FIX "/eval-stream.json", "{\"midstream_error\": 1.0}",
			       "stream_error", 3};
	check_fault(&c);
}

/* A shadow whose every stream sends its whole answer and data: [DONE], then
 * holds the body open (done_hang: for stall_ms, 60 s) is complete: its lines
 * are ok with the answer on the first attempt, and their latency is the
 * reply's, not timeout_s (30 s here) as it was when the run waited for the
 * body's end (one attempt, so that a run that waits fails in about 30 s). */
Test(run, a_stream_held_open_after_done_is_ok_without_waiting_for_the_timeout, .timeout = 120)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles("sim/cand", "{\"done_hang\": 1.0}", 0, false),
	       FIX "/eval-stream.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *args[] = {"run",
			      FIX "/eval-stream.json",
			      "-o",
			      tpath("r"),
			      "--endpoint",
			      ep,
			      "--quiet",
			      "--set",
			      "timeout_s=30",
			      "--set",
			      "retry.max_attempts=1",
			      NULL};
	struct proc_out p = run_se(args);
	cr_assert_eq(p.status, 0, "shadoweval run exited %d: %s", p.status, p.err);
	proc_out_free(&p);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	cr_assert_eq(count_where(&r, "model", "sim/cand"), N_ITEMS);
	for (size_t i = 0; i < r.n; i++) {
		const char *model = sfield(r.v[i], "model");
		cr_assert_str_eq(sfield(r.v[i], "status"), "ok", "%s: %s", model,
				 sfield(r.v[i], "error"));
		cr_assert_eq(nfield(r.v[i], "attempts"), 1, "%s: attempts %g", model,
			     nfield(r.v[i], "attempts"));
		cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.v[i], "pass")), "%s: output %s", model,
			  sfield(r.v[i], "output"));
		cr_assert_str_eq(sfield(r.v[i], "finish_reason"), "stop");
		cr_assert_gt(nfield(r.v[i], "completion_tokens"), 0, "usage from the last chunk");
		double lat = nfield(r.v[i], "latency_ms"), ttft = nfield(r.v[i], "ttft_ms");
		cr_assert(lat >= 0 && lat < 30 * 1000 / 2, "%s: latency_ms %g", model, lat);
		cr_assert(ttft >= 0 && ttft <= lat, "%s: ttft_ms %g, latency_ms %g", model, ttft,
			  lat);
	}
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

/* A primary whose streams are all cut: its lines are stream errors (the
 * server closes each cut stream at once, so never a client timeout), and the
 * other models on the same endpoint get through on their first attempt. */
Test(run, truncated_streams_do_not_hold_up_the_other_models, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles("sim/fast", "{\"truncate\": 1.0}", 0, false), FIX "/eval-stream.json");
	run_ok(FIX "/eval-stream.json", sp.base_url, tpath("r"), NULL, NULL);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	cr_assert_eq(count_where(&r, "model", "sim/fast"), N_ITEMS - N_HARD);
	for (size_t i = 0; i < r.n; i++) {
		const char *model = sfield(r.v[i], "model");
		const char *status = sfield(r.v[i], "status");
		if (!strcmp(model, "sim/fast")) {
			cr_assert_str_eq(status, "stream_error", "sim/fast: got %s (%s)", status,
					 sfield(r.v[i], "error"));
			cr_assert_eq(nfield(r.v[i], "attempts"), 3);
			continue;
		}
		cr_assert_str_eq(status, "ok", "%s: got %s (%s)", model, status,
				 sfield(r.v[i], "error"));
		cr_assert_eq(nfield(r.v[i], "attempts"), 1, "%s %s: attempts %g", model,
			     sfield(r.v[i], "item_id"), nfield(r.v[i], "attempts"));
	}
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

/* Plain-http endpoints never negotiate HTTP/2, so transfers must not wait for
 * a connection to multiplex on (CURLOPT_PIPEWAIT): that would queue every
 * request behind the first and, with a 1 s model and a 6 s timeout
 * (eval-slow.json), time out most of the 15 fast-slot primaries. Each
 * request gets its own keep-alive connection instead. The 5 s of slack over
 * the reply time keep a loaded machine from failing the test. */
Test(run, slow_primaries_run_side_by_side_over_plain_http, .timeout = 90)
{
	make_tmp();
	char *path = tpath("slow.json");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 7, \"models\": {"
	      "\"sim/fast\": {\"latency\": {\"ttft_ms\": 1000, \"tokens_per_s\": 0}},"
	      "\"sim/deep\": {}, \"sim/cand\": {}, \"sim/backup\": {}}}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	struct simproc sp;
	sim_up(&sp, path, FIX "/eval.json");
	run_ok(FIX "/eval-slow.json", sp.base_url, tpath("r"), NULL, NULL);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_str_eq(sfield(r.v[i], "status"), "ok", "%s %s: %s (%s)",
				 sfield(r.v[i], "model"), sfield(r.v[i], "item_id"),
				 sfield(r.v[i], "status"), sfield(r.v[i], "error"));
		cr_assert_eq(nfield(r.v[i], "attempts"), 1, "%s %s: attempts %g",
			     sfield(r.v[i], "model"), sfield(r.v[i], "item_id"),
			     nfield(r.v[i], "attempts"));
	}
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, a_fault_on_the_first_attempt_is_retried_to_success, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles("sim/cand", "{\"http_500\": 1.0, \"first_attempts\": 1}", 0, false),
	       FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("r"), NULL, NULL);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	cr_assert_eq(count_where(&r, "status", "ok"), 2 * N_ITEMS);
	for (size_t i = 0; i < r.n; i++)
		cr_assert_eq(nfield(r.v[i], "attempts"),
			     strcmp(sfield(r.v[i], "model"), "sim/cand") ? 1 : 2);
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, client_errors_are_never_retried, .timeout = 60)
{
	make_tmp();
	struct simproc sp;
	/* require_key and no Authorization header: 401 on every request */
	sim_up(&sp, profiles(NULL, NULL, 0, true), FIX "/eval.json");
	/* every request fails, so the run exits 1 (--max-error-rate, default 1) */
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *args[] = {"run", FIX "/eval.json", "-o", tpath("r"), "--endpoint",
			      ep,    "--quiet",	       NULL};
	struct proc_out p = run_se(args);
	cr_assert_eq(p.status, 1, "shadoweval run exited %d: %s", p.status, p.err);
	cr_assert_not_null(strstr(p.err, "results are errors"), "%s", p.err);
	proc_out_free(&p);
	struct rows r = load_rows(tpath("r"));
	/* the deep primaries fail, so their fallback is tried (and fails too) */
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS + N_HARD);
	cr_assert_eq(count_where(&r, "status", "http_4xx"), r.n);
	for (size_t i = 0; i < r.n; i++) {
		cr_assert_eq(nfield(r.v[i], "attempts"), 1);
		cr_assert_eq(nfield(r.v[i], "http_status"), 401);
	}
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, failed_primaries_fall_back_in_order, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles("sim/deep", "{\"http_503\": 1.0}", 0, false), FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("r"), NULL, NULL);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS + N_HARD);
	cr_assert_eq(count_where(&r, "role", "fallback"), N_HARD);
	for (size_t i = 0; i < r.n; i++) {
		const char *model = sfield(r.v[i], "model");
		if (!strcmp(model, "sim/deep")) {
			cr_assert_str_eq(sfield(r.v[i], "role"), "primary");
			cr_assert_str_eq(sfield(r.v[i], "status"), "http_5xx");
			cr_assert_eq(nfield(r.v[i], "attempts"), 3);
			cr_assert_eq(nfield(r.v[i], "http_status"), 503);
		} else if (!strcmp(model, "sim/backup")) {
			cr_assert_str_eq(sfield(r.v[i], "role"), "fallback");
			cr_assert_str_eq(sfield(r.v[i], "slot"), "deep");
			cr_assert_str_eq(sfield(r.v[i], "status"), "ok");
			cr_assert_str_eq(sfield(r.v[i], "served_model"), "sim/backup");
		} else {
			cr_assert_str_eq(sfield(r.v[i], "status"), "ok");
		}
	}
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, retry_after_is_honoured, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	/* one 429 with Retry-After: 2 per shadow request; the configured backoff
	 * (10 ms for a first retry) alone would retry at once. eval-retry.json is
	 * eval.json with retry.max_ms 3000: a Retry-After beyond retry.max_ms is
	 * not waited for (test_net.c) */
	sim_up(&sp,
	       profiles("sim/cand",
			"{\"rate_limit\": 1.0, \"retry_after_s\": 2, \"first_attempts\": 1}", 0,
			false),
	       FIX "/eval-retry.json");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_ok(FIX "/eval-retry.json", sp.base_url, tpath("r"), "--concurrency", "64");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	cr_assert_eq(count_where(&r, "status", "ok"), 2 * N_ITEMS);
	for (size_t i = 0; i < r.n; i++)
		if (!strcmp(sfield(r.v[i], "model"), "sim/cand"))
			cr_assert_eq(nfield(r.v[i], "attempts"), 2);
	/* a lower bound, not a speed check: the run waited out the header */
	cr_assert_geq(secs, 1.9, "the run took %.2f s: Retry-After: 2 was not waited for", secs);
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

/* --max-cost with a model the pricing file does not price: its cost is
 * known only from its replies, after they are sent; the run says so,
 * naming the models, before it sends anything. */
Test(run, max_cost_without_prices_warns_before_sending, .timeout = 90)
{
	make_tmp();
	char *text = test_slurp(FIX "/eval.json", NULL),
	     *items = test_slurp(FIX "/items.jsonl", NULL);
	char *pr = strstr(text, "\"pricing\": \"pricing.json\",");
	cr_assert(text && items && pr);
	memmove(pr, pr + strlen("\"pricing\": \"pricing.json\","),
		strlen(pr + strlen("\"pricing\": \"pricing.json\",")) + 1);
	test_write_file(tpath("eval.json"), text);
	test_write_file(tpath("items.jsonl"), items);
	free(text);
	free(items);
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *args[] = {"run", tpath("eval.json"), "-o",	   tpath("r"), "--endpoint",
			      ep,    "--max-cost",	 "0.0005", "--quiet",  NULL};
	struct proc_out p = run_se(args);
	cr_assert_not_null(strstr(p.err, "warning: --max-cost: no price for sim/"), "%s", p.err);
	cr_assert_not_null(strstr(p.err, "(no pricing file)"), "%s", p.err);
	proc_out_free(&p);
	/* with prices, no warning */
	const char *priced[] = {"run", FIX "/eval.json", "-o",	   tpath("r2"), "--endpoint",
				ep,    "--max-cost",	 "0.0005", "--quiet",	NULL};
	p = run_se(priced);
	cr_assert_null(strstr(p.err, "no price"), "%s", p.err);
	proc_out_free(&p);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, max_cost_stops_sending_and_resume_finishes, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	/* each item is estimated at ~0.0001-0.002 USD from pricing.json */
	const char *args[] = {"run", FIX "/eval.json", "-o", tpath("r"),   "--endpoint",
			      ep,    "--concurrency",  "1",  "--max-cost", "0.0005",
			      NULL};
	struct proc_out p = run_se(args);
	cr_assert_eq(p.status, 1, "exit %d: %s", p.status, p.err);
	cr_assert_not_null(strstr(p.err, "stopped by --max-cost after $"), "%s", p.err);
	cr_assert_not_null(strstr(p.err, "items not run (--resume continues)"), "%s", p.err);
	struct rows r = load_rows(tpath("r"));
	size_t n = assert_unique_pairs(&r);
	cr_assert(n > 0 && n < 2 * N_ITEMS, "%zu lines", n);
	double spent = 0;
	for (size_t i = 0; i < r.n; i++)
		spent += nfield(r.v[i], "cost_usd");
	cr_assert_leq(spent, 0.0005);
	/* the message's amount is the spend, not rounded to $0.00 */
	double said = atof(strstr(p.err, "after $") + 7);
	cr_assert(said > 0 && fabs(said - spent) <= 0.006 * spent, "said $%g, spent $%g", said,
		  spent);
	rows_free(&r);
	char *m = test_slurp(tpath("r/manifest.json"), NULL);
	cr_assert_not_null(strstr(m, "\"stopped_by_budget\""));
	free(m);
	proc_out_free(&p);

	const char *args2[] = {"run", FIX "/eval.json", "-o",	   tpath("r"), "--endpoint",
			       ep,    "--resume",	"--quiet", NULL};
	p = run_se(args2);
	cr_assert_eq(p.status, 0, "%s", p.err);
	r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	rows_free(&r);
	proc_out_free(&p);
	simproc_stop(&sp);
	rm_tmp();
}

/* The sorted "item_id model" pairs of a run folder, one per line. */
static char *pair_set(const char *dir)
{
	struct rows r = load_rows(dir);
	assert_unique_pairs(&r);
	char **keys = calloc(r.n + 1, sizeof(char *));
	size_t total = 1;
	for (size_t i = 0; i < r.n; i++) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s %s %s\n", sfield(r.v[i], "item_id"),
			 sfield(r.v[i], "model"), sfield(r.v[i], "role"));
		keys[i] = strdup(tmp);
		total += strlen(tmp);
	}
	for (size_t i = 0; i < r.n; i++)
		for (size_t j = i + 1; j < r.n; j++)
			if (strcmp(keys[i], keys[j]) > 0) {
				char *t = keys[i];
				keys[i] = keys[j];
				keys[j] = t;
			}
	char *s = calloc(total, 1);
	for (size_t i = 0; i < r.n; i++) {
		strcat(s, keys[i]);
		free(keys[i]);
	}
	free(keys);
	rows_free(&r);
	return s;
}

Test(run, resume_after_sigkill_gives_the_same_pairs, .timeout = 240)
{
	make_tmp();
	struct simproc sp;
	/* some latency so a kill lands mid-run, and faults so fallbacks and
	 * retries are in flight when it does */
	sim_up(&sp, profiles("sim/deep", "{\"http_500\": 0.5}", 30, false),
	       FIX "/eval-stream.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_ok(FIX "/eval-stream.json", sp.base_url, tpath("ref"), "--concurrency", "4");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int ref_ms = (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
	char *want = pair_set(tpath("ref"));
	/* The kill moments are random, from a printed seed; SE_TEST_SEED=N
	 * replays the same moments to reproduce a failure. */
	const char *env_seed = getenv("SE_TEST_SEED");
	unsigned seed = env_seed && *env_seed ? (unsigned)strtoul(env_seed, NULL, 10)
					      : (unsigned)time(NULL) ^ (unsigned)getpid();
	fprintf(stderr, "resume_after_sigkill: seed %u (SE_TEST_SEED=%u reproduces it)\n", seed,
		seed);
	unsigned state = seed;
	for (int round = 0; round < 4; round++) {
		char dir[64];
		snprintf(dir, sizeof(dir), "k%d", round);
		/* a random moment within the uninterrupted run's duration */
		int delay = 10 + (int)(rand_r(&state) % 1000u) * (ref_ms > 20 ? ref_ms : 20) / 1000;
		const char *args[] = {
		    "run", FIX "/eval-stream.json", "-o", tpath(dir), "--endpoint",
		    ep,	   "--concurrency",	    "4",  "--quiet",  NULL};
		struct proc_out p = run_se_sig(args, delay, SIGKILL);
		proc_out_free(&p);
		char rp[128];
		snprintf(rp, sizeof(rp), "%s/results.jsonl", dir);
		size_t len = 0, lines = 0;
		char *text = test_slurp(tpath(rp), &len);
		for (size_t i = 0; text && i < len; i++)
			lines += text[i] == '\n';
		free(text);
		fprintf(stderr,
			"resume_after_sigkill: round %d, SIGKILL after %d ms (full run %d ms): "
			"%zu lines then\n",
			round, delay, ref_ms, lines);
		/* one --resume must finish the run, whatever the moment of the kill */
		const char *args2[] = {"run",	     FIX "/eval-stream.json",
				       "-o",	     tpath(dir),
				       "--endpoint", ep,
				       "--resume",   "--quiet",
				       NULL};
		p = run_se(args2);
		cr_assert_eq(p.status, 0,
			     "round %d (kill after %d ms; SE_TEST_SEED=%u reproduces): resume "
			     "exited %d: %s",
			     round, delay, seed, p.status, p.err);
		proc_out_free(&p);
		char *got = pair_set(tpath(dir));
		cr_assert_str_eq(got, want, "round %d (kill after %d ms)", round, delay);
		free(got);
	}
	free(want);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, sigint_exits_130_and_resume_completes, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 200, false), FIX "/eval.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *args[] = {"run", FIX "/eval.json", "-o", tpath("r"), "--endpoint",
			      ep,    "--concurrency",  "2",  NULL};
	/* SIGINT once the first result line is written: the run is under way,
	 * and with 2 requests of 200 ms at a time far from done */
	struct se_child c;
	seproc_start(&c, tmpdir, args);
	wait_for_line(&c, tpath("r/results.jsonl"));
	kill(c.pid, SIGINT);
	struct proc_out p = seproc_finish(&c);
	cr_assert_eq(p.status, 130, "exit %d: %s", p.status, p.err);
	cr_assert_not_null(strstr(p.err, "--resume"), "%s", p.err);
	proc_out_free(&p);
	struct rows r = load_rows(tpath("r"));
	cr_assert_lt(assert_unique_pairs(&r), 2 * N_ITEMS);
	rows_free(&r);
	char *m = test_slurp(tpath("r/manifest.json"), NULL);
	cr_assert_not_null(strstr(m, "\"interrupted\""));
	free(m);
	cr_assert_eq(access(tpath("r/models.csv"), F_OK), 0, "summaries are written after SIGINT");
	const char *args2[] = {"run", FIX "/eval.json", "-o",	   tpath("r"),	    "--endpoint",
			       ep,    "--resume",	"--quiet", "--concurrency", "16",
			       NULL};
	p = run_se(args2);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_out_free(&p);
	r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

static void assert_same_file(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	char *x = test_slurp(a, &la), *y = test_slurp(b, &lb);
	cr_assert_not_null(x, "missing %s", a);
	cr_assert_not_null(y, "missing %s", b);
	cr_assert(la == lb && !memcmp(x, y, la), "%s and %s differ", a, b);
	free(x);
	free(y);
}

Test(run, cache_replay_needs_no_network_and_is_reproducible, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval-stream.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *fill[] = {"run",	     FIX "/eval-stream.json",
			      "-o",	     tpath("fill"),
			      "--endpoint",  ep,
			      "--cache",     "use",
			      "--cache-dir", tpath("cache"),
			      "--quiet",     NULL};
	struct proc_out p = run_se(fill);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_out_free(&p);
	simproc_stop(&sp); /* the network is off from here on */
	const char *dirs[] = {"rep1", "rep2"};
	for (int i = 0; i < 2; i++) {
		const char *rep[] = {"run",	    FIX "/eval-stream.json",
				     "-o",	    tpath(dirs[i]),
				     "--endpoint",  ep,
				     "--cache",	    "replay",
				     "--cache-dir", tpath("cache"),
				     "--quiet",	    NULL};
		p = run_se(rep);
		cr_assert_eq(p.status, 0, "replay %d: %s", i, p.err);
		proc_out_free(&p);
		struct rows r = load_rows(tpath(dirs[i]));
		cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
		for (size_t k = 0; k < r.n; k++) {
			cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.v[k], "cached")));
			cr_assert_eq(nfield(r.v[k], "attempts"), 0);
			cr_assert_geq(nfield(r.v[k], "original_latency_ms"), 0);
			cr_assert_str_eq(sfield(r.v[k], "status"), "ok");
		}
		rows_free(&r);
	}
	assert_same_file(tpath("rep1/models.csv"), tpath("rep2/models.csv"));
	assert_same_file(tpath("rep1/tasks.csv"), tpath("rep2/tasks.csv"));
	/* a miss in replay mode fails clearly */
	const char *miss[] = {
	    "run",     FIX "/eval.json", "-o",		tpath("miss"),	"--endpoint", ep,
	    "--cache", "replay",	 "--cache-dir", tpath("cache"), "--quiet",    NULL};
	p = run_se(miss);
	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.err, "cache miss in replay mode"), "%s", p.err);
	proc_out_free(&p);
	rm_tmp();
}

/* grep -r for the key in a folder (recursively) */
static void assert_no_key_in(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char sub[1024];
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			assert_no_key_in(sub);
		}
		closedir(d);
		return;
	}
	size_t len = 0;
	char *s = test_slurp(path, &len);
	cr_assert_not_null(s);
	cr_assert_null(memmem(s, len, "TESTKEY", 7), "the API key appears in %s", path);
	free(s);
}

Test(run, the_key_never_reaches_a_file_or_a_message, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles("sim/cand", "{\"http_500\": 1.0}", 0, true), FIX "/eval-key.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	setenv("SE_E2E_RUN_KEY", KEY, 1);
	const char *args[] = {
	    "run", FIX "/eval-key.json", "-o",		 tpath("r"), "--endpoint", ep, "--cache",
	    "use", "--cache-dir",	 tpath("cache"), NULL};
	struct proc_out p = run_se(args);
	cr_assert_eq(p.status, 0, "%s", p.err);
	proc_out_free(&p);
	/* the key was accepted: primaries are ok (require_key would give 401) */
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(count_where(&r, "status", "ok"), N_ITEMS);
	rows_free(&r);
	/* a second, failing run prints an error: no key in it either */
	const char *args2[] = {"run", FIX "/eval-key.json", "-o", tpath("r"), "--endpoint", ep,
			       NULL};
	p = run_se(args2);
	cr_assert_eq(p.status, 2);
	proc_out_free(&p);
	unsetenv("SE_E2E_RUN_KEY");
	p = run_se(args);
	cr_assert_eq(p.status, 2, "a missing key variable is bad input");
	cr_assert_not_null(strstr(p.err, "SE_E2E_RUN_KEY"), "the message names the variable: %s",
			   p.err);
	proc_out_free(&p);
	assert_no_key_in(tmpdir); /* run folder, cache, captured stdout and stderr */
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, refuses_a_folder_with_results_unless_resumed, .timeout = 60)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("r"), "--limit", "3");
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 6);
	rows_free(&r);
	const char *again[] = {"run", FIX "/eval.json", "-o", tpath("r"), NULL};
	struct proc_out p = run_se(again);
	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.err, "already has results (use --resume"), "%s", p.err);
	proc_out_free(&p);
	/* a changed config is refused on --resume */
	const char *other[] = {"run", FIX "/eval-stream.json", "-o", tpath("r"), "--resume", NULL};
	p = run_se(other);
	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.err, "config changed since the run started"), "%s", p.err);
	proc_out_free(&p);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, shards_split_the_items, .timeout = 60)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("s1"), "--shard=1/3", "--shard-by=index");
	run_ok(FIX "/eval.json", sp.base_url, tpath("s3"), "--shard=3/3", "--shard-by=index");
	struct rows a = load_rows(tpath("s1")), b = load_rows(tpath("s3"));
	cr_assert_eq(assert_unique_pairs(&a), 2 * 7); /* indexes 0,3,...,18 */
	cr_assert_eq(assert_unique_pairs(&b), 2 * 6); /* indexes 2,5,...,17 */
	for (size_t i = 0; i < a.n; i++)
		cr_assert_eq((long)nfield(a.v[i], "item_index") % 3, 0);
	for (size_t i = 0; i < b.n; i++)
		cr_assert_eq((long)nfield(b.v[i], "item_index") % 3, 2);
	rows_free(&a);
	rows_free(&b);
	simproc_stop(&sp);
	rm_tmp();
}

Test(run, usage_errors_exit_2_and_help_exits_0, .timeout = 30)
{
	make_tmp();
	const char *help[] = {"run", "--help", NULL};
	struct proc_out p = run_se(help);
	cr_assert_eq(p.status, 0);
	cr_assert_not_null(strstr(p.out, "usage: shadoweval run EVAL.json"));
	proc_out_free(&p);
	const char *bad[] = {"run", FIX "/eval.json", "--cache", "sometimes", NULL};
	p = run_se(bad);
	cr_assert_eq(p.status, 2);
	cr_assert_not_null(strstr(p.err, "--cache"), "%s", p.err);
	proc_out_free(&p);
	const char *shard[] = {"run", FIX "/eval.json", "--shard", "4/3", NULL};
	p = run_se(shard);
	cr_assert_eq(p.status, 2);
	proc_out_free(&p);
	const char *unknown[] = {"run", FIX "/eval.json", "--bogus", NULL};
	p = run_se(unknown);
	cr_assert_eq(p.status, 2);
	proc_out_free(&p);
	rm_tmp();
}

/* merge (src/merge/): real shard folders joined in-process give the pairs,
 * statuses and passes of one unsharded run of the same eval. */
Test(run, merged_shards_hold_the_pairs_of_one_run, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval.json");
	char *dirs[3];
	for (int k = 0; k < 3; k++) {
		char name[16], shard[32];
		snprintf(name, sizeof(name), "m%d", k + 1);
		snprintf(shard, sizeof(shard), "%d/3", k + 1);
		dirs[k] = strdup(tpath(name));
		run_ok(FIX "/eval.json", sp.base_url, dirs[k], "--shard", shard);
	}
	run_ok(FIX "/eval.json", sp.base_url, tpath("whole"), NULL, NULL);
	char *out = strdup(tpath("merged"));
	struct se_err err;
	struct mg_report rep;
	int rc = mg_merge((const char *const *)dirs, 3, out, NULL, &rep, &err);
	cr_assert_eq(rc, 0, "merge failed: %s: %s", err.where, err.msg);
	cr_assert(rep.complete);

	struct rows m = load_rows(out), w = load_rows(tpath("whole"));
	cr_assert_eq(assert_unique_pairs(&m), w.n);
	for (size_t i = 0; i < w.n; i++) {
		const cJSON *hit = NULL;
		for (size_t j = 0; j < m.n && !hit; j++)
			if (!strcmp(sfield(m.v[j], "item_id"), sfield(w.v[i], "item_id")) &&
			    !strcmp(sfield(m.v[j], "model"), sfield(w.v[i], "model")))
				hit = m.v[j];
		cr_assert_not_null(hit, "pair (%s, %s) missing from the merge",
				   sfield(w.v[i], "item_id"), sfield(w.v[i], "model"));
		cr_expect_str_eq(sfield(hit, "status"), sfield(w.v[i], "status"));
		cr_expect_eq(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hit, "pass")),
			     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w.v[i], "pass")));
	}
	char mpath[600];
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", out);
	char *text = test_slurp(mpath, NULL);
	cr_assert_not_null(text);
	cJSON *man = cJSON_Parse(text);
	cr_assert_not_null(man);
	cr_expect_str_eq(sfield(man, "status"), "complete");
	cr_expect(is_null(man, "shard"));
	snprintf(mpath, sizeof(mpath), "%s/models.csv", out);
	cr_expect_eq(access(mpath, F_OK), 0, "no models.csv in the merged run");
	cJSON_Delete(man);
	free(text);
	rows_free(&m);
	rows_free(&w);
	for (int k = 0; k < 3; k++)
		free(dirs[k]);
	free(out);
	simproc_stop(&sp);
	rm_tmp();
}

/* ---- the other commands, through the binary ----------------------------- */

/* A profiles file where every model answers correctly, except `bad_model`
 * (NULL: none), which always answers wrongly. */
static const char *accuracy_profiles(const char *name, const char *bad_model)
{
	static const char *const models[] = {"sim/fast", "sim/deep", "sim/cand", "sim/backup"};
	char *path = tpath(name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 7, \"models\": {", f);
	for (int i = 0; i < 4; i++)
		fprintf(f,
			"%s\"%s\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": 0.000002},"
			" \"accuracy\": {\"default\": %s}}",
			i ? ", " : "", models[i],
			bad_model && !strcmp(bad_model, models[i]) ? "0.0" : "1.0");
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* The CI story: a baseline run, then a run where the fast slot's model has
 * got worse; `check` passes a run against itself (exit 0), fails the worse
 * one (exit 1) and says why in its JUnit file. */
Test(pipeline, check_exits_1_on_a_quality_regression_and_0_otherwise, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, accuracy_profiles("good.json", NULL), FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("base"), NULL, NULL);
	simproc_stop(&sp);
	sim_up(&sp, accuracy_profiles("bad.json", "sim/fast"), FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("worse"), NULL, NULL);
	simproc_stop(&sp);

	const char *same[] = {"check", tpath("base"), "--baseline", tpath("base"), NULL};
	struct proc_out p = run_se(same);
	cr_assert_eq(p.status, 0, "check against itself exited %d: %s%s", p.status, p.out, p.err);
	cr_assert(strstr(p.out, "result: PASS"), "%s", p.out);
	proc_out_free(&p);

	char *junit = tpath("check.xml");
	const char *worse[] = {"check",	  tpath("worse"), "--baseline", tpath("base"),
			       "--junit", junit,	  NULL};
	p = run_se(worse);
	cr_assert_eq(p.status, 1, "a regression must exit 1, got %d: %s%s", p.status, p.out, p.err);
	cr_assert(strstr(p.out, "pass_rate") && strstr(p.out, "FAIL"), "%s", p.out);
	proc_out_free(&p);
	char *xml = test_slurp(junit, NULL);
	cr_assert_not_null(xml, "no JUnit file");
	cr_assert(strstr(xml, "<failure"), "%s", xml);
	free(xml);

	const char *missing[] = {"check", tpath("worse"), "--baseline", tpath("nowhere"), NULL};
	p = run_se(missing);
	cr_assert_eq(p.status, 2, "a missing baseline is bad input, got %d", p.status);
	proc_out_free(&p);
	rm_tmp();
}

/* Shards merged by the binary, a report of the merge, and sweep refusing a
 * run that is not a full matrix: each command reachable, with its exit code. */
Test(pipeline, merge_report_and_sweep_through_the_binary, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, accuracy_profiles("good.json", NULL), FIX "/eval.json");
	run_ok(FIX "/eval.json", sp.base_url, tpath("s1"), "--shard", "1/2");
	run_ok(FIX "/eval.json", sp.base_url, tpath("s2"), "--shard", "2/2");
	simproc_stop(&sp);

	const char *merge[] = {"merge",	     tpath("s1"), tpath("s2"), "-o",
			       tpath("all"), "--quiet",	  NULL};
	struct proc_out p = run_se(merge);
	cr_assert_eq(p.status, 0, "merge exited %d: %s", p.status, p.err);
	proc_out_free(&p);
	struct rows r = load_rows(tpath("all"));
	cr_assert_eq(assert_unique_pairs(&r), 2 * N_ITEMS);
	rows_free(&r);

	const char *report[] = {"report", tpath("all"), NULL};
	p = run_se(report);
	cr_assert_eq(p.status, 0, "report exited %d: %s", p.status, p.err);
	proc_out_free(&p);
	char *html = test_slurp(tpath("all/report.html"), NULL);
	cr_assert_not_null(html, "no report.html");
	cr_assert(strstr(html, "sim/cand") && strstr(html, "<svg"), "report lacks models/charts");
	free(html);

	const char *sweep[] = {"sweep", tpath("all"), NULL};
	p = run_se(sweep);
	cr_assert_eq(p.status, 2, "sweep on a run without all-slots shadows must exit 2, got %d",
		     p.status);
	cr_assert(strstr(p.err, "manifest.json"), "the error names the manifest: %s", p.err);
	proc_out_free(&p);
	rm_tmp();
}

/* The offline CI flow of the README: a full-matrix run fills the cache; the
 * same eval with its routing changed replays with no server at all, and the
 * gate compares it with the baseline. */
Test(pipeline, a_changed_routing_replays_offline_from_a_matrix_run, .timeout = 90)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, accuracy_profiles("good.json", "sim/fast"), FIX "/eval-matrix.json");
	char url[80];
	snprintf(url, sizeof(url), "%s", sp.base_url);
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", url);
	const char *fill[] = {"run",	     FIX "/eval-matrix.json",
			      "-o",	     tpath("main"),
			      "--endpoint",  ep,
			      "--cache",     "use",
			      "--cache-dir", tpath("cache"),
			      "--quiet",     NULL};
	struct proc_out p = run_se(fill);
	cr_assert_eq(p.status, 0, "the matrix run exited %d: %s", p.status, p.err);
	proc_out_free(&p);
	simproc_stop(&sp); /* from here on, no server */

	const char *pr[] = {"run",	   FIX "/eval-matrix-pr.json",
			    "-o",	   tpath("pr"),
			    "--endpoint",  ep,
			    "--cache",	   "replay",
			    "--cache-dir", tpath("cache"),
			    "--quiet",	   NULL};
	p = run_se(pr);
	cr_assert_eq(p.status, 0, "replay of the changed routing exited %d: %s", p.status, p.err);
	proc_out_free(&p);
	struct rows r = load_rows(tpath("pr"));
	cr_assert_gt(r.n, 0);
	for (size_t i = 0; i < r.n; i++)
		cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r.v[i], "cached")), "a live request");
	/* the routing did change: the hard items now go to sim/fast */
	size_t fast_primary = 0;
	for (size_t i = 0; i < r.n; i++)
		fast_primary += !strcmp(sfield(r.v[i], "role"), "primary") &&
				!strcmp(sfield(r.v[i], "model"), "sim/fast");
	cr_assert_eq(fast_primary, N_HARD);
	rows_free(&r);

	/* sim/fast answers wrongly, the baseline sent it the easy items, the
	 * change sends it only the hard ones: quality improves, the gate passes */
	const char *check[] = {"check", tpath("pr"), "--baseline", tpath("main"), NULL};
	p = run_se(check);
	cr_assert_eq(p.status, 0, "check exited %d: %s%s", p.status, p.out, p.err);
	cr_assert(strstr(p.out, "latency_p95_ms") && strstr(p.out, "SKIP"), "%s", p.out);
	proc_out_free(&p);
	rm_tmp();
}

/* validate and route send nothing and say what a run would do. */
Test(pipeline, validate_and_route_describe_the_run_without_a_server, .timeout = 30)
{
	make_tmp();
	const char *validate[] = {"validate", FIX "/eval.json", NULL};
	struct proc_out p = run_se(validate);
	cr_assert_eq(p.status, 0, "validate exited %d: %s", p.status, p.err);
	char want[128];
	snprintf(want, sizeof(want), "requests   %d (%d primary + %d shadow)", 2 * N_ITEMS, N_ITEMS,
		 N_ITEMS);
	cr_assert(strstr(p.out, want), "no \"%s\" in:\n%s", want, p.out);
	proc_out_free(&p);

	const char *route[] = {"route", FIX "/eval.json", "--csv", NULL};
	p = run_se(route);
	cr_assert_eq(p.status, 0, "route exited %d: %s", p.status, p.err);
	size_t lines = 0, deep = 0;
	for (const char *s = p.out; (s = strchr(s, '\n')); s++)
		lines++;
	for (const char *s = p.out; (s = strstr(s, "\"deep\",\"sim/deep\"")); s++)
		deep++;
	cr_assert_eq(lines, 1 + N_ITEMS, "a header and one line per item:\n%s", p.out);
	cr_assert_eq(deep, N_HARD, "the hard items go to the deep slot:\n%s", p.out);
	proc_out_free(&p);

	const char *bad[] = {"route", FIX "/eval.json", "--limit", "-1", NULL};
	p = run_se(bad);
	cr_assert_eq(p.status, 2);
	cr_assert(strstr(p.err, "--limit"), "%s", p.err);
	proc_out_free(&p);
	rm_tmp();
}

/* Issue 9 item 21: an item without an expected answer fails every exact,
 * contains or regex_extract check, so validate names it (file:line) and
 * exits 2; checks that need no answer (regex, or a "value") let it pass. */
Test(pipeline, validate_flags_an_item_without_the_expected_answer_a_check_needs, .timeout = 30)
{
	make_tmp();
	FILE *f = fopen(tpath("items.jsonl"), "w");
	cr_assert_not_null(f);
	fputs("{\"id\": \"a\", \"prompt\": \"1+1?\", \"expected\": \"2\"}\n"
	      "\n"
	      "{\"id\": \"b\", \"prompt\": \"2+2?\"}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	const char *checks[] = {
	    "[{\"name\": \"answer\", \"type\": \"exact\"}]",
	    "[{\"type\": \"regex\", \"pattern\": \"\\\\d\"}, "
	    "{\"type\": \"contains\", \"value\": \"4\"}]",
	};
	for (int i = 0; i < 2; i++) {
		f = fopen(tpath("eval.json"), "w");
		cr_assert_not_null(f);
		fprintf(f,
			"{\"name\": \"noexp\", \"dataset\": {\"path\": \"items.jsonl\"},"
			" \"endpoints\": {\"sim\": {\"base_url\": \"http://127.0.0.1:9/v1\"}},"
			" \"slots\": {\"only\": \"aa/m000\"}, \"checks\": %s}\n",
			checks[i]);
		cr_assert_eq(fclose(f), 0);
		const char *validate[] = {"validate", tpath("eval.json"), NULL};
		struct proc_out p = run_se(validate);
		if (i == 0) {
			cr_assert_eq(p.status, 2, "validate exited %d: %s", p.status, p.err);
			char want[600];
			snprintf(want, sizeof(want), "%s:3: item \"b\" has no expected answer",
				 tpath("items.jsonl"));
			cr_assert(strstr(p.err, want), "no \"%s\" in: %s", want, p.err);
			cr_assert(strstr(p.err, "check \"answer\" needs"), "%s", p.err);
		} else {
			cr_assert_eq(p.status, 0, "validate exited %d: %s", p.status, p.err);
		}
		proc_out_free(&p);
	}
	rm_tmp();
}

/* Writes a profiles file of `n` models named aa/mNNN, zero latency, the given
 * accuracy each, and returns its path. */
static const char *many_models(const char *name, int n, const double *acc)
{
	char *path = tpath(name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 11, \"models\": {", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"aa/m%03d\": {\"accuracy\": {\"default\": %g}}", i ? ", " : "", i,
			acc[i]);
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* An eval over `path` (JSONL) with model aa/m000 as the only slot and
 * aa/m001 .. aa/m(n-1) as shadows. */
static const char *many_model_eval(const char *name, const char *dataset, int n)
{
	char *path = tpath(name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"name\": \"many\", \"dataset\": {\"path\": \"%s\"},"
		" \"endpoints\": {\"sim\": {\"base_url\": \"http://127.0.0.1:9/v1\"}},"
		" \"slots\": {\"only\": \"aa/m000\"}, \"routing\": {\"default\": \"only\"},"
		" \"shadow\": [",
		dataset);
	for (int i = 1; i < n; i++)
		fprintf(f, "%s\"aa/m%03d\"", i > 1 ? ", " : "", i);
	fputs("], \"checks\": [{\"name\": \"answer\", \"type\": \"exact\", \"normalize\": "
	      "[\"trim\"]}],"
	      " \"params\": {\"max_tokens\": 16}, \"retry\": {\"max_attempts\": 1}, \"timeout_s\": "
	      "30}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Items with ids T-0.., a task per `per_task` items, and their answers. */
static void write_items(const char *path, int tasks, int per_task)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int t = 0; t < tasks; t++)
		for (int i = 0; i < per_task; i++)
			fprintf(
			    f,
			    "{\"id\": \"t%03d-%04d\", \"task\": \"t%03d\", \"prompt\": \"Question"
			    " %d of task %d: reply with its code.\", \"expected\": "
			    "\"code-%d-%d\"}\n",
			    t, i, t, i, t, t, i);
	cr_assert_eq(fclose(f), 0);
}

/* Every shadow runs, however many there are (admission once kept 64). */
Test(pipeline, every_shadow_runs_even_past_sixty_four, .timeout = 120)
{
	make_tmp();
	enum { N = 80, ITEMS = 5 };
	double acc[N];
	for (int i = 0; i < N; i++)
		acc[i] = 1.0;
	write_items(tpath("items.jsonl"), 1, ITEMS);
	const char *eval = many_model_eval("many.json", tpath("items.jsonl"), N);
	struct simproc sp;
	sim_up(&sp, many_models("many-prof.json", N, acc), eval);
	run_ok(eval, sp.base_url, tpath("r"), NULL, NULL);
	simproc_stop(&sp);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), N * ITEMS, "got %zu results", r.n);
	rows_free(&r);
	rm_tmp();
}

/* Verdicts of pairs.csv's per-task rows: how many are better and worse. */
static void task_verdicts(const char *dir, int *n, int *better, int *worse)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/pairs.csv", dir);
	char *csv = test_slurp(path, NULL);
	cr_assert_not_null(csv, "no %s", path);
	*n = *better = *worse = 0;
	char *save = NULL;
	for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "task,", 5))
			continue;
		(*n)++;
		*better += strstr(line, ",better,") != NULL;
		*worse += strstr(line, ",worse,") != NULL;
	}
	free(csv);
}

/* Calibration end to end: shadowsim answers, the checks score, summarize
 * decides. Each task is one comparison on its own items, so the comparisons
 * are independent. A/A: two models of equal accuracy (80%) on 200 tasks of 200
 * items: the verdict must say better or worse about as often as alpha allows
 * (exact McNemar is conservative: about 3.8% expected here). A/B: 80% against
 * 85% on 20 tasks of 1,000 items: the gap must be found in most of them.
 * shadowsim is seeded, so the counts are the same on every run. */
Test(pipeline, verdicts_are_calibrated_through_shadowsim, .timeout = 300)
{
	make_tmp();
	int n, better, worse;
	struct simproc sp;

	write_items(tpath("aa.jsonl"), 200, 200);
	const char *aa = many_model_eval("aa.json", tpath("aa.jsonl"), 2);
	static const double same[] = {0.80, 0.80};
	sim_up(&sp, many_models("aa-prof.json", 2, same), aa);
	run_ok(aa, sp.base_url, tpath("aa"), "--concurrency", "64");
	simproc_stop(&sp);
	task_verdicts(tpath("aa"), &n, &better, &worse);
	fprintf(stderr, "calibration A/A: %d of %d comparisons said better or worse (%.1f%%)\n",
		better + worse, n, 100.0 * (better + worse) / n);
	cr_assert_eq(n, 200);
	cr_assert(better + worse >= 1 && better + worse <= 17,
		  "A/A false positives: %d of 200 (expected about 8)", better + worse);

	write_items(tpath("ab.jsonl"), 20, 1000);
	const char *ab = many_model_eval("ab.json", tpath("ab.jsonl"), 2);
	static const double gap[] = {0.80, 0.85};
	sim_up(&sp, many_models("ab-prof.json", 2, gap), ab);
	run_ok(ab, sp.base_url, tpath("ab"), "--concurrency", "64");
	simproc_stop(&sp);
	task_verdicts(tpath("ab"), &n, &better, &worse);
	fprintf(stderr, "calibration A/B: %d of %d comparisons found the 5-point gap\n", better, n);
	cr_assert_eq(n, 20);
	cr_assert_gt(better, 10, "A/B detected in %d of 20", better);
	cr_assert_eq(worse, 0, "the better model was called worse %d times", worse);
	rm_tmp();
}

/* The overall pairs of one run folder: whether any raw verdict (no
 * correction) and any adjusted verdict said better or worse. */
static void family_verdicts(const char *dir, bool *any_raw, bool *any_adj, int *rows)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/pairs.csv", dir);
	char *csv = test_slurp(path, NULL);
	cr_assert_not_null(csv, "no %s", path);
	*any_raw = *any_adj = false;
	*rows = 0;
	char *save = NULL;
	for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "overall,", 8))
			continue;
		(*rows)++;
		/* columns 17 (verdict) and 25 (verdict_adjusted); no quoted cells here */
		char *cell[32];
		int n = 0;
		for (char *c = line; c && n < 32; n++) {
			cell[n] = c;
			c = strchr(c, ',');
			if (c)
				*c++ = '\0';
		}
		cr_assert(n >= 27, "pairs.csv row of %d cells", n);
		*any_raw |= strcmp(cell[16], "no_difference") != 0;
		*any_adj |= strcmp(cell[24], "no_difference") != 0;
		cr_assert_str_eq(cell[25], "holm");
	}
	free(csv);
}

/* Families of verdicts through the whole pipeline: 200 independent A/A runs
 * (one task of 30 items each, cut out of one shadowsim run into its own run
 * folder), each comparing twelve shadows with the primary, all thirteen
 * models at 80%. A run has a false verdict when any of its twelve says
 * better or worse. With Holm (the default) that must happen in at most
 * alpha = 5% of the runs; without correction far more often. Expected (a
 * Python Monte Carlo of the same design, 4,000 families, exact McNemar): 16%
 * without correction, 1.3% with Holm; the exact test is conservative on 30
 * items, hence below alpha. shadowsim is seeded, so the counts repeat (42
 * and 3 of 200 today). */
Test(pipeline, holm_keeps_the_family_wise_false_verdict_rate_under_alpha, .timeout = 600)
{
	enum { RUNS = 200, ITEMS = 30, MODELS = 13 };
	make_tmp();
	write_items(tpath("fam.jsonl"), RUNS, ITEMS);
	const char *eval = many_model_eval("fam.json", tpath("fam.jsonl"), MODELS);
	double acc[MODELS];
	for (int i = 0; i < MODELS; i++)
		acc[i] = 0.80;
	struct simproc sp;
	sim_up(&sp, many_models("fam-prof.json", MODELS, acc), eval);
	run_ok(eval, sp.base_url, tpath("all"), "--concurrency", "64");
	simproc_stop(&sp);

	/* one run folder per task */
	char *all = test_slurp(tpath("all/results.jsonl"), NULL);
	cr_assert_not_null(all);
	FILE **out = calloc(RUNS, sizeof(*out));
	for (int t = 0; t < RUNS; t++) {
		char name[32];
		snprintf(name, sizeof(name), "run%03d", t);
		cr_assert_eq(mkdir(tpath(name), 0755), 0);
		snprintf(name, sizeof(name), "run%03d/results.jsonl", t);
		out[t] = fopen(tpath(name), "w");
		cr_assert_not_null(out[t]);
	}
	size_t lines = 0;
	char *save = NULL;
	for (char *line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);
		cr_assert_not_null(j, "a results line does not parse");
		const char *task = cJSON_GetStringValue(cJSON_GetObjectItem(j, "task"));
		cr_assert(task && task[0] == 't');
		int t = atoi(task + 1);
		cr_assert(t >= 0 && t < RUNS, "task %s", task);
		fprintf(out[t], "%s\n", line);
		cJSON_Delete(j);
		lines++;
	}
	cr_assert_eq(lines, (size_t)RUNS * ITEMS * MODELS);
	for (int t = 0; t < RUNS; t++)
		cr_assert_eq(fclose(out[t]), 0);
	free(out);
	free(all);

	int raw = 0, holm = 0;
	for (int t = 0; t < RUNS; t++) {
		char name[32];
		snprintf(name, sizeof(name), "run%03d", t);
		struct se_err err;
		se_clear(&err);
		cr_assert_eq(sum_run_dir(tpath(name), NULL, &err), 0, "%s: %s", name, err.msg);
		bool any_raw, any_adj;
		int rows;
		family_verdicts(tpath(name), &any_raw, &any_adj, &rows);
		cr_assert_eq(rows, MODELS - 1, "%s: %d overall pairs", name, rows);
		raw += any_raw;
		holm += any_adj;
	}
	fprintf(stderr,
		"families: %d of %d A/A runs had a false verdict among %d shadows without "
		"correction (%.1f%%), %d with Holm (%.1f%%)\n",
		raw, RUNS, MODELS - 1, 100.0 * raw / RUNS, holm, 100.0 * holm / RUNS);
	cr_expect_leq(holm, RUNS / 20, "Holm: %d of %d runs with a false verdict", holm, RUNS);
	cr_expect_geq(raw, RUNS / 10, "no correction: only %d of %d runs", raw, RUNS);
	rm_tmp();
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* rpm 240 is 4 requests a second, with a burst of one second's worth: the 10
 * requests of 5 items cannot all go before 1.5 s (4 at once, then one every
 * 0.25 s). A lower bound, not a speed check: a slow machine only adds. */
Test(run, the_endpoint_rpm_limit_spaces_requests, .timeout = 60)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 0, false), FIX "/eval-rpm.json");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_ok(FIX "/eval-rpm.json", sp.base_url, tpath("r"), "--limit", "5");
	double secs = seconds_since(&t0);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(assert_unique_pairs(&r), 10);
	cr_assert_eq(count_where(&r, "status", "ok"), 10);
	cr_assert_geq(secs, 1.4, "10 requests at rpm 240 took %.2f s", secs);
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

/* max_concurrency 2 against 300 ms replies: 10 requests go in 5 waves, so
 * the run cannot end before 1.5 s (with --concurrency 32 it would take 0.3 s). */
Test(run, the_endpoint_concurrency_limit_holds_requests_back, .timeout = 60)
{
	make_tmp();
	struct simproc sp;
	sim_up(&sp, profiles(NULL, NULL, 300, false), FIX "/eval-maxconc.json");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_ok(FIX "/eval-maxconc.json", sp.base_url, tpath("r"), "--limit", "5");
	double secs = seconds_since(&t0);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(count_where(&r, "status", "ok"), 10);
	cr_assert_geq(secs, 1.4, "10 requests, 2 at a time, 300 ms each, took %.2f s", secs);
	rows_free(&r);
	simproc_stop(&sp);
	rm_tmp();
}

/* A retry refused by --max-cost ends its pair as `budget`: the primary reports
 * (usage.cost) far more than the pricing file estimated, so once it is spent,
 * the shadow's retry after a 429 would pass the budget. */
Test(run, a_retry_that_would_pass_the_budget_ends_as_budget, .timeout = 60)
{
	make_tmp();
	char *prof = tpath("budget.json");
	FILE *f = fopen(prof, "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 7, \"models\": {"
	      "\"sim/fast\": {\"pricing\": {\"prompt\": 0.001, \"completion\": 0.001}},"
	      "\"sim/cand\": {\"faults\": {\"rate_limit\": 1.0, \"retry_after_s\": 0}},"
	      "\"sim/deep\": {}, \"sim/backup\": {}}}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	struct simproc sp;
	sim_up(&sp, prof, FIX "/eval.json");
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", sp.base_url);
	const char *args[] = {"run",	    FIX "/eval.json", "-o", tpath("r"), "--endpoint",
			      ep,	    "--concurrency",  "1",  "--limit",	"3",
			      "--max-cost", "0.01",	      NULL};
	struct proc_out p = run_se(args);
	simproc_stop(&sp);
	cr_assert_eq(p.status, 1, "a budget stop exits 1, got %d: %s", p.status, p.err);
	cr_assert(strstr(p.err, "stopped by --max-cost"), "%s", p.err);
	proc_out_free(&p);
	struct rows r = load_rows(tpath("r"));
	cr_assert_eq(r.n, 2, "only the first item ran");
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(sfield(r.v[i], "model"), "sim/cand"))
			continue;
		cr_assert_str_eq(sfield(r.v[i], "status"), "budget");
		cr_assert_eq(nfield(r.v[i], "attempts"), 1);
		cr_assert(strstr(sfield(r.v[i], "error"), "--max-cost"), "%s",
			  sfield(r.v[i], "error"));
	}
	rows_free(&r);
	rm_tmp();
}
