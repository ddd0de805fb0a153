/* csvw.h: writing CSV cells, the one way every CSV shadoweval writes does it
 * (the summaries, sweep.csv and pareto.csv, `route --csv`, `diff --format csv`).
 *
 * RFC 4180: a cell holding a comma, a quote or a line break is quoted (by
 * libcsv), other cells are written bare. Formula injection: a spreadsheet
 * runs a cell that begins with "=", "+", "-" or "@" (or a tab or a carriage
 * return, which some read past) as a formula, and model names, tasks, slots
 * and item ids come from configs, datasets and servers. Such a text cell is
 * written with a leading apostrophe ("'=cmd|..." shows as =cmd|...), as
 * OWASP advises. A cell that is a plain decimal number ("-0.05", "-1e-07",
 * "+3") is left alone: every figure we compute is written that way, a
 * spreadsheet reads it as a number, not a formula, and quoting it would
 * turn it into text.
 */
#ifndef SE_CSVW_H
#define SE_CSVW_H

#include <stdbool.h>
#include <stdio.h>

#include "core/buf.h"

/* Whether s is, all of it, [+-]digits[.digits][(e|E)[+-]digits] (or
 * [+-].digits...): a number, never a formula. */
bool csvw_is_number(const char *s);

/* Whether s would be read as a formula (and is written neutralised). */
bool csvw_is_formula(const char *s);

/* How a cell is written. */
enum csvw_flags {
	CSVW_FIRST = 1, /* the first cell of its line: no comma before it */
	CSVW_QUOTE = 2, /* always quoted (`route --csv`), not only when needed */
};

/* Appends cell s (NULL: empty) to b, neutralised and quoted as needed,
 * preceded by a comma unless flags has CSVW_FIRST. */
void csvw_cell(struct buf *b, const char *s, unsigned flags);

/* The same for the n bytes at s, which may hold NULs (a model's output):
 * they are written as they are. */
void csvw_celln(struct buf *b, const char *s, size_t n, unsigned flags);

/* The same, straight to a stream (write errors show at its fclose). */
void csvw_fcell(FILE *fp, const char *s, unsigned flags);

#endif
