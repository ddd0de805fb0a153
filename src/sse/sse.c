/* sse.c: the sse room: an incremental Server-Sent Events parser; see sse.h.
 *
 * Splits bytes into lines (LF, CRLF or CR, even when the CR and the LF arrive
 * in different chunks) and lines into events, following the WHATWG
 * event-stream rules for the one field shadoweval needs: "data". It does not
 * look inside the data (that is wire/), track event ids or honour "retry:"
 * (the engine owns reconnection policy: it never resumes a stream).
 */
#include "sse/sse.h"

#include <string.h>

/* A line may carry a whole event plus its "data: " prefix. */
#define SSE_MAX_LINE (SSE_MAX_EVENT + 8)

void sse_init(struct sse_parser *p)
{
	buf_init(&p->line);
	buf_init(&p->data);
	p->has_data = 0;
	p->pending_cr = 0;
}

void sse_free(struct sse_parser *p)
{
	if (!p)
		return;
	buf_free(&p->line);
	buf_free(&p->data);
	p->has_data = 0;
	p->pending_cr = 0;
}

void sse_reset(struct sse_parser *p)
{
	buf_reset(&p->line);
	buf_reset(&p->data);
	p->has_data = 0;
	p->pending_cr = 0;
}

static int dispatch(struct sse_parser *p, sse_event_fn on_event, void *ctx)
{
	if (!p->has_data)
		return 0;
	p->has_data = 0;
	int rc = on_event(ctx, p->data.data, p->data.len);
	buf_reset(&p->data);
	return rc;
}

/* One complete line, without its line end. */
static int process_line(struct sse_parser *p, const char *s, size_t n, sse_event_fn on_event,
			void *ctx)
{
	if (n == 0)
		return dispatch(p, on_event, ctx);
	if (s[0] == ':')
		return 0;
	const char *colon = memchr(s, ':', n);
	size_t flen = colon ? (size_t)(colon - s) : n;
	if (flen != 4 || memcmp(s, "data", 4) != 0)
		return 0; /* event:, id:, retry: and unknown fields */
	const char *v = colon ? colon + 1 : s + n;
	size_t vlen = (size_t)(s + n - v);
	if (vlen && v[0] == ' ') {
		v++;
		vlen--;
	}
	size_t need = p->data.len + (p->has_data ? 1 : 0) + vlen;
	if (need > SSE_MAX_EVENT) {
		sse_reset(p);
		return -1;
	}
	if (p->has_data)
		buf_putc(&p->data, '\n');
	buf_append(&p->data, v, vlen);
	p->has_data = 1;
	return 0;
}

int sse_feed(struct sse_parser *p, const char *chunk, size_t n, sse_event_fn on_event, void *ctx)
{
	size_t i = 0;
	if (p->pending_cr && n > 0) {
		if (chunk[0] == '\n')
			i = 1; /* the second half of a CRLF cut between chunks */
		p->pending_cr = 0;
	}
	while (i < n) {
		size_t j = i;
		while (j < n && chunk[j] != '\n' && chunk[j] != '\r')
			j++;
		if (j == n) {
			if (p->line.len + (n - i) > SSE_MAX_LINE) {
				sse_reset(p);
				return -1;
			}
			buf_append(&p->line, chunk + i, n - i);
			break;
		}
		const char *s = chunk + i;
		size_t len = j - i;
		if (p->line.len) {
			if (p->line.len + len > SSE_MAX_LINE) {
				sse_reset(p);
				return -1;
			}
			buf_append(&p->line, s, len);
			s = p->line.data;
			len = p->line.len;
		}
		int rc = process_line(p, s, len, on_event, ctx);
		buf_reset(&p->line);
		if (chunk[j] == '\r') {
			if (j + 1 < n) {
				if (chunk[j + 1] == '\n')
					j++;
			} else {
				p->pending_cr = 1;
			}
		}
		i = j + 1;
		if (rc != 0)
			return rc;
	}
	return 0;
}

int sse_finish(struct sse_parser *p, sse_event_fn on_event, void *ctx)
{
	int rc = 0;
	if (p->line.len) {
		rc = process_line(p, p->line.data, p->line.len, on_event, ctx);
		buf_reset(&p->line);
	}
	if (rc == 0)
		rc = dispatch(p, on_event, ctx);
	sse_reset(p);
	return rc;
}
