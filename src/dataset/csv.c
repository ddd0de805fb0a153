/* csv.c: CSV datasets (RFC 4180 with a header row) read with libcsv.
 *
 * The file is fed to csv_parse one physical line at a time, so that every
 * error can name the line (and the column, for a stray quote) where it was
 * found, and a record's first line is known. Records end at LF; a CR before
 * it (CRLF) is dropped by declaring CR the only "space" libcsv trims, which
 * also keeps real spaces in unquoted fields, as RFC 4180 wants. Each record
 * becomes a cJSON object of string fields that dataset.c turns into an item.
 * Not done here: ids, expected answers, prompts.
 */
#include <cJSON.h>
#include <string.h>

#include "core/jsonnul.h"
#include "core/xalloc.h"
#include "dataset/internal.h"

static int is_cr(unsigned char c)
{
	return c == '\r';
}

static int is_lf(unsigned char c)
{
	return c == '\n';
}

static void on_field(void *s, size_t len, void *data)
{
	struct ds_csv *c = &((struct ds_reader *)data)->csv;
	if (c->n == c->cap) {
		size_t cap = c->cap;
		c->off = xgrow(c->off, &cap, c->n + 1, sizeof(*c->off));
		cap = c->cap;
		c->len = xgrow(c->len, &cap, c->n + 1, sizeof(*c->len));
		c->cap = cap;
	}
	c->off[c->n] = c->data.len;
	c->len[c->n] = len;
	if (len)
		buf_append(&c->data, s, len);
	buf_putc(&c->data, '\0');
	c->n++;
}

static void on_record(int ch, void *data)
{
	(void)ch;
	((struct ds_reader *)data)->csv.done = true;
}

static void record_reset(struct ds_csv *c)
{
	c->done = false;
	c->n = 0;
	buf_reset(&c->data);
}

/* Feeds lines until a whole record is in c->data. 1: a record, 0: the end. */
static int next_record(struct ds_reader *r, struct se_err *err)
{
	struct ds_csv *c = &r->csv;
	char w[600];
	for (;;) {
		if (c->done)
			return 1;
		int got = ds_read_line(r, err);
		if (got < 0)
			return -1;
		if (!got) {
			if (c->finished)
				return 0;
			c->finished = true;
			if (csv_fini(&c->p, on_field, on_record, r)) {
				snprintf(w, sizeof(w), "%s:%zu", r->path, c->start_line);
				return se_fail(err, SE_INPUT, w,
					       "unterminated quoted field at end of file");
			}
			return c->done ? 1 : 0;
		}
		const char *s = r->lines.line.data;
		size_t n = r->lines.line.len;
		size_t col0 = 0;
		if (r->lineno == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
			s += 3;
			n -= 3;
			col0 = 3;
		}
		if (ds_check_utf8(r, s, n, col0, err))
			return -1;
		if (!c->in_record) {
			c->start_line = r->lineno;
			c->rec_bytes = 0;
		}
		c->rec_bytes += n;
		if (c->rec_bytes > DS_MAX_LINE) {
			snprintf(w, sizeof(w), "%s:%zu", r->path, c->start_line);
			return se_fail(err, SE_INPUT, w, "record longer than 16 MiB");
		}
		size_t used = csv_parse(&c->p, s, n, on_field, on_record, r);
		if (used < n) {
			snprintf(w, sizeof(w), "%s:%zu:%zu", r->path, r->lineno, col0 + used + 1);
			return se_fail(
			    err, SE_INPUT, w,
			    "invalid CSV: a quote inside an unquoted field or text after "
			    "a closing quote");
		}
		/* pstate 0 is libcsv's ROW_NOT_BEGUN: anything else means the
		 * record goes on to the next line (a quoted line break). */
		c->in_record = c->p.pstate != 0;
	}
}

int ds_csv_open(struct ds_reader *r, struct se_err *err)
{
	struct ds_csv *c = &r->csv;
	char w[600];
	if (csv_init(&c->p, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI))
		return se_fail(err, SE_INPUT, r->path, "cannot initialise the CSV parser");
	c->p_init = true;
	csv_set_space_func(&c->p, is_cr);
	csv_set_term_func(&c->p, is_lf);
	int rc = next_record(r, err);
	if (rc < 0)
		return -1;
	if (!rc)
		return se_fail(err, SE_INPUT, r->path, "CSV file has no header row");
	snprintf(w, sizeof(w), "%s:%zu", r->path, c->start_line);
	c->header = xcalloc(c->n, sizeof(*c->header));
	c->n_header = c->n;
	for (size_t i = 0; i < c->n; i++) {
		const char *name = c->data.data + c->off[i];
		if (!c->len[i])
			return se_fail(err, SE_INPUT, w, "header: column %zu has no name", i + 1);
		if (memchr(name, '\0', c->len[i]))
			return se_fail(err, SE_INPUT, w, "header: column %zu %s", i + 1,
				       JSONNUL_MSG);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->header[j], name))
				return se_fail(err, SE_INPUT, w, "header: duplicate column \"%s\"",
					       name);
		c->header[i] = xstrdup(name);
	}
	record_reset(c);
	return 0;
}

void ds_csv_free(struct ds_reader *r)
{
	struct ds_csv *c = &r->csv;
	if (c->p_init)
		csv_free(&c->p);
	for (size_t i = 0; i < c->n_header; i++)
		free(c->header[i]);
	free(c->header);
	free(c->off);
	free(c->len);
	buf_free(&c->data);
}

static void put(cJSON *obj, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

/* A JSON array of strings and numbers, or NULL (then the cell is text). */
static cJSON *as_list(const char *s, size_t n)
{
	size_t col;
	if (!n || s[0] != '[')
		return NULL;
	cJSON *j = ds_parse_json(s, n, &col);
	if (!cJSON_IsArray(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	for (const cJSON *e = j->child; e; e = e->next) {
		if (!cJSON_IsString(e) && !cJSON_IsNumber(e)) {
			cJSON_Delete(j);
			return NULL;
		}
	}
	return j;
}

/* Not "id": an empty id cell is an empty id, refused as in JSONL (taking
 * the record number instead made a later id "1" a duplicate of a line that
 * has no id). */
static bool omitted_when_empty(const struct ds_reader *r, const char *name)
{
	return !strcmp(name, "task") || !strcmp(name, "metadata") ||
	       !strncmp(name, "metadata.", 9) || !strcmp(name, "messages") ||
	       !strcmp(name, r->expected_field);
}

static int build(struct ds_reader *r, cJSON **out, struct se_err *err)
{
	struct ds_csv *c = &r->csv;
	char w[600];
	snprintf(w, sizeof(w), "%s:%zu", r->path, c->start_line);
	cJSON *obj = cJSON_CreateObject();
	cJSON *md = NULL;
	*out = obj;
	/* Cells become NUL-terminated strings: a NUL would cut a prompt, an id
	 * or an answer without a word. JSON cells are also searched for \u0000. */
	for (size_t i = 0; i < c->n; i++) {
		const char *s = c->data.data + c->off[i];
		const char *name = c->header[i];
		char jpath[256];
		bool json = !strcmp(name, "metadata") || !strcmp(name, "messages");
		if (memchr(s, '\0', c->len[i]))
			return se_fail(err, SE_INPUT, w, "column \"%s\": %s", name, JSONNUL_MSG);
		if (json && jsonnul_find(s, c->len[i], jpath, sizeof(jpath)))
			return se_fail(err, SE_INPUT, w, "column \"%s\": %s: %s", name, jpath,
				       JSONNUL_MSG);
	}
	/* "metadata" first, so that metadata.KEY columns add to it whatever
	 * the column order. */
	for (size_t i = 0; i < c->n; i++) {
		const char *s = c->data.data + c->off[i];
		if (strcmp(c->header[i], "metadata") || !c->len[i])
			continue;
		size_t col;
		md = ds_parse_json(s, c->len[i], &col);
		if (!md)
			return se_fail(err, SE_INPUT, w,
				       "column \"metadata\" is not valid JSON (error at byte %zu)",
				       col);
		cJSON_AddItemToObject(obj, "metadata", md);
		if (!cJSON_IsObject(md))
			return se_fail(err, SE_INPUT, w,
				       "column \"metadata\" is not a JSON object");
	}
	for (size_t i = 0; i < c->n; i++) {
		const char *name = c->header[i];
		const char *s = c->data.data + c->off[i];
		size_t n = c->len[i];
		if (!strcmp(name, "metadata"))
			continue;
		if (!n && omitted_when_empty(r, name))
			continue;
		if (!strncmp(name, "metadata.", 9) && name[9]) {
			if (!md) {
				md = cJSON_CreateObject();
				cJSON_AddItemToObject(obj, "metadata", md);
			}
			put(md, name + 9, cJSON_CreateString(s));
		} else if (!strcmp(name, "messages")) {
			size_t col;
			cJSON *m = ds_parse_json(s, n, &col);
			if (!m)
				return se_fail(
				    err, SE_INPUT, w,
				    "column \"messages\" is not valid JSON (error at byte %zu)",
				    col);
			put(obj, name, m);
		} else if (!strcmp(name, r->expected_field)) {
			cJSON *l = as_list(s, n);
			char jpath[256];
			if (l && jsonnul_find(s, n, jpath, sizeof(jpath))) {
				cJSON_Delete(l);
				return se_fail(err, SE_INPUT, w, "column \"%s\": %s: %s", name,
					       jpath, JSONNUL_MSG);
			}
			put(obj, name, l ? l : cJSON_CreateString(s));
		} else {
			put(obj, name, cJSON_CreateString(s));
		}
	}
	return 0;
}

int ds_csv_next(struct ds_reader *r, struct ds_item *item, struct se_err *err)
{
	struct ds_csv *c = &r->csv;
	char w[600];
	int rc = next_record(r, err);
	if (rc <= 0)
		return rc;
	c->records++;
	if (c->n != c->n_header) {
		snprintf(w, sizeof(w), "%s:%zu", r->path, c->start_line);
		return se_fail(err, SE_INPUT, w, "record has %zu fields, header has %zu", c->n,
			       c->n_header);
	}
	cJSON *obj;
	rc = build(r, &obj, err);
	record_reset(c);
	if (rc) {
		cJSON_Delete(obj);
		return -1;
	}
	if (ds_item_from_obj(r, obj, c->start_line, c->records, item, err))
		return -1;
	return 1;
}
