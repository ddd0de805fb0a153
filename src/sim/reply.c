/* reply.c: shadowsim's decisions for one request and the bytes it answers.
 *
 * sim_plan_request turns a chat-completions body into a plan: which model
 * serves, which item it is, whether the answer is correct, which fault fires,
 * how long the first token and the rest take, tokens and cost. Every choice
 * is a hash of (seed, model, item key, attempt, purpose), never the clock or
 * a shared counter, so concurrent requests cannot influence each other.
 * The rest writes OpenRouter's shapes (see the fixtures in the shared
 * openrouter folder): chat.completion, chat.completion.chunk, the usage
 * chunk, the mid-stream error chunk, error bodies, the /models list. Sending
 * and timing belong to server.c.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jsonnul.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "core/sha256.h"
#include "core/xalloc.h"
#include "sim/sim.h"

#define SIM_PROVIDER "Shadowsim"

void sim_plan_init(struct sim_plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	buf_init(&pl->content);
	buf_init(&pl->echo);
	pl->attempt = 1;
	pl->finish_reason = "stop";
}

void sim_plan_free(struct sim_plan *pl)
{
	buf_free(&pl->content);
	buf_free(&pl->echo);
	free(pl->piece_end);
	pl->piece_end = NULL;
	pl->n_pieces = 0;
}

void sim_error_body(struct buf *b, int code, const char *message, const char *error_type)
{
	buf_puts(b, "{\"error\":{\"code\":");
	jsonw_long(b, code);
	buf_puts(b, ",\"message\":");
	jsonw_str(b, message);
	if (error_type) {
		buf_puts(b, ",\"metadata\":{\"error_type\":");
		jsonw_str(b, error_type);
		buf_putc(b, '}');
	}
	buf_puts(b, "}}");
}

int sim_fault_status(enum sim_fault f)
{
	switch (f) {
	case SIM_FAULT_RATE_LIMIT:
		return 429;
	case SIM_FAULT_HTTP_500:
		return 500;
	case SIM_FAULT_HTTP_502:
		return 502;
	case SIM_FAULT_HTTP_503:
		return 503;
	default:
		return 0;
	}
}

void sim_fault_body(struct buf *b, const struct sim_plan *pl)
{
	switch (pl->fault) {
	case SIM_FAULT_RATE_LIMIT:
		if (!pl->model->retry_after_body) {
			sim_error_body(b, 429, "Rate limit exceeded", "rate_limit_exceeded");
			break;
		}
		buf_puts(b,
			 "{\"error\":{\"code\":429,\"message\":\"Rate limit exceeded\","
			 "\"metadata\":{\"error_type\":\"rate_limit_exceeded\",\"retry_after\":");
		jsonw_double(b, pl->model->retry_after_s);
		buf_puts(b, "}}}");
		break;
	case SIM_FAULT_HTTP_500:
		sim_error_body(b, 500, "Internal Server Error", "server");
		break;
	case SIM_FAULT_HTTP_502:
	case SIM_FAULT_ERROR_200:
		buf_puts(b, "{\"error\":{\"code\":502,\"message\":\"Provider returned error\","
			    "\"metadata\":{\"raw\":\"{\\\"type\\\":\\\"error\\\",\\\"error\\\":"
			    "{\\\"type\\\":\\\"api_error\\\",\\\"message\\\":\\\"Internal server "
			    "error\\\"}}\",\"provider_name\":\"" SIM_PROVIDER "\","
			    "\"error_type\":\"provider_unavailable\"}}}");
		break;
	case SIM_FAULT_HTTP_503:
		sim_error_body(b, 503, "Service temporarily unavailable", "provider_overloaded");
		break;
	default:
		sim_error_body(b, 500, "Internal Server Error", "server");
		break;
	}
}

bool sim_fault_ends_in_error(enum sim_fault f)
{
	return f == SIM_FAULT_MIDSTREAM || f == SIM_FAULT_ECHO_HEADERS_ERROR;
}

void sim_retry_after(const struct sim_model *m, char *out, size_t size)
{
	if (!m->retry_after_date) {
		snprintf(out, size, "%.0f", m->retry_after_s);
		return;
	}
	time_t at = time(NULL) + (time_t)m->retry_after_s;
	struct tm tm;
	if (!gmtime_r(&at, &tm) || !strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		snprintf(out, size, "%.0f", m->retry_after_s);
}

/* ---- planning ---- */

/* A delay as the server may wait it: NaN and negatives are 0, anything
 * above SIM_MAX_DELAY_MS (inf too) is SIM_MAX_DELAY_MS. So the due times
 * built from it (server.c: ttft + gen + stall) stay finite and convert to a
 * timespec without overflow, whatever a model struct holds. */
static double delay_ms(double ms)
{
	if (!(ms > 0))
		return 0;
	return ms < SIM_MAX_DELAY_MS ? ms : SIM_MAX_DELAY_MS;
}

/* A multiplicative latency factor: 1 without jitter, mean about 1 otherwise. */
static double jitter_factor(const struct sim_model *m, uint64_t seed, const char *key, int attempt,
			    const char *purpose)
{
	if (m->jitter == SIM_JITTER_NONE || m->jitter_frac <= 0)
		return 1.0;
	char tag[32];
	snprintf(tag, sizeof(tag), "%s.a", purpose);
	double u1 = sim_unit(sim_hash(seed, m->id, key, attempt, tag));
	if (m->jitter == SIM_JITTER_UNIFORM) {
		double f = 1.0 + m->jitter_frac * (2.0 * u1 - 1.0);
		return f > 0 ? f : 0;
	}
	snprintf(tag, sizeof(tag), "%s.b", purpose);
	double u2 = sim_unit(sim_hash(seed, m->id, key, attempt, tag));
	if (u1 < 1e-12)
		u1 = 1e-12;
	double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
	double s = m->jitter_frac;
	return exp(s * z - s * s / 2.0);
}

static enum sim_fault pick_fault(const struct sim_model *m, uint64_t seed, const char *key,
				 int attempt)
{
	if (m->first_attempts > 0 && attempt > m->first_attempts)
		return SIM_FAULT_NONE;
	double u = sim_unit(sim_hash(seed, m->id, key, attempt, "fault"));
	double acc = 0;
	for (int f = 1; f < SIM_FAULT_COUNT; f++) {
		acc += m->fault_rate[f];
		if (m->fault_rate[f] > 0 && u < acc)
			return (enum sim_fault)f;
	}
	return SIM_FAULT_NONE;
}

/* Code points of every message's content (non-string content as JSON). */
static size_t messages_chars(const cJSON *messages)
{
	size_t chars = 0;
	for (const cJSON *m = messages->child; m; m = m->next) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
		if (cJSON_IsString(c)) {
			chars += utf8_count(c->valuestring, strlen(c->valuestring));
		} else if (c && !cJSON_IsNull(c)) {
			char *t = cJSON_PrintUnformatted(c);
			if (t)
				chars += utf8_count(t, strlen(t));
			cJSON_free(t);
		}
	}
	return chars;
}

static int bad_request(struct buf *err_body, const char *msg)
{
	sim_error_body(err_body, 400, msg, "invalid_request");
	return 400;
}

/* Cuts s to at most n bytes on a UTF-8 boundary. */
static void cut_utf8(struct buf *s, size_t n)
{
	if (s->len <= n)
		return;
	while (n > 0 && ((unsigned char)s->data[n] & 0xC0) == 0x80)
		n--;
	s->len = n;
	s->data[n] = '\0';
}

static void split_pieces(struct sim_plan *pl)
{
	const char *s = pl->content.data;
	size_t len = pl->content.len, cap = 0;
	for (size_t i = 0; i < len;) {
		size_t j = i;
		if (s[j] == '\n') {
			j++;
		} else {
			while (j < len && s[j] == ' ')
				j++;
			while (j < len && s[j] != ' ' && s[j] != '\n')
				j++;
		}
		pl->piece_end = xgrow(pl->piece_end, &cap, pl->n_pieces + 1, sizeof(size_t));
		pl->piece_end[pl->n_pieces++] = j;
		i = j;
	}
}

/* Everything about serving `m`, once it is chosen. */
static void fill_plan(const struct sim_request_ctx *ctx, struct sim_plan *pl,
		      const struct sim_model *m, const cJSON *messages)
{
	pl->model = m;
	pl->model_index = (int)(m - ctx->profiles->models);
	const char *task = pl->item ? pl->item->task : NULL;
	/* Correctness ignores the attempt: a retried request gets the same
	 * answer, as a temperature-0 model would, so retries never change
	 * quality figures. Faults and latency do vary per attempt. Repeated
	 * samples (X-Shadoweval-Sample) draw anew only at temperature > 0;
	 * sample 0 is the draw of a request without the header. */
	int draw = pl->temperature > 0 ? pl->sample : 0;
	double u = sim_unit(sim_hash(ctx->seed, m->id, pl->key, draw, "correct"));
	pl->correct = u < sim_model_accuracy(m, task);

	buf_reset(&pl->content);
	/* A judge's rubric request gets a Score or Verdict line. */
	bool judged =
	    pl->fault != SIM_FAULT_EMPTY && m->judge && sim_judge_reply(ctx, m, messages, draw, pl);
	if (pl->fault == SIM_FAULT_EMPTY || judged) {
		/* content stays "", or is the judge's line */
	} else if (pl->item) {
		const char *text = pl->correct ? pl->item->correct[pl->model_index]
					       : pl->item->wrong[pl->model_index];
		buf_puts(&pl->content, text ? text : "unknown");
	} else {
		buf_puts(&pl->content, "This is a simulated answer from shadowsim.\n");
		sim_padding(&pl->content, m->output_tokens);
	}
	if (pl->max_tokens > 0 &&
	    (long)utf8_count(pl->content.data, pl->content.len) / 4 > pl->max_tokens) {
		cut_utf8(&pl->content, (size_t)pl->max_tokens * 4);
		pl->finish_reason = "length";
	}
	long ct = (long)utf8_count(pl->content.data, pl->content.len) / 4;
	pl->completion_tokens = ct > 0 ? ct : 1;
	pl->cost_prompt = (double)pl->prompt_tokens * m->price_prompt;
	pl->cost_completion = (double)pl->completion_tokens * m->price_completion;
	pl->cost = pl->cost_prompt + pl->cost_completion + m->price_request;

	pl->ttft_ms =
	    delay_ms(m->ttft_ms * jitter_factor(m, ctx->seed, pl->key, pl->attempt, "ttft"));
	pl->gen_ms = 0;
	if (m->tokens_per_s > 0)
		pl->gen_ms = delay_ms((double)pl->completion_tokens * 1000.0 / m->tokens_per_s *
				      jitter_factor(m, ctx->seed, pl->key, pl->attempt, "tps"));

	if (pl->fault == SIM_FAULT_JSON_WHEN_STREAM)
		pl->stream = false; /* the reply is a whole chat.completion */
	pl->created = (long)time(NULL);
	static const char alnum[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t h = sim_hash(ctx->seed, m->id, pl->key, pl->attempt, "id");
	char rnd[21];
	for (int i = 0; i < 20; i++) {
		if (i == 10)
			h = sim_hash(ctx->seed, m->id, pl->key, pl->attempt, "id2");
		rnd[i] = alnum[h % 62];
		h /= 62;
	}
	rnd[20] = '\0';
	snprintf(pl->gen_id, sizeof(pl->gen_id), "gen-%ld-%s", pl->created, rnd);
	if (pl->stream)
		split_pieces(pl);
}

/* ---- validation: the chat-completions request shape ---- */

/* The request fields OpenRouter documents (max_tokens is checked with the
 * model, whose ID its message names). Unknown keys are let through, as
 * OpenRouter ignores parameters a model does not support; a known key of the
 * wrong type or out of range is a 400, as real gateways answer. Optional
 * fields may be null. */
struct req_field {
	const char *key;
	unsigned kinds; /* JSONV_* */
	const char *what;
	double lo, hi; /* numbers */
	bool integer;
};

#define NUM(k, w, l, h)                                                                            \
	{                                                                                          \
		k, JSONV_NUMBER, w, l, h, false                                                    \
	}
#define INT(k, w, l, h)                                                                            \
	{                                                                                          \
		k, JSONV_NUMBER, w, l, h, true                                                     \
	}
static const struct req_field req_fields[] = {
    {"model", JSONV_STRING, "a model ID string", 0, 0, false},
    {"models", JSONV_ARRAY, "an array of model IDs", 0, 0, false},
    {"messages", JSONV_ARRAY, "a non-empty array of messages", 0, 0, false},
    {"stream", JSONV_BOOL, "a boolean", 0, 0, false},
    {"stream_options", JSONV_OBJECT, "an object", 0, 0, false},
    INT("max_completion_tokens", "a positive integer", 1, 1e9),
    NUM("temperature", "a number from 0 to 2", 0, 2),
    NUM("top_p", "a number from 0 to 1", 0, 1),
    INT("top_k", "an integer from 0 to 1000000", 0, 1e6),
    NUM("min_p", "a number from 0 to 1", 0, 1),
    NUM("top_a", "a number from 0 to 1", 0, 1),
    NUM("frequency_penalty", "a number from -2 to 2", -2, 2),
    NUM("presence_penalty", "a number from -2 to 2", -2, 2),
    NUM("repetition_penalty", "a number from 0 to 2", 0, 2),
    INT("seed", "an integer", -9007199254740992.0, 9007199254740992.0),
    INT("n", "an integer from 1 to 128", 1, 128),
    INT("top_logprobs", "an integer from 0 to 20", 0, 20),
    {"stop", JSONV_STRING | JSONV_ARRAY, "a string or an array of strings", 0, 0, false},
    {"logit_bias", JSONV_OBJECT, "an object", 0, 0, false},
    {"logprobs", JSONV_BOOL, "a boolean", 0, 0, false},
    {"response_format", JSONV_OBJECT, "an object", 0, 0, false},
    {"tools", JSONV_ARRAY, "an array", 0, 0, false},
    {"tool_choice", JSONV_STRING | JSONV_OBJECT, "a string or an object", 0, 0, false},
    {"parallel_tool_calls", JSONV_BOOL, "a boolean", 0, 0, false},
    {"user", JSONV_STRING, "a string", 0, 0, false},
    {"provider", JSONV_OBJECT, "an object", 0, 0, false},
    {"route", JSONV_STRING, "a string", 0, 0, false},
    {"transforms", JSONV_ARRAY, "an array of strings", 0, 0, false},
    {"plugins", JSONV_ARRAY, "an array", 0, 0, false},
    {"reasoning", JSONV_OBJECT, "an object", 0, 0, false},
    {"usage", JSONV_OBJECT, "an object", 0, 0, false},
    {"metadata", JSONV_OBJECT, "an object", 0, 0, false},
    {"debug", JSONV_OBJECT, "an object", 0, 0, false},
    {"prediction", JSONV_OBJECT, "an object", 0, 0, false},
};
#undef NUM
#undef INT

static const char *const roles[] = {"system", "developer", "user", "assistant", "tool", NULL};

/* "expected X, got Y" at path, as a 400 body; Y is the value of a number. */
static int bad_value(struct buf *err_body, const char *path, const char *what, const cJSON *v)
{
	char got[64], msg[JSONV_PATH + 256];
	if (cJSON_IsNumber(v))
		snprintf(got, sizeof(got), "%.15g", v->valuedouble);
	else
		snprintf(got, sizeof(got), "%s", jsonv_type(v));
	snprintf(msg, sizeof(msg), "%s: expected %s, got %s", path, what, got);
	return bad_request(err_body, msg);
}

/* Every element of the array at path is a string. */
static int all_strings(struct buf *err_body, const cJSON *arr, const char *path, const char *what)
{
	size_t i = 0;
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		if (!cJSON_IsString(it)) {
			char p[JSONV_PATH];
			jsonv_idx(p, path, i);
			return bad_value(err_body, p, what, it);
		}
	}
	return 0;
}

/* content: a string, an array of content parts, or null (assistant turns
 * that only call tools). */
static int check_content(struct buf *err_body, const cJSON *c, const char *path, bool may_be_null)
{
	if (cJSON_IsString(c) || (may_be_null && cJSON_IsNull(c)))
		return 0;
	if (!cJSON_IsArray(c))
		return bad_value(err_body, path, "a string or an array of content parts", c);
	size_t i = 0;
	for (const cJSON *part = c->child; part; part = part->next, i++) {
		char p[JSONV_PATH], q[JSONV_PATH];
		jsonv_idx(p, path, i);
		if (!cJSON_IsObject(part))
			return bad_value(err_body, p, "a content part object", part);
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
		jsonv_key(q, p, "type");
		if (!cJSON_IsString(type))
			return bad_value(err_body, q, "a string", type);
		if (strcmp(type->valuestring, "text") == 0) {
			const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
			jsonv_key(q, p, "text");
			if (!cJSON_IsString(text))
				return bad_value(err_body, q, "a string", text);
		}
	}
	return 0;
}

static int check_message(struct buf *err_body, const cJSON *m, const char *path, bool *user)
{
	char p[JSONV_PATH];
	if (!cJSON_IsObject(m))
		return bad_value(err_body, path, "a message object", m);
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
	jsonv_key(p, path, "role");
	if (!role)
		return bad_value(err_body, p, "one of system, developer, user, assistant, tool",
				 role);
	size_t r = 0;
	while (roles[r] && !(cJSON_IsString(role) && strcmp(role->valuestring, roles[r]) == 0))
		r++;
	if (!roles[r]) {
		if (!cJSON_IsString(role))
			return bad_value(err_body, p,
					 "one of system, developer, user, assistant, tool", role);
		char msg[JSONV_PATH + 256];
		snprintf(msg, sizeof(msg),
			 "%s: expected one of system, developer, user, assistant, tool, got "
			 "\"%.64s\"",
			 p, role->valuestring);
		return bad_request(err_body, msg);
	}
	bool assistant = strcmp(roles[r], "assistant") == 0;
	*user |= strcmp(roles[r], "user") == 0;
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
	jsonv_key(p, path, "content");
	if (!content) {
		if (!assistant)
			return bad_request(err_body,
					   "messages: every non-assistant message needs a "
					   "content");
	} else if (check_content(err_body, content, p, assistant)) {
		return 400;
	}
	static const char *const strings[] = {"name", "tool_call_id", NULL};
	for (size_t i = 0; strings[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, strings[i]);
		jsonv_key(p, path, strings[i]);
		if (v && !cJSON_IsString(v))
			return bad_value(err_body, p, "a string", v);
	}
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
	jsonv_key(p, path, "tool_calls");
	if (calls && !jsonv_is(calls, JSONV_ARRAY | JSONV_NULL))
		return bad_value(err_body, p, "an array", calls);
	return 0;
}

/* The whole body against the chat-completions shape; 0 or 400. */
static int check_request(struct buf *err_body, const cJSON *root)
{
	for (size_t i = 0; i < sizeof(req_fields) / sizeof(req_fields[0]); i++) {
		const struct req_field *f = &req_fields[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, f->key);
		bool required = strcmp(f->key, "messages") == 0;
		if (!v || (cJSON_IsNull(v) && !required))
			continue;
		if (!jsonv_is(v, f->kinds))
			return bad_value(err_body, f->key, f->what, v);
		if (f->kinds == JSONV_NUMBER && !(f->integer ? jsonv_integer_in(v, f->lo, f->hi)
							     : jsonv_number_in(v, f->lo, f->hi)))
			return bad_value(err_body, f->key, f->what, v);
	}
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
	if (cJSON_IsArray(models) && all_strings(err_body, models, "models", "a model ID string"))
		return 400;
	const cJSON *stop = cJSON_GetObjectItemCaseSensitive(root, "stop");
	if (cJSON_IsArray(stop) && all_strings(err_body, stop, "stop", "a string"))
		return 400;
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(root, "transforms");
	if (cJSON_IsArray(tr) && all_strings(err_body, tr, "transforms", "a string"))
		return 400;
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
	if (!cJSON_IsArray(messages) || !messages->child)
		return bad_value(err_body, "messages", "a non-empty array of messages", messages);
	bool user = false;
	size_t i = 0;
	for (const cJSON *m = messages->child; m; m = m->next, i++) {
		char p[JSONV_PATH];
		jsonv_idx(p, "messages", i);
		if (check_message(err_body, m, p, &user))
			return 400;
	}
	if (!user)
		return bad_request(err_body, "messages: expected at least one message with role "
					     "\"user\"");
	return 0;
}

static int context_error(struct buf *err_body, const struct sim_model *m, long tokens)
{
	char msg[512];
	snprintf(msg, sizeof(msg),
		 "This endpoint's maximum context length is %ld tokens. However, you requested "
		 "about %ld tokens (%ld of text input). Please reduce the length of either one, or "
		 "use the \"middle-out\" transform to compress your prompt automatically.",
		 m->context_length, tokens, tokens);
	sim_error_body(err_body, 400, msg, "context_length_exceeded");
	return 400;
}

/* The models to try: "model" first, then the OpenRouter "models" list (up
 * to max), each one a model of the profiles. 0 or 400. */
static int candidate_models(const struct sim_request_ctx *ctx, const cJSON *root, const char **cand,
			    size_t max, size_t *nc, struct buf *err_body)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
	*nc = 0;
	if (cJSON_IsString(model))
		cand[(*nc)++] = model->valuestring;
	const cJSON *it;
	if (cJSON_IsArray(models))
		cJSON_ArrayForEach(it, models)
		{
			if (*nc < max)
				cand[(*nc)++] = it->valuestring;
		}
	if (*nc == 0)
		return bad_request(err_body, "No model specified");
	for (size_t i = 0; i < *nc; i++) {
		if (!sim_profiles_find(ctx->profiles, cand[i])) {
			char msg[400];
			snprintf(msg, sizeof(msg), "%.300s is not a valid model ID", cand[i]);
			return bad_request(err_body, msg);
		}
	}
	return 0;
}

/* What the request asks for whatever model answers: max_tokens, streaming,
 * the attempt and sample, and the item its messages name. 0 or 400. */
static int read_request(const struct sim_request_ctx *ctx, const cJSON *root,
			const char *first_model, struct sim_plan *pl, struct buf *err_body)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
	const cJSON *max_tokens = cJSON_GetObjectItemCaseSensitive(root, "max_tokens");
	if (max_tokens && !cJSON_IsNull(max_tokens)) {
		/* OpenRouter's own wording, naming the model. */
		if (!jsonv_integer_in(max_tokens, 1, 1e9)) {
			char m[400];
			snprintf(m, sizeof(m), "%.300s: max_tokens must be a positive integer",
				 first_model);
			return bad_request(err_body, m);
		}
		pl->max_tokens = (long)max_tokens->valuedouble;
	}
	pl->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "stream"));
	pl->attempt = ctx->attempt > 0 ? ctx->attempt : 1;
	pl->sample = ctx->sample > 0 ? ctx->sample : 0;
	const cJSON *temp = cJSON_GetObjectItemCaseSensitive(root, "temperature");
	pl->temperature = cJSON_IsNumber(temp) ? temp->valuedouble : 0;
	if (sim_messages_key(messages, pl->key)) {
		char *t = cJSON_PrintUnformatted(messages);
		sha256_hex(t ? t : "", t ? strlen(t) : 0, pl->key);
		cJSON_free(t);
	}
	pl->item = sim_items_find(ctx->items, pl->key);
	long pt = (long)messages_chars(messages) / 4;
	pl->prompt_tokens = pt > 0 ? pt : 1;
	return 0;
}

/* With a fallback list, a model that fails before answering (context
 * window, 429, 5xx) hands over to the next, as OpenRouter does; the last
 * one's failure is the reply. 0 or 400. */
static int pick_model(const struct sim_request_ctx *ctx, const cJSON *messages, const char **cand,
		      size_t nc, struct sim_plan *pl, struct buf *err_body)
{
	for (size_t i = 0; i < nc; i++) {
		const struct sim_model *m = sim_profiles_find(ctx->profiles, cand[i]);
		bool last = i + 1 == nc;
		if (pl->prompt_tokens > m->context_length) {
			if (last)
				return context_error(err_body, m, pl->prompt_tokens);
			continue;
		}
		pl->fault = pick_fault(m, ctx->seed, pl->key, pl->attempt);
		if (!last && sim_fault_status(pl->fault))
			continue;
		fill_plan(ctx, pl, m, messages);
		break;
	}
	return 0;
}

int sim_plan_request(const struct sim_request_ctx *ctx, const char *body, size_t len,
		     struct sim_plan *pl, struct buf *err_body)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	if (!root)
		return bad_request(err_body, "Invalid JSON in request body");
	int rc;
	const char *cand[16];
	size_t nc = 0;
	char nul_path[200]; /* cJSON cuts a string at a NUL: a model ID would lose its tail */
	if (jsonnul_find(body, len, nul_path, sizeof(nul_path)))
		rc = bad_request(err_body, "Invalid request: a string contains a NUL character "
					   "(\\u0000, or a \\u escape without four hex digits)");
	else if (!cJSON_IsObject(root))
		rc = bad_request(err_body, "Request body must be a JSON object");
	else if (!(rc = check_request(err_body, root)) &&
		 !(rc = candidate_models(ctx, root, cand, sizeof(cand) / sizeof(cand[0]), &nc,
					 err_body)) &&
		 !(rc = read_request(ctx, root, cand[0], pl, err_body)))
		rc = pick_model(ctx, cJSON_GetObjectItemCaseSensitive(root, "messages"), cand, nc,
				pl, err_body);
	cJSON_Delete(root);
	return rc;
}

void sim_plan_echo(struct sim_plan *pl, const char *headers, size_t len)
{
	buf_reset(&pl->echo);
	buf_append(&pl->echo, headers, len);
	buf_reset(&pl->content);
	buf_append(&pl->content, headers, len);
	free(pl->piece_end);
	pl->piece_end = NULL;
	pl->n_pieces = 0;
	if (pl->stream)
		split_pieces(pl);
}

/* ---- bodies ---- */

/* The usage faults: every number of the usage object is unusable. */
static bool bad_usage_json(struct buf *b, const struct sim_plan *pl)
{
	const char *v;
	switch (pl->fault) {
	case SIM_FAULT_USAGE_NEGATIVE:
		v = "-7";
		break;
	case SIM_FAULT_USAGE_STRING:
		v = "\"many\"";
		break;
	case SIM_FAULT_USAGE_HUGE:
		v = "1.7e308";
		break;
	default:
		return false;
	}
	buf_printf(
	    b,
	    "\"usage\":{\"prompt_tokens\":%s,\"completion_tokens\":%s,\"total_tokens\":%s,"
	    "\"cost\":%s,\"is_byok\":false,\"cost_details\":{\"upstream_inference_cost\":%s}}",
	    v, v, v, v, v);
	return true;
}

static void usage_json(struct buf *b, const struct sim_plan *pl)
{
	if (bad_usage_json(b, pl))
		return;
	buf_puts(b, "\"usage\":{\"prompt_tokens\":");
	jsonw_long(b, pl->prompt_tokens);
	buf_puts(b, ",\"completion_tokens\":");
	jsonw_long(b, pl->completion_tokens);
	buf_puts(b, ",\"total_tokens\":");
	jsonw_long(b, pl->prompt_tokens + pl->completion_tokens);
	if (pl->model->litellm_cost) {
		/* LiteLLM's proxy: plain OpenAI usage; the cost is in a header */
		buf_puts(b, "}");
		return;
	}
	buf_puts(b, ",\"cost\":");
	jsonw_double(b, pl->cost);
	buf_puts(b, ",\"is_byok\":false,\"prompt_tokens_details\":{\"cached_tokens\":0,"
		    "\"audio_tokens\":0},\"cost_details\":{\"upstream_inference_cost\":");
	jsonw_double(b, pl->cost);
	buf_puts(b, ",\"upstream_inference_prompt_cost\":");
	jsonw_double(b, pl->cost_prompt);
	buf_puts(b, ",\"upstream_inference_completions_cost\":");
	jsonw_double(b, pl->cost_completion);
	buf_puts(b, "},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0}}");
}

static void head_json(struct buf *b, const struct sim_plan *pl, const char *object)
{
	buf_puts(b, "{\"id\":");
	jsonw_str(b, pl->gen_id);
	buf_puts(b, ",\"provider\":\"" SIM_PROVIDER "\",\"model\":");
	if (pl->echo.len)
		jsonw_strn(b, pl->echo.data, pl->echo.len);
	else
		jsonw_str(b, pl->model->id);
	buf_puts(b, ",\"object\":");
	jsonw_str(b, object);
	buf_puts(b, ",\"created\":");
	jsonw_long(b, pl->created);
}

/* The error object of a reply that fails after content. */
static void midstream_error(struct buf *b, const struct sim_plan *pl)
{
	buf_puts(b, "{\"code\":502,\"message\":");
	if (pl->fault == SIM_FAULT_ECHO_HEADERS_ERROR)
		jsonw_strn(b, pl->echo.data, pl->echo.len);
	else
		jsonw_str(b, "Provider disconnected unexpectedly");
	buf_puts(b, ",\"metadata\":{\"error_type\":\"provider_unavailable\"}}");
}

void sim_endless_head(struct buf *b, const struct sim_plan *pl)
{
	head_json(b, pl, "chat.completion");
	buf_puts(b, ",\"choices\":[{\"logprobs\":null,\"finish_reason\":null,\"index\":0,"
		    "\"message\":{\"role\":\"assistant\",\"content\":\"");
}

void sim_completion_body(struct buf *b, const struct sim_plan *pl)
{
	size_t start = b->len;
	bool mid = sim_fault_ends_in_error(pl->fault);
	size_t content_len =
	    pl->fault == SIM_FAULT_MIDSTREAM ? pl->content.len / 2 : pl->content.len;
	while (mid && content_len > 0 &&
	       ((unsigned char)pl->content.data[content_len] & 0xC0) == 0x80)
		content_len--;
	head_json(b, pl, "chat.completion");
	buf_puts(b, ",\"choices\":[{\"logprobs\":null,\"finish_reason\":");
	jsonw_str(b, mid ? "error" : pl->finish_reason);
	buf_puts(b, ",\"native_finish_reason\":");
	jsonw_str(b, mid ? "error" : pl->finish_reason);
	buf_puts(b, ",\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
	jsonw_strn(b, pl->content.data, content_len);
	buf_puts(b, ",\"refusal\":null,\"reasoning\":null}");
	if (mid) {
		buf_puts(b, ",\"error\":");
		midstream_error(b, pl);
	}
	buf_puts(b, "}],\"system_fingerprint\":null,");
	usage_json(b, pl);
	buf_puts(b, "}");
	if (pl->fault == SIM_FAULT_MALFORMED) {
		/* Cut in the middle: never valid JSON. */
		b->len = start + (b->len - start) / 2;
		b->data[b->len] = '\0';
	}
}

/* One chunk whose delta carries content[0..n) and the finish reason (NULL: null). */
static void chunk(struct buf *b, const struct sim_plan *pl, const char *content, size_t n,
		  const char *finish)
{
	buf_puts(b, "data: ");
	head_json(b, pl, "chat.completion.chunk");
	buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":");
	jsonw_strn(b, content, n);
	buf_puts(b, "},\"finish_reason\":");
	jsonw_str(b, finish);
	buf_puts(b, ",\"native_finish_reason\":");
	jsonw_str(b, finish);
	buf_puts(b, ",\"logprobs\":null}],\"system_fingerprint\":null}\n\n");
}

void sim_stream_piece(struct buf *b, const struct sim_plan *pl, size_t i)
{
	size_t start = i ? pl->piece_end[i - 1] : 0;
	chunk(b, pl, pl->content.data + start, pl->piece_end[i] - start, NULL);
}

void sim_stream_role(struct buf *b, const struct sim_plan *pl)
{
	chunk(b, pl, "", 0, NULL);
}

void sim_stream_finish(struct buf *b, const struct sim_plan *pl)
{
	chunk(b, pl, "", 0, pl->finish_reason);
}

void sim_stream_usage(struct buf *b, const struct sim_plan *pl)
{
	buf_puts(b, "data: ");
	head_json(b, pl, "chat.completion.chunk");
	buf_puts(b, ",\"choices\":[],");
	usage_json(b, pl);
	buf_puts(b, ",\"system_fingerprint\":null}\n\n");
}

void sim_stream_error(struct buf *b, const struct sim_plan *pl)
{
	buf_puts(b, "data: ");
	head_json(b, pl, "chat.completion.chunk");
	buf_puts(b, ",\"error\":");
	midstream_error(b, pl);
	buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},"
		    "\"finish_reason\":\"error\",\"native_finish_reason\":\"error\"}]}\n\n");
}

void sim_stream_malformed(struct buf *b, const struct sim_plan *pl)
{
	buf_puts(b, "data: ");
	head_json(b, pl, "chat.completion.chunk");
	buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\n\n");
}

/* ---- /models ---- */

void sim_price_str(double v, char *out, size_t size)
{
	/* The shortest fixed-point text that reads back as v: OpenRouter
	 * writes "0.000000075", never "7.5e-08". */
	for (int prec = 0; prec <= 20; prec++) {
		snprintf(out, size, "%.*f", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* The JSON string "<before><id><after>". */
static void put_id_str(struct buf *b, const char *before, const char *id, const char *after)
{
	struct buf t;
	buf_init(&t);
	buf_puts(&t, before);
	buf_puts(&t, id);
	buf_puts(&t, after);
	jsonw_str(b, t.data);
	buf_free(&t);
}

/* key_text (the JSON before the value), then the price as OpenRouter
 * writes it: a decimal string. */
static void put_price(struct buf *b, const char *key_text, double v)
{
	char price[64];
	sim_price_str(v, price, sizeof(price));
	buf_puts(b, key_text);
	jsonw_str(b, price);
}

void sim_models_body(struct buf *b, const struct sim_profiles *p)
{
	buf_puts(b, "{\"data\":[");
	for (size_t i = 0; i < p->n_models; i++) {
		const struct sim_model *m = &p->models[i];
		if (i)
			buf_putc(b, ',');
		buf_puts(b, "{\"id\":");
		jsonw_str(b, m->id);
		buf_puts(b, ",\"canonical_slug\":");
		jsonw_str(b, m->id);
		buf_puts(b, ",\"hugging_face_id\":null,\"name\":");
		put_id_str(b, "", m->id, " (shadowsim)");
		buf_puts(b, ",\"created\":1700000000,\"description\":");
		jsonw_str(b, "A simulated model served by shadowsim.");
		buf_puts(b, ",\"context_length\":");
		jsonw_long(b, m->context_length);
		buf_puts(b, ",\"architecture\":{\"modality\":\"text->text\",\"input_modalities\":"
			    "[\"text\"],\"output_modalities\":[\"text\"],\"tokenizer\":\"Other\","
			    "\"instruct_type\":null},\"pricing\":{\"prompt\":");
		put_price(b, "", m->price_prompt);
		put_price(b, ",\"completion\":", m->price_completion);
		put_price(b, ",\"request\":", m->price_request);
		buf_puts(b, "},\"top_provider\":{\"context_length\":");
		jsonw_long(b, m->context_length);
		buf_puts(b,
			 ",\"max_completion_tokens\":null,\"is_moderated\":false},"
			 "\"per_request_limits\":null,\"supported_parameters\":[\"max_tokens\","
			 "\"temperature\",\"top_p\",\"stop\",\"seed\"],\"default_parameters\":null,"
			 "\"expiration_date\":null,\"links\":{\"details\":");
		put_id_str(b, "/api/v1/models/", m->id, "/endpoints");
		buf_puts(b, "}}");
	}
	buf_puts(b, "],\"total_count\":");
	jsonw_long(b, (long long)p->n_models);
	buf_puts(b, ",\"links\":{\"next\":null}}");
}
