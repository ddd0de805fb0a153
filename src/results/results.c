/* results.c: writing and streaming results.jsonl; see results.h.
 *
 * Field order is fixed (identity first, the long `output` last) so that lines
 * are easy to read with head/less and byte-identical for identical results.
 */
#include "results/results.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/jsonnul.h"
#include "core/lines.h"
#include "core/jsonw.h"
#include "core/xalloc.h"
#include "results/res_int.h"

void res_row_init(struct res_row *row)
{
	memset(row, 0, sizeof(*row));
	row->item_index = -1;
	row->latency_ms = NAN;
	row->ttft_ms = NAN;
	row->prompt_tokens = -1;
	row->completion_tokens = -1;
	row->cost_usd = NAN;
	row->original_latency_ms = NAN;
	row->original_ttft_ms = NAN;
	row->est_tokens = -1;
	row->score = NAN;
	row->sample = -1;
	row->judge_cost_usd = NAN;
	row->judge_latency_ms = NAN;
}

bool res_field_fits(const struct res_field *f, double v)
{
	return isfinite(v) && v >= f->lo && v <= f->hi && (f->kind != F_INT || v == floor(v));
}

/* Field fid (an F_INT or F_NUM) as "key":value, or "key":null when v is
 * unknown (NAN, -1) or outside the range the reader takes: every number a
 * line of ours holds is one its reader accepts (res_field_table, one
 * definition for both), whatever a reply, a price or the cache said. */
static void put_num(struct buf *b, enum res_fid fid, double v)
{
	const struct res_field *f = &res_field_table[fid];
	jsonw_key(b, f->key);
	if (!res_field_fits(f, v))
		buf_puts(b, "null");
	else if (f->kind == F_INT)
		jsonw_long(b, (long long)v);
	else
		jsonw_double(b, v);
}

static void format_pairwise(struct buf *b, const struct res_pairwise *p)
{
	jsonw_key(b, "pairwise");
	buf_putc(b, '{');
	jsonw_key(b, "check");
	jsonw_str(b, p->check);
	buf_putc(b, ',');
	jsonw_key(b, "judge_model");
	jsonw_str(b, p->judge_model);
	buf_putc(b, ',');
	jsonw_key(b, "reference_model");
	jsonw_str(b, p->reference_model);
	buf_putc(b, ',');
	jsonw_key(b, "ab");
	jsonw_str(b, res_pw_pick_name(p->ab == RES_PICK_NONE ? RES_PICK_ERROR : p->ab));
	buf_putc(b, ',');
	jsonw_key(b, "ba");
	jsonw_str(b, res_pw_pick_name(p->ba == RES_PICK_NONE ? RES_PICK_ERROR : p->ba));
	buf_putc(b, ',');
	jsonw_key(b, "outcome");
	jsonw_str(b, res_pw_outcome_name(res_pw_outcome_of(p->ab, p->ba)));
	buf_putc(b, ',');
	jsonw_key(b, "detail");
	jsonw_str(b, p->detail ? p->detail : "");
	buf_puts(b, "},");
}

/* Who and what: the item, the configured model and the answer's role. */
static void put_identity(struct buf *b, const struct res_row *r)
{
	jsonw_key(b, "item_id");
	jsonw_str(b, r->item_id);
	buf_putc(b, ',');
	put_num(b, RF_ITEM_INDEX, (double)r->item_index);
	buf_putc(b, ',');
	jsonw_key(b, "task");
	jsonw_str(b, r->task);
	buf_putc(b, ',');
	jsonw_key(b, "slot");
	jsonw_str(b, r->slot);
	buf_putc(b, ',');
	jsonw_key(b, "model");
	jsonw_str(b, r->model);
	buf_putc(b, ',');
	if (r->sample >= 0) {
		put_num(b, RF_SAMPLE, (double)r->sample);
		buf_putc(b, ',');
	}
	jsonw_key(b, "served_model");
	jsonw_str(b, r->served_model);
	buf_putc(b, ',');
	jsonw_key(b, "role");
	jsonw_str(b, r->role);
}

/* How the request went: status, timing, tokens, cost and the cache. */
static void put_measures(struct buf *b, const struct res_row *r)
{
	jsonw_key(b, "status");
	jsonw_str(b, r->status);
	buf_putc(b, ',');
	put_num(b, RF_HTTP_STATUS, r->http_status > 0 ? r->http_status : -1);
	buf_putc(b, ',');
	put_num(b, RF_ATTEMPTS, r->attempts);
	buf_putc(b, ',');
	put_num(b, RF_LATENCY_MS, r->latency_ms);
	buf_putc(b, ',');
	put_num(b, RF_TTFT_MS, r->ttft_ms);
	buf_putc(b, ',');
	put_num(b, RF_PROMPT_TOKENS, (double)r->prompt_tokens);
	buf_putc(b, ',');
	put_num(b, RF_COMPLETION_TOKENS, (double)r->completion_tokens);
	buf_putc(b, ',');
	put_num(b, RF_COST_USD, r->cost_usd);
	buf_putc(b, ',');
	jsonw_key(b, "cost_source");
	jsonw_str(b, r->cost_source ? r->cost_source : "unknown");
	buf_putc(b, ',');
	jsonw_key(b, "cached");
	jsonw_bool(b, r->cached);
	if (r->cached) {
		buf_putc(b, ',');
		put_num(b, RF_ORIGINAL_LATENCY_MS, r->original_latency_ms);
		buf_putc(b, ',');
		put_num(b, RF_ORIGINAL_TTFT_MS, r->original_ttft_ms);
	}
}

/* What came back: the verdict of the checks (and of a judge), the error
 * and the output. */
static void put_verdict(struct buf *b, const struct res_row *r)
{
	put_num(b, RF_EST_TOKENS, (double)r->est_tokens);
	buf_putc(b, ',');
	jsonw_key(b, "finish_reason");
	jsonw_str(b, r->finish_reason);
	buf_putc(b, ',');
	jsonw_key(b, "pass");
	jsonw_bool(b, r->pass);
	buf_putc(b, ',');
	put_num(b, RF_SCORE, r->score);
	buf_putc(b, ',');
	jsonw_key(b, "checks");
	buf_puts(b, r->checks_json ? r->checks_json : "null");
	buf_putc(b, ',');
	if (r->judged) {
		put_num(b, RF_JUDGE_COST_USD, r->judge_cost_usd);
		buf_putc(b, ',');
		put_num(b, RF_JUDGE_LATENCY_MS, r->judge_latency_ms);
		buf_putc(b, ',');
	}
	if (r->pairwise)
		format_pairwise(b, r->pairwise);
	jsonw_key(b, "error");
	jsonw_str(b, r->error);
	buf_putc(b, ',');
	jsonw_key(b, "output");
	if (r->output)
		jsonw_strn(b, r->output, r->output_len ? r->output_len : strlen(r->output));
	else
		buf_puts(b, "null");
}

/* A cost out of the reader's range is written as null by put_num; its
 * source then says "unknown" too, not "priced" beside a null. */
static const struct res_row *bounded(const struct res_row *r, struct res_row *copy)
{
	if (isnan(r->cost_usd) || res_field_fits(&res_field_table[RF_COST_USD], r->cost_usd))
		return r;
	*copy = *r;
	copy->cost_source = "unknown";
	return copy;
}

void res_format(struct buf *b, const struct res_row *r)
{
	struct res_row copy;
	r = bounded(r, &copy);
	buf_putc(b, '{');
	put_identity(b, r);
	buf_putc(b, ',');
	put_measures(b, r);
	buf_putc(b, ',');
	put_verdict(b, r);
	buf_puts(b, "}\n");
}

int res_writer_open(struct res_writer *w, const char *path, struct se_err *err)
{
	w->fd = fio_open_append(path, err);
	if (w->fd < 0)
		return -1;
	w->path = xstrdup(path);
	w->batched = false;
	buf_init(&w->line);
	return 0;
}

int res_writer_append(struct res_writer *w, const struct res_row *row, struct se_err *err)
{
	if (!w->batched)
		buf_reset(&w->line);
	res_format(&w->line, row);
	if (w->batched && w->line.len < RES_WRITER_BATCH_BYTES)
		return 0;
	return res_writer_flush(w, err);
}

int res_writer_flush(struct res_writer *w, struct se_err *err)
{
	if (w->line.len == 0)
		return 0;
	int rc = fio_write_full(w->fd, w->line.data, w->line.len, w->path, err);
	buf_reset(&w->line); /* written, or lost with the run that failed */
	return rc;
}

void res_writer_close(struct res_writer *w)
{
	if (!w->path)
		return;
	close(w->fd);
	free(w->path);
	w->path = NULL;
	buf_free(&w->line);
}

/* ---- reading ---------------------------------------------------------- */

#define OFF(m) offsetof(struct res_rec, m)

/* In the writer's order (res_format), so a line of ours matches at the
 * cursor and costs one comparison per field. */
const struct res_field res_field_table[] = {
    [RF_ITEM_ID] = {"item_id", F_REQ, 0, 0, OFF(item_id)},
    [RF_ITEM_INDEX] = {"item_index", F_INT, 0, 1e15, OFF(item_index)},
    [RF_TASK] = {"task", F_STR, 0, 0, OFF(task)},
    [RF_SLOT] = {"slot", F_STR, 0, 0, OFF(slot)},
    [RF_MODEL] = {"model", F_REQ, 0, 0, OFF(model)},
    [RF_SAMPLE] = {"sample", F_INT, 0, 1e6, OFF(sample)},
    [RF_SERVED_MODEL] = {"served_model", F_STR, 0, 0, OFF(served_model)},
    [RF_ROLE] = {"role", F_ROLE, 0, 0, OFF(role)},
    [RF_STATUS] = {"status", F_STATUS, 0, 0, OFF(status)},
    [RF_HTTP_STATUS] = {"http_status", F_INT, 0, 999, OFF(http_status)},
    [RF_ATTEMPTS] = {"attempts", F_INT, 0, 1e6, OFF(attempts)},
    [RF_LATENCY_MS] = {"latency_ms", F_NUM, 0, RES_MAX_MS, OFF(latency_ms)},
    [RF_TTFT_MS] = {"ttft_ms", F_NUM, 0, RES_MAX_MS, OFF(ttft_ms)},
    [RF_PROMPT_TOKENS] = {"prompt_tokens", F_INT, 0, RES_MAX_TOKENS, OFF(prompt_tokens)},
    [RF_COMPLETION_TOKENS] = {"completion_tokens", F_INT, 0, RES_MAX_TOKENS,
			      OFF(completion_tokens)},
    [RF_COST_USD] = {"cost_usd", F_NUM, 0, RES_MAX_USD, OFF(cost_usd)},
    [RF_COST_SOURCE] = {"cost_source", F_COST, 0, 0, OFF(cost_source)},
    [RF_CACHED] = {"cached", F_BOOL, 0, 0, OFF(cached)},
    [RF_ORIGINAL_LATENCY_MS] = {"original_latency_ms", F_NUM, 0, RES_MAX_MS,
				OFF(original_latency_ms)},
    [RF_ORIGINAL_TTFT_MS] = {"original_ttft_ms", F_NUM, 0, RES_MAX_MS, OFF(original_ttft_ms)},
    [RF_EST_TOKENS] = {"est_tokens", F_INT, 0, RES_MAX_TOKENS, OFF(est_tokens)},
    [RF_FINISH_REASON] = {"finish_reason", F_STR, 0, 0, OFF(finish_reason)},
    [RF_PASS] = {"pass", F_BOOL, 0, 0, OFF(pass)},
    [RF_SCORE] = {"score", F_NUM, 0, 1, OFF(score)},
    [RF_CHECKS] = {"checks", F_OBJ, 0, 0, OFF(checks)},
    [RF_JUDGE_COST_USD] = {"judge_cost_usd", F_NUM, 0, RES_MAX_USD, OFF(judge_cost_usd)},
    [RF_JUDGE_LATENCY_MS] = {"judge_latency_ms", F_NUM, 0, RES_MAX_MS, OFF(judge_latency_ms)},
    [RF_PAIRWISE] = {"pairwise", F_PAIRWISE, 0, 0, 0},
    [RF_ERROR] = {"error", F_STR, 0, 0, OFF(error)},
    [RF_OUTPUT] = {"output", F_STR, 0, 0, OFF(output)},
};
#define RES_NFIELDS (sizeof(res_field_table) / sizeof(res_field_table[0]))
_Static_assert(RES_NFIELDS == RF_COUNT, "one entry per res_fid");
_Static_assert(RES_NFIELDS <= 32, "one bit per field in a uint32_t");
const size_t res_nfields = RES_NFIELDS;

void res_rec_init(struct res_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->cost_source = RES_COST_UNKNOWN;
	r->item_index = -1;
	r->latency_ms = r->ttft_ms = NAN;
	r->original_latency_ms = r->original_ttft_ms = NAN;
	r->prompt_tokens = r->completion_tokens = r->est_tokens = -1;
	r->cost_usd = NAN;
	r->score = NAN;
	r->judge_cost_usd = r->judge_latency_ms = NAN;
}

void res_field_store(const struct res_field *f, struct res_rec *r, double d)
{
	char *at = (char *)r + f->off;
	if (f->kind == F_NUM)
		*(double *)at = d;
	else if (f->off == OFF(http_status) || f->off == OFF(attempts))
		*(int *)at = (int)d;
	else
		*(long *)at = (long)d;
}

/* A short rendering of a bad value for a message. */
static void describe(const cJSON *v, char *out, size_t size)
{
	if (cJSON_IsString(v)) {
		size_t n = strlen(v->valuestring);
		snprintf(out, size, "\"%.40s%s\"", v->valuestring, n > 40 ? "..." : "");
	} else if (cJSON_IsNumber(v)) {
		snprintf(out, size, "%.15g", v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		snprintf(out, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		snprintf(out, size, "null");
	} else if (cJSON_IsArray(v)) {
		snprintf(out, size, "an array");
	} else {
		snprintf(out, size, "an object");
	}
}

static int bad_field(struct se_err *err, const char *where, const struct res_field *f,
		     const cJSON *v)
{
	char got[64], want[96];
	describe(v, got, sizeof(got));
	if (f->kind == F_INT || f->kind == F_NUM)
		snprintf(want, sizeof(want), "%s from %.15g to %.15g or null",
			 f->kind == F_INT ? "an integer" : "a number", f->lo, f->hi);
	else
		snprintf(want, sizeof(want), "%s",
			 f->kind == F_REQ    ? "a non-empty string"
			 : f->kind == F_BOOL ? "true or false"
			 : f->kind == F_OBJ  ? "an object or null"
					     : "a string or null");
	return se_fail(err, SE_INPUT, where, "%s: expected %s, got %s", f->key, want, got);
}

static int bad_name(struct se_err *err, const char *where, const char *what, const char *name,
		    const char *(*list)(char *, size_t))
{
	char known[200];
	return se_fail(err, SE_INPUT, where, "unknown %s \"%.60s\" (known: %s)", what, name,
		       list(known, sizeof(known)));
}

/* One of pairwise's closed names: its value, or -1 with err naming it. */
static int pw_name(const cJSON *o, const char *key, int (*parse)(const char *, size_t),
		   const char *(*list)(char *, size_t), const char *where, struct se_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	char known[120];
	if (!cJSON_IsString(v))
		return se_fail(err, SE_INPUT, where, "pairwise.%s: expected one of %s", key,
			       list(known, sizeof(known)));
	int e = parse(v->valuestring, strlen(v->valuestring));
	if (e < 0)
		return se_fail(err, SE_INPUT, where, "pairwise.%s: unknown \"%.60s\" (known: %s)",
			       key, v->valuestring, list(known, sizeof(known)));
	return e;
}

/* The pairwise object: strings check, judge_model, reference_model and
 * detail, the picks ab and ba, and an outcome that follows from them. */
static int take_pairwise(const cJSON *o, struct res_rec *r, const char *where, struct se_err *err)
{
	if (!cJSON_IsObject(o))
		return se_fail(err, SE_INPUT, where, "pairwise: expected an object or null");
	static const char *const strs[] = {"check", "judge_model", "reference_model", "detail"};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, strs[i])))
			return se_fail(err, SE_INPUT, where, "pairwise.%s: expected a string",
				       strs[i]);
	int ab = pw_name(o, "ab", res_pw_pick_parse, res_pw_pick_list, where, err);
	int ba = ab < 0 ? -1 : pw_name(o, "ba", res_pw_pick_parse, res_pw_pick_list, where, err);
	int out =
	    ba < 0 ? -1
		   : pw_name(o, "outcome", res_pw_outcome_parse, res_pw_outcome_list, where, err);
	if (out < 0)
		return -1;
	enum res_pw_outcome want = res_pw_outcome_of((enum res_pw_pick)ab, (enum res_pw_pick)ba);
	if ((enum res_pw_outcome)out != want)
		return se_fail(err, SE_INPUT, where,
			       "pairwise.outcome: \"%s\" does not follow from ab \"%s\" and ba "
			       "\"%s\" (expected \"%s\")",
			       res_pw_outcome_name((enum res_pw_outcome)out),
			       res_pw_pick_name((enum res_pw_pick)ab),
			       res_pw_pick_name((enum res_pw_pick)ba), res_pw_outcome_name(want));
	r->pairwise = (enum res_pw_outcome)out;
	r->pw_ab = (enum res_pw_pick)ab;
	r->pw_ba = (enum res_pw_pick)ba;
	r->pw_judge_model = cJSON_GetObjectItemCaseSensitive(o, "judge_model")->valuestring;
	return 0;
}

/* One field's value into r; -1 with err on a bad value. */
static int take(const struct res_field *f, const cJSON *v, struct res_rec *r, const char *where,
		struct se_err *err)
{
	char *at = (char *)r + f->off;
	bool null = cJSON_IsNull(v);
	switch (f->kind) {
	case F_REQ:
		if (!cJSON_IsString(v) || !v->valuestring[0])
			return bad_field(err, where, f, v);
		*(const char **)at = v->valuestring;
		if (f->off == OFF(item_id))
			r->item_id_len = strlen(v->valuestring);
		else
			r->model_len = strlen(v->valuestring);
		return 0;
	case F_STR:
		if (null)
			return 0;
		if (!cJSON_IsString(v))
			return bad_field(err, where, f, v);
		*(const char **)at = v->valuestring;
		return 0;
	case F_INT:
	case F_NUM: {
		if (null)
			return 0;
		double d = v->valuedouble;
		if (!cJSON_IsNumber(v) || !isfinite(d) || d < f->lo || d > f->hi ||
		    (f->kind == F_INT && d != floor(d)))
			return bad_field(err, where, f, v);
		res_field_store(f, r, d);
		return 0;
	}
	case F_BOOL:
		if (!cJSON_IsBool(v))
			return bad_field(err, where, f, v);
		*(bool *)at = cJSON_IsTrue(v);
		return 0;
	case F_OBJ:
		if (!null && !cJSON_IsObject(v))
			return bad_field(err, where, f, v);
		r->checks = null ? NULL : v;
		return 0;
	case F_PAIRWISE:
		return null ? 0 : take_pairwise(v, r, where, err);
	case F_ROLE:
	case F_STATUS:
	case F_COST: {
		if (f->kind == F_COST && null)
			return 0;
		if (!cJSON_IsString(v))
			return bad_field(err, where, f, v);
		const char *s = v->valuestring;
		size_t n = strlen(s);
		int e;
		if (f->kind == F_ROLE) {
			if ((e = res_role_parse(s, n)) < 0)
				return bad_name(err, where, "role", s, res_role_list);
			r->role = (enum res_role)e;
		} else if (f->kind == F_STATUS) {
			if ((e = res_status_parse(s, n)) < 0)
				return bad_name(err, where, "status", s, res_status_list);
			r->status = (enum res_status)e;
		} else {
			if ((e = res_cost_source_parse(s, n)) < 0)
				return bad_name(err, where, "cost_source", s, res_cost_source_list);
			r->cost_source = (enum res_cost_source)e;
		}
		return 0;
	}
	}
	return 0;
}

/* Fills r from a parsed line. Unknown keys are ignored (a newer writer may
 * add fields); a key given twice is an error, as in every JSON we read. */
static int rec_from_json(const cJSON *o, struct res_rec *r, const char *where, struct se_err *err)
{
	res_rec_init(r);
	if (!cJSON_IsObject(o))
		return se_fail(err, SE_INPUT, where, "expected a JSON object");
	uint32_t seen = 0;
	size_t cur = 0;
	for (const cJSON *v = o->child; v; v = v->next) {
		size_t i = cur;
		if (i >= RES_NFIELDS || strcmp(res_field_table[i].key, v->string)) {
			for (i = 0; i < RES_NFIELDS && strcmp(res_field_table[i].key, v->string);
			     i++)
				;
			if (i == RES_NFIELDS)
				continue;
		}
		if (seen & (1u << i))
			return se_fail(err, SE_INPUT, where, "%s: given twice",
				       res_field_table[i].key);
		seen |= 1u << i;
		cur = i + 1;
		if (take(&res_field_table[i], v, r, where, err))
			return -1;
	}
	for (size_t i = 0; i < RES_NFIELDS; i++) {
		if (seen & (1u << i))
			continue;
		if (res_field_table[i].kind == F_REQ || res_field_table[i].kind == F_ROLE ||
		    res_field_table[i].kind == F_STATUS)
			return se_fail(err, SE_INPUT, where, "%s: missing", res_field_table[i].key);
	}
	if (r->output)
		r->output_len = strlen(r->output);
	return 0;
}

/* A parsed line's record, refusing a string with a NUL first: cJSON cuts a
 * string at a NUL, raw or escaped, so "b1\u0000x" would read as "b1". */
static int line_from_json(const char *line, size_t len, const cJSON *doc, struct res_rec *rec,
			  const char *where, struct se_err *err)
{
	char jpath[200];
	if (jsonnul_find(line, len, jpath, sizeof(jpath))) {
		res_rec_init(rec);
		return se_fail(err, SE_INPUT, where, "%s: %s", jpath, JSONNUL_MSG);
	}
	return rec_from_json(doc, rec, where, err);
}

int res_parse_line(const char *line, size_t len, struct res_rec *rec, cJSON **doc,
		   const char *where, struct se_err *err)
{
	*doc = cJSON_ParseWithLength(line, len);
	if (!*doc) {
		res_rec_init(rec);
		return se_fail(err, SE_INPUT, where, "invalid JSON in results line");
	}
	if (line_from_json(line, len, *doc, rec, where, err))
		return -1;
	rec->raw = line;
	rec->raw_len = len;
	return 0;
}

static int scan(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
		struct res_scan_stats *stats, size_t max_line, bool all_samples,
		struct se_err *err);

int res_scan(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
	     struct res_scan_stats *stats, struct se_err *err)
{
	return scan(path, missing_ok, fn, ctx, stats, RES_MAX_LINE, false, err);
}

int res_scan_max(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
		 struct res_scan_stats *stats, size_t max_line, struct se_err *err)
{
	return scan(path, missing_ok, fn, ctx, stats, max_line, false, err);
}

int res_scan_samples(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
		     struct res_scan_stats *stats, struct se_err *err)
{
	return scan(path, missing_ok, fn, ctx, stats, RES_MAX_LINE, true, err);
}

static int scan(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
		struct res_scan_stats *stats, size_t max_line, bool all_samples, struct se_err *err)
{
	struct res_scan_stats local = {0, 0};
	/* a FIFO is refused, not waited on */
	FILE *fp = fio_fopen_regular(path, "results", err);
	if (!fp && missing_ok && err->sys_errno == ENOENT) {
		se_clear(err);
		if (stats)
			*stats = local;
		return 0;
	}
	if (!fp)
		return -1;
	struct lines lr;
	lines_init(&lr, fp, max_line);
	int rc = 0;
	char where[600];
	while ((rc = lines_next(&lr, path, local.lines + 1, "results", err)) > 0) {
		rc = 0;
		local.lines++;
		char *line = lr.line.data;
		size_t n = lr.line.len;
		bool complete = line[n - 1] == '\n';
		size_t len = n - (complete ? 1 : 0);
		if (len && line[len - 1] == '\r')
			len--;
		if (res_line_blank(line, len))
			continue;
		snprintf(where, sizeof(where), "%s:%zu", path, local.lines);
		cJSON *o = cJSON_ParseWithLength(line, len);
		if (!o && !complete) {
			/* A crash mid-append: the last line has no newline. */
			local.torn = 1;
			break;
		}
		struct res_rec rec;
		res_rec_init(&rec);
		if (!o)
			rc = se_fail(err, SE_INPUT, where, "invalid JSON in results line");
		else
			rc = line_from_json(line, len, o, &rec, where, err);
		if (!rc && (all_samples || rec.sample == 0)) {
			line[len] = '\0';
			rec.raw = line;
			rec.raw_len = len;
			rec.line = local.lines;
			rc = fn(ctx, &rec);
		}
		cJSON_Delete(o);
		if (rc)
			break;
	}
	lines_free(&lr);
	fclose(fp);
	if (stats)
		*stats = local;
	return rc;
}

int res_fail_duplicate(struct se_err *err, const char *item_id, const char *model,
		       enum res_role here_role, const char *here_path, size_t here_line,
		       enum res_role there_role, const char *there_path, size_t there_line)
{
	char where[600];
	snprintf(where, sizeof(where), "%s:%zu", here_path, here_line);
	return se_fail(err, SE_INPUT, where,
		       "item \"%s\" has two results for model \"%s\" as %s here and as %s at "
		       "%s:%zu",
		       item_id, model, res_role_name(here_role), res_role_name(there_role),
		       there_path, there_line);
}

struct find_ctx {
	const char *item_id, *model;
	size_t line;
	enum res_role role;
};

static int find_one(void *ctx, const struct res_rec *r)
{
	struct find_ctx *f = ctx;
	if (strcmp(r->item_id, f->item_id) || strcmp(r->model, f->model))
		return 0;
	f->line = r->line;
	f->role = r->role;
	return 1;
}

int res_find_pair(const char *path, const char *item_id, const char *model, size_t *line,
		  enum res_role *role, struct se_err *err)
{
	struct find_ctx f = {item_id, model, 0, RES_PRIMARY};
	if (res_scan(path, false, find_one, &f, NULL, err) < 0)
		return -1;
	*line = f.line;
	*role = f.role;
	return 0;
}

bool res_line_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

/* Whether the bytes [from, to) of fd are one whole results line. */
static bool tail_is_whole(int fd, off_t from, off_t to)
{
	size_t n = (size_t)(to - from);
	if (n > RES_MAX_LINE)
		return false;
	char *text = xmalloc(n + 1);
	bool whole = pread(fd, text, n, from) == (ssize_t)n;
	if (whole) {
		struct res_rec rec;
		res_rec_init(&rec);
		cJSON *doc = NULL;
		struct se_err ignored;
		size_t len = n && text[n - 1] == '\r' ? n - 1 : n;
		whole = !res_line_blank(text, len) &&
			res_parse_line(text, len, &rec, &doc, "", &ignored) == 0;
		cJSON_Delete(doc);
	}
	free(text);
	return whole;
}

int res_drop_torn_tail(const char *path, int *dropped, struct se_err *err)
{
	*dropped = 0;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return se_fail_errno(err, path, "cannot open results");
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return se_fail_errno(err, path, "cannot stat results");
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return se_fail(err, SE_INPUT, path, "results is not a regular file");
	}
	off_t size = st.st_size;
	if (size == 0) {
		close(fd);
		return 0;
	}
	/* Walk back from the end to the last newline; everything after it is torn. */
	char chunk[4096];
	off_t end = size, keep = 0;
	bool found = false;
	while (end > 0 && !found) {
		off_t start = end > (off_t)sizeof(chunk) ? end - (off_t)sizeof(chunk) : 0;
		ssize_t got = pread(fd, chunk, (size_t)(end - start), start);
		if (got != end - start) {
			close(fd);
			return se_fail_errno(err, path, "cannot read results");
		}
		for (off_t i = got - 1; i >= 0; i--) {
			if (chunk[i] == '\n') {
				keep = start + i + 1;
				found = true;
				break;
			}
		}
		end = start;
	}
	if (keep < size && tail_is_whole(fd, keep, size)) {
		/* a whole line that only lacks its newline is a result (the
		 * readers count it): completed, not cut and asked again */
		if (pwrite(fd, "\n", 1, size) != 1) {
			close(fd);
			return se_fail_errno(err, path, "cannot complete the last line");
		}
	} else if (keep < size) {
		if (ftruncate(fd, keep) != 0) {
			close(fd);
			return se_fail_errno(err, path, "cannot truncate torn line");
		}
		*dropped = 1;
	}
	close(fd);
	return 0;
}
