/* judge.c: the `judge` and `pairwise` checks: config, built-in rubrics,
 * prompt rendering and reply reading (see judge.h). No I/O.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "checks/judge.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/decimal.h"
#include "core/jsonv.h"
#include "core/xalloc.h"

const char *const jdg_keys[] = {"name",	       "type",	   "judge",   "endpoint",
				"rubric",      "template", "pattern", "pass_threshold",
				"reply_chars", "params",   "tasks",   NULL};

static const char *const rubric_names[] = {"auto",   "summarize", "draft",  "classify",
					   "reason", "code",	  "general"};
_Static_assert(sizeof(rubric_names) / sizeof(rubric_names[0]) == JDG_N_RUBRIC,
	       "one name per rubric");

/* The criterion of each built-in rubric; README "Checks" quotes them. */
static const char *const criteria[] = {
    NULL,
    "Grade the summary: it is faithful (it states nothing the input does not support), "
    "complete (it keeps the points that matter) and concise.",
    "Grade the draft: it follows the brief (everything asked for is there) and the tone "
    "the brief asks for.",
    "Grade the label: it is the correct label for the input.",
    "Grade the answer: the final answer is correct and the reasoning that leads to it is "
    "sound.",
    "Grade the code: it is correct, runnable as given, and idiomatic.",
    "Grade the answer: it is correct, complete and answers what was asked.",
};
_Static_assert(sizeof(criteria) / sizeof(criteria[0]) == JDG_N_RUBRIC, "one criterion per rubric");

#define JUDGE_PATTERN "Score:\\s*([1-5])"
#define PAIRWISE_PATTERN "Verdict:\\s*(A|B|tie)"

const char *jdg_rubric_name(enum jdg_rubric r)
{
	return r < JDG_N_RUBRIC ? rubric_names[r] : "unknown";
}

const char *jdg_rubric_criterion(enum jdg_rubric r)
{
	return r < JDG_N_RUBRIC ? criteria[r] : NULL;
}

enum jdg_rubric jdg_rubric_for(const struct jdg_check *jc, const char *task)
{
	if (jc->rubric != JDG_AUTO)
		return jc->rubric;
	for (int r = JDG_SUMMARIZE; task && r < JDG_GENERAL; r++)
		if (!strcmp(task, rubric_names[r]))
			return (enum jdg_rubric)r;
	return JDG_GENERAL;
}

void jdg_builtin_template(enum jdg_kind kind, enum jdg_rubric r, struct buf *b)
{
	buf_reset(b);
	if (r == JDG_AUTO || r >= JDG_N_RUBRIC)
		r = JDG_GENERAL;
	if (kind == JDG_JUDGE) {
		buf_puts(b, "You grade one answer to a request.\n");
		buf_puts(b, criteria[r]);
		buf_puts(b, "\n\n[REQUEST]\n{{input}}\n[/REQUEST]\n\n"
			    "[REFERENCE]\n{{expected}}\n[/REFERENCE]\n\n"
			    "[ANSWER]\n{{output}}\n[/ANSWER]\n\n"
			    "Rate the answer from 1 (poor) to 5 (excellent). Reply with a line "
			    "`Score: N` (N from 1 to 5).\n");
		return;
	}
	buf_puts(b, "You compare two answers to the same request.\n");
	buf_puts(b, criteria[r]);
	buf_puts(b, "\n\n[REQUEST]\n{{input}}\n[/REQUEST]\n\n"
		    "[REFERENCE]\n{{expected}}\n[/REFERENCE]\n\n"
		    "[ANSWER A]\n{{output_a}}\n[/ANSWER A]\n\n"
		    "[ANSWER B]\n{{output_b}}\n[/ANSWER B]\n\n"
		    "Which answer is better? Reply with a line `Verdict: A`, `Verdict: B` or "
		    "`Verdict: tie`.\n");
}

/* ---- config -------------------------------------------------------------- */

struct pctx {
	struct jsonv jv;
	const char *path;
};

static int fail_key(const struct pctx *c, const char *key, const char *fmt, ...) SE_PRINTF(3, 4);
static int fail_key(const struct pctx *c, const char *key, const char *fmt, ...)
{
	char p[JSONV_PATH];
	jsonv_key(p, c->path, key);
	va_list ap;
	va_start(ap, fmt);
	int rc = jsonv_vfail(&c->jv, p, fmt, ap);
	va_end(ap);
	return rc;
}

/* A template's placeholders are known: {{input}}, {{output}}, {{expected}},
 * {{item.FIELD}}, and for pairwise {{output_a}} / {{output_b}}. */
static int check_template(const struct pctx *c, enum jdg_kind kind, const char *t)
{
	bool has_output = false, has_a = false, has_b = false;
	for (const char *p = strstr(t, "{{"); p; p = strstr(p + 2, "{{")) {
		const char *e = strstr(p + 2, "}}");
		if (!e)
			return fail_key(c, "template", "unclosed \"{{\" in template");
		size_t n = (size_t)(e - p - 2);
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), p + 2);
		bool ok = !strcmp(name, "input") || !strcmp(name, "expected") ||
			  (!strncmp(name, "item.", 5) && name[5]);
		if (kind == JDG_JUDGE && !strcmp(name, "output"))
			ok = has_output = true;
		if (kind == JDG_PAIRWISE && !strcmp(name, "output_a"))
			ok = has_a = true;
		if (kind == JDG_PAIRWISE && !strcmp(name, "output_b"))
			ok = has_b = true;
		if (!ok)
			return fail_key(c, "template",
					kind == JDG_JUDGE
					    ? "unknown placeholder {{%s}} (known: input, output, "
					      "expected, item.FIELD)"
					    : "unknown placeholder {{%s}} (known: input, output_a, "
					      "output_b, expected, item.FIELD)",
					name);
	}
	if (kind == JDG_JUDGE && !has_output)
		return fail_key(c, "template", "%s",
				"the template never shows the answer: add {{output}}");
	/* a comparison needs both answers: with one of them (once or twice)
	 * the judge would compare an answer with nothing */
	if (kind == JDG_PAIRWISE && !has_a && !has_b)
		return fail_key(c, "template", "%s",
				"the template never shows the answers: add {{output_a}} and "
				"{{output_b}}");
	if (kind == JDG_PAIRWISE && (!has_a || !has_b))
		return fail_key(c, "template",
				"the template never shows answer %s: add {{output_%s}} (a "
				"comparison needs both {{output_a}} and {{output_b}})",
				has_a ? "B" : "A", has_a ? "b" : "a");
	return 0;
}

static int parse_strings(const struct pctx *c, struct jdg_check *jc, const cJSON *obj)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, "judge");
	if (!j)
		return fail_key(c, "judge", "missing: a slot name or a model string");
	if (!cJSON_IsString(j) || !j->valuestring[0])
		return fail_key(c, "judge", "must be a slot name or a model string, not %s",
				jsonv_type(j));
	jc->judge = xstrdup(j->valuestring);
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(obj, "endpoint");
	if (ep && !cJSON_IsNull(ep)) {
		if (!cJSON_IsString(ep) || !ep->valuestring[0])
			return fail_key(c, "endpoint", "must be an endpoint name, not %s",
					jsonv_type(ep));
		jc->endpoint = xstrdup(ep->valuestring);
	}
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "rubric");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "template");
	if (r && t)
		return fail_key(c, "template", "give \"rubric\" or \"template\", not both");
	if (r) {
		int k = 0;
		while (k < JDG_N_RUBRIC &&
		       !(cJSON_IsString(r) && !strcmp(r->valuestring, rubric_names[k])))
			k++;
		if (k == JDG_N_RUBRIC)
			return fail_key(c, "rubric",
					"unknown rubric %s (known: auto, summarize, draft, "
					"classify, reason, code, general)",
					cJSON_IsString(r) ? r->valuestring : jsonv_type(r));
		jc->rubric = (enum jdg_rubric)k;
	}
	if (t) {
		if (!cJSON_IsString(t) || !t->valuestring[0])
			return fail_key(c, "template", "must be a non-empty string, not %s",
					jsonv_type(t));
		if (check_template(c, jc->kind, t->valuestring))
			return -1;
		jc->template = xstrdup(t->valuestring);
	}
	return 0;
}

static int parse_pattern(const struct pctx *c, struct jdg_check *jc, const cJSON *obj)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, "pattern");
	if (p && (!cJSON_IsString(p) || !p->valuestring[0]))
		return fail_key(c, "pattern", "must be a non-empty string, not %s", jsonv_type(p));
	jc->pattern = xstrdup(p			      ? p->valuestring
			      : jc->kind == JDG_JUDGE ? JUDGE_PATTERN
						      : PAIRWISE_PATTERN);
	int code = 0;
	PCRE2_SIZE off = 0;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)jc->pattern, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[200];
		if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", code);
		char why[300];
		snprintf(why, sizeof(why), "invalid regex at offset %zu: %s", (size_t)off,
			 (const char *)msg);
		return fail_key(c, "pattern", "%s", why);
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	jc->re = re;
	return 0;
}

static int parse_numbers(const struct pctx *c, struct jdg_check *jc, const cJSON *obj)
{
	const cJSON *th = cJSON_GetObjectItemCaseSensitive(obj, "pass_threshold");
	if (th && jc->kind == JDG_PAIRWISE)
		return fail_key(c, "pass_threshold",
				"a pairwise check has no threshold (it compares two answers)");
	if (th) {
		if (!cJSON_IsNumber(th))
			return fail_key(c, "pass_threshold", "must be a number, not %s",
					jsonv_type(th));
		/* a number out of range is no type error ("a number, not a
		 * number") */
		if (!jsonv_number_in(th, -1e9, 1e9))
			return fail_key(c, "pass_threshold",
					"must be a number from -1e9 to 1e9 (the score the "
					"judge's pattern extracts), not %g",
					th->valuedouble);
		jc->pass_threshold = th->valuedouble;
	}
	const cJSON *rc = cJSON_GetObjectItemCaseSensitive(obj, "reply_chars");
	if (rc) {
		if (!jsonv_integer_in(rc, 0, 1 << 20))
			return fail_key(c, "reply_chars",
					"must be a whole number from 0 to 1048576");
		jc->reply_chars = (size_t)rc->valuedouble;
	}
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(obj, "params");
	if (!pa)
		return 0;
	if (!cJSON_IsObject(pa))
		return fail_key(c, "params", "must be an object, not %s", jsonv_type(pa));
	struct pctx sub = {c->jv, NULL};
	char pp[JSONV_PATH];
	jsonv_key(pp, c->path, "params");
	sub.path = pp;
	static const char *const pkeys[] = {"temperature", "max_tokens", NULL};
	const char *unknown = jsonv_unknown_key(pa, pkeys);
	if (unknown)
		return fail_key(&sub, unknown, "unknown key (known: temperature, max_tokens)");
	const cJSON *te = cJSON_GetObjectItemCaseSensitive(pa, "temperature");
	if (te) {
		if (!jsonv_number_in(te, 0, 2))
			return fail_key(&sub, "temperature", "must be a number from 0 to 2");
		jc->temperature = te->valuedouble;
	}
	const cJSON *mt = cJSON_GetObjectItemCaseSensitive(pa, "max_tokens");
	if (mt) {
		if (!jsonv_integer_in(mt, 1, 1e7))
			return fail_key(&sub, "max_tokens",
					"must be a whole number from 1 to 10000000");
		jc->max_tokens = (int)mt->valuedouble;
	}
	return 0;
}

int jdg_parse(struct jdg_check *jc, enum jdg_kind kind, const cJSON *obj, const char *file,
	      const char *path, struct se_err *err)
{
	memset(jc, 0, sizeof(*jc));
	jc->kind = kind;
	jc->pass_threshold = JDG_DEFAULT_THRESHOLD;
	jc->reply_chars = JDG_DEFAULT_REPLY_CHARS;
	jc->max_tokens = JDG_DEFAULT_MAX_TOKENS;
	jc->model = jc->slot = -1;
	struct pctx c = {{file, err}, path};
	const char *unknown = jsonv_unknown_key(obj, jdg_keys);
	if (unknown) {
		struct buf b;
		buf_init(&b);
		jsonv_known(&b, jdg_keys);
		char msg[400];
		snprintf(msg, sizeof(msg), "unknown key of a %s check (known: %s)",
			 kind == JDG_JUDGE ? "judge" : "pairwise", b.data);
		buf_free(&b);
		return fail_key(&c, unknown, "%s", msg);
	}
	if (parse_strings(&c, jc, obj) || parse_pattern(&c, jc, obj) || parse_numbers(&c, jc, obj))
		return -1;
	return 0;
}

void jdg_free(struct jdg_check *jc)
{
	if (!jc)
		return;
	free(jc->judge);
	free(jc->endpoint);
	free(jc->template);
	free(jc->pattern);
	pcre2_code_free((pcre2_code *)jc->re);
	memset(jc, 0, sizeof(*jc));
}

/* ---- rendering ----------------------------------------------------------- */

static void put_field(struct buf *out, const cJSON *fields, const char *name, size_t n)
{
	char key[256];
	snprintf(key, sizeof(key), "%.*s", (int)(n < 255 ? n : 255), name);
	const cJSON *v = fields ? cJSON_GetObjectItemCaseSensitive(fields, key) : NULL;
	if (!v || cJSON_IsNull(v))
		return;
	if (cJSON_IsString(v)) {
		buf_puts(out, v->valuestring);
		return;
	}
	char *s = cJSON_PrintUnformatted(v);
	if (s)
		buf_puts(out, s);
	free(s);
}

static void put_expected(struct buf *out, const struct jdg_input *in)
{
	if (!in->n_expected) {
		buf_puts(out, "(none)");
		return;
	}
	for (size_t i = 0; i < in->n_expected; i++) {
		if (i)
			buf_putc(out, '\n');
		buf_puts(out, in->expected[i]);
	}
}

/* One placeholder's value; false when name is not one (the text stays). */
static bool put_placeholder(struct buf *out, const struct jdg_input *in, const char *name, size_t n)
{
#define IS(s) (n == sizeof(s) - 1 && !memcmp(name, s, n))
	if (IS("input"))
		buf_puts(out, in->input ? in->input : "");
	else if (IS("output") || IS("output_a"))
		buf_append(out, in->a ? in->a : "", in->a ? in->a_len : 0);
	else if (IS("output_b"))
		buf_append(out, in->b ? in->b : "", in->b ? in->b_len : 0);
	else if (IS("expected"))
		put_expected(out, in);
	else if (n > 5 && !memcmp(name, "item.", 5))
		put_field(out, in->fields, name + 5, n - 5);
	else
		return false;
	return true;
#undef IS
}

void jdg_render(const struct jdg_check *jc, const struct jdg_input *in, struct buf *out)
{
	struct buf tmp;
	buf_init(&tmp);
	const char *t = jc->template;
	if (!t) {
		jdg_builtin_template(jc->kind, jdg_rubric_for(jc, in->task), &tmp);
		t = tmp.data;
	}
	buf_reset(out);
	/* One pass over the template: a value that holds "{{" is never read
	 * as a placeholder. */
	const char *p = t;
	for (const char *o; (o = strstr(p, "{{"));) {
		const char *e = strstr(o + 2, "}}");
		if (!e)
			break;
		buf_append(out, p, (size_t)(o - p));
		if (!put_placeholder(out, in, o + 2, (size_t)(e - o - 2)))
			buf_append(out, o, (size_t)(e + 2 - o));
		p = e + 2;
	}
	buf_puts(out, p);
	buf_free(&tmp);
}

/* ---- reading a reply ----------------------------------------------------- */

size_t jdg_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	/* back off continuation bytes so a character is never split */
	while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	return k;
}

/* The last match's capture (the first group that took part, else the
 * whole match): 1 with *cap and *cap_len, 0 when none, -1 on a match error. */
static int last_capture(const struct jdg_check *jc, const char *s, size_t n, const char **cap,
			size_t *cap_len)
{
	const pcre2_code *re = jc->re;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	if (!md || !mc) {
		fprintf(stderr, "shadoweval: out of memory (pcre2 match data)\n");
		abort();
	}
	pcre2_set_match_limit(mc, 1000000u);
	int found = 0;
	PCRE2_SIZE start = 0;
	while (start <= n) {
		int rc = pcre2_match(re, (PCRE2_SPTR)s, n, start, 0, md, mc);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			found = -1;
			break;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		int g = 0;
		for (int i = 1; i < rc; i++)
			if (ov[2 * i] != PCRE2_UNSET) {
				g = i;
				break;
			}
		*cap = s + ov[2 * g];
		*cap_len = ov[2 * g + 1] - ov[2 * g];
		found = 1;
		start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return found;
}

static void grade_error(struct jdg_grade *g, const char *why, const struct jdg_check *jc)
{
	g->error = true;
	g->pass = false;
	g->score = NAN;
	g->verdict = 0;
	snprintf(g->why, sizeof(g->why), "%s%.80s", why, jc ? jc->pattern : "");
}

/* The capture the pattern takes from the reply (its last match), or false
 * with the grade's error set when the pattern fails or does not match. */
static bool reply_capture(const struct jdg_check *jc, const char *reply, size_t n,
			  struct jdg_grade *g, const char **cap, size_t *len)
{
	int r = last_capture(jc, reply ? reply : "", reply ? n : 0, cap, len);
	if (r > 0)
		return true;
	grade_error(g, r < 0 ? "pattern failed on the reply: " : "no match for pattern ", jc);
	return false;
}

void jdg_read_score(const struct jdg_check *jc, const char *reply, size_t n, struct jdg_grade *g)
{
	memset(g, 0, sizeof(*g));
	const char *cap = NULL;
	size_t len = 0;
	if (!reply_capture(jc, reply, n, g, &cap, &len))
		return;
	char num[64];
	snprintf(num, sizeof(num), "%.*s", (int)(len < 63 ? len : 63), cap);
	double v = 0;
	if (!len || !decimal_parse(num, &v)) {
		grade_error(g, "the pattern's capture is not a number: ", NULL);
		snprintf(g->why + strlen(g->why), sizeof(g->why) - strlen(g->why), "\"%.40s\"",
			 num);
		return;
	}
	g->score = v;
	g->pass = v >= jc->pass_threshold;
}

void jdg_read_verdict(const struct jdg_check *jc, const char *reply, size_t n, struct jdg_grade *g)
{
	memset(g, 0, sizeof(*g));
	g->score = NAN;
	const char *cap = NULL;
	size_t len = 0;
	if (!reply_capture(jc, reply, n, g, &cap, &len))
		return;
	if (len == 1 && (*cap == 'A' || *cap == 'a'))
		g->verdict = 'A';
	else if (len == 1 && (*cap == 'B' || *cap == 'b'))
		g->verdict = 'B';
	else if (len == 3 && !strncasecmp(cap, "tie", 3))
		g->verdict = 'T';
	if (!g->verdict) {
		grade_error(g, "the pattern's capture is not A, B or tie: ", NULL);
		snprintf(g->why + strlen(g->why), sizeof(g->why) - strlen(g->why), "\"%.*s\"",
			 (int)(len > 40 ? 40 : len), cap);
	}
}
