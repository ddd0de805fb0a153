/* dif_html.c: the report's "Where they disagree" section: per shadow (the
 * routed primary against it) and per slot-swap candidate (the policy against
 * the candidate on the slot's items), the discordant counts and up to N
 * items each way, each a <details> row that opens on both outputs side by
 * side with the checks, latencies and costs. No script; every piece of text
 * from a model, a dataset or a name is HTML-escaped (outputs in <pre>).
 *
 * Not here: the rest of the page (report/), which links its pairs and swaps
 * rows to the anchors dif_anchor names.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/xalloc.h"
#include "core/esc.h"
#include "diff/diff.h"

void dif_anchor(struct buf *b, const char *slot, const char *model)
{
	/* hex keeps any name safe in an id and never makes two names equal */
	buf_puts(b, slot ? "dis-s-" : "dis-p-");
	for (const char *s = slot; s && *s; s++)
		buf_printf(b, "%02x", (unsigned char)*s);
	if (slot)
		buf_putc(b, '-');
	for (const char *s = model; *s; s++)
		buf_printf(b, "%02x", (unsigned char)*s);
}

static void esc(struct buf *b, const char *s)
{
	if (s)
		esc_html_pre(b, s, strlen(s));
}

static void side_cell(struct buf *b, const struct dif_line *l)
{
	const struct res_rec *r = &l->row;
	bool pass = r->pass && r->status == RES_OK;
	buf_puts(b, "<td><b>");
	esc(b, r->model);
	buf_puts(b, "</b> (");
	esc(b, res_role_name(r->role));
	buf_printf(b, ")<br>%s, status ", pass ? "<b>pass</b>" : "<b>fail</b>");
	esc(b, res_status_name(r->status));
	if (!isnan(r->latency_ms))
		buf_printf(b, ", %.0f ms", r->latency_ms);
	if (!isnan(r->cost_usd))
		buf_printf(b, ", $%.6f", r->cost_usd);
	if (!isnan(r->score))
		buf_printf(b, ", score %g", r->score);
	if (r->error) {
		buf_puts(b, "<br>error: ");
		esc(b, r->error);
	}
	buf_puts(b, "<pre class=\"out\">");
	if (r->output)
		esc_html_pre(b, r->output, r->output_len);
	else
		buf_puts(b, "(no output)");
	buf_puts(b, "</pre><ul class=\"checks\">");
	const cJSON *c;
	cJSON_ArrayForEach(c, dif_line_checks(l))
	{
		bool cp =
		    cJSON_IsTrue(c) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"));
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "detail");
		buf_puts(b, "<li>");
		esc(b, c->string);
		buf_puts(b, cp ? ": pass" : ": <b>fail</b>");
		if (cJSON_IsString(d)) {
			buf_puts(b, " (<code>");
			esc(b, d->valuestring);
			buf_puts(b, "</code>)");
		}
		buf_puts(b, "</li>");
	}
	buf_puts(b, "</ul></td>");
}

struct hctx {
	const struct dif_index *x;
	struct dif_ds *ds;
	struct buf *b;
};

static int items(struct hctx *h, const struct dif_sel *sel, enum dif_kind k, size_t max,
		 const char *title, struct se_err *err)
{
	struct buf *b = h->b;
	size_t n = sel->kept[k] < max ? sel->kept[k] : max;
	buf_printf(b, "<h4>%s: %zu item%s", title, sel->n[k], sel->n[k] == 1 ? "" : "s");
	if (n < sel->n[k])
		buf_printf(b, " (the first %zu shown; <code>shadoweval diff</code> lists all)", n);
	buf_puts(b, "</h4>\n");
	struct dif_snip *sn = xcalloc(n + 1, sizeof(*sn));
	struct dif_line *la = xcalloc(n + 1, sizeof(*la)), *lb = xcalloc(n + 1, sizeof(*lb));
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		dif_line_init(&la[i]);
		dif_line_init(&lb[i]);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (dif_line_load(h->x, sel->hit[k][i].a, &la[i], err) ||
		    dif_line_load(h->x, sel->hit[k][i].b, &lb[i], err))
			rc = -1;
		sn[i].id = la[i].row.item_id;
	}
	if (rc == 0 && h->ds) {
		char *why = NULL;
		if (dif_ds_fetch(h->ds, sn, n, &why)) {
			dif_ds_free(h->ds);
			h->ds = NULL;
		}
		free(why);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct res_rec *a = &la[i].row;
		buf_puts(b, "<details class=\"dis\"><summary><code>");
		esc(b, a->item_id);
		buf_puts(b, "</code> task ");
		esc(b, a->task ? a->task : "-");
		buf_puts(b, ", slot ");
		esc(b, a->slot ? a->slot : "-");
		buf_puts(b, "</summary>\n");
		if (sn[i].prompt) {
			buf_puts(b, "<p class=\"note\">prompt: ");
			esc(b, sn[i].prompt);
			buf_puts(b, "<br>expected: ");
			esc(b, sn[i].expected ? sn[i].expected : "(none)");
			buf_puts(b, "</p>");
		}
		buf_puts(b, "<div class=\"scroll\"><table class=\"dis\"><tr>");
		side_cell(b, &la[i]);
		side_cell(b, &lb[i]);
		buf_puts(b, "</tr></table></div></details>\n");
	}
	dif_batch_free(la, lb, sn, n);
	return rc;
}

int dif_html_section(const char *dir, const struct dif_html_cmp *cmp, size_t ncmp, size_t max_each,
		     struct buf *b, struct se_err *err)
{
	buf_puts(b, "<section id=\"disagree\"><h2>Where they disagree</h2>"
		    "<p class=\"note\">The items behind the pass-rate deltas above: where one "
		    "side passed and the other failed, A first. Open a row for both outputs "
		    "and the checks.</p>\n");
	char *path = fio_join(dir, "results.jsonl");
	struct dif_index x;
	int rc = dif_index_load(&x, path, err);
	free(path);
	if (rc) {
		dif_index_free(&x);
		return -1;
	}
	char *why = NULL;
	struct hctx h = {.x = &x, .ds = dif_ds_open(dir, &why), .b = b};
	free(why);
	for (size_t i = 0; i < ncmp && rc == 0; i++) {
		struct dif_spec spec = {.a = cmp[i].slot ? DIF_A_POLICY : DIF_A_PRIMARY,
					.b = dif_model_find(&x, cmp[i].model),
					.task = -1,
					.slot = -1};
		if (cmp[i].slot)
			spec.slot = strtab_find(&x.slots, cmp[i].slot);
		buf_puts(b, "<h3 id=\"");
		dif_anchor(b, cmp[i].slot, cmp[i].model);
		buf_puts(b, "\">");
		if (cmp[i].slot) {
			buf_puts(b, "Slot ");
			esc(b, cmp[i].slot);
			buf_puts(b, ": the policy (A) against ");
		} else {
			buf_puts(b, "The routed primary (A) against ");
		}
		esc(b, cmp[i].model);
		buf_puts(b, " (B)</h3>\n");
		if (spec.b < 0 || (cmp[i].slot && spec.slot < 0)) {
			buf_puts(b, "<p class=\"note\">No result lines for it.</p>\n");
			continue;
		}
		struct dif_sel sel;
		rc = dif_select(&x, &spec, &sel, err);
		if (rc == 0) {
			buf_printf(b,
				   "<p>%zu items compared: <b>%zu</b> where A passed and B failed, "
				   "<b>%zu</b> where B passed and A failed (%zu both passed, %zu "
				   "neither).</p>\n",
				   sel.compared, sel.n[DIF_A_BETTER], sel.n[DIF_B_BETTER],
				   sel.n[DIF_BOTH_PASS], sel.n[DIF_NEITHER]);
			rc = items(&h, &sel, DIF_A_BETTER, max_each, "A better", err);
			if (rc == 0)
				rc = items(&h, &sel, DIF_B_BETTER, max_each, "B better", err);
		}
		dif_sel_free(&sel);
	}
	buf_puts(b, "</section>\n");
	dif_ds_free(h.ds);
	dif_index_free(&x);
	return rc;
}
