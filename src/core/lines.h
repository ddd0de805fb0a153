/* lines.h: a file's physical lines, read in fread chunks into one reused
 * buffer, with a length limit checked before the memory for a longer line is
 * taken. The dataset reader and the results reader both stream this way, so
 * memory follows the longest accepted line, never the file.
 *
 * Not here: what a line means (JSON, CSV), blank lines, CR stripping.
 *
 * Ownership: the caller opens and closes fp; lines_free frees the buffers.
 */
#ifndef SE_LINES_H
#define SE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

struct lines {
	FILE *fp;
	char *chunk; /* fread buffer */
	size_t pos, end;
	bool eof;
	struct buf line; /* the current line, '\n' included when it has one */
	size_t max;	 /* the longest line accepted, newline excluded */
	/* Sees every byte read, in file order (the dataset hashes them); may be
	 * NULL. */
	void (*on_chunk)(void *ctx, const void *p, size_t n);
	void *ctx;
};

void lines_init(struct lines *l, FILE *fp, size_t max);
void lines_free(struct lines *l);

/* The next line into l->line: 1; 0 at the end of the file; -1 on a read
 * error (err names path, "cannot read <what>") or a line longer than max
 * (SE_INPUT, where "path:lineno", "line longer than N MiB"). */
int lines_next(struct lines *l, const char *path, size_t lineno, const char *what,
	       struct se_err *err);

/* Bytes read from the file but not yet handed out as lines. */
static inline size_t lines_buffered(const struct lines *l)
{
	return l->end - l->pos;
}

#endif
