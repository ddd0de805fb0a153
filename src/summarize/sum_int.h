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
