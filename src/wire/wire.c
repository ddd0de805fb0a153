/* wire.c: the wire room: OpenAI chat-completions bodies, as OpenRouter
 * speaks them; see wire.h.
 *
 * Builds request bodies by hand (jsonw, no tree: one per request on the hot
 * path) and parses replies with cJSON; the two on the network loop,
 * wire_apply_chunk and wire_parse_completion, first try a strict scan
 * without a tree (wire_fast.c) and come here when it does not decide, so
 * results and messages are cJSON's either way. Whatever a server sends, a parser
 * returns 0 or -1 with the JSON path of the first thing it could not use; it
 * never trusts a type it has not checked. It does not decide what a reply
 * means for a run (status classes, retries: engine/) nor parse SSE framing
 * (sse/).
 */
#include "wire/wire.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/decimal.h"
#include "core/jsonnul.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "wire/wire_fast.h"
#include "wire/wire_int.h"

/* Token counts above this are not counts: unknown rather than overflow. */
#define WIRE_MAX_COUNT 1e15
/* A reported cost above this (USD, one request) is not a cost. */
#define WIRE_MAX_COST 1e6

void wire_reply_init(struct wire_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->content);
}

void wire_reply_reset(struct wire_reply *r)
{
	struct buf content = r->content;
	memset(r, 0, sizeof(*r));
	r->content = content;
	buf_reset(&r->content);
}

void wire_reply_free(struct wire_reply *r)
{
	if (!r)
		return;
	buf_free(&r->content);
	wire_reply_reset(r);
}

/* ---- request ---- */

static bool extra_has(const struct cfg_params *params, const char *key)
{
	return params && params->extra && cJSON_IsObject(params->extra) &&
	       cJSON_GetObjectItemCaseSensitive(params->extra, key) != NULL;
}

void wire_build_request(struct buf *b, const char *model, const char *messages_json,
			size_t messages_len, const struct cfg_params *params)
{
	bool temp = params && params->has_temperature;
	bool max_tokens = params && params->max_tokens > 0;
	bool stream = params && params->stream;

	buf_putc(b, '{');
	jsonw_key(b, "model");
	jsonw_str(b, model ? model : "");
	buf_putc(b, ',');
	jsonw_key(b, "messages");
	if (messages_json && messages_len)
		buf_append(b, messages_json, messages_len);
	else
		buf_puts(b, "[]");
	if (temp) {
		buf_putc(b, ',');
		jsonw_key(b, "temperature");
		jsonw_double(b, params->temperature);
	}
	if (max_tokens) {
		buf_putc(b, ',');
		jsonw_key(b, "max_tokens");
		jsonw_long(b, params->max_tokens);
	}
	if (stream) {
		buf_putc(b, ',');
		jsonw_key(b, "stream");
		jsonw_bool(b, true);
		/* OpenRouter always sends usage; other OpenAI-compatible servers
		 * only do when asked. A user's own stream_options wins. */
		if (!extra_has(params, "stream_options")) {
			buf_putc(b, ',');
			jsonw_key(b, "stream_options");
			buf_puts(b, "{\"include_usage\":true}");
		}
	}
	if (params && params->extra && cJSON_IsObject(params->extra)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, params->extra)
		{
			const char *k = it->string;
			if (!k)
				continue;
			/* The typed fields above were written already: a duplicate
			 * key would leave the server to pick one. */
			if (!strcmp(k, "model") || !strcmp(k, "messages") ||
			    (temp && !strcmp(k, "temperature")) ||
			    (max_tokens && !strcmp(k, "max_tokens")) ||
			    (stream && !strcmp(k, "stream")))
				continue;
			char *text = cJSON_PrintUnformatted(it);
			buf_putc(b, ',');
			jsonw_str(b, k);
			buf_putc(b, ':');
			buf_puts(b, text ? text : "null");
			cJSON_free(text);
		}
	}
	buf_putc(b, '}');
}

/* ---- parsing helpers ---- */

static const char *jtype(const cJSON *v)
{
	return jsonv_type(v);
}

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

/* A parse failure at byte `at`: where is "<file>:<line>:<col>" for a file,
 * "body" for a reply. */
static int syntax_fail(struct se_err *err, const char *file, const char *body, size_t at,
		       const char *fmt, ...) SE_PRINTF(5, 6);
static int syntax_fail(struct se_err *err, const char *file, const char *body, size_t at,
		       const char *fmt, ...)
{
	char where[512];
	char msg[1024];
	va_list ap;
	if (file && *file) {
		size_t line = 1, col = 1;
		for (size_t i = 0; i < at; i++) {
			if (body[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		snprintf(where, sizeof(where), "%s:%zu:%zu", file, line, col);
	} else {
		snprintf(where, sizeof(where), "body");
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return se_fail(err, SE_INPUT, where, "%s", msg);
}

/* Whether the text before a parse failure at `at` opens more arrays and
 * objects than cJSON accepts: then that, not the syntax, is the cause. */
static bool too_deep(const char *s, size_t at)
{
	long depth = 0;
	bool in_str = false;
	for (size_t i = 0; i <= at && s[i]; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > CJSON_NESTING_LIMIT)
				return true;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return false;
}

/* Parses exactly one JSON value (whitespace around it allowed) that must be
 * an object. The caller deletes *out. */
static int parse_object(const char *body, size_t len, const char *file, cJSON **out,
			struct se_err *err)
{
	*out = NULL;
	if (!body || only_space(body, len))
		return syntax_fail(err, file, "", 0, "empty body, expected a JSON object");
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!root) {
		/* end points at the failure (cJSON also keeps it in a global,
		 * which the next parse overwrites: use it right away). */
		size_t at = (end && end >= body && end <= body + len) ? (size_t)(end - body) : 0;
		if (too_deep(body, at))
			return syntax_fail(err, file, body, at,
					   "JSON nested deeper than %d levels (the parser's limit) "
					   "near byte %zu",
					   CJSON_NESTING_LIMIT, at);
		if (at + 1 >= len)
			return syntax_fail(err, file, body, at,
					   "invalid JSON near byte %zu (end of input: truncated?)",
					   at);
		return syntax_fail(err, file, body, at, "invalid JSON near byte %zu", at);
	}
	size_t used = (end && end >= body && end <= body + len) ? (size_t)(end - body) : len;
	if (!only_space(body + used, len - used)) {
		cJSON_Delete(root);
		return syntax_fail(err, file, body, used,
				   "unexpected data after the JSON value at byte %zu", used);
	}
	char jpath[256];
	if (jsonnul_find(body, used, jpath, sizeof(jpath))) {
		/* content "#### 4\u0000hidden" would read as "#### 4" and be scored */
		cJSON_Delete(root);
		return jsonv_fail_in(err, file, jpath, "%s", JSONNUL_MSG);
	}
	if (!cJSON_IsObject(root)) {
		int rc =
		    jsonv_fail_in(err, file, "(root)", "expected an object, got %s", jtype(root));
		cJSON_Delete(root);
		return rc;
	}
	*out = root;
	return 0;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static bool absent(const cJSON *v)
{
	return v == NULL || cJSON_IsNull(v);
}

void wire_copy_strn(char *dst, size_t size, const char *src, size_t n)
{
	if (!size)
		return;
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Copies the C string src into dst[size] (see wire_copy_strn). */
static void copy_str(char *dst, size_t size, const char *src)
{
	wire_copy_strn(dst, size, src, src ? strlen(src) : 0);
}

bool wire_parse_decimal(const char *s, double *out)
{
	return decimal_parse(s, out);
}

/* A number, or a string holding one; false for anything else. */
static bool num_or_numstr(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble))
			return false;
		*out = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v))
		return wire_parse_decimal(v->valuestring, out);
	return false;
}

/* A token count at obj.key: absent or null leaves *out at 0; a value that
 * is not a count (a string, negative, fractional, over WIRE_MAX_COUNT) is
 * unknown, -1: the answer stays good, the number is not used. */
static void get_count(const cJSON *obj, const char *key, long *out)
{
	const cJSON *v = get(obj, key);
	*out = absent(v) ? 0 : wire_count(cJSON_IsNumber(v) ? v->valuedouble : -1);
}

long wire_count(double d)
{
	return isfinite(d) && d >= 0 && d <= WIRE_MAX_COUNT && d == floor(d) ? (long)d : -1;
}

void wire_set_cost(struct wire_usage *u, bool ok, double v)
{
	u->has_cost = ok && v >= 0 && v <= WIRE_MAX_COST;
	u->cost = u->has_cost ? v : 0;
	u->bad_cost = !u->has_cost;
}

/* Usage is accounting, not the answer: a usage that is not an object, or
 * numbers that are not counts or costs, never make a good answer bad (it
 * would be retried and paid again). Unusable numbers are unknown. */
static int parse_usage(const cJSON *u, struct wire_usage *us)
{
	if (!cJSON_IsObject(u))
		return 0;
	struct wire_usage n = {.present = true};
	get_count(u, "prompt_tokens", &n.prompt_tokens);
	get_count(u, "completion_tokens", &n.completion_tokens);
	const cJSON *det = get(u, "prompt_tokens_details");
	if (cJSON_IsObject(det))
		get_count(det, "cached_tokens", &n.cached_tokens);
	else if (!absent(det))
		n.cached_tokens = -1;
	const cJSON *cost = get(u, "cost");
	if (!absent(cost)) {
		double v = 0;
		bool ok = num_or_numstr(cost, &v); /* before v is read */
		wire_set_cost(&n, ok, v);
	}
	*us = n;
	return 0;
}

/* A JSON value as compact text into dst (for a code or an error that is
 * not the string the format promises: shown, not dropped). */
static void print_value(const cJSON *v, char *dst, size_t size)
{
	char *t = cJSON_PrintUnformatted(v);
	copy_str(dst, size, t ? t : "");
	cJSON_free(t);
}

/* Records an error value into r: an object ({"code","message",...}), or
 * anything else a server put there ({"error":"just a string"}: that string
 * is the message; a number or an array: its JSON text). */
static void take_error(const cJSON *e, struct wire_reply *r)
{
	r->error = true;
	r->error_code[0] = '\0';
	if (!cJSON_IsObject(e)) {
		if (cJSON_IsString(e))
			copy_str(r->error_message, sizeof(r->error_message), e->valuestring);
		else
			print_value(e, r->error_message, sizeof(r->error_message));
		return;
	}
	const cJSON *code = get(e, "code");
	const cJSON *msg = get(e, "message");
	if (cJSON_IsString(code)) {
		copy_str(r->error_code, sizeof(r->error_code), code->valuestring);
	} else if (cJSON_IsNumber(code) && isfinite(code->valuedouble)) {
		double d = code->valuedouble;
		if (d == floor(d) && fabs(d) < 1e15)
			snprintf(r->error_code, sizeof(r->error_code), "%lld", (long long)d);
		else
			snprintf(r->error_code, sizeof(r->error_code), "%g", d);
	} else if (!absent(code)) {
		print_value(code, r->error_code, sizeof(r->error_code));
	}
	if (cJSON_IsString(msg))
		copy_str(r->error_message, sizeof(r->error_message), msg->valuestring);
	else if (!absent(msg))
		print_value(msg, r->error_message, sizeof(r->error_message));
	else
		r->error_message[0] = '\0';
}

static int take_string(const cJSON *obj, const char *key, const char *path, char *dst, size_t size,
		       struct se_err *err)
{
	const cJSON *v = get(obj, key);
	if (absent(v))
		return 0;
	if (!cJSON_IsString(v))
		return jsonv_fail_in(err, NULL, path, "expected a string or null, got %s",
				     jtype(v));
	copy_str(dst, size, v->valuestring);
	return 0;
}

/* content at obj.key: a string is appended, absent or null is "". */
static int take_content(const cJSON *obj, const char *path, struct wire_reply *r,
			struct se_err *err)
{
	const cJSON *v = get(obj, "content");
	if (absent(v))
		return 0;
	if (!cJSON_IsString(v))
		return jsonv_fail_in(err, NULL, path, "expected a string or null, got %s",
				     jtype(v));
	buf_puts(&r->content, v->valuestring);
	return 0;
}

/* The generation id: accounting, like usage, so an "id" that is not a
 * string, or too long to keep, never makes a reply bad; the first one seen
 * stays (every chunk of a stream repeats it). */
static void take_id(const cJSON *root, struct wire_reply *r)
{
	const cJSON *v = get(root, "id");
	if (r->id[0] || !cJSON_IsString(v) || strlen(v->valuestring) >= sizeof(r->id))
		return;
	memcpy(r->id, v->valuestring, strlen(v->valuestring) + 1);
}

/* ---- non-streaming ---- */

/* What every reply object (a completion or a chunk) may carry at its top:
 * the generation id, an error, and the model that answered. */
static int top_fields(const cJSON *root, struct wire_reply *r, struct se_err *err)
{
	take_id(root, r);
	const cJSON *top_err = get(root, "error");
	if (!absent(top_err))
		take_error(top_err, r);
	return take_string(root, "model", "model", r->model, sizeof(r->model), err);
}

static int completion_fields(const cJSON *root, struct wire_reply *r, struct se_err *err)
{
	if (top_fields(root, r, err))
		return -1;

	const cJSON *choices = get(root, "choices");
	if (absent(choices)) {
		if (!r->error)
			return jsonv_fail_in(err, NULL, "choices", "missing");
	} else if (!cJSON_IsArray(choices)) {
		return jsonv_fail_in(err, NULL, "choices", "expected an array, got %s",
				     jtype(choices));
	} else if (cJSON_GetArraySize(choices) == 0) {
		if (!r->error)
			return jsonv_fail_in(err, NULL, "choices", "expected at least one choice");
	} else {
		const cJSON *c = cJSON_GetArrayItem(choices, 0);
		if (!cJSON_IsObject(c))
			return jsonv_fail_in(err, NULL, "choices[0]", "expected an object, got %s",
					     jtype(c));
		if (take_string(c, "finish_reason", "choices[0].finish_reason", r->finish_reason,
				sizeof(r->finish_reason), err))
			return -1;
		const cJSON *ce = get(c, "error");
		if (!absent(ce))
			take_error(ce, r);
		const cJSON *m = get(c, "message");
		if (absent(m)) {
			if (!r->error)
				return jsonv_fail_in(err, NULL, "choices[0].message", "missing");
		} else if (!cJSON_IsObject(m)) {
			return jsonv_fail_in(err, NULL, "choices[0].message",
					     "expected an object, got %s", jtype(m));
		} else if (take_content(m, "choices[0].message.content", r, err)) {
			return -1;
		}
	}
	if (r->error && !r->finish_reason[0])
		copy_str(r->finish_reason, sizeof(r->finish_reason), "error");
	return parse_usage(get(root, "usage"), &r->usage);
}

int wire_parse_completion(const char *body, size_t len, struct wire_reply *r, struct se_err *err)
{
	if (wire_fast_completion(body, len, r))
		return 0;
	return wire_parse_completion_json(body, len, r, err);
}

int wire_parse_completion_json(const char *body, size_t len, struct wire_reply *r,
			       struct se_err *err)
{
	cJSON *root;
	if (parse_object(body, len, NULL, &root, err))
		return -1;
	int rc = completion_fields(root, r, err);
	cJSON_Delete(root);
	return rc;
}

/* ---- streaming ---- */

static int chunk_fields(const cJSON *root, struct wire_reply *r, struct se_err *err)
{
	if (top_fields(root, r, err))
		return -1;
	const cJSON *choices = get(root, "choices");
	if (!absent(choices)) {
		if (!cJSON_IsArray(choices))
			return jsonv_fail_in(err, NULL, "choices", "expected an array, got %s",
					     jtype(choices));
		const cJSON *c = cJSON_GetArrayItem(choices, 0);
		if (c) {
			if (!cJSON_IsObject(c))
				return jsonv_fail_in(err, NULL, "choices[0]",
						     "expected an object, got %s", jtype(c));
			if (take_string(c, "finish_reason", "choices[0].finish_reason",
					r->finish_reason, sizeof(r->finish_reason), err))
				return -1;
			const cJSON *ce = get(c, "error");
			if (!absent(ce))
				take_error(ce, r);
			const cJSON *d = get(c, "delta");
			if (!absent(d)) {
				if (!cJSON_IsObject(d))
					return jsonv_fail_in(err, NULL, "choices[0].delta",
							     "expected an object, got %s",
							     jtype(d));
				if (take_content(d, "choices[0].delta.content", r, err))
					return -1;
			}
		}
	}
	if (!absent(get(root, "error")) && !r->finish_reason[0])
		copy_str(r->finish_reason, sizeof(r->finish_reason), "error");
	return parse_usage(get(root, "usage"), &r->usage);
}

/* wire_apply_chunk, with the fast path (wire_fast.c) or without. */
static int apply_chunk(const char *data, size_t len, struct wire_reply *r, struct se_err *err,
		       bool fast)
{
	size_t a = 0, b = len;
	while (a < b && isspace((unsigned char)data[a]))
		a++;
	while (b > a && isspace((unsigned char)data[b - 1]))
		b--;
	if (b - a == 6 && memcmp(data + a, "[DONE]", 6) == 0) {
		r->done = true;
		return 0;
	}
	if (r->done)
		return 0; /* the stream ended at [DONE]: what follows is not read */
	if (fast && wire_fast_chunk(data, len, r))
		return 0;
	cJSON *root;
	if (parse_object(data, len, NULL, &root, err))
		return -1;
	r->n_chunks++;
	int rc = chunk_fields(root, r, err);
	cJSON_Delete(root);
	return rc;
}

int wire_apply_chunk(const char *data, size_t len, struct wire_reply *r, struct se_err *err)
{
	return apply_chunk(data, len, r, err, true);
}

int wire_apply_chunk_json(const char *data, size_t len, struct wire_reply *r, struct se_err *err)
{
	return apply_chunk(data, len, r, err, false);
}

/* ---- error bodies ---- */

static bool retry_after(const cJSON *obj, const char *key, double *out)
{
	double v;
	if (!num_or_numstr(get(obj, key), &v) || v < 0)
		return false;
	*out = v;
	return true;
}

int wire_parse_error(const char *body, size_t len, int *code, char *message, size_t message_size,
		     double *retry_after_s)
{
	if (code)
		*code = 0;
	if (message && message_size)
		message[0] = '\0';
	if (retry_after_s)
		*retry_after_s = -1;
	cJSON *root;
	if (parse_object(body, len, NULL, &root, NULL))
		return -1;
	const cJSON *e = get(root, "error");
	if (!cJSON_IsObject(e)) {
		cJSON_Delete(root);
		return -1;
	}
	double c;
	if (code && num_or_numstr(get(e, "code"), &c) && c == floor(c) && c >= 0 && c <= 99999)
		*code = (int)c;
	const cJSON *m = get(e, "message");
	if (message && message_size && cJSON_IsString(m))
		copy_str(message, message_size, m->valuestring);
	if (retry_after_s) {
		double ra;
		const cJSON *meta = get(e, "metadata");
		if (retry_after(get(e, "availability"), "retry_after", &ra) ||
		    retry_after(meta, "retry_after", &ra) ||
		    retry_after(meta, "retry_after_seconds", &ra) ||
		    retry_after(e, "retry_after", &ra))
			*retry_after_s = ra;
	}
	cJSON_Delete(root);
	return 0;
}

/* ---- /models ---- */

/* A price at pricing.key: absent, null or negative (openrouter/auto's "-1")
 * is -1; otherwise a decimal string or a number. */
static int get_price(const cJSON *pricing, const char *key, size_t i, const char *file, double *out,
		     struct se_err *err)
{
	const cJSON *v = get(pricing, key);
	char path[96];
	*out = -1;
	if (absent(v))
		return 0;
	double d;
	if (!num_or_numstr(v, &d)) {
		snprintf(path, sizeof(path), "data[%zu].pricing.%s", i, key);
		if (cJSON_IsString(v))
			return jsonv_fail_in(err, file, path,
					     "expected a decimal number, got \"%.64s\"",
					     v->valuestring);
		return jsonv_fail_in(err, file, path, "expected a decimal string, got %s",
				     jtype(v));
	}
	if (d >= 0)
		*out = d;
	return 0;
}

static int model_entry(const cJSON *m, size_t i, const char *file, wire_model_fn fn, void *ctx,
		       struct se_err *err)
{
	char path[96];
	if (!cJSON_IsObject(m)) {
		snprintf(path, sizeof(path), "data[%zu]", i);
		return jsonv_fail_in(err, file, path, "expected an object, got %s", jtype(m));
	}
	const cJSON *id = get(m, "id");
	if (!cJSON_IsString(id) || !id->valuestring[0]) {
		snprintf(path, sizeof(path), "data[%zu].id", i);
		return jsonv_fail_in(err, file, path, "expected a non-empty string, got %s",
				     cJSON_IsString(id) ? "\"\""
				     : id		? jtype(id)
							: "nothing");
	}
	struct wire_model_price mp = {.id = id->valuestring, .context_length = -1};
	const cJSON *pricing = get(m, "pricing");
	if (!absent(pricing) && !cJSON_IsObject(pricing)) {
		snprintf(path, sizeof(path), "data[%zu].pricing", i);
		return jsonv_fail_in(err, file, path, "expected an object, got %s", jtype(pricing));
	}
	if (get_price(pricing, "prompt", i, file, &mp.prompt, err) ||
	    get_price(pricing, "completion", i, file, &mp.completion, err) ||
	    get_price(pricing, "request", i, file, &mp.request, err) ||
	    get_price(pricing, "input_cache_read", i, file, &mp.cache_read, err))
		return -1;
	const cJSON *cl = get(m, "context_length");
	if (!absent(cl)) {
		if (!cJSON_IsNumber(cl) || !isfinite(cl->valuedouble) || cl->valuedouble < 0 ||
		    cl->valuedouble > WIRE_MAX_COUNT) {
			snprintf(path, sizeof(path), "data[%zu].context_length", i);
			if (cJSON_IsNumber(cl))
				return jsonv_fail_in(
				    err, file, path,
				    "expected a token count from 0 to %.0f, got %g", WIRE_MAX_COUNT,
				    cl->valuedouble);
			return jsonv_fail_in(err, file, path, "expected a token count, got %s",
					     jtype(cl));
		}
		mp.context_length = (long)cl->valuedouble;
	}
	return fn(ctx, &mp) ? -1 : 0;
}

int wire_parse_models(const char *body, size_t len, const char *where, wire_model_fn fn, void *ctx,
		      struct se_err *err)
{
	cJSON *root;
	if (parse_object(body, len, where, &root, err))
		return -1;
	const cJSON *data = get(root, "data");
	int rc = 0;
	if (!cJSON_IsArray(data)) {
		rc = jsonv_fail_in(err, where, "data", "expected an array, got %s",
				   data ? jtype(data) : "nothing");
	} else {
		size_t i = 0;
		const cJSON *m;
		cJSON_ArrayForEach(m, data)
		{
			if (model_entry(m, i++, where, fn, ctx, err)) {
				rc = -1;
				break;
			}
		}
	}
	cJSON_Delete(root);
	return rc;
}

/* ---- the generation lookup ---- */

int wire_parse_generation(const char *body, size_t len, double *cost, struct se_err *err)
{
	cJSON *root;
	if (parse_object(body, len, NULL, &root, err))
		return -1;
	const cJSON *data = get(root, "data");
	const cJSON *tc = get(data, "total_cost");
	double v = 0;
	int rc = 0;
	if (!cJSON_IsObject(data))
		rc = jsonv_fail_in(err, NULL, "data", "expected an object, got %s",
				   data ? jtype(data) : "nothing");
	else if (!num_or_numstr(tc, &v) || v < 0 || v > WIRE_MAX_COST)
		rc = jsonv_fail_in(err, NULL, "data.total_cost",
				   "expected a cost in USD from 0 to %g, got %s", WIRE_MAX_COST,
				   tc ? jtype(tc) : "nothing");
	else
		*cost = v;
	cJSON_Delete(root);
	return rc;
}
