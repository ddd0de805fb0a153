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

#include <stdio.h>

#include "core/err.h"
#include "stats/stats.h"

/* Writes the CSVs into dir; prints the models and pairs tables to `table`
 * when it is not NULL. Verdicts are adjusted per family with Holm. */
int sum_run_dir(const char *dir, FILE *table, struct se_err *err);
/* The same with the family correction chosen (--correction). */
int sum_run_dir_corr(const char *dir, FILE *table, enum stats_correction c, struct se_err *err);

#endif
