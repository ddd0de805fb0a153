/* fz_sse.c: fuzzes the incremental SSE parser as the engine drives it: the
 * input is fed in chunks cut at places chosen by its first byte (inside
 * lines, CRLF pairs and UTF-8 sequences), and each event's data goes to
 * wire_apply_chunk, which accumulates a streamed reply. Beside it the same
 * events accumulate through the cJSON path alone (wire_fast.h): after each
 * event both must hold the same reply and return the same code and error,
 * or the target aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse/sse.h"
#include "wire/wire.h"
#include "wire/wire_fast.h"

struct fz_stream {
	struct wire_reply reply;
	struct se_err err;
	struct wire_reply json; /* the same stream through the cJSON path */
	struct se_err json_err;
};

static int on_event(void *ctx, const char *data, size_t len)
{
	struct fz_stream *s = ctx;
	int rc = wire_apply_chunk(data, len, &s->reply, &s->err);
	int json = wire_apply_chunk_json(data, len, &s->json, &s->json_err);
	if (rc != json || wire_reply_diff(&s->reply, &s->json) ||
	    (rc &&
	     (strcmp(s->err.where, s->json_err.where) || strcmp(s->err.msg, s->json_err.msg))))
		abort(); /* the fast path must not change a result */
	/* The engine stops a stream at its first bad chunk; so do we. */
	return rc ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned seed = data[0];
	data++;
	size--;
	struct sse_parser p;
	struct fz_stream s;
	sse_init(&p);
	wire_reply_init(&s.reply);
	wire_reply_init(&s.json);
	se_clear(&s.err);
	se_clear(&s.json_err);
	int rc = 0;
	size_t off = 0;
	while (off < size && rc == 0) {
		seed = seed * 1103515245u + 12345u;
		size_t n = 1 + (seed >> 16) % 64;
		if (n > size - off)
			n = size - off;
		rc = sse_feed(&p, (const char *)data + off, n, on_event, &s);
		off += n;
	}
	if (rc == 0)
		(void)sse_finish(&p, on_event, &s);
	(void)strlen(s.reply.model);
	(void)strlen(s.reply.finish_reason);
	(void)strlen(s.reply.error_message);
	sse_free(&p);
	wire_reply_free(&s.reply);
	wire_reply_free(&s.json);
	return 0;
}
