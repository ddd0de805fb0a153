/* heap.h: a binary min-heap of deadlines (monotonic ms) with a payload.
 *
 * The engine's retry and Retry-After deadlines and shadowsim's suspended
 * connections are both "wake this at time t": one heap serves both. It does
 * no locking and owns nothing but its array; the payloads are the caller's.
 */
#ifndef SE_HEAP_H
#define SE_HEAP_H

#include <stdbool.h>
#include <stddef.h>

struct heap_entry {
	double at;
	void *data;
};

struct heap {
	struct heap_entry *v; /* v[0] is the earliest */
	size_t n;
	size_t cap;
};

void heap_init(struct heap *h);
void heap_free(struct heap *h);
void heap_push(struct heap *h, double at, void *data);
/* The earliest entry without removing it; false when empty. */
bool heap_peek(const struct heap *h, struct heap_entry *out);
bool heap_pop(struct heap *h, struct heap_entry *out);

#endif
