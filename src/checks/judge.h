/* judge.h: the model-graded checks `judge` and `pairwise` (issue 12): their
 * config, the built-in rubrics, rendering a judge prompt, and reading a
 * judge's reply with the check's PCRE2 pattern.
 *
 * Pure: no network, no engine state. The engine sends the rendered prompt
 * as a chat request to the judge model and hands the reply back to
 * jdg_read_score / jdg_read_verdict; both run on its worker thread.
 *
 * Config (README "Checks"): "judge" (a slot name or a model string),
 * "endpoint", "rubric" (auto | summarize | draft | classify | reason | code |
 * general), "template" (instead of rubric: {{input}}, {{output}},
 * {{expected}}, {{item.FIELD}}; pairwise also {{output_a}}, {{output_b}}),
 * "pattern", "pass_threshold" (judge only), "reply_chars", "params"
 * (temperature, max_tokens) and "tasks". Built-in judge rubrics put the
 * graded output between lines [ANSWER] and [/ANSWER] and end asking for a
 * line `Score: N`; pairwise ones put the answers between [ANSWER A] /
 * [/ANSWER A] and [ANSWER B] / [/ANSWER B] and ask for `Verdict: A`, `B` or
 * `tie` (shadowsim relies on these delimiters).
 */
#ifndef SE_CHECKS_JUDGE_H
#define SE_CHECKS_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct cJSON;

enum jdg_kind { JDG_JUDGE, JDG_PAIRWISE };

/* JDG_AUTO: the item's task's rubric when it has one, else general. */
enum jdg_rubric {
	JDG_AUTO = 0,
	JDG_SUMMARIZE,
	JDG_DRAFT,
	JDG_CLASSIFY,
	JDG_REASON,
	JDG_CODE,
	JDG_GENERAL,
	JDG_N_RUBRIC
};

#define JDG_DEFAULT_THRESHOLD 4.0
#define JDG_DEFAULT_REPLY_CHARS 400
#define JDG_DEFAULT_MAX_TOKENS 256

struct jdg_check {
	enum jdg_kind kind;
	char *judge;	/* as given: a slot name or a model string */
	char *endpoint; /* NULL: the slot's, or the one endpoint that has the model */
	enum jdg_rubric rubric;
	char *template; /* NULL: the built-in rubric */
	char *pattern;
	void *re; /* pcre2_code *, compiled from pattern */
	double pass_threshold;
	size_t reply_chars;
	double temperature; /* default 0 */
	int max_tokens;	    /* default JDG_DEFAULT_MAX_TOKENS */
	/* Resolved by the config loader (cfg_resolve_judges): the judge's
	 * model index and its slot (-1 when a model string). */
	int model;
	int slot;
};

/* Parses one check object of type "judge" or "pairwise" (its "name",
 * "type" and "tasks" are the caller's and are accepted here). `path` is the
 * check's JSON path (checks[2]); errors are SE_INPUT at "<file>: <path>.key".
 * On failure jc is left for jdg_free. */
int jdg_parse(struct jdg_check *jc, enum jdg_kind kind, const struct cJSON *obj, const char *file,
	      const char *path, struct se_err *err);
void jdg_free(struct jdg_check *jc);

/* The keys a judge or pairwise check object may have. */
extern const char *const jdg_keys[];

/* The rubric's public name ("auto", "summarize", ...) and its criterion
 * sentence (NULL for JDG_AUTO). */
const char *jdg_rubric_name(enum jdg_rubric r);
const char *jdg_rubric_criterion(enum jdg_rubric r);
/* The rubric a check uses for an item of `task` (never JDG_AUTO). */
enum jdg_rubric jdg_rubric_for(const struct jdg_check *jc, const char *task);
/* The built-in template of kind and rubric (not JDG_AUTO), into b (reset). */
void jdg_builtin_template(enum jdg_kind kind, enum jdg_rubric r, struct buf *b);

/* What a prompt is rendered from. For pairwise, a is shown as A and b as B;
 * for judge, a is the graded output and b is unused. */
struct jdg_input {
	const char *task;	     /* "" or NULL when none */
	const struct cJSON *fields;  /* the item object, or NULL */
	const char *input;	     /* the last user message, or NULL */
	const char *const *expected; /* joined with newlines; "(none)" when none */
	size_t n_expected;
	const char *a;
	size_t a_len;
	const char *b;
	size_t b_len;
};

/* Renders the check's prompt (its template, or the built-in rubric for the
 * item's task) into out (reset first). {{item.FIELD}}: a string field as
 * is, another value as compact JSON, an absent one as "". */
void jdg_render(const struct jdg_check *jc, const struct jdg_input *in, struct buf *out);

/* A judge reply read with the check's pattern. */
struct jdg_grade {
	bool error; /* no match, or a capture that is not a score / verdict */
	bool pass;  /* judge: score >= pass_threshold */
	double score;
	char verdict;  /* pairwise: 'A', 'B', 'T' (tie), 0 on error */
	char why[120]; /* on error: what was wrong */
};

/* Judge: the pattern's first group that took part (else the whole match) is
 * a number, the score. */
void jdg_read_score(const struct jdg_check *jc, const char *reply, size_t n, struct jdg_grade *g);
/* Pairwise: the capture is A, B or tie (case-insensitive). With several
 * matches, the last one counts (a judge's final word). */
void jdg_read_verdict(const struct jdg_check *jc, const char *reply, size_t n, struct jdg_grade *g);

/* The length of s[0..n) cut to at most max bytes at a UTF-8 boundary. */
size_t jdg_cut(const char *s, size_t n, size_t max);

#endif
