/* dif_index.c: diff's pass over results.jsonl (one compact cell per line),
 * the pairing of an A and a B line per item, and reading a line back by its
 * offset; see diff.h.
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash64.h"
#include "core/xalloc.h"

const char *const dif_kind_names[DIF_NKINDS] = {"a-better", "b-better", "both-pass", "neither"};

/* ---- the scanner: the eight fields pass 1 needs, without a parse tree ---- */

struct span {
	const char *p;
	size_t n;
};

enum {
	F_ID = 1,
	F_INDEX = 2,
	F_TASK = 4,
	F_SLOT = 8,
	F_MODEL = 16,
	F_ROLE = 32,
	F_STATUS = 64,
	F_PASS = 128,
	F_ALL = 255
};

struct fields {
	struct span id, task, slot, model, role, status;
	long long index;
	bool pass;
	unsigned have;
};

static const char *skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* p at an opening quote: past the closing one, or NULL; *esc when the string
 * holds a backslash escape. */
static const char *str_end(const char *p, const char *e, bool *esc)
{
	p++;
	*esc = false;
	while (p <= e) {
		const char *q = memchr(p, '"', (size_t)(e - p));
		if (!q)
			return NULL;
		const char *bs = memchr(p, '\\', (size_t)(q - p));
		if (!bs)
			return q + 1;
		*esc = true;
		p = bs;
		while (p < q)
			p += *p == '\\' ? 2 : 1;
		if (p == q)
			return q + 1; /* the quote was not escaped */
				      /* p == q + 1: the quote was escaped, look further */
	}
	return NULL;
}

static const char *skip_nested(const char *p, const char *e)
{
	int depth = 0;
	while (p < e) {
		char c = *p;
		if (c == '"') {
			bool esc;
			p = str_end(p, e, &esc);
			if (!p)
				return NULL;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

static unsigned key_bit(const char *k, size_t n)
{
#define KEY(lit, bit)                                                                              \
	if (n == sizeof(lit) - 1 && !memcmp(k, lit, n))                                            \
		return bit;
	switch (n) {
	case 4:
		KEY("task", F_TASK)
		KEY("slot", F_SLOT)
		KEY("role", F_ROLE)
		KEY("pass", F_PASS)
		break;
	case 5:
		KEY("model", F_MODEL)
		break;
	case 6:
		KEY("status", F_STATUS)
		break;
	case 7:
		KEY("item_id", F_ID)
		break;
	case 10:
		KEY("item_index", F_INDEX)
		break;
	}
#undef KEY
	return 0;
}

#define span_is(p, n, lit) ((n) == sizeof(lit) - 1 && !memcmp((p), (lit), (n)))

static void set_span(struct fields *f, unsigned bit, const char *p, size_t n)
{
	struct span s = {p, n};
	switch (bit) {
	case F_ID:
		f->id = s;
		break;
	case F_TASK:
		f->task = s;
		break;
	case F_SLOT:
		f->slot = s;
		break;
	case F_MODEL:
		f->model = s;
		break;
	case F_ROLE:
		f->role = s;
		break;
	default:
		f->status = s;
		break;
	}
}

/* 0: the fields are read; 1: leave this line to the results reader (an
 * escaped string, a type or shape the fast path does not vouch for). Stops
 * as soon as the eight fields are seen: `output` comes last. */
static int scan_line(const char *s, size_t n, struct fields *f)
{
	const char *p = s, *e = s + n;
	memset(f, 0, sizeof(*f));
	f->index = -1;
	p = skip_ws(p, e);
	if (p >= e || *p != '{')
		return 1;
	p = skip_ws(p + 1, e);
	for (;;) {
		if (p >= e || *p != '"')
			return 1;
		bool esc;
		const char *k = p + 1, *ke = str_end(p, e, &esc);
		if (!ke || esc)
			return 1;
		unsigned bit = key_bit(k, (size_t)(ke - 1 - k));
		if (bit & f->have)
			return 1; /* a duplicate key: the reader decides */
		p = skip_ws(ke, e);
		if (p >= e || *p != ':')
			return 1;
		p = skip_ws(p + 1, e);
		if (p >= e)
			return 1;
		const char *v = p;
		if (*p == '"') {
			p = str_end(p, e, &esc);
			if (!p || (bit && (esc || bit == F_INDEX || bit == F_PASS)))
				return 1;
			if (bit)
				set_span(f, bit, v + 1, (size_t)(p - 1 - (v + 1)));
		} else if (*p == '{' || *p == '[') {
			if (bit)
				return 1;
			p = skip_nested(p, e);
			if (!p)
				return 1;
		} else {
			while (p < e && *p != ',' && *p != '}' && *p != ' ' && *p != '\t' &&
			       *p != '\r' && *p != '\n')
				p++;
			size_t vn = (size_t)(p - v);
			if (vn == 0)
				return 1;
			if (bit == F_INDEX) {
				if (span_is(v, vn, "null"))
					f->index = -1;
				else {
					if (vn > 15)
						return 1;
					long long x = 0;
					for (size_t i = 0; i < vn; i++) {
						if (v[i] < '0' || v[i] > '9')
							return 1;
						x = x * 10 + (v[i] - '0');
					}
					f->index = x;
				}
			} else if (bit == F_PASS) {
				if (span_is(v, vn, "true"))
					f->pass = true;
				else if (!span_is(v, vn, "false"))
					return 1;
			} else if (bit == F_TASK || bit == F_SLOT) {
				if (!span_is(v, vn, "null"))
					return 1;
			} else if (bit) {
				return 1; /* id, model, role and status must be strings */
			}
		}
		f->have |= bit;
		if (f->have == F_ALL)
			return 0;
		p = skip_ws(p, e);
		if (p < e && *p == ',') {
			p = skip_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}')
			break;
		return 1;
	}
	unsigned need = F_ID | F_MODEL | F_ROLE | F_STATUS;
	if ((f->have & need) != need || skip_ws(p + 1, e) != e)
		return 1;
	return 0;
}

/* ---- building the index ---- */

static void fields_from_row(struct fields *f, const struct res_rec *r)
{
	memset(f, 0, sizeof(*f));
#define SP(x) ((struct span){(x), (x) ? strlen(x) : 0})
	f->id = SP(r->item_id);
	f->task = SP(r->task);
	f->slot = SP(r->slot);
	f->model = SP(r->model);
	f->role = SP(res_role_name(r->role));
	f->status = SP(res_status_name(r->status));
#undef SP
	f->index = r->item_index;
	f->pass = r->pass;
	f->have = F_ALL;
}

static size_t intern_span(struct strtab *t, struct span s, struct buf *tmp)
{
	buf_reset(tmp);
	if (s.p)
		buf_append(tmp, s.p, s.n);
	return strtab_intern(t, tmp->data, NULL);
}

static void htab_grow(struct dif_index *x)
{
	size_t size = x->hsize ? x->hsize * 2 : 1024;
	uint32_t *t = xcalloc(size, sizeof(*t));
	for (size_t i = 0; i < x->nitems; i++) {
		size_t h = (size_t)x->items[i].hash & (size - 1);
		while (t[h])
			h = (h + 1) & (size - 1);
		t[h] = (uint32_t)i + 1;
	}
	free(x->htab);
	x->htab = t;
	x->hsize = size;
}

/* An error about line `line` of the results. */
static int line_fail(const struct dif_index *x, size_t line, struct se_err *err, const char *what,
		     const char *val, size_t n)
{
	(void)val;
	(void)n;
	char where[600];
	snprintf(where, sizeof(where), "%s:%zu", x->path, line);
	return se_fail(err, SE_INPUT, where, "%s", what);
}

static int add_line(struct dif_index *x, const struct fields *f, uint64_t off, size_t line,
		    struct buf *tmp, struct se_err *err)
{
	/* The vocabulary is results/vocab.h's: enum dif_role follows enum
	 * res_role, and an unknown status is refused as res_scan refuses it. */
	_Static_assert((int)DIF_ROLE_PRIMARY == (int)RES_PRIMARY &&
			   (int)DIF_ROLE_SHADOW == (int)RES_SHADOW &&
			   (int)DIF_ROLE_FALLBACK == (int)RES_FALLBACK,
		       "dif_role follows res_role");
	int r = res_role_parse(f->role.p, f->role.n);
	int st = res_status_parse(f->status.p, f->status.n);
	if (r < 0 || st < 0) {
		char where[600], known[200];
		snprintf(where, sizeof(where), "%s:%zu", x->path, line);
		const struct span *v = r < 0 ? &f->role : &f->status;
		return se_fail(err, SE_INPUT, where, "%s: unknown %s \"%.*s\" (known: %s)",
			       r < 0 ? "role" : "status", r < 0 ? "role" : "status",
			       (int)(v->n > 40 ? 40 : v->n), v->p,
			       r < 0 ? res_role_list(known, sizeof(known))
				     : res_status_list(known, sizeof(known)));
	}
	uint8_t role = (uint8_t)r;
	if (2 * (x->nitems + 1) > x->hsize)
		htab_grow(x);
	uint64_t hash = hash64(0, f->id.p, f->id.n);
	size_t h = (size_t)hash & (x->hsize - 1);
	uint32_t item = 0;
	for (;;) {
		uint32_t v = x->htab[h];
		if (!v) {
			if (x->nitems >= UINT32_MAX - 1)
				return line_fail(x, line, err, "too many items", NULL, 0);
			x->items = xgrow(x->items, &x->items_cap, x->nitems + 1, sizeof(*x->items));
			struct dif_item *it = &x->items[x->nitems];
			it->hash = hash;
			it->index = f->index;
			it->task = (uint16_t)intern_span(&x->tasks, f->task, tmp);
			it->slot = (uint16_t)intern_span(&x->slots, f->slot, tmp);
			if (x->tasks.n > UINT16_MAX || x->slots.n > UINT16_MAX)
				return line_fail(x, line, err, "too many tasks or slots", NULL, 0);
			item = (uint32_t)x->nitems++;
			x->htab[h] = item + 1;
			break;
		}
		if (x->items[v - 1].hash == hash) {
			item = v - 1;
			break;
		}
		h = (h + 1) & (x->hsize - 1);
	}
	/* lines mostly alternate among a few models: the last few are cached */
	size_t model = SIZE_MAX;
	for (int i = 0; i < 4 && model == SIZE_MAX; i++) {
		size_t m = x->recent[i];
		if (m < x->models.n && strlen(x->models.name[m]) == f->model.n &&
		    !memcmp(x->models.name[m], f->model.p, f->model.n))
			model = m;
	}
	if (model == SIZE_MAX) {
		model = intern_span(&x->models, f->model, tmp);
		x->recent[x->recent_next++ & 3] = model;
	}
	if (model >= UINT16_MAX)
		return line_fail(x, line, err, "too many models", NULL, 0);
	bool ok = st == RES_OK;
	x->cells = xgrow(x->cells, &x->cells_cap, x->ncells + 1, sizeof(*x->cells));
	x->cells[x->ncells++] = (struct dif_cell){
	    .off = off,
	    .item = item,
	    .model = (uint16_t)model,
	    .role = role,
	    .flags = (uint8_t)((ok ? DIF_F_OK : 0) | (ok && f->pass ? DIF_F_PASS : 0)),
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

static void group(struct dif_index *x)
{
	x->first = xcalloc(x->nitems + 1, sizeof(*x->first));
	x->idx = xmalloc((x->ncells + 1) * sizeof(*x->idx));
	for (size_t c = 0; c < x->ncells; c++)
		x->first[x->cells[c].item + 1]++;
	for (size_t i = 0; i < x->nitems; i++)
		x->first[i + 1] += x->first[i];
	uint32_t *fill = xmalloc((x->nitems + 1) * sizeof(*fill));
	memcpy(fill, x->first, (x->nitems + 1) * sizeof(*fill));
	for (size_t c = 0; c < x->ncells; c++)
		x->idx[fill[x->cells[c].item]++] = (uint32_t)c;
	free(fill);
	x->order = xmalloc((x->nitems + 1) * sizeof(*x->order));
	for (size_t i = 0; i < x->nitems; i++)
		x->order[i] = (uint32_t)i;
	qsort_r(x->order, x->nitems, sizeof(*x->order), cmp_order, x->items);
}

/* One line (without its newline): the fast path, else the results reader. */
static int index_line(struct dif_index *x, const char *line, size_t len, bool complete, uint64_t at,
		      struct buf *tmp, struct se_err *err)
{
	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;
	struct fields f;
	/* run --repeats: diff compares one answer per (item, model), sample 0,
	 * as res_scan hands over; a line naming a sample goes to the reader */
	bool sampled = memmem(line, len, "\"sample\":", 9) != NULL;
	if (complete && !sampled && scan_line(line, len, &f) == 0)
		return add_line(x, &f, at, x->lines, tmp, err);
	char where[600];
	snprintf(where, sizeof(where), "%s:%zu", x->path, x->lines);
	struct res_rec row;
	cJSON *doc = NULL;
	if (res_parse_line(line, len, &row, &doc, where, err)) {
		cJSON_Delete(doc);
		if (!complete) { /* a crash mid-append: skipped, as res_scan does */
			x->torn = 1;
			se_clear(err);
			return 0;
		}
		return -1;
	}
	if (row.sample > 0) {
		cJSON_Delete(doc);
		return 0;
	}
	fields_from_row(&f, &row);
	int rc = add_line(x, &f, at, x->lines, tmp, err);
	cJSON_Delete(doc);
	return rc;
}

/* The file is read through a moving mmap window (no copy into a buffer; the
 * window is unmapped as it moves, so the pages read do not stay in this
 * process's memory); a line longer than the window widens it. */
#define WINDOW ((size_t)8 << 20)

int dif_index_load(struct dif_index *x, const char *path, struct se_err *err)
{
	memset(x, 0, sizeof(*x));
	x->fd = -1;
	x->path = xstrdup(path);
	strtab_init(&x->models);
	strtab_init(&x->tasks);
	strtab_init(&x->slots);
	x->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (x->fd < 0)
		return se_fail_errno(err, path, "cannot open results");
	struct stat st;
	if (fstat(x->fd, &st) != 0)
		return se_fail_errno(err, path, "cannot stat results");
	if (!S_ISREG(st.st_mode))
		return se_fail(err, SE_INPUT, path, "not a regular file");
	uint64_t size = (uint64_t)st.st_size, pos = 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), window = WINDOW;
	struct buf tmp;
	buf_init(&tmp);
	int rc = 0;
	while (rc == 0 && pos < size) {
		uint64_t base = pos - pos % page;
		size_t len = size - base < window ? (size_t)(size - base) : window;
		char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, x->fd, (off_t)base);
		if (map == MAP_FAILED) {
			rc = se_fail_errno(err, path, "cannot read results");
			break;
		}
		madvise(map, len, MADV_SEQUENTIAL);
		const char *p = map + (pos - base), *end = map + len;
		bool last_window = base + len == size;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl && !last_window)
				break; /* the line goes on past the window */
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			x->lines++;
			rc = index_line(x, p, n, nl != NULL, pos, &tmp, err);
			pos += n + (nl ? 1 : 0);
			p += n + (nl ? 1 : 0);
			if (rc || x->torn)
				break;
		}
		munmap(map, len);
		if (x->torn)
			break;
		if (rc == 0 && pos < size && pos - pos % page == base)
			window *= 2; /* not one whole line in the window: widen it */
	}
	buf_free(&tmp);
	if (rc)
		return -1;
	group(x);
	return 0;
}

void dif_index_free(struct dif_index *x)
{
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	free(x->path);
	strtab_free(&x->models);
	strtab_free(&x->tasks);
	strtab_free(&x->slots);
	free(x->items);
	free(x->htab);
	free(x->cells);
	free(x->first);
	free(x->idx);
	free(x->order);
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
		free(sel->hit[k]);
	memset(sel, 0, sizeof(*sel));
}

static bool grep_text(const pcre2_code *re, const char *s, size_t n, pcre2_match_data *md)
{
	return s && pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
}

static int grep_hit(const struct dif_index *x, const pcre2_code *re, uint32_t a, uint32_t b,
		    bool *match, struct se_err *err)
{
	struct dif_line la, lb;
	dif_line_init(&la);
	dif_line_init(&lb);
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = dif_line_load(x, a, &la, err);
	if (rc == 0)
		rc = dif_line_load(x, b, &lb, err);
	if (rc == 0)
		*match = grep_text(re, la.row.item_id, strlen(la.row.item_id), md) ||
			 grep_text(re, la.row.output, la.row.output_len, md) ||
			 grep_text(re, lb.row.output, lb.row.output_len, md);
	pcre2_match_data_free(md);
	dif_line_free(&la);
	dif_line_free(&lb);
	return rc;
}

/* A model's answer to an item: its primary line, else shadow, else fallback. */
static long answer_of(const struct dif_index *x, size_t lo, size_t hi, long model)
{
	long best = -1;
	for (size_t i = lo; i < hi; i++) {
		const struct dif_cell *c = &x->cells[x->idx[i]];
		if (c->model != model)
			continue;
		if (best < 0 || c->role < x->cells[best].role)
			best = x->idx[i];
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
			uint32_t ci = x->idx[i];
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
		sel->hit[k] = xgrow(sel->hit[k], &sel->cap[k], sel->n[k] + 1, sizeof(*sel->hit[k]));
		sel->hit[k][sel->n[k]++] = (struct dif_hit){item, (uint32_t)a, (uint32_t)b};
		sel->compared++;
	}
	return 0;
}
