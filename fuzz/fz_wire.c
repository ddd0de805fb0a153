/* fz_wire.c: fuzzes the response parsers of the wire room on one body: a
 * chat.completion (wire_parse_completion), a stream chunk
 * (wire_apply_chunk), an error body (wire_parse_error) and a /models list
 * (wire_parse_models, as the pricing loader reads it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

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

	int code = 0;
	char message[512];
	double retry_after = 0;
	(void)wire_parse_error(body, size, &code, message, sizeof(message), &retry_after);

	size_t n = 0;
	se_clear(&err);
	(void)wire_parse_models(body, size, "models.json", on_model, &n, &err);
	return 0;
}
