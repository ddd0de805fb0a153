/* checks.h: scoring a model's output against an item's expected answers.
 *
 * A check set is compiled once from the config's "checks" array (PCRE2 with
 * JIT when available, UTF mode, a match limit so a catastrophic pattern ends
 * with an error instead of hanging) and then applied to every output. Checks:
 *   exact          normalized output == normalized expected (any of them)
 *   contains       normalized output contains normalized expected
 *   regex          output matches "pattern"
 *   not_regex      output does not match "pattern"
 *   regex_extract  a capture group of "pattern" (select first/last match),
 *                  normalized, equals normalized expected
 *   command        a scorer process says so (src/scorer/: its argv, timeout_s,
 *                  max_restarts, env); graded only when the caller passes a
 *                  runner in chk_item, else skipped (shadowsim)
 * Normalizers, applied in order to both sides: trim, lowercase,
 * collapse_whitespace, strip_punctuation, strip_commas, numeric (compare as
 * numbers when both sides parse as numbers: "18.0" == "18").
 * Several checks combine with "all" (default), "any", or "weighted" (score =
 * sum of weights of passing checks / sum of weights; pass when score >=
 * pass_threshold).
 * Every check may carry "tasks": ["summarize", ...]: it then applies only to
 * items of those tasks; on other items it is skipped (absent from the
 * outcome, not counted by combine).
 *
 * Ownership: chk_set owns its compiled patterns; chk_set_free releases them.
 * chk_eval only reads the set, so one set serves every request.
 */
#ifndef SE_CHECKS_H
#define SE_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct cJSON;
struct chk_item;

/* CHK_JUDGE and CHK_PAIRWISE are model-graded (checks/judge.h): chk_eval
 * leaves them pending for the engine, which sends the judge requests and
 * fills their results in (chk_fill_judge) before chk_combine. */
enum chk_type {
	CHK_EXACT,
	CHK_CONTAINS,
	CHK_REGEX,
	CHK_NOT_REGEX,
	CHK_REGEX_EXTRACT,
	CHK_COMMAND,
	CHK_JUDGE,
	CHK_PAIRWISE
};
enum chk_combine { CHK_ALL, CHK_ANY, CHK_WEIGHTED };

struct chk_check; /* opaque: compiled pattern and options */
struct jdg_check;

struct chk_set {
	struct chk_check *checks;
	size_t n;
	enum chk_combine combine;
	double pass_threshold; /* CHK_WEIGHTED only; default 1.0 */
};

/* The verdict of one check on one output. */
struct chk_result {
	const char *name; /* the check's name (owned by the set) */
	const char *type; /* NULL for the text checks; "command" */
	bool pass;
	bool error;	  /* the check could not run (match limit hit...) */
	double score;	  /* typed checks: their score, NAN when none (null) */
	char detail[160]; /* extracted value, or the error; "" when none */
	size_t check;	  /* its index in the set */
	/* judge and pairwise checks only: */
	bool judge;		 /* a judge check: the fields below are written */
	bool pending;		 /* not graded yet: left out of combine */
	char *reply;		 /* the judge's reply cut to reply_chars (owned), or NULL */
	const char *judge_model; /* borrowed from the config */
	double cost_usd;	 /* NAN: unknown */
	double latency_ms;
	bool cached;
};
/* Sets r->detail to s, cut at a code point boundary. */
void chk_result_detail(struct chk_result *r, const char *s);

/* A command check's process (checks[i] with "type": "command"). */
struct chk_cmd {
	char **argv; /* argc strings, then NULL */
	size_t argc;
	char **env; /* n_env variable names the scorer inherits (beyond the safe set) */
	size_t n_env;
	char *dir;	  /* the config's folder: the scorer runs there */
	double timeout_s; /* per reply; default 10 */
	int max_restarts; /* default 3 */
};
/* Check i's command (and *name, when name is not NULL), or NULL when check
 * i is not a command check. */
const struct chk_cmd *chk_command(const struct chk_set *set, size_t i, const char **name);

/* How a caller grades command checks: grade(ctx, i, item, output, n, r)
 * fills r's pass, score, detail and error for check i of the set (output is
 * valid UTF-8). src/scorer/ provides one (scr_pool_runner). */
struct chk_runner {
	void (*grade)(void *ctx, size_t check, const struct chk_item *item, const char *output,
		      size_t n, struct chk_result *r);
	void *ctx;
};

struct chk_outcome {
	struct chk_result *results; /* n entries, owned by the outcome */
	size_t n;
	bool pass;
	double score; /* 0..1 */
};

/* Compiles `checks` (a JSON array) with the "combine" mode (NULL: "all") and
 * "pass_threshold". `file` and `path` ("checks") prefix error locations, e.g.
 * "evals/x.json: checks[1].pattern". Returns 0 or -1 with err set. */
int chk_compile(struct chk_set *set, const struct cJSON *checks, const struct cJSON *combine,
		const struct cJSON *pass_threshold, const char *file, const char *path,
		struct se_err *err);
void chk_set_free(struct chk_set *set);

/* What a check may look at besides the output: the item. Only expected is
 * read by the text checks; the others are for checks that grade with the
 * item's context (a scorer process, a judge). */
struct chk_item {
	const char *id;
	const char *task;	     /* "" when absent (NULL is read as "") */
	const struct cJSON *fields;  /* the item object (ds_item.obj) or NULL */
	const char *input;	     /* the rendered last user message, or NULL */
	const char *const *expected; /* NULL/0 when the item has none */
	size_t n_expected;
	/* grades command checks; NULL: they are skipped, as on an item of
	 * another task (shadowsim builds its answers with the text checks) */
	const struct chk_runner *runner;
};

/* Scores output (n bytes) against the item's expected answers (none: then
 * only regex/not_regex can pass). item NULL: an item with no task and no
 * expected answer. Fills *out, which the caller releases with
 * chk_outcome_free; out->results holds only the checks that apply to the
 * item's task, in config order. Never fails: a check that cannot run is
 * recorded as error (and not passed). */
void chk_eval(const struct chk_set *set, const struct chk_item *item, const char *output, size_t n,
	      struct chk_outcome *out);
void chk_outcome_free(struct chk_outcome *out);

/* Model-graded checks. chk_judge_of: check i's judge config, or NULL for
 * another check. chk_pairwise_of: the set's pairwise check, or NULL.
 * chk_applies: check i applies to an item of `task` (its "tasks"). */
const struct jdg_check *chk_judge_of(const struct chk_set *set, size_t i);
const struct jdg_check *chk_pairwise_of(const struct chk_set *set);
bool chk_applies(const struct chk_set *set, size_t i, const char *task);
/* Check i's name (as in the line's checks object), or NULL out of range. */
const char *chk_name(const struct chk_set *set, size_t i);
/* Check i's judge config (judge or pairwise) for the config loader to
 * resolve its model, or NULL. */
struct jdg_check *chk_model_graded(const struct chk_set *set, size_t i);
/* Puts a judge check's grade into the result of check i (none when the
 * check does not apply to the item; error: the reply or the request failed,
 * why in `why`); reply (cut by the caller) is copied. */
void chk_fill_judge(struct chk_outcome *out, size_t i, bool error, bool pass, double score,
		    const char *why, const char *reply, size_t reply_len, const char *judge_model,
		    double cost_usd, double latency_ms, bool cached);
/* Recomputes pass and score from the results, leaving out pending ones and
 * pairwise (which compares, not grades). chk_eval calls it. */
void chk_combine(const struct chk_set *set, struct chk_outcome *out);
/* Details of chk_eval, beyond the summary at the top:
 * - "ignore" regexes delete their matches from the compared sides before the
 *   normalizers run: for exact/contains the output and each expected; for
 *   regex_extract the extracted text and each expected (as lm-evaluation-
 *   harness's regexes_to_ignore); for regex/not_regex the output before the
 *   match (the normalizers also run on it first).
 * - "value" replaces the expected answers (exact, contains, regex_extract).
 * - "ignore_case" makes patterns caseless and comparisons ASCII-caseless.
 * - regex_extract without "group" takes the first group that took part in the
 *   match (group 0 when the pattern has none), so alternations of groups work.
 * - output (and expected) that is not valid UTF-8 has each invalid byte
 *   replaced by U+FFFD before matching.
 * - a set with no checks (no "checks" given) never passes: pass false, score 0;
 *   nor does a set whose checks all skip the item (its task is in none of
 *   their "tasks" lists).
 * - a result's detail: regex_extract the extracted text, or "no match"; regex
 *   and not_regex the matched text, or "no match"; "no expected answer";
 *   "regex match limit exceeded" (with error set); "empty expected answer"
 *   (with error set) for contains when an answer is empty once prepared,
 *   since every output contains "" (a "value" of "" is refused at compile).
 * - chk_needs_expected says whether a set has a check that compares with the
 *   item's expected answers (exact, contains, regex_extract without "value"),
 *   so `validate` can name the items that have none. */

/* The name of the first check of set that needs the item's expected answers,
 * or NULL when none does. */
const char *chk_needs_expected(const struct chk_set *set);

/* Whether a check of set grades with the item's context (fields, input)
 * beyond its expected answers, so the caller must fill chk_item's fields
 * and input (the engine copies them only then). */
bool chk_wants_item(const struct chk_set *set);

/* Appends the outcome's per-check results as a JSON object
 * {"name":{"pass":true,"detail":"18"},...} (the "checks" field of a result);
 * a check that could not run also has "error":true. A judge check also has
 * score, type, judge_model, cost_usd, latency_ms and cached, its detail the
 * reply; a pairwise check is not listed (the line's "pairwise" field). */
void chk_outcome_json(const struct chk_outcome *out, struct buf *b);

/* Applies the named normalizers (bitmask from chk_normalizer_bit) to s; the
 * result replaces b's contents (b is reset first). Exposed for tests and for
 * shadowsim. */
unsigned chk_normalizer_bit(const char *name); /* 0 when unknown */
void chk_normalize(unsigned mask, const char *s, size_t n, struct buf *b);

/* Normalizer indices: chk_normalizer_bit(name) == 1u << index. chk_normalize
 * applies a mask in this order; a check applies its list in the user's order
 * (chk_normalize_seq). All normalizers are ASCII-only and copy bytes >= 0x80
 * unchanged (lowercase does not fold "É"; strip_punctuation removes every
 * ASCII punctuation character, also "-" and "." inside numbers). numeric
 * rewrites a string that is (whitespace aside) a finite decimal number, with
 * an optional sign and "$", thousands commas in groups of three ("1,800") and
 * an exponent, as its exact value in one canonical spelling ("$1,800.0" ->
 * "1800", "-0" -> "0", "1e3" -> "1000", "1e300" -> "1e+300"): digits are
 * compared, not doubles, so 100000000000000000001 != 100000000000000000000;
 * anything else ("1,8", "0x10", "inf", "18 apples") is left unchanged. */
enum chk_norm {
	CHK_NORM_TRIM,
	CHK_NORM_LOWERCASE,
	CHK_NORM_COLLAPSE_WS, /* each run of ASCII whitespace -> one space */
	CHK_NORM_STRIP_PUNCT,
	CHK_NORM_STRIP_COMMAS,
	CHK_NORM_NUMERIC,
	CHK_N_NORMALIZERS
};
/* Applies ops (enum chk_norm values) in order to s[0..n); b is reset first. */
void chk_normalize_seq(const unsigned char *ops, size_t n_ops, const char *s, size_t n,
		       struct buf *b);
/* "trim, lowercase, ...": the known names, for error messages. */
const char *chk_normalizer_known(void);

#endif
