/* test_judge.c: the judge and pairwise checks alone: config errors with
 * their JSON paths, built-in rubrics (and the README quoting them),
 * template rendering, reading scores and verdicts from judge replies. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/judge.h"

static int parse_text(struct jdg_check *jc, enum jdg_kind kind, const char *json,
		      struct se_err *err)
{
	cJSON *o = cJSON_Parse(json);
	cr_assert_not_null(o, "%s", json);
	se_clear(err);
	int rc = jdg_parse(jc, kind, o, "evals/x.json", "checks[1]", err);
	cJSON_Delete(o);
	return rc;
}

static void expect_fail(enum jdg_kind kind, const char *json, const char *where, const char *msg)
{
	struct jdg_check jc;
	struct se_err err;
	cr_assert_eq(parse_text(&jc, kind, json, &err), -1, "%s", json);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_not_null(strstr(err.where, where), "want %s, got %s (%s)", where, err.where,
			   json);
	cr_expect_not_null(strstr(err.msg, msg), "want \"%s\" in \"%s\"", msg, err.msg);
	jdg_free(&jc);
}

Test(judge, defaults_of_a_judge_check)
{
	struct jdg_check jc;
	struct se_err err;
	cr_assert_eq(parse_text(&jc, JDG_JUDGE,
				"{\"name\":\"q\",\"type\":\"judge\",\"judge\":\"deep\"}", &err),
		     0, "%s", err.msg);
	cr_expect_str_eq(jc.judge, "deep");
	cr_expect_null(jc.endpoint);
	cr_expect_eq(jc.rubric, JDG_AUTO);
	cr_expect_str_eq(jc.pattern, "Score:\\s*([1-5])");
	cr_expect_float_eq(jc.pass_threshold, 4.0, 1e-12);
	cr_expect_eq(jc.reply_chars, 400);
	cr_expect_float_eq(jc.temperature, 0.0, 1e-12);
	cr_expect_eq(jc.max_tokens, 256);
	jdg_free(&jc);
	cr_assert_eq(
	    parse_text(&jc, JDG_PAIRWISE, "{\"type\":\"pairwise\",\"judge\":\"j/m\"}", &err), 0,
	    "%s", err.msg);
	cr_expect_str_eq(jc.pattern, "Verdict:\\s*(A|B|tie)");
	jdg_free(&jc);
}

Test(judge, bad_config_names_the_json_path)
{
	expect_fail(JDG_JUDGE, "{\"type\":\"judge\"}", "evals/x.json: checks[1].judge", "missing");
	expect_fail(JDG_JUDGE, "{\"judge\":3}", "checks[1].judge", "not a number");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"rubric\":\"poetry\"}", "checks[1].rubric",
		    "unknown rubric poetry");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"pattern\":\"(\"}", "checks[1].pattern",
		    "invalid regex");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"templat\":\"x\"}", "checks[1].templat",
		    "unknown key");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"template\":\"{{outptu}}\"}",
		    "checks[1].template", "unknown placeholder {{outptu}}");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"template\":\"rate {{input}}\"}",
		    "checks[1].template", "add {{output}}");
	expect_fail(JDG_PAIRWISE, "{\"judge\":\"d\",\"template\":\"{{output}}\"}",
		    "checks[1].template", "unknown placeholder {{output}}");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"rubric\":\"code\",\"template\":\"{{output}}\"}",
		    "checks[1].template", "not both");
	expect_fail(JDG_PAIRWISE, "{\"judge\":\"d\",\"pass_threshold\":3}",
		    "checks[1].pass_threshold", "no threshold");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"pass_threshold\":1e308}",
		    "checks[1].pass_threshold", "must be a number from -1e9 to 1e9");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"pass_threshold\":-2e9}",
		    "checks[1].pass_threshold", "not -2e+09");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"pass_threshold\":\"4\"}",
		    "checks[1].pass_threshold", "must be a number, not a string");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"reply_chars\":-1}", "checks[1].reply_chars",
		    "whole number");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"params\":{\"temperature\":3}}",
		    "checks[1].params.temperature", "0 to 2");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"params\":{\"top_k\":3}}",
		    "checks[1].params.top_k", "unknown key");
	expect_fail(JDG_JUDGE, "{\"judge\":\"d\",\"endpoint\":\"\"}", "checks[1].endpoint",
		    "endpoint name");
}

/* A comparison shows both answers: one of them alone, once or twice (or
 * with the other misspelt), is refused at the template's path, naming the
 * missing one; both, in either order or repeated, is accepted. */
Test(judge, pairwise_template_needs_both_answers)
{
	static const struct {
		const char *tmpl, *msg;
	} bad[] = {
	    {"{{input}} {{output_a}}", "never shows answer B: add {{output_b}}"},
	    {"{{output_b}}", "never shows answer A: add {{output_a}}"},
	    {"{{output_a}} vs {{output_a}}", "never shows answer B: add {{output_b}}"},
	    {"{{output_b}}{{output_b}}{{expected}}", "never shows answer A: add {{output_a}}"},
	    {"{{input}} {{expected}}", "add {{output_a}} and {{output_b}}"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char json[256];
		snprintf(json, sizeof(json), "{\"judge\":\"d\",\"template\":\"%s\"}", bad[i].tmpl);
		expect_fail(JDG_PAIRWISE, json, "evals/x.json: checks[1].template", bad[i].msg);
	}
	static const char *const good[] = {"{{output_a}} {{output_b}}",
					   "B {{output_b}} A {{output_a}} again {{output_a}}"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char json[256];
		snprintf(json, sizeof(json), "{\"judge\":\"d\",\"template\":\"%s\"}", good[i]);
		struct jdg_check jc;
		struct se_err err;
		cr_expect_eq(parse_text(&jc, JDG_PAIRWISE, json, &err), 0, "%s: %s", good[i],
			     err.msg);
		jdg_free(&jc);
	}
}

Test(judge, auto_rubric_follows_the_task)
{
	struct jdg_check jc = {.rubric = JDG_AUTO};
	cr_expect_eq(jdg_rubric_for(&jc, "summarize"), JDG_SUMMARIZE);
	cr_expect_eq(jdg_rubric_for(&jc, "code"), JDG_CODE);
	cr_expect_eq(jdg_rubric_for(&jc, "translate"), JDG_GENERAL);
	cr_expect_eq(jdg_rubric_for(&jc, ""), JDG_GENERAL);
	cr_expect_eq(jdg_rubric_for(&jc, NULL), JDG_GENERAL);
	cr_expect_eq(jdg_rubric_for(&jc, "general"), JDG_GENERAL);
	jc.rubric = JDG_DRAFT;
	cr_expect_eq(jdg_rubric_for(&jc, "code"), JDG_DRAFT);
}

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* The README quotes each rubric's criterion and both frames exactly. */
Test(judge, readme_quotes_the_builtin_rubrics_exactly)
{
	char *doc = slurp("README.md");
	cr_assert_not_null(doc);
	for (int r = JDG_SUMMARIZE; r < JDG_N_RUBRIC; r++) {
		const char *c = jdg_rubric_criterion((enum jdg_rubric)r);
		cr_expect_not_null(strstr(doc, c), "README lacks the %s criterion: %s",
				   jdg_rubric_name((enum jdg_rubric)r), c);
	}
	struct buf b;
	buf_init(&b);
	for (int k = 0; k < 2; k++) {
		jdg_builtin_template((enum jdg_kind)k, JDG_GENERAL, &b);
		/* the frame around the criterion: everything after its line */
		const char *after = strchr(strchr(b.data, '\n') + 1, '\n');
		cr_assert_not_null(after);
		cr_expect_not_null(strstr(doc, after), "README lacks the %s frame:%s",
				   k ? "pairwise" : "judge", after);
	}
	buf_free(&b);
	free(doc);
}

Test(judge, builtin_templates_have_the_delimiters_shadowsim_reads)
{
	struct buf b;
	buf_init(&b);
	for (int r = JDG_SUMMARIZE; r < JDG_N_RUBRIC; r++) {
		jdg_builtin_template(JDG_JUDGE, (enum jdg_rubric)r, &b);
		cr_expect_not_null(strstr(b.data, "\n[ANSWER]\n{{output}}\n[/ANSWER]\n"));
		cr_expect_not_null(strstr(b.data, "`Score: N` (N from 1 to 5)"));
		jdg_builtin_template(JDG_PAIRWISE, (enum jdg_rubric)r, &b);
		cr_expect_not_null(strstr(b.data, "\n[ANSWER A]\n{{output_a}}\n[/ANSWER A]\n"));
		cr_expect_not_null(strstr(b.data, "\n[ANSWER B]\n{{output_b}}\n[/ANSWER B]\n"));
		cr_expect_not_null(strstr(b.data, "`Verdict: A`, `Verdict: B` or `Verdict: tie`"));
	}
	buf_free(&b);
}

Test(judge, render_fills_every_placeholder_once)
{
	struct jdg_check jc;
	struct se_err err;
	cr_assert_eq(
	    parse_text(&jc, JDG_JUDGE,
		       "{\"judge\":\"d\",\"template\":\"Q={{input}} A={{output}} "
		       "E={{expected}} T={{item.topic}} N={{item.n}} M={{item.missing}}\"}",
		       &err),
	    0, "%s", err.msg);
	cJSON *fields = cJSON_Parse("{\"topic\":\"tax\",\"n\":[1,2]}");
	const char *exp[] = {"18", "eighteen"};
	/* an answer that itself holds a placeholder is shown as is */
	struct jdg_input in = {"reason",	  fields, "how much?", exp, 2,
			       "it is {{input}}", 15,	  NULL,	       0};
	struct buf out;
	buf_init(&out);
	jdg_render(&jc, &in, &out);
	cr_expect_str_eq(out.data, "Q=how much? A=it is {{input}} E=18\neighteen T=tax N=[1,2] M=");
	buf_free(&out);
	cJSON_Delete(fields);
	jdg_free(&jc);
}

Test(judge, builtin_render_uses_the_task_rubric_and_both_answers)
{
	struct jdg_check jc;
	struct se_err err;
	cr_assert_eq(parse_text(&jc, JDG_PAIRWISE, "{\"judge\":\"d\"}", &err), 0);
	struct jdg_input in = {"summarize", NULL, "text", NULL, 0, "first", 5, "second", 6};
	struct buf out;
	buf_init(&out);
	jdg_render(&jc, &in, &out);
	cr_expect_not_null(strstr(out.data, jdg_rubric_criterion(JDG_SUMMARIZE)));
	cr_expect_not_null(strstr(out.data, "[ANSWER A]\nfirst\n[/ANSWER A]"), "%s", out.data);
	cr_expect_not_null(strstr(out.data, "[ANSWER B]\nsecond\n[/ANSWER B]"));
	cr_expect_not_null(strstr(out.data, "[REFERENCE]\n(none)\n[/REFERENCE]"));
	buf_free(&out);
	jdg_free(&jc);
}

Test(judge, score_from_the_last_match_and_threshold)
{
	struct jdg_check jc;
	struct se_err err;
	cr_assert_eq(parse_text(&jc, JDG_JUDGE, "{\"judge\":\"d\"}", &err), 0);
	struct jdg_grade g;
	const char *r = "Score: 2 at first glance... on reflection\nScore: 4\n";
	jdg_read_score(&jc, r, strlen(r), &g);
	cr_expect_not(g.error);
	cr_expect_float_eq(g.score, 4, 1e-12);
	cr_expect(g.pass);
	jdg_read_score(&jc, "Score: 3", 8, &g);
	cr_expect_not(g.pass);
	cr_expect_not(g.error);
	jdg_read_score(&jc, "Score: 9", 8, &g); /* the pattern allows 1-5 only */
	cr_expect(g.error);
	cr_expect(isnan(g.score));
	cr_expect_not_null(strstr(g.why, "no match for pattern Score:"), "%s", g.why);
	jdg_read_score(&jc, NULL, 0, &g);
	cr_expect(g.error);
	jdg_free(&jc);
}

Test(judge, a_capture_that_is_no_number_is_an_error)
{
	struct jdg_check jc;
	struct se_err err;
	cr_assert_eq(
	    parse_text(&jc, JDG_JUDGE, "{\"judge\":\"d\",\"pattern\":\"Grade: (\\\\w+)\"}", &err),
	    0, "%s", err.msg);
	struct jdg_grade g;
	jdg_read_score(&jc, "Grade: excellent", 16, &g);
	cr_expect(g.error);
	cr_expect_not(g.pass);
	cr_expect_not_null(strstr(g.why, "\"excellent\""), "%s", g.why);
	jdg_read_score(&jc, "Grade: 7", 8, &g);
	cr_expect_not(g.error);
	cr_expect(g.pass, "7 >= the default threshold 4");
	jdg_free(&jc);
}

Test(judge, verdicts_a_b_tie_and_garbage)
{
	struct jdg_check jc;
	struct se_err err;
	cr_assert_eq(parse_text(&jc, JDG_PAIRWISE, "{\"judge\":\"d\"}", &err), 0);
	struct jdg_grade g;
	jdg_read_verdict(&jc, "Verdict: A", 10, &g);
	cr_expect_eq(g.verdict, 'A');
	jdg_read_verdict(&jc, "B is longer.\nVerdict: B", 23, &g);
	cr_expect_eq(g.verdict, 'B');
	jdg_read_verdict(&jc, "Verdict: tie", 12, &g);
	cr_expect_eq(g.verdict, 'T');
	jdg_read_verdict(&jc, "Both are fine.", 14, &g);
	cr_expect(g.error);
	cr_expect_eq(g.verdict, 0);
	jdg_free(&jc);
	cr_assert_eq(parse_text(&jc, JDG_PAIRWISE,
				"{\"judge\":\"d\",\"pattern\":\"Winner: (\\\\w+)\"}", &err),
		     0);
	jdg_read_verdict(&jc, "Winner: C", 9, &g);
	cr_expect(g.error);
	cr_expect_not_null(strstr(g.why, "not A, B or tie: \"C\""), "%s", g.why);
	jdg_free(&jc);
}

Test(judge, cut_never_splits_a_character)
{
	const char *s = "ab\xc3\xa9z"; /* "abéz" */
	cr_expect_eq(jdg_cut(s, 5, 10), 5);
	cr_expect_eq(jdg_cut(s, 5, 3), 2); /* inside é: back to before it */
	cr_expect_eq(jdg_cut(s, 5, 4), 4);
	cr_expect_eq(jdg_cut(s, 5, 0), 0);
}
