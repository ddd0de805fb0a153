/* dif_index.c: diff's index of results.jsonl (one compact cell per line,
 * from the results reader's fast pass, res_scan_fields), the pairing of an A
 * and a B line per item, and reading a line back by its offset; see diff.h.
 *
 * Not here: output formats (dif_out.c), prompts and expected answers
 * (dif_data.c), the command line (cli/cmd_diff.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "diff/diff.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/hash64.h"
#include "core/xalloc.h"

const char *const dif_kind_names[DIF_NKINDS] = {"a-better", "b-better", "both-pass", "neither"};

/* ---- building the index ---- */

static size_t intern(struct strtab *t, const char *s)
{
	return strtab_intern(t, s ? s : "", NULL);
}

/* A task or slot name: items mostly repeat one of a few (the last
 * DIF_RECENT are compared before the table is hashed). */
static uint16_t intern_recent(struct strtab *t, struct dif_recent *r, const char *s)
{
	s = s ? s : "";
	for (int i = 0; i < DIF_RECENT; i++)
		if (r->name[i] < t->n && !strcmp(t->name[r->name[i]], s))
			return r->name[i];
	uint16_t v = (uint16_t)intern(t, s);
	r->name[r->next++ & (DIF_RECENT - 1)] = v;
	return v;
}

/* The table's entries: the high 32 bits of the id hash, then the item
 * number + 1 (never 0: 0 is an empty slot), so most probes end in the table
 * without reading an item. */
#define HIGH 0xffffffff00000000ULL

static void htab_grow(struct dif_index *x)
{
	size_t need = x->hsize ? x->hsize * 2 : 1024, cap = 0, size = need;
	uint64_t *t = dif_arr_grow(NULL, &cap, need, sizeof(*t));
	while (size <= cap / 2) /* all that was given: fewer probes, fewer rehashes */
		size *= 2;
	for (size_t i = 0; i < x->nitems; i++) {
		uint64_t hash = x->items[i].hash;
		size_t h = (size_t)hash & (size - 1);
		while (t[h])
			h = (h + 1) & (size - 1);
		t[h] = (hash & HIGH) | (i + 1);
	}
	dif_arr_free(x->htab, x->hcap, sizeof(*x->htab));
	x->htab = t;
	x->hsize = size;
	x->hcap = cap;
}

/* The item of the hash, or -1; *slot: where it is or would go. */
static long find_slot(const struct dif_index *x, uint64_t hash, size_t *slot)
{
	size_t h = (size_t)hash & (x->hsize - 1);
	for (uint64_t v; (v = x->htab[h]); h = (h + 1) & (x->hsize - 1)) {
		uint32_t item = (uint32_t)v - 1;
		if ((v & HIGH) == (hash & HIGH) && x->items[item].hash == hash) {
			*slot = h;
			return item;
		}
	}
	*slot = h;
	return -1;
}

long dif_item_find(const struct dif_index *x, uint64_t hash)
{
	size_t slot;
	return x->hsize ? find_slot(x, hash, &slot) : -1;
}

/* An error about line `line` of the results. */
static int line_fail(const struct dif_index *x, size_t line, struct se_err *err, const char *what)
{
	char where[600];
	snprintf(where, sizeof(where), "%s:%zu", x->path, line);
	return se_fail(err, SE_INPUT, where, "%s", what);
}

/* Every line of an item agrees on its task and slot (a line without one
 * takes the others'), as summarize and sweep require. */
static int item_agrees(struct dif_index *x, const struct res_rec *r, uint32_t item,
		       struct se_err *err)
{
	struct dif_item *it = &x->items[item];
	uint16_t task = intern_recent(&x->tasks, &x->recent_task, r->task);
	uint16_t slot = intern_recent(&x->slots, &x->recent_slot, r->slot);
	if (x->tasks.n > UINT16_MAX || x->slots.n > UINT16_MAX)
		return line_fail(x, r->line, err, "too many tasks or slots");
	const char *what = NULL, *had = NULL, *now = NULL;
	if (task != it->task && *x->tasks.name[task] && *x->tasks.name[it->task])
		what = "task", had = x->tasks.name[it->task], now = x->tasks.name[task];
	else if (slot != it->slot && *x->slots.name[slot] && *x->slots.name[it->slot])
		what = "slot", had = x->slots.name[it->slot], now = x->slots.name[slot];
	if (what) {
		char msg[700];
		snprintf(msg, sizeof(msg), "item \"%s\": lines disagree on its %s (\"%s\", \"%s\")",
			 r->item_id, what, had, now);
		return line_fail(x, r->line, err, msg);
	}
	if (!*x->tasks.name[it->task])
		it->task = task;
	if (!*x->slots.name[it->slot])
		it->slot = slot;
	return 0;
}

/* The item of an id: found or added. */
static int item_of(struct dif_index *x, const struct res_rec *r, uint32_t *item, struct se_err *err)
{
	/* an item's lines are mostly adjacent: the last id, compared without hashing */
	if (x->nitems && r->item_id_len == x->last_id.len &&
	    !memcmp(x->last_id.data, r->item_id, r->item_id_len)) {
		*item = x->last_item;
		return item_agrees(x, r, *item, err);
	}
	buf_reset(&x->last_id);
	buf_append(&x->last_id, r->item_id, r->item_id_len);
	uint64_t hash = hash64(0, r->item_id, r->item_id_len);
	if (2 * (x->nitems + 1) > x->hsize)
		htab_grow(x);
	size_t slot;
	long found = find_slot(x, hash, &slot);
	if (found >= 0) {
		*item = x->last_item = (uint32_t)found;
		return item_agrees(x, r, *item, err);
	}
	if (x->nitems >= UINT32_MAX - 1)
		return line_fail(x, r->line, err, "too many items");
	x->items = dif_arr_grow(x->items, &x->items_cap, x->nitems + 1, sizeof(*x->items));
	struct dif_item *it = &x->items[x->nitems];
	it->hash = hash;
	it->index = r->item_index;
	it->task = intern_recent(&x->tasks, &x->recent_task, r->task);
	it->slot = intern_recent(&x->slots, &x->recent_slot, r->slot);
	if (x->tasks.n > UINT16_MAX || x->slots.n > UINT16_MAX)
		return line_fail(x, r->line, err, "too many tasks or slots");
	*item = x->last_item = (uint32_t)x->nitems++;
	x->htab[slot] = (hash & HIGH) | (*item + 1);
	return 0;
}

/* One line of the results (res_scan_fields' callback). */
static int add_line(void *ctx, const struct res_rec *r)
{
	struct dif_index *x = ctx;
	/* enum dif_role follows enum res_role (results/vocab.h) */
	_Static_assert((int)DIF_ROLE_PRIMARY == (int)RES_PRIMARY &&
			   (int)DIF_ROLE_SHADOW == (int)RES_SHADOW &&
			   (int)DIF_ROLE_FALLBACK == (int)RES_FALLBACK,
		       "dif_role follows res_role");
	uint32_t item = 0;
	if (item_of(x, r, &item, x->load_err))
		return -1;
	/* lines mostly alternate among a few models: the last few are cached */
	size_t model = SIZE_MAX;
	for (int i = 0; i < DIF_RECENT && model == SIZE_MAX; i++) {
		size_t m = x->recent[i];
		if (m < x->models.n && x->recent_len[i] == r->model_len &&
		    !memcmp(x->models.name[m], r->model, r->model_len))
			model = m;
	}
	if (model == SIZE_MAX) {
		model = intern(&x->models, r->model);
		x->recent_len[x->recent_next & (DIF_RECENT - 1)] = r->model_len;
		x->recent[x->recent_next++ & (DIF_RECENT - 1)] = model;
	}
	if (model >= UINT16_MAX)
		return line_fail(x, r->line, x->load_err, "too many models");
	bool ok = r->status == RES_OK;
	x->cells = dif_arr_grow(x->cells, &x->cells_cap, x->ncells + 1, sizeof(*x->cells));
	x->cells[x->ncells++] = (struct dif_cell){
	    .off = r->off,
	    .item = item,
	    .model = (uint16_t)model,
	    .role = (uint8_t)r->role,
	    .flags = (uint8_t)((ok ? DIF_F_OK : 0) | (ok && r->pass ? DIF_F_PASS : 0)),
	};
	return 0;
}

static int cmp_order(const void *pa, const void *pb, void *ctx)
{
	const struct dif_item *items = ctx;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	/* absent indexes (-1) after the others, then by first appearance */
	uint64_t ia = (uint64_t)items[a].index, ib = (uint64_t)items[b].index;
	if (ia != ib)
		return ia < ib ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Whether the items already are in cmp_order's order (they mostly are:
 * a run writes its items in dataset order). */
static bool in_order(const struct dif_item *items, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((uint64_t)items[i - 1].index > (uint64_t)items[i].index)
			return false;
	return true;
}

static void group(struct dif_index *x)
{
	x->first = dif_arr_grow(NULL, &x->first_cap, x->nitems + 1, sizeof(*x->first));
	/* items are numbered as they first appear, so when each item's lines
	 * are adjacent the items' numbers step by 0 or 1 and the grouping is
	 * the cells' own order: no idx */
	bool adjacent = true;
	for (size_t c = 0; c < x->ncells; c++) {
		uint32_t item = x->cells[c].item;
		x->first[item + 1]++;
		if (c && item != x->cells[c - 1].item && item != x->cells[c - 1].item + 1)
			adjacent = false;
	}
	for (size_t i = 0; i < x->nitems; i++)
		x->first[i + 1] += x->first[i];
	if (!adjacent) {
		x->idx = dif_arr_grow(NULL, &x->idx_cap, x->ncells + 1, sizeof(*x->idx));
		size_t fill_cap = 0;
		uint32_t *fill = dif_arr_grow(NULL, &fill_cap, x->nitems + 1, sizeof(*fill));
		memcpy(fill, x->first, (x->nitems + 1) * sizeof(*fill));
		for (size_t c = 0; c < x->ncells; c++)
			x->idx[fill[x->cells[c].item]++] = (uint32_t)c;
		dif_arr_free(fill, fill_cap, sizeof(*fill));
	}
	x->order = dif_arr_grow(NULL, &x->order_cap, x->nitems + 1, sizeof(*x->order));
	for (size_t i = 0; i < x->nitems; i++)
		x->order[i] = (uint32_t)i;
	if (!in_order(x->items, x->nitems))
		qsort_r(x->order, x->nitems, sizeof(*x->order), cmp_order, x->items);
}

static int check_items(const struct dif_index *x, struct se_err *err);

int dif_index_load(struct dif_index *x, const char *path, struct se_err *err)
{
	memset(x, 0, sizeof(*x));
	x->fd = -1;
	x->path = xstrdup(path);
	buf_init(&x->last_id);
	strtab_init(&x->models);
	strtab_init(&x->tasks);
	strtab_init(&x->slots);
	x->fd = fio_open_regular(path, "results", err); /* a FIFO is refused */
	if (x->fd < 0)
		return -1;
	/* run --repeats: diff compares one answer per (item, model), sample 0 */
	struct res_fields sf = {.want = RES_WANT_TASK | RES_WANT_SLOT};
	x->load_err = err;
	int rc = res_scan_fields(path, &sf, add_line, x, err);
	x->load_err = NULL;
	x->lines = sf.lines;
	x->torn = sf.torn;
	if (rc)
		return -1;
	group(x);
	return check_items(x, err);
}

void dif_index_free(struct dif_index *x)
{
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	free(x->path);
	buf_free(&x->last_id);
	strtab_free(&x->models);
	strtab_free(&x->tasks);
	strtab_free(&x->slots);
	dif_arr_free(x->items, x->items_cap, sizeof(*x->items));
	dif_arr_free(x->htab, x->hcap, sizeof(*x->htab));
	dif_arr_free(x->cells, x->cells_cap, sizeof(*x->cells));
	dif_arr_free(x->first, x->first_cap, sizeof(*x->first));
	dif_arr_free(x->idx, x->idx_cap, sizeof(*x->idx));
	dif_arr_free(x->order, x->order_cap, sizeof(*x->order));
	memset(x, 0, sizeof(*x));
	x->fd = -1;
}

long dif_model_find(const struct dif_index *x, const char *name)
{
	return strtab_find(&x->models, name);
}

bool dif_model_is_shadow(const struct dif_index *x, size_t model)
{
	for (size_t c = 0; c < x->ncells; c++)
		if (x->cells[c].model == model && x->cells[c].role == DIF_ROLE_SHADOW)
			return true;
	return false;
}

/* ---- reading a line back ---- */

void dif_line_init(struct dif_line *l)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->text);
	res_rec_init(&l->row);
}

void dif_line_free(struct dif_line *l)
{
	cJSON_Delete(l->doc);
	l->doc = NULL;
	buf_free(&l->text);
}

/* The 1-based line number of a byte offset, for an error message. */
static size_t line_of(int fd, uint64_t off)
{
	char chunk[65536];
	size_t line = 1;
	uint64_t at = 0;
	while (at < off) {
		size_t want = off - at < sizeof(chunk) ? (size_t)(off - at) : sizeof(chunk);
		ssize_t got = pread(fd, chunk, want, (off_t)at);
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++)
			line += chunk[i] == '\n';
		at += (uint64_t)got;
	}
	return line;
}

static const enum res_role role_of_cell[] = {[DIF_ROLE_PRIMARY] = RES_PRIMARY,
					     [DIF_ROLE_SHADOW] = RES_SHADOW,
					     [DIF_ROLE_FALLBACK] = RES_FALLBACK};

/* The error for cells a (at grouping position i) and b of one item: the
 * same model twice, or two primaries. Returns -1. */
static int item_rule_fail(const struct dif_index *x, uint32_t i, const struct dif_cell *a,
			  const struct dif_cell *b, bool same, struct se_err *err)
{
	size_t la = line_of(x->fd, a->off), lb = line_of(x->fd, b->off);
	struct dif_line l;
	dif_line_init(&l);
	if (dif_line_load(x, dif_cell_at(x, i), &l, err) == 0) {
		if (same) {
			res_fail_duplicate(err, l.row.item_id, x->models.name[a->model],
					   role_of_cell[b->role], x->path, lb,
					   role_of_cell[a->role], x->path, la);
		} else {
			char msg[700];
			snprintf(msg, sizeof(msg),
				 "item \"%s\" has more than one primary result (lines %zu and %zu)",
				 l.row.item_id, la, lb);
			line_fail(x, lb, err, msg);
		}
	}
	dif_line_free(&l);
	return -1;
}

/* The rules summarize and sweep apply to an item's lines: one line per
 * (item, model), one primary. Errors name both lines. */
static int check_items(const struct dif_index *x, struct se_err *err)
{
	for (size_t it = 0; it < x->nitems; it++) {
		for (uint32_t i = x->first[it]; i < x->first[it + 1]; i++) {
			const struct dif_cell *a = &x->cells[dif_cell_at(x, i)];
			for (uint32_t j = i + 1; j < x->first[it + 1]; j++) {
				const struct dif_cell *b = &x->cells[dif_cell_at(x, j)];
				bool same = a->model == b->model;
				if (!same &&
				    !(a->role == DIF_ROLE_PRIMARY && b->role == DIF_ROLE_PRIMARY))
					continue;
				return item_rule_fail(x, i, a, b, same, err);
			}
		}
	}
	return 0;
}

int dif_line_load(const struct dif_index *x, uint32_t cell, struct dif_line *l, struct se_err *err)
{
	cJSON_Delete(l->doc);
	l->doc = NULL;
	buf_reset(&l->text);
	uint64_t at = x->cells[cell].off;
	size_t chunk = 2048; /* most lines fit; doubled for long ones */
	for (;;) {
		buf_reserve(&l->text, chunk);
		ssize_t got = pread(x->fd, l->text.data + l->text.len, chunk, (off_t)at);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return se_fail_errno(err, x->path, "read failed");
		}
		char *nl = memchr(l->text.data + l->text.len, '\n', (size_t)got);
		if (nl) {
			l->text.len = (size_t)(nl - l->text.data);
			break;
		}
		l->text.len += (size_t)got;
		at += (uint64_t)got;
		if (got == 0)
			break;
		if (chunk < ((size_t)1 << 20))
			chunk *= 2;
	}
	if (l->text.len && l->text.data[l->text.len - 1] == '\r')
		l->text.len--;
	l->text.data[l->text.len] = '\0';
	if (l->text.len == 0) /* the file changed under us */
		return se_fail(err, SE_INPUT, x->path, "results changed while diff read them");
	int rc = res_parse_line(l->text.data, l->text.len, &l->row, &l->doc, x->path, err);
	if (rc == 0 &&
	    hash64(0, l->row.item_id, strlen(l->row.item_id)) != x->items[x->cells[cell].item].hash)
		rc = se_fail(err, SE_INPUT, x->path, "results changed while diff read them");
	if (rc) /* name the line: counted only now, on the error path */
		snprintf(err->where, sizeof(err->where), "%s:%zu", x->path,
			 line_of(x->fd, x->cells[cell].off));
	return rc;
}

const cJSON *dif_line_checks(const struct dif_line *l)
{
	const cJSON *c = l->doc ? cJSON_GetObjectItemCaseSensitive(l->doc, "checks") : NULL;
	return cJSON_IsObject(c) ? c : NULL;
}

/* ---- pairing ---- */

void dif_sel_free(struct dif_sel *sel)
{
	for (int k = 0; k < DIF_NKINDS; k++)
		dif_arr_free(sel->hit[k], sel->cap[k], sizeof(*sel->hit[k]));
	memset(sel, 0, sizeof(*sel));
}

/* PCRE2's limits for --grep: a pattern that backtracks past them on a line
 * is an error naming the flag, not a slow silent miss (PCRE2's own default
 * match limit lets one line take a second). */
#define DIF_GREP_MATCH_LIMIT 1000000u
#define DIF_GREP_DEPTH_LIMIT 10000u

int dif_grep_lines(const void *re, const struct dif_line *const *lines, int n, bool *hit,
		   struct se_err *err)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(mc, DIF_GREP_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, DIF_GREP_DEPTH_LIMIT);
	int rc = 0;
	*hit = false;
	for (int i = 0; i < n && !*hit && rc == 0; i++) {
		const struct res_rec *r = &lines[i]->row;
		/* the item id is the same on every line: matched on the first */
		const char *text[2] = {i == 0 ? r->item_id : NULL, r->output};
		size_t len[2] = {i == 0 ? strlen(r->item_id) : 0, r->output_len};
		for (int t = 0; t < 2 && !*hit && rc == 0; t++) {
			if (!text[t])
				continue;
			int m = pcre2_match(re, (PCRE2_SPTR)text[t], len[t], 0, 0, md, mc);
			if (m >= 0) {
				*hit = true;
			} else if (m != PCRE2_ERROR_NOMATCH) {
				PCRE2_UCHAR msg[128];
				pcre2_get_error_message(m, msg, sizeof(msg));
				rc = se_fail(err, SE_INPUT, "--grep",
					     "the pattern failed on item \"%s\": %s (simplify it)",
					     r->item_id, (const char *)msg);
			}
		}
	}
	pcre2_match_context_free(mc);
	pcre2_match_data_free(md);
	return rc;
}

static int grep_hit(const struct dif_index *x, const pcre2_code *re, uint32_t a, uint32_t b,
		    bool *match, struct se_err *err)
{
	struct dif_line la, lb;
	dif_line_init(&la);
	dif_line_init(&lb);
	int rc = dif_line_load(x, a, &la, err);
	if (rc == 0)
		rc = dif_line_load(x, b, &lb, err);
	if (rc == 0) {
		const struct dif_line *both[2] = {&la, &lb};
		rc = dif_grep_lines(re, both, 2, match, err);
	}
	dif_line_free(&la);
	dif_line_free(&lb);
	return rc;
}

/* A model's answer to an item: its primary line, else shadow, else fallback. */
static long answer_of(const struct dif_index *x, size_t lo, size_t hi, long model)
{
	long best = -1;
	for (size_t i = lo; i < hi; i++) {
		const struct dif_cell *c = &x->cells[dif_cell_at(x, i)];
		if (c->model != model)
			continue;
		if (best < 0 || c->role < x->cells[best].role)
			best = dif_cell_at(x, i);
	}
	return best;
}

int dif_select(const struct dif_index *x, const struct dif_spec *spec, struct dif_sel *sel,
	       struct se_err *err)
{
	memset(sel, 0, sizeof(*sel));
	for (size_t r = 0; r < x->nitems; r++) {
		uint32_t item = x->order[r];
		const struct dif_item *it = &x->items[item];
		if ((spec->task >= 0 && it->task != spec->task) ||
		    (spec->slot >= 0 && it->slot != spec->slot))
			continue;
		size_t lo = x->first[item], hi = x->first[item + 1];
		long a = -1, b = -1, primary = -1;
		for (size_t i = lo; i < hi; i++) {
			uint32_t ci = dif_cell_at(x, i);
			const struct dif_cell *c = &x->cells[ci];
			if (c->role == DIF_ROLE_PRIMARY)
				primary = ci;
			else if (c->role == DIF_ROLE_SHADOW && spec->a < 0 && c->model == spec->b)
				b = ci;
		}
		if (spec->a == DIF_A_PRIMARY)
			a = primary;
		else if (spec->a == DIF_A_POLICY)
			a = dif_policy_cell(x, item);
		else {
			a = answer_of(x, lo, hi, spec->a);
			b = answer_of(x, lo, hi, spec->b);
		}
		if (a < 0 || b < 0 || a == b)
			continue;
		bool pa = x->cells[a].flags & DIF_F_PASS, pb = x->cells[b].flags & DIF_F_PASS;
		int k = pa && !pb   ? DIF_A_BETTER
			: pb && !pa ? DIF_B_BETTER
			: pa	    ? DIF_BOTH_PASS
				    : DIF_NEITHER;
		if (spec->grep) {
			bool match = false;
			if (grep_hit(x, spec->grep, (uint32_t)a, (uint32_t)b, &match, err))
				return -1;
			if (!match)
				continue;
		}
		sel->n[k]++;
		sel->compared++;
		if ((spec->count_only & (1u << k)) || (spec->keep && sel->kept[k] >= spec->keep))
			continue; /* counted only: never printed */
		sel->hit[k] =
		    dif_arr_grow(sel->hit[k], &sel->cap[k], sel->kept[k] + 1, sizeof(*sel->hit[k]));
		sel->hit[k][sel->kept[k]++] = (struct dif_hit){item, (uint32_t)a, (uint32_t)b};
	}
	return 0;
}
