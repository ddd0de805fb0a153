/* test_report.c: the report page (src/report/), on a hand-made run folder in
 * tests/fixtures/report/run (its CSVs are what `summarize` writes for its
 * results.jsonl; one model is named with markup, quotes and an ampersand,
 * one task holds a comma and quotes, and so does the eval name).
 *
 * Each test copies the fixture to a temporary folder, since the report is
 * written into the run folder.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "report/rep_int.h"
#include "report/report.h"
#include "support/files.h"

#define FIX "tests/fixtures/report"
#define EVIL_MODEL "acme/<script>alert(1)</script> & \"x\" 'y'"
#define EVIL_MODEL_HTML "acme/&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;"

/* Copies file src to dir/name. */
static void put(const char *dir, const char *name, const char *src)
{
	size_t len;
	char *data = test_read_file(src, &len);
	char *dst = fio_join(dir, name);
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_write_atomic(dst, data, len, &err), 0, "%s: %s", dst, err.msg);
	free(dst);
	free(data);
}

/* A temporary copy of the regular files of fixture folder src. */
static char *copy_run(const char *src)
{
	char *dir = test_mkdtemp("report");
	DIR *d = opendir(src);
	cr_assert(d, "cannot open %s", src);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = fio_join(src, e->d_name);
		put(dir, e->d_name, p);
		free(p);
	}
	closedir(d);
	return dir;
}

static bool exists(const char *dir, const char *name)
{
	char *p = fio_join(dir, name);
	bool ok = access(p, F_OK) == 0;
	free(p);
	return ok;
}

/* Writes the report of dir to dir/report.html and returns the page. */
static char *report_of(const char *dir, size_t *len)
{
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(rep_write(dir, NULL, &err), 0, "rep_write: %s: %s", err.where, err.msg);
	char *p = fio_join(dir, "report.html");
	char *html = test_read_file(p, len);
	free(p);
	return html;
}

/* The models-table row of a model, up to its end. */
static char *model_row(const char *html, const char *name_html)
{
	char needle[512];
	snprintf(needle, sizeof(needle), "<tr><td class=\"l\">%s</td>", name_html);
	const char *row = strstr(html, needle);
	cr_assert(row, "no table row for %s", name_html);
	const char *end = strstr(row, "</tr>");
	cr_assert(end);
	return strndup(row, (size_t)(end - row));
}

Test(report, writes_each_model_with_its_formatted_pass_rate)
{
	char *dir = copy_run(FIX "/run");
	char *html = report_of(dir, NULL);
	/* models.csv: fast-1 4/8, deep-1 4/8, backup 1/2, the evil one 6/8 */
	static const struct {
		const char *name, *rate, *ci;
	} want[] = {
	    {"acme/fast-1", "50.0%", "[21.5, 78.5]"},
	    {"acme/deep-1", "50.0%", "[21.5, 78.5]"},
	    {"acme/backup", "50.0%", "[9.5, 90.5]"},
	    {EVIL_MODEL_HTML, "75.0%", "[40.9, 92.9]"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *row = model_row(html, want[i].name);
		cr_expect(strstr(row, want[i].rate), "%s: no %s in %s", want[i].name, want[i].rate,
			  row);
		cr_expect(strstr(row, want[i].ci), "%s: no %s in %s", want[i].name, want[i].ci,
			  row);
		free(row);
	}
	/* figures from the other summaries, formatted for people */
	cr_expect(strstr(html, "62.5%"), "the policy pass rate (slots.csv) is missing");
	cr_expect(strstr(html, "$0.688"), "the policy cost per 1,000 items is missing");
	cr_expect(strstr(html, "30,000 ms"), "deep-1's p95 latency is not grouped");
	cr_expect(strstr(html, "2026-03-01 10:00:00 UTC"), "the start time is missing");
	cr_expect(strstr(html, "took 2 min 5 s"), "the duration is missing");
	cr_expect(strstr(html, "sha256 5f3c0d1e9a7b"), "the config hash prefix is missing");
	cr_expect(!strstr(html, "Threshold sweep"), "a sweep section without pareto.csv");
	free(html);
	test_rmdir(dir);
}

Test(report, escapes_every_piece_of_user_data)
{
	char *dir = copy_run(FIX "/run");
	char *html = report_of(dir, NULL);
	cr_expect(strstr(html, EVIL_MODEL_HTML), "the model name is not escaped as expected");
	cr_expect(strstr(html, "code, &quot;hard&quot;"), "the task name is not escaped");
	cr_expect(strstr(html, "report-fixture &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"),
		  "the eval name is not escaped");
	cr_expect(!strcasestr(html, "<script"), "raw <script> in the page");
	cr_expect(!strstr(html, "<b>bold"), "raw markup from the eval name in the page");
	/* every '<' opens a tag or a comment; every '&' starts an entity */
	for (const char *p = html; *p; p++) {
		if (*p == '<')
			cr_assert(isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!',
				  "stray '<' at offset %td: %.40s", p - html, p);
		if (*p == '&') {
			size_t n = strspn(p + 1, "#abcdefghijklmnopqrstuvwxyz0123456789");
			cr_assert(n > 0 && p[1 + n] == ';', "stray '&' at offset %td: %.40s",
				  p - html, p);
		}
	}
	free(html);
	test_rmdir(dir);
}

/* The value of each numeric SVG attribute must be plain numbers. */
static void check_svg_numbers(const char *html)
{
	static const char *const attrs[] = {" x=\"",  " y=\"",	     " x1=\"",	    " y1=\"",
					    " x2=\"", " y2=\"",	     " cx=\"",	    " cy=\"",
					    " r=\"",  " width=\"",   " height=\"",  " points=\"",
					    " d=\"",  " viewBox=\"", "transform=\""};
	size_t checked = 0;
	for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]); a++) {
		for (const char *p = strstr(html, attrs[a]); p; p = strstr(p + 1, attrs[a])) {
			const char *v = p + strlen(attrs[a]);
			const char *end = strchr(v, '"');
			cr_assert(end);
			char *val = strndup(v, (size_t)(end - v));
			cr_assert(!strcasestr(val, "nan") && !strcasestr(val, "inf"),
				  "%s%s\" holds a non-number", attrs[a], val);
			for (const char *c = val; *c; c++)
				cr_assert(strchr("0123456789.,- MlvzZ()translateo", *c),
					  "%s%s\": unexpected '%c'", attrs[a], val, *c);
			free(val);
			checked++;
		}
	}
	cr_assert_gt(checked, 50, "too few coordinates found (%zu)", checked);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(report, svg_is_balanced_and_has_no_nan_or_inf)
{
	char *dir = copy_run(FIX "/run");
	char *html = report_of(dir, NULL);
	size_t open = count(html, "<svg "), close = count(html, "</svg>");
	cr_expect_eq(open, close, "%zu <svg> but %zu </svg>", open, close);
	cr_expect_geq(open, 4, "expected the scatter, two forest plots and the bar");
	cr_expect_eq(count(html, "<g>") + count(html, "<g class="), count(html, "</g>"));
	check_svg_numbers(html);
	free(html);
	test_rmdir(dir);
}

Test(report, unknown_figures_are_dashes_and_left_out_of_charts)
{
	char *dir = copy_run(FIX "/run");
	put(dir, "models.csv", FIX "/models-unknown-cost.csv");
	char *html = report_of(dir, NULL);
	check_svg_numbers(html);
	char *row = model_row(html, "acme/backup");
	cr_expect(strstr(row, "<td>\xe2\x80\x94</td>"), "no dash for an unknown cost: %s", row);
	free(row);
	cr_expect(strstr(html, "Not plotted (cost or pass rate unknown): acme/backup"),
		  "the model without a cost is not named under the chart");
	free(html);
	test_rmdir(dir);
}

Test(report, same_folder_gives_identical_bytes)
{
	char *dir = copy_run(FIX "/run");
	size_t l1, l2;
	char *a = report_of(dir, &l1);
	char *other = fio_join(dir, "again.html");
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(rep_write(dir, other, &err), 0, "%s", err.msg);
	char *b = test_read_file(other, &l2);
	cr_assert_eq(l1, l2, "lengths differ: %zu and %zu", l1, l2);
	cr_assert(memcmp(a, b, l1) == 0, "the two reports differ");
	free(other);
	free(a);
	free(b);
	test_rmdir(dir);
}

Test(report, rebuilds_missing_summaries_from_results)
{
	char *dir = test_mkdtemp("report");
	put(dir, "results.jsonl", FIX "/run/results.jsonl");
	put(dir, "manifest.json", FIX "/run/manifest.json");
	cr_assert(!exists(dir, "models.csv"));
	char *html = report_of(dir, NULL);
	const char *csvs[] = {"models.csv", "tasks.csv", "slots.csv", "pairs.csv", "swaps.csv"};
	for (size_t i = 0; i < 5; i++)
		cr_expect(exists(dir, csvs[i]), "%s was not rebuilt", csvs[i]);
	char *row = model_row(html, EVIL_MODEL_HTML);
	cr_expect(strstr(row, "75.0%"), "%s", row);
	free(row);
	/* and the page equals the one made from the committed CSVs */
	char *ref_dir = copy_run(FIX "/run");
	char *ref = report_of(ref_dir, NULL);
	cr_expect_str_eq(html, ref);
	free(ref);
	test_rmdir(ref_dir);
	free(html);
	test_rmdir(dir);
}

/* The run fixture with its file `name` replaced by the fixture `bad`:
 * rep_write refuses it as bad input located in that file, with msg_part in
 * its message (unless NULL). Returns the run folder, for more checks. */
static char *refused(const char *name, const char *bad, const char *msg_part)
{
	char *dir = copy_run(FIX "/run");
	put(dir, name, bad);
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(rep_write(dir, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect(strstr(err.where, name), "where: %s", err.where);
	if (msg_part)
		cr_expect(strstr(err.msg, msg_part), "msg: %s", err.msg);
	return dir;
}

Test(report, missing_column_names_file_and_column)
{
	char *dir = refused("pairs.csv", FIX "/pairs-no-verdict.csv", "\"verdict\"");
	cr_expect(!exists(dir, "report.html"), "a report was written anyway");
	test_rmdir(dir);
}

Test(report, finds_columns_by_name_not_position)
{
	char *dir = copy_run(FIX "/run");
	put(dir, "models.csv", FIX "/models-extra-col.csv");
	char *html = report_of(dir, NULL);
	char *row = model_row(html, "acme/fast-1");
	cr_expect(strstr(row, "50.0%"), "%s", row);
	cr_expect(strstr(row, "157 ms"), "p95 not found by name: %s", row);
	free(row);
	free(html);
	test_rmdir(dir);
}

Test(report, rejects_a_row_of_another_width)
{
	test_rmdir(refused("models.csv", FIX "/models-short-row.csv", "record 3"));
}

Test(report, rejects_a_manifest_that_is_not_json)
{
	test_rmdir(refused("manifest.json", FIX "/manifest-bad.json", NULL));
}

Test(report, page_is_self_contained)
{
	char *dir = copy_run(FIX "/run");
	put(dir, "sweep.csv", FIX "/sweep/sweep.csv");
	put(dir, "pareto.csv", FIX "/sweep/pareto.csv");
	char *html = report_of(dir, NULL);
	cr_expect(!strcasestr(html, "http://") && !strcasestr(html, "https://"),
		  "a URL in the page");
	cr_expect(!strcasestr(html, "src="), "a src= reference");
	cr_expect(!strcasestr(html, "<link") && !strcasestr(html, "<img") &&
		      !strcasestr(html, "@import") && !strcasestr(html, "url("),
		  "an external resource");
	size_t hrefs = 0;
	for (const char *p = strcasestr(html, "href="); p; p = strcasestr(p + 1, "href=")) {
		cr_expect(!strncmp(p, "href=\"#", 7), "a link out of the page: %.60s", p);
		hrefs++;
	}
	cr_expect_gt(hrefs, 0, "no in-page navigation");
	free(html);
	test_rmdir(dir);
}

Test(report, draws_the_sweep_frontier_when_pareto_exists)
{
	char *dir = copy_run(FIX "/run");
	put(dir, "sweep.csv", FIX "/sweep/sweep.csv");
	put(dir, "pareto.csv", FIX "/sweep/pareto.csv");
	char *html = report_of(dir, NULL);
	cr_expect(strstr(html, "id=\"sweep\""), "no sweep section");
	cr_expect(strstr(html, "<polyline class=\"frontier\" points=\""), "no frontier line");
	/* pareto.csv has 5 policies: the line has 5 points */
	const char *pl = strstr(html, "<polyline class=\"frontier\" points=\"");
	cr_assert(pl);
	pl += strlen("<polyline class=\"frontier\" points=\"");
	size_t pts = 1;
	for (; *pl != '"'; pl++)
		pts += *pl == ' ';
	cr_expect_eq(pts, 5, "the frontier line has %zu points", pts);
	cr_expect(strstr(html, "est&lt;1000:fast, &lt;3000:balanced, else deep"),
		  "a frontier policy's rule is missing or unescaped");
	cr_expect(strstr(html, "current (not on the frontier)"),
		  "the current policy is not shown beside the frontier");
	check_svg_numbers(html);
	free(html);
	test_rmdir(dir);
}

Test(report, command_writes_to_the_output_flag)
{
	char *dir = copy_run(FIX "/run");
	char *out = fio_join(dir, "custom.html");
	char *argv[] = {"report", dir, "-o", out, NULL};
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(cmd_report(4, argv, &err), 0, "%s", err.msg);
	cr_expect(exists(dir, "custom.html"));
	cr_expect(!exists(dir, "report.html"), "-o was ignored");
	char *bad[] = {"report", dir, "--colour", NULL};
	se_clear(&err);
	cr_expect_eq(cmd_report(3, bad, &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	char *none[] = {"report", NULL};
	se_clear(&err);
	cr_expect_eq(cmd_report(1, none, &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	free(out);
	test_rmdir(dir);
}

Test(report, missing_run_folder_is_bad_input)
{
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(rep_write("tests/fixtures/report/no-such-run", NULL, &err), -1);
	cr_expect(err.kind == SE_INPUT || err.kind == SE_IO, "kind %d", err.kind);
}

static char *fmt(void (*f)(struct buf *, double), double v)
{
	struct buf b;
	buf_init(&b);
	f(&b, v);
	return buf_detach(&b, NULL);
}

static void usd(struct buf *b, double v)
{
	rep_usd(b, v, false);
}

static void dusd(struct buf *b, double v)
{
	rep_usd(b, v, true);
}

Test(report, formats_numbers_for_people)
{
	static const struct {
		void (*f)(struct buf *, double);
		double v;
		const char *want;
	} cases[] = {
	    {rep_pct, 0.955556, "95.6%"},
	    {rep_pct, 1, "100.0%"},
	    {rep_pct, NAN, "\xe2\x80\x94"},
	    {rep_pts, -0.3, "-30.0 pts"},
	    {rep_pts, 0.0166667, "+1.7 pts"},
	    {rep_pts, -0.0001, "0.0 pts"},
	    {usd, 24.954667, "$24.95"},
	    {usd, 0.031696429, "$0.0317"},
	    {usd, 4.4375e-05, "$0.0000444"},
	    {usd, 12345.6, "$12,346"},
	    {usd, 0, "$0.00"},
	    {usd, INFINITY, "\xe2\x80\x94"},
	    {dusd, -9.9636, "-$9.96"},
	    {dusd, 0.0775, "+$0.0775"},
	    {rep_ms, 1306.53, "1,307 ms"},
	    {rep_ms, 4.25, "4.3 ms"},
	    {rep_int, 1234567, "1,234,567"},
	    {rep_pval, 7.28843e-07, "&lt;0.001"},
	    {rep_pval, 0.0962524, "0.096"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = fmt(cases[i].f, cases[i].v);
		cr_expect_str_eq(got, cases[i].want, "case %zu (%g)", i, cases[i].v);
		free(got);
	}
}

Test(report, escapes_the_five_html_specials)
{
	struct buf b;
	buf_init(&b);
	rep_esc(&b, "a<b>&\"c'd");
	cr_expect_str_eq(b.data, "a&lt;b&gt;&amp;&quot;c&#39;d");
	buf_free(&b);
}

/* Verdicts are shown as adjusted per family when pairs.csv has them: every
 * overall row is made "worse" after adjustment only, so the summary must
 * count them all as worse whatever the raw verdict says. */
Test(report, shows_the_family_adjusted_verdict)
{
	char *dir = copy_run(FIX "/run");
	char *p = fio_join(dir, "pairs.csv");
	size_t len;
	char *csv = test_read_file(p, &len);
	struct buf b;
	buf_init(&b);
	size_t overall = 0;
	bool header = true;
	for (char *line = strtok(csv, "\n"); line; line = strtok(NULL, "\n")) {
		buf_puts(&b, line);
		buf_puts(&b, header ? ",verdict_adjusted\n" : ",worse\n");
		overall += !header && !strncmp(line, "overall,", 8);
		header = false;
	}
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_write_atomic(p, b.data, b.len, &err), 0, "%s", err.msg);
	cr_assert_gt(overall, 0);
	char *html = report_of(dir, NULL);
	char want[256];
	snprintf(want, sizeof(want),
		 "0 <span class=\"verdict better\">better</span>, %zu <span class=\"verdict "
		 "worse\">worse</span>, 0 with no significant difference",
		 overall);
	cr_expect(strstr(html, want), "no \"%s\" in the page", want);
	free(html);
	buf_free(&b);
	free(csv);
	free(p);
	test_rmdir(dir);
}

/* The text of section `id` of the page (up to its end). */
static char *section_of(const char *html, const char *id)
{
	char needle[128];
	snprintf(needle, sizeof(needle), "<section id=\"%s\">", id);
	const char *s = strstr(html, needle);
	cr_assert(s, "no section %s", id);
	const char *e = strstr(s, "</section>");
	cr_assert(e);
	return strndup(s, (size_t)(e - s));
}

/* swaps-many.csv: five swaps save money (s2 the most, then s5, s3, s4,
 * s1), one costs more; the glance lists three and counts the other two. */
Test(report, glance_counts_and_links_the_swaps_it_leaves_out)
{
	char *dir = copy_run(FIX "/run");
	put(dir, "swaps.csv", FIX "/swaps-many.csv");
	char *html = report_of(dir, NULL);
	char *g = section_of(html, "glance");
	const char *s2 = strstr(g, "<li>s2:"), *s5 = strstr(g, "<li>s5:"),
		   *s3 = strstr(g, "<li>s3:");
	cr_expect(s2 && s5 && s3 && s2 < s5 && s5 < s3, "not the 3 largest savings in order: %s",
		  g);
	cr_expect(!strstr(g, "<li>s4:") && !strstr(g, "<li>s1:") && !strstr(g, "<li>s6:"), "%s", g);
	cr_expect(strstr(g, "and 2 more: see <a href=\"#swaps\">all 6 slot swaps</a>"),
		  "the left-out swaps are not counted and linked: %s", g);
	free(g);
	free(html);
	test_rmdir(dir);
}

Test(report, glance_says_nothing_more_when_every_swap_is_listed)
{
	char *dir = copy_run(FIX "/run");
	char *html = report_of(dir, NULL);
	char *g = section_of(html, "glance");
	cr_expect(strstr(g, "<li>deep:"), "the saving swaps are not listed: %s", g);
	cr_expect(!strstr(g, "more: see"), "a count of more swaps when there are none: %s", g);
	free(g);
	free(html);
	test_rmdir(dir);
}

/* Every per-task cell prints its interval (not only in a tooltip). */
Test(report, per_task_cells_print_their_interval)
{
	char *dir = copy_run(FIX "/run");
	char *html = report_of(dir, NULL);
	char *t = section_of(html, "tasks");
	size_t cells = 0;
	for (const char *c = strstr(t, "<td class=\"heat\" style="); c;
	     c = strstr(c + 1, "<td class=\"heat\" style=")) {
		const char *end = strstr(c, "</td>");
		cr_assert(end);
		char *cell = strndup(c, (size_t)(end - c));
		cr_expect(strstr(cell, "<span class=\"ci\">["), "no printed interval: %s", cell);
		free(cell);
		cells++;
	}
	cr_expect_gt(cells, 0, "no per-task cells: %s", t);
	cr_expect(!strstr(t, "title="), "an interval only in a tooltip: %s", t);
	free(t);
	free(html);
	test_rmdir(dir);
}

/* The pairs and swaps tables link each shadow and candidate to its entry in
 * "Where they disagree", and that entry exists. */
Test(report, pairs_and_swaps_rows_link_to_their_disagreements)
{
	char *dir = copy_run(FIX "/run");
	char *html = report_of(dir, NULL);
	const char *ids[] = {"pairs", "swaps"};
	for (size_t i = 0; i < 2; i++) {
		char *sec = section_of(html, ids[i]);
		size_t links = 0;
		for (const char *a = strstr(sec, "<a href=\"#dis-"); a;
		     a = strstr(a + 1, "<a href=\"#dis-")) {
			const char *q = strchr(a + 10, '"');
			cr_assert(q);
			char target[256];
			snprintf(target, sizeof(target), "<h3 id=\"%.*s\">", (int)(q - a - 10),
				 a + 10);
			cr_expect(strstr(html, target), "%s links to a missing %s", ids[i], target);
			links++;
		}
		cr_expect_gt(links, 0, "the %s table links to no disagreement", ids[i]);
		free(sec);
	}
	free(html);
	test_rmdir(dir);
}

/* recommended.json names policy 4 (on the frontier of pareto.csv): the chart
 * rings it and labels it, its table row is marked, and a line says which
 * rule chose it (escaped). */
Test(report, marks_the_policy_recommended_json_names)
{
	char *dir = copy_run(FIX "/run");
	put(dir, "sweep.csv", FIX "/sweep/sweep.csv");
	put(dir, "pareto.csv", FIX "/sweep/pareto.csv");
	put(dir, "recommended.json", FIX "/sweep/recommended.json");
	char *html = report_of(dir, NULL);
	char *s = section_of(html, "sweep");
	cr_expect_eq(count(s, "<circle class=\"rec\""), 1, "not one ring: %s", s);
	cr_expect(strstr(s, ">recommended: #4 est&lt;1000:fast, else balanced</text>"),
		  "the ring is not labelled with the policy: %s", s);
	const char *row = strstr(s, "<tr class=\"rec\">");
	cr_assert(row, "no marked table row: %s", s);
	cr_expect(!strncmp(row, "<tr class=\"rec\"><td>4</td>", 26), "%.80s", row);
	cr_expect_eq(count(s, "<tr class=\"rec\">"), 1);
	cr_expect(strstr(s, "at least the &lt;current&gt; policy&#39;s"), "rule missing: %s", s);
	check_svg_numbers(html);
	free(s);
	free(html);
	test_rmdir(dir);
}

/* Without recommended.json (a sweep before it existed) nothing is marked,
 * and the page says why instead of guessing. */
Test(report, marks_nothing_without_recommended_json)
{
	char *dir = copy_run(FIX "/run");
	put(dir, "sweep.csv", FIX "/sweep/sweep.csv");
	put(dir, "pareto.csv", FIX "/sweep/pareto.csv");
	char *html = report_of(dir, NULL);
	char *s = section_of(html, "sweep");
	cr_expect(!strstr(s, "class=\"rec\""), "a policy is marked: %s", s);
	cr_expect(strstr(s, "no <code>recommended.json</code>"), "%s", s);
	free(s);
	free(html);
	test_rmdir(dir);
}

/* A cell read as a number that is none ("abc" where a pass rate goes) was
 * shown as a dash and the report exited 0: the damaged summary is refused,
 * naming its record and column, and no page is written. */
Test(report, rejects_a_cell_that_is_not_a_number_naming_record_and_column)
{
	char *dir =
	    refused("models.csv", FIX "/models-not-a-number.csv", "record 3, column \"pass_rate\"");
	cr_expect(!exists(dir, "report.html"), "a report was written anyway");
	test_rmdir(dir);
}

/* dir/name (a CSV) with the cell of record `record` (the header is 1) in
 * column `col` replaced by value; every cell written quoted. */
static void set_cell(const char *dir, const char *name, size_t record, const char *col,
		     const char *value)
{
	char *path = fio_join(dir, name);
	struct rep_table t;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(rep_table_load(path, &t, &err), 0, "%s: %s", path, err.msg);
	int c = rep_col_opt(&t, col);
	cr_assert(c >= 0 && record >= 2 && record - 2 < t.nrows, "%s: no %s in record %zu", name,
		  col, record);
	char **cell = &t.cells[(record - 2) * t.ncols + (size_t)c];
	free(*cell);
	*cell = strdup(value);
	struct buf b;
	buf_init(&b);
	for (size_t r = 0; r <= t.nrows; r++)
		for (size_t k = 0; k < t.ncols; k++) {
			const char *s = r ? t.cells[(r - 1) * t.ncols + k] : t.head[k];
			buf_putc(&b, '"');
			for (; *s; s++)
				buf_puts(&b, *s == '"' ? "\"\"" : (char[]){*s, 0});
			buf_puts(&b, k + 1 < t.ncols ? "\"," : "\"\n");
		}
	cr_assert_eq(fio_write_atomic(path, b.data, b.len, &err), 0);
	buf_free(&b);
	rep_table_free(&t);
	free(path);
}

/* A summary's figures were drawn whatever they held: n 2.5 shown as "3",
 * 1e308 as a 309-digit integer, a pass rate of 1.5, a negative count. Every
 * cell of a column the summaries write as a figure must be what that
 * column holds (summarize's sum_col_kind): refused naming the file, the
 * record and the column, and no page written. */
Test(report, refuses_figures_a_summary_column_cannot_hold)
{
	static const struct {
		const char *file, *col, *value, *want;
	} bad[] = {
	    {"models.csv", "n", "2.5", "a whole number"},
	    {"models.csv", "n", "1e308", "a whole number"},
	    {"models.csv", "n", "-1", "a whole number"},
	    {"models.csv", "errors", "0.5", "a whole number"},
	    {"models.csv", "pass_rate", "1.5", "a rate from 0 to 1"},
	    {"models.csv", "pass_rate_lo", "-0.1", "a rate from 0 to 1"},
	    {"models.csv", "cost_usd_total", "-3", "a USD amount"},
	    {"models.csv", "cost_usd_per_1k_items", "1e308", "a USD amount"},
	    {"models.csv", "latency_ms_p95", "-5", "milliseconds"},
	    {"models.csv", "cost_unknown", "1e300", "a whole number"},
	    {"tasks.csv", "n", "-2", "a whole number"},
	    {"tasks.csv", "pass_rate", "7", "a rate from 0 to 1"},
	    {"slots.csv", "share", "1.2", "a rate from 0 to 1"},
	    {"slots.csv", "items", "3.5", "a whole number"},
	    {"pairs.csv", "n", "-7", "a whole number"},
	    {"pairs.csv", "delta_pass_rate", "2", "a difference of rates"},
	    {"pairs.csv", "mcnemar_p", "-0.1", "a rate from 0 to 1"},
	    {"pairs.csv", "delta_cost_usd_per_1k_items", "-1e308", "a finite difference"},
	    {"swaps.csv", "n_swapped", "1e308", "a whole number"},
	    {"swaps.csv", "delta_pass_rate_hi", "-1.5", "a difference of rates"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dir = copy_run(FIX "/run");
		set_cell(dir, bad[i].file, 2, bad[i].col, bad[i].value);
		struct se_err err;
		se_clear(&err);
		cr_expect_eq(rep_write(dir, NULL, &err), -1, "%s %s=%s shown", bad[i].file,
			     bad[i].col, bad[i].value);
		cr_expect_eq(err.kind, SE_INPUT);
		cr_expect(strstr(err.where, bad[i].file), "where: %s", err.where);
		char at[128];
		snprintf(at, sizeof(at), "record 2, column \"%s\"", bad[i].col);
		cr_expect(strstr(err.msg, at) && strstr(err.msg, bad[i].want) &&
			      strstr(err.msg, bad[i].value),
			  "%s %s=%s: %s", bad[i].file, bad[i].col, bad[i].value, err.msg);
		cr_expect(!exists(dir, "report.html"), "a report was written anyway");
		test_rmdir(dir);
	}
}

/* pairwise.csv (the judge's) is held to the same kinds: n -7 was shown. */
Test(report, refuses_a_negative_count_in_pairwise_csv)
{
	char *dir = copy_run(FIX "/run");
	char *p = fio_join(dir, "pairwise.csv");
	test_write_file(p, "scope,scope_value,reference,shadow,n,wins,losses,ties,errors,"
			   "not_compared,win_rate,win_rate_lo,win_rate_hi,sign_p,verdict,"
			   "position_consistency\n"
			   "overall,all,policy,acme/deep-1,-7,1,1,0,0,0,0.5,0.1,0.9,1,"
			   "no_difference,1\n");
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(rep_write(dir, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect(strstr(err.where, "pairwise.csv"), "%s", err.where);
	cr_expect(strstr(err.msg, "record 2, column \"n\"") && strstr(err.msg, "\"-7\""), "%s",
		  err.msg);
	free(p);
	test_rmdir(dir);
}

/* dir/name (JSON) with the value at path (keys joined by dots) replaced by
 * the JSON text raw. */
static void set_json(const char *dir, const char *name, const char *path, const char *raw)
{
	char *file = fio_join(dir, name);
	size_t len;
	char *data = test_read_file(file, &len);
	cJSON *m = cJSON_ParseWithLength(data, len), *o = m;
	free(data);
	char key[128];
	snprintf(key, sizeof(key), "%s", path);
	char *k = key, *dot;
	while ((dot = strchr(k, '.'))) {
		*dot = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, k);
		cr_assert(cJSON_IsObject(o), "%s: no object %s", file, k);
		k = dot + 1;
	}
	cJSON *v = cJSON_Parse(raw);
	cr_assert(v, "bad raw JSON %s", raw);
	if (cJSON_GetObjectItemCaseSensitive(o, k))
		cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
	else
		cJSON_AddItemToObject(o, k, v);
	char *text = cJSON_Print(m);
	test_write_file(file, text);
	free(text);
	cJSON_Delete(m);
	free(file);
}

/* The manifest's fields were shown whatever they held (items 1e308, spent
 * -1e308 as "-$100,000,...", status "weird", a shard object, shadows 5
 * dropped): the report applies the rules every manifest reader applies,
 * naming "manifest.json: <json path>". */
Test(report, refuses_manifest_fields_run_never_writes)
{
	static const struct {
		const char *path, *raw;
	} bad[] = {
	    {"counts.items", "1e308"},
	    {"counts.items", "2.5"},
	    {"counts.items_not_run", "-1"},
	    {"counts.requests", "\"27\""},
	    {"counts.results_written", "-26"},
	    {"counts.by_status.timeout", "1.5"},
	    {"counts.spent_usd", "-1e308"},
	    {"counts.spent_usd", "\"0.01\""},
	    {"status", "\"weird\""},
	    {"status", "null"},
	    {"shard", "{\"k\":5,\"n\":2}"},
	    {"shard", "\"5/2\""},
	    {"shard", "\"0/2\""},
	    {"shadows", "5"},
	    {"shadows", "[1]"},
	    {"slots", "[]"},
	    {"concurrency", "-8"},
	    {"limit", "1e308"},
	    {"started_at", "17"},
	    {"ended_at", "false"},
	    {"eval", "{}"},
	    {"cache", "3"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dir = copy_run(FIX "/run");
		set_json(dir, "manifest.json", bad[i].path, bad[i].raw);
		struct se_err err;
		se_clear(&err);
		cr_expect_eq(rep_write(dir, NULL, &err), -1, "%s = %s shown", bad[i].path,
			     bad[i].raw);
		cr_expect_eq(err.kind, SE_INPUT);
		char want[256];
		snprintf(want, sizeof(want), "manifest.json: %s",
			 strncmp(bad[i].path, "slots", 5) ? bad[i].path : "slots");
		cr_expect(strstr(err.where, want), "%s = %s: where %s", bad[i].path, bad[i].raw,
			  err.where);
		cr_expect(!exists(dir, "report.html"), "a report was written anyway");
		test_rmdir(dir);
	}
}

/* recommended.json naming no policy of pareto.csv (99999), or not naming
 * one at all (-1, "<b>", 2.5), was ignored: nothing was marked and the page
 * said no policy meets the rule. Refused naming recommended.json:
 * policy_id; null (no recommendation) is still fine. */
Test(report, refuses_a_recommended_policy_id_it_cannot_mark)
{
	static const char *const bad[] = {"99999", "-1", "\"<b>\"", "2.5", "true", "1e308"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dir = copy_run(FIX "/run");
		put(dir, "sweep.csv", FIX "/sweep/sweep.csv");
		put(dir, "pareto.csv", FIX "/sweep/pareto.csv");
		put(dir, "recommended.json", FIX "/sweep/recommended.json");
		set_json(dir, "recommended.json", "policy_id", bad[i]);
		struct se_err err;
		se_clear(&err);
		cr_expect_eq(rep_write(dir, NULL, &err), -1, "policy_id %s accepted", bad[i]);
		cr_expect_eq(err.kind, SE_INPUT);
		cr_expect(strstr(err.where, "recommended.json: policy_id"), "%s: where %s", bad[i],
			  err.where);
		cr_expect(!exists(dir, "report.html"), "a report was written anyway");
		test_rmdir(dir);
	}
	char *dir = copy_run(FIX "/run");
	put(dir, "sweep.csv", FIX "/sweep/sweep.csv");
	put(dir, "pareto.csv", FIX "/sweep/pareto.csv");
	put(dir, "recommended.json", FIX "/sweep/recommended.json");
	set_json(dir, "recommended.json", "policy_id", "null");
	free(report_of(dir, NULL));
	test_rmdir(dir);
}
