/* results.h: results.jsonl, one line per (item, model), append-only.
 *
 * Writing: each line is built in a reused buffer and written with one
 * write(2) to an O_APPEND descriptor (fileio.h), so a crash leaves at most a
 * torn last line. Reading: res_scan streams the file line by line (fread
 * chunks, one reused line buffer bounded by RES_MAX_LINE), parses each line
 * with cJSON, checks every field and hands a compact struct res_rec to a
 * callback; it is the only reader of results.jsonl (summarize, sweep, check,
 * merge, report and `run --resume` all use it; diff uses its fast pass,
 * res_scan_fields, which keeps its rules and messages). A torn last line (no trailing
 * newline, and not JSON) is skipped and counted; any other bad line is an
 * error naming file:line and the field.
 *
 * Field meanings (the public interface, see README "results.jsonl"):
 *   item_id, item_index, task, slot (the slot the policy chose for the item),
 *   model (the model string requested), sample (run --repeats K: the sample
 *   index 0..K-1, absent when K = 1), served_model (what the response said),
 *   role (primary | shadow | fallback), status (ok | http_4xx | http_5xx |
 *   rate_limited | timeout | network | bad_response | stream_error | budget),
 *   http_status, attempts, latency_ms, ttft_ms, prompt_tokens,
 *   completion_tokens, cost_usd, cost_source (reported | pricing | unknown),
 *   cached, original_latency_ms and original_ttft_ms (cache hits only),
 *   est_tokens, output, finish_reason, checks, pass, score, judge_cost_usd
 *   and judge_latency_ms (lines that made judge requests), pairwise (shadow
 *   lines compared with their reference), error.
 * Numbers that are unknown are written as null (never 0).
 */
#ifndef SE_RESULTS_H
#define SE_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "results/vocab.h"

/* A shadow line's pairwise comparison, to write; the outcome follows from
 * ab and ba (res_pw_outcome_of). */
struct res_pairwise {
	const char *check; /* the pairwise check's name */
	const char *judge_model;
	const char *reference_model;
	enum res_pw_pick ab, ba;
	const char *detail; /* both replies, cut */
};

struct cJSON;

/* One result, to write. Strings may be NULL (written as null). Doubles use
 * NAN and longs -1 for "unknown". */
struct res_row {
	const char *item_id;
	long item_index;
	const char *task;
	const char *slot;
	const char *model;
	long sample; /* run --repeats: the sample index; -1 (K = 1) writes no field */
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
	/* Judge requests made for the line: judged writes judge_cost_usd and
	 * judge_latency_ms (sums; NAN: unknown, written null). Never part of
	 * cost_usd / latency_ms. */
	bool judged;
	double judge_cost_usd;
	double judge_latency_ms;
	const struct res_pairwise *pairwise; /* NULL: not compared, no field */
	const char *error;
};

void res_row_init(struct res_row *row); /* all unknown */

/* Appends row as one JSON line, ending in '\n'. */
void res_format(struct buf *b, const struct res_row *row);

/* results.jsonl's appender. append writes each line at once (one write),
 * unless `batched` is set: then append only formats the line into the
 * buffer, written (whole lines, one write) once it holds
 * RES_WRITER_BATCH_BYTES or on flush, and a line is in the file only after
 * that write. The engine batches, flushing after each batch its scoring
 * thread finishes (engine/worker.h); close writes nothing. */
#define RES_WRITER_BATCH_BYTES (64u << 10)
struct res_writer {
	int fd;
	char *path;
	struct buf line; /* lines not yet written */
	bool batched;
};

int res_writer_open(struct res_writer *w, const char *path, struct se_err *err);
int res_writer_append(struct res_writer *w, const struct res_row *row, struct se_err *err);
/* Writes the buffered lines; on a failure they are dropped (err says why). */
int res_writer_flush(struct res_writer *w, struct se_err *err);
void res_writer_close(struct res_writer *w);

/* The ranges of results.jsonl's numbers, one definition for the writer
 * (res_format writes a value outside its field's range as null: unknown)
 * and the reader (which refuses one): wide enough for any value `run`
 * measures, narrow enough that sums and float conversions downstream stay
 * finite. The response cache refuses a latency outside RES_MAX_MS as damage
 * (engine/cache.h), before it can reach a results line. */
#define RES_MAX_MS 1e10		    /* about 115 days */
#define RES_MAX_TOKENS 4294967294.0 /* the summaries keep token counts in 32 bits */
#define RES_MAX_USD 1e6		    /* per request */

/* The longest line a reader takes: more than any line `run` writes (a reply
 * is capped at 64 MiB, and re-escaping at most triples it), so a longer one
 * is damage, reported as file:line before its memory is taken. */
#define RES_MAX_LINE (256u << 20)

/* One results line as read: the compact record. Names of the closed
 * vocabularies are enums; every number has been checked (type, finite,
 * range) and unknown ones are NAN or -1 as in struct res_row. Strings point
 * into storage that lives until the callback returns; NULL when the field is
 * null or absent (item_id and model never are, nor are they empty). */
struct res_rec {
	const char *item_id;
	size_t item_id_len;
	const char *model;
	size_t model_len;
	const char *task;
	const char *slot;
	const char *served_model;
	const char *finish_reason;
	const char *error;
	const char *output;
	size_t output_len;
	enum res_role role;
	enum res_status status;
	enum res_cost_source cost_source; /* absent: unknown */
	long item_index;
	long sample;	 /* run --repeats: 0.. ; absent (every K = 1 line) reads as 0 */
	int http_status; /* 0: null */
	int attempts;
	double latency_ms;
	double ttft_ms;
	double original_latency_ms;
	double original_ttft_ms;
	long prompt_tokens;
	long completion_tokens;
	long est_tokens;
	double cost_usd;
	double score;
	bool cached;
	bool pass;
	/* Judging: sums over the line's judge requests (NAN when absent or
	 * null); the pairwise comparison (RES_PW_NONE, picks RES_PICK_NONE and
	 * pw_judge_model NULL when absent); the checks object (NULL when null),
	 * valid until the callback returns. */
	double judge_cost_usd;
	double judge_latency_ms;
	enum res_pw_outcome pairwise;
	enum res_pw_pick pw_ab, pw_ba;
	const char *pw_judge_model;
	const struct cJSON *checks;
	/* The whole line as read, without its newline, and its 1-based physical
	 * line number in the file (blank lines counted). */
	const char *raw;
	size_t raw_len;
	size_t line;
	unsigned long long off; /* res_scan_fields: the line's byte offset in the file */
};

void res_rec_init(struct res_rec *rec); /* all unknown, strings NULL */

struct res_scan_stats {
	size_t lines;
	size_t torn; /* torn last line skipped (0 or 1) */
};

typedef int (*res_rec_fn)(void *ctx, const struct res_rec *rec);

/* Streams path, one struct res_rec per line to fn; a callback returning
 * non-zero stops the scan (res_scan then returns that value). A missing file
 * is an error unless missing_ok.
 *
 * Strict (README "results.jsonl"): a line that is not a JSON object, a field
 * of the wrong type, a number that is not finite or out of its range, an
 * unknown status, role or cost_source, or a line longer than RES_MAX_LINE is
 * SE_INPUT with where "path:line" and a message naming the field. Blank lines
 * are skipped. The one exception is a torn last line: no newline and not
 * JSON (a crash mid-append) is skipped and counted in stats->torn. */
int res_scan(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
	     struct res_scan_stats *stats, struct se_err *err);
/* Repeated samples (run --repeats K): res_scan and res_scan_max hand over
 * only sample 0 of each (item, model), so every reader that knows one answer
 * per pair (the summaries' tables, sweep, check, report) sees a K = 1 run;
 * res_scan_samples hands over every line (resume, merge, the samples
 * table). */
int res_scan_samples(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
		     struct res_scan_stats *stats, struct se_err *err);
/* The same with another line limit (tests use a small one). */
int res_scan_max(const char *path, bool missing_ok, res_rec_fn fn, void *ctx,
		 struct res_scan_stats *stats, size_t max_line, struct se_err *err);

/* A blank line of results.jsonl (nothing but spaces, tabs and a CR),
 * skipped by every reader. */
bool res_line_blank(const char *line, size_t len);
/* The one message for a second line of an (item, model) pair, used by every
 * reader that meets one: where is here_path:here_line, the message names the
 * item, the model, both roles and the other line's file:line. */
int res_fail_duplicate(struct se_err *err, const char *item_id, const char *model,
		       enum res_role here_role, const char *here_path, size_t here_line,
		       enum res_role there_role, const char *there_path, size_t there_line);

/* The first line of path holding (item_id, model): *line (0 when none) and
 * *role. For messages about a second line: readers that do not keep line
 * numbers look the first one up again, on the error path only. */
int res_find_pair(const char *path, const char *item_id, const char *model, size_t *line,
		  enum res_role *role, struct se_err *err);

/* Parses and checks one line (without its newline) the way res_scan does,
 * for readers that seek to a line they indexed before (diff/). rec's strings
 * point into *doc, a cJSON tree the caller frees with cJSON_Delete (also
 * after a failure); `where` (file:line) names the line in errors; rec->line
 * is left 0. */
struct cJSON;
int res_parse_line(const char *line, size_t len, struct res_rec *rec, struct cJSON **doc,
		   const char *where, struct se_err *err);

/* ---- the fast pass (res_fast.c, res_stream.c) ----
 *
 * res_scan_fields streams the file through one reused buffer (memory
 * follows the longest line, not the file) and reads each line with a fast path that
 * checks every field by the rules above without building a parse tree; a
 * line the fast path cannot decide (an escaped string it should hand over,
 * a surrogate escape, an exponent, a bad value of any kind) goes through
 * the full parse, which also words every error, so the rules and messages
 * are res_scan's exactly. rec is as res_scan's except: strings are item_id,
 * model and the wanted ones (RES_WANT_*), the others are NULL; checks is
 * NULL (no parse tree); raw is not NUL-terminated; off is set. A line with
 * a pairwise comparison always takes the full parse. */
#define RES_WANT_TASK 1u
#define RES_WANT_SLOT 2u
#define RES_WANT_SERVED_MODEL 4u
#define RES_WANT_FINISH_REASON 8u
#define RES_WANT_ERROR 16u
#define RES_WANT_OUTPUT 32u

struct res_fields {
	unsigned want;	  /* RES_WANT_* */
	bool all_samples; /* every sample, as res_scan_samples; else sample 0 */
	size_t max_line;  /* 0: RES_MAX_LINE */
	/* after the scan */
	size_t lines, torn;
	size_t slow; /* lines read by the full parse */
};

int res_scan_fields(const char *path, struct res_fields *sf, res_rec_fn fn, void *ctx,
		    struct se_err *err);

/* For --resume: cuts a torn last line (not a whole results line: a crash
 * mid-append) off the file, *dropped set to 1; a whole line that only lacks
 * its newline gets one instead, as every reader counts it. */
int res_drop_torn_tail(const char *path, int *dropped, struct se_err *err);

#endif
