/* sum_int.h: the summarize room's insides, shared by its .c files only: the
 * CSV files and the five tables. What other rooms may use (the store, an
 * item's view, a group's figures, text lines and tables) is in summarize.h.
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
#include "summarize/summarize.h"

/* The per-class error columns of models.csv, tasks.csv and slots.csv, in
 * their order there: every status but ok, once. */
extern const enum res_status sum_err_cols[RES_N_STATUS - 1];

/* The figures of a group; the header names are sum_acc_header. */
void sum_line_acc(struct sum_line *l, struct sum_acc *a);
extern const char *const sum_acc_header[];

/* A CSV file being replaced (fileio.h temp + rename). */
struct sum_csv {
	FILE *fp;
	char *path;
};
int sum_csv_open(struct sum_csv *c, const char *dir, const char *name, const char *const *header,
		 const char *const *header2, struct se_err *err);
void sum_csv_line(struct sum_csv *c, const struct sum_line *l);
int sum_csv_commit(struct sum_csv *c, struct se_err *err);

/* ---- sum_agg.c: every table's figures, one item at a time ---- */

/* A 2x2 paired table and the side figures of two answers to the same items. */
struct sum_pair_acc {
	struct stats_pair t; /* the 2x2 table of passes */
	long a_err, b_err;
	long a_cost_unknown, b_cost_unknown;
	double a_cost, b_cost;
	struct sum_fvec a_lat, b_lat;
};
void sum_pair_add(struct sum_pair_acc *p, const struct sum_cell *a, const struct sum_cell *b);
/* A cell's latency, unless it is a cache hit's or unknown. */
void sum_push_latency(struct sum_fvec *f, const struct sum_cell *c);

enum sum_scope { SUM_SCOPE_OVERALL, SUM_SCOPE_SLOT, SUM_SCOPE_TASK, SUM_N_SCOPE };

/* ---- sum_pw.c: pairwise verdicts of one shadow in one scope ---- */
struct sum_pw_acc {
	long wins, losses, ties, errors, not_compared;
	long consistent; /* compared pairs whose two orders agreed */
};
void sum_pw_add(struct sum_pw_acc *p, uint8_t pw);

/* Indices are model, task and slot numbers (ranks by name when written). */
struct sum_agg {
	bool bounded; /* latency histograms instead of every value */
	size_t nm, nt, ns;
	long nitems;
	struct sum_acc *model; /* [nm] answers (models.csv) */
	struct sum_acc *task;  /* [nt * nm] answers (tasks.csv) */
	struct sum_acc *slot;  /* [ns] primary lines (slots.csv) */
	long *slot_items, *slot_fb;
	bool *slot_uses; /* [ns * nm]: m was the slot's primary */
	struct sum_acc policy;
	long fb_all;
	struct sum_pair_acc *pair[SUM_N_SCOPE]; /* [1|ns|nt * nm] primary vs shadow */
	struct sum_pair_acc *swap;		/* [ns * nm] policy vs shadow on the slot */
	struct sum_pair_acc *out;		/* [ns] policy results outside the slot */
	long *out_pass;				/* [ns] */
	bool *current;				/* [ns * nm]: m was the slot's primary */
	struct sum_pw_acc *pw[SUM_N_SCOPE];	/* [1|ns|nt * nm] shadow lines' verdicts */
	bool any_pairwise;			/* some line had a pairwise field */
};
void sum_agg_init(struct sum_agg *a, bool bounded, size_t nm, size_t nt, size_t ns);
void sum_agg_grow_tasks(struct sum_agg *a, size_t nt);
/* New task r is old task order[r]. */
void sum_agg_order_tasks(struct sum_agg *a, const size_t *order);
void sum_agg_item(struct sum_agg *a, const struct sum_view *v);
void sum_agg_free(struct sum_agg *a);

/* ---- sum_judge.c: judge rows (models.csv) and agreement.csv ---- */

struct sum_judge_row {
	char *model;
	long requests, errors, cost_unknown, cached;
	double cost;
	struct sum_fvec lat;
};
/* A judge check against the text checks on the lines that have both
 * (a = the text checks, b = the judge). */
struct sum_agree_row {
	char *check, *judge_model;
	struct stats_pair t;
};
struct sum_judges {
	bool bounded; /* latency histograms (run) or every value (summarize) */
	struct sum_judge_row *row;
	size_t n, cap;
	struct sum_agree_row *agree;
	size_t nagree, agree_cap;
};
void sum_judges_init(struct sum_judges *j, bool bounded);
void sum_judges_free(struct sum_judges *j);
struct res_rec;
void sum_judges_add(struct sum_judges *j, const struct res_rec *rec);
/* Rows by judge model, agreement rows by check name. */
void sum_judges_sort(struct sum_judges *j);
void sum_judge_line(struct sum_line *l, struct sum_judge_row *r);

/* ---- sum_tables.c ---- */

/* Names by index, sorted. */
struct sum_names {
	char **model_name, **task_name, **slot_name;
	size_t nmodels, ntasks, nslots;
};

struct sum_ctx {
	struct sum_agg *a;
	struct sum_names names;
	size_t torn; /* a torn last line was skipped */
	const char *dir;
	enum stats_correction correction;  /* applied to each family (pairs scope, swaps) */
	size_t pairs_family, swaps_family; /* rows of the overall pairs and swaps families */
	struct sum_tab models_tab, pairs_tab, swaps_tab, pw_tab, agree_tab;
	struct sum_judges *judges; /* NULL: no judge rows, no agreement */
	char **slot_models;	   /* per slot: its primary model(s), ";"-joined */
};

int sum_write_models(struct sum_ctx *x, struct se_err *err);
int sum_write_tasks(struct sum_ctx *x, struct se_err *err);
int sum_write_slots(struct sum_ctx *x, struct se_err *err);
int sum_write_pairs(struct sum_ctx *x, struct se_err *err);
int sum_write_swaps(struct sum_ctx *x, struct se_err *err);
int sum_write_pairwise(struct sum_ctx *x, struct se_err *err);	/* sum_pw.c */
int sum_write_agreement(struct sum_ctx *x, struct se_err *err); /* sum_judge.c */
/* Removes dir/name when it exists (a table this run does not have). */
int sum_csv_remove(const char *dir, const char *name, struct se_err *err);
/* The CSVs, then the tables to `table` when not NULL (summarize.c). */
int sum_write_all(struct sum_ctx *x, FILE *table, struct se_err *err);

#endif
