/* summarize.h: every CSV of a run folder, rebuilt from results.jsonl alone.
 *
 * Streams DIR/results.jsonl once (res_scan) and writes models.csv, tasks.csv,
 * slots.csv, pairs.csv and swaps.csv (libcsv quoting, temp file + rename), and
 * optionally a readable table of models and pairs. `run` calls the same code
 * at its end, so a crashed, resumed or merged run summarizes identically.
 * Memory follows the number of (model, task, slot) groups and the values exact
 * percentiles need, plus a compact per-item record for pairing.
 */
#ifndef SE_SUMMARIZE_H
#define SE_SUMMARIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "stats/stats.h"
#include "core/strtab.h"
#include "results/vocab.h"

/* What a column of the summary CSVs holds (sum_kinds.c, the one list the
 * writers and the readers share): report checks every cell against it. */
enum sum_col_kind {
	SUM_COL_UNKNOWN = 0, /* a name no writer writes */
	SUM_COL_TEXT,	     /* names, verdicts, scopes */
	SUM_COL_COUNT,	     /* whole, 0 to 2^53 */
	SUM_COL_RATE,	     /* rates, shares, p-values: 0 to 1 */
	SUM_COL_DELTA_RATE,  /* a difference of rates, kappa: -1 to 1 */
	SUM_COL_USD,	     /* money, 0 to 2^53 */
	SUM_COL_MS,	     /* milliseconds, 0 to 2^53 */
	SUM_COL_DELTA,	     /* a signed USD or ms difference, within 2^53 */
	SUM_COL_FLAG,	     /* 0 or 1 */
};
enum sum_col_kind sum_col_kind(const char *column);
/* v (a number read from a cell) is one a column of this kind can hold. */
bool sum_col_ok(enum sum_col_kind kind, double v);
/* The kind in words, for messages ("a rate from 0 to 1"). */
const char *sum_col_want(enum sum_col_kind kind);

/* Writes the CSVs into dir; prints the models and pairs tables to `table`
 * when it is not NULL. Verdicts are adjusted per family with Holm. */
int sum_run_dir(const char *dir, FILE *table, struct se_err *err);
/* The same with the family correction chosen (--correction). */
int sum_run_dir_corr(const char *dir, FILE *table, enum stats_correction c, struct se_err *err);

/* ---- for rooms that show the summaries' figures (the gate) ----
 *
 * The regression gate reads both runs through this same store, so an item's
 * policy result, the input errors and the figures are exactly those of the
 * CSVs. The store: results.jsonl (through res_scan) -> one compact cell per
 * line, interned names, and a canonical order (items by id, models, tasks
 * and slots by name), so every figure is computed in the same order whatever
 * the line order of the file. Memory: a cell is 40 bytes per result line
 * (1,000,000 lines: 40 MB), plus one id per item.
 */

#define SUM_F_PASS 1u	  /* status ok and the checks passed */
#define SUM_F_CACHED 2u	  /* a cache hit: its latency is not this run's */
#define SUM_F_REPORTED 4u /* cost_source "reported" (and the cost is known) */

#define SUM_NONE16 UINT16_MAX
#define SUM_NO_TOKENS UINT32_MAX

/* One result line, without its text. Latencies as float (ms; exact to well
 * under 0.01 ms below 65 s), cost as double so sums match to %.8g. */
struct sum_cell {
	double cost_usd;	    /* NAN: unknown */
	uint32_t item;		    /* index into the item table */
	float latency_ms;	    /* NAN: unknown */
	float ttft_ms;		    /* NAN: unknown */
	uint32_t prompt_tokens;	    /* SUM_NO_TOKENS: unknown */
	uint32_t completion_tokens; /* SUM_NO_TOKENS: unknown */
	uint32_t line;		    /* physical line in results.jsonl, for messages */
	uint16_t model;		    /* rank in sorted model names after sum_store_finish */
	uint8_t role;		    /* enum res_role */
	uint8_t status;		    /* enum res_status */
	uint8_t flags;		    /* SUM_F_* */
	uint8_t pw;		    /* shadow lines: the pairwise outcome (SUM_PW_*) */
};

/* sum_cell.pw: enum res_pw_outcome in the low bits, and whether the two
 * orders named the same winner (position consistency). */
#define SUM_PW_OUTCOME 7u
#define SUM_PW_CONSISTENT 8u

/* Interned strings: index <-> name, open addressing. */
struct sum_store {
	struct strtab items, models, tasks, slots;
	uint16_t *item_task, *item_slot; /* per item index */
	size_t item_cap;
	struct sum_cell *cells;
	size_t ncells, cells_cap;
	size_t lines, torn;
	/* After sum_store_finish: */
	char **model_name, **task_name, **slot_name; /* sorted; point into the tables */
	size_t nmodels, ntasks, nslots, nitems;
	uint32_t *order;	   /* rank -> item index, items sorted by id */
	uint32_t *first;	   /* rank -> first position in idx; nitems + 1 entries */
	uint32_t *idx;		   /* cell indices, grouped by item rank, by (model, role) */
	struct sum_judges *judges; /* set before loading: fed every line (judge rows) */
};

void sum_store_init(struct sum_store *s);
void sum_store_free(struct sum_store *s);
/* Streams path into s; errors name the file. */
int sum_store_load(struct sum_store *s, const char *path, struct se_err *err);
/* Sorts names, orders items, and checks one line per (item, model) and one
 * primary per item (errors name both lines). */
int sum_store_finish(struct sum_store *s, const char *path, struct se_err *err);

/* One item's results, by role and model. */
struct sum_view {
	uint32_t item;
	uint16_t task, slot;
	const struct sum_cell *primary;	    /* role primary, or NULL */
	const struct sum_cell *policy;	    /* what production served, or NULL */
	bool fallback_served;		    /* policy is a fallback row */
	const struct sum_cell **answer;	    /* [nmodels]: primary, else shadow, else fallback */
	const struct sum_cell **shadow;	    /* [nmodels]: role shadow */
	const struct sum_cell *fallback_ok; /* the first ok fallback, or NULL */
};

void sum_view_init(struct sum_view *v, const struct sum_store *s);
/* The same for nmodels models, without a store (sum_live.c). */
void sum_view_init_n(struct sum_view *v, size_t nmodels);
void sum_view_free(struct sum_view *v);
void sum_view_load(struct sum_view *v, const struct sum_store *s, size_t rank);
/* A view built cell by cell: begin, each cell of the item in (model, role)
 * order, end (decides the policy result). */
void sum_view_begin(struct sum_view *v, size_t nmodels, uint16_t task, uint16_t slot);
void sum_view_cell(struct sum_view *v, const struct sum_cell *c);
void sum_view_end(struct sum_view *v);
/* A results line as a cell (item, model and line left to the caller). */
struct res_rec;
void sum_cell_from_rec(struct sum_cell *c, const struct res_rec *r);

struct sum_hist;

/* A group's latencies: every value (exact percentiles), or, when bounded
 * is set before the first push, a histogram (sum_hist.h: within 0.5%, and
 * memory that does not grow with the count). */
struct sum_fvec {
	float *v;
	size_t n, cap;
	bool sorted; /* cleared by every push */
	bool bounded;
	struct sum_hist *hist; /* bounded: allocated at the first push */
};
/* Sorts the values once (until the next push). */
void sum_fvec_sort(struct sum_fvec *f);
void sum_fvec_push(struct sum_fvec *f, float x);
void sum_fvec_free(struct sum_fvec *f);
/* Type-7 percentile of the values (sorts them in place); NAN when empty. */
double sum_fvec_pct(struct sum_fvec *f, int pct);
/* The percentile of the union of two bounded sets of values. */
double sum_fvec_union_pct(const struct sum_fvec *a, const struct sum_fvec *b, int pct);

/* The figures of a group of results (models.csv columns after the key). */
struct sum_acc {
	long n, passed, errors, err[RES_N_STATUS], cached;
	long long prompt_tokens, completion_tokens;
	long prompt_known, completion_known;
	double cost;
	long cost_reported, cost_pricing, cost_unknown;
	struct sum_fvec lat, ttft;
};
void sum_acc_add(struct sum_acc *a, const struct sum_cell *c);
void sum_acc_free(struct sum_acc *a);

/* A line of cells, as text. */
struct sum_line {
	struct buf text;
	size_t off[64];
	size_t n;
};
void sum_line_init(struct sum_line *l);
void sum_line_free(struct sum_line *l);
void sum_line_reset(struct sum_line *l);
const char *sum_line_cell(const struct sum_line *l, size_t i);
void sum_line_str(struct sum_line *l, const char *s);
void sum_line_printf(struct sum_line *l, const char *fmt, ...) SE_PRINTF(2, 3);
void sum_line_long(struct sum_line *l, long long v);
void sum_line_rate(struct sum_line *l, double v); /* %.6g; NAN: empty */
void sum_line_ms(struct sum_line *l, double v);	  /* %.2f; NAN: empty */
void sum_line_usd(struct sum_line *l, double v);  /* %.8g; NAN: empty */
/* Cost per 1,000 items from a sum of known costs; NAN when none was known. */
double sum_cost_per_1k(double total, long n, long unknown);

/* ---- the summaries a run accumulates as it runs (sum_live.c) ----
 *
 * `run` feeds every line it writes (and on --resume every earlier line)
 * to a sum_live, and says when an item has no more lines to come; its end
 * writes the same five CSVs and tables as sum_run_dir without re-reading
 * results.jsonl, from bounded accumulators: counts, rates, verdicts and
 * costs as summarize computes them, latency percentiles from histograms
 * within 0.5% of summarize's exact ones (sum_hist.h). Memory follows the
 * items not yet done, not the run's length. Models and slots are the eval
 * config's; a line naming another is an error. Errors (a duplicate pair,
 * two primaries) are kept and returned by sum_live_write, naming the file
 * and line as summarize does. */
struct sum_live;
struct sum_live *sum_live_new(const char *results_path, const char *const *models, size_t nm,
			      const char *const *slots, size_t ns);
/* r->line 0: the next line after those already fed. */
void sum_live_add(struct sum_live *l, const struct res_rec *r);
void sum_live_item_done(struct sum_live *l, const char *item_id);
/* Items whose lines are held, waiting for sum_live_item_done. */
size_t sum_live_pending(const struct sum_live *l);
/* Reduces what is still held, then writes the CSVs into dir (and the
 * tables to `table` when not NULL). */
int sum_live_write(struct sum_live *l, const char *dir, FILE *table, enum stats_correction c,
		   struct se_err *err);
void sum_live_free(struct sum_live *l);

/* samples.csv in dir (and its table on `table` when not NULL) from every
 * sample of results_path, when the run has repeated samples (run --repeats);
 * nothing otherwise. The one reader of results.jsonl that sees sample > 0,
 * so a run calls it only when it took more than one sample. */
int sum_write_samples(const char *dir, const char *results_path, FILE *table, struct se_err *err);

/* An aligned text table for stdout. */
struct sum_tab {
	struct sum_line *rows;
	size_t n, cap;
	bool *right; /* per column: right-aligned */
};
void sum_tab_init(struct sum_tab *t);
void sum_tab_free(struct sum_tab *t);
struct sum_line *sum_tab_row(struct sum_tab *t);
void sum_tab_print(const struct sum_tab *t, FILE *out);

#endif
