/* fz_results.c: fuzzes the public results.jsonl reader (res_scan): every
 * row it hands out is read field by field and formatted back (res_format),
 * as summarize, merge and --resume do. A torn tail is then cut off
 * (res_drop_torn_tail) and the file read again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "results/results.h"
#include "fz_util.h"

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

static int on_row(void *ctx, const struct res_row *row)
{
	struct buf *b = ctx;
	size_t n = slen(row->item_id) + slen(row->task) + slen(row->slot) + slen(row->model) +
		   slen(row->served_model) + slen(row->role) + slen(row->status) +
		   slen(row->cost_source) + slen(row->finish_reason) + slen(row->checks_json) +
		   slen(row->error);
	if (row->output && row->output_len)
		n += (size_t)memchr(row->output, 0, row->output_len) ? 1u : 0u;
	(void)n;
	if (row->raw_len && !row->raw)
		abort();
	struct res_row copy = *row;
	copy.checks_json = NULL; /* pasted as is by res_format: keep the line valid */
	buf_reset(b);
	res_format(b, &copy);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("results.jsonl", data, size);
	struct buf b;
	struct se_err err;
	struct res_scan_stats st;
	buf_init(&b);
	se_clear(&err);
	if (res_scan(path, false, on_row, &b, &st, &err) < 0 && (!err.where[0] || !err.msg[0]))
		abort();
	int dropped = 0;
	se_clear(&err);
	if (res_drop_torn_tail(path, &dropped, &err) == 0)
		(void)res_scan(path, false, on_row, &b, &st, &err);
	buf_free(&b);
	return 0;
}
