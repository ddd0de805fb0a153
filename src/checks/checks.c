/* checks.c: the checks room: compiling a config's "checks" array into PCRE2
 * patterns once, and scoring each model output against an item's expected
 * answers (see checks.h).
 *
 * It does not read files, decide where results go, or retry anything: a check
 * that cannot run (a catastrophic pattern hitting the match limit) is recorded
 * as an error in the outcome, never as a program failure. Normalizers live in
 * normalize.c.
 *
 * Per check, in this order (after lm-evaluation-harness's exact_match):
 *   exact/contains   both sides: delete "ignore" matches, normalize, compare
 *   regex/not_regex  the output: delete "ignore" matches, normalize, match
 *   regex_extract    match the raw output, take the group; then the extracted
 *                    text and each expected: delete "ignore", normalize, compare
 * "ignore_case" makes patterns PCRE2_CASELESS and comparisons ASCII-caseless.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "checks/checks.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "checks/command.h"
#include "checks/judge.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "core/xalloc.h"

/* Enough for any honest pattern on a long answer; a catastrophic one (nested
 * quantifiers on a near-match) stops here in milliseconds instead of hanging. */
#define CHK_MATCH_LIMIT 1000000u
/* A greedy group over a long answer ("^(a|b|\\s)+$" on 100 KB) needs one
 * backtracking frame per character: these let such honest patterns finish
 * (the JIT default stack is only 32 KiB) while the match limit still stops
 * catastrophic ones. The big JIT stack is made per call, only after the
 * default one overflowed, so the set itself stays read-only. */
#define CHK_DEPTH_LIMIT 1000000u
#define CHK_JIT_STACK_MIN (32u * 1024)
#define CHK_JIT_STACK_MAX (16u * 1024 * 1024)

struct chk_check {
	char *name;
	enum chk_type type;
	pcre2_code *re;	     /* regex types only */
	pcre2_code **ignore; /* n_ignore patterns whose matches are deleted */
	size_t n_ignore;
	unsigned char *norm; /* enum chk_norm, in the user's order */
	size_t n_norm;
	pcre2_match_context *mctx; /* match and depth limits; read-only when matching */
	bool ignore_case;
	int group; /* regex_extract: -1 = first group that took part */
	bool select_last;
	char *value; /* compare against this instead of expected */
	double weight;
	char **tasks; /* n_tasks task names; 0: every item */
	size_t n_tasks;
	struct chk_cmd *cmd;   /* command only */
	struct jdg_check *jdg; /* judge and pairwise only */
};

static const char *const type_names[] = {"exact",	  "contains", "regex", "not_regex",
					 "regex_extract", "command",  "judge", "pairwise"};
/* The types that grade with the item's fields or input (chk_wants_item). */
static const bool type_wants_item[] = {false, false, false, false, false, true, true, true};
#define TYPES_KNOWN "exact, contains, regex, not_regex, regex_extract, command, judge, pairwise"
#define KEYS_KNOWN                                                                                 \
	"name, type, pattern, normalize, ignore, ignore_case, group, select, value, weight, "      \
	"tasks, "                                                                                  \
	"argv, timeout_s, max_restarts, env"

static bool is_regex_type(enum chk_type t)
{
	return t == CHK_REGEX || t == CHK_NOT_REGEX || t == CHK_REGEX_EXTRACT;
}

/* ---- compiling ---------------------------------------------------------- */

struct cctx {
	const char *file;
	const char *path;
	size_t i;
	struct se_err *err;
};

/* The JSON path of the check being compiled: "<path>[i]<suffix>". */
static void path_of(const struct cctx *c, const char *suffix, char out[JSONV_PATH])
{
	char item[JSONV_PATH];
	jsonv_idx(item, c->path ? c->path : "checks", c->i);
	snprintf(out, JSONV_PATH, "%.400s%.100s", item, suffix ? suffix : "");
}

/* "<file>: <path>[i]<suffix>" */
static const char *where_of(const struct cctx *c, char *w, size_t cap, const char *suffix)
{
	char p[JSONV_PATH];
	path_of(c, suffix, p);
	struct jsonv jv = {.file = c->file, .err = c->err};
	jsonv_where(&jv, p, w, cap);
	return w;
}

static int fail_at(const struct cctx *c, const char *suffix, const char *fmt, ...) SE_PRINTF(3, 4);
static int fail_at(const struct cctx *c, const char *suffix, const char *fmt, ...)
{
	char p[JSONV_PATH];
	path_of(c, suffix, p);
	struct jsonv jv = {.file = c->file, .err = c->err};
	va_list ap;
	va_start(ap, fmt);
	int rc = jsonv_vfail(&jv, p, fmt, ap);
	va_end(ap);
	return rc;
}

static int compile_re(const struct cctx *c, const char *suffix, const char *pat, bool caseless,
		      pcre2_code **out)
{
	int code = 0;
	PCRE2_SIZE off = 0;
	uint32_t opts = PCRE2_UTF | PCRE2_UCP | (caseless ? PCRE2_CASELESS : 0);
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", code);
		char w[512];
		where_of(c, w, sizeof w, suffix);
		return se_fail(c->err, SE_INPUT, w, "invalid regex at offset %zu: %s", (size_t)off,
			       (const char *)msg);
	}
	/* JIT is an optimisation: when it is unavailable the interpreter runs. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	*out = re;
	return 0;
}

static void check_free(struct chk_check *k)
{
	free(k->name);
	pcre2_code_free(k->re);
	for (size_t j = 0; j < k->n_ignore; j++)
		pcre2_code_free(k->ignore[j]);
	free(k->ignore);
	free(k->norm);
	pcre2_match_context_free(k->mctx);
	free(k->value);
	for (size_t j = 0; j < k->n_tasks; j++)
		free(k->tasks[j]);
	free(k->tasks);
	chk_cmd_free(k->cmd);
	jdg_free(k->jdg);
	free(k->jdg);
	memset(k, 0, sizeof *k);
}

static const char *const check_keys[] = {
    "name",  "type",   "pattern", "normalize", "ignore",    "ignore_case",  "group", "select",
    "value", "weight", "tasks",	  "argv",      "timeout_s", "max_restarts", "env",   NULL};

/* ---- a check's keys, one parser each ---------------------------------- */

/* Parses the value v of one key into k (type already set). */
typedef int (*field_fn)(const struct cctx *c, const cJSON *v, struct chk_check *k);

static int f_name(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return fail_at(c, ".name", "\"name\" must be a non-empty string");
	k->name = xstrdup(v->valuestring);
	return 0;
}

static int f_ignore_case(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (!cJSON_IsBool(v))
		return fail_at(c, ".ignore_case", "\"ignore_case\" must be true or false");
	k->ignore_case = cJSON_IsTrue(v);
	return 0;
}

/* Called for every check, v NULL when absent: the regex types need one. */
static int f_pattern(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (!is_regex_type(k->type)) {
		if (v)
			return fail_at(c, ".pattern", "\"pattern\" is not allowed for type \"%s\"",
				       type_names[k->type]);
		return 0;
	}
	if (!v)
		return fail_at(c, NULL, "missing \"pattern\" (required for type \"%s\")",
			       type_names[k->type]);
	if (!cJSON_IsString(v))
		return fail_at(c, ".pattern", "\"pattern\" must be a string");
	return compile_re(c, ".pattern", v->valuestring, k->ignore_case, &k->re);
}

static int f_normalize(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (!cJSON_IsArray(v))
		return fail_at(c, ".normalize",
			       "\"normalize\" must be an array of names (known: %s)",
			       chk_normalizer_known());
	k->norm = xcalloc((size_t)cJSON_GetArraySize(v), 1);
	size_t j = 0;
	for (const cJSON *e = v->child; e; e = e->next, j++) {
		unsigned bit = cJSON_IsString(e) ? chk_normalizer_bit(e->valuestring) : 0;
		if (!bit) {
			char sfx[64], w[512];
			snprintf(sfx, sizeof sfx, ".normalize[%zu]", j);
			where_of(c, w, sizeof w, sfx);
			return se_fail(c->err, SE_INPUT, w, "unknown normalizer \"%s\" (known: %s)",
				       cJSON_IsString(e) ? e->valuestring : "(not a string)",
				       chk_normalizer_known());
		}
		unsigned char op = 0;
		while ((1u << op) != bit)
			op++;
		k->norm[k->n_norm++] = op;
	}
	return 0;
}

static int f_ignore(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (!cJSON_IsArray(v))
		return fail_at(c, ".ignore", "\"ignore\" must be an array of regexes");
	k->ignore = xcalloc((size_t)cJSON_GetArraySize(v), sizeof *k->ignore);
	size_t j = 0;
	for (const cJSON *e = v->child; e; e = e->next, j++) {
		char sfx[64];
		snprintf(sfx, sizeof sfx, ".ignore[%zu]", j);
		if (!cJSON_IsString(e))
			return fail_at(c, sfx, "\"ignore\" entries must be strings");
		if (compile_re(c, sfx, e->valuestring, k->ignore_case, &k->ignore[k->n_ignore]) < 0)
			return -1;
		k->n_ignore++;
	}
	return 0;
}

/* After pattern: the group must exist in it. */
static int f_group(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (k->type != CHK_REGEX_EXTRACT)
		return fail_at(c, ".group", "\"group\" is only allowed for type %s",
			       "\"regex_extract\"");
	double g = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (!(g >= 0 && g <= 65535) || g != (double)(int)g)
		return fail_at(c, ".group", "\"group\" must be an integer >= 0");
	uint32_t caps = 0;
	pcre2_pattern_info(k->re, PCRE2_INFO_CAPTURECOUNT, &caps);
	if ((uint32_t)g > caps) {
		char w[512];
		where_of(c, w, sizeof w, ".group");
		return se_fail(c->err, SE_INPUT, w,
			       "group %d does not exist (the pattern has %u groups)", (int)g,
			       (unsigned)caps);
	}
	k->group = (int)g;
	return 0;
}

static int f_select(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (k->type != CHK_REGEX_EXTRACT)
		return fail_at(c, ".select", "\"select\" is only allowed for type %s",
			       "\"regex_extract\"");
	if (!cJSON_IsString(v) ||
	    (strcmp(v->valuestring, "first") != 0 && strcmp(v->valuestring, "last") != 0))
		return fail_at(c, ".select", "\"select\" must be \"first\" or \"last\"");
	k->select_last = strcmp(v->valuestring, "last") == 0;
	return 0;
}

static int f_value(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (k->type == CHK_REGEX || k->type == CHK_NOT_REGEX)
		return fail_at(c, ".value", "\"value\" is not allowed for type \"%s\"",
			       type_names[k->type]);
	if (!cJSON_IsString(v))
		return fail_at(c, ".value", "\"value\" must be a string");
	if (k->type == CHK_CONTAINS && !*v->valuestring)
		return fail_at(c, ".value", "\"value\" is empty: every output contains it");
	k->value = xstrdup(v->valuestring);
	return 0;
}

static int f_weight(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || v->valuedouble > 1e300)
		return fail_at(c, ".weight", "\"weight\" must be a number > 0");
	k->weight = v->valuedouble;
	return 0;
}

/* A non-empty array of distinct non-empty task names. */
static int f_tasks(const struct cctx *c, const cJSON *v, struct chk_check *k)
{
	if (!cJSON_IsArray(v) || !v->child)
		return fail_at(c, ".tasks", "\"tasks\" must be a non-empty array of task names");
	k->tasks = xcalloc((size_t)cJSON_GetArraySize(v), sizeof *k->tasks);
	size_t j = 0;
	for (const cJSON *e = v->child; e; e = e->next, j++) {
		char sfx[64];
		snprintf(sfx, sizeof sfx, ".tasks[%zu]", j);
		if (!cJSON_IsString(e) || !e->valuestring[0])
			return fail_at(c, sfx, "a task name must be a non-empty string");
		for (size_t t = 0; t < k->n_tasks; t++)
			if (strcmp(k->tasks[t], e->valuestring) == 0)
				return fail_at(c, sfx, "task \"%s\" is listed twice",
					       e->valuestring);
		k->tasks[k->n_tasks++] = xstrdup(e->valuestring);
	}
	return 0;
}

/* Every key but "type", in the order they are parsed: ignore_case before
 * the regexes it applies to, pattern before group (which must exist in it).
 * A missing key keeps its default, except where `always` asks for a call. */
static const struct check_field {
	const char *key;
	field_fn parse;
	bool always;
} check_fields[] = {
    {"name", f_name, false},	  {"ignore_case", f_ignore_case, false},
    {"pattern", f_pattern, true}, {"normalize", f_normalize, false},
    {"ignore", f_ignore, false},  {"group", f_group, false},
    {"select", f_select, false},  {"value", f_value, false},
    {"weight", f_weight, false},  {"tasks", f_tasks, false},
};

static int parse_type(const struct cctx *c, const cJSON *obj, struct chk_check *k)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (!type)
		return fail_at(c, NULL, "missing \"type\" (known: %s)", TYPES_KNOWN);
	if (!cJSON_IsString(type))
		return fail_at(c, ".type", "\"type\" must be a string (known: %s)", TYPES_KNOWN);
	size_t t = 0;
	while (t < sizeof type_names / sizeof type_names[0] &&
	       strcmp(type->valuestring, type_names[t]) != 0)
		t++;
	if (t == sizeof type_names / sizeof type_names[0]) {
		char w[512];
		where_of(c, w, sizeof w, ".type");
		return se_fail(c->err, SE_INPUT, w, "unknown type \"%s\" (known: %s)",
			       type->valuestring, TYPES_KNOWN);
	}
	k->type = (enum chk_type)t;
	return 0;
}

/* A command check has argv & co. and none of the text checks' options;
 * the others have none of its keys. */
static int compile_command(const struct cctx *c, const cJSON *obj, struct chk_check *k)
{
	static const char *const text_only[] = {"normalize", "ignore", "ignore_case", "value",
						NULL};
	const char *const *own = k->type == CHK_COMMAND ? text_only : chk_cmd_keys;
	for (size_t i = 0; own[i]; i++) {
		if (!cJSON_GetObjectItemCaseSensitive(obj, own[i]))
			continue;
		char sfx[64];
		snprintf(sfx, sizeof sfx, ".%s", own[i]);
		return fail_at(c, sfx, "\"%s\" is %s for type \"command\"", own[i],
			       k->type == CHK_COMMAND ? "not allowed" : "only allowed");
	}
	if (k->type != CHK_COMMAND)
		return 0;
	char p[JSONV_PATH];
	path_of(c, NULL, p);
	return chk_cmd_parse(obj, c->file, p, &k->cmd, c->err);
}

/* A judge or pairwise check: its own keys (checks/judge.c), and the
 * common name and tasks. */
static int compile_judge(const struct cctx *c, const cJSON *obj, struct chk_check *k)
{
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(obj, "name");
	if (nm && f_name(c, nm, k))
		return -1;
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(obj, "tasks");
	if (ts && f_tasks(c, ts, k))
		return -1;
	char p[JSONV_PATH];
	path_of(c, NULL, p);
	k->weight = 1.0;
	k->jdg = xcalloc(1, sizeof(*k->jdg));
	return jdg_parse(k->jdg, k->type == CHK_JUDGE ? JDG_JUDGE : JDG_PAIRWISE, obj, c->file, p,
			 c->err);
}

static int compile_one(const struct cctx *c, const cJSON *obj, struct chk_check *k)
{
	if (!cJSON_IsObject(obj))
		return fail_at(c, NULL, "check must be an object");
	const cJSON *ty = cJSON_GetObjectItemCaseSensitive(obj, "type");
	if (cJSON_IsString(ty) &&
	    (!strcmp(ty->valuestring, "judge") || !strcmp(ty->valuestring, "pairwise"))) {
		k->type = !strcmp(ty->valuestring, "judge") ? CHK_JUDGE : CHK_PAIRWISE;
		return compile_judge(c, obj, k);
	}
	const char *unknown = jsonv_unknown_key(obj, check_keys);
	if (unknown)
		return fail_at(c, NULL, "unknown key \"%s\" (known: " KEYS_KNOWN ")", unknown);
	if (parse_type(c, obj, k))
		return -1;
	k->group = -1;
	k->weight = 1.0;
	if (compile_command(c, obj, k))
		return -1;
	for (size_t i = 0; i < sizeof check_fields / sizeof check_fields[0]; i++) {
		const struct check_field *f = &check_fields[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->key);
		if ((v || f->always) && f->parse(c, v, k))
			return -1;
	}
	k->mctx = pcre2_match_context_create(NULL);
	if (!k->mctx) {
		fprintf(stderr, "shadoweval: out of memory (pcre2 match context)\n");
		abort();
	}
	pcre2_set_match_limit(k->mctx, CHK_MATCH_LIMIT);
	pcre2_set_depth_limit(k->mctx, CHK_DEPTH_LIMIT);
	return 0;
}

static bool name_taken(const struct chk_check *ks, size_t n, const char *name)
{
	for (size_t j = 0; j < n; j++)
		if (ks[j].name && strcmp(ks[j].name, name) == 0)
			return true;
	return false;
}

/* Explicit names must be unique; a missing name becomes "<type>", or
 * "<type>_<i>" when that is taken by any other check. */
static int assign_names(struct chk_set *set, const char *file, const char *path, struct se_err *err)
{
	struct jsonv jv = {.file = file, .err = err};
	for (size_t i = 0; i < set->n; i++) {
		const char *nm = set->checks[i].name;
		if (!nm)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (set->checks[j].name && strcmp(set->checks[j].name, nm) == 0) {
				char item[JSONV_PATH], p[JSONV_PATH];
				jsonv_idx(item, path ? path : "checks", i);
				jsonv_key(p, item, "name");
				return jsonv_fail(&jv, p,
						  "duplicate check name \"%s\" (also %s[%zu])", nm,
						  path ? path : "checks", j);
			}
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		struct chk_check *k = &set->checks[i];
		if (k->name)
			continue;
		const char *tn = type_names[k->type];
		char cand[64];
		snprintf(cand, sizeof cand, "%s", tn);
		if (name_taken(set->checks, set->n, cand))
			snprintf(cand, sizeof cand, "%s_%zu", tn, i);
		if (name_taken(set->checks, set->n, cand)) {
			char item[JSONV_PATH];
			jsonv_idx(item, path ? path : "checks", i);
			return jsonv_fail(&jv, item,
					  "default check name \"%s\" is taken: give this check a "
					  "\"name\"",
					  cand);
		}
		k->name = xstrdup(cand);
	}
	return 0;
}

static int compile_combine(struct chk_set *set, const cJSON *combine, const cJSON *thr,
			   const char *file, struct se_err *err)
{
	struct jsonv jv = {.file = file, .err = err};
	set->combine = CHK_ALL;
	set->pass_threshold = 1.0;
	if (combine && !cJSON_IsNull(combine)) {
		const char *s = cJSON_IsString(combine) ? combine->valuestring : NULL;
		if (s && strcmp(s, "all") == 0)
			set->combine = CHK_ALL;
		else if (s && strcmp(s, "any") == 0)
			set->combine = CHK_ANY;
		else if (s && strcmp(s, "weighted") == 0)
			set->combine = CHK_WEIGHTED;
		else
			return jsonv_fail(&jv, "combine",
					  "unknown combine \"%s\" (known: all, any, weighted)",
					  s ? s : "(not a string)");
	}
	if (thr && !cJSON_IsNull(thr)) {
		if (!jsonv_number_in(thr, 0, 1))
			return jsonv_fail(&jv, "pass_threshold",
					  "pass_threshold must be a number from 0 to 1");
		set->pass_threshold = thr->valuedouble;
	}
	return 0;
}

/* At most one pairwise check per config: a shadow line has one comparison. */
static int one_pairwise(const struct chk_set *set, struct cctx *c)
{
	size_t first = set->n;
	for (size_t i = 0; i < set->n; i++) {
		if (set->checks[i].type != CHK_PAIRWISE)
			continue;
		if (first == set->n) {
			first = i;
			continue;
		}
		c->i = i;
		return fail_at(c, ".type",
			       "a second pairwise check (the first is %s[%zu]): at most one per "
			       "config",
			       c->path ? c->path : "checks", first);
	}
	return 0;
}

int chk_compile(struct chk_set *set, const cJSON *checks, const cJSON *combine,
		const cJSON *pass_threshold, const char *file, const char *path, struct se_err *err)
{
	memset(set, 0, sizeof *set);
	if (compile_combine(set, combine, pass_threshold, file, err) < 0)
		return -1;
	if (!checks || cJSON_IsNull(checks))
		return 0;
	if (!cJSON_IsArray(checks)) {
		struct jsonv jv = {.file = file, .err = err};
		return jsonv_fail(&jv, path ? path : "checks", "\"%s\" must be an array of checks",
				  path ? path : "checks");
	}
	size_t n = (size_t)cJSON_GetArraySize(checks);
	set->checks = xcalloc(n, sizeof *set->checks);
	struct cctx c = {.file = file, .path = path, .i = 0, .err = err};
	for (const cJSON *e = checks->child; e; e = e->next, c.i++) {
		set->n = c.i + 1; /* so chk_set_free releases a half-built check */
		if (compile_one(&c, e, &set->checks[c.i]) < 0)
			goto fail;
	}
	if (assign_names(set, file, path, err) < 0 || one_pairwise(set, &c) < 0)
		goto fail;
	return 0;
fail:
	chk_set_free(set);
	return -1;
}

void chk_set_free(struct chk_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		check_free(&set->checks[i]);
	free(set->checks);
	set->checks = NULL;
	set->n = 0;
}

/* ---- matching ----------------------------------------------------------- */

/* Result of running a pattern: a match, none, or a limit hit. */
enum mres { M_MATCH, M_NONE, M_LIMIT, M_ERROR };

static enum mres map_rc(int rc)
{
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
		return M_LIMIT;
	return rc == PCRE2_ERROR_NOMATCH ? M_NONE : M_ERROR;
}

/* Calls fn for every non-overlapping match of re in s[0..n) (valid UTF-8),
 * left to right, until fn returns false. Empty matches advance one code point
 * (as pcre2demo does). Returns M_MATCH if any match was seen. */
typedef bool (*match_fn)(void *ctx, const PCRE2_SIZE *ov, int rc);

static enum mres each_match(const pcre2_code *re, const pcre2_match_context *mctx, const char *s,
			    size_t n, match_fn fn, void *ctx)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md) {
		fprintf(stderr, "shadoweval: out of memory (pcre2 match data)\n");
		abort();
	}
	pcre2_match_context *big = NULL; /* a copy of mctx with a large JIT stack */
	pcre2_jit_stack *stack = NULL;
	enum mres res = M_NONE;
	size_t start = 0;
	uint32_t opts = 0;
	for (;;) {
		int rc = pcre2_match(re, (PCRE2_SPTR)s, n, start, opts | PCRE2_NO_UTF_CHECK, md,
				     big ? big : (pcre2_match_context *)mctx);
		if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !big) {
			stack = pcre2_jit_stack_create(CHK_JIT_STACK_MIN, CHK_JIT_STACK_MAX, NULL);
			big = stack ? pcre2_match_context_copy((pcre2_match_context *)mctx) : NULL;
			if (big) {
				pcre2_jit_stack_assign(big, NULL, stack);
				continue; /* the same attempt, with room to backtrack */
			}
		}
		if (rc == PCRE2_ERROR_NOMATCH && opts) {
			/* no non-empty match here: step over one code point */
			if (start >= n)
				break;
			start++;
			while (start < n && ((unsigned char)s[start] & 0xC0) == 0x80)
				start++;
			opts = 0;
			continue;
		}
		if (rc < 0) {
			enum mres m = map_rc(rc);
			if (m != M_NONE)
				res = m;
			break;
		}
		const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		res = M_MATCH;
		if (!fn(ctx, ov, rc))
			break;
		if (ov[1] < ov[0]) /* \K tricks: stop rather than loop */
			break;
		if (ov[1] == ov[0]) {
			if (ov[0] >= n)
				break;
			opts = PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
		} else {
			opts = 0;
		}
		start = ov[1];
	}
	pcre2_match_context_free(big);
	pcre2_jit_stack_free(stack);
	pcre2_match_data_free(md);
	return res;
}

struct del_ctx {
	const char *s;
	size_t pos;
	struct buf *out;
};

static bool del_fn(void *ctx, const PCRE2_SIZE *ov, int rc)
{
	struct del_ctx *d = ctx;
	(void)rc;
	if (ov[0] >= d->pos && ov[1] >= ov[0]) {
		buf_append(d->out, d->s + d->pos, ov[0] - d->pos);
		d->pos = ov[1];
	}
	return true;
}

struct pick_ctx {
	int group;
	bool last;
	bool found;
	PCRE2_SIZE a, z; /* the chosen span */
};

static bool pick_fn(void *ctx, const PCRE2_SIZE *ov, int rc)
{
	struct pick_ctx *p = ctx;
	int g = p->group;
	if (g < 0) {
		/* the first group that took part, so alternations of groups work */
		g = 0;
		for (int k = 1; k < rc; k++) {
			if (ov[2 * k] != PCRE2_UNSET) {
				g = k;
				break;
			}
		}
	}
	if (g < rc && ov[2 * g] != PCRE2_UNSET && ov[2 * g + 1] >= ov[2 * g]) {
		p->a = ov[2 * g];
		p->z = ov[2 * g + 1];
	} else {
		p->a = p->z = ov[0]; /* the group did not take part: empty */
	}
	p->found = true;
	return p->last;
}

/* Makes s valid UTF-8 for PCRE2_NO_UTF_CHECK: returns s itself when it is,
 * else a copy in tmp with every invalid byte replaced by U+FFFD. */
static const char *utf8_fix(const char *s, size_t *n, struct buf *tmp)
{
	if (utf8_valid(s, *n))
		return s;
	buf_reset(tmp);
	utf8_repair(s, *n, tmp);
	*n = tmp->len;
	return tmp->data;
}

/* Copies s into detail, cut at a code point boundary. */
static void set_detail(struct chk_result *r, const char *s, size_t n)
{
	size_t cap = sizeof r->detail - 1;
	if (n > cap) {
		n = cap;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(r->detail, s, n);
	r->detail[n] = '\0';
}

void chk_result_detail(struct chk_result *r, const char *s)
{
	set_detail(r, s, strlen(s));
}

static void set_limit(struct chk_result *r)
{
	r->error = true;
	r->pass = false;
	snprintf(r->detail, sizeof r->detail, "regex match limit exceeded");
}

static void set_match_error(struct chk_result *r, enum mres m)
{
	if (m == M_LIMIT) {
		set_limit(r);
		return;
	}
	r->error = true;
	r->pass = false;
	snprintf(r->detail, sizeof r->detail, "regex match failed");
}

/* One side of a comparison: ignore-deletion then normalizers, into out.
 * s must be valid UTF-8. Returns M_NONE on success or the failing M_*. */
static enum mres prepare(const struct chk_check *k, const char *s, size_t n, struct buf *out)
{
	struct buf a, b;
	buf_init(&a);
	buf_init(&b);
	buf_append(&a, s, n);
	for (size_t j = 0; j < k->n_ignore; j++) {
		struct del_ctx d = {.s = a.data, .pos = 0, .out = &b};
		buf_reset(&b);
		enum mres m = each_match(k->ignore[j], k->mctx, a.data, a.len, del_fn, &d);
		if (m == M_LIMIT || m == M_ERROR) {
			buf_free(&a);
			buf_free(&b);
			return m;
		}
		buf_append(&b, a.data + d.pos, a.len - d.pos);
		struct buf t = a;
		a = b;
		b = t;
	}
	chk_normalize_seq(k->norm, k->n_norm, a.data, a.len, out);
	buf_free(&a);
	buf_free(&b);
	return M_NONE;
}

static bool ascii_eq(const char *a, size_t na, const char *b, size_t nb, bool fold)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (fold) {
			x = (unsigned char)(x >= 'A' && x <= 'Z' ? x + 32 : x);
			y = (unsigned char)(y >= 'A' && y <= 'Z' ? y + 32 : y);
		}
		if (x != y)
			return false;
	}
	return true;
}

static bool ascii_contains(const char *hay, size_t nh, const char *needle, size_t nn, bool fold)
{
	if (nn > nh)
		return false;
	for (size_t i = 0; i + nn <= nh; i++)
		if (ascii_eq(hay + i, nn, needle, nn, fold))
			return true;
	return false;
}

/* Compares the prepared text against every target (value or expected). */
static void compare_targets(const struct chk_check *k, const struct buf *mine,
			    const char *const *expected, size_t n_expected, struct chk_result *r)
{
	const char *one[1];
	if (k->value) {
		one[0] = k->value;
		expected = one;
		n_expected = 1;
	}
	if (!n_expected || !expected)
		return; /* eval_one has said "no expected answer" */
	struct buf fix, prep;
	buf_init(&fix);
	buf_init(&prep);
	bool empty = false;
	/* contains looks at every answer, so an empty one is found wherever it is */
	for (size_t e = 0; e < n_expected && (!r->pass || k->type == CHK_CONTAINS); e++) {
		if (!expected[e])
			continue;
		size_t n = strlen(expected[e]);
		const char *s = utf8_fix(expected[e], &n, &fix);
		buf_reset(&prep);
		enum mres m = prepare(k, s, n, &prep);
		if (m != M_NONE) {
			set_match_error(r, m);
			break;
		}
		if (k->type == CHK_CONTAINS && prep.len == 0)
			empty = true; /* every output contains "": no verdict */
		else if (k->type == CHK_CONTAINS)
			r->pass = r->pass || ascii_contains(mine->data, mine->len, prep.data,
							    prep.len, k->ignore_case);
		else
			r->pass =
			    ascii_eq(mine->data, mine->len, prep.data, prep.len, k->ignore_case);
	}
	if (empty && !r->error) {
		/* an empty answer in the list would make any output pass: the data
		 * is wrong, and the check says so instead of passing */
		r->pass = false;
		r->error = true;
		snprintf(r->detail, sizeof r->detail, "empty expected answer");
	}
	buf_free(&fix);
	buf_free(&prep);
}

static void eval_one(const struct chk_check *k, const char *out, size_t n,
		     const char *const *expected, size_t n_expected, struct chk_result *r)
{
	struct buf mine;
	buf_init(&mine);
	r->name = k->name;
	enum mres m;
	switch (k->type) {
	case CHK_EXACT:
	case CHK_CONTAINS:
		if (!k->value && (!expected || !n_expected)) {
			snprintf(r->detail, sizeof r->detail, "no expected answer");
			break;
		}
		m = prepare(k, out, n, &mine);
		if (m != M_NONE) {
			set_match_error(r, m);
			break;
		}
		compare_targets(k, &mine, expected, n_expected, r);
		break;
	case CHK_REGEX:
	case CHK_NOT_REGEX: {
		m = prepare(k, out, n, &mine);
		if (m != M_NONE) {
			set_match_error(r, m);
			break;
		}
		struct pick_ctx p = {.group = 0, .last = false};
		m = each_match(k->re, k->mctx, mine.data, mine.len, pick_fn, &p);
		if (m == M_LIMIT || m == M_ERROR) {
			set_match_error(r, m);
			break;
		}
		r->pass = (m == M_MATCH) == (k->type == CHK_REGEX);
		if (m == M_MATCH)
			set_detail(r, mine.data + p.a, p.z - p.a);
		else
			snprintf(r->detail, sizeof r->detail, "no match");
		break;
	}
	case CHK_REGEX_EXTRACT: {
		struct pick_ctx p = {.group = k->group, .last = k->select_last};
		m = each_match(k->re, k->mctx, out, n, pick_fn, &p);
		if (m == M_LIMIT || m == M_ERROR) {
			set_match_error(r, m);
			break;
		}
		if (!p.found) {
			snprintf(r->detail, sizeof r->detail, "no match");
			break;
		}
		set_detail(r, out + p.a, p.z - p.a);
		if (!k->value && (!expected || !n_expected)) {
			snprintf(r->detail, sizeof r->detail, "no expected answer");
			break;
		}
		m = prepare(k, out + p.a, p.z - p.a, &mine);
		if (m != M_NONE) {
			set_match_error(r, m);
			break;
		}
		compare_targets(k, &mine, expected, n_expected, r);
		break;
	}
	case CHK_COMMAND:
		break; /* chk_eval hands it to the runner */
	case CHK_JUDGE:
	case CHK_PAIRWISE:
		/* graded by a model: the engine fills it in (chk_fill_judge) */
		r->judge = k->type == CHK_JUDGE;
		r->pending = true;
		r->score = NAN;
		break;
	}
	buf_free(&mine);
}

/* Whether check k applies to an item of this task ("" when none). */
static bool applies(const struct chk_check *k, const char *task)
{
	if (!k->n_tasks)
		return true;
	for (size_t t = 0; t < k->n_tasks; t++)
		if (strcmp(k->tasks[t], task) == 0)
			return true;
	return false;
}

void chk_eval(const struct chk_set *set, const struct chk_item *item, const char *output, size_t n,
	      struct chk_outcome *out)
{
	memset(out, 0, sizeof *out);
	size_t n_checks = set ? set->n : 0;
	out->results = xcalloc(n_checks, sizeof *out->results);
	if (!output)
		output = "", n = 0;
	const char *task = item && item->task ? item->task : "";
	const char *const *expected = item ? item->expected : NULL;
	size_t n_expected = item && item->expected ? item->n_expected : 0;
	struct buf fix;
	buf_init(&fix);
	const char *s = utf8_fix(output, &n, &fix);

	for (size_t i = 0; i < n_checks; i++) {
		const struct chk_check *k = &set->checks[i];
		bool graded = k->type != CHK_COMMAND || (item && item->runner);
		if (!graded || !applies(k, task))
			continue; /* skipped: absent from the outcome */
		struct chk_result *r = &out->results[out->n++];
		r->score = NAN;
		r->check = i;
		if (k->type == CHK_COMMAND) {
			r->name = k->name;
			r->type = type_names[k->type];
			item->runner->grade(item->runner->ctx, i, item, s, n, r);
		} else {
			eval_one(k, s, n, expected, n_expected, r);
		}
	}
	buf_free(&fix);
	chk_combine(set, out);
}

void chk_combine(const struct chk_set *set, struct chk_outcome *out)
{
	double w_all = 0, w_pass = 0;
	size_t passed = 0, counted = 0;
	for (size_t i = 0; i < out->n; i++) {
		const struct chk_check *k = &set->checks[out->results[i].check];
		if (out->results[i].pending || k->type == CHK_PAIRWISE)
			continue;
		counted++;
		w_all += k->weight;
		if (out->results[i].pass) {
			passed++;
			w_pass += k->weight;
		}
	}
	if (!counted) {
		/* nothing was verified: neither a pass nor a score */
		out->pass = false;
		out->score = 0;
		return;
	}
	switch (set->combine) {
	case CHK_ALL:
		out->score = (double)passed / (double)counted;
		out->pass = passed == counted;
		break;
	case CHK_ANY:
		out->pass = passed > 0;
		out->score = out->pass ? 1.0 : 0.0;
		break;
	case CHK_WEIGHTED:
		out->score = w_all > 0 ? w_pass / w_all : 0;
		/* 1e-12 absorbs rounding in sums like 0.1 + 0.2 */
		out->pass = out->score + 1e-12 >= set->pass_threshold;
		break;
	}
}

void chk_outcome_free(struct chk_outcome *out)
{
	if (!out)
		return;
	for (size_t i = 0; i < out->n && out->results; i++)
		free(out->results[i].reply);
	free(out->results);
	out->results = NULL;
	out->n = 0;
}

const struct chk_cmd *chk_command(const struct chk_set *set, size_t i, const char **name)
{
	if (!set || i >= set->n || set->checks[i].type != CHK_COMMAND)
		return NULL;
	if (name)
		*name = set->checks[i].name;
	return set->checks[i].cmd;
}

const char *chk_needs_expected(const struct chk_set *set)
{
	for (size_t i = 0; set && i < set->n; i++) {
		const struct chk_check *k = &set->checks[i];
		if (!k->value && (k->type == CHK_EXACT || k->type == CHK_CONTAINS ||
				  k->type == CHK_REGEX_EXTRACT))
			return k->name;
	}
	return NULL;
}

bool chk_wants_item(const struct chk_set *set)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (type_wants_item[set->checks[i].type])
			return true;
	return false;
}

const struct jdg_check *chk_judge_of(const struct chk_set *set, size_t i)
{
	return set && i < set->n && set->checks[i].type == CHK_JUDGE ? set->checks[i].jdg : NULL;
}

const char *chk_name(const struct chk_set *set, size_t i)
{
	return set && i < set->n ? set->checks[i].name : NULL;
}

struct jdg_check *chk_model_graded(const struct chk_set *set, size_t i)
{
	return set && i < set->n ? set->checks[i].jdg : NULL;
}

const struct jdg_check *chk_pairwise_of(const struct chk_set *set)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (set->checks[i].type == CHK_PAIRWISE)
			return set->checks[i].jdg;
	return NULL;
}

bool chk_applies(const struct chk_set *set, size_t i, const char *task)
{
	return set && i < set->n && applies(&set->checks[i], task ? task : "");
}

void chk_fill_judge(struct chk_outcome *out, size_t i, bool error, bool pass, double score,
		    const char *why, const char *reply, size_t reply_len, const char *judge_model,
		    double cost_usd, double latency_ms, bool cached)
{
	struct chk_result *r = NULL;
	for (size_t k = 0; k < out->n && !r; k++)
		if (out->results[k].check == i && out->results[k].judge)
			r = &out->results[k];
	if (!r)
		return; /* the check does not apply to this item */
	r->pending = false;
	r->type = "judge";
	r->error = error;
	r->pass = !error && pass;
	r->score = error ? NAN : score;
	snprintf(r->detail, sizeof r->detail, "%s", error && why ? why : "");
	free(r->reply);
	r->reply = reply ? xstrndup(reply, reply_len) : NULL;
	r->judge_model = judge_model;
	r->cost_usd = cost_usd;
	r->latency_ms = latency_ms;
	r->cached = cached;
}

/* A text or command check's fields after "pass": a typed check's score,
 * the detail, a typed check's type. */
static void typed_json(const struct chk_result *r, struct buf *b)
{
	if (r->type) {
		jsonw_key(b, "score");
		jsonw_double(b, r->score);
		buf_putc(b, ',');
	}
	jsonw_key(b, "detail");
	jsonw_str(b, r->detail);
	if (r->type) {
		buf_putc(b, ',');
		jsonw_key(b, "type");
		jsonw_str(b, r->type);
	}
}

/* A judge check's fields after "pass": score, detail (the reply; the
 * error's cause before it), type, judge_model, cost_usd, latency_ms, cached. */
static void judge_json(const struct chk_result *r, struct buf *b)
{
	jsonw_key(b, "score");
	jsonw_double(b, r->score);
	buf_putc(b, ',');
	jsonw_key(b, "detail");
	if (r->error && r->reply) {
		struct buf d;
		buf_init(&d);
		buf_printf(&d, "%s: %s", r->detail, r->reply);
		jsonw_str(b, d.data);
		buf_free(&d);
	} else {
		jsonw_str(b, r->reply ? r->reply : r->detail);
	}
	buf_putc(b, ',');
	jsonw_key(b, "type");
	jsonw_str(b, "judge");
	buf_putc(b, ',');
	jsonw_key(b, "judge_model");
	jsonw_str(b, r->judge_model);
	buf_putc(b, ',');
	jsonw_key(b, "cost_usd");
	jsonw_double(b, r->cost_usd);
	buf_putc(b, ',');
	jsonw_key(b, "latency_ms");
	jsonw_double(b, r->latency_ms);
	buf_putc(b, ',');
	jsonw_key(b, "cached");
	jsonw_bool(b, r->cached);
}

void chk_outcome_json(const struct chk_outcome *out, struct buf *b)
{
	buf_putc(b, '{');
	bool first = true;
	for (size_t i = 0; out && i < out->n; i++) {
		const struct chk_result *r = &out->results[i];
		if (r->pending && !r->judge)
			continue; /* pairwise: the line's own field */
		if (!first)
			buf_putc(b, ',');
		first = false;
		jsonw_str(b, r->name ? r->name : "");
		buf_puts(b, ":{");
		jsonw_key(b, "pass");
		jsonw_bool(b, r->pass);
		buf_putc(b, ',');
		if (r->judge)
			judge_json(r, b);
		else
			typed_json(r, b);
		if (r->error) {
			buf_putc(b, ',');
			jsonw_key(b, "error");
			jsonw_bool(b, true);
		}
		buf_putc(b, '}');
	}
	buf_putc(b, '}');
}
