/* test_gate.c: `shadoweval check`, the regression gate, on the run folders of
 * tests/fixtures/gate/ (see make_fixtures.py there for what each one holds:
 * a 100-item baseline with primary, shadow and fallback lines, and variants
 * with one change each: lost passes, a higher cost, a slower p95, a replay of
 * cache hits, other item ids).
 *
 * Expected figures are worked out from the fixture's definition, not from
 * the code: base passes 91/100; drop8 loses 8 passes (McNemar p = 2/256);
 * drop2 loses 3 and gains 1 (p = 2 * 5/16); floor keeps 20 items and loses
 * 3 of them (-15 points, p = 2 * 1/8); cost25 multiplies every cost by 1.25;
 * slow every latency by 1.5 (base p95 by type 7 over 100 values: 388.15 ms).
 * The JUnit file is checked with a small well-formedness parser below (and
 * with xmllint when it is installed).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support/files.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "gate/gate.h"

#define FIX "tests/fixtures/gate/"

/* cmd_check prints its report: keep the test log readable. */
static void quiet(void)
{
	cr_redirect_stdout();
}

TestSuite(gate, .init = quiet);

/* cmd_check with the words of `line` (split on spaces) after "check". */
static int check(const char *line, struct se_err *err)
{
	char *copy = strdup(line);
	char *argv[32];
	int argc = 0;
	argv[argc++] = "check";
	for (char *t = strtok(copy, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	se_clear(err);
	int rc = cmd_check(argc, argv, err);
	free(copy);
	return rc;
}

static void compare(const char *cur, const char *base, const struct gate_opts *o,
		    struct gate_report *r)
{
	struct gate_opts d;
	gate_opts_init(&d);
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(gate_compare(cur, base, o ? o : &d, r, &err), 0, "%s: %s", err.where, err.msg);
}

static char *text_of(const struct gate_report *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	cr_assert(fp);
	gate_write_text(r, fp);
	fclose(fp);
	return text;
}

static const struct gate_model *model(const struct gate_report *r, const char *name)
{
	for (size_t i = 0; i < r->nmodels; i++)
		if (!strcmp(r->models[i].name, name))
			return &r->models[i];
	cr_assert_fail("model %s not in the report", name);
	return NULL;
}

/* ---- a small XML well-formedness check: balanced tags, quoted attributes,
 * only known entities, no raw '<' or '&' in text or values ---- */

static const char *xml_entity(const char *p)
{
	static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
	for (size_t i = 0; i < 5; i++)
		if (!strncmp(p, named[i], strlen(named[i])))
			return p + strlen(named[i]);
	if (p[1] == '#') {
		const char *q = p + 2;
		while (*q >= '0' && *q <= '9')
			q++;
		if (q > p + 2 && *q == ';')
			return q + 1;
	}
	return NULL;
}

/* Character data up to the next '<' (or `quote`); NULL when malformed. */
static const char *xml_chars(const char *p, char quote)
{
	while (*p && *p != '<' && *p != quote) {
		if (*p == '&') {
			p = xml_entity(p);
			if (!p)
				return NULL;
		} else {
			if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				return NULL;
			p++;
		}
	}
	return p;
}

static const char *xml_name(const char *p)
{
	const char *s = p;
	while (*p && (strchr("_-.:", *p) || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
		p++;
	return p > s ? p : NULL;
}

/* 0 when doc is well-formed; else the offset of the problem + 1. */
static size_t xml_check(const char *doc, int *testcases, int *failures)
{
	const char *p = doc, *stack[32];
	size_t len[32], depth = 0;
	int roots = 0;
	*testcases = *failures = 0;
	if (!strncmp(p, "<?xml", 5)) {
		p = strstr(p, "?>");
		if (!p)
			return 1;
		p += 2;
	}
	while (*p) {
		if (*p != '<') {
			const char *q = xml_chars(p, 0);
			if (!q)
				return (size_t)(p - doc) + 1;
			if (depth == 0 && strspn(p, " \t\r\n") < (size_t)(q - p))
				return (size_t)(p - doc) + 1; /* text outside the root */
			p = q;
			continue;
		}
		if (p[1] == '/') {
			const char *e = xml_name(p + 2);
			if (!e || *e != '>' || depth == 0 ||
			    len[depth - 1] != (size_t)(e - p - 2) ||
			    strncmp(stack[depth - 1], p + 2, len[depth - 1]))
				return (size_t)(p - doc) + 1;
			depth--;
			p = e + 1;
			continue;
		}
		const char *name = p + 1, *e = xml_name(name);
		if (!e)
			return (size_t)(p - doc) + 1;
		size_t n = (size_t)(e - name);
		if (n == 8 && !strncmp(name, "testcase", 8))
			(*testcases)++;
		if (n == 7 && !strncmp(name, "failure", 7))
			(*failures)++;
		p = e;
		for (;;) {
			p += strspn(p, " \t\r\n");
			if (*p == '>' || (*p == '/' && p[1] == '>'))
				break;
			const char *an = xml_name(p);
			if (!an || an == p || an[0] != '=' || an[1] != '"')
				return (size_t)(p - doc) + 1;
			const char *v = xml_chars(an + 2, '"');
			if (!v || *v != '"')
				return (size_t)(an - doc) + 1;
			p = v + 1;
		}
		if (depth == 0 && roots++)
			return (size_t)(p - doc) + 1; /* a second root */
		if (*p == '/') {
			p += 2;
			continue;
		}
		if (depth == 32)
			return (size_t)(p - doc) + 1;
		stack[depth] = name;
		len[depth++] = n;
		p++;
	}
	return depth == 0 && roots == 1 ? 0 : (size_t)(p - doc) + 1;
}

/* ---- tests ---- */

Test(gate, identical_runs_pass)
{
	struct se_err err;
	cr_assert_eq(check(FIX "base --baseline " FIX "base", &err), 0, "%s: %s", err.where,
		     err.msg);
	struct gate_report r;
	compare(FIX "base", FIX "base", NULL, &r);
	cr_expect_eq(r.failures, 0);
	cr_expect_eq(r.paired, 100);
	cr_expect_eq(r.checks[GATE_QUALITY].base_k, 91);
	cr_expect_eq(r.checks[GATE_QUALITY].cur_k, 91);
	cr_expect_eq(r.checks[GATE_QUALITY].delta, 0);
	cr_expect_eq(r.checks[GATE_QUALITY].p, 1);
	cr_expect_eq(r.checks[GATE_COST].delta, 0);
	cr_expect_eq(r.checks[GATE_LATENCY].delta, 0);
	for (int i = 0; i < GATE_NCHECKS; i++)
		cr_expect_eq(r.checks[i].verdict, GATE_PASS, "%s", r.checks[i].name);
	gate_report_free(&r);
}

Test(gate, config_change_is_not_an_error)
{
	struct se_err err;
	cr_assert_eq(check(FIX "same --baseline " FIX "base", &err), 0, "%s: %s", err.where,
		     err.msg);
	struct gate_report r;
	compare(FIX "same", FIX "base", NULL, &r);
	cr_expect_eq(r.config_same, 0);
	cr_expect_eq(r.dataset_same, 1);
	char *text = text_of(&r);
	cr_expect(strstr(text, "config:  different"), "%s", text);
	cr_expect(strstr(text, "dataset: same"), "%s", text);
	cr_expect(strstr(text, "result: PASS"), "%s", text);
	free(text);
	gate_report_free(&r);
}

Test(gate, policy_counts_the_fallback_that_served)
{
	/* i050: the primary failed (http_5xx), the fallback passed: the
	 * policy passes it, so 91 and not 90 */
	struct gate_report r;
	compare(FIX "base", FIX "base", NULL, &r);
	cr_expect_eq(r.checks[GATE_QUALITY].base_k, 91);
	/* its cost is the fallback's (0.002), the failed primary's is unknown:
	 * (99 * 0.001 + 0.002) / 100 * 1000 */
	cr_expect(fabs(r.checks[GATE_COST].base - 1.01) < 1e-9, "%.12g", r.checks[GATE_COST].base);
	cr_expect_eq(r.checks[GATE_COST].n, 100);
	gate_report_free(&r);
}

Test(gate, significant_quality_drop_fails)
{
	char *dir = test_mkdtemp("gate");
	char *junit = fio_join(dir, "check.xml"), *md = fio_join(dir, "check.md");
	char line[1024];
	snprintf(line, sizeof(line), FIX "drop8 --baseline " FIX "base --junit %s --markdown %s",
		 junit, md);
	struct se_err err;
	cr_assert_eq(check(line, &err), -1);
	cr_expect_eq(err.kind, SE_FINDING, "%d %s", err.kind, err.msg);
	cr_expect(strstr(err.msg, "pass_rate"), "%s", err.msg);
	cr_expect(!strstr(err.msg, "cost"), "%s", err.msg);

	struct gate_report r;
	compare(FIX "drop8", FIX "base", NULL, &r);
	const struct gate_check *q = &r.checks[GATE_QUALITY];
	cr_expect_eq(q->verdict, GATE_FAIL);
	cr_expect_eq(q->base_k, 91);
	cr_expect_eq(q->cur_k, 83);
	cr_expect(fabs(q->delta + 8.0) < 1e-9, "%g", q->delta);
	cr_expect(fabs(q->p - 2.0 / 256) < 1e-12, "%g", q->p);
	cr_expect(q->lo < -8.0 && q->hi < 0 && q->hi > -8.0, "[%g, %g]", q->lo, q->hi);
	cr_expect(strstr(q->why, "significant"), "%s", q->why);
	cr_expect_eq(r.failures, 1);
	gate_report_free(&r);

	char *x = test_read_file(junit, NULL);
	char *tc = strstr(x, "<testcase classname=\"shadoweval.check\" name=\"pass_rate\">");
	cr_assert(tc, "%s", x);
	char *end = strstr(tc, "</testcase>");
	char *fail = strstr(tc, "<failure");
	cr_expect(fail && end && fail < end, "%s", x);
	cr_expect(strstr(x, "<testsuite name=\"shadoweval.check\" tests=\"3\" failures=\"1\""),
		  "%s", x);
	char *m = test_read_file(md, NULL);
	cr_expect(strstr(m, "### shadoweval check: FAIL"), "%s", m);
	cr_expect(strstr(m, "| pass\\_rate | 91.0% (91/100) | 83.0% (83/100) |"), "%s", m);
	char *row = strstr(m, "| pass\\_rate |");
	cr_expect(row && strstr(row, "| **FAIL** |") < strchr(row, '\n'), "%s", m);
	free(x);
	free(m);
	free(junit);
	free(md);
	test_rmdir(dir);
}

Test(gate, significant_drop_within_tolerance_passes)
{
	struct se_err err;
	cr_expect_eq(check(FIX "drop8 --baseline " FIX "base --max-pass-drop 10", &err), 0, "%s",
		     err.msg);
	/* 8 points is not beyond 8 */
	cr_expect_eq(check(FIX "drop8 --baseline " FIX "base --max-pass-drop 8", &err), 0, "%s",
		     err.msg);
	cr_expect_eq(check(FIX "drop8 --baseline " FIX "base --max-pass-drop 7.5", &err), -1);
	cr_expect_eq(err.kind, SE_FINDING);
	/* the same drop at a stricter level: p = 0.0078 is not below 0.005 */
	cr_expect_eq(check(FIX "drop8 --baseline " FIX "base --alpha 0.005", &err), 0, "%s",
		     err.msg);
}

Test(gate, small_non_significant_drop_passes)
{
	struct se_err err;
	cr_expect_eq(check(FIX "drop2 --baseline " FIX "base", &err), 0, "%s", err.msg);
	struct gate_report r;
	compare(FIX "drop2", FIX "base", NULL, &r);
	const struct gate_check *q = &r.checks[GATE_QUALITY];
	cr_expect_eq(q->verdict, GATE_PASS);
	cr_expect(fabs(q->delta + 2.0) < 1e-9, "%g", q->delta);
	cr_expect(fabs(q->p - 0.625) < 1e-12, "%g", q->p);
	cr_expect(strstr(q->why, "not significant"), "%s", q->why);
	gate_report_free(&r);
}

Test(gate, large_drop_on_a_small_sample_fails_without_significance)
{
	struct gate_report r;
	compare(FIX "floor", FIX "base", NULL, &r);
	const struct gate_check *q = &r.checks[GATE_QUALITY];
	cr_expect_eq(r.paired, 20);
	cr_expect_eq(r.only_base, 80);
	cr_expect_eq(r.only_cur, 0);
	cr_expect(fabs(q->delta + 15.0) < 1e-9, "%g", q->delta);
	cr_expect(fabs(q->p - 0.25) < 1e-12, "%g", q->p);
	cr_expect_eq(q->verdict, GATE_FAIL);
	cr_expect(strstr(q->why, "more than 10 points"), "%s", q->why);
	char *text = text_of(&r);
	cr_expect(strstr(text, "80 items only in the baseline"), "%s", text);
	free(text);
	gate_report_free(&r);

	struct se_err err;
	cr_expect_eq(check(FIX "floor --baseline " FIX "base", &err), -1);
	cr_expect_eq(err.kind, SE_FINDING);
	cr_expect_eq(check(FIX "floor --baseline " FIX "base --max-pass-drop 20", &err), 0, "%s",
		     err.msg);
}

Test(gate, cost_increase_beyond_the_limit_fails)
{
	struct se_err err;
	cr_assert_eq(check(FIX "cost25 --baseline " FIX "base", &err), -1);
	cr_expect_eq(err.kind, SE_FINDING);
	cr_expect(strstr(err.msg, "cost_per_1k_items"), "%s", err.msg);
	cr_expect(!strstr(err.msg, "pass_rate"), "%s", err.msg);
	struct gate_report r;
	compare(FIX "cost25", FIX "base", NULL, &r);
	cr_expect_eq(r.checks[GATE_COST].verdict, GATE_FAIL);
	cr_expect(fabs(r.checks[GATE_COST].delta - 25.0) < 1e-6, "%g", r.checks[GATE_COST].delta);
	cr_expect(fabs(r.checks[GATE_COST].cur - 1.2625) < 1e-9, "%g", r.checks[GATE_COST].cur);
	cr_expect_eq(r.checks[GATE_QUALITY].verdict, GATE_PASS);
	cr_expect_eq(r.checks[GATE_LATENCY].verdict, GATE_PASS);
	gate_report_free(&r);
}

Test(gate, cost_increase_within_the_limit_passes)
{
	struct se_err err;
	cr_expect_eq(check(FIX "cost25 --baseline " FIX "base --max-cost-increase 30", &err), 0,
		     "%s", err.msg);
	/* a cost decrease is never a regression */
	cr_expect_eq(check(FIX "base --baseline " FIX "cost25 --max-cost-increase 0", &err), 0,
		     "%s", err.msg);
}

Test(gate, unknown_costs_skip_the_cost_check)
{
	/* base with every cost_usd null: nothing to compare, skipped, noted */
	char *dir = test_mkdtemp("gate");
	char *src = test_read_file(FIX "base/results.jsonl", NULL);
	struct buf out;
	buf_init(&out);
	const char *key = "\"cost_usd\":";
	for (const char *p = src;;) {
		const char *k = strstr(p, key);
		if (!k) {
			buf_puts(&out, p);
			break;
		}
		k += strlen(key);
		buf_append(&out, p, (size_t)(k - p));
		buf_puts(&out, "null");
		p = k + strcspn(k, ",}");
	}
	char *dst = fio_join(dir, "results.jsonl");
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_write_atomic(dst, out.data, out.len, &err), 0, "%s", err.msg);
	struct gate_report r;
	compare(dir, FIX "base", NULL, &r);
	cr_expect_eq(r.checks[GATE_COST].verdict, GATE_SKIP);
	cr_expect(isnan(r.checks[GATE_COST].cur));
	cr_expect_eq(r.failures, 0);
	char *text = text_of(&r);
	cr_expect(strstr(text, "cost check skipped"), "%s", text);
	free(text);
	gate_report_free(&r);
	buf_free(&out);
	free(src);
	free(dst);
	test_rmdir(dir);
}

Test(gate, p95_increase_beyond_the_limit_fails)
{
	struct se_err err;
	cr_assert_eq(check(FIX "slow --baseline " FIX "base", &err), -1);
	cr_expect_eq(err.kind, SE_FINDING);
	cr_expect(strstr(err.msg, "latency_p95_ms"), "%s", err.msg);
	struct gate_report r;
	compare(FIX "slow", FIX "base", NULL, &r);
	const struct gate_check *l = &r.checks[GATE_LATENCY];
	cr_expect_eq(l->verdict, GATE_FAIL);
	cr_expect(fabs(l->base - 388.15) < 1e-3, "%g", l->base);
	cr_expect(fabs(l->delta - 50.0) < 1e-3, "%g", l->delta);
	gate_report_free(&r);
	cr_expect_eq(check(FIX "slow --baseline " FIX "base --max-p95-increase 60", &err), 0, "%s",
		     err.msg);
}

Test(gate, all_cached_run_skips_latency)
{
	char *dir = test_mkdtemp("gate");
	char *junit = fio_join(dir, "check.xml");
	char line[1024];
	snprintf(line, sizeof(line), FIX "cached --baseline " FIX "base --junit %s", junit);
	struct se_err err;
	cr_expect_eq(check(line, &err), 0, "%s", err.msg);
	struct gate_report r;
	compare(FIX "cached", FIX "base", NULL, &r);
	cr_expect_eq(r.checks[GATE_LATENCY].verdict, GATE_SKIP);
	cr_expect(isnan(r.checks[GATE_LATENCY].cur));
	cr_expect(isnan(r.checks[GATE_LATENCY].delta));
	cr_expect_eq(r.checks[GATE_QUALITY].verdict, GATE_PASS);
	cr_expect_eq(r.checks[GATE_COST].verdict, GATE_PASS); /* cache hits still cost */
	char *text = text_of(&r);
	cr_expect(strstr(text, "latency check skipped"), "%s", text);
	cr_expect(strstr(text, "100 of 100 policy results are cache hits"), "%s", text);
	free(text);
	gate_report_free(&r);
	char *x = test_read_file(junit, NULL);
	char *tc = strstr(x, "name=\"latency_p95_ms\">");
	cr_expect(tc && strstr(tc, "<skipped message=\"skipped: no latency"), "%s", x);
	cr_expect(strstr(x, "skipped=\"1\""), "%s", x);
	cr_expect(!strstr(x, "<failure"), "%s", x);
	free(x);
	free(junit);
	test_rmdir(dir);
}

Test(gate, disjoint_items_are_an_input_error)
{
	struct se_err err;
	cr_assert_eq(check(FIX "disjoint --baseline " FIX "base", &err), -1);
	cr_expect_eq(err.kind, SE_INPUT, "%d", err.kind);
	cr_expect(strstr(err.msg, "no item in common"), "%s", err.msg);
	cr_expect(strstr(err.msg, "10 items here, 100 there"), "%s", err.msg);
}

Test(gate, missing_baseline_names_the_path)
{
	struct se_err err;
	cr_assert_eq(check(FIX "base --baseline " FIX "no-such-run", &err), -1);
	cr_expect(err.kind == SE_INPUT || err.kind == SE_IO, "%d", err.kind);
	cr_expect(strstr(err.where, "no-such-run"), "%s", err.where);
	cr_expect(strstr(err.msg, "baseline"), "%s", err.msg);
	/* a folder without results.jsonl */
	cr_assert_eq(check(FIX "base --baseline " FIX, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT, "%d", err.kind);
	cr_expect(strstr(err.where, "results.jsonl"), "%s", err.where);
	/* the current run too */
	cr_assert_eq(check(FIX "no-such-run --baseline " FIX "base", &err), -1);
	cr_expect(strstr(err.where, "no-such-run"), "%s", err.where);
	cr_expect(strstr(err.msg, "current"), "%s", err.msg);
}

/* Issue 9 #20: a cost of 1e308 made the gate print -nan% and pass. */
Test(gate, cost_out_of_range_is_an_input_error_naming_file_line_and_field)
{
	char *dir = test_mkdtemp("gate");
	char *src = test_read_file(FIX "base/results.jsonl", NULL);
	const char *key = "\"cost_usd\":";
	char *k = strstr(src, key);
	cr_assert_not_null(k);
	k += strlen(key);
	struct buf out;
	buf_init(&out);
	buf_append(&out, src, (size_t)(k - src));
	buf_puts(&out, "1e308");
	buf_puts(&out, k + strcspn(k, ",}"));
	char *dst = fio_join(dir, "results.jsonl");
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_write_atomic(dst, out.data, out.len, &err), 0, "%s", err.msg);
	char line[600];
	snprintf(line, sizeof(line), "%s --baseline " FIX "base", dir);
	cr_assert_eq(check(line, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT, "%d %s", err.kind, err.msg);
	char want[600];
	snprintf(want, sizeof(want), "%s:1", dst);
	cr_expect_str_eq(err.where, want);
	cr_expect(strstr(err.msg, "cost_usd"), "%s", err.msg);
	buf_free(&out);
	free(src);
	free(dst);
	test_rmdir(dir);
}

Test(gate, run_without_manifest_is_compared_with_unknown_hashes)
{
	char *dir = test_mkdtemp("gate");
	char *src = test_read_file(FIX "base/results.jsonl", NULL);
	char *dst = fio_join(dir, "results.jsonl");
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_write_atomic(dst, src, strlen(src), &err), 0, "%s", err.msg);
	struct gate_report r;
	compare(dir, FIX "base", NULL, &r);
	cr_expect_eq(r.dataset_same, -1);
	cr_expect_eq(r.failures, 0);
	char *text = text_of(&r);
	cr_expect(strstr(text, "no manifest.json in the current run"), "%s", text);
	free(text);
	gate_report_free(&r);
	free(src);
	free(dst);
	test_rmdir(dir);
}

Test(gate, dataset_difference_is_reported)
{
	struct gate_report r;
	compare(FIX "cost25", FIX "base", NULL, &r);
	cr_expect_eq(r.dataset_same, 0);
	char *text = text_of(&r);
	cr_expect(strstr(text, "dataset: DIFFERENT"), "%s", text);
	cr_expect(strstr(text, "the dataset differs (dataset_sha256 d0d0d0d0d0d0 in the baseline, "
			       "d1d1d1d1d1d1 here)"),
		  "%s", text);
	free(text);
	gate_report_free(&r);
}

Test(gate, per_model_deltas_are_information_only)
{
	/* drop8 loses 8 passes, all on odd items, which acme/fast answers */
	struct gate_report r;
	compare(FIX "drop8", FIX "base", NULL, &r);
	const struct gate_model *f = model(&r, "acme/fast");
	cr_expect_eq(f->n, 50);
	cr_expect_eq(f->only_base, 8);
	cr_expect_eq(f->only_cur, 0);
	cr_expect(fabs(f->delta + 16.0) < 1e-9, "%g", f->delta);
	const struct gate_model *d = model(&r, "acme/deep");
	cr_expect_eq(d->n, 50); /* its failed primary on i050 included */
	cr_expect_eq(d->both, 40);
	cr_expect_eq(d->delta, 0);
	const struct gate_model *s = model(&r, "acme/a&b<c");
	cr_expect_eq(s->n, 100);
	cr_expect_eq(s->both, 80);
	cr_expect_eq(model(&r, "acme/backup")->n, 0); /* fallback lines only */
	gate_report_free(&r);

	/* the shadow fails 30 more items, the policy is unchanged: the gate
	 * reports it and passes */
	char *dir = test_mkdtemp("gate");
	char *src = test_read_file(FIX "base/results.jsonl", NULL);
	struct buf out;
	buf_init(&out);
	int changed = 0;
	for (char *l = src; *l;) {
		char *nl = strchr(l, '\n') + 1;
		char *pass = strstr(l, "\"pass\":true");
		char *role = strstr(l, "\"role\":\"shadow\"");
		if (changed < 30 && role && role < nl && pass && pass < nl) {
			buf_append(&out, l, (size_t)(pass - l));
			buf_puts(&out, "\"pass\":false");
			buf_append(&out, pass + 11, (size_t)(nl - pass - 11));
			changed++;
		} else {
			buf_append(&out, l, (size_t)(nl - l));
		}
		l = nl;
	}
	cr_assert_eq(changed, 30);
	char *dst = fio_join(dir, "results.jsonl");
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_write_atomic(dst, out.data, out.len, &err), 0, "%s", err.msg);
	buf_free(&out);
	compare(dir, FIX "base", NULL, &r);
	s = model(&r, "acme/a&b<c");
	cr_expect_eq(s->only_base, 30);
	cr_expect(s->p < 1e-6, "%g", s->p);
	cr_expect_eq(r.failures, 0);
	char *text = text_of(&r);
	cr_expect(strstr(text, "acme/a&b<c"), "%s", text);
	cr_expect(strstr(text, "-30.0 pts"), "%s", text);
	free(text);
	gate_report_free(&r);
	free(src);
	free(dst);
	test_rmdir(dir);
}

Test(gate, junit_is_well_formed_and_escapes_names)
{
	char *dir = test_mkdtemp("gate");
	char *junit = fio_join(dir, "junit.xml"), *md = fio_join(dir, "report.md");
	char line[1024];
	snprintf(line, sizeof(line), FIX "drop8 --baseline " FIX "base --junit %s --markdown %s",
		 junit, md);
	struct se_err err;
	cr_assert_eq(check(line, &err), -1);
	char *x = test_read_file(junit, NULL);
	int testcases, failures;
	size_t bad = xml_check(x, &testcases, &failures);
	cr_expect_eq(bad, 0, "not well-formed at offset %zu: %.60s", bad - 1, x + bad - 1);
	cr_expect_eq(testcases, 3);
	cr_expect_eq(failures, 1);
	cr_expect(strstr(x, "acme/a&amp;b&lt;c"), "%s", x);
	cr_expect(!strstr(x, "a&b<c"), "%s", x);
	cr_expect(!strstr(x, "a&amp;b<c"), "%s", x);
	if (system("command -v xmllint >/dev/null 2>&1") == 0) {
		char cmd[1200];
		snprintf(cmd, sizeof(cmd), "xmllint --noout '%s' 2>&1", junit);
		cr_expect_eq(system(cmd), 0, "xmllint rejects %s", junit);
	}
	char *m = test_read_file(md, NULL);
	cr_expect(strstr(m, "acme/a&amp;b&lt;c"), "%s", m);
	cr_expect(!strstr(m, "a&b<c"), "%s", m);
	free(x);
	free(m);
	free(junit);
	free(md);
	test_rmdir(dir);
}

Test(gate, xml_checker_rejects_what_it_should)
{
	/* the checker above must be able to fail */
	int t, f;
	cr_expect_eq(xml_check("<a><b></b></a>", &t, &f), 0);
	cr_expect_neq(xml_check("<a><b></a></b>", &t, &f), 0);
	cr_expect_neq(xml_check("<a x=\"1 & 2\"/>", &t, &f), 0);
	cr_expect_neq(xml_check("<a>x < y</a>", &t, &f), 0);
	cr_expect_neq(xml_check("<a x=\"a<b\"/>", &t, &f), 0);
	cr_expect_neq(xml_check("<a/><b/>", &t, &f), 0);
	cr_expect_neq(xml_check("<a>", &t, &f), 0);
	cr_expect_eq(xml_check("<?xml version=\"1.0\"?>\n<a x=\"&amp;&#10;\">&lt;</a>\n", &t, &f),
		     0);
}

Test(gate, output_files_are_written_atomically_and_errors_named)
{
	struct se_err err;
	cr_assert_eq(
	    check(FIX "base --baseline " FIX "base --junit " FIX "no-such-dir/junit.xml", &err),
	    -1);
	cr_expect_eq(err.kind, SE_IO, "%d %s", err.kind, err.msg);
	cr_expect(strstr(err.where, "no-such-dir/junit.xml"), "%s", err.where);
	cr_expect_eq(access(FIX "no-such-dir", F_OK), -1);
}

Test(gate, rejects_bad_flags)
{
	struct se_err err;
	cr_expect_eq(check(FIX "base", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.msg, "--baseline"), "%s", err.msg);
	cr_expect_eq(check("--baseline " FIX "base", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect_eq(check(FIX "base --baseline " FIX "base --alpha 1.5", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.where, "--alpha"), "%s", err.where);
	cr_expect_eq(check(FIX "base --baseline " FIX "base --max-cost-increase -5", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect_eq(check(FIX "base --baseline " FIX "base --max-pass-drop 150", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect_eq(check(FIX "base --baseline " FIX "base --tolerance 3", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.msg, "--tolerance"), "%s", err.msg);
	cr_expect_eq(check(FIX "base " FIX "same --baseline " FIX "base", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
}

/* The per-model rows are one family: with none the adjusted p is the raw p;
 * with Holm the smallest p is multiplied by the number of models compared
 * (a model without paired answers, the fallback, is not in the family), and
 * no adjusted p is below its raw p; BH is never above Holm. The gate's
 * decision does not move (pass_rate is a family of one). */
Test(gate, per_model_p_values_are_adjusted_as_one_family)
{
	struct gate_opts o;
	gate_opts_init(&o);
	cr_expect_eq(o.correction, STATS_HOLM, "Holm is the default");
	struct gate_report none, holm, bh;
	o.correction = STATS_NONE;
	compare(FIX "drop8", FIX "base", &o, &none);
	o.correction = STATS_HOLM;
	compare(FIX "drop8", FIX "base", &o, &holm);
	o.correction = STATS_BH;
	compare(FIX "drop8", FIX "base", &o, &bh);
	cr_assert_eq(none.nmodels, holm.nmodels);
	size_t k = 0, min = 0;
	for (size_t i = 0; i < holm.nmodels; i++) {
		if (!holm.models[i].n) {
			cr_expect(isnan(holm.models[i].p_adj), "%s", holm.models[i].name);
			continue;
		}
		if (!k || holm.models[i].p < holm.models[min].p)
			min = i;
		k++;
		cr_expect_eq(none.models[i].p_adj, none.models[i].p, "%s", none.models[i].name);
		cr_expect_geq(holm.models[i].p_adj, holm.models[i].p, "%s", holm.models[i].name);
		cr_expect_leq(bh.models[i].p_adj, holm.models[i].p_adj + 1e-15, "%s",
			      bh.models[i].name);
	}
	cr_assert_geq(k, 2, "the fixture compares several models");
	double want = fmin(1.0, (double)k * holm.models[min].p);
	cr_expect(fabs(holm.models[min].p_adj - want) < 1e-12, "%s: %g want %g",
		  holm.models[min].name, holm.models[min].p_adj, want);
	cr_expect_eq(holm.failures, none.failures);
	cr_expect_eq(holm.checks[GATE_QUALITY].p, none.checks[GATE_QUALITY].p);
	char *text = text_of(&holm);
	cr_expect(strstr(text, "p_adjusted: holm over the"), "%s", text);
	free(text);
	gate_report_free(&none);
	gate_report_free(&holm);
	gate_report_free(&bh);
}

Test(gate, an_unknown_correction_is_a_usage_error)
{
	struct se_err err;
	cr_expect_eq(check(FIX "drop8 --baseline " FIX "base --correction bonferroni", &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.msg, "holm, bh or none"), "%s", err.msg);
}
