/* esc.h: the one HTML, markdown and terminal escaper, for every page,
 * comment and table shadoweval writes from untrusted text (model names,
 * item ids, prompts, outputs, paths): the report (report/), `diff` (diff/),
 * `check --markdown` (gate/), and the tables `route` and `validate` print.
 *
 * - esc_term: text for a terminal: control bytes (newline, escape, bell,
 *   DEL...) show as \xNN, so a dataset's id cannot clear the screen or
 *   split a table row; everything else is copied.
 * - esc_html: text or a double- or single-quoted attribute value: & < > " '
 *   become entities; everything else is copied.
 * - esc_html_pre: the text of a <pre> block inside markdown: as esc_html,
 *   and a newline becomes &#10; (so a blank line in a model's output cannot
 *   end the HTML block), a carriage return is dropped, and other control
 *   bytes show as their Unicode control pictures (U+2400 + byte, U+2421
 *   for DEL).
 * - esc_md_inline: one line of markdown (a table cell, a heading, a list
 *   item): & < > " become entities, line breaks, tabs and control bytes a
 *   space, and every markdown punctuation character (\ ` * _ { } [ ] ( ) #
 *   + ! | ~) gets a backslash, so nothing in it can open a link, an image,
 *   emphasis, code or a new table cell.
 * - esc_md_cell: a cell of a markdown table that `check --markdown` fills
 *   with figures and names: the same, but only \ ` * _ [ ] | get a
 *   backslash and quotes stay, so "91.0% (91/100)" reads as it is; nothing
 *   in a cell can open a link, emphasis or code, or end the cell.
 * Each takes n bytes (NULs included: they are control bytes).
 */
#ifndef SE_ESC_H
#define SE_ESC_H

#include <stddef.h>

#include "core/buf.h"

void esc_html(struct buf *b, const char *s, size_t n);
void esc_html_pre(struct buf *b, const char *s, size_t n);
void esc_md_inline(struct buf *b, const char *s, size_t n);
void esc_md_cell(struct buf *b, const char *s, size_t n);
void esc_term(struct buf *b, const char *s, size_t n);
/* esc_term of a NUL-terminated s into a static buffer of `slot` (0 to 3,
 * for several in one printf): valid until the next call with that slot. */
const char *esc_term_str(const char *s, int slot);

#endif
