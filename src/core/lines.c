/* lines.c: physical lines in fread chunks with a length limit; see lines.h. */
#include "core/lines.h"

#include <string.h>

#include "core/xalloc.h"

#define LINES_CHUNK (64u << 10)

void lines_init(struct lines *l, FILE *fp, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->fp = fp;
	l->chunk = xmalloc(LINES_CHUNK);
	l->max = max;
	buf_init(&l->line);
}

void lines_free(struct lines *l)
{
	if (!l || !l->chunk)
		return;
	free(l->chunk);
	l->chunk = NULL;
	buf_free(&l->line);
}

int lines_next(struct lines *l, const char *path, size_t lineno, const char *what,
	       struct se_err *err)
{
	buf_reset(&l->line);
	for (;;) {
		if (l->pos == l->end) {
			if (l->eof)
				break;
			size_t got = fread(l->chunk, 1, LINES_CHUNK, l->fp);
			if (got < LINES_CHUNK) {
				if (ferror(l->fp))
					return se_fail_errno(err, path, "cannot read %s", what);
				l->eof = true;
			}
			if (l->on_chunk && got)
				l->on_chunk(l->ctx, l->chunk, got);
			l->pos = 0;
			l->end = got;
			if (!got)
				break;
		}
		const char *p = l->chunk + l->pos;
		size_t avail = l->end - l->pos;
		const char *nl = memchr(p, '\n', avail);
		size_t take = nl ? (size_t)(nl - p) + 1 : avail;
		if (l->line.len + take - (nl ? 1 : 0) > l->max) {
			char where[600];
			snprintf(where, sizeof(where), "%s:%zu", path, lineno);
			if (l->max >= (1u << 20))
				return se_fail(err, SE_INPUT, where, "line longer than %zu MiB",
					       l->max >> 20);
			return se_fail(err, SE_INPUT, where, "line longer than %zu bytes", l->max);
		}
		buf_append(&l->line, p, take);
		l->pos += take;
		if (nl)
			break;
	}
	return l->line.len ? 1 : 0;
}
