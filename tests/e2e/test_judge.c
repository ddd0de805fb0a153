/* test_judge.c: `judge` checks end to end (issue 12). The graded model is
 * shadowsim's (no latency); the judge is a scripted server (support/rawsrv)
 * on its own endpoint, so the test knows every score it gives, counts the
 * judge requests it answers (one line each in a log file: handlers are
 * separate processes) and can hold one back to kill the run in the middle
 * of judging. Each run is four items. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/rawsrv.h"
#include "../support/simproc.h"
#include "core/buf.h"

#define N_ITEMS 4
#define JUDGE_COST 0.001   /* usage.cost of every judge reply */
#define JUDGE_DELAY_MS 150 /* the judge server's latency (not a wait for an event) */

static char *dir;
static struct simproc sim;

/* What the judge server does with a request. */
struct jsrv {
	char log[600];	     /* one line per request answered */
	int notify_fd;	     /* written once when a request is held, or -1 */
	const char *hold;    /* a request holding this text is never answered while */
	char hold_file[600]; /* ... this file exists */
	const char *reply;   /* a fixed reply, or NULL: "Score: N" for question-N */
	const char *down;    /* a request for this model gets a 503, or NULL */
};

static void judge_fn(int fd, const char *req, size_t len, int conn, void *ctx)
{
	(void)conn;
	struct jsrv *s = ctx;
	if (s->hold && memmem(req, len, s->hold, strlen(s->hold)) && !access(s->hold_file, F_OK)) {
		if (write(s->notify_fd, "h", 1) != 1)
			_exit(1);
		pause(); /* until the server is stopped */
		return;
	}
	char content[64] = "", model[64];
	snprintf(model, sizeof(model), "\"model\":\"%s\"", s->down ? s->down : "");
	if (s->down && memmem(req, len, model, strlen(model))) {
		const char *err = "{\"error\":{\"code\":503,\"message\":\"down\"}}";
		rawsrv_reply(fd, 503, "", err, strlen(err));
		return;
	}
	if (s->reply) {
		snprintf(content, sizeof(content), "%s", s->reply);
	} else {
		const char *q = memmem(req, len, "question-", 9);
		int n = q ? q[9] - '0' : 0;
		snprintf(content, sizeof(content), "The answer is fine.\\nScore: %d", n);
	}
	char body[600];
	int bn =
	    snprintf(body, sizeof(body),
		     "{\"id\":\"j\",\"object\":\"chat.completion\",\"model\":\"j/judge\","
		     "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
		     "\"%s\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":100,"
		     "\"completion_tokens\":4,\"cost\":%g}}",
		     content, JUDGE_COST);
	struct timespec ts = {0, JUDGE_DELAY_MS * 1000000L};
	nanosleep(&ts, NULL);
	int lf = open(s->log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (lf >= 0) {
		if (write(lf, "r\n", 2) != 2)
			_exit(1);
		close(lf);
	}
	rawsrv_reply(fd, 200, "", body, (size_t)bn);
}

static const char profiles[] =
    "{\"seed\": 3, \"models\": {\"p/main\": {\"pricing\": {\"prompt\": 0.000001, "
    "\"completion\": 0.000002}, \"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}}}}\n";

/* dir/eval.json: slot fast on shadowsim's p/main, a contains check and a
 * judge check (the default pattern) on the judge endpoint. */
static void write_eval(const char *judge_url)
{
	char path[700], text[2048];
	snprintf(path, sizeof(path), "%s/items.jsonl", dir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	for (int i = 1; i <= N_ITEMS; i++)
		fprintf(f,
			"{\"id\": \"i%d\", \"task\": \"summarize\", \"prompt\": \"question-%d\", "
			"\"expected\": \"%d\"}\n",
			i, i, i);
	cr_assert_eq(fclose(f), 0);
	snprintf(
	    text, sizeof(text),
	    "{\"name\": \"judged\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
	    " \"endpoints\": {\"sim\": {\"base_url\": \"%s\"}, \"jg\": {\"base_url\": \"%s\"}},\n"
	    " \"slots\": {\"fast\": {\"model\": \"p/main\", \"endpoint\": \"sim\"}},\n"
	    " \"routing\": {\"default\": \"fast\"}, \"params\": {\"max_tokens\": 16},\n"
	    " \"checks\": [{\"name\": \"ans\", \"type\": \"contains\"},\n"
	    "   {\"name\": \"quality\", \"type\": \"judge\", \"judge\": \"j/judge\", "
	    "\"endpoint\": \"jg\"}],\n"
	    " \"retry\": {\"max_attempts\": 1}, \"timeout_s\": 30}\n",
	    sim.base_url, judge_url);
	snprintf(path, sizeof(path), "%s/eval.json", dir);
	test_write_file(path, text);
}

/* Starts the judge server (its log in dir/judge.log) and writes the eval
 * pointing at it. */
static void start_judge(struct jsrv *js, struct rawsrv *jg)
{
	snprintf(js->log, sizeof(js->log), "%s/judge.log", dir);
	cr_assert_eq(rawsrv_start(jg, judge_fn, js, 120), 0);
	write_eval(jg->base_url);
}

static void setup(void)
{
	dir = test_mkdtemp("judge");
	char p[700];
	snprintf(p, sizeof(p), "%s/profiles.json", dir);
	test_write_file(p, profiles);
	cr_assert_eq(simproc_start(&sim, p, NULL, NULL), 0, "%s", sim.error);
}

static void teardown(void)
{
	simproc_stop(&sim);
	test_rmdir(dir);
}

/* Runs shadoweval with extra flags into dir/OUT; returns its exit status. */
static int run(const char *out, const char *flags, struct buf *log)
{
	return test_sh(log, "cd '%s' && '%s/shadoweval' run eval.json -o %s --quiet %s 2>&1", dir,
		       test_bin_abs(), out, flags);
}

static size_t lines_of(const char *name)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return test_count_lines(p);
}

/* Every line of OUT/results.jsonl, parsed, in an array sorted by nothing:
 * callers look lines up by item_id. */
static cJSON *read_lines(const char *out)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s/results.jsonl", dir, out);
	return test_read_jsonl(p);
}

static const cJSON *quality(const cJSON *line)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(line, "checks"), "quality");
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

Test(judge_e2e, scores_are_recorded_with_their_own_cost_and_latency, .init = setup,
     .fini = teardown, .timeout = 300)
{
	struct jsrv js = {.notify_fd = -1};
	struct rawsrv jg;
	start_judge(&js, &jg);
	struct buf log = {0};
	cr_assert_eq(run("out", "--concurrency 2", &log), 0, "%s", log.data);
	rawsrv_stop(&jg);
	cr_expect_eq(lines_of("judge.log"), N_ITEMS, "one judge request per line");
	cJSON *a = read_lines("out");
	cr_assert_eq(cJSON_GetArraySize(a), N_ITEMS);
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		int i = cJSON_GetObjectItem(l, "item_id")->valuestring[1] - '0';
		const cJSON *q = quality(l);
		cr_assert(q, "no judge entry");
		/* the judge gave question-N the score N */
		cr_expect_float_eq(num(q, "score"), (double)i, 1e-12);
		cr_expect_eq(cJSON_IsTrue(cJSON_GetObjectItem(q, "pass")), i >= 4, "item %d", i);
		cr_expect_null(cJSON_GetObjectItem(q, "error"));
		cr_expect_str_eq(cJSON_GetObjectItem(q, "type")->valuestring, "judge");
		cr_expect_str_eq(cJSON_GetObjectItem(q, "judge_model")->valuestring, "j/judge");
		cr_expect_not_null(strstr(cJSON_GetObjectItem(q, "detail")->valuestring, "Score:"));
		/* the judge's cost and latency are the line's judge fields, never
		 * the graded model's: its cost is its tokens at its prices */
		cr_expect_float_eq(num(l, "judge_cost_usd"), JUDGE_COST, 1e-12);
		cr_expect_float_eq(num(q, "cost_usd"), JUDGE_COST, 1e-12);
		cr_expect_geq(num(l, "judge_latency_ms"), JUDGE_DELAY_MS);
		double own = num(l, "prompt_tokens") * 1e-6 + num(l, "completion_tokens") * 2e-6;
		cr_expect_float_eq(num(l, "cost_usd"), own, 1e-12);
		cr_expect_lt(num(l, "latency_ms"), JUDGE_DELAY_MS, "the graded request's own time");
	}
	cJSON_Delete(a);
	/* the run's own summaries have the judge's row, as summarize has */
	buf_reset(&log);
	cr_expect_eq(test_sh(&log, "cd '%s' && grep -c '^j/judge,' out/models.csv", dir), 0,
		     "no judge row in the run's models.csv");
	cr_expect_eq(atoi(log.data), 1, "%s", log.data);
	buf_free(&log);
}

Test(judge_e2e, an_unparsable_reply_is_a_check_error, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct jsrv js = {.notify_fd = -1, .reply = "Looks good to me."};
	struct rawsrv jg;
	start_judge(&js, &jg);
	struct buf log = {0};
	cr_assert_eq(run("out", "", &log), 0, "%s", log.data);
	rawsrv_stop(&jg);
	cJSON *a = read_lines("out");
	cr_assert_eq(cJSON_GetArraySize(a), N_ITEMS);
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		const cJSON *q = quality(l);
		cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(q, "error")), "a check error");
		cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(q, "pass")));
		cr_expect(cJSON_IsNull(cJSON_GetObjectItem(q, "score")));
		const char *d = cJSON_GetObjectItem(q, "detail")->valuestring;
		cr_expect_not_null(strstr(d, "no match for pattern"), "%s", d);
		cr_expect_not_null(strstr(d, "Looks good to me."), "%s", d);
		cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(l, "pass")), "never a silent pass");
	}
	cJSON_Delete(a);
	buf_free(&log);
}

/* The judge grades of a run, "i1:1:fail:0.001 ..." (score, the check's
 * verdict, judge_cost_usd) in item order, for comparing runs. */
static void grades_of(const char *out, char *s, size_t size)
{
	cJSON *a = read_lines(out);
	s[0] = '\0';
	for (int i = 1; i <= N_ITEMS; i++) {
		const cJSON *l;
		cJSON_ArrayForEach(l, a)
		{
			if (cJSON_GetObjectItem(l, "item_id")->valuestring[1] - '0' != i)
				continue;
			const cJSON *q = quality(l);
			size_t n = strlen(s);
			snprintf(s + n, size - n, "i%d:%g:%s:%g ", i, num(q, "score"),
				 cJSON_IsTrue(cJSON_GetObjectItem(q, "pass")) ? "pass" : "fail",
				 num(l, "judge_cost_usd"));
		}
	}
	cJSON_Delete(a);
}

Test(judge_e2e, replay_regrades_nothing_and_needs_no_server, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct jsrv js = {.notify_fd = -1};
	struct rawsrv jg;
	start_judge(&js, &jg);
	struct buf log = {0};
	cr_assert_eq(run("fill", "--cache use --cache-dir cache", &log), 0, "%s", log.data);
	/* no server of either kind from here on */
	rawsrv_stop(&jg);
	simproc_stop(&sim);
	buf_reset(&log);
	cr_assert_eq(run("replay", "--cache replay --cache-dir cache", &log), 0, "%s", log.data);
	char a[512], b[512];
	grades_of("fill", a, sizeof(a));
	grades_of("replay", b, sizeof(b));
	cr_expect_str_eq(b, a);
	cr_expect_not_null(strstr(a, "i4:4:pass"), "%s", a);
	cr_expect_eq(lines_of("judge.log"), N_ITEMS, "the replay asked no judge");
	buf_reset(&log);
	/* models.csv alike but for what a cache hit changes: latency (not
	 * measured on a hit) and the cached count */
	cr_assert_eq(
	    test_sh(&log,
		    "cd '%s' && cut -d, -f1-15,22-29 fill/models.csv >a.csv && "
		    "cut -d, -f1-15,22-29 replay/models.csv >b.csv && cmp a.csv b.csv 2>&1",
		    dir),
	    0, "%s", log.data);
	buf_free(&log);
}

Test(judge_e2e, max_cost_counts_judge_spend, .init = setup, .fini = teardown, .timeout = 300)
{
	struct jsrv js = {.notify_fd = -1};
	struct rawsrv jg;
	start_judge(&js, &jg);
	struct buf log = {0};
	/* the graded requests of all four items cost well under 0.0015; with
	 * the judges' 0.001 each the budget is gone after the second item */
	cr_assert_neq(run("out", "--concurrency 1 --max-cost 0.0015", &log), 0, "%s", log.data);
	cr_expect_not_null(strstr(log.data, "stopped by --max-cost"), "%s", log.data);
	rawsrv_stop(&jg);
	cJSON *a = read_lines("out");
	int n = cJSON_GetArraySize(a);
	cr_expect_lt(n, N_ITEMS, "the budget stopped the run");
	double spent = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		spent += num(l, "cost_usd");
		if (isfinite(num(l, "judge_cost_usd")))
			spent += num(l, "judge_cost_usd");
	}
	cJSON_Delete(a);
	char p[700];
	snprintf(p, sizeof(p), "%s/out/manifest.json", dir);
	char *m = test_read_file(p, NULL);
	cr_assert(m);
	cJSON *mj = cJSON_Parse(m);
	cr_assert(mj);
	const cJSON *counts = cJSON_GetObjectItem(mj, "counts");
	cr_expect_float_eq(num(counts, "spent_usd"), spent, 1e-9, "spent counts the judges: %s", m);
	cr_expect_gt(num(counts, "spent_usd"), JUDGE_COST);
	cJSON_Delete(mj);
	free(m);
	buf_free(&log);
}

/* Runs items one at a time while the judge holds item 3's request, sends
 * sig once it has arrived, then resumes with the judge answering: every
 * item is written once and no answered judge request is asked again.
 * Returns the first run's exit status. */
static int kill_in_judging_then_resume(int sig)
{
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	/* run 1: the judge holds item 3's request; items 1 and 2 are done
	 * (one item at a time) when it arrives */
	struct jsrv js = {.notify_fd = pfd[1], .hold = "question-3"};
	snprintf(js.hold_file, sizeof(js.hold_file), "%s/hold", dir);
	test_write_file(js.hold_file, "");
	struct rawsrv jg;
	start_judge(&js, &jg);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && exec '%s/shadoweval' run eval.json -o out --quiet "
		 "--concurrency 1 --cache use --cache-dir cache >run1.log 2>&1",
		 dir, test_bin_abs());
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	char c;
	cr_assert_eq(read(pfd[0], &c, 1), 1, "the judge request of item 3 arrives");
	kill(pid, sig);
	int st;
	waitpid(pid, &st, 0);
	cr_expect_eq(lines_of("judge.log"), 2, "items 1 and 2 were judged before the kill");
	cr_expect_eq(lines_of("out/results.jsonl"), 2);

	/* run 2: --resume with the cache; the judge now answers everything */
	unlink(js.hold_file);
	struct buf log = {0};
	cr_assert_eq(run("out", "--resume --concurrency 1 --cache use --cache-dir cache", &log), 0,
		     "%s", log.data);
	rawsrv_stop(&jg);
	cr_expect_eq(lines_of("judge.log"), N_ITEMS, "items 3 and 4 judged once more, 1 and 2 not");
	char g[512];
	grades_of("out", g, sizeof(g));
	cr_expect_str_eq(g, "i1:1:fail:0.001 i2:2:fail:0.001 i3:3:fail:0.001 i4:4:pass:0.001 ");
	cr_expect_eq(lines_of("out/results.jsonl"), N_ITEMS, "each item once");
	buf_free(&log);
	close(pfd[0]);
	close(pfd[1]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(judge_e2e, resume_after_sigkill_in_judging_loses_nothing_and_grades_nothing_twice,
     .init = setup, .fini = teardown, .timeout = 300)
{
	cr_expect_eq(kill_in_judging_then_resume(SIGKILL), 128 + SIGKILL);
}

/* SIGINT: the run drains, keeps the judged lines and exits 130; the line
 * waiting for its judge is not written (--resume redoes it). */
Test(judge_e2e, sigint_in_judging_keeps_what_is_judged_and_resumes, .init = setup, .fini = teardown,
     .timeout = 300)
{
	cr_expect_eq(kill_in_judging_then_resume(SIGINT), 130);
}

/* validate: 4 items, a primary and one shadow line each, one judge check
 * (a request per line: 8) and one pairwise check (two per shadow line: 8);
 * the judge's estimated cost is in the total. */
Test(judge_e2e, validate_counts_judge_requests_and_their_cost)
{
	char *d = test_mkdtemp("judge-validate");
	char p[700];
	snprintf(p, sizeof(p), "%s/items.jsonl", d);
	test_write_file(p, "{\"id\": \"a\", \"prompt\": \"one!\", \"expected\": \"1\"}\n"
			   "{\"id\": \"b\", \"prompt\": \"two!\", \"expected\": \"2\"}\n"
			   "{\"id\": \"c\", \"prompt\": \"six!\", \"expected\": \"3\"}\n"
			   "{\"id\": \"d\", \"prompt\": \"ten!\", \"expected\": \"4\"}\n");
	snprintf(p, sizeof(p), "%s/pricing.json", d);
	test_write_file(
	    p, "{\"data\": [{\"id\": \"p/main\", \"pricing\": {\"prompt\": \"0\", "
	       "\"completion\": \"0\"}}, {\"id\": \"p/cand\", \"pricing\": {\"prompt\": \"0\", "
	       "\"completion\": \"0\"}}, {\"id\": \"j/judge\", \"pricing\": {\"prompt\": "
	       "\"0.001\", \"completion\": \"0\"}}]}\n");
	snprintf(p, sizeof(p), "%s/eval.json", d);
	test_write_file(
	    p, "{\"name\": \"v\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
	       " \"endpoints\": {\"gw\": {\"base_url\": \"http://127.0.0.1:9/v1\"}},\n"
	       " \"slots\": {\"fast\": \"p/main\"}, \"routing\": {\"default\": \"fast\"},\n"
	       " \"shadow\": [\"p/cand\"], \"pricing\": \"pricing.json\",\n"
	       " \"params\": {\"max_tokens\": 10},\n"
	       " \"checks\": [{\"type\": \"judge\", \"judge\": \"j/judge\"},\n"
	       "   {\"type\": \"pairwise\", \"judge\": \"j/judge\"}]}\n");
	struct buf out = {0};
	cr_assert_eq(
	    test_sh(&out, "cd '%s' && '%s/shadoweval' validate eval.json 2>&1", d, test_bin_abs()),
	    0, "%s", out.data);
	cr_expect_not_null(strstr(out.data, "requests   24 (4 primary + 4 shadow + 16 judge)"),
			   "%s", out.data);
	/* 16 judge prompts at 0.001 per token: each is the item's estimate
	 * (1 token: 4 characters), the answers (10 tokens each) and a 100-token frame:
	 * 8 x 111 + 8 x 121 = 1856 tokens, $1.856; the graded models cost 0 */
	cr_expect_not_null(strstr(out.data, "est. cost  $1.8560 upper bound"), "%s", out.data);
	cr_expect_not_null(strstr(out.data, "judge"), "%s", out.data);
	buf_free(&out);
	test_rmdir(d);
}

/* A slot judge whose model is down: its slot's fallback grades instead. */
Test(judge_e2e, a_slot_judge_falls_back_to_its_slot_fallback, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct jsrv js = {.notify_fd = -1, .down = "j/a"};
	struct rawsrv jg;
	start_judge(&js, &jg);
	char text[2048], p[700];
	snprintf(text, sizeof(text),
		 "{\"name\": \"judged\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
		 " \"endpoints\": {\"sim\": {\"base_url\": \"%s\"}, \"jg\": {\"base_url\": "
		 "\"%s\"}},\n"
		 " \"slots\": {\"fast\": {\"model\": \"p/main\", \"endpoint\": \"sim\"},\n"
		 "   \"grader\": {\"model\": \"j/a\", \"endpoint\": \"jg\"}},\n"
		 " \"fallbacks\": {\"grader\": [{\"model\": \"j/b\", \"endpoint\": \"jg\"}]},\n"
		 " \"routing\": {\"default\": \"fast\"}, \"params\": {\"max_tokens\": 16},\n"
		 " \"checks\": [{\"name\": \"quality\", \"type\": \"judge\", \"judge\": "
		 "\"grader\"}],\n"
		 " \"retry\": {\"max_attempts\": 1}, \"timeout_s\": 30}\n",
		 sim.base_url, jg.base_url);
	snprintf(p, sizeof(p), "%s/eval.json", dir);
	test_write_file(p, text);
	struct buf log = {0};
	cr_assert_eq(run("out", "", &log), 0, "%s", log.data);
	rawsrv_stop(&jg);
	cJSON *a = read_lines("out");
	cr_assert_eq(cJSON_GetArraySize(a), N_ITEMS);
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		int i = cJSON_GetObjectItem(l, "item_id")->valuestring[1] - '0';
		const cJSON *q = quality(l);
		cr_expect_null(cJSON_GetObjectItem(q, "error"), "the fallback answered");
		cr_expect_str_eq(cJSON_GetObjectItem(q, "judge_model")->valuestring, "j/b");
		cr_expect_float_eq(num(q, "score"), (double)i, 1e-12);
	}
	cJSON_Delete(a);
	cr_expect_eq(lines_of("judge.log"), N_ITEMS, "j/b answered each item once");
	buf_free(&log);
}
