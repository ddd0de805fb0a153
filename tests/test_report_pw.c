/* test_report_pw.c: report.html's "Judge: pairwise" section (src/report/
 * rep_pw.c) from the summaries of tests/fixtures/summarize/judged.jsonl,
 * with the shadow renamed to hold HTML (every cell must be escaped); and no
 * such section for a run without pairwise verdicts.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support/files.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "report/report.h"
#include "summarize/summarize.h"

#define FIX "tests/fixtures/summarize/"

/* src with every "s/cand" replaced by `name`. */
static char *renamed(const char *src, const char *name)
{
	struct buf b;
	buf_init(&b);
	for (const char *p = src, *hit; *p; p = hit + 6) {
		hit = strstr(p, "s/cand");
		if (!hit) {
			buf_puts(&b, p);
			break;
		}
		buf_append(&b, p, (size_t)(hit - p));
		buf_puts(&b, name);
	}
	return buf_detach(&b, NULL);
}

static char *page_of(const char *results, const char *shadow_name)
{
	char *dir = test_mkdtemp("reppw");
	char *src = test_read_file(results, NULL);
	char *text = shadow_name ? renamed(src, shadow_name) : strdup(src);
	test_write_file(test_path(dir, "results.jsonl"), text);
	free(src);
	free(text);
	struct se_err err;
	cr_assert_eq(sum_run_dir(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	cr_assert_eq(rep_write(dir, NULL, &err), 0, "%s: %s", err.where, err.msg);
	char *html = test_read_file(test_path(dir, "report.html"), NULL);
	test_rmdir(dir);
	return html;
}

Test(report_pw, shows_the_pairwise_and_agreement_tables_escaped)
{
	char *html = page_of(FIX "judged.jsonl", "s/<b>&\\\"x");
	const char *sec = strstr(html, "<section id=\"pairwise\">");
	cr_assert(sec, "no pairwise section");
	cr_expect(strstr(html, "<a href=\"#pairwise\">"), "no link in the navigation");
	const char *end = strstr(sec, "</section>");
	cr_assert(end);
	char *s = strndup(sec, (size_t)(end - sec));
	cr_expect(strstr(s, "s/&lt;b&gt;&amp;&quot;x"), "escaped shadow name: %s", s);
	cr_expect_null(strstr(s, "<b>&"), "raw shadow name: %s", s);
	cr_expect(strstr(s, "66.7%"), "overall win rate: %s", s);
	cr_expect(strstr(s, "Same winner in both orders"), "%s", s);
	cr_expect(strstr(s, "80.0%"), "position consistency: %s", s);
	cr_expect(strstr(s, "Judge against the text checks"), "%s", s);
	cr_expect(strstr(s, "0.625"), "kappa: %s", s);
	cr_expect(strstr(s, "83.3%"), "agreement: %s", s);
	free(s);
	free(html);
}

Test(report_pw, a_run_without_verdicts_has_no_judge_section)
{
	char *html = page_of(FIX "results.jsonl", NULL);
	cr_expect_null(strstr(html, "id=\"pairwise\""));
	cr_expect_null(strstr(html, "#pairwise"));
	free(html);
}
