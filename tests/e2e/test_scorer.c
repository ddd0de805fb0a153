/* test_scorer.c: `command` checks end to end, against a real shadowsim on
 * 127.0.0.1 with no latency:
 * - examples/scorers/: the Python scorer runs each code item's unit tests
 *   on the answers (a model always right passes them, one always wrong
 *   fails them; the classify item is not sent to it);
 * - `validate` refuses a scorer program that is not there, naming
 *   checks[i].argv[0];
 * - a scorer that keeps crashing ends `run` with exit 2 naming the check,
 *   and the lines written before stay;
 * - a scorer that does not answer does not stall the network loop: every
 *   transfer finishes while the scorer holds its first reply (it waits on a
 *   FIFO the test opens only once the loop has queued every result).
 * Scorers are sh scripts written into the test's temp folder. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/simproc.h"
#include "config/config.h"
#include "core/buf.h"
#include "engine/engine.h"
#include "results/results.h"

static const char profiles[] = "{\"seed\": 5, \"models\": {"
			       "\"sim/fast\": {\"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, "
			       "\"accuracy\": {\"default\": 1.0}, \"output_tokens\": 4}, "
			       "\"sim/cand\": {\"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, "
			       "\"accuracy\": {\"default\": 1.0}, \"output_tokens\": 4}}}\n";

/* dir/items.jsonl with n items, and dir/eval.json with checks (JSON). */
static void write_eval(const char *dir, const char *base_url, int n, const char *shadow,
		       const char *checks)
{
	struct buf b = {0};
	for (int i = 0; i < n; i++)
		buf_printf(&b,
			   "{\"id\": \"q%d\", \"task\": \"code\", \"prompt\": \"%d + 1?\", "
			   "\"expected\": \"%d\"}\n",
			   i, i, i + 1);
	test_write_file(test_path(dir, "items.jsonl"), b.data);
	buf_reset(&b);
	buf_printf(&b,
		   "{\"name\": \"scorer\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
		   " \"endpoints\": {\"sim\": {\"base_url\": \"%s\", \"max_concurrency\": 16}},\n"
		   " \"slots\": {\"fast\": \"sim/fast\"}, \"routing\": {\"default\": \"fast\"},\n"
		   " %s\"checks\": %s,\n"
		   " \"params\": {\"max_tokens\": 8}, \"retry\": {\"max_attempts\": 1},\n"
		   " \"timeout_s\": 30}\n",
		   base_url, shadow, checks);
	test_write_file(test_path(dir, "eval.json"), b.data);
	buf_free(&b);
}

/* Calls fn on each line of a results file; returns the line count. */
static size_t each_line(const char *path, void (*fn)(const cJSON *line, void *ctx), void *ctx)
{
	char *text = test_read_file(path, NULL);
	size_t n = 0;
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
		cJSON *j = cJSON_Parse(l);
		cr_assert_not_null(j, "not JSON: %s", l);
		fn(j, ctx);
		cJSON_Delete(j);
	}
	free(text);
	return n;
}

/* ---- the example: unit tests run by examples/scorers/code_tests.py ---------- */

struct tally {
	int right_pass, wrong_fail, not_graded;
};

static void tally_line(const cJSON *line, void *ctx)
{
	struct tally *t = ctx;
	const char *model = cJSON_GetObjectItem(line, "model")->valuestring;
	const char *task = cJSON_GetObjectItem(line, "task")->valuestring;
	const cJSON *unit = cJSON_GetObjectItem(cJSON_GetObjectItem(line, "checks"), "unit_tests");
	cr_assert_str_eq(cJSON_GetObjectItem(line, "status")->valuestring, "ok");
	if (strcmp(task, "code") != 0) {
		cr_expect_null(unit, "a %s item went to the code scorer", task);
		t->not_graded++;
		return;
	}
	cr_assert_not_null(unit, "a code line without unit_tests");
	cr_expect_str_eq(cJSON_GetObjectItem(unit, "type")->valuestring, "command");
	cr_expect_null(cJSON_GetObjectItem(unit, "error"), "scorer error: %s",
		       cJSON_GetObjectItem(unit, "detail")->valuestring);
	bool pass = cJSON_IsTrue(cJSON_GetObjectItem(unit, "pass"));
	double score = cJSON_GetObjectItem(unit, "score")->valuedouble;
	if (strcmp(model, "sim/fast") == 0) {
		cr_expect(pass, "a right answer failed its tests: %s",
			  cJSON_GetObjectItem(unit, "detail")->valuestring);
		cr_expect_eq(score, 1.0);
		t->right_pass += pass;
	} else {
		cr_expect_not(pass, "a wrong answer passed its tests");
		cr_expect_eq(score, 0.0);
		t->wrong_fail += !pass;
	}
}

Test(scorer, example_python_scorer_runs_the_items_unit_tests, .timeout = 240)
{
	char *dir = test_mkdtemp("scorer-example");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, "examples/scorers/profiles.json",
				   "examples/scorers/code-tests.json", NULL),
		     0, "%s", sp.error);
	struct buf out = {0};
	int rc = test_sh(&out,
			 "'%s/shadoweval' run examples/scorers/code-tests.json --endpoint sim=%s "
			 "-o '%s/out' --quiet",
			 test_bin_abs(), sp.base_url, dir);
	cr_assert_eq(rc, 0, "%s", out.data);
	struct tally t = {0};
	size_t n = each_line(test_path(dir, "out/results.jsonl"), tally_line, &t);
	cr_expect_eq(n, 10, "5 items, a primary and a shadow each");
	cr_expect_eq(t.right_pass, 4);
	cr_expect_eq(t.wrong_fail, 4);
	cr_expect_eq(t.not_graded, 2);
	buf_free(&out);
	simproc_stop(&sp);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* ---- validate: the scorer program must exist ---------------------------------- */

Test(scorer, validate_refuses_a_scorer_that_cannot_run, .timeout = 60)
{
	char *dir = test_mkdtemp("scorer-validate");
	write_eval(dir, "http://127.0.0.1:9/v1", 2, "",
		   "[{\"name\": \"unit\", \"type\": \"command\", \"argv\": [\"./gone.py\"]}]");
	struct buf out = {0};
	int rc =
	    test_sh(&out, "cd '%s' && '%s/shadoweval' validate eval.json", dir, test_bin_abs());
	cr_expect_eq(rc, 2, "%s", out.data);
	cr_expect(strstr(out.data, "eval.json: checks[0].argv[0]"), "%s", out.data);
	cr_expect(strstr(out.data, "\"./gone.py\" is not an executable file"), "%s", out.data);
	/* once it exists and is executable, the config is fine */
	test_write_file(test_path(dir, "gone.py"), "#!/bin/sh\ncat\n");
	cr_assert_eq(chmod(test_path(dir, "gone.py"), 0755), 0);
	buf_reset(&out);
	rc = test_sh(&out, "cd '%s' && '%s/shadoweval' validate eval.json", dir, test_bin_abs());
	cr_expect_eq(rc, 0, "%s", out.data);
	buf_free(&out);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* ---- a scorer that keeps crashing -------------------------------------------- */

static void count_errors(const cJSON *line, void *ctx)
{
	const cJSON *unit = cJSON_GetObjectItem(cJSON_GetObjectItem(line, "checks"), "unit");
	cr_assert_not_null(unit);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(unit, "error")));
	cr_expect_str_eq(cJSON_GetObjectItem(unit, "detail")->valuestring,
			 "scorer exited with status 3");
	(*(int *)ctx)++;
}

Test(scorer, run_fails_naming_the_check_after_max_restarts, .timeout = 120)
{
	char *dir = test_mkdtemp("scorer-crash");
	test_write_file(test_path(dir, "profiles.json"), profiles);
	test_write_file(test_path(dir, "crash.sh"), "#!/bin/sh\nread -r line\nexit 3\n");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, test_path(dir, "profiles.json"), NULL, NULL), 0, "%s",
		     sp.error);
	write_eval(dir, sp.base_url, 6, "",
		   "[{\"name\": \"unit\", \"type\": \"command\", \"argv\": [\"sh\", \"crash.sh\"], "
		   "\"max_restarts\": 1}]");
	struct buf out = {0};
	int rc = test_sh(&out, "cd '%s' && '%s/shadoweval' run eval.json -o out --quiet", dir,
			 test_bin_abs());
	cr_expect_eq(rc, 2, "%s", out.data);
	cr_expect(strstr(out.data, "eval.json: checks[0]"), "%s", out.data);
	cr_expect(strstr(out.data, "command check \"unit\""), "%s", out.data);
	cr_expect(strstr(out.data, "max_restarts (1)"), "%s", out.data);
	/* the first process and its one restart each graded (and crashed on)
	 * one output: those lines are kept, with the error */
	int errors = 0;
	size_t n = each_line(test_path(dir, "out/results.jsonl"), count_errors, &errors);
	cr_expect_eq(n, 2, "%s", out.data);
	cr_expect_eq(errors, 2);
	buf_free(&out);
	simproc_stop(&sp);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}

/* ---- a scorer holding its reply does not stall the loop ----------------------- */

#define ITEMS 6
#define JOBS (ITEMS * 2) /* a primary and one shadow per item */

struct gate {
	const char *fifo;
	int fd; /* the gate's write end, open until the run ends */
	bool released;
	size_t max_queued;
};

static void on_queued(void *ctx, size_t queued)
{
	struct gate *g = ctx;
	if (queued > g->max_queued)
		g->max_queued = queued;
	/* every transfer is done while the scorer still holds its first
	 * reply: the loop never waited for it. Open the gate. */
	if (queued == JOBS && !g->released) {
		g->released = true;
		/* O_RDWR: opening a FIFO write-only waits for a reader, and the
		 * scorer opens the gate only once its first request reaches it,
		 * which may take this very loop turn; the byte waits in the FIFO
		 * until then, so the fd stays open until the run ends */
		g->fd = open(g->fifo, O_RDWR);
		cr_assert(g->fd >= 0);
		cr_assert_eq(write(g->fd, "x\n", 2), 2);
	}
}

static void all_pass(const cJSON *line, void *ctx)
{
	const cJSON *unit = cJSON_GetObjectItem(cJSON_GetObjectItem(line, "checks"), "unit");
	cr_assert_not_null(unit);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(unit, "pass")), "%s",
		  cJSON_GetObjectItem(unit, "detail")->valuestring);
	(*(int *)ctx)++;
}

Test(scorer, a_scorer_holding_its_reply_does_not_stall_the_loop, .timeout = 120)
{
	char *dir = test_mkdtemp("scorer-slow");
	test_write_file(test_path(dir, "profiles.json"), profiles);
	cr_assert_eq(mkfifo(test_path(dir, "gate"), 0600), 0);
	/* the first request waits for the gate; then every request passes */
	test_write_file(test_path(dir, "slow.sh"),
			"#!/bin/sh\nfirst=1\nwhile IFS= read -r line; do\n"
			"id=${line#*:}; id=${id%%,*}\n"
			"if [ $first = 1 ]; then read -r x < gate; first=0; fi\n"
			"printf '{\"id\":%s,\"pass\":true}\\n' \"$id\"\ndone\n");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, test_path(dir, "profiles.json"), NULL, NULL), 0, "%s",
		     sp.error);
	write_eval(dir, sp.base_url, ITEMS, "\"shadow\": [\"sim/cand\"], ",
		   "[{\"name\": \"unit\", \"type\": \"command\", \"argv\": [\"sh\", \"slow.sh\"], "
		   "\"timeout_s\": 100}]");
	struct cfg *cfg = NULL;
	struct se_err err;
	cr_assert_eq(cfg_load(test_path(dir, "eval.json"), &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	struct gate g = {.fifo = test_path(dir, "gate"), .fd = -1};
	char *fifo = strdup(g.fifo);
	g.fifo = fifo;
	struct eng_opts o = {
	    .cfg = cfg,
	    .run_dir = dir,
	    .limit = -1,
	    .concurrency = JOBS,
	    .cache_mode = ENG_CACHE_OFF,
	    .max_cost = -1,
	    .quiet = true,
	    .seed = 1,
	    .on_queued = on_queued,
	    .test_ctx = &g,
	};
	struct eng_stats st;
	cr_assert_eq(eng_run(&o, &st, &err), 0, "%s: %s", err.where, err.msg);
	if (g.fd >= 0)
		close(g.fd);
	cr_assert(g.released, "the loop stopped finishing transfers while the scorer was slow");
	cr_expect_eq(g.max_queued, JOBS);
	cr_expect_eq(st.results_written, JOBS);
	int passed = 0;
	cr_expect_eq(each_line(test_path(dir, "results.jsonl"), all_pass, &passed), JOBS);
	cr_expect_eq(passed, JOBS);
	curl_global_cleanup();
	cfg_free(cfg);
	simproc_stop(&sp);
	free(fifo);
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
}
