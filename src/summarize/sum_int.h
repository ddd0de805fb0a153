/* sum_int.h: the summarize room's insides, shared by its .c files and by
 * gate/: the regression gate reads both runs through this same store, so an
 * item's policy result, the input errors and the figures are exactly those of
 * the CSVs. No other room should include it.
 *
 * sum_store.c: results.jsonl -> one compact cell per result line, interned
 * names, and a canonical order (items by id, models/tasks/slots by name) so
 * that every figure is computed in the same order whatever the line order of
 * the file: the CSVs are byte-identical for a shuffled results.jsonl.
 * sum_out.c: accumulators for a group of results, number formatting, CSV
 * lines (libcsv quoting) and the aligned stdout table.
 * sum_tables.c: the five tables. summarize.c: sum_run_dir.
 *
 * Memory: a cell is 40 bytes per result line (1,000,000 lines: 40 MB), plus
 * one id per item and, while a table is built, the latency values exact
 * percentiles need (floats: 4 bytes per value). No output text, no checks.
 */
#ifndef SE_SUM_INT_H
#define SE_SUM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/strtab.h"
#include "results/vocab.h"
#include "stats/stats.h"

/* The per-class error columns of models.csv, tasks.csv and slots.csv, in
 * their order there: every status but ok, once. */
extern const enum res_status sum_err_cols[RES_N_STATUS - 1];

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
};

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
	uint32_t *order; /* rank -> item index, items sorted by id */
	uint32_t *first; /* rank -> first position in idx; nitems + 1 entries */
	uint32_t *idx;	 /* cell indices, grouped by item rank, by (model, role) */
};

void sum_store_init(struct sum_store *s);
void sum_store_free(struct sum_store *s);
/* Streams path into s; errors name the file. */
int sum_store_load(struct sum_store *s, const char *path, struct se_err *err);
/* Sorts names, orders items and checks one result per (item, model, role). */
int sum_store_finish(struct sum_store *s, const char *path, struct se_err *err);

/* One item's results, by role and model. */
struct sum_view {
	uint32_t item;
	uint16_t task, slot;
	const struct sum_cell *primary; /* role primary, or NULL */
	const struct sum_cell *policy;	/* what production served, or NULL */
	bool fallback_served;		/* policy is a fallback row */
	const struct sum_cell **answer; /* [nmodels]: primary, else shadow, else fallback */
	const struct sum_cell **shadow; /* [nmodels]: role shadow */
};

void sum_view_init(struct sum_view *v, const struct sum_store *s);
void sum_view_free(struct sum_view *v);
void sum_view_load(struct sum_view *v, const struct sum_store *s, size_t rank);

/* ---- sum_out.c ---- */

struct sum_fvec {
	float *v;
	size_t n, cap;
	bool sorted; /* cleared by every push */
};
/* Sorts the values once (until the next push). */
void sum_fvec_sort(struct sum_fvec *f);
void sum_fvec_push(struct sum_fvec *f, float x);
void sum_fvec_free(struct sum_fvec *f);
/* Type-7 percentile of the values (sorts them in place); NAN when empty. */
double sum_fvec_pct(struct sum_fvec *f, int pct);

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
/* The figures of a group; the header names are sum_acc_header. */
void sum_line_acc(struct sum_line *l, struct sum_acc *a);
extern const char *const sum_acc_header[];

/* Cost per 1,000 items from a sum of known costs; NAN when none was known. */
double sum_cost_per_1k(double total, long n, long unknown);

/* A CSV file being replaced (fileio.h temp + rename). */
struct sum_csv {
	FILE *fp;
	char *path;
};
int sum_csv_open(struct sum_csv *c, const char *dir, const char *name, const char *const *header,
		 const char *const *header2, struct se_err *err);
void sum_csv_line(struct sum_csv *c, const struct sum_line *l);
int sum_csv_commit(struct sum_csv *c, struct se_err *err);
void sum_csv_abort(struct sum_csv *c);

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

/* ---- sum_tables.c ---- */

struct sum_ctx {
	const struct sum_store *s;
	const char *dir;
	enum stats_correction correction;  /* applied to each family (pairs scope, swaps) */
	size_t pairs_family, swaps_family; /* rows of the overall pairs and swaps families */
	struct sum_tab models_tab, pairs_tab, swaps_tab;
	char **slot_models; /* per slot: its primary model(s), ";"-joined */
};

int sum_write_models(struct sum_ctx *x, struct se_err *err);
int sum_write_tasks(struct sum_ctx *x, struct se_err *err);
int sum_write_slots(struct sum_ctx *x, struct se_err *err);
int sum_write_pairs(struct sum_ctx *x, struct se_err *err);
int sum_write_swaps(struct sum_ctx *x, struct se_err *err);

#endif
