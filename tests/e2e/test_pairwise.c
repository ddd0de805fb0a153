/* test_pairwise.c: the `pairwise` check in `run`, end to end (issue 12;
 * JUDGE.md sections 3 and 4).
 *
 * The graded models are a real shadowsim with no latency, given the eval
 * (--eval), so it knows each item's correct and wrong answers; its profile
 * sets each model's accuracy, so the better model is known. The judge is
 * either shadowsim's judge model (judge_accuracy, position_bias: the trust
 * tests) or a scripted server (support/rawsrv) on its own endpoint, which
 * logs each request it answers (a line per request: handlers are separate
 * processes), can reply with a fixed text and can hold one request back so
 * the run is killed in the middle of pairwise judging. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../support/files.h"
#include "../support/rawsrv.h"
#include "../support/simproc.h"
#include "core/buf.h"

#define N_STATS 40 /* items of the trust tests */
#define N_SMALL 4  /* items of the others */
#define JUDGE_COST 0.001

static char *dir;
static struct simproc sim;

/* The scripted judge: what it does with a request. */
struct jsrv {
	char log[600];	     /* one line per request answered */
	int notify_fd;	     /* written once when a request is held, or -1 */
	const char *hold;    /* a request holding this text is never answered while */
	char hold_file[600]; /* ... this file exists */
	const char *reply;   /* the reply's content */
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
	char body[800];
	int bn =
	    snprintf(body, sizeof(body),
		     "{\"id\":\"j\",\"object\":\"chat.completion\",\"model\":\"j/judge\","
		     "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
		     "\"%s\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":100,"
		     "\"completion_tokens\":4,\"cost\":%g}}",
		     s->reply, JUDGE_COST);
	int lf = open(s->log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (lf >= 0) {
		if (write(lf, "r\n", 2) != 2)
			_exit(1);
		close(lf);
	}
	rawsrv_reply(fd, 200, "", body, (size_t)bn);
}

/* dir/items.jsonl: n reasoning items whose answer shadowsim knows. */
static void write_items(int n)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/items.jsonl", dir);
	FILE *f = fopen(p, "w");
	cr_assert(f);
	for (int i = 1; i <= n; i++)
		fprintf(f,
			"{\"id\": \"i%d\", \"task\": \"reason\", \"prompt\": \"question-%d: what "
			"is %d plus %d? End with '#### <number>'.\", \"expected\": \"%d\"}\n",
			i, i, i, 7, i + 7);
	cr_assert_eq(fclose(f), 0);
}

/* dir/eval.json: slot main on shadowsim's p/main, the shadows, a text check
 * and the pairwise check `vs_primary` judged by `judge` on endpoint `jep`
 * (jg: the scripted judge's URL, or shadowsim's). */
static void write_eval(const char *shadows, const char *judge, const char *jep, const char *jg)
{
	char text[3000], p[700];
	snprintf(
	    text, sizeof(text),
	    "{\"name\": \"pw\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
	    " \"endpoints\": {\"sim\": {\"base_url\": \"%s\"}, \"jg\": {\"base_url\": "
	    "\"%s\"}},\n"
	    " \"slots\": {\"main\": {\"model\": \"p/main\", \"endpoint\": \"sim\"}},\n"
	    " \"routing\": {\"default\": \"main\"}, \"shadow\": [%s],\n"
	    " \"params\": {\"max_tokens\": 40},\n"
	    " \"checks\": [{\"name\": \"final_answer\", \"type\": \"regex_extract\", "
	    "\"pattern\": \"####\\\\s*(.+?)\\\\s*$\", \"normalize\": [\"trim\", \"numeric\"]},\n"
	    "   {\"name\": \"vs_primary\", \"type\": \"pairwise\", \"judge\": \"%s\", "
	    "\"endpoint\": \"%s\"}],\n"
	    " \"retry\": {\"max_attempts\": 1}, \"timeout_s\": 30}\n",
	    sim.pid ? sim.base_url : "http://127.0.0.1:1/v1", jg, shadows, judge, jep);
	snprintf(p, sizeof(p), "%s/eval.json", dir);
	test_write_file(p, text);
}

/* A model of the profile: accuracy, no latency, free unless a judge. */
#define MODEL(name, acc)                                                                           \
	"\"" name "\": {\"accuracy\": {\"default\": " acc "}, \"output_tokens\": 20, "             \
	"\"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, \"pricing\": {\"prompt\": 0, "        \
	"\"completion\": 0}}"
#define JUDGE(name, acc, bias)                                                                     \
	"\"" name "\": {\"judge_accuracy\": " acc ", \"position_bias\": " bias                     \
	", \"output_tokens\": 8, \"latency\": {\"ttft_ms\": 0, \"tokens_per_s\": 0}, "             \
	"\"pricing\": {\"prompt\": 0.000002, \"completion\": 0.00001}}"

/* Starts shadowsim with these models on the eval (written first with a
 * placeholder URL: shadowsim reads its items and checks, not endpoints),
 * then rewrites the eval pointing at it. */
static void start_sim(const char *models, int n_items, const char *shadows, const char *judge,
		      const char *jep, const char *jg)
{
	dir = test_mkdtemp("pairwise");
	write_items(n_items);
	write_eval(shadows, judge, jep, jg ? jg : "http://127.0.0.1:1/v1");
	char p[700], e[700], text[3000];
	snprintf(p, sizeof(p), "%s/profiles.json", dir);
	snprintf(text, sizeof(text), "{\"seed\": 11, \"models\": {%s}}\n", models);
	test_write_file(p, text);
	snprintf(e, sizeof(e), "%s/eval.json", dir);
	cr_assert_eq(simproc_start(&sim, p, e, NULL), 0, "%s", sim.error);
	write_eval(shadows, judge, jep, jg ? jg : sim.base_url);
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

/* Every line of OUT/results.jsonl, parsed, in file order. */
static cJSON *read_lines(const char *out)
{
	char p[700];
	snprintf(p, sizeof(p), "%s/%s/results.jsonl", dir, out);
	return test_read_jsonl(p);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The overall row of OUT/pairwise.csv for shadow model m, as
 * "wins,losses,ties,errors,not_compared,...,verdict,consistency" fields
 * (columns 6-16), into row. */
static void overall_row(const char *out, const char *m, char *row, size_t size)
{
	struct buf b = {0};
	cr_assert_eq(
	    test_sh(&b,
		    "cd '%s' && grep '^overall,all,policy,%s,' %s/pairwise.csv | cut -d, -f6-16",
		    dir, m, out),
	    0, "no overall row for %s in %s/pairwise.csv", m, out);
	snprintf(row, size, "%s", b.data);
	row[strcspn(row, "\n")] = '\0';
	buf_free(&b);
}

/* Field k (0-based) of a comma-separated row. */
static const char *field(const char *row, int k, char *out, size_t size)
{
	const char *s = row;
	for (int i = 0; i < k && s; i++) {
		s = strchr(s, ',');
		s = s ? s + 1 : NULL;
	}
	cr_assert(s, "no field %d in %s", k, row);
	size_t n = strcspn(s, ",");
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), s);
	return out;
}

/* The in-run pairwise.csv and models.csv's judge row (but its latencies)
 * are what `summarize` computes from the same folder. */
static void expect_summaries_agree(const char *out)
{
	struct buf b = {0};
	int rc =
	    test_sh(&b,
		    "cd '%s' && mkdir -p again && cp %s/results.jsonl %s/manifest.json again/ && "
		    "'%s/shadoweval' summarize again >/dev/null 2>&1 && "
		    "cmp %s/pairwise.csv again/pairwise.csv && "
		    "grep ',judge$' %s/models.csv | cut -d, -f1,2,7,24,25,29,30,33 >a.csv && "
		    "grep ',judge$' again/models.csv | cut -d, -f1,2,7,24,25,29,30,33 >b.csv && "
		    "test -s a.csv && cmp a.csv b.csv 2>&1",
		    dir, out, out, test_bin_abs(), out, out);
	cr_expect_eq(rc, 0, "in-run summaries differ from summarize's: %s", b.data);
	buf_free(&b);
}

Test(pairwise_e2e, both_orders_are_judged_and_the_outcome_follows_them, .fini = teardown,
     .timeout = 300)
{
	/* p/main always wrong; p/good always right (judge: both orders say
	 * shadow: win); p/same always wrong too (both wrong: tie) */
	start_sim(MODEL("p/main", "0") "," MODEL("p/good", "1") "," MODEL("p/same", "0") "," JUDGE(
		      "j/true", "1", "0"),
		  N_SMALL,
		  "{\"model\": \"p/good\", \"endpoint\": \"sim\"}, {\"model\": \"p/same\", "
		  "\"endpoint\": \"sim\"}",
		  "j/true", "sim", NULL);
	struct buf log = {0};
	cr_assert_eq(run("out", "--concurrency 3", &log), 0, "%s", log.data);
	cJSON *a = read_lines("out");
	cr_assert_eq(cJSON_GetArraySize(a), 3 * N_SMALL);
	int compared = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		const cJSON *pw = cJSON_GetObjectItem(l, "pairwise");
		if (strcmp(str(l, "role"), "shadow") != 0) {
			cr_expect_null(pw, "only shadow lines are compared");
			cr_expect(isnan(num(l, "judge_cost_usd")),
				  "the reference made no judge request");
			continue;
		}
		cr_assert(pw, "a shadow line of ok answers has its comparison");
		compared++;
		bool good = !strcmp(str(l, "model"), "p/good");
		cr_expect_str_eq(str(pw, "check"), "vs_primary");
		cr_expect_str_eq(str(pw, "judge_model"), "j/true");
		cr_expect_str_eq(str(pw, "reference_model"), "p/main");
		cr_expect_str_eq(str(pw, "ab"), good ? "shadow" : "tie");
		cr_expect_str_eq(str(pw, "ba"), good ? "shadow" : "tie");
		cr_expect_str_eq(str(pw, "outcome"), good ? "win" : "tie");
		const char *d = str(pw, "detail");
		cr_expect(strstr(d, "A/B: ") && strstr(d, "B/A: ") && strstr(d, "Verdict:"), "%s",
			  d);
		/* both orders' spend is the judge's, never the graded model's */
		cr_expect_gt(num(l, "judge_cost_usd"), 0);
		cr_expect_float_eq(num(l, "cost_usd"), 0, 1e-12, "p/* are free");
		cr_expect(isfinite(num(l, "judge_latency_ms")));
		/* written before its reference's line (JUDGE.md section 4) */
		const cJSON *r;
		int me = -1, ref = -1, k = 0;
		cJSON_ArrayForEach(r, a)
		{
			if (!strcmp(str(r, "item_id"), str(l, "item_id"))) {
				if (r == l)
					me = k;
				if (!strcmp(str(r, "role"), "primary"))
					ref = k;
			}
			k++;
		}
		cr_expect_lt(me, ref, "item %s: the shadow line comes first", str(l, "item_id"));
	}
	cJSON_Delete(a);
	cr_expect_eq(compared, 2 * N_SMALL);
	char row[200], f[40];
	overall_row("out", "p/good", row, sizeof(row));
	cr_expect_str_eq(field(row, 0, f, sizeof(f)), "4", "wins: %s", row);
	overall_row("out", "p/same", row, sizeof(row));
	cr_expect_str_eq(field(row, 2, f, sizeof(f)), "4", "ties: %s", row);
	expect_summaries_agree("out");
	buf_free(&log);
}

/* The trust test: p/main right 30% of the time, p/better 90%, p/worse
 * never; a judge right 90% of the time with a position bias of 0.1. The
 * verdicts recover which shadow is better and which worse. */
Test(pairwise_e2e, pairwise_recovers_the_known_better_model, .fini = teardown, .timeout = 300)
{
	start_sim(MODEL("p/main", "0.3") "," MODEL("p/better", "0.9") "," MODEL(
		      "p/worse", "0") "," JUDGE("j/judge", "0.9", "0.1"),
		  N_STATS,
		  "{\"model\": \"p/better\", \"endpoint\": \"sim\"}, {\"model\": \"p/worse\", "
		  "\"endpoint\": \"sim\"}",
		  "j/judge", "sim", NULL);
	struct buf log = {0};
	cr_assert_eq(run("out", "--concurrency 16", &log), 0, "%s", log.data);
	char row[200], f[40];
	overall_row("out", "p/better", row, sizeof(row));
	cr_expect_str_eq(field(row, 9, f, sizeof(f)), "better", "%s", row);
	cr_expect_gt(atof(field(row, 5, f, sizeof(f))), 0.5, "win rate: %s", row);
	overall_row("out", "p/worse", row, sizeof(row));
	cr_expect_str_eq(field(row, 9, f, sizeof(f)), "worse", "%s", row);
	cr_expect_lt(atof(field(row, 5, f, sizeof(f))), 0.5, "win rate: %s", row);
	expect_summaries_agree("out");
	buf_free(&log);
}

/* Both models always right: the truth is a tie. A judge that answers A
 * one time in five whatever it sees names the first position's model in
 * some orders, but the swap turns each of those into a disagreement: ties,
 * never a win or a loss. */
Test(pairwise_e2e, the_order_swap_cancels_a_position_bias, .fini = teardown, .timeout = 300)
{
	start_sim(MODEL("p/main", "1") "," MODEL("p/cand", "1") "," JUDGE("j/first", "1", "0.2"),
		  N_STATS, "{\"model\": \"p/cand\", \"endpoint\": \"sim\"}", "j/first", "sim",
		  NULL);
	struct buf log = {0};
	cr_assert_eq(run("out", "--concurrency 16", &log), 0, "%s", log.data);
	cJSON *a = read_lines("out");
	int biased = 0, compared = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		const cJSON *pw = cJSON_GetObjectItem(l, "pairwise");
		if (!pw)
			continue;
		compared++;
		/* the first position won an order: A/B names the reference,
		 * B/A the shadow */
		biased += !strcmp(str(pw, "ab"), "reference") || !strcmp(str(pw, "ba"), "shadow");
		cr_expect_str_eq(str(pw, "outcome"), "tie", "%s", str(pw, "detail"));
	}
	cJSON_Delete(a);
	cr_expect_eq(compared, N_STATS);
	cr_expect_gt(biased, 0, "the judge showed its bias in some order");
	char row[200], f[40];
	overall_row("out", "p/cand", row, sizeof(row));
	cr_expect_str_eq(field(row, 0, f, sizeof(f)), "0", "wins: %s", row);
	cr_expect_str_eq(field(row, 1, f, sizeof(f)), "0", "losses: %s", row);
	cr_expect_lt(atof(field(row, 10, f, sizeof(f))), 1, "position consistency: %s", row);
	buf_free(&log);
}

Test(pairwise_e2e, replay_needs_no_server_and_gives_the_same_pairwise_csv, .fini = teardown,
     .timeout = 300)
{
	start_sim(
	    MODEL("p/main", "0.5") "," MODEL("p/cand", "0.5") "," JUDGE("j/judge", "0.8", "0.2"),
	    N_SMALL * 3, "{\"model\": \"p/cand\", \"endpoint\": \"sim\"}", "j/judge", "sim", NULL);
	struct buf log = {0};
	cr_assert_eq(run("fill", "--cache use --cache-dir cache", &log), 0, "%s", log.data);
	simproc_stop(&sim); /* no server from here on */
	buf_reset(&log);
	cr_assert_eq(run("replay", "--cache replay --cache-dir cache", &log), 0, "%s", log.data);
	buf_reset(&log);
	cr_expect_eq(
	    test_sh(&log, "cd '%s' && cmp fill/pairwise.csv replay/pairwise.csv 2>&1", dir), 0,
	    "%s", log.data);
	/* and the judge's spend and requests are the same figures */
	buf_reset(&log);
	cr_expect_eq(
	    test_sh(&log,
		    "cd '%s' && grep ',judge$' fill/models.csv | cut -d, -f1,2,7,24 >a && "
		    "grep ',judge$' replay/models.csv | cut -d, -f1,2,7,24 >b && test -s a "
		    "&& cmp a b 2>&1",
		    dir),
	    0, "%s", log.data);
	buf_free(&log);
}

/* The graded models are free: only the judge's pairwise requests spend,
 * so a budget stop proves they count (with no pricing file, nothing is
 * estimated ahead: the run stops once the spend has passed the budget), and
 * the manifest's spend is their sum over the lines. */
Test(pairwise_e2e, max_cost_counts_pairwise_spend, .fini = teardown, .timeout = 300)
{
	start_sim(
	    MODEL("p/main", "0.5") "," MODEL("p/cand", "0.5") "," JUDGE("j/judge", "0.8", "0"),
	    N_STATS, "{\"model\": \"p/cand\", \"endpoint\": \"sim\"}", "j/judge", "sim", NULL);
	struct buf log = {0};
	cr_assert_neq(run("out", "--concurrency 1 --max-cost 0.003", &log), 0, "%s", log.data);
	cr_expect_not_null(strstr(log.data, "stopped by --max-cost"), "%s", log.data);
	cJSON *a = read_lines("out");
	int n = cJSON_GetArraySize(a);
	cr_expect_lt(n, 2 * N_STATS, "the budget stopped the run");
	double spent = 0, graded = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		graded += num(l, "cost_usd");
		if (isfinite(num(l, "judge_cost_usd")))
			spent += num(l, "judge_cost_usd");
	}
	cJSON_Delete(a);
	cr_expect_float_eq(graded, 0, 1e-12, "p/* are free");
	char p[700];
	snprintf(p, sizeof(p), "%s/out/manifest.json", dir);
	char *m = test_read_file(p, NULL);
	cr_assert(m);
	cJSON *mj = cJSON_Parse(m);
	cr_assert(mj);
	double got = num(cJSON_GetObjectItem(mj, "counts"), "spent_usd");
	cr_expect_geq(got, 0.003, "the judge's spend reached the budget: %s", m);
	cr_expect_float_eq(got, spent, 1e-9, "spent is the lines' judge spend: %s", m);
	cJSON_Delete(mj);
	free(m);
	buf_free(&log);
}

/* The scripted judge's eval: shadowsim's p/main and p/cand answer, the
 * judge on its own endpoint. */
static void start_scripted(struct jsrv *js, struct rawsrv *jg)
{
	start_sim(MODEL("p/main", "1") "," MODEL("p/cand", "0"), N_SMALL,
		  "{\"model\": \"p/cand\", \"endpoint\": \"sim\"}", "j/judge", "jg",
		  "http://127.0.0.1:1/v1");
	snprintf(js->log, sizeof(js->log), "%s/judge.log", dir);
	if (js->hold) {
		/* before the server starts: it has its own copy of js */
		snprintf(js->hold_file, sizeof(js->hold_file), "%s/hold", dir);
		test_write_file(js->hold_file, "");
	}
	cr_assert_eq(rawsrv_start(jg, judge_fn, js, 120), 0);
	write_eval("{\"model\": \"p/cand\", \"endpoint\": \"sim\"}", "j/judge", "jg", jg->base_url);
}

/* Checks the folder after a resume: each item has one line per model, the
 * shadow's compared (before its reference), and the judge answered two
 * requests per item in all. */
static void expect_whole(void)
{
	cr_expect_eq(lines_of("judge.log"), 2 * N_SMALL, "no pairwise request sent twice");
	cJSON *a = read_lines("out");
	cr_expect_eq(cJSON_GetArraySize(a), 2 * N_SMALL, "one line per (item, model)");
	for (int i = 1; i <= N_SMALL; i++) {
		char id[16];
		snprintf(id, sizeof(id), "i%d", i);
		int shadow = -1, primary = -1, k = 0, seen = 0;
		const cJSON *l;
		cJSON_ArrayForEach(l, a)
		{
			if (!strcmp(str(l, "item_id"), id)) {
				seen++;
				if (!strcmp(str(l, "role"), "shadow")) {
					shadow = k;
					const cJSON *pw = cJSON_GetObjectItem(l, "pairwise");
					cr_expect(pw && !strcmp(str(pw, "outcome"), "tie"),
						  "item %s compared", id);
				} else {
					primary = k;
				}
			}
			k++;
		}
		cr_expect_eq(seen, 2, "item %s", id);
		cr_expect_lt(shadow, primary, "item %s: the reference line last", id);
	}
	cJSON_Delete(a);
}

/* Runs items one at a time while the judge holds item 3's first pairwise
 * request, sends sig once it has arrived, then resumes with the judge
 * answering. Returns the first run's exit status. */
static int kill_in_pairwise_then_resume(int sig)
{
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	struct jsrv js = {.notify_fd = pfd[1], .hold = "question-3:", .reply = "Verdict: B"};
	struct rawsrv jg;
	start_scripted(&js, &jg);
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
	cr_assert_eq(read(pfd[0], &c, 1), 1, "item 3's pairwise request arrives");
	kill(pid, sig);
	int st;
	waitpid(pid, &st, 0);
	cr_expect_eq(lines_of("judge.log"), 4, "items 1 and 2 were compared before the kill");
	cr_expect_eq(lines_of("out/results.jsonl"), 4, "items 1 and 2, whole");
	unlink(js.hold_file);
	struct buf log = {0};
	cr_assert_eq(run("out", "--resume --concurrency 1 --cache use --cache-dir cache", &log), 0,
		     "%s", log.data);
	rawsrv_stop(&jg);
	expect_whole();
	buf_free(&log);
	close(pfd[0]);
	close(pfd[1]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(pairwise_e2e, resume_after_sigkill_in_pairwise_judging_loses_and_repeats_nothing,
     .fini = teardown, .timeout = 300)
{
	cr_expect_eq(kill_in_pairwise_then_resume(SIGKILL), 128 + SIGKILL);
}

Test(pairwise_e2e, sigint_in_pairwise_judging_keeps_what_is_compared_and_resumes, .fini = teardown,
     .timeout = 300)
{
	cr_expect_eq(kill_in_pairwise_then_resume(SIGINT), 130);
}

Test(pairwise_e2e, an_unparsable_verdict_is_an_error_never_a_tie, .fini = teardown, .timeout = 300)
{
	struct jsrv js = {.notify_fd = -1, .reply = "Both answers look fine to me."};
	struct rawsrv jg;
	start_scripted(&js, &jg);
	struct buf log = {0};
	cr_assert_eq(run("out", "", &log), 0, "%s", log.data);
	rawsrv_stop(&jg);
	cJSON *a = read_lines("out");
	int shadows = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		const cJSON *pw = cJSON_GetObjectItem(l, "pairwise");
		if (strcmp(str(l, "role"), "shadow") != 0)
			continue;
		shadows++;
		cr_assert(pw);
		cr_expect_str_eq(str(pw, "ab"), "error");
		cr_expect_str_eq(str(pw, "ba"), "error");
		cr_expect_str_eq(str(pw, "outcome"), "error");
		const char *d = str(pw, "detail");
		cr_expect_not_null(strstr(d, "no match for pattern"), "%s", d);
		cr_expect_not_null(strstr(d, "Both answers look fine"), "%s", d);
	}
	cJSON_Delete(a);
	cr_expect_eq(shadows, N_SMALL);
	char row[200], f[40];
	overall_row("out", "p/cand", row, sizeof(row));
	cr_expect_str_eq(field(row, 3, f, sizeof(f)), "4", "errors: %s", row);
	cr_expect_str_eq(field(row, 2, f, sizeof(f)), "0", "ties: %s", row);
	buf_free(&log);
}

/* make demo's second part: evals/judge.json against the demo's shadowsim,
 * its pairwise table printed, its pairwise.csv comparing the shadow on the
 * summarize and draft items only (the check's tasks). */
Test(pairwise_e2e, the_demo_runs_the_judge_eval_and_prints_its_pairwise_table, .fini = teardown,
     .timeout = 300)
{
	dir = test_mkdtemp("pairwise-demo");
	struct buf log = {0};
	int rc = test_sh(&log, "BIN='%s' DEMO_OUT='%s/demo' bash scripts/demo.sh 2>&1",
			 test_bin_abs(), dir);
	cr_assert_eq(rc, 0, "%s", log.data);
	const char *t = strstr(log.data, "\npairwise: the judge's verdicts");
	cr_assert_not_null(t, "%s", log.data);
	cr_expect_not_null(strstr(t, "\nopenai/gpt-4.1-mini "), "the shadow's row: %s", t);
	buf_reset(&log);
	cr_assert_eq(test_sh(&log, "grep -c '\"task\": \"\\(summarize\\|draft\\)\"' "
				   "datasets/mixed.jsonl"),
		     0);
	int judged_items = atoi(log.data);
	char row[200], f[40];
	overall_row("demo-judge", "openai/gpt-4.1-mini", row, sizeof(row));
	int compared = 0;
	for (int k = 0; k < 4; k++)
		compared += atoi(field(row, k, f, sizeof(f)));
	cr_expect_gt(compared, 0, "%s", row);
	cr_expect_leq(compared, judged_items, "only summarize and draft items: %s", row);
	cr_expect_geq(atoi(field(row, 4, f, sizeof(f))), 120 - judged_items,
		      "the other tasks' items are not compared: %s", row);
	/* a line with both a judge check and a comparison has both: the
	 * reference's judge grade, and the shadow's grade and verdicts */
	cJSON *a = read_lines("demo-judge");
	int both = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		const char *task = str(l, "task");
		if ((strcmp(task, "summarize") && strcmp(task, "draft")) ||
		    strcmp(str(l, "status"), "ok"))
			continue;
		cr_expect_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(l, "checks"), "quality"),
				   "%s %s", str(l, "item_id"), str(l, "model"));
		if (!strcmp(str(l, "role"), "shadow") && cJSON_GetObjectItem(l, "pairwise"))
			both++;
	}
	cJSON_Delete(a);
	cr_expect_eq(both, compared, "every compared shadow line is also graded");
	buf_free(&log);
}

/* dir/eval.json with p/main on a port nobody listens on (every primary
 * fails at once), and, when fb, a fallback p/fb on shadowsim. */
static void write_dead_primary_eval(bool fb)
{
	char text[3000], p[700];
	snprintf(text, sizeof(text),
		 "{\"name\": \"pw\", \"dataset\": {\"path\": \"items.jsonl\"},\n"
		 " \"endpoints\": {\"sim\": {\"base_url\": \"%s\"}, \"dead\": {\"base_url\": "
		 "\"http://127.0.0.1:1/v1\"}},\n"
		 " \"slots\": {\"main\": {\"model\": \"p/main\", \"endpoint\": \"dead\"}},\n"
		 " \"fallbacks\": {\"main\": [%s]},\n"
		 " \"routing\": {\"default\": \"main\"},\n"
		 " \"shadow\": [{\"model\": \"p/cand\", \"endpoint\": \"sim\"}],\n"
		 " \"params\": {\"max_tokens\": 40},\n"
		 " \"checks\": [{\"name\": \"vs_primary\", \"type\": \"pairwise\", \"judge\": "
		 "\"j/true\", \"endpoint\": \"sim\"}],\n"
		 " \"retry\": {\"max_attempts\": 1}, \"timeout_s\": 30}\n",
		 sim.base_url, fb ? "{\"model\": \"p/fb\", \"endpoint\": \"sim\"}" : "");
	snprintf(p, sizeof(p), "%s/eval.json", dir);
	test_write_file(p, text);
}

/* The reference is the fallback line that answered the item (written after
 * the shadow's); with no answer at all, the shadow line is not compared
 * (no pairwise field) and no judge request is made. */
Test(pairwise_e2e, the_reference_is_the_answering_fallback_and_none_means_not_compared,
     .fini = teardown, .timeout = 300)
{
	start_sim(MODEL("p/main", "1") "," MODEL("p/fb", "0") "," MODEL("p/cand", "1") "," JUDGE(
		      "j/true", "1", "0"),
		  N_SMALL, "{\"model\": \"p/cand\", \"endpoint\": \"sim\"}", "j/true", "sim", NULL);
	write_dead_primary_eval(true);
	struct buf log = {0};
	cr_assert_eq(run("fb", "--concurrency 2", &log), 0, "%s", log.data);
	cJSON *a = read_lines("fb");
	cr_assert_eq(cJSON_GetArraySize(a), 3 * N_SMALL, "primary, fallback and shadow lines");
	int k = 0, shadow_at[N_SMALL + 1] = {0}, fb_at[N_SMALL + 1] = {0};
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		int i = atoi(str(l, "item_id") + 1);
		const char *role = str(l, "role");
		if (!strcmp(role, "fallback"))
			fb_at[i] = k;
		if (!strcmp(role, "shadow")) {
			shadow_at[i] = k;
			const cJSON *pw = cJSON_GetObjectItem(l, "pairwise");
			cr_assert(pw, "item %d: compared with the fallback's answer", i);
			cr_expect_str_eq(str(pw, "reference_model"), "p/fb");
			cr_expect_str_eq(str(pw, "outcome"), "win", "p/fb is wrong, p/cand right");
		}
		k++;
	}
	cJSON_Delete(a);
	for (int i = 1; i <= N_SMALL; i++)
		cr_expect_lt(shadow_at[i], fb_at[i], "item %d: the reference line last", i);

	write_dead_primary_eval(false);
	buf_reset(&log);
	cr_assert_eq(run("none", "--concurrency 2", &log), 0, "%s", log.data);
	a = read_lines("none");
	cr_assert_eq(cJSON_GetArraySize(a), 2 * N_SMALL);
	cJSON_ArrayForEach(l, a)
	{
		cr_expect_null(cJSON_GetObjectItem(l, "pairwise"), "%s: no reference answered",
			       str(l, "item_id"));
		cr_expect(isnan(num(l, "judge_cost_usd")), "no judge request");
	}
	cJSON_Delete(a);
	buf_free(&log);
}

/* --repeats 2: each sample of a shadow is compared with the same sample of
 * the reference, whose line follows it. */
Test(pairwise_e2e, each_sample_is_compared_with_its_own_reference_sample, .fini = teardown,
     .timeout = 300)
{
	start_sim(MODEL("p/main", "1") "," MODEL("p/cand", "0") "," JUDGE("j/true", "1", "0"),
		  N_SMALL, "{\"model\": \"p/cand\", \"endpoint\": \"sim\"}", "j/true", "sim", NULL);
	struct buf log = {0};
	cr_assert_eq(run("out", "--concurrency 2 --repeats 2", &log), 0, "%s", log.data);
	cJSON *a = read_lines("out");
	cr_assert_eq(cJSON_GetArraySize(a), 2 * 2 * N_SMALL);
	int shadow_at[N_SMALL + 1][2], ref_at[N_SMALL + 1][2], k = 0;
	memset(shadow_at, -1, sizeof(shadow_at));
	memset(ref_at, -1, sizeof(ref_at));
	const cJSON *l;
	cJSON_ArrayForEach(l, a)
	{
		int i = atoi(str(l, "item_id") + 1), s = (int)num(l, "sample");
		cr_assert(i >= 1 && i <= N_SMALL && (s == 0 || s == 1), "%s", str(l, "item_id"));
		if (!strcmp(str(l, "role"), "shadow")) {
			shadow_at[i][s] = k;
			const cJSON *pw = cJSON_GetObjectItem(l, "pairwise");
			cr_expect(pw && !strcmp(str(pw, "outcome"), "loss"), "item %d sample %d", i,
				  s);
		} else {
			ref_at[i][s] = k;
		}
		k++;
	}
	cJSON_Delete(a);
	for (int i = 1; i <= N_SMALL; i++)
		for (int s = 0; s < 2; s++)
			cr_expect(shadow_at[i][s] >= 0 && shadow_at[i][s] < ref_at[i][s],
				  "item %d sample %d: the reference line last", i, s);
	buf_free(&log);
}
