/* dataset.c: the dataset reader: opening, line input, JSONL items, ids,
 * expected answers, and field lookup; see dataset.h.
 *
 * CSV records are assembled in csv.c; this file turns any parsed object into
 * an item. It does not render prompts (prompt/) nor score answers (checks/).
 */
#include "dataset/internal.h"

#include <cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/jsonnul.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "core/xalloc.h"

static void where_line(const struct ds_reader *r, size_t line, char *w, size_t n)
{
	snprintf(w, n, "%s:%zu", r->path, line);
}

static void hash_chunk(void *ctx, const void *p, size_t n)
{
	struct ds_reader *r = ctx;
	r->bytes += (long long)n;
	if (!r->no_hash)
		sha256_update(&r->sha, p, n);
}

int ds_read_line(struct ds_reader *r, struct se_err *err)
{
	int got = lines_next(&r->lines, r->path, r->lineno + 1, "dataset", err);
	if (got > 0)
		r->lineno++;
	return got;
}

int ds_check_utf8(const struct ds_reader *r, const char *s, size_t n, size_t col0,
		  struct se_err *err)
{
	if (utf8_valid(s, n))
		return 0;
	/* Find the first bad byte: each valid sequence is 1 to 4 bytes long. */
	size_t i = 0;
	while (i < n) {
		size_t k = 1;
		while (k <= 4 && i + k <= n && !utf8_valid(s + i, k))
			k++;
		if (k > 4 || i + k > n)
			break;
		i += k;
	}
	char w[600];
	where_line(r, r->lineno, w, sizeof(w));
	return se_fail(err, SE_INPUT, w, "invalid UTF-8 at byte %zu", col0 + i + 1);
}

struct cJSON *ds_parse_json(const char *s, size_t n, size_t *col)
{
	const char *end = NULL;
	/* The length includes the terminating NUL: cJSON wants to see it when
	 * asked to reject trailing text. The error position is taken from
	 * return_parse_end, not from the global cJSON_GetErrorPtr. */
	cJSON *j = cJSON_ParseWithLengthOpts(s, n + 1, &end, 1);
	if (!j)
		*col = end && end >= s ? (size_t)(end - s) + 1 : 1;
	return j;
}

/* The line of the first item before `before` whose id is exactly id, by a
 * second reader over the same file (no fingerprints, no hash); 0 when none
 * is (two distinct ids with one fingerprint: not a duplicate). Runs only
 * when a fingerprint matches: once for a real duplicate (the read stops
 * there), about never otherwise (n^2 / 2^65 at n items). */
static size_t first_line_of(const struct ds_reader *r, const char *id, size_t before)
{
	struct cfg_dataset cd = {.path = r->path,
				 .format = r->format == DS_CSV ? "csv" : "jsonl",
				 .expected_field = r->expected_field,
				 .expected_regex = r->expected_regex};
	struct ds_reader *again = NULL;
	struct se_err err;
	if (ds_open(&again, &cd, &err))
		return 0;
	again->require_prompt = r->require_prompt;
	again->no_ids = true;
	again->no_hash = true;
	struct ds_item it;
	memset(&it, 0, sizeof(it));
	size_t found = 0;
	while (!found && ds_next(again, &it, &err) > 0 && it.line < before)
		if (!strcmp(it.id, id))
			found = it.line;
	ds_item_clear(&it);
	ds_close(again);
	return found;
}

/* Returns the line where id was first seen, or 0 after adding it. */
static size_t id_add(struct ds_reader *r, const char *id, size_t line)
{
	if (r->no_ids || !ds_ids_add(&r->ids, ds_ids_fingerprint(id)))
		return 0;
	return first_line_of(r, id, line);
}

static bool check_messages(const cJSON *msgs, char *why, size_t n)
{
	if (!cJSON_IsArray(msgs)) {
		snprintf(why, n, "\"messages\" is not an array");
		return false;
	}
	if (!cJSON_GetArraySize(msgs)) {
		snprintf(why, n, "\"messages\" is empty");
		return false;
	}
	int i = 0;
	for (const cJSON *m = msgs->child; m; m = m->next, i++) {
		if (!cJSON_IsObject(m)) {
			snprintf(why, n, "messages[%d] is not an object", i);
			return false;
		}
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
		if (!cJSON_IsString(role)) {
			snprintf(why, n, "messages[%d] has no \"role\" string", i);
			return false;
		}
		if (!cJSON_IsString(content) && !cJSON_IsArray(content)) {
			snprintf(why, n, "messages[%d] has no \"content\" string or array", i);
			return false;
		}
	}
	return true;
}

/* The node a field name designates: the item's own key, else metadata's
 * key, else for "a.b" the key b of the object a. */
static const cJSON *lookup(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (v)
		return v;
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (cJSON_IsObject(md) && (v = cJSON_GetObjectItemCaseSensitive(md, name)))
		return v;
	const char *dot = strchr(name, '.');
	if (!dot || dot == name || !dot[1])
		return NULL;
	char parent[256];
	size_t n = (size_t)(dot - name);
	if (n >= sizeof(parent))
		return NULL;
	memcpy(parent, name, n);
	parent[n] = '\0';
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(obj, parent);
	return cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, dot + 1) : NULL;
}

static void push_expected(struct ds_item *item, char *s)
{
	item->expected_buf =
	    xrealloc(item->expected_buf, (item->n_expected + 1) * sizeof(*item->expected_buf));
	item->expected_buf[item->n_expected++] = s;
}

/* One expected value as text, through the regex when there is one. */
static int expected_one(struct ds_reader *r, const cJSON *v, struct ds_item *item, const char *w,
			struct se_err *err)
{
	char num[64];
	const char *s;
	if (cJSON_IsString(v)) {
		s = v->valuestring;
	} else if (cJSON_IsNumber(v)) {
		jsonw_number_text(v->valuedouble, num, sizeof(num));
		s = num;
	} else {
		return se_fail(
		    err, SE_INPUT, w,
		    "expected: field \"%s\" must be a string, a number or a list of them",
		    r->expected_field);
	}
	if (!r->re) {
		push_expected(item, xstrdup(s));
		return 0;
	}
	int rc = pcre2_match(r->re, (PCRE2_SPTR)s, strlen(s), 0, 0, r->md, NULL);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		return se_fail(err, SE_INPUT, w, "expected: pattern failed on field \"%s\": %s",
			       r->expected_field, (const char *)msg);
	}
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
	if (rc < 2 || ov[2] == PCRE2_UNSET) /* no match, or group 1 unset */
		return se_fail(err, SE_INPUT, w, "expected: pattern did not match field \"%s\"",
			       r->expected_field);
	push_expected(item, xstrndup(s + ov[2], ov[3] - ov[2]));
	return 0;
}

static int take_expected(struct ds_reader *r, struct ds_item *item, const char *w,
			 struct se_err *err)
{
	const cJSON *v = lookup(item->obj, r->expected_field);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsArray(v)) {
		for (const cJSON *e = v->child; e; e = e->next)
			if (expected_one(r, e, item, w, err))
				return -1;
	} else if (expected_one(r, v, item, w, err)) {
		return -1;
	}
	if (item->n_expected) {
		item->expected = xmalloc(item->n_expected * sizeof(*item->expected));
		for (size_t i = 0; i < item->n_expected; i++)
			item->expected[i] = item->expected_buf[i];
	}
	return 0;
}

int ds_item_from_obj(struct ds_reader *r, cJSON *obj, size_t line, size_t number,
		     struct ds_item *item, struct se_err *err)
{
	char w[600], why[128];
	where_line(r, line, w, sizeof(w));
	item->obj = obj;
	item->line = line;
	char at[JSONV_PATH];
	const char *dup = jsonv_duplicate_key(obj, "", at);
	if (dup) /* as in the config and results.jsonl: one value per key */
		return se_fail(err, SE_INPUT, w, "%s%sduplicate key \"%s\"", at, *at ? ": " : "",
			       dup);
	item->index = r->index;

	const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(obj, "prompt");
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(obj, "messages");
	if (prompt && !cJSON_IsString(prompt))
		return se_fail(err, SE_INPUT, w, "\"prompt\" is not a string");
	if (msgs && !check_messages(msgs, why, sizeof(why)))
		return se_fail(err, SE_INPUT, w, "%s", why);
	if (!prompt && !msgs && r->require_prompt)
		return se_fail(err, SE_INPUT, w, "missing \"prompt\" or \"messages\"");

	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	char tmp[64];
	if (cJSON_IsString(id)) {
		if (!id->valuestring[0])
			return se_fail(err, SE_INPUT, w, "\"id\" is empty");
		item->id = id->valuestring;
	} else if (cJSON_IsNumber(id)) {
		/* read through a double: past 2^53 it comes back rounded
		 * (12345678901234567890 would pair with the wrong item), and
		 * 1e400 is no number at all */
		double v = id->valuedouble;
		if (!(fabs(v) <= 9007199254740992.0))
			return se_fail(err, SE_INPUT, w,
				       "\"id\" is a number over 2^53 or not finite, which cannot "
				       "be kept exactly; write it as a string");
		jsonw_number_text(v, tmp, sizeof(tmp));
		item->id = item->id_buf = xstrdup(tmp);
	} else if (!id || cJSON_IsNull(id)) {
		snprintf(tmp, sizeof(tmp), "%zu", number);
		item->id = item->id_buf = xstrdup(tmp);
	} else {
		return se_fail(err, SE_INPUT, w, "\"id\" is not a string or a number");
	}

	const cJSON *task = cJSON_GetObjectItemCaseSensitive(obj, "task");
	if (task && !cJSON_IsString(task) && !cJSON_IsNull(task))
		return se_fail(err, SE_INPUT, w, "\"task\" is not a string");
	item->task = cJSON_IsString(task) ? task->valuestring : "";

	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (md && !cJSON_IsObject(md) && !cJSON_IsNull(md))
		return se_fail(err, SE_INPUT, w, "\"metadata\" is not an object");

	size_t first = id_add(r, item->id, line);
	if (first)
		return se_fail(err, SE_INPUT, w, "duplicate id \"%s\" (first at line %zu)",
			       item->id, first);
	if (take_expected(r, item, w, err))
		return -1;
	r->index++;
	return 0;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static int jsonl_next(struct ds_reader *r, struct ds_item *item, struct se_err *err)
{
	char w[600];
	for (;;) {
		int got = ds_read_line(r, err);
		if (got <= 0)
			return got;
		char *s = r->lines.line.data;
		size_t n = r->lines.line.len;
		if (n && s[n - 1] == '\n')
			n--;
		if (n && s[n - 1] == '\r')
			n--;
		s[n] = '\0';
		size_t col0 = 0;
		if (r->lineno == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
			s += 3; /* a UTF-8 BOM, as some editors write */
			n -= 3;
			col0 = 3;
		}
		if (blank(s, n))
			continue;
		if (ds_check_utf8(r, s, n, col0, err))
			return -1;
		where_line(r, r->lineno, w, sizeof(w));
		size_t col = 0;
		cJSON *obj = ds_parse_json(s, n, &col);
		if (!obj)
			return se_fail(err, SE_INPUT, w, "invalid JSON at column %zu", col0 + col);
		if (!cJSON_IsObject(obj)) {
			cJSON_Delete(obj);
			return se_fail(err, SE_INPUT, w, "item is not a JSON object");
		}
		char jpath[256];
		if (jsonnul_find(s, n, jpath, sizeof(jpath))) {
			/* cJSON's strings end at a NUL: the prompt, id or answer
			 * would be cut without a word */
			cJSON_Delete(obj);
			return se_fail(err, SE_INPUT, w, "%s: %s", jpath, JSONNUL_MSG);
		}
		if (ds_item_from_obj(r, obj, r->lineno, r->lineno, item, err))
			return -1;
		return 1;
	}
}

static int compile_regex(struct ds_reader *r, struct se_err *err)
{
	int code;
	PCRE2_SIZE off;
	r->re = pcre2_compile((PCRE2_SPTR)r->expected_regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
			      &code, &off, NULL);
	if (!r->re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		return se_fail(err, SE_INPUT, r->path,
			       "expected: invalid regex \"%s\" at offset %zu: %s",
			       r->expected_regex, (size_t)off, (const char *)msg);
	}
	uint32_t groups = 0;
	pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups);
	if (groups < 1)
		return se_fail(err, SE_INPUT, r->path,
			       "expected: regex \"%s\" has no capture group", r->expected_regex);
	r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
	return 0;
}

static int pick_format(struct ds_reader *r, const char *format, struct se_err *err)
{
	if (!format) {
		const char *dot = strrchr(r->path, '.');
		const char *slash = strrchr(r->path, '/');
		bool csv = dot && (!slash || dot > slash) && !strcasecmp(dot, ".csv");
		r->format = csv ? DS_CSV : DS_JSONL;
	} else if (!strcmp(format, "jsonl")) {
		r->format = DS_JSONL;
	} else if (!strcmp(format, "csv")) {
		r->format = DS_CSV;
	} else {
		return se_fail(err, SE_INPUT, r->path,
			       "unknown dataset format \"%s\" (known: jsonl, csv)", format);
	}
	return 0;
}

int ds_open(struct ds_reader **out, const struct cfg_dataset *ds, struct se_err *err)
{
	*out = NULL;
	if (!ds->path)
		return se_fail(err, SE_INPUT, NULL, "dataset: no path");
	struct ds_reader *r = xcalloc(1, sizeof(*r));
	r->path = xstrdup(ds->path);
	r->require_prompt = true;
	r->expected_field = xstrdup(ds->expected_field ? ds->expected_field : "expected");
	r->expected_regex = ds->expected_regex ? xstrdup(ds->expected_regex) : NULL;
	buf_init(&r->csv.data);
	sha256_init(&r->sha);
	if (pick_format(r, ds->format, err) || (r->expected_regex && compile_regex(r, err)))
		goto fail;
	/* a FIFO or a device would be read twice (hashed, then run) or block:
	 * only a regular file is a dataset */
	char what[600];
	snprintf(what, sizeof(what), "dataset \"%s\"", r->path);
	r->fp = fio_fopen_regular(r->path, what, err);
	if (!r->fp)
		goto fail;
	struct stat st;
	r->size =
	    fstat(fileno(r->fp), &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
	lines_init(&r->lines, r->fp, DS_MAX_LINE);
	r->lines.on_chunk = hash_chunk;
	r->lines.ctx = r;
	if (r->format == DS_CSV && ds_csv_open(r, err))
		goto fail;
	*out = r;
	return 0;
fail:
	ds_close(r);
	return -1;
}

int ds_open_cfg(struct ds_reader **out, const struct cfg *cfg, struct se_err *err)
{
	if (ds_open(out, &cfg->dataset, err))
		return -1;
	(*out)->require_prompt = !cfg->prompt.template;
	return 0;
}

void ds_set_require_prompt(struct ds_reader *r, bool require)
{
	r->require_prompt = require;
}

int ds_next(struct ds_reader *r, struct ds_item *item, struct se_err *err)
{
	ds_item_clear(item);
	int rc = r->format == DS_CSV ? ds_csv_next(r, item, err) : jsonl_next(r, item, err);
	if (rc < 0)
		ds_item_clear(item);
	return rc;
}

void ds_item_clear(struct ds_item *item)
{
	cJSON_Delete(item->obj);
	free(item->id_buf);
	for (size_t i = 0; i < item->n_expected; i++)
		free(item->expected_buf[i]);
	free(item->expected_buf);
	free(item->expected);
	memset(item, 0, sizeof(*item));
}

void ds_close(struct ds_reader *r)
{
	if (!r)
		return;
	if (r->fp)
		fclose(r->fp);
	ds_csv_free(r);
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
	lines_free(&r->lines);
	ds_ids_free(&r->ids);
	free(r->path);
	free(r->expected_field);
	free(r->expected_regex);
	free(r);
}

double ds_fraction_read(const struct ds_reader *r)
{
	if (r->size <= 0)
		return -1;
	/* bytes read from the file, less what is buffered but not consumed */
	double used = (double)r->bytes - (double)lines_buffered(&r->lines);
	double f = used / (double)r->size;
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

void ds_no_hash(struct ds_reader *r)
{
	r->no_hash = true;
}

void ds_sha256_hex(struct ds_reader *r, char hex[65])
{
	struct sha256 copy = r->sha;
	sha256_final_hex(&copy, hex);
}

const char *ds_field(const struct ds_item *item, const char *name, char *tmp, size_t tmp_size)
{
	if (!strcmp(name, "id"))
		return item->id;
	const cJSON *v = lookup(item->obj, name);
	if (!v || cJSON_IsNull(v))
		return !strcmp(name, "task") ? item->task : NULL;
	if (cJSON_IsString(v))
		return v->valuestring;
	if (!tmp || !tmp_size)
		return NULL;
	if (cJSON_IsNumber(v)) {
		jsonw_number_text(v->valuedouble, tmp, tmp_size);
		return tmp;
	}
	if (cJSON_IsBool(v)) {
		snprintf(tmp, tmp_size, "%s", cJSON_IsTrue(v) ? "true" : "false");
		return tmp;
	}
	if ((cJSON_IsArray(v) || cJSON_IsObject(v)) && tmp_size <= (size_t)INT32_MAX &&
	    cJSON_PrintPreallocated((cJSON *)v, tmp, (int)tmp_size, 0))
		return tmp;
	return NULL;
}
