/* results.h: results.jsonl, one line per (item, model), append-only.
 *
 * Writing: each line is built in a reused buffer and written with one
 * write(2) to an O_APPEND descriptor (fileio.h), so a crash leaves at most a
 * torn last line. Reading: res_scan streams the file line by line (getline,
 * one reused buffer), parses each line with cJSON and hands a struct res_row to
 * a callback; a torn last line (no trailing newline, or not JSON) is skipped
 * and counted, a bad line elsewhere is an error naming file:line.
 *
 * Field meanings (the public interface, see README "results.jsonl"):
 *   item_id, item_index, task, slot (the slot the policy chose for the item),
 *   model (the model string requested), served_model (what the response said),
 *   role (primary | shadow | fallback), status (ok | http_4xx | http_5xx |
 *   rate_limited | timeout | network | bad_response | stream_error | budget),
 *   http_status, attempts, latency_ms, ttft_ms, prompt_tokens,
 *   completion_tokens, cost_usd, cost_source (reported | pricing | unknown),
 *   cached, original_latency_ms and original_ttft_ms (cache hits only),
 *   est_tokens, output, finish_reason, checks, pass, score, error.
 * Numbers that are unknown are written as null (never 0).
 */
#ifndef SE_RESULTS_H
#define SE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "results/vocab.h"

/* One result. Strings may be NULL (written as null). Doubles use NAN and
 * longs -1 for "unknown". When reading, strings point into storage that lives
 * until the callback returns. */
struct res_row {
	const char *item_id;
	long item_index;
	const char *task;
	const char *slot;
	const char *model;
	const char *served_model;
	const char *role;
	const char *status;
	int http_status; /* 0 when no response */
	int attempts;
	double latency_ms;
	double ttft_ms;
	long prompt_tokens;
	long completion_tokens;
	double cost_usd;
	const char *cost_source;
	bool cached;
	double original_latency_ms;
	double original_ttft_ms;
	long est_tokens;
	const char *output;
	size_t output_len;
	const char *finish_reason;
	const char *checks_json; /* a JSON object as text, or NULL */
	bool pass;
	double score;
	const char *error;
	/* Reading only: the whole line as read, without its newline, and its
	 * 1-based physical line number in the file (blank lines counted). */
	const char *raw;
	size_t raw_len;
	size_t line;
};

void res_row_init(struct res_row *row); /* all unknown */

/* Appends row as one JSON line, ending in '\n'. */
void res_format(struct buf *b, const struct res_row *row);

struct res_writer {
	int fd;
	char *path;
	struct buf line;
};

int res_writer_open(struct res_writer *w, const char *path, struct se_err *err);
int res_writer_append(struct res_writer *w, const struct res_row *row, struct se_err *err);
void res_writer_close(struct res_writer *w);

struct res_scan_stats {
	size_t lines;
	size_t torn; /* torn last line skipped (0 or 1) */
};

typedef int (*res_row_fn)(void *ctx, const struct res_row *row);

/* Streams path; a callback returning non-zero stops the scan (res_scan then
 * returns that value). A missing file is an error unless missing_ok. */
int res_scan(const char *path, bool missing_ok, res_row_fn fn, void *ctx,
	     struct res_scan_stats *stats, struct se_err *err);

/* Parses one line (without its newline) the way res_scan does, for readers
 * that seek to a line they indexed before (diff/). row's strings point into
 * *doc, a cJSON tree the caller frees with cJSON_Delete (also after a
 * failure); `where` (file:line) names the line in errors. */
struct cJSON;
int res_parse_line(const char *line, size_t len, struct res_row *row, struct cJSON **doc,
		   const char *where, struct se_err *err);

/* For --resume: cuts a torn last line off the file. *dropped is set to 1 when
 * it did. */
int res_drop_torn_tail(const char *path, int *dropped, struct se_err *err);

#endif
