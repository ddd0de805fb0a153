/* dif_out.c: diff's four formats, for one comparison at a time.
 *
 * - text: for a person at a terminal. Counts, then per item its id, task,
 *   slot, the prompt's start and the expected answers, then A and B side by
 *   side (one above the other below DIF_SIDE_MIN columns): status, pass,
 *   latency, cost, the output (folded after fold_lines lines) and each check.
 *   Colours only when asked (a terminal without NO_COLOR). Control bytes in
 *   outputs are shown as \xNN, never sent to the terminal.
 * - md: for a pull request or a ticket. Everything from a model or a dataset
 *   is escaped: inline text with backslashes and entities, outputs in <pre>
 *   with HTML entities and newlines as &#10;.
 * - jsonl: a "counts" record, then one "item" record per item, every value
 *   whole (output, checks): it reads back to what results.jsonl held.
 * - csv: one row per item (RFC 4180, header once), the same fields as jsonl
 *   with checks as JSON text; cells go through core/csvw, so a cell that a
 *   spreadsheet would run as a formula gets a leading apostrophe.
 *
 * Items are printed in batches (8, doubling to 256) so that the first one
 * shows at once and memory holds one batch's lines and snippets.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/csvw.h"
#include "core/esc.h"
#include "core/jsonw.h"
#include "core/xalloc.h"
#include "diff/diff.h"

#define BATCH_MAX 256

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"

static void md_str(struct buf *b, const char *s)
{
	if (s)
		esc_md_inline(b, s, strlen(s));
}

/* baseline mode: A is the baseline's line, B the run's */
static const char *const base_kind_names[DIF_NKINDS] = {"lost", "gained", "both-pass", "neither"};

static const char *kind_name(const struct dif_printer *p, enum dif_kind k)
{
	return p->o.baseline ? base_kind_names[k] : dif_kind_names[k];
}

/* "fast", or "fast -> deep" when the two lines' slots differ. */
static void slot_text(struct buf *b, const struct res_rec *a, const struct res_rec *r)
{
	const char *x = a->slot ? a->slot : "-", *y = r->slot ? r->slot : "-";
	buf_puts(b, x);
	if (strcmp(x, y))
		buf_printf(b, " -> %s", y);
}

/* ---- the text format ---- */

/* One display line: text without colour, its width in columns (code points),
 * and its colour. */
struct dline {
	char *s;
	int w;
	const char *color;
};

struct side {
	struct dline *l;
	size_t n, cap;
};

static void side_add(struct side *sd, const char *s, size_t len, int w, const char *color)
{
	sd->l = xgrow(sd->l, &sd->cap, sd->n + 1, sizeof(*sd->l));
	sd->l[sd->n++] = (struct dline){xstrndup(s, len), w, color};
}

static void side_free(struct side *sd)
{
	for (size_t i = 0; i < sd->n; i++)
		free(sd->l[i].s);
	free(sd->l);
	memset(sd, 0, sizeof(*sd));
}

/* Length of the UTF-8 sequence at s (1 for an invalid byte). */
static size_t u8len(const unsigned char *s, size_t left)
{
	size_t n = s[0] < 0x80	       ? 1
		   : (s[0] >> 5) == 6  ? 2
		   : (s[0] >> 4) == 14 ? 3
		   : (s[0] >> 3) == 30 ? 4
				       : 1;
	if (n > left)
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 1;
	return n;
}

/* Wraps s into lines of at most width columns; control bytes as \xNN, tabs
 * as two spaces, invalid UTF-8 as '?'. Adds at most max_lines lines (then a
 * "folded" line); max_lines <= 0: no limit. Returns the lines not shown. */
static size_t side_wrap(struct side *sd, const char *s, size_t n, int width, const char *color,
			int max_lines)
{
	struct buf cur;
	buf_init(&cur);
	int w = 0, sp_w = 0;
	size_t added = 0, hidden = 0, sp_at = 0; /* sp_at: bytes up to the last space */
	bool any = false;
	for (size_t i = 0; i <= n; i++) {
		bool end = i == n;
		if (end || s[i] == '\n') {
			if (end && !any && cur.len == 0 && n > 0 && s[n - 1] == '\n')
				break; /* no empty line after a final newline */
			if (max_lines <= 0 || added < (size_t)max_lines) {
				side_add(sd, cur.data, cur.len, w, color);
				added++;
			} else {
				hidden++;
			}
			buf_reset(&cur);
			w = 0;
			sp_at = 0;
			any = false;
			continue;
		}
		if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
			continue; /* CRLF ends a line like LF */
		char tmp[8];
		size_t tl, adv = 1;
		const unsigned char *u = (const unsigned char *)s + i;
		if (*u == '\t') {
			tmp[0] = tmp[1] = ' ';
			tl = 2;
		} else if (*u < 0x20 || *u == 0x7f) {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", *u);
		} else if (*u < 0x80) {
			tmp[0] = (char)*u;
			tl = 1;
		} else {
			adv = u8len(u, n - i);
			if (adv == 1) {
				tmp[0] = '?';
				tl = 1;
			} else {
				memcpy(tmp, u, adv);
				tl = adv;
			}
		}
		int cw = (*u < 0x20 || *u == 0x7f) ? (int)tl : 1; /* a tab, a control */
		if (w + cw > width && cur.len) {
			/* break after the last space when there is one, else mid-word */
			size_t cut = sp_at ? sp_at : cur.len;
			int cut_w = sp_at ? sp_w : w;
			if (max_lines <= 0 || added < (size_t)max_lines) {
				side_add(sd, cur.data, cut, cut_w, color);
				added++;
			} else {
				hidden++;
			}
			memmove(cur.data, cur.data + cut, cur.len - cut);
			cur.len -= cut;
			cur.data[cur.len] = '\0';
			w -= cut_w;
			sp_at = 0;
		}
		buf_append(&cur, tmp, tl);
		w += cw;
		if (*u == ' ') {
			sp_at = cur.len;
			sp_w = w;
		}
		any = true;
		i += adv - 1;
	}
	buf_free(&cur);
	return hidden;
}

static void side_text(struct side *sd, int width, const char *color, const char *fmt, ...)
    SE_PRINTF(4, 5);
static void side_text(struct side *sd, int width, const char *color, const char *fmt, ...)
{
	struct buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	side_wrap(sd, b.data, b.len, width, color, 0);
	buf_free(&b);
}

static void fmt_ms(char *out, size_t size, double v)
{
	if (isnan(v))
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%.0f ms", v);
}

static void fmt_usd(char *out, size_t size, double v)
{
	if (isnan(v))
		snprintf(out, size, "cost unknown");
	else
		snprintf(out, size, "$%.6f", v);
}

static void build_side(struct side *sd, const char *label, const struct dif_line *l, int width,
		       const struct dif_print_opts *o, size_t *out_start, size_t *out_end)
{
	const struct res_rec *r = &l->row;
	bool pass = r->pass && r->status == RES_OK;
	char ms[32], usd[32];
	fmt_ms(ms, sizeof(ms), r->latency_ms);
	fmt_usd(usd, sizeof(usd), r->cost_usd);
	side_text(sd, width, C_BOLD, "%s %s (%s)", label, r->model, res_role_name(r->role));
	side_text(sd, width, pass ? C_GREEN : C_RED, "%s  status %s  %s  %s",
		  pass ? "PASS" : "FAIL", res_status_name(r->status), ms, usd);
	if (!isnan(r->score))
		side_text(sd, width, NULL, "score %g", r->score);
	if (r->error)
		side_text(sd, width, C_RED, "error: %s", r->error);
	*out_start = sd->n;
	size_t hidden = 0;
	if (!r->output)
		side_text(sd, width, C_DIM, "(no output)");
	else
		hidden = side_wrap(sd, r->output, r->output_len, width, NULL, o->fold_lines);
	*out_end = sd->n;
	if (hidden)
		side_text(sd, width, C_DIM, "... %zu more line%s folded", hidden,
			  hidden == 1 ? "" : "s");
	const cJSON *checks = dif_line_checks(l), *c;
	cJSON_ArrayForEach(c, checks)
	{
		bool cp =
		    cJSON_IsTrue(c) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"));
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "detail");
		bool cerr = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "error"));
		side_text(sd, width, cp ? C_GREEN : C_RED, "check %s: %s%s%s%s", c->string,
			  cp ? "pass" : "fail", cJSON_IsString(d) ? " \"" : "",
			  cJSON_IsString(d) ? d->valuestring : "", cJSON_IsString(d) ? "\"" : "");
		if (cerr)
			side_text(sd, width, C_RED, "  (the check could not run)");
	}
}

static void put_cell(FILE *out, const struct dline *l, int width, bool color, bool pad)
{
	if (l) {
		if (color && l->color)
			fprintf(out, "%s%s%s", l->color, l->s, C_RESET);
		else
			fputs(l->s, out);
	}
	int w = l ? l->w : 0;
	if (pad)
		for (; w < width; w++)
			fputc(' ', out);
}

/* Output lines that differ from the other side's line at the same place are
 * highlighted (on a terminal). */
static void mark_diff(struct side *a, size_t a0, size_t a1, struct side *b, size_t b0, size_t b1)
{
	for (size_t i = 0; a0 + i < a1 || b0 + i < b1; i++) {
		struct dline *x = a0 + i < a1 ? &a->l[a0 + i] : NULL;
		struct dline *y = b0 + i < b1 ? &b->l[b0 + i] : NULL;
		if (x && y && !strcmp(x->s, y->s))
			continue;
		if (x)
			x->color = C_YELLOW;
		if (y)
			y->color = C_YELLOW;
	}
}

static void text_rule(FILE *out, int width, bool color, const char *title)
{
	if (color)
		fputs(C_BOLD, out);
	fputs(title, out);
	int w = (int)utf8_count(title, strlen(title));
	if (w < width - 1) {
		fputc(' ', out);
		for (int i = w + 1; i < width; i++)
			fputs("-", out);
	}
	if (color)
		fputs(C_RESET, out);
	fputc('\n', out);
}

static void text_item(struct dif_printer *p, enum dif_kind k, const struct dif_line *la,
		      const struct dif_line *lb, const struct dif_snip *sn)
{
	FILE *out = p->out;
	const struct dif_print_opts *o = &p->o;
	int width = o->width < 40 ? 40 : o->width;
	const struct res_rec *a = &la->row;
	struct buf t;
	buf_init(&t);
	buf_printf(&t, "%s  %s  task %s  slot ", kind_name(p, k), a->item_id,
		   a->task ? a->task : "-");
	slot_text(&t, a, &lb->row);
	struct side head = {0};
	side_wrap(&head, t.data, t.len, width, NULL, 0);
	for (size_t i = 0; i < head.n; i++)
		text_rule(out, i == 0 ? width : 0, o->color, head.l[i].s);
	side_free(&head);
	struct side info = {0};
	if (sn && sn->prompt) {
		buf_reset(&t);
		buf_printf(&t, "prompt: %s", sn->prompt);
		side_wrap(&info, t.data, t.len, width, NULL, 3);
	}
	if (sn && sn->prompt) {
		buf_reset(&t);
		buf_printf(&t, "expected: %s", sn->expected ? sn->expected : "(none)");
		side_wrap(&info, t.data, t.len, width, NULL, 3);
	}
	for (size_t i = 0; i < info.n; i++) {
		put_cell(out, &info.l[i], 0, false, false);
		fputc('\n', out);
	}
	side_free(&info);

	bool side_by_side = width >= DIF_SIDE_MIN;
	int col = side_by_side ? (width - 3) / 2 : width;
	struct side sa = {0}, sb = {0};
	size_t a0, a1, b0, b1;
	build_side(&sa, "A", la, col, o, &a0, &a1);
	build_side(&sb, "B", lb, col, o, &b0, &b1);
	mark_diff(&sa, a0, a1, &sb, b0, b1);
	if (side_by_side) {
		/* the outputs start on the same row */
		size_t rows = sa.n > sb.n ? sa.n : sb.n;
		for (size_t i = 0; i < rows; i++) {
			put_cell(out, i < sa.n ? &sa.l[i] : NULL, col, o->color, true);
			fputs(" | ", out);
			put_cell(out, i < sb.n ? &sb.l[i] : NULL, col, o->color, false);
			fputc('\n', out);
		}
	} else {
		for (size_t i = 0; i < sa.n; i++) {
			put_cell(out, &sa.l[i], col, o->color, false);
			fputc('\n', out);
		}
		fputc('\n', out);
		for (size_t i = 0; i < sb.n; i++) {
			put_cell(out, &sb.l[i], col, o->color, false);
			fputc('\n', out);
		}
	}
	fputc('\n', out);
	side_free(&sa);
	side_free(&sb);
	buf_free(&t);
}

/* ---- md ---- */

static void md_side_row(struct buf *b, const char *name, const char *va, const char *vb)
{
	buf_puts(b, "| ");
	buf_puts(b, name);
	buf_puts(b, " | ");
	md_str(b, va);
	buf_puts(b, " | ");
	md_str(b, vb);
	buf_puts(b, " |\n");
}

static void md_checks(struct buf *b, const struct dif_line *l)
{
	const cJSON *c;
	bool first = true;
	cJSON_ArrayForEach(c, dif_line_checks(l))
	{
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "detail");
		if (!first)
			buf_puts(b, "<br>");
		first = false;
		md_str(b, c->string);
		bool cp =
		    cJSON_IsTrue(c) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"));
		buf_puts(b, cp ? ": pass" : ": **fail**");
		if (cJSON_IsString(d)) {
			buf_puts(b, " \\(");
			md_str(b, d->valuestring);
			buf_puts(b, "\\)");
		}
	}
	if (first)
		buf_puts(b, "\\-");
}

static void md_item(struct dif_printer *p, enum dif_kind k, const struct dif_line *la,
		    const struct dif_line *lb, const struct dif_snip *sn)
{
	const struct res_rec *a = &la->row, *b = &lb->row;
	struct buf o;
	buf_init(&o);
	buf_printf(&o, "### %s: ", kind_name(p, k));
	md_str(&o, a->item_id);
	buf_puts(&o, "\n\ntask ");
	md_str(&o, a->task ? a->task : "-");
	buf_puts(&o, ", slot ");
	struct buf st;
	buf_init(&st);
	slot_text(&st, a, b);
	md_str(&o, st.data);
	buf_free(&st);
	buf_puts(&o, "\n\n");
	if (sn && sn->prompt) {
		buf_puts(&o, "prompt: ");
		md_str(&o, sn->prompt);
		buf_puts(&o, "\n\nexpected: ");
		md_str(&o, sn->expected ? sn->expected : "(none)");
		buf_puts(&o, "\n\n");
	}
	buf_puts(&o, "| | A | B |\n| --- | --- | --- |\n");
	md_side_row(&o, "model", a->model, b->model);
	md_side_row(&o, "role", res_role_name(a->role), res_role_name(b->role));
	md_side_row(&o, "status", res_status_name(a->status), res_status_name(b->status));
	bool pa = a->pass && a->status == RES_OK, pb = b->pass && b->status == RES_OK;
	md_side_row(&o, "pass", pa ? "yes" : "no", pb ? "yes" : "no");
	char x[64], y[64];
	fmt_ms(x, sizeof(x), a->latency_ms);
	fmt_ms(y, sizeof(y), b->latency_ms);
	md_side_row(&o, "latency", x, y);
	fmt_usd(x, sizeof(x), a->cost_usd);
	fmt_usd(y, sizeof(y), b->cost_usd);
	md_side_row(&o, "cost", x, y);
	buf_puts(&o, "| checks | ");
	md_checks(&o, la);
	buf_puts(&o, " | ");
	md_checks(&o, lb);
	buf_puts(&o, " |\n\n");
	buf_puts(&o, "<table><tr><th>A output</th><th>B output</th></tr><tr><td><pre>");
	if (a->output)
		esc_html_pre(&o, a->output, a->output_len);
	buf_puts(&o, "</pre></td><td><pre>");
	if (b->output)
		esc_html_pre(&o, b->output, b->output_len);
	buf_puts(&o, "</pre></td></tr></table>\n\n");
	fwrite(o.data, 1, o.len, p->out);
	buf_free(&o);
}

/* ---- jsonl and csv ---- */

static void json_side(struct buf *b, const struct dif_line *l)
{
	const struct res_rec *r = &l->row;
	buf_putc(b, '{');
	jsonw_key(b, "model");
	jsonw_str(b, r->model);
	buf_putc(b, ',');
	jsonw_key(b, "slot");
	jsonw_str(b, r->slot);
	buf_putc(b, ',');
	jsonw_key(b, "role");
	jsonw_str(b, res_role_name(r->role));
	buf_putc(b, ',');
	jsonw_key(b, "status");
	jsonw_str(b, res_status_name(r->status));
	buf_putc(b, ',');
	jsonw_key(b, "pass");
	jsonw_bool(b, r->pass && r->status == RES_OK);
	buf_putc(b, ',');
	jsonw_key(b, "latency_ms");
	jsonw_double(b, r->latency_ms);
	buf_putc(b, ',');
	jsonw_key(b, "cost_usd");
	jsonw_double(b, r->cost_usd);
	buf_putc(b, ',');
	jsonw_key(b, "score");
	jsonw_double(b, r->score);
	buf_putc(b, ',');
	jsonw_key(b, "checks");
	const cJSON *c = dif_line_checks(l);
	char *ct = c ? cJSON_PrintUnformatted(c) : NULL;
	buf_puts(b, ct ? ct : "null");
	free(ct);
	buf_putc(b, ',');
	jsonw_key(b, "error");
	jsonw_str(b, r->error);
	buf_putc(b, ',');
	jsonw_key(b, "output");
	jsonw_strn(b, r->output, r->output_len);
	buf_putc(b, '}');
}

static void jsonl_item(struct dif_printer *p, enum dif_kind k, const char *a_side,
		       const char *b_side, const struct dif_line *la, const struct dif_line *lb,
		       const struct dif_snip *sn)
{
	const struct res_rec *a = &la->row;
	struct buf o;
	buf_init(&o);
	buf_puts(&o, "{\"record\":\"item\",");
	jsonw_key(&o, "a_side");
	jsonw_str(&o, a_side);
	buf_putc(&o, ',');
	jsonw_key(&o, "b_side");
	jsonw_str(&o, b_side);
	buf_putc(&o, ',');
	jsonw_key(&o, "kind");
	jsonw_str(&o, kind_name(p, k));
	buf_putc(&o, ',');
	jsonw_key(&o, "item_id");
	jsonw_str(&o, a->item_id);
	buf_putc(&o, ',');
	jsonw_key(&o, "item_index");
	if (a->item_index >= 0)
		jsonw_long(&o, a->item_index);
	else
		buf_puts(&o, "null");
	buf_putc(&o, ',');
	jsonw_key(&o, "task");
	jsonw_str(&o, a->task);
	buf_putc(&o, ',');
	jsonw_key(&o, "slot");
	jsonw_str(&o, lb->row.slot);
	buf_putc(&o, ',');
	jsonw_key(&o, "prompt");
	jsonw_str(&o, sn ? sn->prompt : NULL);
	buf_putc(&o, ',');
	jsonw_key(&o, "expected");
	jsonw_str(&o, sn ? sn->expected : NULL);
	buf_putc(&o, ',');
	jsonw_key(&o, "a");
	json_side(&o, la);
	buf_putc(&o, ',');
	jsonw_key(&o, "b");
	json_side(&o, lb);
	buf_puts(&o, "}\n");
	fwrite(o.data, 1, o.len, p->out);
	buf_free(&o);
}

static void csv_str(struct buf *b, const char *s)
{
	csvw_cell(b, s, 0);
}

static void csv_num(struct buf *b, double v)
{
	char t[64] = "";
	if (!isnan(v))
		jsonw_number_text(v, t, sizeof(t));
	csv_str(b, t);
}

static const char csv_header[] = "a_side,b_side,kind,item_id,item_index,task,slot,prompt,expected,"
				 "a_model,a_slot,a_role,a_status,a_pass,a_latency_ms,a_cost_usd,a_"
				 "score,a_checks,a_error,a_output,"
				 "b_model,b_slot,b_role,b_status,b_pass,b_latency_ms,b_cost_usd,b_"
				 "score,b_checks,b_error,b_output\n";

static void csv_side(struct buf *b, const struct dif_line *l)
{
	const struct res_rec *r = &l->row;
	csv_str(b, r->model);
	csv_str(b, r->slot);
	csv_str(b, res_role_name(r->role));
	csv_str(b, res_status_name(r->status));
	csv_str(b, r->pass && r->status == RES_OK ? "true" : "false");
	csv_num(b, r->latency_ms);
	csv_num(b, r->cost_usd);
	csv_num(b, r->score);
	const cJSON *c = dif_line_checks(l);
	char *ct = c ? cJSON_PrintUnformatted(c) : NULL;
	csv_str(b, ct);
	free(ct);
	csv_str(b, r->error);
	csvw_celln(b, r->output, r->output_len, 0);
}

static void csv_item(struct dif_printer *p, enum dif_kind k, const char *a_side, const char *b_side,
		     const struct dif_line *la, const struct dif_line *lb,
		     const struct dif_snip *sn)
{
	const struct res_rec *a = &la->row;
	struct buf o;
	buf_init(&o);
	csvw_cell(&o, a_side, CSVW_FIRST);
	csv_str(&o, b_side);
	csv_str(&o, kind_name(p, k));
	csv_str(&o, a->item_id);
	char idx[32] = "";
	if (a->item_index >= 0)
		snprintf(idx, sizeof(idx), "%ld", a->item_index);
	csv_str(&o, idx);
	csv_str(&o, a->task);
	csv_str(&o, lb->row.slot);
	csv_str(&o, sn ? sn->prompt : NULL);
	csv_str(&o, sn ? sn->expected : NULL);
	csv_side(&o, la);
	csv_side(&o, lb);
	buf_putc(&o, '\n');
	fwrite(o.data, 1, o.len, p->out);
	buf_free(&o);
}

/* ---- one comparison ---- */

void dif_print_counts(struct dif_printer *p, const struct dif_sel *sel, const char *a_side,
		      const char *b_side)
{
	FILE *out = p->out;
	size_t ab = sel->n[DIF_A_BETTER], bb = sel->n[DIF_B_BETTER];
	size_t bp = sel->n[DIF_BOTH_PASS], ne = sel->n[DIF_NEITHER];
	struct buf b;
	buf_init(&b);
	switch (p->o.format) {
	case DIF_TEXT:
		if (p->o.color)
			buf_puts(&b, C_BOLD);
		if (p->o.baseline) {
			buf_printf(&b, "%s: %zu items\n", b_side, sel->compared);
			if (p->o.color)
				buf_puts(&b, C_RESET);
			buf_printf(
			    &b, "  %zu lost a pass, %zu gained one, %zu both pass, %zu neither\n",
			    ab, bb, bp, ne);
			break;
		}
		buf_printf(&b, "A = %s, B = %s: %zu items compared\n", a_side, b_side,
			   sel->compared);
		if (p->o.color)
			buf_puts(&b, C_RESET);
		buf_printf(
		    &b,
		    "  %zu where A is better, %zu where B is better, %zu both pass, %zu neither\n",
		    ab, bb, bp, ne);
		break;
	case DIF_MD:
		if (p->counted == 0 && p->o.baseline)
			buf_puts(
			    &b,
			    "| A | B | items | lost a pass | gained one | both pass | neither |\n"
			    "| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
		else if (p->counted == 0)
			buf_puts(
			    &b, "| A | B | compared | A better | B better | both pass | neither |\n"
				"| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
		buf_puts(&b, "| ");
		md_str(&b, a_side);
		buf_puts(&b, " | ");
		md_str(&b, b_side);
		buf_printf(&b, " | %zu | **%zu** | **%zu** | %zu | %zu |\n", sel->compared, ab, bb,
			   bp, ne);
		break;
	case DIF_JSONL:
		buf_puts(&b, "{\"record\":\"counts\",");
		jsonw_key(&b, "a_side");
		jsonw_str(&b, a_side);
		buf_putc(&b, ',');
		jsonw_key(&b, "b_side");
		jsonw_str(&b, b_side);
		buf_printf(&b,
			   ",\"compared\":%zu,\"a_better\":%zu,\"b_better\":%zu,\"both_pass\":%zu,"
			   "\"neither\":%zu}\n",
			   sel->compared, ab, bb, bp, ne);
		break;
	case DIF_CSV:
		break;
	}
	fwrite(b.data, 1, b.len, out);
	buf_free(&b);
	p->counted++;
}

/* The heading of a comparison's items. */
static void print_section(struct dif_printer *p, const char *a_side, const char *b_side)
{
	struct buf b;
	buf_init(&b);
	switch (p->o.format) {
	case DIF_TEXT:
		if (p->o.baseline)
			buf_printf(&b, "\n== %s ", b_side);
		else
			buf_printf(&b, "\n== A = %s, B = %s ", a_side, b_side);
		text_rule(p->out, p->o.width, p->o.color, b.data);
		fputc('\n', p->out);
		break;
	case DIF_MD:
		buf_puts(&b, "\n## A: ");
		md_str(&b, a_side);
		buf_puts(&b, ", B: ");
		md_str(&b, b_side);
		buf_puts(&b, "\n\n");
		fwrite(b.data, 1, b.len, p->out);
		break;
	case DIF_JSONL:
		break;
	case DIF_CSV:
		if (p->comparisons == 0)
			fputs(csv_header, p->out);
		break;
	}
	buf_free(&b);
}

static void note_warning(struct dif_printer *p, char *why)
{
	if (!why)
		return;
	if (!p->warning)
		p->warning = why;
	else
		free(why);
}

/* The kinds --only lists, in the order they are printed. */
static size_t listed_kinds(enum dif_only only, enum dif_kind kinds[DIF_NKINDS])
{
	size_t nk = 0;
	switch (only) {
	case DIF_ONLY_A_BETTER:
		kinds[nk++] = DIF_A_BETTER;
		break;
	case DIF_ONLY_B_BETTER:
		kinds[nk++] = DIF_B_BETTER;
		break;
	case DIF_ONLY_ALL:
		kinds[nk++] = DIF_A_BETTER;
		kinds[nk++] = DIF_B_BETTER;
		kinds[nk++] = DIF_BOTH_PASS;
		kinds[nk++] = DIF_NEITHER;
		break;
	default:
		kinds[nk++] = DIF_A_BETTER;
		kinds[nk++] = DIF_B_BETTER;
	}
	return nk;
}

unsigned dif_listed(enum dif_only only)
{
	enum dif_kind kinds[DIF_NKINDS];
	size_t nk = listed_kinds(only, kinds);
	unsigned mask = 0;
	for (size_t i = 0; i < nk; i++)
		mask |= 1u << kinds[i];
	return mask;
}

/* Prints a batch of n loaded items in the chosen format, with their
 * prompts and expected answers when the dataset can be read. */
static void print_batch(struct dif_printer *p, const char *a_side, const char *b_side,
			const enum dif_kind *kk, const struct dif_line *la,
			const struct dif_line *lb, struct dif_snip *sn, size_t n)
{
	if (p->ds) {
		char *why = NULL;
		if (dif_ds_fetch(p->ds, sn, n, &why)) {
			dif_ds_free(p->ds); /* unreadable: go on without */
			p->ds = NULL;
		}
		note_warning(p, why);
	}
	for (size_t i = 0; i < n; i++) {
		const struct dif_snip *s = p->ds || sn[i].prompt ? &sn[i] : NULL;
		switch (p->o.format) {
		case DIF_TEXT:
			text_item(p, kk[i], &la[i], &lb[i], s);
			break;
		case DIF_MD:
			md_item(p, kk[i], &la[i], &lb[i], s);
			break;
		case DIF_JSONL:
			jsonl_item(p, kk[i], a_side, b_side, &la[i], &lb[i], s);
			break;
		case DIF_CSV:
			csv_item(p, kk[i], a_side, b_side, &la[i], &lb[i], s);
			break;
		}
	}
	fflush(p->out);
}

int dif_print_items(struct dif_printer *p, const struct dif_sel *sel, const char *a_side,
		    const char *b_side, struct se_err *err)
{
	print_section(p, a_side, b_side);
	p->comparisons++;
	enum dif_kind kinds[DIF_NKINDS];
	size_t nk = listed_kinds(p->o.only, kinds);
	size_t total = 0;
	for (size_t i = 0; i < nk; i++)
		total += sel->n[kinds[i]];
	size_t avail = total;
	if (p->o.limit >= 0 && (size_t)p->o.limit < total)
		total = (size_t)p->o.limit;

	struct dif_line *la = xcalloc(BATCH_MAX, sizeof(*la)),
			*lb = xcalloc(BATCH_MAX, sizeof(*lb));
	struct dif_snip *sn = xcalloc(BATCH_MAX, sizeof(*sn));
	enum dif_kind *kk = xcalloc(BATCH_MAX, sizeof(*kk));
	for (size_t i = 0; i < BATCH_MAX; i++) {
		dif_line_init(&la[i]);
		dif_line_init(&lb[i]);
	}
	int rc = 0;
	size_t done = 0, ki = 0, pos = 0, batch = 8;
	while (rc == 0 && done < total) {
		size_t n = 0;
		while (n < batch && done + n < total) {
			while (ki < nk && pos >= sel->kept[kinds[ki]]) {
				ki++;
				pos = 0;
			}
			if (ki == nk) {
				total = done + n; /* not kept: a keep smaller than --limit */
				break;
			}
			const struct dif_hit *h = &sel->hit[kinds[ki]][pos++];
			kk[n] = kinds[ki];
			if (dif_line_load(p->x, h->a, &la[n], err) ||
			    dif_line_load(p->xb ? p->xb : p->x, h->b, &lb[n], err)) {
				rc = -1;
				break;
			}
			dif_snip_clear(&sn[n]);
			sn[n].id = la[n].row.item_id;
			n++;
		}
		if (rc)
			break;
		print_batch(p, a_side, b_side, kk, la, lb, sn, n);
		done += n;
		if (batch < BATCH_MAX)
			batch *= 2;
	}
	dif_batch_free(la, lb, sn, BATCH_MAX);
	free(kk);
	if (rc == 0 && p->o.format == DIF_TEXT && total < avail)
		fprintf(p->out, "(--limit %ld: %zu more not shown)\n", p->o.limit, avail - total);
	return rc;
}
