/* fz_wire.c: fuzzes the response parsers of the wire room on one body: a
 * chat.completion (wire_parse_completion), a stream chunk
 * (wire_apply_chunk), an error body (wire_parse_error) and a /models list
 * (wire_parse_models, as the pricing loader reads it). The first two must
 * end exactly as their cJSON path alone (wire_fast.h) does: the same code,
 * error and reply, on a fresh reply and on one an earlier chunk filled. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"
#include "wire/wire_fast.h"

typedef int (*parse_fn)(const char *, size_t, struct wire_reply *, struct se_err *);

/* An ordinary chunk, applied first for the "filled" reply. */
static const char prior[] = "{\"id\":\"gen-1\",\"model\":\"m0\",\"choices\":[{\"delta\":"
			    "{\"content\":\"pre\"},\"finish_reason\":\"stop\"}],\"usage\":"
			    "{\"prompt_tokens\":3}}";

/* body through fn (fast path, then cJSON) and json (cJSON alone), from the
 * same start: a mismatch aborts. */
static void same_paths(const char *body, size_t size, bool filled, parse_fn fn, parse_fn json)
{
	struct wire_reply a, b;
	struct se_err ea, eb;
	wire_reply_init(&a);
	wire_reply_init(&b);
	if (filled) {
		(void)wire_apply_chunk_json(prior, sizeof(prior) - 1, &a, &ea);
		(void)wire_apply_chunk_json(prior, sizeof(prior) - 1, &b, &eb);
	}
	se_clear(&ea);
	se_clear(&eb);
	int ra = fn(body, size, &a, &ea);
	int rb = json(body, size, &b, &eb);
	if (ra != rb || (ra && (strcmp(ea.where, eb.where) || strcmp(ea.msg, eb.msg))) ||
	    wire_reply_diff(&a, &b))
		abort(); /* the fast path must not change a result */
	wire_reply_free(&a);
	wire_reply_free(&b);
}

static int on_model(void *ctx, const struct wire_model_price *m)
{
	size_t *n = ctx;
	*n += strlen(m->id);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct wire_reply r;
	struct se_err err;
	wire_reply_init(&r);
	se_clear(&err);
	if (wire_parse_completion(body, size, &r, &err) && (!err.where[0] || !err.msg[0]))
		abort(); /* a bad reply must say where and what */
	wire_reply_reset(&r);
	se_clear(&err);
	(void)wire_apply_chunk(body, size, &r, &err);
	wire_reply_free(&r);
	for (int filled = 0; filled < 2; filled++) {
		same_paths(body, size, filled, wire_parse_completion, wire_parse_completion_json);
		same_paths(body, size, filled, wire_apply_chunk, wire_apply_chunk_json);
	}

	int code = 0;
	char message[512];
	double retry_after = 0;
	(void)wire_parse_error(body, size, &code, message, sizeof(message), &retry_after);

	size_t n = 0;
	se_clear(&err);
	(void)wire_parse_models(body, size, "models.json", on_model, &n, &err);
	return 0;
}
