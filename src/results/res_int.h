/* res_int.h: inside src/results/ only: the field table of a results line,
 * shared by the full parse (results.c) and the fast path (res_fast.c), so
 * both check the same fields with the same kinds and ranges. */
#ifndef SE_RES_INT_H
#define SE_RES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "results/results.h"

/* How a field is checked. Absent and null mean "unknown" (the default)
 * except for F_REQ fields. */
enum fkind { F_STR, F_REQ, F_INT, F_NUM, F_BOOL, F_OBJ, F_ROLE, F_STATUS, F_COST, F_PAIRWISE };

struct res_field {
	const char *key;
	enum fkind kind;
	double lo, hi; /* F_INT, F_NUM: the range, inclusive */
	size_t off;    /* into struct res_rec */
};

/* The fields, in the writer's order (res_format), so a line of ours
 * matches at the cursor and costs one comparison per field; the table is
 * indexed by these, and the writer takes each number's range from it. */
enum res_fid {
	RF_ITEM_ID,
	RF_ITEM_INDEX,
	RF_TASK,
	RF_SLOT,
	RF_MODEL,
	RF_SAMPLE,
	RF_SERVED_MODEL,
	RF_ROLE,
	RF_STATUS,
	RF_HTTP_STATUS,
	RF_ATTEMPTS,
	RF_LATENCY_MS,
	RF_TTFT_MS,
	RF_PROMPT_TOKENS,
	RF_COMPLETION_TOKENS,
	RF_COST_USD,
	RF_COST_SOURCE,
	RF_CACHED,
	RF_ORIGINAL_LATENCY_MS,
	RF_ORIGINAL_TTFT_MS,
	RF_EST_TOKENS,
	RF_FINISH_REASON,
	RF_PASS,
	RF_SCORE,
	RF_CHECKS,
	RF_JUDGE_COST_USD,
	RF_JUDGE_LATENCY_MS,
	RF_PAIRWISE,
	RF_ERROR,
	RF_OUTPUT,
	RF_COUNT
};
extern const struct res_field res_field_table[];
extern const size_t res_nfields; /* at most 32: one bit each in a uint32_t */

/* Stores a checked number of an F_INT or F_NUM field into r. */
/* v fits field f as the reader takes it: finite, within [lo, hi], and a
 * whole number for F_INT. */
bool res_field_fits(const struct res_field *f, double v);

void res_field_store(const struct res_field *f, struct res_rec *r, double d);

/* The keys as a line of ours writes them ("item_id":), matched at the
 * cursor in one comparison. */
struct res_keys {
	char pat[32][32];
	unsigned char len[32]; /* 0: not matched this way */
	uint32_t required;     /* the fields a line must have, one bit each */
};
void res_keys_init(struct res_keys *k);

/* The fast path for one line (without its newline): 0 when it read the
 * whole line and filled rec exactly as the full parse would (every field
 * checked; strings: item_id, model and the wanted ones, copied with a NUL
 * into scratch, which must have room for len + res_nfields bytes); 1 when
 * the line needs the full parse (anything unusual, and every bad line, so
 * that the full parse words each error). */
int res_fast_line(const struct res_keys *keys, const char *line, size_t len, unsigned want,
		  struct res_rec *rec, char *scratch);

#endif
