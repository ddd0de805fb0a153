/* test_summarize.c: sum_run_dir on fixed and simulated results.jsonl files.
 *
 * The fixed file (tests/fixtures/summarize/results.jsonl, 26 lines written by
 * hand: primary, shadow and fallback roles, errors of several classes, cache
 * hits, unknown costs, a line without a slot, a task name that needs CSV
 * quoting) must give the checked-in CSVs in expected/ byte for byte, whatever
 * its line order and with a torn last line. The expected CSVs were checked
 * against an independent Python computation (counts, percentiles with
 * statistics.quantiles, cost sums) and by hand for slots and swaps.
 *
 * Calibration: simulated A/A and A/B comparisons (two models answering the
 * same items, Bernoulli outcomes from a seeded PRNG), each run through
 * sum_run_dir and read back from pairs.csv. The rates are printed.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/files.h"
#include "cli/cli.h"
#include "core/fileio.h"
#include "summarize/summarize.h"

#define FIX "tests/fixtures/summarize/"

static const char *const tables[] = {"models.csv", "tasks.csv", "slots.csv", "pairs.csv",
				     "swaps.csv"};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* The fixture's lines, each with its newline. */
static size_t fixture_lines(const char *path, char ***lines)
{
	size_t len;
	char *data = test_read_file(path, &len);
	size_t n = 0, cap = 64;
	*lines = malloc(cap * sizeof(**lines));
	for (char *p = data; *p;) {
		char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);
		if (n == cap)
			*lines = realloc(*lines, (cap *= 2) * sizeof(**lines));
		(*lines)[n++] = strndup(p, l);
		p += l;
	}
	free(data);
	return n;
}

static void free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void write_results(const char *dir, char **lines, size_t n, const char *tail)
{
	char *p = fio_join(dir, "results.jsonl");
	FILE *fp = fopen(p, "w");
	cr_assert(fp);
	for (size_t i = 0; i < n; i++)
		fputs(lines[i], fp);
	if (tail)
		fputs(tail, fp);
	cr_assert_eq(fclose(fp), 0);
	free(p);
}

static void expect_same_as_expected(const char *dir)
{
	for (size_t i = 0; i < NTABLES; i++) {
		char want_path[256];
		snprintf(want_path, sizeof(want_path), FIX "expected/%s", tables[i]);
		char *got_path = fio_join(dir, tables[i]);
		size_t gl, wl;
		char *got = test_read_file(got_path, &gl), *want = test_read_file(want_path, &wl);
		cr_expect(gl == wl && !memcmp(got, want, gl), "%s differs from %s:\n%s", got_path,
			  want_path, got);
		free(got);
		free(want);
		free(got_path);
	}
}

static int run(const char *dir, FILE *table, struct se_err *err)
{
	se_clear(err);
	return sum_run_dir(dir, table, err);
}

Test(summarize, fixed_results_give_the_expected_csvs)
{
	char *dir = test_mkdtemp("sum");
	char **lines;
	size_t n = fixture_lines(FIX "results.jsonl", &lines);
	write_results(dir, lines, n, NULL);
	struct se_err err;
	cr_assert_eq(run(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	expect_same_as_expected(dir);
	free_lines(lines, n);
	test_rmdir(dir);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

Test(summarize, shuffled_lines_give_identical_csvs)
{
	char **lines;
	size_t n = fixture_lines(FIX "results.jsonl", &lines);
	uint64_t seed = 42;
	for (int round = 0; round < 3; round++) {
		for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
			size_t j = splitmix(&seed) % (i + 1);
			char *t = lines[i];
			lines[i] = lines[j];
			lines[j] = t;
		}
		char *dir = test_mkdtemp("sum");
		write_results(dir, lines, n, NULL);
		struct se_err err;
		cr_assert_eq(run(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
		expect_same_as_expected(dir);
		test_rmdir(dir);
	}
	free_lines(lines, n);
}

Test(summarize, torn_last_line_is_skipped)
{
	char *dir = test_mkdtemp("sum");
	char **lines;
	size_t n = fixture_lines(FIX "results.jsonl", &lines);
	write_results(dir, lines, n, "{\"item_id\":\"i09\",\"task\":\"qa\",\"slot\":\"fa");
	struct se_err err;
	cr_assert_eq(run(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	expect_same_as_expected(dir);
	free_lines(lines, n);
	test_rmdir(dir);
}

/* Cell `col` of the first line of dir/name whose first cells are `prefix`. */
static char *csv_cell(const char *dir, const char *name, const char *prefix, int col)
{
	char *p = fio_join(dir, name);
	size_t len;
	char *data = test_read_file(p, &len);
	free(p);
	char *hit = NULL;
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		char *c = line;
		for (int i = 0; i < col && c; i++) {
			c = strchr(c, ',');
			c = c ? c + 1 : NULL;
		}
		if (c)
			hit = strndup(c, strcspn(c, ","));
		break;
	}
	free(data);
	return hit;
}

Test(summarize, prints_models_pairs_and_swaps_tables_with_the_csv_numbers)
{
	char *dir = test_mkdtemp("sum");
	char **lines;
	size_t n = fixture_lines(FIX "results.jsonl", &lines);
	write_results(dir, lines, n, NULL);
	char *out = NULL;
	size_t out_len = 0;
	FILE *fp = open_memstream(&out, &out_len);
	struct se_err err;
	cr_assert_eq(run(dir, fp, &err), 0, "%s: %s", err.where, err.msg);
	fclose(fp);
	cr_expect(strstr(out, "models (") && strstr(out, "\npairs: ") && strstr(out, "\nswaps: "),
		  "%s", out);
	/* the pair cand-x overall, as pairs.csv has it */
	char *d = csv_cell(dir, "pairs.csv", "overall,all,policy,acme/cand-x,", 9);
	char *lo = csv_cell(dir, "pairs.csv", "overall,all,policy,acme/cand-x,", 10);
	char *hi = csv_cell(dir, "pairs.csv", "overall,all,policy,acme/cand-x,", 11);
	char *v = csv_cell(dir, "pairs.csv", "overall,all,policy,acme/cand-x,", 16);
	cr_assert(d && lo && hi && v);
	char want[256];
	/* the table rounds the CSV's figures: a delta in percentage points */
	snprintf(want, sizeof(want), "%+.1f [%+.1f, %+.1f]", 100 * atof(d), 100 * atof(lo),
		 100 * atof(hi));
	cr_expect(strstr(out, want), "no \"%s\" in:\n%s", want, out);
	cr_expect(strstr(out, v));
	/* columns are aligned: the verdict column starts at the same offset */
	const char *h = strstr(out, "\nshadow "), *row = strstr(out, "\nacme/deep-1  5");
	cr_assert(h && row, "%s", out);
	h++, row++;
	cr_expect_eq(strstr(h, "verdict") - h, strstr(row, "no_difference") - row, "%s", out);
	/* and the model table carries models.csv's pass rate */
	char *pr = csv_cell(dir, "models.csv", "acme/backup,", 3);
	const char *mrow = strstr(out, "\nacme/backup  2 ");
	cr_assert(mrow, "%s", out);
	snprintf(want, sizeof(want), " %.1f%% [", 100 * atof(pr));
	const char *mat = strstr(mrow, want), *meol = strchr(mrow + 1, '\n');
	cr_expect(mat && (!meol || mat < meol), "no \"%s\" on acme/backup's line:\n%s", want, out);
	/* and the swaps table each swap of swaps.csv, with its delta and verdict */
	char *sd = csv_cell(dir, "swaps.csv", "deep,acme/deep-1,acme/cand-x,", 13);
	char *sv = csv_cell(dir, "swaps.csv", "deep,acme/deep-1,acme/cand-x,", 17);
	cr_assert(sd && sv);
	const char *swap = strstr(out, "acme/deep-1 -> acme/cand-x");
	cr_assert(swap, "%s", out);
	snprintf(want, sizeof(want), "%+.1f [", 100 * atof(sd));
	const char *eol = strchr(swap, '\n');
	const char *at = strstr(swap, want);
	cr_expect(at && (!eol || at < eol), "no \"%s\" on the swap's line:\n%s", want, out);
	at = strstr(swap, sv);
	cr_expect(at && (!eol || at < eol), "no verdict \"%s\" on the swap's line:\n%s", sv, out);
	free(sd), free(sv);
	free(d), free(lo), free(hi), free(v), free(pr), free(out);
	free_lines(lines, n);
	test_rmdir(dir);
}

Test(summarize, errored_rows_fail_and_are_counted_by_class)
{
	char *dir = test_mkdtemp("sum");
	char **lines;
	size_t n = fixture_lines(FIX "results.jsonl", &lines);
	write_results(dir, lines, n, NULL);
	struct se_err err;
	cr_assert_eq(run(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	/* deep-1: 2 timeouts (one as primary, one as shadow) and a 5xx */
	char *errors = csv_cell(dir, "models.csv", "acme/deep-1,", 6);
	char *timeout = csv_cell(dir, "models.csv", "acme/deep-1,", 8);
	char *h5 = csv_cell(dir, "models.csv", "acme/deep-1,", 10);
	cr_expect_str_eq(errors, "3");
	cr_expect_str_eq(timeout, "2");
	cr_expect_str_eq(h5, "1");
	/* the fallback served i07 after the deep primary timed out */
	char *fb = csv_cell(dir, "slots.csv", "deep,", 4);
	cr_expect_str_eq(fb, "1");
	free(errors), free(timeout), free(h5), free(fb);
	free_lines(lines, n);
	test_rmdir(dir);
}

/* Issue 9 item 27: a model or task name that a spreadsheet would run as a
 * formula is written with a leading apostrophe in every CSV; figures,
 * negative ones included, stay numbers. */
Test(summarize, formula_like_names_are_neutralised_in_every_csv)
{
	char *dir = test_mkdtemp("sum");
	char **lines;
	size_t n = fixture_lines(FIX "results.jsonl", &lines);
	for (size_t i = 0; i < n; i++) {
		/* acme/cand-x -> @SUM(A1), task qa -> =1+2 */
		char *l = lines[i], *hit;
		size_t cap = strlen(l) + 64;
		char *out = malloc(cap);
		snprintf(out, cap, "%s", l);
		while ((hit = strstr(out, "acme/cand-x")) != NULL) {
			char *tmp = strdup(hit + strlen("acme/cand-x"));
			snprintf(hit, cap - (size_t)(hit - out), "@SUM(A1)%s", tmp);
			free(tmp);
		}
		while ((hit = strstr(out, "\"task\":\"qa\"")) != NULL) {
			char *tmp = strdup(hit + strlen("\"task\":\"qa\""));
			snprintf(hit, cap - (size_t)(hit - out), "\"task\":\"=1+2\"%s", tmp);
			free(tmp);
		}
		free(lines[i]);
		lines[i] = out;
	}
	write_results(dir, lines, n, NULL);
	struct se_err err;
	cr_assert_eq(run(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	for (size_t t = 0; t < NTABLES; t++) {
		char *p = fio_join(dir, tables[t]);
		size_t len;
		char *data = test_read_file(p, &len);
		free(p);
		for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n"))
			for (const char *c = line; c;
			     c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
				cr_expect(*c != '@' && *c != '=', "%s: a formula cell in: %s",
					  tables[t], line);
		free(data);
	}
	char *m = csv_cell(dir, "models.csv", "'@SUM(A1),", 1);
	cr_expect_not_null(m, "models.csv has no row for '@SUM(A1)");
	free(m);
	char *task = csv_cell(dir, "tasks.csv", "'=1+2,", 0);
	cr_expect_not_null(task, "tasks.csv has no row for '=1+2");
	free(task);
	/* a negative figure is written as a number, not as text */
	char *lo = csv_cell(dir, "pairs.csv", "overall,all,policy,'@SUM(A1),", 10);
	cr_expect_str_eq(lo, "-0.194067");
	free(lo);
	free_lines(lines, n);
	test_rmdir(dir);
}

static void expect_rejected(const char *fixture, const char *words)
{
	char *dir = test_mkdtemp("sum");
	char **lines;
	size_t n = fixture_lines(fixture, &lines);
	write_results(dir, lines, n, NULL);
	struct se_err err;
	cr_expect_eq(run(dir, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect(strstr(err.msg, words), "message \"%s\" lacks \"%s\"", err.msg, words);
	cr_expect(strstr(err.where, "results.jsonl"), "where: %s", err.where);
	char *p = fio_join(dir, "models.csv");
	cr_expect(access(p, F_OK) != 0, "a rejected file must not leave a models.csv");
	free(p);
	free_lines(lines, n);
	test_rmdir(dir);
}

Test(summarize, rejects_duplicate_result_for_item_model_and_role)
{
	expect_rejected(FIX "duplicate.jsonl",
			"item \"i01\" has two results for model \"acme/cand-x\" as shadow");
}

/* Issue 9 #25: both lines of a duplicate are named, even a byte-identical
 * copy (README "summaries"; merge agrees, see test_merge.c). */
Test(summarize, duplicate_names_both_lines)
{
	char *dir = test_mkdtemp("sum");
	char **lines;
	size_t n = fixture_lines(FIX "duplicate.jsonl", &lines);
	write_results(dir, lines, n, NULL);
	struct se_err err;
	cr_assert_eq(run(dir, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	char *want = fio_join(dir, "results.jsonl:4");
	cr_expect_str_eq(err.where, want);
	free(want);
	cr_expect(strstr(err.msg, "as shadow at ") && strstr(err.msg, "results.jsonl:2"), "%s",
		  err.msg);
	free_lines(lines, n);
	test_rmdir(dir);
}

/* Issue 9 #20: a wrong type is an error, not a failed item. */
Test(summarize, rejects_pass_that_is_not_a_boolean)
{
	expect_rejected("tests/fixtures/results/bad/pass_string.jsonl",
			"pass: expected true or false, got \"yes\"");
}

Test(summarize, rejects_a_cost_out_of_range)
{
	expect_rejected("tests/fixtures/results/bad/cost_huge.jsonl",
			"cost_usd: expected a number");
}

Test(summarize, rejects_unknown_status)
{
	expect_rejected(FIX "unknown-status.jsonl", "unknown status \"exploded\"");
}

Test(summarize, rejects_lines_that_disagree_on_an_items_slot)
{
	expect_rejected(FIX "slot-mismatch.jsonl", "item \"i01\" has slot \"deep\"");
}

Test(summarize, missing_results_file_is_an_error)
{
	char *dir = test_mkdtemp("sum");
	struct se_err err;
	cr_expect_eq(run(dir, NULL, &err), -1);
	cr_expect(strstr(err.where, "results.jsonl"), "where: %s", err.where);
	test_rmdir(dir);
}

Test(summarize, empty_results_give_header_only_csvs)
{
	char *dir = test_mkdtemp("sum");
	write_results(dir, NULL, 0, NULL);
	struct se_err err;
	cr_assert_eq(run(dir, NULL, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < NTABLES; i++) {
		char *p = fio_join(dir, tables[i]);
		size_t len;
		char *data = test_read_file(p, &len);
		/* a header, and in slots.csv the (empty) policy row */
		size_t want = strcmp(tables[i], "slots.csv") ? 1 : 2, got = 0;
		for (size_t k = 0; k < len; k++)
			got += data[k] == '\n';
		cr_expect_eq(got, want, "%s: %s", tables[i], data);
		free(data);
		free(p);
	}
	char *slots = csv_cell(dir, "slots.csv", "policy,", 2);
	cr_expect_str_eq(slots, "0");
	free(slots);
	test_rmdir(dir);
}

/* ---- families of verdicts ---- */

/* 20 items; the primary passes items 0-9. Shadow k passes items 0..9-b and
 * 10..9+c, so its table against the primary has b = only_primary and c =
 * only_shadow discordant pairs. */
static void write_family(const char *dir)
{
	static const int bc[][2] = {{0, 8}, {1, 9}, {1, 8}, {0, 0}};
	char *p = fio_join(dir, "results.jsonl");
	FILE *fp = fopen(p, "w");
	cr_assert(fp);
	static const char *const fmt =
	    "{\"item_id\":\"i%02d\",\"task\":\"t\",\"slot\":\"s\",\"model\":\"%s\","
	    "\"role\":\"%s\",\"status\":\"ok\",\"latency_ms\":100,\"ttft_ms\":null,"
	    "\"prompt_tokens\":10,\"completion_tokens\":5,\"cost_usd\":0.0001,"
	    "\"cost_source\":\"pricing\",\"cached\":false,\"pass\":%s}\n";
	for (int i = 0; i < 20; i++) {
		fprintf(fp, fmt, i, "sim/p", "primary", i < 10 ? "true" : "false");
		for (int k = 0; k < 4; k++) {
			char model[32];
			snprintf(model, sizeof(model), "sim/s%d", k + 1);
			bool pass = i < 10 ? i <= 9 - bc[k][0] : i < 10 + bc[k][1];
			fprintf(fp, fmt, i, model, "shadow", pass ? "true" : "false");
		}
	}
	cr_assert_eq(fclose(fp), 0);
	free(p);
}

/* The four overall rows' raw p are exact McNemar 2/256, 20/1024 (b=1, c=9),
 * 20/512 (b=1, c=8) and 1; adjusted by hand with R's p.adjust definitions:
 * Holm 4p(1), max(., 3p(2)), max(., 2p(3)), max(., p(4)); BH m/j p(j) with a
 * running minimum from the top. */
Test(summarize, each_scope_is_one_family_adjusted_as_chosen)
{
	static const struct {
		enum stats_correction c;
		const char *name;
		double adj[4];
		const char *verdict[4];
	} cases[] = {
	    {STATS_HOLM,
	     "holm",
	     {0.03125, 0.064453125, 0.078125, 1},
	     {"better", "no_difference", "no_difference", "no_difference"}},
	    {STATS_BH,
	     "bh",
	     {0.03125, 0.04296875, 0.0520833333, 1},
	     {"better", "better", "no_difference", "no_difference"}},
	    {STATS_NONE,
	     "none",
	     {0.0078125, 0.021484375, 0.0390625, 1},
	     {"better", "better", "better", "no_difference"}},
	};
	char *dir = test_mkdtemp("sum");
	write_family(dir);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct se_err err;
		se_clear(&err);
		cr_assert_eq(sum_run_dir_corr(dir, NULL, cases[k].c, &err), 0, "%s", err.msg);
		for (int m = 0; m < 4; m++) {
			char key[64];
			snprintf(key, sizeof(key), "overall,all,policy,sim/s%d,", m + 1);
			char *raw = csv_cell(dir, "pairs.csv", key, 16);
			char *adj = csv_cell(dir, "pairs.csv", key, 23);
			char *v = csv_cell(dir, "pairs.csv", key, 24);
			char *corr = csv_cell(dir, "pairs.csv", key, 25);
			char *size = csv_cell(dir, "pairs.csv", key, 26);
			cr_assert(raw && adj && v && corr && size, "%s", key);
			cr_expect(fabs(atof(adj) - cases[k].adj[m]) < 1e-6,
				  "%s %s: p adj %s want %g", cases[k].name, key, adj,
				  cases[k].adj[m]);
			cr_expect_str_eq(v, cases[k].verdict[m], "%s %s", cases[k].name, key);
			/* the raw verdict does not depend on the correction */
			cr_expect_str_eq(raw, m < 3 ? "better" : "no_difference", "%s", key);
			cr_expect_str_eq(corr, cases[k].name);
			cr_expect_str_eq(size, "4");
			free(raw), free(adj), free(v), free(corr), free(size);
		}
		/* the slot scope is its own family of four as well */
		char *size = csv_cell(dir, "pairs.csv", "slot,s,sim/p,sim/s1,", 26);
		cr_assert(size);
		cr_expect_str_eq(size, "4");
		free(size);
	}
	test_rmdir(dir);
}

static int summarize_cli(const char *dir, const char *a1, const char *a2, struct se_err *err)
{
	char *argv[] = {"summarize", (char *)dir, (char *)a1, (char *)a2, NULL};
	int argc = 1;
	while (argv[argc])
		argc++;
	se_clear(err);
	FILE *devnull = fopen("/dev/null", "w");
	cr_assert(devnull);
	FILE *saved = stdout;
	stdout = devnull;
	int rc = cmd_summarize(argc, argv, err);
	stdout = saved;
	fclose(devnull);
	return rc;
}

Test(summarize, the_command_takes_a_correction_and_rejects_an_unknown_one)
{
	char *dir = test_mkdtemp("sum");
	write_family(dir);
	struct se_err err;
	cr_expect_eq(summarize_cli(dir, "--correction", "bonferroni", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.msg, "holm, bh or none"), "%s", err.msg);
	cr_expect_eq(summarize_cli(dir, "--correction", NULL, &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_assert_eq(summarize_cli(dir, "--correction=bh", NULL, &err), 0, "%s", err.msg);
	char *corr = csv_cell(dir, "pairs.csv", "overall,all,policy,sim/s1,", 25);
	cr_expect_str_eq(corr, "bh");
	free(corr);
	cr_assert_eq(summarize_cli(dir, NULL, NULL, &err), 0, "%s", err.msg);
	corr = csv_cell(dir, "pairs.csv", "overall,all,policy,sim/s1,", 25);
	cr_expect_str_eq(corr, "holm", "Holm is the default");
	free(corr);
	test_rmdir(dir);
}

/* ---- calibration ---- */

static double uniform(uint64_t *s)
{
	return (double)(splitmix(s) >> 11) * 0x1.0p-53;
}

/* n items, model A primary with accuracy pa, model B shadow with pb; returns
 * pairs.csv's overall verdict of B. */
static char *simulate(const char *dir, uint64_t seed, int n, double pa, double pb)
{
	char *p = fio_join(dir, "results.jsonl");
	FILE *fp = fopen(p, "w");
	cr_assert(fp);
#define LINE_FMT                                                                                   \
	"{\"item_id\":\"%d\",\"task\":\"t\",\"slot\":\"s\",\"model\":\"%s\","                      \
	"\"role\":\"%s\",\"status\":\"ok\",\"latency_ms\":%d,\"ttft_ms\":null,"                    \
	"\"prompt_tokens\":10,\"completion_tokens\":5,\"cost_usd\":0.0001,"                        \
	"\"cost_source\":\"pricing\",\"cached\":false,\"pass\":%s}\n"
	for (int i = 0; i < n; i++) {
		bool a = uniform(&seed) < pa, b = uniform(&seed) < pb;
		fprintf(fp, LINE_FMT, i, "sim/a", "primary", 100 + i % 50, a ? "true" : "false");
		fprintf(fp, LINE_FMT, i, "sim/b", "shadow", 120 + i % 40, b ? "true" : "false");
	}
#undef LINE_FMT
	cr_assert_eq(fclose(fp), 0);
	free(p);
	struct se_err err;
	cr_assert_eq(run(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	char *v = csv_cell(dir, "pairs.csv", "overall,all,policy,sim/b,", 16);
	cr_assert(v, "no overall pair for sim/b");
	return v;
}

/* 1000 A/A comparisons of 200 items, both models at 0.80. The exact test is
 * conservative: its expected false positive rate here is 3.78% (summed
 * exactly over the Binomial(200, 0.32) number of discordant pairs), with a
 * standard error of 0.6% over 1000 runs. A one-sided p (not doubled) would
 * expect 7.74%, an unpaired or one-sided normal test more: the band [2%, 6%]
 * keeps the right statistic and misses those. The seeds are fixed, so the
 * outcome is deterministic (an independent Python replay of the same PRNG
 * draws gives the same count). */
Test(summarize, calibration_aa_false_positive_rate_is_near_alpha, .timeout = 300)
{
	char *dir = test_mkdtemp("sum");
	int reps = 1000, flagged = 0;
	for (int r = 0; r < reps; r++) {
		char *v = simulate(dir, 1000 + (uint64_t)r, 200, 0.8, 0.8);
		flagged += strcmp(v, "no_difference") != 0;
		free(v);
	}
	double rate = (double)flagged / reps;
	printf("calibration A/A: %d of %d comparisons (200 items, both 0.80) said better or "
	       "worse: %.1f%% at alpha 0.05 (exact McNemar, expected 3.8%%)\n",
	       flagged, reps, 100.0 * rate);
	cr_expect(rate >= 0.02 && rate <= 0.06, "A/A false positive rate %.3f", rate);
	test_rmdir(dir);
}

Test(summarize, calibration_ab_detects_a_five_point_gap, .timeout = 300)
{
	char *dir = test_mkdtemp("sum");
	int reps = 50, better = 0, worse = 0;
	for (int r = 0; r < reps; r++) {
		char *v = simulate(dir, 5000 + (uint64_t)r, 1000, 0.80, 0.85);
		better += !strcmp(v, "better");
		worse += !strcmp(v, "worse");
		free(v);
	}
	printf("calibration A/B: %d of %d comparisons (1000 items, 0.80 vs 0.85) said better "
	       "(%.0f%%), %d said worse\n",
	       better, reps, 100.0 * better / reps, worse);
	cr_expect(better * 2 > reps, "detection rate %d/%d", better, reps);
	cr_expect_eq(worse, 0);
	test_rmdir(dir);
}

/* Every column summarize writes (judged results give every CSV, pairwise and
 * agreement too) is one sum_col_kind knows: the report checks each cell
 * against it, so a column added to a writer without a kind fails here. */
Test(summarize, every_written_column_has_a_kind)
{
	static const char *const csvs[] = {"models.csv",   "tasks.csv", "slots.csv",
					   "pairs.csv",	   "swaps.csv", "pairwise.csv",
					   "agreement.csv"};
	char *dir = test_mkdtemp("sumkinds");
	char *src = test_read_file("tests/fixtures/summarize/judged.jsonl", NULL);
	test_write_file(test_path(dir, "results.jsonl"), src);
	free(src);
	struct se_err err;
	cr_assert_eq(sum_run_dir(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	for (size_t i = 0; i < sizeof(csvs) / sizeof(csvs[0]); i++) {
		char *text = test_read_file(test_path(dir, csvs[i]), NULL);
		char *nl = strchr(text, '\n');
		cr_assert(nl, "%s: no header", csvs[i]);
		*nl = '\0';
		for (char *save = NULL, *c = strtok_r(text, ",", &save); c;
		     c = strtok_r(NULL, ",", &save))
			cr_expect_neq(sum_col_kind(c), SUM_COL_UNKNOWN, "%s: column %s has no kind",
				      csvs[i], c);
		free(text);
	}
	test_rmdir(dir);
}
