/* buf.h: a growable byte buffer, always NUL-terminated.
 *
 * Invariant: after buf_init, data is never NULL and data[len] == '\0', so a
 * buf can be handed to functions that take a C string. Appending may move
 * data: pointers into it die on every append. Allocation failure aborts
 * (see xalloc.h): an eval harness cannot do anything useful without memory.
 * The owner calls buf_free; buf_reset keeps the allocation for reuse, which
 * is how hot paths (one result line per request) avoid malloc churn.
 */
#ifndef SE_BUF_H
#define SE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) SE_PRINTF(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) SE_PRINTF(2, 0);
/* Hands the bytes to the caller (who frees them) and re-inits b. */
char *buf_detach(struct buf *b, size_t *len);

#endif
