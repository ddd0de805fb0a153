/* wire_fast.h: the fast path of the reply parse (wire_fast.c) and what
 * holds it to the cJSON path.
 *
 * wire_apply_chunk and wire_parse_completion try the fast path first and
 * fall back to the cJSON path when it does not decide; the functions here
 * let the tests and fuzzers run each path alone and compare the results.
 */
#ifndef SE_WIRE_FAST_H
#define SE_WIRE_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "wire/wire.h"

/* The fast path for one stream event (after wire_apply_chunk's [DONE]
 * handling) and for a whole reply: true when it applied the JSON text to r
 * exactly as the cJSON path would have (which returns 0 for it); false,
 * with r untouched, when it leaves the text to the cJSON path: anything
 * that path would refuse, and whatever the fast path does not decide with
 * certainty (see wire_fast.c). Never allocates, except to grow
 * r->content. */
bool wire_fast_chunk(const char *data, size_t len, struct wire_reply *r);
bool wire_fast_completion(const char *body, size_t len, struct wire_reply *r);

/* wire_apply_chunk and wire_parse_completion without the fast path: the
 * reference the fast path must agree with (tests, fuzzers). */
int wire_apply_chunk_json(const char *data, size_t len, struct wire_reply *r, struct se_err *err);
int wire_parse_completion_json(const char *body, size_t len, struct wire_reply *r,
			       struct se_err *err);

/* NULL when a and b hold the same reply (content bytes, every field and
 * flag); else the name of the first field that differs ("content",
 * "usage.cost"). */
const char *wire_reply_diff(const struct wire_reply *a, const struct wire_reply *b);

#endif
