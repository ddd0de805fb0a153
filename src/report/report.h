/* report.h: `shadoweval report DIR [-o FILE]`, one self-contained HTML page
 * for a person deciding on a routing change.
 *
 * The page is built from the run folder's summaries (models.csv, tasks.csv,
 * slots.csv, pairs.csv, swaps.csv, and sweep.csv / pareto.csv /
 * recommended.json when `sweep` wrote them) and manifest.json; when a
 * summary is missing, every CSV is first rebuilt from results.jsonl
 * (sum_run_dir). It holds inline CSS and inline SVG only: no script, no
 * external stylesheet, font, image or link, so it can be mailed or attached
 * to a CI job. The same folder gives the same bytes: nothing in it depends
 * on the clock, the locale or the machine.
 *
 * Not here: computing figures. Every number on the page is read from a CSV
 * (the summaries decide; the report formats and draws).
 */
#ifndef SE_REPORT_H
#define SE_REPORT_H

#include "core/err.h"

/* Writes the report of run folder `dir` to `out` (NULL: dir/report.html),
 * atomically. SE_INPUT for a bad or incomplete summary (naming the file and,
 * for a missing column, the column), SE_IO when a file cannot be read or
 * written. */
int rep_write(const char *dir, const char *out, struct se_err *err);

#endif
