/* results.c: writing and streaming results.jsonl; see results.h.
 *
 * Field order is fixed (identity first, the long `output` last) so that lines
 * are easy to read with head/less and byte-identical for identical results.
 */
#include "results/results.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/jsonr.h"
#include "core/jsonw.h"
#include "core/xalloc.h"

void res_row_init(struct res_row *row)
{
	memset(row, 0, sizeof(*row));
	row->item_index = -1;
	row->latency_ms = NAN;
	row->ttft_ms = NAN;
	row->prompt_tokens = -1;
	row->completion_tokens = -1;
	row->cost_usd = NAN;
	row->original_latency_ms = NAN;
	row->original_ttft_ms = NAN;
	row->est_tokens = -1;
	row->score = NAN;
}

static void put_long_or_null(struct buf *b, long v)
{
	if (v < 0)
		buf_puts(b, "null");
	else
		jsonw_long(b, v);
}

void res_format(struct buf *b, const struct res_row *r)
{
	buf_putc(b, '{');
	jsonw_key(b, "item_id");
	jsonw_str(b, r->item_id);
	buf_putc(b, ',');
	jsonw_key(b, "item_index");
	put_long_or_null(b, r->item_index);
	buf_putc(b, ',');
	jsonw_key(b, "task");
	jsonw_str(b, r->task);
	buf_putc(b, ',');
	jsonw_key(b, "slot");
	jsonw_str(b, r->slot);
	buf_putc(b, ',');
	jsonw_key(b, "model");
	jsonw_str(b, r->model);
	buf_putc(b, ',');
	jsonw_key(b, "served_model");
	jsonw_str(b, r->served_model);
	buf_putc(b, ',');
	jsonw_key(b, "role");
	jsonw_str(b, r->role);
	buf_putc(b, ',');
	jsonw_key(b, "status");
	jsonw_str(b, r->status);
	buf_putc(b, ',');
	jsonw_key(b, "http_status");
	if (r->http_status > 0)
		jsonw_long(b, r->http_status);
	else
		buf_puts(b, "null");
	buf_putc(b, ',');
	jsonw_key(b, "attempts");
	jsonw_long(b, r->attempts);
	buf_putc(b, ',');
	jsonw_key(b, "latency_ms");
	jsonw_double(b, r->latency_ms);
	buf_putc(b, ',');
	jsonw_key(b, "ttft_ms");
	jsonw_double(b, r->ttft_ms);
	buf_putc(b, ',');
	jsonw_key(b, "prompt_tokens");
	put_long_or_null(b, r->prompt_tokens);
	buf_putc(b, ',');
	jsonw_key(b, "completion_tokens");
	put_long_or_null(b, r->completion_tokens);
	buf_putc(b, ',');
	jsonw_key(b, "cost_usd");
	jsonw_double(b, r->cost_usd);
	buf_putc(b, ',');
	jsonw_key(b, "cost_source");
	jsonw_str(b, r->cost_source ? r->cost_source : "unknown");
	buf_putc(b, ',');
	jsonw_key(b, "cached");
	jsonw_bool(b, r->cached);
	if (r->cached) {
		buf_putc(b, ',');
		jsonw_key(b, "original_latency_ms");
		jsonw_double(b, r->original_latency_ms);
		buf_putc(b, ',');
		jsonw_key(b, "original_ttft_ms");
		jsonw_double(b, r->original_ttft_ms);
	}
	buf_putc(b, ',');
	jsonw_key(b, "est_tokens");
	put_long_or_null(b, r->est_tokens);
	buf_putc(b, ',');
	jsonw_key(b, "finish_reason");
	jsonw_str(b, r->finish_reason);
	buf_putc(b, ',');
	jsonw_key(b, "pass");
	jsonw_bool(b, r->pass);
	buf_putc(b, ',');
	jsonw_key(b, "score");
	jsonw_double(b, r->score);
	buf_putc(b, ',');
	jsonw_key(b, "checks");
	buf_puts(b, r->checks_json ? r->checks_json : "null");
	buf_putc(b, ',');
	jsonw_key(b, "error");
	jsonw_str(b, r->error);
	buf_putc(b, ',');
	jsonw_key(b, "output");
	if (r->output)
		jsonw_strn(b, r->output, r->output_len ? r->output_len : strlen(r->output));
	else
		buf_puts(b, "null");
	buf_puts(b, "}\n");
}

int res_writer_open(struct res_writer *w, const char *path, struct se_err *err)
{
	w->fd = fio_open_append(path, err);
	if (w->fd < 0)
		return -1;
	w->path = xstrdup(path);
	buf_init(&w->line);
	return 0;
}

int res_writer_append(struct res_writer *w, const struct res_row *row, struct se_err *err)
{
	buf_reset(&w->line);
	res_format(&w->line, row);
	return fio_write_full(w->fd, w->line.data, w->line.len, w->path, err);
}

void res_writer_close(struct res_writer *w)
{
	if (!w->path)
		return;
	close(w->fd);
	free(w->path);
	w->path = NULL;
	buf_free(&w->line);
}

/* Fills row from a parsed line; -1 with a message when a required field is
 * missing or of the wrong type. */
static int row_from_json(const cJSON *o, struct res_row *row, char *why, size_t why_size)
{
	res_row_init(row);
	if (!cJSON_IsObject(o)) {
		snprintf(why, why_size, "expected a JSON object");
		return -1;
	}
	static const char *const required[] = {"item_id", "model", "role", "status"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!jsonr_str(o, required[i])) {
			snprintf(why, why_size, "%s: expected a string", required[i]);
			return -1;
		}
	}
	row->item_id = jsonr_str(o, "item_id");
	row->item_index = (long)jsonr_num(o, "item_index", -1);
	row->task = jsonr_str(o, "task");
	row->slot = jsonr_str(o, "slot");
	row->model = jsonr_str(o, "model");
	row->served_model = jsonr_str(o, "served_model");
	row->role = jsonr_str(o, "role");
	row->status = jsonr_str(o, "status");
	row->http_status = (int)jsonr_num(o, "http_status", 0);
	row->attempts = (int)jsonr_num(o, "attempts", 0);
	row->latency_ms = jsonr_num(o, "latency_ms", NAN);
	row->ttft_ms = jsonr_num(o, "ttft_ms", NAN);
	row->prompt_tokens = (long)jsonr_num(o, "prompt_tokens", -1);
	row->completion_tokens = (long)jsonr_num(o, "completion_tokens", -1);
	row->cost_usd = jsonr_num(o, "cost_usd", NAN);
	row->cost_source = jsonr_str(o, "cost_source");
	row->cached = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "cached"));
	row->original_latency_ms = jsonr_num(o, "original_latency_ms", NAN);
	row->original_ttft_ms = jsonr_num(o, "original_ttft_ms", NAN);
	row->est_tokens = (long)jsonr_num(o, "est_tokens", -1);
	row->finish_reason = jsonr_str(o, "finish_reason");
	row->pass = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "pass"));
	row->score = jsonr_num(o, "score", NAN);
	row->error = jsonr_str(o, "error");
	row->output = jsonr_str(o, "output");
	row->output_len = row->output ? strlen(row->output) : 0;
	return 0;
}

int res_parse_line(const char *line, size_t len, struct res_row *row, cJSON **doc,
		   const char *where, struct se_err *err)
{
	char why[200];
	*doc = cJSON_ParseWithLength(line, len);
	if (!*doc) {
		res_row_init(row);
		return se_fail(err, SE_INPUT, where, "invalid JSON in results line");
	}
	if (row_from_json(*doc, row, why, sizeof(why)))
		return se_fail(err, SE_INPUT, where, "%s", why);
	row->raw = line;
	row->raw_len = len;
	return 0;
}

int res_scan(const char *path, bool missing_ok, res_row_fn fn, void *ctx,
	     struct res_scan_stats *stats, struct se_err *err)
{
	struct res_scan_stats local = {0, 0};
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		if (missing_ok && errno == ENOENT) {
			if (stats)
				*stats = local;
			return 0;
		}
		return se_fail_errno(err, path, "cannot open results");
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	char where[600];
	while ((n = getline(&line, &cap, fp)) > 0) {
		local.lines++;
		bool complete = line[n - 1] == '\n';
		size_t len = (size_t)n - (complete ? 1 : 0);
		if (len && line[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		cJSON *o = cJSON_ParseWithLength(line, len);
		struct res_row row;
		char why[200];
		int bad = !o || row_from_json(o, &row, why, sizeof(why));
		if (bad && !complete) {
			/* A crash mid-append: the last line has no newline. */
			local.torn = 1;
			cJSON_Delete(o);
			break;
		}
		if (bad) {
			snprintf(where, sizeof(where), "%s:%zu", path, local.lines);
			rc = se_fail(err, SE_INPUT, where, "%s",
				     o ? why : "invalid JSON in results line");
			cJSON_Delete(o);
			break;
		}
		if (!complete)
			local.torn = 0; /* whole JSON, only the newline is missing: keep it */
		row.raw = line;
		row.raw_len = len;
		row.line = local.lines;
		rc = fn(ctx, &row);
		cJSON_Delete(o);
		if (rc)
			break;
	}
	if (rc == 0 && ferror(fp))
		rc = se_fail_errno(err, path, "read failed");
	free(line);
	fclose(fp);
	if (stats)
		*stats = local;
	return rc;
}

int res_drop_torn_tail(const char *path, int *dropped, struct se_err *err)
{
	*dropped = 0;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return se_fail_errno(err, path, "cannot open results");
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return se_fail_errno(err, path, "cannot stat results");
	}
	off_t size = st.st_size;
	if (size == 0) {
		close(fd);
		return 0;
	}
	/* Walk back from the end to the last newline; everything after it is torn. */
	char chunk[4096];
	off_t end = size, keep = 0;
	bool found = false;
	while (end > 0 && !found) {
		off_t start = end > (off_t)sizeof(chunk) ? end - (off_t)sizeof(chunk) : 0;
		ssize_t got = pread(fd, chunk, (size_t)(end - start), start);
		if (got != end - start) {
			close(fd);
			return se_fail_errno(err, path, "cannot read results");
		}
		for (off_t i = got - 1; i >= 0; i--) {
			if (chunk[i] == '\n') {
				keep = start + i + 1;
				found = true;
				break;
			}
		}
		end = start;
	}
	if (keep < size) {
		if (ftruncate(fd, keep) != 0) {
			close(fd);
			return se_fail_errno(err, path, "cannot truncate torn line");
		}
		*dropped = 1;
	}
	close(fd);
	return 0;
}
