/* gate_out.c: a gate report as plain text, GitHub markdown and JUnit XML.
 *
 * The three show the same table (check, baseline, current, delta, limit,
 * result), built once as cells (summarize's sum_line / sum_tab), then
 * printed aligned, as a markdown table, or as JUnit testcases. It computes
 * nothing (gate.c does) and writes files only through fileio.h (temp +
 * rename), so a CI job never reads half a report.
 *
 * Escaping: everything from the runs (folder and model names) can hold any
 * byte. Markdown: < > & as entities, markdown punctuation backslashed, line
 * breaks as spaces. XML: invalid UTF-8 repaired to U+FFFD, & < > " ' as
 * entities, characters XML 1.0 forbids (C0 controls other than tab and line
 * breaks, U+FFFE, U+FFFF) replaced by U+FFFD, and line breaks in attributes
 * as character references so parsers keep them.
 */
#include "gate/gate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/esc.h"
#include "core/fileio.h"
#include "core/jsonw.h"
#include "diff/diff.h"
#include "summarize/summarize.h"

static const char *const verdict_name[] = {"PASS", "FAIL", "SKIP"};

static const char *const check_header[] = {"check", "baseline", "current",
					   "delta", "limit",	"result"};
static const char *const model_header[] = {"model",	     "n",	  "baseline",  "current",
					   "delta [95% CI]", "mcnemar_p", "p_adjusted"};

static void cell_value(struct sum_line *l, const struct gate_check *c, enum gate_check_id id,
		       double v, long k)
{
	if (isnan(v))
		sum_line_str(l, "-");
	else if (id == GATE_QUALITY)
		sum_line_printf(l, "%.1f%% (%ld/%ld)", 100 * v, k, c->n);
	else if (id == GATE_WIN_RATE)
		sum_line_printf(l, "%.1f%% win (%ld wins)", 100 * v, k);
	else if (id == GATE_COST)
		sum_line_printf(l, "%.6g USD", v);
	else
		sum_line_printf(l, "%.0f ms", v);
}

static void cell_pct(struct sum_line *l, double v)
{
	if (isnan(v))
		sum_line_str(l, "-");
	else if (isinf(v))
		sum_line_str(l, v > 0 ? "+inf%" : "-inf%");
	else
		sum_line_printf(l, "%+.1f%%", v);
}

/* The check table's row for check id. */
static void check_row(struct sum_line *l, const struct gate_report *r, enum gate_check_id id)
{
	const struct gate_check *c = &r->checks[id];
	sum_line_str(l, c->name);
	cell_value(l, c, id, c->base, c->base_k);
	cell_value(l, c, id, c->cur, c->cur_k);
	if (id == GATE_QUALITY) {
		if (isnan(c->delta))
			sum_line_str(l, "-");
		else
			sum_line_printf(l, "%+.1f pts [%+.1f, %+.1f] p=%.3g", c->delta, c->lo,
					c->hi, c->p);
		double floor = c->limit > GATE_FLOOR_PTS ? c->limit : GATE_FLOOR_PTS;
		sum_line_printf(l, "max drop %g pts if p<%g, else %g pts", c->limit, r->opts.alpha,
				floor);
	} else if (id == GATE_WIN_RATE) {
		if (isnan(c->delta))
			sum_line_str(l, "-");
		else
			sum_line_printf(l, "%+.1f pts", c->delta);
		sum_line_printf(l, "min %g%% (95%% CI)", 100 * c->limit);
	} else {
		cell_pct(l, c->delta);
		sum_line_printf(l, "+%g%%", c->limit);
	}
	sum_line_str(l, verdict_name[c->verdict]);
}

static void model_row(struct sum_line *l, const struct gate_model *m)
{
	sum_line_str(l, m->name);
	sum_line_long(l, m->n);
	if (m->n == 0) {
		for (int i = 0; i < 5; i++)
			sum_line_str(l, "-");
		return;
	}
	sum_line_printf(l, "%.1f%%", 100 * m->base_rate);
	sum_line_printf(l, "%.1f%%", 100 * m->cur_rate);
	sum_line_printf(l, "%+.1f pts [%+.1f, %+.1f]", m->delta, m->lo, m->hi);
	sum_line_printf(l, "%.3g", m->p);
	sum_line_printf(l, "%.3g", m->p_adj);
}

static void header_row(struct sum_line *l, const char *const *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum_line_str(l, h[i]);
}

static const char *same_word(int same, const char *differ)
{
	return same > 0 ? "same" : same == 0 ? differ : "unknown (no manifest.json)";
}

static void failed_names(const struct gate_report *r, struct buf *b)
{
	for (int i = 0; i < gate_nchecks(r); i++) {
		if (r->checks[i].verdict != GATE_FAIL)
			continue;
		if (b->len)
			buf_puts(b, ", ");
		buf_puts(b, r->checks[i].name);
	}
}

void gate_write_text(const struct gate_report *r, FILE *out)
{
	fprintf(out, "shadoweval check: %s against baseline %s\n", r->dir, r->baseline);
	fprintf(out, "items:   %zu paired (%zu in the baseline, %zu in the current run)\n",
		r->paired, r->base_items, r->cur_items);
	fprintf(out, "dataset: %s\n", same_word(r->dataset_same, "DIFFERENT (see notes)"));
	fprintf(out, "config:  %s\n\n",
		same_word(r->config_same, "different (expected when checking a routing change)"));

	struct sum_tab t;
	sum_tab_init(&t);
	header_row(sum_tab_row(&t), check_header, 6);
	for (int i = 0; i < gate_nchecks(r); i++)
		check_row(sum_tab_row(&t), r, (enum gate_check_id)i);
	sum_tab_print(&t, out);
	sum_tab_free(&t);
	fputc('\n', out);
	for (int i = 0; i < gate_nchecks(r); i++)
		fprintf(out, "%s: %s\n", r->checks[i].name, r->checks[i].why);

	if (r->nmodels) {
		fprintf(out,
			"\nper model (information only, not gated; paired on the items each model "
			"answered as primary or shadow in both runs; p_adjusted: %s over the %zu "
			"models)\n",
			stats_correction_name(r->opts.correction), r->nmodels);
		sum_tab_init(&t);
		header_row(sum_tab_row(&t), model_header, 7);
		for (size_t i = 0; i < r->nmodels; i++)
			model_row(sum_tab_row(&t), &r->models[i]);
		sum_tab_print(&t, out);
		sum_tab_free(&t);
	}
	if (r->nnotes) {
		fputs("\nnotes:\n", out);
		for (size_t i = 0; i < r->nnotes; i++)
			fprintf(out, "- %s\n", r->notes[i]);
	}
	struct buf f;
	buf_init(&f);
	failed_names(r, &f);
	if (r->failures)
		fprintf(out, "\nresult: FAIL (%d of %d checks: %s)\n", r->failures, gate_nchecks(r),
			f.data);
	else
		fputs("\nresult: PASS\n", out);
	buf_free(&f);
}

/* ---- markdown ---- */

static void md_text(FILE *fp, const char *s)
{
	struct buf b;
	buf_init(&b);
	esc_md_cell(&b, s, strlen(s));
	fwrite(b.data, 1, b.len, fp);
	buf_free(&b);
}

static void md_row(FILE *fp, const struct sum_line *l, int bold_last)
{
	fputc('|', fp);
	for (size_t i = 0; i < l->n; i++) {
		fputc(' ', fp);
		bool bold = bold_last && i + 1 == l->n;
		if (bold)
			fputs("**", fp);
		md_text(fp, sum_line_cell(l, i));
		if (bold)
			fputs("**", fp);
		fputs(" |", fp);
	}
	fputc('\n', fp);
}

static void md_rule(FILE *fp, size_t n)
{
	fputc('|', fp);
	for (size_t i = 0; i < n; i++)
		fputs(" --- |", fp);
	fputc('\n', fp);
}

int gate_write_markdown(const struct gate_report *r, const char *path, struct se_err *err)
{
	FILE *fp;
	if (fio_replace_begin(path, &fp, err))
		return -1;
	fprintf(fp, "### shadoweval check: %s\n\n", r->failures ? "FAIL" : "PASS");
	fputs("Current run ", fp);
	md_text(fp, r->dir);
	fputs(" against baseline ", fp);
	md_text(fp, r->baseline);
	fprintf(fp, ": %zu paired items; dataset %s; config %s.\n\n", r->paired,
		same_word(r->dataset_same, "**different**"),
		same_word(r->config_same, "different"));

	struct sum_line l;
	sum_line_init(&l);
	header_row(&l, check_header, 6);
	md_row(fp, &l, 0);
	md_rule(fp, 6);
	for (int i = 0; i < gate_nchecks(r); i++) {
		sum_line_reset(&l);
		check_row(&l, r, (enum gate_check_id)i);
		md_row(fp, &l, r->checks[i].verdict == GATE_FAIL);
	}
	fputc('\n', fp);
	for (int i = 0; i < gate_nchecks(r); i++) {
		fputs("- ", fp);
		md_text(fp, r->checks[i].name);
		fputs(": ", fp);
		md_text(fp, r->checks[i].why);
		fputc('\n', fp);
	}
	/* examples, not only rates: the top flipped items (diff/) */
	struct buf flips;
	buf_init(&flips);
	if (dif_flips_markdown(r->dir, r->baseline, 10, &flips, err)) {
		buf_free(&flips);
		sum_line_free(&l);
		fio_replace_abort(path, fp);
		return -1;
	}
	fputs(flips.data, fp);
	buf_free(&flips);
	if (r->nmodels) {
		fputs("\n<details><summary>Per model (information only, not gated)</summary>\n\n",
		      fp);
		sum_line_reset(&l);
		header_row(&l, model_header, 7);
		md_row(fp, &l, 0);
		md_rule(fp, 7);
		for (size_t i = 0; i < r->nmodels; i++) {
			sum_line_reset(&l);
			model_row(&l, &r->models[i]);
			md_row(fp, &l, 0);
		}
		fputs("\n</details>\n", fp);
	}
	sum_line_free(&l);
	if (r->nnotes) {
		fputs("\nNotes:\n", fp);
		for (size_t i = 0; i < r->nnotes; i++) {
			fputs("- ", fp);
			md_text(fp, r->notes[i]);
			fputc('\n', fp);
		}
	}
	return fio_replace_commit(path, fp, err);
}

/* ---- JUnit XML ---- */

/* Appends s as XML character data (attr: inside a double-quoted value). */
static void xml_text(struct buf *b, const char *s, bool attr)
{
	struct buf u;
	buf_init(&u);
	utf8_repair(s, strlen(s), &u);
	for (const unsigned char *p = (const unsigned char *)u.data; *p; p++) {
		switch (*p) {
		case '&':
			buf_puts(b, "&amp;");
			continue;
		case '<':
			buf_puts(b, "&lt;");
			continue;
		case '>':
			buf_puts(b, "&gt;");
			continue;
		case '"':
			buf_puts(b, "&quot;");
			continue;
		case '\'':
			buf_puts(b, "&apos;");
			continue;
		case '\t':
		case '\n':
		case '\r':
			if (attr)
				buf_printf(b, "&#%d;", *p);
			else
				buf_putc(b, (char)*p);
			continue;
		}
		if (*p < 0x20) {
			buf_puts(b, "\xEF\xBF\xBD");
		} else if (p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
			buf_puts(b, "\xEF\xBF\xBD"); /* U+FFFE, U+FFFF */
			p += 2;
		} else {
			buf_putc(b, (char)*p);
		}
	}
	buf_free(&u);
}

static void xml_attr(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, " %s=\"", name);
	xml_text(b, value, true);
	buf_putc(b, '"');
}

static void xml_property(struct buf *b, const char *name, const char *value)
{
	buf_puts(b, "      <property");
	xml_attr(b, "name", name);
	xml_attr(b, "value", value);
	buf_puts(b, "/>\n");
}

/* <properties>: the two runs, what they share, and each model's figures. */
static void junit_properties(struct buf *b, const struct gate_report *r)
{
	struct buf t, v;
	buf_init(&t);
	buf_init(&v);
	buf_puts(b, "    <properties>\n");
	xml_property(b, "baseline", r->baseline);
	xml_property(b, "current", r->dir);
	buf_printf(&t, "%zu", r->paired);
	xml_property(b, "paired_items", t.data);
	xml_property(b, "dataset", same_word(r->dataset_same, "different"));
	xml_property(b, "config", same_word(r->config_same, "different"));
	struct sum_line l;
	sum_line_init(&l);
	for (size_t i = 0; i < r->nmodels; i++) {
		sum_line_reset(&l);
		model_row(&l, &r->models[i]);
		buf_reset(&t);
		buf_printf(&t, "model %s", r->models[i].name);
		buf_reset(&v);
		buf_printf(&v, "n=%s baseline=%s current=%s delta=%s mcnemar_p=%s p_adjusted=%s",
			   sum_line_cell(&l, 1), sum_line_cell(&l, 2), sum_line_cell(&l, 3),
			   sum_line_cell(&l, 4), sum_line_cell(&l, 5), sum_line_cell(&l, 6));
		xml_property(b, t.data, v.data);
	}
	sum_line_free(&l);
	buf_puts(b, "    </properties>\n");
	buf_free(&t);
	buf_free(&v);
}

/* One <testcase> per check: empty when it passed, else <skipped> or a
 * <failure> whose text is the check's row. */
static void junit_testcase(struct buf *b, const struct gate_report *r, int i)
{
	const struct gate_check *c = &r->checks[i];
	buf_puts(b, "    <testcase classname=\"shadoweval.check\"");
	xml_attr(b, "name", c->name);
	if (c->verdict == GATE_PASS) {
		buf_puts(b, "/>\n");
		return;
	}
	buf_puts(b, ">\n");
	if (c->verdict == GATE_SKIP) {
		buf_puts(b, "      <skipped");
		xml_attr(b, "message", c->why);
		buf_puts(b, "/>\n");
	} else {
		buf_puts(b, "      <failure type=\"regression\"");
		xml_attr(b, "message", c->why);
		buf_puts(b, ">");
		struct sum_line l;
		sum_line_init(&l);
		check_row(&l, r, (enum gate_check_id)i);
		struct buf t;
		buf_init(&t);
		for (size_t k = 1; k + 1 < l.n; k++)
			buf_printf(&t, "%s: %s\n", check_header[k], sum_line_cell(&l, k));
		xml_text(b, t.data, false);
		buf_free(&t);
		sum_line_free(&l);
		buf_puts(b, "</failure>\n");
	}
	buf_puts(b, "    </testcase>\n");
}

/* <system-out>: the text report, as `check` prints it. */
static void junit_system_out(struct buf *b, const struct gate_report *r)
{
	char *text = NULL;
	size_t text_len = 0;
	FILE *mem = open_memstream(&text, &text_len);
	if (mem) {
		gate_write_text(r, mem);
		fclose(mem);
		buf_puts(b, "    <system-out>");
		xml_text(b, text, false);
		buf_puts(b, "</system-out>\n");
	}
	free(text);
}

int gate_write_junit(const struct gate_report *r, const char *path, struct se_err *err)
{
	int skipped = 0;
	for (int i = 0; i < gate_nchecks(r); i++)
		skipped += r->checks[i].verdict == GATE_SKIP;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_printf(&b,
		   "<testsuites name=\"shadoweval\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
		   "skipped=\"%d\">\n",
		   gate_nchecks(r), r->failures, skipped);
	buf_printf(&b,
		   "  <testsuite name=\"shadoweval.check\" tests=\"%d\" failures=\"%d\" "
		   "errors=\"0\" skipped=\"%d\">\n",
		   gate_nchecks(r), r->failures, skipped);
	junit_properties(&b, r);
	for (int i = 0; i < gate_nchecks(r); i++)
		junit_testcase(&b, r, i);
	junit_system_out(&b, r);
	buf_puts(&b, "  </testsuite>\n</testsuites>\n");
	int rc = fio_write_atomic(path, b.data, b.len, err);
	buf_free(&b);
	return rc;
}
