/* fz_results.c: fuzzes the public results.jsonl reader (res_scan): every
 * row it hands out is read field by field and formatted back (res_format),
 * as summarize, merge and --resume do. The fast pass (res_scan_fields, as
 * diff reads) must end the same way: the same rows, or the same error. A
 * torn tail is then cut off (res_drop_torn_tail) and the file read again. */
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

static int on_rec(void *ctx, const struct res_rec *rec)
{
	struct buf *b = ctx;
	size_t n = slen(rec->task) + slen(rec->slot) + slen(rec->served_model) +
		   slen(rec->finish_reason) + slen(rec->error);
	(void)n;
	if (!rec->item_id || !rec->model || (rec->raw_len && !rec->raw))
		abort(); /* item_id and model are never NULL; raw is the line */
	if (rec->output_len && !rec->output)
		abort();
	/* formatted back as a row, as merge and --resume copy lines */
	struct res_row row;
	res_row_init(&row);
	row.item_id = rec->item_id;
	row.model = rec->model;
	row.task = rec->task;
	row.slot = rec->slot;
	row.served_model = rec->served_model;
	row.output = rec->output;
	row.output_len = rec->output_len;
	row.error = rec->error;
	row.latency_ms = rec->latency_ms;
	row.cost_usd = rec->cost_usd;
	buf_reset(b);
	res_format(b, &row);
	return 0;
}

static int count(void *ctx, const struct res_rec *rec)
{
	(void)rec;
	(*(size_t *)ctx)++;
	return 0;
}

/* The fast pass agrees with res_scan on path: rows, or error and place. */
static void same_as_fast(const char *path)
{
	size_t full = 0, fast = 0;
	struct se_err a, b;
	se_clear(&a);
	se_clear(&b);
	struct res_scan_stats st;
	struct res_fields sf = {.want = 63u};
	int ra = res_scan(path, false, count, &full, &st, &a);
	int rb = res_scan_fields(path, &sf, count, &fast, &b);
	if (ra != rb || (ra == 0 && full != fast) ||
	    (ra && (strcmp(a.where, b.where) || strcmp(a.msg, b.msg))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("results.jsonl", data, size);
	struct buf b;
	struct se_err err;
	struct res_scan_stats st;
	buf_init(&b);
	se_clear(&err);
	if (res_scan(path, false, on_rec, &b, &st, &err) < 0 && (!err.where[0] || !err.msg[0]))
		abort();
	same_as_fast(path);
	int dropped = 0;
	se_clear(&err);
	if (res_drop_torn_tail(path, &dropped, &err) == 0)
		(void)res_scan(path, false, on_rec, &b, &st, &err);
	buf_free(&b);
	return 0;
}
