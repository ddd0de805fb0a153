/* test_checks.c: the checks room: compiling check configs (and every way one
 * can be wrong), each check type, the normalizers, combining, the regex match
 * limit, invalid UTF-8, the outcome JSON, and lm-evaluation-harness's GSM8K
 * strict-match and flexible-extract on real reference solutions. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/checks.h"
#include "core/buf.h"
#include "core/fileio.h"

#define FIX "tests/fixtures/checks/"

/* Compiles {"checks":[...], "combine":..., "pass_threshold":...} from text. */
static int compile_doc(struct chk_set *set, const char *doc, struct se_err *err)
{
	cJSON *root = cJSON_Parse(doc);
	cr_assert_not_null(root, "bad test JSON: %s", doc);
	se_clear(err);
	int rc = chk_compile(
	    set, cJSON_GetObjectItem(root, "checks"), cJSON_GetObjectItem(root, "combine"),
	    cJSON_GetObjectItem(root, "pass_threshold"), "evals/x.json", "checks", err);
	cJSON_Delete(root);
	return rc;
}

static void compile_ok(struct chk_set *set, const char *doc)
{
	struct se_err err;
	cr_assert_eq(compile_doc(set, doc, &err), 0, "%s: %s", err.where, err.msg);
}

/* Compiles a single check object. */
static void compile_one(struct chk_set *set, const char *check)
{
	char doc[4096];
	snprintf(doc, sizeof doc, "{\"checks\":[%s]}", check);
	compile_ok(set, doc);
}

/* Evaluates with zero or one expected answer. */
static void eval1(const struct chk_set *set, const char *output, const char *expected,
		  struct chk_outcome *out)
{
	const char *exp[1] = {expected};
	struct chk_item it = {.expected = expected ? exp : NULL, .n_expected = expected ? 1 : 0};
	chk_eval(set, &it, output, strlen(output), out);
}

/* Runs one check on one output: returns its pass, copies its detail. */
static bool run1(const char *check, const char *output, const char *expected, char *detail)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_one(&set, check);
	eval1(&set, output, expected, &out);
	cr_assert_eq(out.n, 1);
	bool pass = out.results[0].pass;
	cr_assert_eq(pass, out.pass, "one check: the outcome is the check's verdict");
	if (detail)
		strcpy(detail, out.results[0].detail);
	cr_assert_not(out.results[0].error, "unexpected error: %s", out.results[0].detail);
	chk_outcome_free(&out);
	chk_set_free(&set);
	return pass;
}

static void norm(const char *names, const char *in, const char *want)
{
	/* names: comma-separated, applied in the given order */
	unsigned char ops[16];
	size_t n = 0;
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s", names);
	for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned bit = chk_normalizer_bit(tok);
		cr_assert_neq(bit, 0u, "unknown normalizer %s", tok);
		unsigned char op = 0;
		while ((1u << op) != bit)
			op++;
		ops[n++] = op;
	}
	struct buf b;
	buf_init(&b);
	chk_normalize_seq(ops, n, in, strlen(in), &b);
	cr_expect_str_eq(b.data, want, "[%s](\"%s\")", names, in);
	buf_free(&b);
}

/* ---- types ---------------------------------------------------------------- */

Test(checks, exact_passes_on_equal_and_fails_on_different)
{
	cr_expect(run1("{\"type\":\"exact\"}", "18", "18", NULL));
	cr_expect_not(run1("{\"type\":\"exact\"}", "18 ", "18", NULL));
	cr_expect_not(run1("{\"type\":\"exact\"}", "180", "18", NULL));
	cr_expect(run1("{\"type\":\"exact\",\"normalize\":[\"trim\"]}", "  18\n", "18", NULL));
}

Test(checks, contains_passes_on_substring_and_fails_without)
{
	const char *c = "{\"type\":\"contains\",\"normalize\":[\"lowercase\"]}";
	cr_expect(run1(c, "The answer is PARIS.", "paris", NULL));
	cr_expect_not(run1(c, "The answer is Lyon.", "paris", NULL));
}

Test(checks, regex_passes_on_match_and_fails_without)
{
	char d[160];
	cr_expect(run1("{\"type\":\"regex\",\"pattern\":\"\\\\d+ apples\"}", "I have 12 apples",
		       NULL, d));
	cr_expect_str_eq(d, "12 apples");
	cr_expect_not(
	    run1("{\"type\":\"regex\",\"pattern\":\"\\\\d+ apples\"}", "I have apples", NULL, d));
	cr_expect_str_eq(d, "no match");
}

Test(checks, not_regex_fails_on_match_and_passes_without)
{
	const char *c = "{\"type\":\"not_regex\",\"pattern\":\"(?i)as an ai\"}";
	char d[160];
	cr_expect_not(run1(c, "As an AI, I cannot", NULL, d));
	cr_expect_str_eq(d, "As an AI", "the forbidden text is the detail");
	cr_expect(run1(c, "Sure: 42", NULL, NULL));
}

Test(checks, regex_extract_compares_the_group_with_expected)
{
	const char *c = "{\"type\":\"regex_extract\",\"pattern\":\"answer: (\\\\w+)\"}";
	char d[160];
	cr_expect(run1(c, "so the answer: blue", "blue", d));
	cr_expect_str_eq(d, "blue");
	cr_expect_not(run1(c, "so the answer: red", "blue", d));
	cr_expect_str_eq(d, "red");
	cr_expect_not(run1(c, "no idea", "blue", d));
	cr_expect_str_eq(d, "no match");
}

Test(checks, missing_expected_fails_with_detail)
{
	char d[160];
	cr_expect_not(run1("{\"type\":\"exact\"}", "18", NULL, d));
	cr_expect_str_eq(d, "no expected answer");
	cr_expect_not(run1("{\"type\":\"contains\"}", "18", NULL, d));
	cr_expect_str_eq(d, "no expected answer");
	cr_expect_not(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\d+)\"}", "18", NULL, d));
	cr_expect_str_eq(d, "no expected answer");
	/* regex types need no expected answer */
	cr_expect(run1("{\"type\":\"regex\",\"pattern\":\"\\\\d\"}", "18", NULL, NULL));
}

/* Issue 9 item 21: every output contains "", so an empty expected answer
 * (as given, or once normalized) is an error, never a pass, wherever it
 * stands in the list; a "value" of "" is refused when the config loads. */
Test(checks, contains_with_an_empty_expected_answer_is_an_error)
{
	const char *cases[][2] = {{"{\"type\":\"contains\"}", ""},
				  {"{\"type\":\"contains\",\"normalize\":[\"trim\"]}", "  \t"},
				  {"{\"type\":\"contains\",\"ignore\":[\"x+\"]}", "xx"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct chk_set set;
		struct chk_outcome out;
		compile_one(&set, cases[i][0]);
		eval1(&set, "any output at all", cases[i][1], &out);
		cr_expect_not(out.pass, "%s with \"%s\" passed", cases[i][0], cases[i][1]);
		cr_expect(out.results[0].error, "%s: no error", cases[i][0]);
		cr_expect_str_eq(out.results[0].detail, "empty expected answer");
		chk_outcome_free(&out);
		chk_set_free(&set);
	}
	/* an empty answer after one that matches is found too */
	struct chk_set set;
	struct chk_outcome out;
	compile_one(&set, "{\"type\":\"contains\"}");
	const char *exp[] = {"output", ""};
	chk_eval(&set, &(struct chk_item){.expected = exp, .n_expected = 2}, "any output", 10,
		 &out);
	cr_expect_not(out.pass);
	cr_expect(out.results[0].error);
	chk_outcome_free(&out);
	chk_set_free(&set);
	/* exact with "" still means "the output is empty" */
	cr_expect(run1("{\"type\":\"exact\",\"normalize\":[\"trim\"]}", " ", "", NULL));
}

Test(checks, contains_refuses_an_empty_value)
{
	struct chk_set set;
	struct se_err err;
	cr_assert_eq(
	    compile_doc(&set, "{\"checks\":[{\"type\":\"contains\",\"value\":\"\"}]}", &err), -1);
	cr_expect_str_eq(err.where, "evals/x.json: checks[0].value");
	cr_expect(strstr(err.msg, "empty"), "%s", err.msg);
}

Test(checks, needs_expected_names_the_first_check_that_compares_with_it)
{
	struct chk_set set;
	compile_ok(&set, "{\"checks\":[{\"type\":\"regex\",\"pattern\":\"a\"},"
			 "{\"name\":\"v\",\"type\":\"exact\",\"value\":\"x\"},"
			 "{\"name\":\"ans\",\"type\":\"regex_extract\",\"pattern\":\"(a)\"}]}");
	cr_expect_str_eq(chk_needs_expected(&set), "ans");
	chk_set_free(&set);
	compile_ok(&set, "{\"checks\":[{\"type\":\"not_regex\",\"pattern\":\"a\"},"
			 "{\"type\":\"contains\",\"value\":\"x\"}]}");
	cr_expect_null(chk_needs_expected(&set));
	chk_set_free(&set);
}

Test(checks, any_of_several_expected_answers_passes)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_one(&set, "{\"type\":\"exact\",\"normalize\":[\"lowercase\"]}");
	const char *exp[] = {"NYC", "new york", "New York City"};
	struct chk_item it = {.expected = exp, .n_expected = 3};
	chk_eval(&set, &it, "New York", 8, &out);
	cr_expect(out.pass);
	chk_outcome_free(&out);
	chk_eval(&set, &it, "Boston", 6, &out);
	cr_expect_not(out.pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, value_replaces_expected)
{
	const char *c = "{\"type\":\"contains\",\"value\":\"</answer>\"}";
	cr_expect(run1(c, "<answer>4</answer>", "4", NULL));
	cr_expect(run1(c, "<answer>4</answer>", NULL, NULL), "value needs no expected answer");
	cr_expect_not(run1(c, "<answer>4", "4", NULL), "expected is not consulted");
	cr_expect(run1("{\"type\":\"exact\",\"value\":\"yes\",\"normalize\":[\"trim\"]}", " yes ",
		       "no", NULL));
}

Test(checks, ignore_case_folds_comparison_and_pattern)
{
	cr_expect(run1("{\"type\":\"exact\",\"ignore_case\":true}", "PARIS", "paris", NULL));
	cr_expect_not(run1("{\"type\":\"exact\"}", "PARIS", "paris", NULL));
	cr_expect(run1("{\"type\":\"regex\",\"pattern\":\"paris\",\"ignore_case\":true}", "PARIS",
		       NULL, NULL));
	cr_expect_not(run1("{\"type\":\"regex\",\"pattern\":\"paris\"}", "PARIS", NULL, NULL));
}

Test(checks, ignore_deletes_matches_from_both_sides)
{
	const char *c = "{\"type\":\"exact\",\"ignore\":[\"\\\\$\",\",\"]}";
	cr_expect(run1(c, "$1,800", "1800", NULL));
	cr_expect(run1(c, "1800", "$1,800", NULL));
	cr_expect_not(run1("{\"type\":\"exact\"}", "$1,800", "1800", NULL));
}

/* ---- regex_extract selection ---------------------------------------------- */

Test(checks, select_first_and_last_match)
{
	char d[160];
	const char *out = "first 3, then 5, finally 42";
	cr_expect(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\d+)\"}", out, "3", d));
	cr_expect_str_eq(d, "3");
	cr_expect(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\d+)\",\"select\":\"last\"}",
		       out, "42", d));
	cr_expect_str_eq(d, "42");
	cr_expect_not(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\d+)\","
			   "\"select\":\"first\"}",
			   out, "42", d));
}

Test(checks, default_group_is_the_first_that_took_part)
{
	/* the second alternative's group is the one set for "7" */
	const char *c = "{\"type\":\"regex_extract\",\"pattern\":\"(-?[$0-9.,]{2,})|(-?[0-9]+)\","
			"\"select\":\"last\"}";
	char d[160];
	cr_expect(run1(c, "we get 12 and then 7", "7", d));
	cr_expect_str_eq(d, "7");
	cr_expect(run1(c, "we get 7 and then $1,200", "$1,200", d));
	cr_expect_str_eq(d, "$1,200");
}

Test(checks, explicit_group_and_group_zero)
{
	char d[160];
	cr_expect(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\w+)=(\\\\d+)\",\"group\":2}",
		       "x=5", "5", d));
	cr_expect_str_eq(d, "5");
	cr_expect(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\w+)=(\\\\d+)\",\"group\":0}",
		       "so x=5.", "x=5", d));
	cr_expect_str_eq(d, "x=5");
	/* a pattern without groups extracts the whole match */
	cr_expect(run1("{\"type\":\"regex_extract\",\"pattern\":\"\\\\d+\"}", "a 77 b", "77", d));
}

Test(checks, select_last_survives_empty_matches)
{
	char d[160];
	cr_expect(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\d*)\",\"select\":\"last\"}",
		       "é1é22", "", d));
	cr_expect(run1("{\"type\":\"regex_extract\",\"pattern\":\"(\\\\d+)\",\"select\":\"last\"}",
		       "é1é22é", "22", d));
	cr_expect_str_eq(d, "22");
}

/* ---- normalizers ---------------------------------------------------------- */

Test(checks, normalizer_trim)
{
	norm("trim", " \t 18 \n", "18");
	norm("trim", "a b", "a b");
}

Test(checks, normalizer_lowercase_is_ascii_only)
{
	norm("lowercase", "HeLLo World", "hello world");
	norm("lowercase", "ÉCOLE Ä", "École Ä");
}

Test(checks, normalizer_collapse_whitespace)
{
	norm("collapse_whitespace", "a \t\n b  c", "a b c");
	norm("collapse_whitespace", "  a  ", " a ");
}

Test(checks, normalizer_strip_punctuation_removes_all_ascii_punct)
{
	norm("strip_punctuation", "Hello, world! (-3.5) «é»", "Hello world 35 «é»");
}

Test(checks, normalizer_strip_commas)
{
	norm("strip_commas", "1,234,567.8, ok", "1234567.8 ok");
}

Test(checks, normalizer_numeric_canonicalizes_numbers)
{
	norm("numeric", "18", "18");
	norm("numeric", "18.0", "18");
	norm("numeric", "18.", "18");
	norm("numeric", "$18", "18");
	norm("numeric", "-$18.50", "-18.5");
	norm("numeric", "1,800", "1800");
	norm("numeric", "$1,234,567.00", "1234567");
	norm("numeric", " 0.10 ", "0.1");
	norm("numeric", "-0", "0");
	norm("numeric", "+7", "7");
	norm("numeric", "1e3", "1000");
	norm("numeric", ".5", "0.5");
}

/* Issue 9 item 21: numbers are compared by their digits, not as doubles. */
Test(checks, normalizer_numeric_is_exact)
{
	norm("numeric", "100000000000000000001", "100000000000000000001");
	norm("numeric", "100000000000000000000", "100000000000000000000");
	norm("numeric", "1e20", "100000000000000000000");
	norm("numeric", "1,000,000,000,000,000,000.00", "1000000000000000000");
	norm("numeric", "0.1000000000000000001", "0.1000000000000000001");
	norm("numeric", "-0.000", "0");
	norm("numeric", "007", "7");
	norm("numeric", "12345e-2", "123.45");
	norm("numeric", "1.5e-7", "0.00000015");
	norm("numeric", "2.50E+1", "25");
	norm("numeric", "1e300", "1e+300");
	norm("numeric", "-1.25e-300", "-1.25e-300");
	cr_expect_not(run1("{\"type\":\"exact\",\"normalize\":[\"numeric\"]}",
			   "100000000000000000001", "100000000000000000000", NULL));
	cr_expect(run1("{\"type\":\"exact\",\"normalize\":[\"numeric\"]}", "1e20",
		       "100,000,000,000,000,000,000", NULL));
	cr_expect_not(run1("{\"type\":\"exact\",\"normalize\":[\"numeric\"]}", "9007199254740993",
			   "9007199254740992", NULL));
}

Test(checks, normalizer_numeric_leaves_non_numbers_unchanged)
{
	norm("numeric", "1,8", "1,8");
	norm("numeric", "1800,000", "1800,000");
	norm("numeric", "18 apples", "18 apples");
	norm("numeric", "0x10", "0x10");
	norm("numeric", "inf", "inf");
	norm("numeric", "1e999", "1e999");
	norm("numeric", "-", "-");
	norm("numeric", "", "");
}

Test(checks, normalizer_order_matters)
{
	norm("numeric,strip_punctuation", "18.0", "18");
	norm("strip_punctuation,numeric", "18.0", "180");
	norm("trim,collapse_whitespace", " a  b ", "a b");
	norm("collapse_whitespace,trim", " a  b ", "a b");
	norm("strip_commas,numeric", "1,8", "18");
	norm("numeric,strip_commas", "1,8", "18");
	norm("numeric,strip_commas", "1,000.50", "1000.5");
	norm("strip_punctuation,numeric", "1,000.50", "100050");
}

Test(checks, check_applies_normalizers_in_listed_order)
{
	cr_expect(run1("{\"type\":\"exact\",\"normalize\":[\"numeric\",\"strip_punctuation\"]}",
		       "18.0", "18", NULL));
	cr_expect_not(run1("{\"type\":\"exact\",\"normalize\":[\"strip_punctuation\","
			   "\"numeric\"]}",
			   "18.0", "18", NULL));
}

Test(checks, normalizer_mask_applies_in_canonical_order)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "stale");
	unsigned mask = chk_normalizer_bit("numeric") | chk_normalizer_bit("trim") |
			chk_normalizer_bit("lowercase");
	chk_normalize(mask, "  $1,800.0 ", 11, &b);
	cr_expect_str_eq(b.data, "1800");
	chk_normalize(mask, " ABC ", 5, &b);
	cr_expect_str_eq(b.data, "abc");
	cr_expect_eq(chk_normalizer_bit("upper"), 0u);
	cr_expect_eq(chk_normalizer_bit(NULL), 0u);
	buf_free(&b);
}

/* ---- combining ------------------------------------------------------------ */

static const char *three_checks =
    "[{\"name\":\"a\",\"type\":\"contains\",\"value\":\"alpha\",\"weight\":3},"
    "{\"name\":\"b\",\"type\":\"contains\",\"value\":\"beta\",\"weight\":1},"
    "{\"name\":\"c\",\"type\":\"not_regex\",\"pattern\":\"gamma\"}]";

static struct chk_outcome combine_eval(const char *combine, const char *threshold,
				       const char *output)
{
	char doc[2048];
	snprintf(doc, sizeof doc, "{\"checks\":%s%s%s%s%s}", three_checks,
		 combine ? ",\"combine\":" : "", combine ? combine : "",
		 threshold ? ",\"pass_threshold\":" : "", threshold ? threshold : "");
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, doc);
	eval1(&set, output, NULL, &out);
	chk_set_free(&set);
	return out;
}

Test(checks, combine_all_needs_every_check)
{
	struct chk_outcome o = combine_eval(NULL, NULL, "alpha beta");
	cr_expect(o.pass);
	cr_expect_float_eq(o.score, 1.0, 1e-9);
	chk_outcome_free(&o);
	o = combine_eval("\"all\"", NULL, "alpha gamma");
	cr_expect_not(o.pass);
	cr_expect_float_eq(o.score, 1.0 / 3, 1e-9);
	chk_outcome_free(&o);
}

Test(checks, combine_any_needs_one_check)
{
	struct chk_outcome o = combine_eval("\"any\"", NULL, "beta gamma");
	cr_expect(o.pass);
	cr_expect_float_eq(o.score, 1.0, 1e-9);
	chk_outcome_free(&o);
	o = combine_eval("\"any\"", NULL, "gamma");
	cr_expect_not(o.pass);
	cr_expect_float_eq(o.score, 0.0, 1e-9);
	chk_outcome_free(&o);
}

Test(checks, combine_weighted_uses_weights_and_threshold)
{
	/* weights a=3 b=1 c=1: "alpha gamma" scores 3/5 */
	struct chk_outcome o = combine_eval("\"weighted\"", "0.6", "alpha gamma");
	cr_expect_float_eq(o.score, 0.6, 1e-9);
	cr_expect(o.pass, "score equal to the threshold passes");
	chk_outcome_free(&o);
	o = combine_eval("\"weighted\"", "0.61", "alpha gamma");
	cr_expect_not(o.pass);
	chk_outcome_free(&o);
	o = combine_eval("\"weighted\"", NULL, "alpha gamma");
	cr_expect_not(o.pass, "the default threshold is 1.0");
	chk_outcome_free(&o);
	o = combine_eval("\"weighted\"", NULL, "alpha beta");
	cr_expect(o.pass);
	cr_expect_float_eq(o.score, 1.0, 1e-9);
	chk_outcome_free(&o);
	o = combine_eval("\"weighted\"", "0.3", "beta");
	cr_expect_float_eq(o.score, 0.4, 1e-9);
	cr_expect(o.pass);
	chk_outcome_free(&o);
}

/* ---- names and compile errors --------------------------------------------- */

Test(checks, default_names_are_type_then_type_index)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, "{\"checks\":[{\"type\":\"exact\"},{\"type\":\"exact\"},"
			 "{\"type\":\"regex\",\"pattern\":\"x\"},{\"name\":\"contains\","
			 "\"type\":\"exact\"},{\"type\":\"contains\"}]}");
	eval1(&set, "x", "x", &out);
	cr_assert_eq(out.n, 5);
	cr_expect_str_eq(out.results[0].name, "exact");
	cr_expect_str_eq(out.results[1].name, "exact_1");
	cr_expect_str_eq(out.results[2].name, "regex");
	cr_expect_str_eq(out.results[3].name, "contains");
	cr_expect_str_eq(out.results[4].name, "contains_4");
	chk_outcome_free(&out);
	chk_set_free(&set);
}

/* Compiles the fixture case `name` from bad_checks.jsonl and asserts that it
 * fails with its where and a message containing its msg. */
static void expect_bad(const char *name)
{
	char *data = NULL;
	size_t len = 0;
	struct se_err err;
	cr_assert_eq(fio_read_all(FIX "bad_checks.jsonl", &data, &len, &err), 0, "%s", err.msg);
	bool found = false;
	for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *c = cJSON_Parse(line);
		cr_assert_not_null(c, "bad fixture line: %s", line);
		if (strcmp(cJSON_GetObjectItem(c, "case")->valuestring, name) != 0) {
			cJSON_Delete(c);
			continue;
		}
		found = true;
		struct chk_set set;
		se_clear(&err);
		int rc = chk_compile(
		    &set, cJSON_GetObjectItem(c, "checks"), cJSON_GetObjectItem(c, "combine"),
		    cJSON_GetObjectItem(c, "pass_threshold"), "evals/x.json", "checks", &err);
		cr_expect_eq(rc, -1, "%s: compiled", name);
		cr_expect_eq(err.kind, SE_INPUT, "%s", name);
		cr_expect_str_eq(err.where, cJSON_GetObjectItem(c, "where")->valuestring, "%s",
				 name);
		const char *msg = cJSON_GetObjectItem(c, "msg")->valuestring;
		cr_expect_not_null(strstr(err.msg, msg), "%s: \"%s\" lacks \"%s\"", name, err.msg,
				   msg);
		cr_expect_eq(set.n, 0u, "a failed compile leaves an empty set");
		chk_set_free(&set);
		cJSON_Delete(c);
	}
	free(data);
	cr_assert(found, "no fixture case %s", name);
}

Test(checks, rejects_bad_pattern_with_offset)
{
	expect_bad("bad_pattern");
}
Test(checks, rejects_bad_ignore_pattern)
{
	expect_bad("bad_ignore_pattern");
}
Test(checks, rejects_unknown_type)
{
	expect_bad("unknown_type");
}
Test(checks, rejects_missing_type)
{
	expect_bad("missing_type");
}
Test(checks, rejects_unknown_key)
{
	expect_bad("unknown_key");
}
Test(checks, rejects_missing_pattern)
{
	expect_bad("missing_pattern");
}
Test(checks, rejects_pattern_on_exact)
{
	expect_bad("pattern_on_exact");
}
Test(checks, rejects_unknown_normalizer)
{
	expect_bad("unknown_normalizer");
}
Test(checks, rejects_duplicate_name)
{
	expect_bad("duplicate_name");
}
Test(checks, rejects_bad_group_select_weight_and_value)
{
	expect_bad("bad_group");
	expect_bad("negative_group");
	expect_bad("huge_group");
	expect_bad("fractional_group");
	expect_bad("bad_select");
	expect_bad("zero_weight");
	expect_bad("value_on_regex");
}
Test(checks, rejects_bad_shapes_and_combine)
{
	expect_bad("check_not_object");
	expect_bad("checks_not_array");
	expect_bad("unknown_combine");
	expect_bad("threshold_out_of_range");
}

Test(checks, absent_checks_compile_to_an_empty_set_that_never_passes)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, "{}");
	cr_expect_eq(set.n, 0u);
	eval1(&set, "x", "x", &out);
	cr_expect_eq(out.n, 0u);
	cr_expect_not(out.pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
	chk_set_free(&set); /* idempotent */
	chk_set_free(NULL);
}

/* ---- robustness ----------------------------------------------------------- */

static void expect_limit(const char *check, const char *output)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_one(&set, check);
	eval1(&set, output, "x", &out);
	cr_assert_eq(out.n, 1);
	cr_expect(out.results[0].error, "%s: no error", check);
	cr_expect_not(out.results[0].pass);
	cr_expect_not(out.pass);
	cr_expect_str_eq(out.results[0].detail, "regex match limit exceeded");
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, catastrophic_pattern_ends_with_error)
{
	char s[64];
	memset(s, 'a', 40);
	strcpy(s + 40, "!");
	expect_limit("{\"type\":\"regex\",\"pattern\":\"(a+)+$\"}", s);
	expect_limit("{\"type\":\"not_regex\",\"pattern\":\"(a+)+$\"}", s);
	expect_limit("{\"type\":\"regex_extract\",\"pattern\":\"(a+)+$\"}", s);
	expect_limit("{\"type\":\"exact\",\"ignore\":[\"(a+)+$\"]}", s);
	memset(s, 'a', 40);
	strcpy(s + 40, "!");
	expect_limit("{\"type\":\"regex\",\"pattern\":\"^(\\\\w+\\\\s?)*$\"}", s);
}

Test(checks, honest_backtracking_on_a_long_output_is_not_a_limit_error)
{
	/* one backtracking frame per character: more than JIT's default stack */
	size_t n = 100000;
	char *s = malloc(n + 1);
	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 7 == 6 ? ' ' : (char)('a' + i % 2);
	s[n] = '\0';
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, "{\"checks\":[{\"type\":\"regex\",\"pattern\":\"^(a|b|\\\\s)+$\"},"
			 "{\"type\":\"not_regex\",\"pattern\":\"(?s)^(.)*c\"}]}");
	eval1(&set, s, NULL, &out);
	cr_expect_not(out.results[0].error, "%s", out.results[0].detail);
	cr_expect(out.results[0].pass);
	cr_expect_not(out.results[1].error, "%s", out.results[1].detail);
	cr_expect(out.results[1].pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
	free(s);
}

Test(checks, limit_error_counts_as_failed_in_combine)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, "{\"combine\":\"any\",\"checks\":[{\"type\":\"regex\",\"pattern\":"
			 "\"(a+)+$\"},{\"type\":\"contains\",\"value\":\"!\"}]}");
	eval1(&set, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", NULL, &out);
	cr_expect(out.results[0].error);
	cr_expect(out.results[1].pass);
	cr_expect(out.pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, invalid_utf8_output_is_repaired_before_matching)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set,
		   "{\"checks\":[{\"type\":\"regex_extract\",\"pattern\":\"(\\\\d+)\\\\W*$\"},"
		   "{\"type\":\"contains\",\"value\":\"\xEF\xBF\xBD\"},"
		   "{\"type\":\"regex\",\"pattern\":\"^.{8}$\"}]}");
	const char bad[] = "ab\xFF\xC3(\xED\xA0\x80 42"; /* stray, cut, surrogate */
	const char *exp[] = {"42"};
	chk_eval(&set, &(struct chk_item){.expected = exp, .n_expected = 1}, bad, sizeof bad - 1,
		 &out);
	cr_assert_eq(out.n, 3);
	cr_expect(out.results[0].pass, "%s", out.results[0].detail);
	cr_expect(out.results[1].pass, "invalid bytes became U+FFFD");
	cr_expect_not(out.results[2].error);
	struct buf b;
	buf_init(&b);
	chk_outcome_json(&out, &b);
	cJSON *j = cJSON_Parse(b.data);
	cr_expect_not_null(j, "%s", b.data);
	cJSON_Delete(j);
	buf_free(&b);
	chk_outcome_free(&out);
	/* invalid expected answers too */
	const char *bad_exp[] = {"4\xFF"};
	chk_eval(&set, &(struct chk_item){.expected = bad_exp, .n_expected = 1}, "42", 2, &out);
	cr_expect_not(out.results[0].pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, long_extracted_detail_is_cut_at_a_code_point)
{
	char out_text[600];
	size_t n = 0;
	out_text[0] = '\0';
	/* 2-byte characters from offset 0: the 160-byte cap falls mid-character */
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(out_text + n, sizeof out_text - n, "é");
	struct chk_set set;
	struct chk_outcome out;
	compile_one(&set, "{\"type\":\"regex_extract\",\"pattern\":\"(.+)\"}");
	eval1(&set, out_text, "y", &out);
	size_t dl = strlen(out.results[0].detail);
	cr_expect_lt(dl, sizeof out.results[0].detail);
	cr_expect_gt(dl, 100u);
	cr_expect_eq(out.results[0].detail[dl - 1], (char)0xA9, "ends on a whole \"é\"");
	chk_outcome_free(&out);
	chk_set_free(&set);
}

/* ---- outcome JSON --------------------------------------------------------- */

Test(checks, outcome_json_round_trips_through_cjson)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, "{\"checks\":[{\"name\":\"ans \\\"q\\\"\\\\\",\"type\":\"regex_extract\","
			 "\"pattern\":\"#### (.*)\"},{\"name\":\"redos\",\"type\":\"regex\","
			 "\"pattern\":\"(a+)+$\"},{\"name\":\"tab\\tname\",\"type\":\"exact\"}]}");
	eval1(&set, "#### \"18\"\\\n aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "x", &out);
	struct buf b;
	buf_init(&b);
	chk_outcome_json(&out, &b);
	cJSON *j = cJSON_Parse(b.data);
	cr_assert_not_null(j, "invalid JSON: %s", b.data);
	cr_expect_eq(cJSON_GetArraySize(j), 3);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "ans \"q\"\\");
	cr_assert_not_null(a, "%s", b.data);
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(a, "pass")));
	cr_expect_str_eq(cJSON_GetObjectItem(a, "detail")->valuestring, "\"18\"\\");
	cr_expect_null(cJSON_GetObjectItem(a, "error"));
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "redos");
	cr_assert_not_null(r);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(r, "error")));
	cr_expect_not_null(cJSON_GetObjectItemCaseSensitive(j, "tab\tname"));
	cJSON_Delete(j);
	buf_free(&b);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

/* ---- lm-evaluation-harness GSM8K ------------------------------------------ */

static const char *gsm8k_doc = "{\"combine\":\"all\",\"checks\":["
			       "{\"name\":\"strict-match\",\"type\":\"regex_extract\","
			       "\"pattern\":\"#### (\\\\-?[0-9\\\\.\\\\,]+)\","
			       "\"normalize\":[\"strip_commas\",\"numeric\"]},"
			       "{\"name\":\"flexible-extract\",\"type\":\"regex_extract\","
			       "\"pattern\":\"(-?[$0-9.,]{2,})|(-?[0-9]+)\",\"select\":\"last\","
			       "\"ignore_case\":true,"
			       "\"ignore\":[\",\",\"\\\\$\",\"(?s).*#### \",\"\\\\.$\"]}]}";

Test(checks, gsm8k_strict_and_flexible_extract_pass_on_reference_solutions)
{
	struct chk_set set;
	compile_ok(&set, gsm8k_doc);
	char *data = NULL;
	size_t len = 0;
	struct se_err err;
	cr_assert_eq(fio_read_all(FIX "gsm8k_sample.jsonl", &data, &len, &err), 0, "%s", err.msg);
	int items = 0;
	for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cJSON *it = cJSON_Parse(line);
		cr_assert_not_null(it);
		const char *id = cJSON_GetObjectItem(it, "id")->valuestring;
		const char *sol = cJSON_GetObjectItem(it, "reference_solution")->valuestring;
		const char *expected = cJSON_GetObjectItem(it, "expected")->valuestring;
		struct chk_outcome out;

		eval1(&set, sol, expected, &out);
		cr_expect(out.results[0].pass, "%s strict: got \"%s\", want %s", id,
			  out.results[0].detail, expected);
		cr_expect(out.results[1].pass, "%s flexible: got \"%s\", want %s", id,
			  out.results[1].detail, expected);
		chk_outcome_free(&out);

		/* a different answer fails both */
		char wrong[64];
		snprintf(wrong, sizeof wrong, "%lld", atoll(expected) + 1);
		eval1(&set, sol, wrong, &out);
		cr_expect_not(out.results[0].pass, "%s strict passed %s", id, wrong);
		cr_expect_not(out.results[1].pass, "%s flexible passed %s", id, wrong);
		cr_expect_not(out.pass);
		chk_outcome_free(&out);
		cJSON_Delete(it);
		items++;
	}
	free(data);
	cr_expect_eq(items, 20);
	chk_set_free(&set);
}

Test(checks, gsm8k_flexible_extract_takes_the_last_number_without_marker)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, gsm8k_doc);
	const char *o = "She pays $1,200 in rent and $300 for food, so the total is $1,500.";
	eval1(&set, o, "1500", &out);
	cr_expect_not(out.results[0].pass, "no #### line: strict fails");
	cr_expect_str_eq(out.results[0].detail, "no match");
	cr_expect(out.results[1].pass, "flexible: %s", out.results[1].detail);
	cr_expect_str_eq(out.results[1].detail, "$1,500.");
	chk_outcome_free(&out);
	chk_set_free(&set);
}

/* ---- "tasks": a check that applies to some tasks only -------------------- */

Test(checks, tasks_skips_a_check_on_other_tasks_and_combine_ignores_it)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set,
		   "{\"checks\":[{\"name\":\"num\",\"type\":\"regex\",\"pattern\":\"^\\\\d+$\","
		   "\"tasks\":[\"reason\",\"code\"]},"
		   "{\"name\":\"ans\",\"type\":\"contains\"}]}");
	const char *exp[] = {"blue"};
	struct chk_item it = {.id = "a", .task = "classify", .expected = exp, .n_expected = 1};
	/* classify: only "ans" runs; "num" would fail on this output */
	chk_eval(&set, &it, "blue", 4, &out);
	cr_assert_eq(out.n, 1);
	cr_expect_str_eq(out.results[0].name, "ans");
	cr_expect(out.pass, "the skipped check must not count");
	cr_expect_eq(out.score, 1.0);
	struct buf b;
	buf_init(&b);
	chk_outcome_json(&out, &b);
	cr_expect_str_eq(b.data, "{\"ans\":{\"pass\":true,\"detail\":\"\"}}");
	buf_free(&b);
	chk_outcome_free(&out);
	/* reason: both run, and "num" fails */
	it.task = "reason";
	chk_eval(&set, &it, "blue", 4, &out);
	cr_assert_eq(out.n, 2);
	cr_expect_str_eq(out.results[0].name, "num");
	cr_expect_not(out.pass);
	cr_expect_eq(out.score, 0.5);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, tasks_that_skip_every_check_score_as_an_empty_set)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, "{\"combine\":\"any\",\"checks\":[{\"type\":\"regex\",\"pattern\":\"x\","
			 "\"tasks\":[\"code\"]}]}");
	/* no task at all (NULL and "") is not "code" */
	struct chk_item it = {.id = "a", .task = NULL};
	chk_eval(&set, &it, "x", 1, &out);
	cr_expect_eq(out.n, 0);
	cr_expect_not(out.pass);
	cr_expect_eq(out.score, 0);
	chk_outcome_free(&out);
	chk_eval(&set, NULL, "x", 1, &out);
	cr_expect_eq(out.n, 0);
	chk_outcome_free(&out);
	it.task = "code";
	chk_eval(&set, &it, "x", 1, &out);
	cr_expect_eq(out.n, 1);
	cr_expect(out.pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, tasks_weighted_counts_only_the_checks_that_apply)
{
	struct chk_set set;
	struct chk_outcome out;
	compile_ok(&set, "{\"combine\":\"weighted\",\"pass_threshold\":0.5,\"checks\":["
			 "{\"name\":\"a\",\"type\":\"regex\",\"pattern\":\"y\",\"weight\":3,"
			 "\"tasks\":[\"draft\"]},"
			 "{\"name\":\"b\",\"type\":\"regex\",\"pattern\":\"x\",\"weight\":1}]}");
	struct chk_item it = {.task = "summarize"};
	chk_eval(&set, &it, "x", 1, &out);
	cr_expect_eq(out.score, 1.0, "only b's weight counts: %g", out.score);
	cr_expect(out.pass);
	chk_outcome_free(&out);
	it.task = "draft";
	chk_eval(&set, &it, "x", 1, &out);
	cr_expect_eq(out.score, 0.25, "%g", out.score);
	cr_expect_not(out.pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, tasks_must_be_a_non_empty_list_of_distinct_names)
{
	const char *cases[][2] = {
	    {"{\"type\":\"regex\",\"pattern\":\"a\",\"tasks\":\"code\"}", "checks[0].tasks"},
	    {"{\"type\":\"regex\",\"pattern\":\"a\",\"tasks\":[]}", "checks[0].tasks"},
	    {"{\"type\":\"regex\",\"pattern\":\"a\",\"tasks\":[\"code\",7]}", "checks[0].tasks[1]"},
	    {"{\"type\":\"regex\",\"pattern\":\"a\",\"tasks\":[\"\"]}", "checks[0].tasks[0]"},
	    {"{\"type\":\"regex\",\"pattern\":\"a\",\"tasks\":[\"code\",\"code\"]}",
	     "checks[0].tasks[1]"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char doc[512], where[128];
		struct chk_set set;
		struct se_err err;
		snprintf(doc, sizeof doc, "{\"checks\":[%s]}", cases[i][0]);
		cr_expect_eq(compile_doc(&set, doc, &err), -1, "%s compiled", cases[i][0]);
		snprintf(where, sizeof where, "evals/x.json: %s", cases[i][1]);
		cr_expect_str_eq(err.where, where, "%s", cases[i][0]);
	}
}

/* ---- model-graded checks (issue 12) ------------------------------------ */

Test(checks, judge_checks_wait_for_their_grade_and_then_join_combine)
{
	struct chk_set set;
	compile_ok(&set, "{\"checks\":[{\"name\":\"ans\",\"type\":\"contains\"},"
			 "{\"name\":\"q\",\"type\":\"judge\",\"judge\":\"j/m\"},"
			 "{\"name\":\"pw\",\"type\":\"pairwise\",\"judge\":\"j/m\"}]}");
	cr_assert_not_null(chk_judge_of(&set, 1));
	cr_assert_null(chk_judge_of(&set, 0));
	cr_assert_null(chk_judge_of(&set, 2), "pairwise is no per-line grade");
	cr_assert_not_null(chk_pairwise_of(&set));
	struct chk_outcome out;
	eval1(&set, "it is 18", "18", &out);
	/* before grading: only the text check counts */
	cr_expect(out.pass);
	cr_expect_float_eq(out.score, 1.0, 1e-12);
	cr_expect(out.results[1].pending);
	/* a failing grade joins combine (all): the line fails, half the score */
	chk_fill_judge(&out, 1, false, false, 2, NULL, "Score: 2", 8, "j/m", 0.5, 12.5, true);
	chk_combine(&set, &out);
	cr_expect_not(out.pass);
	cr_expect_float_eq(out.score, 0.5, 1e-12);
	struct buf b;
	buf_init(&b);
	chk_outcome_json(&out, &b);
	cr_expect_str_eq(b.data, "{\"ans\":{\"pass\":true,\"detail\":\"\"},\"q\":{\"pass\":false,"
				 "\"score\":2,\"detail\":\"Score: 2\",\"type\":\"judge\","
				 "\"judge_model\":\"j/m\",\"cost_usd\":0.5,\"latency_ms\":12.5,"
				 "\"cached\":true}}");
	/* an error: pass false, score null, the cause before the reply */
	chk_fill_judge(&out, 1, true, true, 4, "no match for pattern x", "meh", 3, "j/m", NAN, NAN,
		       false);
	chk_combine(&set, &out);
	cr_expect_not(out.pass);
	buf_reset(&b);
	chk_outcome_json(&out, &b);
	cr_expect_not_null(strstr(b.data, "\"q\":{\"pass\":false,\"score\":null,\"detail\":\"no "
					  "match for pattern x: meh\""),
			   "%s", b.data);
	cr_expect_not_null(strstr(b.data, "\"error\":true}}"), "%s", b.data);
	buf_free(&b);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, a_set_of_judges_only_verifies_nothing_until_graded)
{
	struct chk_set set;
	compile_one(&set, "{\"type\":\"judge\",\"judge\":\"j/m\"}");
	struct chk_outcome out;
	eval1(&set, "x", NULL, &out);
	cr_expect_not(out.pass, "nothing verified is no pass");
	chk_fill_judge(&out, 0, false, true, 5, NULL, "Score: 5", 8, "j/m", 0, 1, false);
	chk_combine(&set, &out);
	cr_expect(out.pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
}

Test(checks, a_judge_check_with_tasks_applies_to_those_tasks_only)
{
	struct chk_set set;
	compile_one(&set,
		    "{\"name\":\"q\",\"type\":\"judge\",\"judge\":\"j/m\",\"tasks\":[\"draft\"]}");
	cr_expect(chk_applies(&set, 0, "draft"));
	cr_expect_not(chk_applies(&set, 0, "code"));
	struct chk_item it = {.task = "code"};
	struct chk_outcome out;
	chk_eval(&set, &it, "x", 1, &out);
	cr_expect_eq(out.n, 0, "skipped on another task");
	/* a grade for a check that is not in the outcome changes nothing */
	chk_fill_judge(&out, 0, false, true, 5, NULL, "Score: 5", 8, "j/m", 0, 1, false);
	cr_expect_not(out.pass);
	chk_outcome_free(&out);
	chk_set_free(&set);
}
