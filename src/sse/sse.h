/* sse.h: an incremental Server-Sent Events parser.
 *
 * Bytes arrive in chunks cut anywhere (inside a line, inside a multi-byte
 * UTF-8 sequence, between "\r" and "\n"); sse_feed buffers the partial line
 * and calls on_event once per complete event with the concatenated "data:"
 * lines (joined by "\n", without the trailing newline). Comment lines (": ...",
 * such as OpenRouter's ": OPENROUTER PROCESSING") and fields other than data
 * are skipped. Lines end with "\n", "\r\n" or "\r". The event's data is only
 * valid during the callback. A callback returning non-zero stops the feed and
 * sse_feed returns that value.
 *
 * Memory: the current line and event, bounded by SSE_MAX_EVENT (a larger event
 * makes sse_feed return -1).
 */
#ifndef SE_SSE_H
#define SE_SSE_H

#include <stddef.h>

#include "core/buf.h"

#define SSE_MAX_EVENT (8u << 20)

typedef int (*sse_event_fn)(void *ctx, const char *data, size_t len);

struct sse_parser {
	struct buf line;
	struct buf data;
	int has_data;
	int pending_cr; /* last byte seen was '\r': a following '\n' is part of it */
};

void sse_init(struct sse_parser *p);
void sse_free(struct sse_parser *p);
void sse_reset(struct sse_parser *p);
int sse_feed(struct sse_parser *p, const char *chunk, size_t n, sse_event_fn on_event, void *ctx);
/* At end of stream: dispatches a final event not followed by a blank line. */
int sse_finish(struct sse_parser *p, sse_event_fn on_event, void *ctx);

#endif
