/* dif_base.c: `diff DIR --baseline BASE`, what changed item by item between
 * the routed policy of two runs, and the flipped items `check --markdown`
 * lists.
 *
 * Items are paired by item id. Each side's line is its policy result (what
 * production served: the primary's line when ok, else an ok fallback's, else
 * the failed primary's), as `check` gates it. A paired item falls in one
 * group by cause:
 *   DIF_CAUSE_MODEL  the model changed and the pass flipped;
 *   DIF_CAUSE_ANSWER the same model, the pass flipped: a different answer
 *                    (sampling, a prompt or checks change, a new model
 *                    version behind the same name);
 *   DIF_CAUSE_ROUTE  the slot or the model changed, the pass did not.
 * Within a group, kinds as in diff.h with A the baseline: a-better is a
 * lost pass, b-better a gained one.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "core/esc.h"
#include "diff/diff.h"

const char *const dif_cause_names[DIF_NCAUSES] = {"different model", "same model, different answer",
						  "routing changed, same result"};

long dif_policy_cell(const struct dif_index *x, uint32_t item)
{
	long primary = -1, fallback_ok = -1;
	for (size_t i = x->first[item]; i < x->first[item + 1]; i++) {
		uint32_t ci = dif_cell_at(x, i);
		const struct dif_cell *c = &x->cells[ci];
		if (c->role == DIF_ROLE_PRIMARY)
			primary = ci;
		else if (c->role == DIF_ROLE_FALLBACK && (c->flags & DIF_F_OK) &&
			 (fallback_ok < 0 ||
			  strcmp(x->models.name[c->model],
				 x->models.name[x->cells[fallback_ok].model]) < 0))
			fallback_ok = ci;
	}
	if (primary >= 0 && (x->cells[primary].flags & DIF_F_OK))
		return primary;
	return fallback_ok >= 0 ? fallback_ok : primary;
}

static void push(struct dif_sel *sel, int k, struct dif_hit h)
{
	sel->hit[k] =
	    dif_arr_grow(sel->hit[k], &sel->cap[k], sel->kept[k] + 1, sizeof(*sel->hit[k]));
	sel->hit[k][sel->kept[k]++] = h;
	sel->n[k]++;
	sel->compared++;
}

static bool grep_line(const struct dif_index *x, uint32_t cell, const void *re, bool *match,
		      struct se_err *err);

int dif_baseline_select(const struct dif_index *base, const struct dif_index *cur,
			const struct dif_spec *spec, struct dif_changes *out, struct se_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *task = spec->task >= 0 ? cur->tasks.name[spec->task] : NULL;
	const char *slot = spec->slot >= 0 ? cur->slots.name[spec->slot] : NULL;
	for (size_t r = 0; r < cur->nitems; r++) {
		uint32_t item = cur->order[r];
		long bi = dif_item_find(base, cur->items[item].hash);
		if (bi < 0) {
			out->only_cur++;
			continue;
		}
		long cb = dif_policy_cell(cur, item), bb = dif_policy_cell(base, (uint32_t)bi);
		if (cb < 0 || bb < 0) {
			out->no_policy++;
			continue;
		}
		out->paired++;
		const struct dif_cell *a = &base->cells[bb], *b = &cur->cells[cb];
		const char *slot_a = base->slots.name[base->items[bi].slot];
		const char *slot_b = cur->slots.name[cur->items[item].slot];
		if ((task && strcmp(cur->tasks.name[cur->items[item].task], task)) ||
		    (slot && strcmp(slot_b, slot) && strcmp(slot_a, slot)))
			continue;
		bool same_model = !strcmp(base->models.name[a->model], cur->models.name[b->model]);
		bool pa = a->flags & DIF_F_PASS, pb = b->flags & DIF_F_PASS;
		int cause;
		if (pa != pb)
			cause = same_model ? DIF_CAUSE_ANSWER : DIF_CAUSE_MODEL;
		else if (!same_model || strcmp(slot_a, slot_b))
			cause = DIF_CAUSE_ROUTE;
		else
			continue;
		if (spec->grep) {
			bool ma = false, mb = false;
			if (grep_line(base, (uint32_t)bb, spec->grep, &ma, err) ||
			    (!ma && grep_line(cur, (uint32_t)cb, spec->grep, &mb, err)))
				return -1;
			if (!ma && !mb)
				continue;
		}
		int k = pa && !pb   ? DIF_A_BETTER
			: pb && !pa ? DIF_B_BETTER
			: pa	    ? DIF_BOTH_PASS
				    : DIF_NEITHER;
		push(&out->group[cause], k, (struct dif_hit){item, (uint32_t)bb, (uint32_t)cb});
	}
	for (size_t i = 0; i < base->nitems; i++)
		if (dif_item_find(cur, base->items[i].hash) < 0)
			out->only_base++;
	return 0;
}

void dif_changes_free(struct dif_changes *c)
{
	for (int g = 0; g < DIF_NCAUSES; g++)
		dif_sel_free(&c->group[g]);
}

static bool grep_line(const struct dif_index *x, uint32_t cell, const void *re, bool *match,
		      struct se_err *err)
{
	struct dif_line l;
	dif_line_init(&l);
	int rc = dif_line_load(x, cell, &l, err);
	if (rc == 0) {
		const struct dif_line *one = &l;
		rc = dif_grep_lines(re, &one, 1, match, err);
	}
	dif_line_free(&l);
	return rc != 0;
}

/* The first failing check of a line, or its status when it is not ok. */
static void failing_check(const struct dif_line *l, struct buf *b)
{
	if (l->row.status != RES_OK) {
		buf_printf(b, "status %s", res_status_name(l->row.status));
		return;
	}
	const cJSON *c;
	cJSON_ArrayForEach(c, dif_line_checks(l))
	{
		bool pass =
		    cJSON_IsTrue(c) || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "pass"));
		if (pass)
			continue;
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "detail");
		buf_puts(b, c->string);
		if (cJSON_IsString(d))
			buf_printf(b, " (%s)", d->valuestring);
		return;
	}
	buf_puts(b, "-");
}

static void md_row(struct buf *b, const char *s)
{
	buf_puts(b, " ");
	esc_md_inline(b, s, strlen(s));
	buf_puts(b, " |");
}

/* The count line and the table head of check --markdown's flipped items. */
static void flips_heading(struct buf *md, size_t lost, size_t gained, size_t max)
{
	buf_printf(md, "\n**Flipped items**: %zu lost a pass, %zu gained one", lost, gained);
	if (lost + gained > max)
		buf_printf(md,
			   " (the first %zu below; `shadoweval diff DIR --baseline BASE` "
			   "lists all)",
			   max);
	buf_puts(md, ".\n\n| item | task | slot (base -> now) | model (base -> now) | pass "
		     "| failing check |\n"
		     "| --- | --- | --- | --- | --- | --- |\n");
}

/* One flipped item: la the baseline's line, lb this run's; same_model when
 * the cause is the same model's different answer; lost when the pass was. */
static void flip_row(struct buf *md, const struct dif_line *la, const struct dif_line *lb,
		     bool same_model, bool lost)
{
	struct buf t;
	buf_init(&t);
	buf_puts(md, "|");
	md_row(md, la->row.item_id);
	md_row(md, lb->row.task ? lb->row.task : "-");
	buf_printf(&t, "%s -> %s", la->row.slot ? la->row.slot : "-",
		   lb->row.slot ? lb->row.slot : "-");
	md_row(md, t.data);
	buf_reset(&t);
	if (same_model)
		buf_printf(&t, "%s (same)", lb->row.model);
	else
		buf_printf(&t, "%s -> %s", la->row.model, lb->row.model);
	md_row(md, t.data);
	md_row(md, lost ? "lost" : "gained");
	buf_reset(&t);
	failing_check(lost ? lb : la, &t);
	md_row(md, t.data);
	buf_puts(md, "\n");
	buf_free(&t);
}

int dif_flips_markdown(const char *dir, const char *baseline, size_t max, struct buf *md,
		       struct se_err *err)
{
	struct dif_index base, cur;
	char *pb = xmalloc(strlen(baseline) + 16), *pc = xmalloc(strlen(dir) + 16);
	sprintf(pb, "%s/results.jsonl", baseline);
	sprintf(pc, "%s/results.jsonl", dir);
	int rc = dif_index_load(&base, pb, err);
	if (rc == 0)
		rc = dif_index_load(&cur, pc, err);
	else {
		memset(&cur, 0, sizeof(cur));
		cur.fd = -1;
	}
	struct dif_changes ch = {0};
	struct dif_spec spec = {.a = DIF_A_POLICY, .b = -1, .task = -1, .slot = -1};
	if (rc == 0)
		rc = dif_baseline_select(&base, &cur, &spec, &ch, err);
	size_t lost = 0, gained = 0;
	for (int g = 0; g < DIF_NCAUSES && rc == 0; g++) {
		if (g == DIF_CAUSE_ROUTE)
			continue;
		lost += ch.group[g].n[DIF_A_BETTER];
		gained += ch.group[g].n[DIF_B_BETTER];
	}
	if (rc == 0 && lost + gained > 0)
		flips_heading(md, lost, gained, max);
	struct dif_line la, lb;
	dif_line_init(&la);
	dif_line_init(&lb);
	size_t shown = 0;
	/* lost passes first (the regressions), then gained ones */
	for (int k = DIF_A_BETTER; rc == 0 && k <= DIF_B_BETTER; k++) {
		for (int g = 0; rc == 0 && g < DIF_NCAUSES; g++) {
			if (g == DIF_CAUSE_ROUTE)
				continue;
			const struct dif_sel *s = &ch.group[g];
			for (size_t i = 0; i < s->kept[k] && shown < max && rc == 0; i++, shown++) {
				if (dif_line_load(&base, s->hit[k][i].a, &la, err) ||
				    dif_line_load(&cur, s->hit[k][i].b, &lb, err)) {
					rc = -1;
					break;
				}
				flip_row(md, &la, &lb, g == DIF_CAUSE_ANSWER, k == DIF_A_BETTER);
			}
		}
	}
	dif_line_free(&la);
	dif_line_free(&lb);
	dif_changes_free(&ch);
	dif_index_free(&base);
	dif_index_free(&cur);
	free(pb);
	free(pc);
	return rc;
}
