/* wire.h: the OpenAI chat-completions wire format, as OpenRouter speaks it.
 *
 * Builds request bodies and parses what comes back: a chat.completion object,
 * stream chunks (chat.completion.chunk, the usage chunk with empty or one
 * choice, a mid-stream error chunk with a top-level "error" and
 * finish_reason "error"), error bodies ({"error":{"code","message","metadata"}},
 * code an int, a string, or absent as in availability errors), and the
 * /models list. The harness and shadowsim's conformance tests use the same
 * functions, so "what we send" and "what we understand" cannot drift apart.
 *
 * Parse errors name the JSON path ("choices[0].message.content: expected a
 * string") in err->where/msg, kind SE_INPUT.
 */
#ifndef SE_WIRE_H
#define SE_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct cJSON;
struct cfg_params;

/* Counts are 0 when absent and -1 when unusable (not a number, negative,
 * fractional, over 1e15): unknown. A cost that is not a number or a numeric
 * string, negative or over 1e6 USD is not has_cost but bad_cost. */
struct wire_usage {
	bool present;
	long prompt_tokens;
	long completion_tokens;
	long cached_tokens; /* prompt_tokens_details.cached_tokens, 0 when absent */
	bool has_cost;
	bool bad_cost; /* usage.cost was there but unusable */
	double cost;   /* usage.cost, USD */
};

/* What a response (whole or accumulated from a stream) said. */
struct wire_reply {
	struct buf content; /* message content, or the concatenated deltas */
	char model[256];    /* the model that served ("" when absent) */
	char finish_reason[32];
	struct wire_usage usage;
	bool error;	     /* an error object was present (mid-stream or embedded) */
	char error_code[32]; /* error.code as text ("502", "server_error"), "" if absent */
	char error_message[512];
	int n_chunks; /* stream chunks seen */
	bool done;    /* stream saw data: [DONE] */
	char id[128]; /* the generation id: the first "id" string seen ("" when none,
		       * or when it does not fit) */
	/* Not from the reply's bytes: its cost as OpenRouter's generation
	 * lookup told it afterwards (engine/gencost.h), for a reply that
	 * carried none. */
	bool has_gen_cost;
	double gen_cost;
};

void wire_reply_init(struct wire_reply *r);
void wire_reply_reset(struct wire_reply *r);
void wire_reply_free(struct wire_reply *r);

/* Appends the request body: {"model":..., "messages": <messages_json>,
 * temperature, max_tokens, stream, extra params...}. messages_json is pasted
 * as is (it must be a JSON array). When streaming, "stream_options":
 * {"include_usage":true} is added (unless extra has its own) so that servers
 * other than OpenRouter send usage too. A key of extra that a typed param
 * already wrote is skipped. params may be NULL. */
void wire_build_request(struct buf *b, const char *model, const char *messages_json,
			size_t messages_len, const struct cfg_params *params);

/* Parses a non-streaming body (leading whitespace allowed) into r. An error
 * object (top-level "error", or choices[0].error next to partial content)
 * sets r->error and finish_reason "error" when none is given; choices may
 * then be absent. On failure err->where is the JSON path ("choices[0].message
 * .content", "body" for invalid JSON, "(root)") and err->msg says what was
 * expected. r may be partly filled on failure. */
int wire_parse_completion(const char *body, size_t len, struct wire_reply *r, struct se_err *err);

/* Applies one stream event's data to r: "[DONE]" sets done, and every
 * event after it is ignored (0, r untouched); a chunk appends
 * its delta content, records model, finish_reason, usage, and an error chunk
 * sets error (and finish_reason "error" when the chunk gives none). choices
 * may be empty (the usage chunk). Errors are worded as for
 * wire_parse_completion. */
int wire_apply_chunk(const char *data, size_t len, struct wire_reply *r, struct se_err *err);

/* Parses an error body. Fills code (int, 0 when absent or not numeric; a
 * numeric string counts), message ("" when absent), and retry_after_s from
 * error.availability.retry_after, else error.metadata.retry_after(_seconds),
 * else error.retry_after (-1 when absent). Returns -1 when the body is not a
 * JSON object with an "error" object. Any pointer may be NULL. */
int wire_parse_error(const char *body, size_t len, int *code, char *message, size_t message_size,
		     double *retry_after_s);

/* Parses a generation lookup's reply (GET /generation?id=, OpenRouter's
 * {"data": {"total_cost": <USD>, ...}}) into *cost. total_cost may be a
 * number or a numeric string, from 0 to 1e6 USD; errors name the JSON path
 * ("data.total_cost: expected a cost in USD, got a string"). */
int wire_parse_generation(const char *body, size_t len, double *cost, struct se_err *err);

/* One model of a /models list. Prices in USD per token (per request for
 * `request`); a missing price is -1. */
struct wire_model_price {
	const char *id;
	double prompt;
	double completion;
	double request;
	double cache_read;
	long context_length; /* -1 when absent */
};
typedef int (*wire_model_fn)(void *ctx, const struct wire_model_price *m);
/* Calls fn for each entry of {"data":[...]}; errors name the JSON path, with
 * where = "<where>: data[3].pricing.prompt" (or "<where>:line:col" for
 * invalid JSON). m and m->id are only valid during the call. fn returning
 * non-zero stops the walk and makes wire_parse_models return -1 without
 * touching err (fn reports through its ctx). */
int wire_parse_models(const char *body, size_t len, const char *where, wire_model_fn fn, void *ctx,
		      struct se_err *err);

#endif
