/* test_stats.c: issue 14's statistics through a real shadowsim:
 * `run --stop-when-decided` and `run --repeats`.
 *
 * Stopping:
 * - error rates: 200 A/A comparisons answered by shadowsim (80% against
 *   80%), each watched item by item with the sequential test the engine
 *   uses (stats/seq.h) and with the fixed-sample McNemar p looked at after
 *   every item: the first keeps its false "better"/"worse" rate under alpha,
 *   the second does not. As the Holm family test in test_run.c does, one run
 *   of 200 tasks stands for 200 runs (one per task): shadowsim draws each
 *   (model, item) independently, so the tasks are independent replicates.
 * - the engine: a real 5-point gap settles early and stops the run, and the
 *   manifest and stopping.csv account for every request not sent; an A/A
 *   run settles "equivalent" within a wide margin and stops.
 * - bad flag combinations are refused with exit 2.
 *
 * Repeated samples:
 * - K = 1 is today's run: a cache filled by a K = 3 run answers a run
 *   with --repeats 1 (sample 0 keeps its cache key), and the K = 3 run's
 *   tables (models, tasks, slots, pairs, swaps) are byte for byte those of
 *   the run that took one sample; only samples.csv is added;
 * - shadowsim draws a new answer per sample at temperature > 0 and the same
 *   one at 0: consistency below 1, and exactly 1;
 * - --resume redoes the missing samples and only them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/buf.h"
#include "stats/seq.h"
#include "stats/stats.h"
#include "../support/files.h"
#include "../support/simproc.h"

static char *tmp;

static const char *tpath(const char *name)
{
	static char paths[64][600];
	static int k;
	char *p = paths[k++ % 64];
	snprintf(p, sizeof(paths[0]), "%s/%s", tmp, name);
	return p;
}

static void setup(void)
{
	tmp = test_mkdtemp("stop");
}

static void teardown(void)
{
	if (tmp)
		test_sh(NULL, "rm -rf '%s'", tmp);
	free(tmp);
	tmp = NULL;
}

/* Profiles: aa/m000 at acc[0] (the primary), aa/m001.. the shadows. */
static const char *profiles(int n, const double *acc)
{
	const char *path = tpath("prof.json");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 14, \"models\": {", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"aa/m%03d\": {\"accuracy\": {\"default\": %g}}", i ? ", " : "", i,
			acc[i]);
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* `tasks` tasks of `per_task` items (ids tTTT-IIII) and an eval with aa/m000
 * as primary and n - 1 shadows, with `params` (a JSON object's text). */
static const char *eval_params(int n, int tasks, int per_task, const char *params)
{
	const char *items = tpath("items.jsonl");
	FILE *f = fopen(items, "w");
	cr_assert_not_null(f);
	for (int t = 0; t < tasks; t++)
		for (int i = 0; i < per_task; i++)
			fprintf(f,
				"{\"id\": \"t%03d-%04d\", \"task\": \"t%03d\", \"prompt\": \"Q %d "
				"of %d\", \"expected\": \"code-%d-%d\"}\n",
				t, i, t, i, t, t, i);
	cr_assert_eq(fclose(f), 0);
	const char *path = tpath("eval.json");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
		"{\"name\": \"stop\", \"dataset\": {\"path\": \"%s\"},"
		" \"endpoints\": {\"sim\": {\"base_url\": \"http://127.0.0.1:9/v1\"}},"
		" \"slots\": {\"only\": \"aa/m000\"}, \"routing\": {\"default\": \"only\"},"
		" \"shadow\": [",
		items);
	for (int i = 1; i < n; i++)
		fprintf(f, "%s\"aa/m%03d\"", i > 1 ? ", " : "", i);
	fprintf(f,
		"], \"checks\": [{\"name\": \"answer\", \"type\": \"exact\"}],"
		" \"params\": %s, \"retry\": {\"max_attempts\": 1}, \"timeout_s\": 30}\n",
		params);
	cr_assert_eq(fclose(f), 0);
	return path;
}

static const char *eval_of(int n, int tasks, int per_task)
{
	return eval_params(n, tasks, per_task, "{\"max_tokens\": 16}");
}

static int run_in(struct buf *out, const char *eval, const struct simproc *sp, const char *dir,
		  const char *flags)
{
	buf_reset(out);
	return test_sh(out, "%s/shadoweval run '%s' -o '%s' --endpoint sim=%s --quiet %s",
		       test_bin_dir(), eval, tpath(dir),
		       sp ? sp->base_url : "http://127.0.0.1:9/v1", flags);
}

static int run(struct buf *out, const char *eval, const struct simproc *sp, const char *flags)
{
	return run_in(out, eval, sp, "r", flags);
}

static cJSON *read_json(const char *path)
{
	char *s = test_read_file(path, NULL);
	cr_assert_not_null(s, "no %s", path);
	cJSON *j = cJSON_Parse(s);
	free(s);
	cr_assert_not_null(j, "%s does not parse", path);
	return j;
}

/* Result lines per model (aa/mNNN -> count[NNN]); every line ok. */
static void count_lines(int n, long *count)
{
	char *all = test_read_file(tpath("r/results.jsonl"), NULL);
	cr_assert_not_null(all);
	memset(count, 0, sizeof(long) * (size_t)n);
	char *save = NULL;
	for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(l);
		cr_assert_not_null(j);
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "model"));
		cr_assert(m && !strncmp(m, "aa/m", 4));
		int k = atoi(m + 4);
		cr_assert(k >= 0 && k < n);
		count[k]++;
		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")), "ok");
		cJSON_Delete(j);
	}
	free(all);
}

/* Every item was either sent to a shadow (a line) or counted as saved. */
static void check_saving(const cJSON *stopping, int n, long items, const long *lines)
{
	const cJSON *cmps = cJSON_GetObjectItem(stopping, "comparisons");
	cr_assert_eq(cJSON_GetArraySize(cmps), n - 1);
	long saved_total = 0;
	for (int k = 1; k < n; k++) {
		const cJSON *c = cJSON_GetArrayItem(cmps, k - 1);
		long saved = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "saved_requests"));
		cr_expect_eq(lines[k] + saved, items, "shadow %d: %ld lines + %ld saved", k,
			     lines[k], saved);
		saved_total += saved;
	}
	long not_run = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(stopping, "items_not_run"));
	cr_expect_eq(lines[0] + not_run, items, "primary: %ld lines + %ld not run", lines[0],
		     not_run);
	cr_expect_eq((long)cJSON_GetNumberValue(cJSON_GetObjectItem(stopping, "saved_requests")),
		     saved_total + not_run);
}

TestSuite(stop, .init = setup, .fini = teardown);

Test(stop, sequential_test_keeps_alpha_under_monitoring_where_peeking_does_not, .timeout = 600)
{
	enum { RUNS = 200, ITEMS = 200 };
	double acc[2] = {0.80, 0.80};
	const char *eval = eval_of(2, RUNS, ITEMS);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, profiles(2, acc), eval, NULL), 0, "%s", sp.error);
	struct buf out;
	buf_init(&out);
	cr_assert_eq(run(&out, eval, &sp, "--concurrency 64"), 0, "%s", out.data);
	simproc_stop(&sp);

	/* pass[task][item][model], in item order (any order that does not
	 * depend on the outcomes is valid; this one repeats) */
	signed char(*pass)[ITEMS][2] = calloc(RUNS, sizeof(*pass));
	memset(pass, -1, RUNS * sizeof(*pass));
	char *all = test_read_file(tpath("r/results.jsonl"), NULL);
	cr_assert_not_null(all);
	char *save = NULL;
	for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(l);
		cr_assert_not_null(j);
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(j, "item_id"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "model"));
		int t = atoi(id + 1), i = atoi(id + 5), k = atoi(m + 4);
		cr_assert(t >= 0 && t < RUNS && i >= 0 && i < ITEMS && (k == 0 || k == 1), "%s", l);
		pass[t][i][k] = cJSON_IsTrue(cJSON_GetObjectItem(j, "pass"));
		cJSON_Delete(j);
	}
	free(all);

	struct stats_seq_opts o = {.alpha = 0.05, .min_items = 20, .margin = 0};
	int seq_false = 0, peek_false = 0;
	for (int t = 0; t < RUNS; t++) {
		struct stats_seq s;
		stats_seq_init(&s);
		long b = 0, c = 0;
		bool peeked = false;
		for (int i = 0; i < ITEMS; i++) {
			cr_assert(pass[t][i][0] >= 0 && pass[t][i][1] >= 0, "t%03d-%04d missing", t,
				  i);
			bool pa = pass[t][i][0], pb = pass[t][i][1];
			stats_seq_add(&s, &o, pa, pb);
			b += pb && !pa;
			c += pa && !pb;
			if (i + 1 >= o.min_items && stats_mcnemar_exact(b, c) < o.alpha)
				peeked = true;
		}
		seq_false += s.state == STATS_SEQ_BETTER || s.state == STATS_SEQ_WORSE;
		peek_false += peeked;
	}
	free(pass);
	buf_free(&out);
	fprintf(stderr,
		"stopping: %d A/A runs of %d items watched after every item: a false verdict in "
		"%d (%.1f%%) with the sequential test, %d (%.1f%%) peeking at McNemar's p\n",
		RUNS, ITEMS, seq_false, 100.0 * seq_false / RUNS, peek_false,
		100.0 * peek_false / RUNS);
	cr_expect_leq(seq_false, RUNS / 20, "sequential: %d of %d", seq_false, RUNS);
	cr_expect_geq(peek_false, RUNS / 10, "peeking: %d of %d", peek_false, RUNS);
}

/* Ten shadows at 85% against a primary at 80%, 2,000 items: each
 * comparison settles "better" long before the end on average, the run
 * stops, and every request not sent is accounted for. */
Test(stop, a_five_point_gap_settles_early_and_the_run_stops, .timeout = 300)
{
	enum { N = 11, ITEMS = 2000 };
	double acc[N];
	acc[0] = 0.80;
	for (int i = 1; i < N; i++)
		acc[i] = 0.85;
	const char *eval = eval_of(N, 1, ITEMS);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, profiles(N, acc), eval, NULL), 0, "%s", sp.error);
	struct buf out;
	buf_init(&out);
	cr_assert_eq(run(&out, eval, &sp, "--concurrency 64 --stop-when-decided"), 0, "%s",
		     out.data);
	simproc_stop(&sp);

	cJSON *man = read_json(tpath("r/manifest.json"));
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(man, "status")),
			 "stopped_when_decided");
	const cJSON *stopping = cJSON_GetObjectItem(man, "stopping");
	cr_assert_not_null(stopping);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(stopping, "stopped_run")));
	const cJSON *cmps = cJSON_GetObjectItem(stopping, "comparisons");
	int better = 0, worse = 0;
	double sum_at = 0;
	for (int k = 0; k < N - 1; k++) {
		const cJSON *c = cJSON_GetArrayItem(cmps, k);
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(c, "verdict"));
		better += !strcmp(v, "better");
		worse += !strcmp(v, "worse");
		const cJSON *at = cJSON_GetObjectItem(c, "settled_at_items");
		cr_expect(cJSON_IsNumber(at) && at->valuedouble >= 50,
			  "settled before --min-items");
		sum_at += cJSON_IsNumber(at) ? at->valuedouble : ITEMS;
		cr_expect_not_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(c, "reason")),
					  "likelihood ratio"));
	}
	fprintf(stderr,
		"stopping: a 5-point gap (80%% vs 85%%) settled on average at %.0f of %d items; "
		"%d of %d better\n",
		sum_at / (N - 1), ITEMS, better, N - 1);
	cr_expect_eq(worse, 0);
	cr_expect_eq(better, N - 1, "%d of %d settled better", better, N - 1);
	cr_expect_lt(sum_at / (N - 1), ITEMS / 2.0);

	long lines[N];
	count_lines(N, lines);
	check_saving(stopping, N, ITEMS, lines);
	cJSON_Delete(man);

	/* stopping.csv: a header and one row per shadow, as the manifest says */
	char *csv = test_read_file(tpath("r/stopping.csv"), NULL);
	cr_assert_not_null(csv);
	cr_expect(!strncmp(csv, "shadow,verdict,settled_at_items,", 32), "%.60s", csv);
	int rows = 0;
	for (char *p = csv; (p = strchr(p, '\n')); p++)
		rows++;
	cr_expect_eq(rows, N);
	free(csv);
	buf_free(&out);
}

/* A/A with a 10-point margin: both comparisons settle "equivalent", none
 * "better" or "worse", and the run stops before its 3,000 items. */
Test(stop, equal_models_settle_equivalent_within_a_wide_margin, .timeout = 300)
{
	enum { N = 3, ITEMS = 3000 };
	double acc[N] = {0.8, 0.8, 0.8};
	const char *eval = eval_of(N, 1, ITEMS);
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, profiles(N, acc), eval, NULL), 0, "%s", sp.error);
	struct buf out;
	buf_init(&out);
	cr_assert_eq(run(&out, eval, &sp,
			 "--concurrency 16 --stop-when-decided --margin 10 --min-items 100"),
		     0, "%s", out.data);
	simproc_stop(&sp);
	cJSON *man = read_json(tpath("r/manifest.json"));
	const cJSON *stopping = cJSON_GetObjectItem(man, "stopping");
	cr_assert_not_null(stopping);
	cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(stopping, "margin")), 0.1);
	cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(stopping, "min_items")), 100);
	const cJSON *cmps = cJSON_GetObjectItem(stopping, "comparisons");
	for (int k = 0; k < N - 1; k++) {
		const cJSON *c = cJSON_GetArrayItem(cmps, k);
		cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(c, "verdict")),
				 "equivalent");
	}
	cr_expect_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(stopping, "items_not_run")), 0);
	long lines[N];
	count_lines(N, lines);
	check_saving(stopping, N, ITEMS, lines);
	cJSON_Delete(man);
	buf_free(&out);
}

Test(stop, bad_flag_combinations_are_usage_errors, .timeout = 60)
{
	double acc[2] = {0.8, 0.8};
	(void)profiles(2, acc);
	const char *eval = eval_of(2, 1, 3);
	struct buf out;
	buf_init(&out);
	cr_expect_eq(run(&out, eval, NULL, "--min-items 10"), 2);
	cr_expect_not_null(strstr(out.data, "only apply with --stop-when-decided"), "%s", out.data);
	cr_expect_eq(run(&out, eval, NULL, "--stop-when-decided --margin 0"), 2);
	cr_expect_not_null(strstr(out.data, "--margin"), "%s", out.data);
	cr_expect_eq(run(&out, eval, NULL, "--stop-when-decided --resume"), 2);
	cr_expect_not_null(strstr(out.data, "--resume"), "%s", out.data);
	cr_expect_eq(run(&out, eval, NULL, "--stop-when-decided --min-items 0"), 2);
	buf_free(&out);
}

/* ---- repeated samples ---------------------------------------------------- */

static bool same_file(const char *a, const char *b)
{
	size_t na, nb;
	char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
	bool same = x && y && na == nb && !memcmp(x, y, na);
	free(x);
	free(y);
	return same;
}

/* Per (item, model): a bit per sample index seen; no (item, model, sample)
 * twice. Returns the number of lines. */
static size_t sample_bits(const char *results, unsigned *bits, int items, int models)
{
	char *all = test_read_file(results, NULL);
	cr_assert_not_null(all);
	memset(bits, 0, sizeof(unsigned) * (size_t)items * (size_t)models);
	size_t lines = 0;
	char *save = NULL;
	for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(l);
		cr_assert_not_null(j);
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(j, "item_id"));
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "model"));
		const cJSON *s = cJSON_GetObjectItem(j, "sample");
		cr_assert(cJSON_IsNumber(s), "a --repeats line without its sample: %s", l);
		int i = atoi(id + 5), k = atoi(m + 4), smp = (int)s->valuedouble;
		cr_assert(i < items && k < models && smp < 32);
		unsigned *b = &bits[i * models + k];
		cr_assert(!(*b & (1u << smp)), "%s sample %d twice", id, smp);
		*b |= 1u << smp;
		cJSON_Delete(j);
		lines++;
	}
	free(all);
	return lines;
}

Test(stop, one_sample_is_todays_run_and_repeats_add_only_samples_csv, .timeout = 300)
{
	enum { ITEMS = 60 };
	double acc[2] = {0.7, 0.8};
	const char *eval =
	    eval_params(2, 1, ITEMS, "{\"max_tokens\": 16, \"temperature\": 0.8, \"n\": 3}");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, profiles(2, acc), eval, NULL), 0, "%s", sp.error);
	struct buf out;
	buf_init(&out);
	char flags[700];
	/* K = 3 from the config's params.n, filling the cache */
	snprintf(flags, sizeof(flags), "--cache use --cache-dir '%s'", tpath("cache"));
	cr_assert_eq(run_in(&out, eval, &sp, "k3", flags), 0, "%s", out.data);
	unsigned bits[ITEMS * 2];
	cr_expect_eq(sample_bits(tpath("k3/results.jsonl"), bits, ITEMS, 2), (size_t)ITEMS * 2 * 3);
	for (int i = 0; i < ITEMS * 2; i++)
		cr_expect_eq(bits[i], 7u, "item %d model %d: samples %#x", i / 2, i % 2, bits[i]);

	/* one sample, replayed (the URL is part of the key; replay sends
	 * nothing): every request must hit the K = 3 run's sample 0 */
	snprintf(flags, sizeof(flags), "--repeats 1 --cache replay --cache-dir '%s'",
		 tpath("cache"));
	cr_assert_eq(run_in(&out, eval, &sp, "k1", flags), 0, "%s", out.data);
	char *k1 = test_read_file(tpath("k1/results.jsonl"), NULL);
	cr_assert_not_null(k1);
	cr_expect_null(strstr(k1, "\"sample\""), "a K = 1 line names its sample");
	free(k1);
	cr_expect_neq(access(tpath("k1/samples.csv"), F_OK), 0);
	/* the K = 3 run replayed too, so that latencies match (cache hits) */
	snprintf(flags, sizeof(flags), "--cache replay --cache-dir '%s'", tpath("cache"));
	cr_assert_eq(run_in(&out, eval, &sp, "k3r", flags), 0, "%s", out.data);
	simproc_stop(&sp);
	static const char *const tables[] = {"models.csv", "tasks.csv", "slots.csv", "pairs.csv",
					     "swaps.csv"};
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		char a[64], b[64];
		snprintf(a, sizeof(a), "k1/%s", tables[t]);
		snprintf(b, sizeof(b), "k3r/%s", tables[t]);
		cr_expect(same_file(tpath(a), tpath(b)), "%s differs between K = 1 and K = 3",
			  tables[t]);
	}
	char *smp = test_read_file(tpath("k3r/samples.csv"), NULL);
	cr_assert_not_null(smp);
	cr_expect_not_null(strstr(smp, "\nmodel,aa/m000,60,180,3,"), "%s", smp);
	cr_expect_not_null(strstr(smp, "\npair,aa/m001,60,"), "%s", smp);
	free(smp);
	buf_free(&out);
}

/* consistency from samples.csv's row for model aa/m00k */
static double consistency(const char *dir, int k)
{
	char path[64], want[32];
	snprintf(path, sizeof(path), "%s/samples.csv", dir);
	snprintf(want, sizeof(want), "\nmodel,aa/m%03d,", k);
	char *csv = test_read_file(tpath(path), NULL);
	cr_assert_not_null(csv);
	char *row = strstr(csv, want);
	cr_assert_not_null(row, "%s", csv);
	char *c = row + 1;
	for (int i = 0; i < 10; i++) /* the 11th cell */
		c = strchr(c, ',') + 1;
	double v = strtod(c, NULL);
	free(csv);
	return v;
}

Test(stop, samples_differ_at_temperature_and_agree_at_zero, .timeout = 300)
{
	enum { ITEMS = 80 };
	double acc[2] = {0.6, 0.6};
	struct buf out;
	buf_init(&out);
	const char *eval = eval_params(2, 1, ITEMS, "{\"max_tokens\": 16, \"temperature\": 0}");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, profiles(2, acc), eval, NULL), 0, "%s", sp.error);
	cr_assert_eq(run_in(&out, eval, &sp, "t0", "--repeats 4"), 0, "%s", out.data);
	simproc_stop(&sp);
	cr_expect_eq(consistency("t0", 0), 1.0);
	cr_expect_eq(consistency("t0", 1), 1.0);

	eval = eval_params(2, 1, ITEMS, "{\"max_tokens\": 16, \"temperature\": 1}");
	cr_assert_eq(simproc_start(&sp, profiles(2, acc), eval, NULL), 0, "%s", sp.error);
	cr_assert_eq(run_in(&out, eval, &sp, "t1", "--repeats 4"), 0, "%s", out.data);
	simproc_stop(&sp);
	/* independent draws at 60%: all four agree with chance 0.6^4 + 0.4^4 */
	double c0 = consistency("t1", 0), c1 = consistency("t1", 1);
	cr_expect(c0 < 0.5 && c1 < 0.5, "consistency %g %g at temperature 1", c0, c1);
	buf_free(&out);
}

Test(stop, resume_redoes_only_the_missing_samples, .timeout = 300)
{
	enum { ITEMS = 40, K = 3 };
	double acc[2] = {0.7, 0.7};
	const char *eval = eval_params(2, 1, ITEMS, "{\"max_tokens\": 16, \"temperature\": 1}");
	struct simproc sp;
	cr_assert_eq(simproc_start(&sp, profiles(2, acc), eval, NULL), 0, "%s", sp.error);
	struct buf out;
	buf_init(&out);
	cr_assert_eq(run(&out, eval, &sp, "--repeats 3"), 0, "%s", out.data);
	/* keep the first 100 of 240 lines, as a killed run would */
	const char *rp = tpath("r/results.jsonl");
	cr_assert_eq(
	    test_sh(NULL, "head -n 100 '%s' > '%s.cut' && mv '%s.cut' '%s'", rp, rp, rp, rp), 0);
	cr_assert_eq(run(&out, eval, &sp, "--repeats 3 --resume"), 0, "%s", out.data);
	simproc_stop(&sp);
	unsigned bits[ITEMS * 2];
	cr_expect_eq(sample_bits(rp, bits, ITEMS, 2), (size_t)ITEMS * 2 * K);
	for (int i = 0; i < ITEMS * 2; i++)
		cr_expect_eq(bits[i], 7u, "item %d model %d: samples %#x", i / 2, i % 2, bits[i]);
	buf_free(&out);
}
