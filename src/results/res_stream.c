/* res_stream.c: res_scan_fields, the fast streaming pass over results.jsonl
 * (see results.h): read(2) into one reused buffer, each line through the fast path
 * (res_fast.c) and, when it cannot decide, through the full parse
 * (res_parse_line), which words every error as res_scan does.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "results/res_int.h"
#include "results/results.h"

#define CHUNK ((size_t)256 << 10) /* read size: fits a core's L2 cache */

struct stream {
	const char *path;
	struct res_fields *sf;
	res_rec_fn fn;
	void *ctx;
	struct buf scratch;
	struct se_err *err;
	struct res_keys keys;
};

static void where_line(char *where, size_t size, const char *path, size_t line)
{
	snprintf(where, size, "%s:%zu", path, line);
}

/* The full parse of a line; strings not wanted are dropped, as the fast
 * path never fills them. */
static int slow_line(struct stream *s, const char *line, size_t len, bool complete,
		     struct res_rec *rec, cJSON **doc)
{
	char where[600];
	where_line(where, sizeof(where), s->path, s->sf->lines);
	s->sf->slow++;
	if (res_parse_line(line, len, rec, doc, where, s->err)) {
		if (!complete && !*doc) { /* a crash mid-append, as res_scan skips it */
			se_clear(s->err);
			s->sf->torn = 1;
			return 0;
		}
		return -1;
	}
	rec->checks = NULL; /* the fast path has no parse tree to point into */
	unsigned w = s->sf->want;
	if (!(w & RES_WANT_TASK))
		rec->task = NULL;
	if (!(w & RES_WANT_SLOT))
		rec->slot = NULL;
	if (!(w & RES_WANT_SERVED_MODEL))
		rec->served_model = NULL;
	if (!(w & RES_WANT_FINISH_REASON))
		rec->finish_reason = NULL;
	if (!(w & RES_WANT_ERROR))
		rec->error = NULL;
	if (!(w & RES_WANT_OUTPUT)) {
		rec->output = NULL;
		rec->output_len = 0;
	}
	return 0;
}

/* One physical line (without its newline) at byte offset off. */
static int one_line(struct stream *s, const char *line, size_t n, bool complete, uint64_t off)
{
	size_t len = n && line[n - 1] == '\r' ? n - 1 : n;
	if (res_line_blank(line, len))
		return 0;
	struct res_rec rec;
	cJSON *doc = NULL;
	buf_reset(&s->scratch);
	buf_reserve(&s->scratch, len + res_nfields);
	int rc = 0;
	if (!complete || res_fast_line(&s->keys, line, len, s->sf->want, &rec, s->scratch.data))
		rc = slow_line(s, line, len, complete, &rec, &doc);
	if (rc == 0 && !s->sf->torn && (s->sf->all_samples || rec.sample == 0)) {
		rec.raw = line;
		rec.raw_len = len;
		rec.line = s->sf->lines;
		rec.off = off;
		rc = s->fn(s->ctx, &rec);
	}
	cJSON_Delete(doc);
	return rc;
}

static int too_long(struct stream *s, size_t max)
{
	char where[600];
	where_line(where, sizeof(where), s->path, s->sf->lines + 1);
	if (max >= (1u << 20))
		return se_fail(s->err, SE_INPUT, where, "line longer than %zu MiB", max >> 20);
	return se_fail(s->err, SE_INPUT, where, "line longer than %zu bytes", max);
}

/* The whole lines in buf[0, have) (and at the end of the file the last,
 * without its newline), buf[0] being at byte pos of the file; *used: the
 * bytes consumed. */
static int buffer_lines(struct stream *s, const char *buf, size_t have, uint64_t pos, bool eof,
			size_t max, size_t *used)
{
	const char *p = buf, *end = buf + have;
	int rc = 0;
	while (p < end && rc == 0 && !s->sf->torn) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > max)
			return too_long(s, max);
		if (!nl && !eof)
			break;
		s->sf->lines++;
		rc = one_line(s, p, n, nl != NULL, pos + (uint64_t)(p - buf));
		p += n + (nl ? 1 : 0);
	}
	*used = (size_t)(p - buf);
	return rc;
}

/* read(2) into one buffer that stays in the cache (mmap costs more in page
 * faults than it saves in copies), widened only for a line longer than it,
 * and never past max + 2 bytes: a longer line is an error first. */
static int stream_fd(struct stream *s, int fd, size_t max)
{
	size_t cap = CHUNK, have = 0;
	char *buf = xmalloc(cap);
	uint64_t pos = 0;
	bool eof = false;
	int rc = 0;
	while (rc == 0 && !eof && !s->sf->torn) {
		if (have == cap) {
			cap = cap > max / 2 ? max + 2 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t got = read(fd, buf + have, cap - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = se_fail_errno(s->err, s->path, "cannot read results");
			break;
		}
		eof = got == 0;
		have += (size_t)got;
		size_t used = 0;
		rc = buffer_lines(s, buf, have, pos, eof, max, &used);
		memmove(buf, buf + used, have - used);
		have -= used;
		pos += used;
	}
	free(buf);
	return rc;
}

int res_scan_fields(const char *path, struct res_fields *sf, res_rec_fn fn, void *ctx,
		    struct se_err *err)
{
	sf->lines = sf->torn = sf->slow = 0;
	int fd = fio_open_regular(path, "results", err); /* a FIFO is refused, not waited on */
	if (fd < 0)
		return -1;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0)
		rc = se_fail_errno(err, path, "cannot stat results");
	else if (!S_ISREG(st.st_mode))
		rc = se_fail(err, SE_INPUT, path, "not a regular file");
	if (rc == 0) {
		struct stream s = {.path = path, .sf = sf, .fn = fn, .ctx = ctx, .err = err};
		buf_init(&s.scratch);
		res_keys_init(&s.keys);
		rc = stream_fd(&s, fd, sf->max_line ? sf->max_line : RES_MAX_LINE);
		buf_free(&s.scratch);
	}
	close(fd);
	return rc;
}
