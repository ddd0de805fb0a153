/* test_summaries.c: the summaries `run` accumulates while it runs (bounded:
 * latency histograms, no second read of results.jsonl) against `summarize`
 * on the same folder (exact). Counts, rates, verdicts and token sums must
 * be equal; latency percentiles within the histogram's stated 0.5%
 * (differences of percentiles within 0.5% of each side); costs to 1e-9
 * (the two add the same costs in another order). Also after a --resume,
 * whose earlier lines the run must count without reading them again. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "../support/files.h"
#include "../support/simproc.h"

#define FIX "tests/fixtures/run"

static char *write_profiles(const char *dir)
{
	char *path = NULL;
	cr_assert_geq(asprintf(&path, "%s/profiles.json", dir), 0);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	/* different latencies per model, and faults: errors, retries and a
	 * fallback line to count */
	fputs("{\"seed\": 11, \"models\": {"
	      "\"sim/fast\": {\"latency\": {\"ttft_ms\": 4, \"tokens_per_s\": 0}, "
	      "\"accuracy\": {\"default\": 0.8}},"
	      "\"sim/deep\": {\"latency\": {\"ttft_ms\": 9, \"tokens_per_s\": 0}, "
	      "\"accuracy\": {\"default\": 0.9}, \"faults\": {\"http_500\": 0.5}},"
	      "\"sim/cand\": {\"latency\": {\"ttft_ms\": 2, \"tokens_per_s\": 0}, "
	      "\"accuracy\": {\"default\": 0.6}, \"faults\": {\"http_503\": 0.2}},"
	      "\"sim/backup\": {\"latency\": {\"ttft_ms\": 1, \"tokens_per_s\": 0}, "
	      "\"accuracy\": {\"default\": 0.5}}}}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* One CSV file, split into rows of cells (the test's CSVs hold no quotes). */
struct csv {
	char *text;
	char *cell[64][40];
	size_t rows, cols;
};

static void csv_load(struct csv *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->text = test_read_file(path, NULL);
	cr_assert_null(strchr(c->text, '"'), "%s: a quoted cell", path);
	char *line = c->text;
	while (*line && c->rows < 64) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		size_t k = 0;
		char *p = line;
		for (;;) {
			char *comma = strchr(p, ',');
			if (comma)
				*comma = '\0';
			cr_assert_lt(k, 40);
			c->cell[c->rows][k++] = p;
			if (!comma)
				break;
			p = comma + 1;
		}
		if (c->rows == 0)
			c->cols = k;
		cr_assert_eq(k, c->cols, "%s: row %zu has %zu cells", path, c->rows, k);
		c->rows++;
		if (!nl)
			break;
		line = nl + 1;
	}
}

static bool has(const char *name, const char *part)
{
	return strstr(name, part) != NULL;
}

/* The largest latency_ms in a results file: a difference of two
 * percentiles is within 0.5% of each side, so within 1% of this. */
static double max_latency(const char *path)
{
	char *t = test_read_file(path, NULL);
	double max = 0;
	for (char *p = t; (p = strstr(p, "\"latency_ms\":")); p++) {
		double v = strtod(p + 13, NULL);
		if (v > max)
			max = v;
	}
	free(t);
	return max;
}

/* run's CSV (bounded) against summarize's (exact). */
static void compare(const char *run_dir, const char *sum_dir, const char *name, double maxlat)
{
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/%s", run_dir, name);
	snprintf(b, sizeof(b), "%s/%s", sum_dir, name);
	struct csv r, s;
	csv_load(&r, a);
	csv_load(&s, b);
	cr_assert_eq(r.rows, s.rows, "%s: %zu rows, summarize has %zu", name, r.rows, s.rows);
	cr_assert_eq(r.cols, s.cols);
	if (!strcmp(name, "models.csv") || !strcmp(name, "pairs.csv"))
		cr_assert_gt(s.rows, 1, "%s has no rows to compare", name);
	for (size_t i = 1; i < r.rows; i++) {
		for (size_t k = 0; k < r.cols; k++) {
			const char *col = s.cell[0][k], *x = r.cell[i][k], *y = s.cell[i][k];
			if (!strcmp(x, y))
				continue;
			cr_assert(*x && *y, "%s row %zu %s: \"%s\" vs \"%s\"", name, i, col, x, y);
			double vx = strtod(x, NULL), vy = strtod(y, NULL);
			double tol = 0; /* counts, rates, verdicts, tokens: equal */
			if (has(col, "cost"))
				tol = 1e-9 * fmax(1.0, fabs(vy));
			else if (has(col, "delta_latency"))
				tol = 0.01 * maxlat + 0.01;
			else if (has(col, "latency_ms_p") || has(col, "ttft_ms_p"))
				tol = 0.005 * fabs(vy) + 0.005; /* and %.2f */
			cr_assert_leq(fabs(vx - vy), tol,
				      "%s row %zu %s: run %s, summarize %s (tolerance %g)", name, i,
				      col, x, y, tol);
		}
	}
	free(r.text);
	free(s.text);
}

static void compare_all(const char *dir)
{
	char run_dir[512], sum_dir[512];
	snprintf(run_dir, sizeof(run_dir), "%s/r", dir);
	snprintf(sum_dir, sizeof(sum_dir), "%s/s", dir);
	cr_assert_eq(
	    test_sh(
		NULL,
		"mkdir -p %s && cp %s/results.jsonl %s/ && %s/shadoweval summarize %s >/dev/null",
		sum_dir, run_dir, sum_dir, test_bin_dir(), sum_dir),
	    0);
	char rpath[600];
	snprintf(rpath, sizeof(rpath), "%s/results.jsonl", run_dir);
	double maxlat = max_latency(rpath);
	static const char *const files[] = {"models.csv", "tasks.csv", "slots.csv", "pairs.csv",
					    "swaps.csv"};
	for (size_t i = 0; i < 5; i++)
		compare(run_dir, sum_dir, files[i], maxlat);
}

/* A test's folder, its profiles and the shadowsim serving them. */
struct sums_case {
	char *dir, *prof;
	struct simproc sp;
};

static void case_start(struct sums_case *c, const char *tag)
{
	c->dir = test_mkdtemp(tag);
	c->prof = write_profiles(c->dir);
	cr_assert_eq(simproc_start(&c->sp, c->prof, FIX "/eval.json", NULL), 0, "%s", c->sp.error);
}

static void case_end(struct sums_case *c)
{
	simproc_stop(&c->sp);
	free(c->prof);
	char rm[600];
	snprintf(rm, sizeof(rm), "rm -rf %s", c->dir);
	cr_assert_eq(system(rm), 0);
	free(c->dir);
}

Test(summaries, a_run_writes_what_summarize_computes_within_the_stated_error, .timeout = 180)
{
	struct sums_case c;
	case_start(&c, "sums");
	const char *dir = c.dir;
	struct buf out;
	buf_init(&out);
	int rc = test_sh(&out, "%s/shadoweval run %s/eval.json -o %s/r --quiet --endpoint sim=%s",
			 test_bin_dir(), FIX, dir, c.sp.base_url);
	cr_assert_eq(rc, 0, "run: exit %d: %s", rc, out.data ? out.data : "");
	compare_all(dir);
	buf_free(&out);
	case_end(&c);
}

Test(summaries, a_resumed_run_counts_the_earlier_lines_without_reading_them_again, .timeout = 180)
{
	struct sums_case c;
	case_start(&c, "sumres");
	const char *dir = c.dir;
	struct buf out;
	buf_init(&out);
	/* stopped by the budget part way, then resumed to the end */
	int rc = test_sh(&out,
			 "%s/shadoweval run %s/eval.json -o %s/r --quiet --concurrency 1 "
			 "--max-cost 0.0005 --endpoint sim=%s",
			 test_bin_dir(), FIX, dir, c.sp.base_url);
	cr_assert_eq(rc, 1, "first run: exit %d: %s", rc, out.data ? out.data : "");
	rc = test_sh(&out,
		     "%s/shadoweval run %s/eval.json -o %s/r --quiet --resume --endpoint sim=%s",
		     test_bin_dir(), FIX, dir, c.sp.base_url);
	cr_assert_eq(rc, 0, "resume: exit %d: %s", rc, out.data ? out.data : "");
	compare_all(dir);
	buf_free(&out);
	case_end(&c);
}
