/* test_shard.c: shards end to end (issue 15): the real shadoweval binary run
 * as N shard processes against one shadowsim on 127.0.0.1, then merged.
 *
 * - 4 shards run in parallel and merged summarize exactly as one unsharded
 *   run. Latency is measured, so it is the one field of a result line that
 *   cannot repeat between two runs: it is pinned (latency_ms 100, ttft_ms
 *   null) in both folders before they are summarized and compared byte for
 *   byte. Every other field (status, output, pass, tokens, cost) is compared
 *   as the runs wrote it.
 * - hash shards follow the item id: inserting and appending items moves
 *   none of the others.
 * - --shard-limits split gives a shard 1/N of the endpoint's rpm and
 *   max_concurrency (manifest, and a run that must wait for its tokens).
 * - --resume refuses another --shard-by; merge refuses mixed schemes and
 *   overlapping shards, and lists the dataset items in no shard by id.
 *
 * Datasets are written per test (40 items, all four hash shards non-empty);
 * shadowsim answers at once. No test sleeps in place of an event.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "../support/files.h"
#include "../support/simproc.h"
#include "core/buf.h"

#define N_ITEMS 40

static char *dir;

static void setup(void)
{
	dir = test_mkdtemp("e2e-shard");
}

static void teardown(void)
{
	test_sh(NULL, "rm -rf '%s'", dir);
	free(dir);
	dir = NULL;
}

TestSuite(shard, .init = setup, .fini = teardown, .timeout = 120);

static const char *tp(const char *name)
{
	static char bufs[64][512]; /* a test holds fewer paths than this at once */
	static int k;
	char *p = bufs[k++ % 64];
	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

/* Items q01..q40 (ids given by first..last), "hard" every fourth. */
static void write_items(const char *path, int first, int last, const char *extra_first)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	if (extra_first)
		fprintf(f, "%s\n", extra_first);
	for (int i = first; i <= last; i++)
		fprintf(f,
			"{\"id\": \"q%02d\", \"task\": \"%s\", \"prompt\": \"What is %d plus %d? "
			"Reply with the number only.\", \"expected\": \"%d\"}\n",
			i, i % 4 ? "easy" : "hard", i, i + 3, 2 * i + 3);
	cr_assert_eq(fclose(f), 0);
}

/* An eval over dataset with this endpoint limit JSON ("" for none). */
static const char *write_eval(const char *file, const char *dataset, const char *limits)
{
	char *text = NULL;
	cr_assert(
	    asprintf(&text,
		     "{\"name\": \"e2e-shard\",\n"
		     " \"dataset\": {\"path\": \"%s\"},\n"
		     " \"endpoints\": {\"sim\": {\"base_url\": \"http://127.0.0.1:9/v1\"%s}},\n"
		     " \"slots\": {\"fast\": \"sim/fast\", \"deep\": \"sim/deep\"},\n"
		     " \"routing\": {\"rules\": [{\"task\": \"hard\", \"slot\": \"deep\"}], "
		     "\"default\": \"fast\"},\n"
		     " \"shadow\": [\"sim/cand\"],\n"
		     " \"checks\": [{\"name\": \"answer\", \"type\": \"exact\", \"normalize\": "
		     "[\"trim\"]}],\n"
		     " \"params\": {\"temperature\": 0, \"max_tokens\": 32},\n"
		     " \"retry\": {\"max_attempts\": 2, \"base_ms\": 10, \"max_ms\": 50},\n"
		     " \"timeout_s\": 10}\n",
		     dataset, limits) > 0);
	const char *path = tp(file);
	test_write_file(path, text);
	free(text);
	return path;
}

/* shadowsim knowing eval's items: instant answers, the candidate right 70%
 * of the time (so passes, pairs and swaps all have something to say). */
static void sim_up(struct simproc *sp, const char *eval)
{
	const char *prof = tp("profiles.json");
	test_write_file(prof, "{\"seed\": 7, \"models\": {"
			      "\"sim/fast\": {\"pricing\": {\"prompt\": 0.000001, \"completion\": "
			      "0.000002}, \"accuracy\": {\"default\": 0.9}},"
			      "\"sim/deep\": {\"pricing\": {\"prompt\": 0.00001, \"completion\": "
			      "0.00002}, \"accuracy\": {\"default\": 1.0}},"
			      "\"sim/cand\": {\"pricing\": {\"prompt\": 0.000002, \"completion\": "
			      "0.000004}, \"accuracy\": {\"default\": 0.7}}}}\n");
	cr_assert_eq(simproc_start(sp, prof, eval, NULL), 0, "shadowsim: %s", sp->error);
}

/* The usual start of a test: N_ITEMS items, the eval over them (endpoint
 * fields ep_extra), and a shadowsim serving it. Returns the eval's path. */
static const char *eval_served(struct simproc *sp, const char *ep_extra)
{
	const char *items = tp("items.jsonl");
	write_items(items, 1, N_ITEMS, NULL);
	const char *eval = write_eval("eval.json", items, ep_extra);
	sim_up(sp, eval);
	return eval;
}

/* Runs a shell command; returns its exit status, output in *out (freed by
 * the caller with buf_free). */
static int sh(struct buf *out, const char *cmd)
{
	buf_init(out);
	return test_sh(out, "%s", cmd);
}

/* "SE run EVAL -o DIR --endpoint sim=URL -q" as a shell prefix. */
static char *run_cmd(const char *eval, const struct simproc *sp, const char *out)
{
	char *s = NULL;
	cr_assert(asprintf(&s, "'%s/shadoweval' run '%s' -o '%s' --endpoint 'sim=%s' -q",
			   test_bin_dir(), eval, out, sp->base_url) > 0);
	return s;
}

static void run_ok(const char *eval, const struct simproc *sp, const char *out, const char *flags)
{
	char *cmd = run_cmd(eval, sp, out), *full = NULL;
	cr_assert(asprintf(&full, "%s %s", cmd, flags) > 0);
	struct buf o;
	int rc = sh(&o, full);
	cr_assert_eq(rc, 0, "%s: exit %d: %s", full, rc, o.data);
	buf_free(&o);
	free(cmd);
	free(full);
}

static cJSON *manifest(const char *run)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/manifest.json", run);
	char *s = test_read_file(path, NULL);
	cJSON *m = cJSON_Parse(s);
	free(s);
	cr_assert_not_null(m, "%s is not JSON", path);
	return m;
}

/* The sorted item ids of a run's results, one per line, without `drop`
 * (NULL-terminated ids). */
static char *item_ids(const char *run, const char *const *drop)
{
	char *cmd = NULL;
	cr_assert(asprintf(&cmd,
			   "sed -E 's/^\\{\"item_id\":\"([^\"]*)\".*/\\1/' '%s/results.jsonl' | "
			   "sort -u",
			   run) > 0);
	struct buf o;
	int rc = sh(&o, cmd);
	free(cmd);
	cr_assert_eq(rc, 0);
	struct buf kept;
	buf_init(&kept);
	for (char *line = strtok(o.data, "\n"); line; line = strtok(NULL, "\n")) {
		bool skip = false;
		for (size_t i = 0; drop && drop[i]; i++)
			skip = skip || !strcmp(line, drop[i]);
		if (!skip)
			buf_printf(&kept, "%s\n", line);
	}
	buf_free(&o);
	buf_putc(&kept, '\0');
	return kept.data;
}

static void pin_latency(const char *run)
{
	char *cmd = NULL;
	cr_assert(asprintf(&cmd,
			   "sed -i -E 's/\"latency_ms\":[^,]*,/\"latency_ms\":100,/; "
			   "s/\"ttft_ms\":[^,]*,/\"ttft_ms\":null,/' '%s/results.jsonl' && "
			   "'%s/shadoweval' summarize '%s' >/dev/null",
			   run, test_bin_dir(), run) > 0);
	struct buf o;
	int rc = sh(&o, cmd);
	cr_assert_eq(rc, 0, "%s: %s", cmd, o.data);
	buf_free(&o);
	free(cmd);
}

Test(shard, four_parallel_shards_merge_into_the_summaries_of_one_run)
{
	struct simproc sp;
	const char *eval = eval_served(&sp, "");
	run_ok(eval, &sp, tp("whole"), "");

	/* the four shards at once, against the one server */
	char *cmd = NULL, *par = NULL;
	cr_assert(asprintf(&par,
			   "for k in 1 2 3 4; do '%s/shadoweval' run '%s' -o '%s/s'$k --endpoint "
			   "'sim=%s' -q --shard $k/4 & done; f=0; "
			   "for j in $(jobs -p); do wait $j || f=$((f+1)); done; exit $f",
			   test_bin_dir(), eval, dir, sp.base_url) > 0);
	struct buf o;
	int rc = sh(&o, par);
	cr_assert_eq(rc, 0, "%d shard runs failed: %s", rc, o.data);
	buf_free(&o);
	for (int k = 1; k <= 4; k++) {
		char run[600];
		snprintf(run, sizeof(run), "%s/s%d", dir, k);
		cJSON *m = manifest(run);
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "counts");
		double n = cJSON_GetObjectItemCaseSensitive(c, "items")->valuedouble;
		cr_expect_gt(n, 0, "shard %d/4 got no item: the test proves less", k);
		cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(m, "shard_by")->valuestring,
				 "hash");
		cJSON_Delete(m);
	}
	free(par);
	simproc_stop(&sp);

	cr_assert(asprintf(&cmd,
			   "'%s/shadoweval' merge '%s/s1' '%s/s2' '%s/s3' '%s/s4' -o '%s/m' -q",
			   test_bin_dir(), dir, dir, dir, dir, dir) > 0);
	rc = sh(&o, cmd);
	cr_assert_eq(rc, 0, "merge: %s", o.data);
	cr_expect_eq(o.len, 1, "merge warned: %s", o.data); /* just the NUL */
	buf_free(&o);
	free(cmd);
	cJSON *m = manifest(tp("m"));
	cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(m, "status")->valuestring, "complete");
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(m, "missing_items"));
	cJSON_Delete(m);

	pin_latency(tp("whole"));
	pin_latency(tp("m"));
	rc = test_sh(NULL,
		     "cd '%s' && sort whole/results.jsonl >w.sorted && sort m/results.jsonl "
		     ">m.sorted && cmp w.sorted m.sorted",
		     dir);
	cr_expect_eq(rc, 0, "the merged lines are not those of the unsharded run");
	static const char *const tables[] = {"models.csv", "tasks.csv", "slots.csv", "pairs.csv",
					     "swaps.csv"};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char a[600], b[600];
		snprintf(a, sizeof(a), "%s/whole/%s", dir, tables[i]);
		snprintf(b, sizeof(b), "%s/m/%s", dir, tables[i]);
		size_t la = 0, lb = 0;
		char *x = test_read_file(a, &la), *y = test_read_file(b, &lb);
		cr_expect(la > 0 && la == lb && !memcmp(x, y, la), "%s differs:\n%s\n---\n%s",
			  tables[i], x, y);
		free(x);
		free(y);
	}
}

/* The reason for hashing: a dataset that grows (an item inserted at the
 * top, one appended) keeps every old item in the shard it had. */
Test(shard, inserting_items_moves_no_other_item_between_hash_shards)
{
	const char *a = tp("a.jsonl"), *b = tp("b.jsonl");
	write_items(a, 1, 20, NULL);
	write_items(b, 1, 21,
		    "{\"id\": \"new-top\", \"task\": \"easy\", \"prompt\": \"What is 1 plus 1?\", "
		    "\"expected\": \"2\"}");
	const char *ea = write_eval("ea.json", a, ""), *eb = write_eval("eb.json", b, "");
	struct simproc sp;
	sim_up(&sp, ea);
	for (int k = 1; k <= 3; k++) {
		char flags[32], ra[16], rb[16];
		snprintf(flags, sizeof(flags), "--shard %d/3", k);
		snprintf(ra, sizeof(ra), "a%d", k);
		snprintf(rb, sizeof(rb), "b%d", k);
		run_ok(ea, &sp, tp(ra), flags);
		run_ok(eb, &sp, tp(rb), flags);
		static const char *const added[] = {"new-top", "q21", NULL};
		char *ia = item_ids(tp(ra), NULL), *ib = item_ids(tp(rb), added);
		cr_expect(ia[0], "shard %d/3 of a has no item", k);
		cr_expect_str_eq(ib, ia, "shard %d/3 changed: was\n%snow\n%s", k, ia, ib);
		free(ia);
		free(ib);
	}
	simproc_stop(&sp);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static long limit_of(const cJSON *m, const char *ep, const char *key)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(m, "endpoint_limits");
	const cJSON *v =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, ep), key);
	cr_assert(cJSON_IsNumber(v), "endpoint_limits.%s.%s missing", ep, key);
	return (long)v->valuedouble;
}

/* rpm 1200 is 20 tokens at once: 10 requests would not wait. Split over 4
 * shards it is 300 rpm, 5 tokens then one every 200 ms: the 10 requests of
 * shard 1's first 5 items cannot all be sent before 1 s (a lower bound the
 * token bucket sets, whatever the machine's load). */
Test(shard, split_limits_give_each_shard_its_share_of_rpm_and_concurrency)
{
	struct simproc sp;
	const char *eval = eval_served(&sp, ", \"rpm\": 1200, \"max_concurrency\": 10");
	double t0 = now_s();
	run_ok(eval, &sp, tp("split"), "--shard 1/4 --shard-by index --limit 5");
	double secs = now_s() - t0;
	cr_expect_geq(secs, 0.95, "10 requests at 300 rpm took %.2f s", secs);
	cJSON *m = manifest(tp("split"));
	cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(m, "shard_limits")->valuestring, "split");
	cr_expect_eq(limit_of(m, "sim", "rpm"), 300);
	cr_expect_eq(limit_of(m, "sim", "max_concurrency"), 2); /* 10 / 4 rounded down */
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "counts");
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(c, "requests")->valuedouble, 10);
	cJSON_Delete(m);

	run_ok(eval, &sp, tp("whole"), "--shard 1/4 --shard-limits whole --limit 5");
	m = manifest(tp("whole"));
	cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(m, "shard_limits")->valuestring, "whole");
	cr_expect_eq(limit_of(m, "sim", "rpm"), 1200);
	cr_expect_eq(limit_of(m, "sim", "max_concurrency"), 10);
	cJSON_Delete(m);
	simproc_stop(&sp);
}

static int run_status(const char *eval, const struct simproc *sp, const char *out,
		      const char *flags, struct buf *o)
{
	char *cmd = run_cmd(eval, sp, out), *full = NULL;
	cr_assert(asprintf(&full, "%s %s", cmd, flags) > 0);
	int rc = sh(o, full);
	free(cmd);
	free(full);
	return rc;
}

Test(shard, resume_refuses_another_scheme_and_reads_an_old_manifest_as_index)
{
	struct simproc sp;
	const char *eval = eval_served(&sp, "");
	run_ok(eval, &sp, tp("r"), "--shard 1/2 --limit 2");
	struct buf o;
	int rc =
	    run_status(eval, &sp, tp("r"), "--resume --shard 1/2 --shard-by index --limit 2", &o);
	cr_expect_eq(rc, 2, "%s", o.data);
	cr_expect(strstr(o.data, "--shard-by hash") && strstr(o.data, "--shard-by index"), "%s",
		  o.data);
	buf_free(&o);
	rc = run_status(eval, &sp, tp("r"), "--resume --shard 1/2 --limit 2", &o);
	cr_expect_eq(rc, 0, "the same scheme resumes: %s", o.data);
	buf_free(&o);

	/* a manifest written before shard_by existed was an index run */
	char *cmd = NULL;
	cr_assert(asprintf(&cmd, "sed -i '/\"shard_by\"/d' '%s/r/manifest.json'", dir) > 0);
	cr_assert_eq(sh(&o, cmd), 0);
	buf_free(&o);
	free(cmd);
	rc = run_status(eval, &sp, tp("r"), "--resume --shard 1/2 --limit 2", &o);
	cr_expect_eq(rc, 2, "%s", o.data);
	cr_expect(strstr(o.data, "used --shard-by index"), "%s", o.data);
	buf_free(&o);
	rc = run_status(eval, &sp, tp("r"), "--shard-by modulo", &o);
	cr_expect_eq(rc, 2, "%s", o.data);
	cr_expect(strstr(o.data, "--shard-by") && strstr(o.data, "modulo"), "%s", o.data);
	buf_free(&o);
	simproc_stop(&sp);
}

static int merge(const char *args, struct buf *o)
{
	char *cmd = NULL;
	char bin[PATH_MAX];
	cr_assert_not_null(realpath(test_bin_dir(), bin));
	cr_assert(asprintf(&cmd, "cd '%s' && '%s/shadoweval' merge %s -q", dir, bin, args) > 0);
	int rc = sh(o, cmd);
	free(cmd);
	return rc;
}

Test(shard, merge_refuses_mixed_schemes_and_shared_items_and_lists_missing_items)
{
	struct simproc sp;
	const char *eval = eval_served(&sp, "");
	run_ok(eval, &sp, tp("h1"), "--shard 1/2");
	run_ok(eval, &sp, tp("h2"), "--shard 2/2");
	run_ok(eval, &sp, tp("i2"), "--shard 2/2 --shard-by index");
	simproc_stop(&sp);

	struct buf o;
	int rc = merge("h1 i2 -o m1", &o);
	cr_expect_eq(rc, 2, "%s", o.data);
	cr_expect(strstr(o.data, "i2: shards by index") && strstr(o.data, "h1\" shards by hash"),
		  "%s", o.data);
	buf_free(&o);

	/* h1's folder relabelled as shard 2/2: every item is in both */
	cr_assert_eq(test_sh(NULL,
			     "cd '%s' && cp -r h1 dup && sed -i 's|\"shard\": \"1/2\"|\"shard\": "
			     "\"2/2\"|' dup/manifest.json",
			     dir),
		     0);
	rc = merge("h1 dup -o m2", &o);
	cr_expect_eq(rc, 2, "%s", o.data);
	cr_expect(strstr(o.data, "dup/results.jsonl:1") && strstr(o.data, "in shard 2/2 and also "
									  "in shard 1/2 (h1/"
									  "results.jsonl:1)"),
		  "%s", o.data);
	buf_free(&o);

	/* shard 2 missing: an error (issue 15) naming the shard and its items,
	 * by id, and nothing is left in OUT; --allow-partial merges what is
	 * there, with the same list as warnings */
	char *want = item_ids(tp("h2"), NULL);
	size_t n_want = 0;
	for (char *p = want; *p; p++)
		n_want += *p == '\n';
	cr_assert_gt(n_want, 0);
	char first[32];
	snprintf(first, sizeof(first), "\"%.*s\"", (int)strcspn(want, "\n"), want);
	char head[128];
	snprintf(head, sizeof(head), "%zu items of the dataset in no shard: %s", n_want, first);
	rc = merge("h1 -o m3", &o);
	cr_expect_eq(rc, 2, "%s", o.data);
	cr_expect(strstr(o.data, "incomplete shard set: 1 missing shard: 2/2") &&
		      strstr(o.data, head) && strstr(o.data, "--allow-partial"),
		  "wanted \"%s\": %s", head, o.data);
	cr_expect_neq(access(tp("m3"), F_OK), 0, "a refused merge left %s", tp("m3"));
	buf_free(&o);
	rc = merge("h1 -o m3 --allow-partial", &o);
	cr_expect_eq(rc, 0, "%s", o.data);
	cr_expect(strstr(o.data, "warning: 1 missing shard: 2/2") && strstr(o.data, head),
		  "wanted \"%s\": %s", head, o.data);
	buf_free(&o);
	cJSON *m = manifest(tp("m3"));
	cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(m, "status")->valuestring, "incomplete");
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(m, "missing_items")->valuedouble, n_want);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "allow_partial")));
	cJSON_Delete(m);
	free(want);

	/* a line for an item the dataset does not have (added by hand): an
	 * error naming its file and line, nothing left in OUT */
	cr_assert_eq(test_sh(NULL,
			     "cd '%s' && cp -r h2 h2x && head -1 h2/results.jsonl | sed "
			     "'s/\"item_id\":\"[^\"]*\"/\"item_id\":\"zz-not-in-dataset\"/' "
			     ">> h2x/results.jsonl",
			     dir),
		     0);
	size_t h2x_lines = 0;
	char *h2x = NULL;
	size_t h2x_len = 0;
	struct se_err rerr;
	cr_assert_eq(fio_read_all(tp("h2x/results.jsonl"), &h2x, &h2x_len, &rerr), 0);
	for (size_t i = 0; i < h2x_len; i++)
		h2x_lines += h2x[i] == '\n';
	free(h2x);
	char at[64];
	snprintf(at, sizeof(at), "h2x/results.jsonl:%zu", h2x_lines);
	rc = merge("h1 h2x -o m5", &o);
	cr_expect_eq(rc, 2, "%s", o.data);
	cr_expect(strstr(o.data, at) && strstr(o.data, "not in the run's dataset"), "wanted %s: %s",
		  at, o.data);
	cr_expect_neq(access(tp("m5"), F_OK), 0, "a refused merge left %s", tp("m5"));
	buf_free(&o);

	/* the dataset edited since: the list is not made up from other items */
	write_items(tp("items.jsonl"), 1, N_ITEMS + 1, NULL);
	rc = merge("h1 h2 -o m4", &o);
	cr_expect_eq(rc, 0, "%s", o.data);
	cr_expect(strstr(o.data, "cannot list the dataset items no shard holds") &&
		      strstr(o.data, "changed since the shards ran"),
		  "%s", o.data);
	buf_free(&o);
}
