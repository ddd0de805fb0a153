/* sw_store.c: manifest.json + results.jsonl -> the sweep's per-item table.
 *
 * Keeps, per item, its token estimate, task and the slot the run routed it
 * to, and per slot model one sw_cell (pass, cost, latency). It computes no
 * figure: sweep.c does, walking items in the canonical order (by id) built by
 * sw_store_finish.
 *
 * Decisions (README "sweep"):
 * - the slot -> model map is the manifest's "slots"; a run is a full matrix
 *   when its "shadows" are "all-slots" or name every slot's model, else the
 *   sweep refuses it (its missing answers would be guesses);
 * - primary and shadow rows are both answers of their model; a fallback row
 *   is ignored (a policy is simulated on what each slot's own model said),
 *   so are rows of models no slot uses (candidates);
 * - when a model answered an item as primary and as shadow, the primary row
 *   is used whatever the line order; two rows of the same role are an error;
 * - an errored row (status != ok) never passes; a cache hit's latency is its
 *   original_latency_ms (the model's, not the cache's);
 * - an item's task, slot and est_tokens are the same on all its lines; a
 *   line without one takes the others', lines that disagree are an input
 *   error (so the result never depends on the line order).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/fileio.h"
#include "manifest/manifest.h"
#include "core/strtab.h"
#include "core/xalloc.h"
#include "results/results.h"
#include "sweep/sw_int.h"

void sw_store_init(struct sw_store *s)
{
	memset(s, 0, sizeof(*s));
}

void sw_store_free(struct sw_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nslots; i++) {
		free(s->slot_name[i]);
		free(s->slot_model[i]);
	}
	free(s->slot_name);
	free(s->slot_model);
	free(s->slot_col);
	free(s->col_model); /* points into slot_model */
	free(s->config_path);
	free(s->manifest_path);
	free(s->results_path);
	strtab_free(&s->ids);
	strtab_free(&s->tasks);
	free(s->est);
	free(s->primary_line);
	free(s->task);
	free(s->cur);
	free(s->cells);
	free(s->order);
	free(s->task_sorted);
	free(s->task_rank);
	memset(s, 0, sizeof(*s));
}

/* ---- manifest ---- */

/* "slots": each slot's model, and the models as columns (slots sharing a
 * model share its column). */
static int read_slots(struct sw_store *s, const cJSON *o, struct se_err *err)
{
	const char *path = s->manifest_path;
	char where[600];
	const cJSON *slots = cJSON_GetObjectItemCaseSensitive(o, "slots");
	snprintf(where, sizeof(where), "%s: slots", path);
	if (!cJSON_IsObject(slots) || !slots->child)
		return se_fail(err, SE_INPUT, where, "expected an object of slot names and models");
	size_t n = (size_t)cJSON_GetArraySize(slots);
	if (n > SW_MAX_SLOTS)
		return se_fail(err, SE_INPUT, where, "%zu slots, at most %d supported", n,
			       SW_MAX_SLOTS);
	s->slot_name = xcalloc(n, sizeof(char *));
	s->slot_model = xcalloc(n, sizeof(char *));
	s->slot_col = xcalloc(n, 1);
	s->col_model = xcalloc(n, sizeof(char *));
	for (const cJSON *e = slots->child; e; e = e->next) {
		if (!cJSON_IsString(e) || !e->valuestring[0]) {
			snprintf(where, sizeof(where), "%s: slots.%s", path, e->string);
			return se_fail(err, SE_INPUT, where, "expected a model string");
		}
		size_t i = s->nslots++;
		s->slot_name[i] = xstrdup(e->string);
		s->slot_model[i] = xstrdup(e->valuestring);
		size_t c = 0;
		while (c < s->ncols && strcmp(s->col_model[c], e->valuestring))
			c++;
		if (c == s->ncols)
			s->col_model[s->ncols++] = s->slot_model[i];
		s->slot_col[i] = (uint8_t)c;
	}
	return 0;
}

/* "shadows": every slot's model answered every item, or the sweep would
 * guess the missing answers. */
static int check_full_matrix(const struct sw_store *s, const cJSON *o, struct se_err *err)
{
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "shadows");
	bool full = cJSON_IsString(sh) && !strcmp(sh->valuestring, "all-slots");
	const char *missing = NULL;
	if (!full && cJSON_IsArray(sh)) {
		full = true;
		for (size_t i = 0; i < s->nslots && full; i++) {
			bool found = false;
			const cJSON *m;
			cJSON_ArrayForEach(m, sh) found |=
			    cJSON_IsString(m) && !strcmp(m->valuestring, s->slot_model[i]);
			if (!found) {
				full = false;
				missing = s->slot_name[i];
			}
		}
	}
	if (full)
		return 0;
	if (missing)
		return se_fail(err, SE_INPUT, s->manifest_path,
			       "not a full-matrix run: no shadow answers for slot \"%s\"; run the "
			       "eval with \"shadow\": \"all-slots\" to sweep it",
			       missing);
	return se_fail(err, SE_INPUT, s->manifest_path,
		       "not a full-matrix run (\"shadows\" is not \"all-slots\"); run the "
		       "eval with \"shadow\": \"all-slots\" to sweep it");
}

static int load_manifest(struct sw_store *s, struct se_err *err)
{
	const char *path = s->manifest_path;
	char *data = NULL;
	size_t len = 0;
	if (fio_read_all(path, &data, &len, err)) {
		err->kind = SE_INPUT; /* a run folder without its manifest is bad input */
		return -1;
	}
	cJSON *o = cJSON_ParseWithLength(data, len);
	free(data);
	int rc = -1;
	if (!cJSON_IsObject(o))
		se_fail(err, SE_INPUT, path, "not a shadoweval manifest (not a JSON object)");
	else if (!man_check(o, path, err) && !read_slots(s, o, err) &&
		 !check_full_matrix(s, o, err))
		rc = 0;
	const cJSON *cp = cJSON_GetObjectItemCaseSensitive(o, "config");
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "config_sha256");
	if (rc == 0 && cJSON_IsString(cp) && cJSON_IsString(ch) && strlen(ch->valuestring) == 64) {
		s->config_path = xstrdup(cp->valuestring);
		memcpy(s->config_sha, ch->valuestring, 65);
	}
	cJSON_Delete(o);
	return rc;
}

/* ---- results ---- */

struct load_ctx {
	struct sw_store *s;
	struct se_err *err;
};

static void grow_items(struct sw_store *s, size_t need)
{
	if (need <= s->item_cap)
		return;
	size_t old = s->item_cap, cap = old;
	s->est = xgrow(s->est, &cap, need, sizeof(*s->est));
	cap = old;
	s->task = xgrow(s->task, &cap, need, sizeof(*s->task));
	cap = old;
	s->cur = xgrow(s->cur, &cap, need, sizeof(*s->cur));
	cap = old;
	s->primary_line = xgrow(s->primary_line, &cap, need, sizeof(*s->primary_line));
	s->cells = xrealloc(s->cells, cap * s->ncols * sizeof(*s->cells));
	for (size_t i = old; i < cap; i++) {
		s->est[i] = -1;
		s->task[i] = SW_NONE;
		s->cur[i] = SW_NO_SLOT;
		s->primary_line[i] = 0;
	}
	for (size_t i = old * s->ncols; i < cap * s->ncols; i++)
		s->cells[i] = (struct sw_cell){NAN, NAN, 0, false};
	s->item_cap = cap;
}

static int slot_index(const struct sw_store *s, const char *name)
{
	for (size_t i = 0; i < s->nslots; i++)
		if (!strcmp(s->slot_name[i], name))
			return (int)i;
	return -1;
}

/* One primary line per item, as summarize requires (of any model: two
 * models cannot both be the one the policy routed the item to). */
static int one_primary(struct sw_store *s, const struct res_rec *row, uint32_t it, const char *path,
		       struct se_err *err)
{
	if (row->role != RES_PRIMARY)
		return 0;
	if (s->primary_line[it])
		return se_fail(err, SE_INPUT, path,
			       "item \"%s\" has more than one primary result (lines %u and %zu)",
			       row->item_id, s->primary_line[it], row->line);
	s->primary_line[it] = row->line > UINT32_MAX ? UINT32_MAX : (uint32_t)row->line;
	return 0;
}

static int on_row(void *ctx, const struct res_rec *row)
{
	struct load_ctx *x = ctx;
	struct sw_store *s = x->s;
	char path[600];
	snprintf(path, sizeof(path), "%s:%zu", s->results_path, row->line);
	/* Names, types and ranges were checked by res_scan. A model's answer:
	 * its primary line, else its shadow line; a fallback line only carries
	 * item facts. */
	static const int prio_of[RES_N_ROLE] = {
	    [RES_PRIMARY] = 2, [RES_SHADOW] = 1, [RES_FALLBACK] = 0};
	int prio = prio_of[row->role];

	bool added;
	uint32_t it = (uint32_t)strtab_intern(&s->ids, row->item_id, &added);
	grow_items(s, (size_t)it + 1);

	/* Item facts come from every line, fallbacks included. */
	if (row->slot) {
		int sl = slot_index(s, row->slot);
		if (sl < 0)
			return se_fail(x->err, SE_INPUT, path,
				       "item \"%s\": slot \"%s\" is not in manifest.json",
				       row->item_id, row->slot);
		if (s->cur[it] == SW_NO_SLOT)
			s->cur[it] = (uint8_t)sl;
		else if (s->cur[it] != sl)
			return se_fail(x->err, SE_INPUT, path,
				       "item \"%s\": lines disagree on its slot (\"%s\", \"%s\")",
				       row->item_id, s->slot_name[s->cur[it]], row->slot);
	}
	const char *task = row->task ? row->task : "";
	uint32_t tk = (uint32_t)strtab_intern(&s->tasks, task, &added);
	if (s->task[it] == SW_NONE || (s->tasks.name[s->task[it]][0] == '\0' && task[0]))
		s->task[it] = tk;
	else if (task[0] && s->task[it] != tk)
		return se_fail(x->err, SE_INPUT, path,
			       "item \"%s\": lines disagree on its task (\"%s\", \"%s\")",
			       row->item_id, s->tasks.name[s->task[it]], task);
	if (row->est_tokens >= 0 && s->est[it] < 0)
		s->est[it] = row->est_tokens;
	else if (row->est_tokens >= 0 && s->est[it] != row->est_tokens)
		return se_fail(x->err, SE_INPUT, path,
			       "item \"%s\": lines disagree on est_tokens (%ld, %ld)", row->item_id,
			       s->est[it], row->est_tokens);

	if (prio == 0) {
		s->ignored++;
		return 0;
	}
	size_t c = 0;
	while (c < s->ncols && (!row->model || strcmp(s->col_model[c], row->model)))
		c++;
	if (c == s->ncols) {
		s->ignored++;
		return one_primary(s, row, it, path, x->err);
	}
	struct sw_cell *cell = &s->cells[(size_t)it * s->ncols + c];
	if (cell->have) {
		/* An error path: find the first line again rather than keep a
		 * line number per cell. */
		size_t first = 0;
		enum res_role first_role = RES_PRIMARY;
		if (res_find_pair(s->results_path, row->item_id, row->model, &first, &first_role,
				  x->err))
			return -1;
		return res_fail_duplicate(x->err, row->item_id, row->model, row->role,
					  s->results_path, row->line, first_role, s->results_path,
					  first);
	}
	if (one_primary(s, row, it, path, x->err))
		return -1;
	cell->have = (uint8_t)prio;
	bool ok = row->status == RES_OK;
	cell->pass = ok && row->pass;
	cell->cost = isfinite(row->cost_usd) ? row->cost_usd : NAN;
	double lat = row->cached ? row->original_latency_ms : row->latency_ms;
	cell->lat = isfinite(lat) && lat >= 0 && lat < 3.0e38 ? (float)lat + 0.0f : NAN;
	return 0;
}

int sw_store_load(struct sw_store *s, const char *dir, struct se_err *err)
{
	s->manifest_path = fio_join(dir, "manifest.json");
	s->results_path = fio_join(dir, "results.jsonl");
	if (load_manifest(s, err))
		return -1;
	struct load_ctx x = {s, err};
	struct res_scan_stats st = {0, 0};
	int rc = res_scan(s->results_path, false, on_row, &x, &st, err);
	s->lines = st.lines;
	s->torn = st.torn;
	if (rc) {
		if (err->kind == SE_IO)
			err->kind = SE_INPUT;
		return -1;
	}
	return 0;
}

/* ---- canonical order ---- */

static int cmp_name(const void *a, const void *b, void *names)
{
	char **name = names;
	return strcmp(name[*(const uint32_t *)a], name[*(const uint32_t *)b]);
}

int sw_store_finish(struct sw_store *s, const bool *used, struct se_err *err)
{
	size_t n = s->ids.n;
	s->order = xmalloc((n + 1) * sizeof(*s->order));
	bool *task_used = xcalloc(s->tasks.n + 1, sizeof(bool));
	for (uint32_t it = 0; it < n; it++) {
		bool ok =
		    s->est[it] >= 0 && s->cur[it] != SW_NO_SLOT && sw_cell(s, it, s->cur[it])->have;
		for (size_t sl = 0; sl < s->nslots && ok; sl++)
			if (used[sl] && !sw_cell(s, it, sl)->have)
				ok = false;
		if (ok) {
			s->order[s->ncomplete++] = it;
			task_used[s->task[it]] = true;
		} else {
			s->nskipped++;
		}
	}
	if (s->ncomplete == 0) {
		free(task_used);
		if (n == 0)
			return se_fail(err, SE_INPUT, s->results_path, "no results to sweep");
		return se_fail(err, SE_INPUT, s->results_path,
			       "no item has a result from every slot's model and a token "
			       "estimate (%zu items): not a full-matrix run",
			       n);
	}
	qsort_r(s->order, s->ncomplete, sizeof(*s->order), cmp_name, s->ids.name);

	uint32_t *idx = xmalloc((s->tasks.n + 1) * sizeof(*idx));
	for (uint32_t t = 0; t < s->tasks.n; t++)
		if (task_used[t])
			idx[s->ntasks++] = t;
	qsort_r(idx, s->ntasks, sizeof(*idx), cmp_name, s->tasks.name);
	s->task_sorted = xmalloc((s->ntasks + 1) * sizeof(*s->task_sorted));
	s->task_rank = xmalloc((s->tasks.n + 1) * sizeof(*s->task_rank));
	for (size_t t = 0; t < s->tasks.n; t++)
		s->task_rank[t] = SW_NONE;
	for (size_t r = 0; r < s->ntasks; r++) {
		s->task_sorted[r] = s->tasks.name[idx[r]];
		s->task_rank[idx[r]] = (uint32_t)r;
	}
	free(idx);
	free(task_used);
	return 0;
}
