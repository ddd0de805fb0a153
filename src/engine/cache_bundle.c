/* cache_bundle.c: writing and reading response-cache bundles (the format and
 * the import rules are in cache_bundle.h). zstd's streaming API on both
 * sides, so memory follows the largest entry, not the bundle. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zstd.h>

#include "core/buf.h"
#include "core/fileio.h"
#include "core/jsonnul.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "core/sha256.h"
#include "core/xalloc.h"
#include "engine/cache_bundle.h"
#include "results/results.h"

#define FORMAT "shadoweval-cache-bundle"
#define VERSION 1
#define ZLEVEL 9	      /* compact: bundles are written once, read often */
#define MAX_LINE (600u << 20) /* a 64 MiB reply as hex, with room */
#define NOTE_CONFLICTS 10     /* conflicts described one by one, then counted */

/* ---- export ------------------------------------------------------------- */

struct writer {
	ZSTD_CCtx *z;
	FILE *f;
	const char *path;
	struct buf line;
	struct buf out;
	long long n;
};

static int z_write(struct writer *w, const void *p, size_t n, ZSTD_EndDirective end,
		   struct se_err *err)
{
	ZSTD_inBuffer in = {p, n, 0};
	size_t cap = ZSTD_CStreamOutSize();
	buf_reserve(&w->out, cap);
	for (;;) {
		ZSTD_outBuffer out = {w->out.data, cap, 0};
		size_t left = ZSTD_compressStream2(w->z, &out, &in, end);
		if (ZSTD_isError(left))
			return se_fail(err, SE_IO, w->path, "compression failed: %s",
				       ZSTD_getErrorName(left));
		if (out.pos && fwrite(out.dst, 1, out.pos, w->f) != out.pos)
			return se_fail_errno(err, w->path, "cannot write the bundle");
		bool done = end == ZSTD_e_end ? left == 0 : in.pos == in.size;
		if (done)
			return 0;
	}
}

static int put_entry(void *ctx, const struct eng_cache_key *k, const struct eng_cache_entry *e,
		     const char *body, size_t len, struct se_err *err)
{
	struct writer *w = ctx;
	struct buf *b = &w->line;
	buf_reset(b);
	char sum[65];
	sha256_hex(body, len, sum);
	buf_putc(b, '{');
	jsonw_key(b, "url");
	jsonw_str(b, k->url);
	buf_putc(b, ',');
	jsonw_key(b, "model");
	jsonw_str(b, k->model);
	buf_putc(b, ',');
	jsonw_key(b, "req");
	jsonw_str(b, k->req);
	buf_putc(b, ',');
	jsonw_key(b, "sample");
	jsonw_long(b, k->sample);
	buf_putc(b, ',');
	jsonw_key(b, "stream");
	jsonw_bool(b, e->stream);
	buf_putc(b, ',');
	jsonw_key(b, "latency_ms");
	jsonw_double(b, e->latency_ms);
	buf_putc(b, ',');
	jsonw_key(b, "ttft_ms");
	jsonw_double(b, e->ttft_ms);
	buf_putc(b, ',');
	jsonw_key(b, "sha256");
	jsonw_str(b, sum);
	buf_putc(b, ',');
	if (utf8_valid(body, len) && !memchr(body, '\0', len)) {
		jsonw_key(b, "body");
		jsonw_strn(b, body, len);
	} else {
		static const char d[] = "0123456789abcdef";
		jsonw_key(b, "body_hex");
		buf_putc(b, '"');
		for (size_t i = 0; i < len; i++) {
			buf_putc(b, d[(unsigned char)body[i] >> 4]);
			buf_putc(b, d[(unsigned char)body[i] & 15]);
		}
		buf_putc(b, '"');
	}
	buf_puts(b, "}\n");
	w->n++;
	return z_write(w, b->data, b->len, ZSTD_e_continue, err);
}

int eng_bundle_export(struct eng_cache *c, const char *path, long long *n, struct se_err *err)
{
	struct writer w = {.path = path};
	*n = 0;
	if (fio_replace_begin(path, &w.f, err))
		return -1;
	w.z = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(w.z, ZSTD_c_compressionLevel, ZLEVEL);
	buf_init(&w.line);
	buf_init(&w.out);
	static const char head[] = "{\"format\":\"" FORMAT "\",\"version\":1}\n";
	int rc = z_write(&w, head, sizeof(head) - 1, ZSTD_e_continue, err);
	if (!rc)
		rc = eng_cache_each(c, put_entry, &w, err);
	if (!rc)
		rc = z_write(&w, "", 0, ZSTD_e_end, err);
	ZSTD_freeCCtx(w.z);
	buf_free(&w.line);
	buf_free(&w.out);
	if (rc) {
		fio_replace_abort(path, w.f);
		return -1;
	}
	*n = w.n;
	return fio_replace_commit(path, w.f, err);
}

/* ---- import ------------------------------------------------------------- */

struct reader {
	FILE *f;
	const char *path;
	ZSTD_DCtx *z;
	char *in;
	size_t in_cap;
	ZSTD_inBuffer zin;
	bool eof;
	size_t last_ret;    /* 0 when the last frame ended */
	struct buf pending; /* decompressed, not yet split */
	size_t at;	    /* the unfinished line starts here */
	size_t scan;	    /* pending[at, scan) holds no line end: searched once */
	long line;
	struct eng_bundle_counts *counts;
};

/* The next line (without its \n) into out; 0 at the end, -1 on error.
 * Linear in the bundle: only the bytes not yet searched are searched for a
 * line end, the buffer grows geometrically, and a line is refused as soon
 * as its unfinished part passes MAX_LINE (not at its end). */
static int next_line(struct reader *r, struct buf *out, struct se_err *err)
{
	for (;;) {
		size_t from = r->scan > r->at ? r->scan : r->at;
		char *nl = r->pending.len > from
			       ? memchr(r->pending.data + from, '\n', r->pending.len - from)
			       : NULL;
		r->counts->scanned +=
		    (long long)((nl ? (size_t)(nl - r->pending.data) + 1 : r->pending.len) - from);
		if (nl) {
			size_t end = (size_t)(nl - r->pending.data);
			if (end - r->at > MAX_LINE)
				return se_fail(err, SE_INPUT, r->path,
					       "line %ld is longer than %u MiB", r->line + 1,
					       MAX_LINE >> 20);
			buf_reset(out);
			buf_append(out, r->pending.data + r->at, end - r->at);
			r->at = r->scan = end + 1;
			r->line++;
			return 1;
		}
		r->scan = r->pending.len;
		if (r->pending.len - r->at > MAX_LINE)
			return se_fail(err, SE_INPUT, r->path, "line %ld is longer than %u MiB",
				       r->line + 1, MAX_LINE >> 20);
		/* keep the unfinished line, drop what was consumed (once per
		 * line: at is 0 until the line ends) */
		if (r->at) {
			memmove(r->pending.data, r->pending.data + r->at, r->pending.len - r->at);
			r->pending.len -= r->at;
			r->scan -= r->at;
			r->at = 0;
		}
		if (r->zin.pos == r->zin.size) {
			if (r->eof) {
				if (r->last_ret != 0)
					return se_fail(err, SE_INPUT, r->path,
						       "the bundle is cut short (a truncated zstd "
						       "frame)");
				if (r->pending.len)
					return se_fail(
					    err, SE_INPUT, r->path,
					    "line %ld has no line end (a truncated bundle)",
					    r->line + 1);
				return 0;
			}
			size_t got = fread(r->in, 1, r->in_cap, r->f);
			if (got < r->in_cap) {
				if (ferror(r->f))
					return se_fail_errno(err, r->path,
							     "cannot read the bundle");
				r->eof = true;
			}
			r->zin = (ZSTD_inBuffer){r->in, got, 0};
			continue;
		}
		size_t cap = ZSTD_DStreamOutSize();
		buf_reserve(&r->pending, cap + 1); /* geometric: see buf.h */
		ZSTD_outBuffer zout = {r->pending.data + r->pending.len, cap, 0};
		size_t ret = ZSTD_decompressStream(r->z, &zout, &r->zin);
		if (ZSTD_isError(ret))
			return se_fail(err, SE_INPUT, r->path,
				       "not a shadoweval cache bundle (zstd: %s)",
				       ZSTD_getErrorName(ret));
		r->last_ret = ret;
		r->pending.len += zout.pos;
		r->pending.data[r->pending.len] = '\0';
		r->counts->bytes += (long long)zout.pos;
	}
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++)
		if (hexv(s[i]) < 0)
			return false;
	return true;
}

/* A field's value must have this type. */
static const cJSON *field(const cJSON *o, const char *key, int type)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return v && (v->type & 0xff) == type ? v : NULL;
}

/* A timing field: null is unknown (NAN); else a number the cache takes
 * (eng_cache_ms_ok). On anything else *bad names the field and what it held,
 * in msg. */
static double ms_field(const cJSON *o, const char *key, char *msg, size_t size, const char **bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNull(v))
		return NAN;
	if (cJSON_IsNumber(v) && eng_cache_ms_ok(v->valuedouble))
		return v->valuedouble;
	if (!*bad) {
		char got[40];
		if (cJSON_IsNumber(v))
			snprintf(got, sizeof(got), "%.15g", v->valuedouble);
		else
			snprintf(got, sizeof(got), "%s", v ? jsonv_type(v) : "nothing");
		snprintf(msg, size, "%s: expected a number from 0 to %.0f or null, got %s", key,
			 RES_MAX_MS, got);
		*bad = msg;
	}
	return NAN;
}

/* What every line must be before its fields are read: a JSON object with
 * no NUL in any string (cJSON would cut the string there) and no key given
 * twice (which copy a lookup finds is nothing a file should decide). */
static cJSON *parse_line(const struct buf *line, const char *where, struct se_err *err)
{
	const char *text = line->data ? line->data : "";
	cJSON *o = cJSON_ParseWithLength(text, line->len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		se_fail(err, SE_INPUT, where, "not a JSON object");
		return NULL;
	}
	char path[JSONV_PATH];
	if (jsonnul_find(text, line->len, path, sizeof(path))) {
		cJSON_Delete(o);
		se_fail(err, SE_INPUT, where, "%s: %s", path, JSONNUL_MSG);
		return NULL;
	}
	const char *dup = jsonv_duplicate_key(o, "", path);
	if (dup) {
		se_fail(err, SE_INPUT, where, "%s%sduplicate key \"%s\"", path, *path ? ": " : "",
			dup);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* One entry line: checked and added. */
static int take_line(struct eng_cache *c, struct reader *r, const struct buf *line,
		     struct buf *body, struct eng_bundle_counts *counts, FILE *note,
		     struct se_err *err)
{
	char where[600];
	snprintf(where, sizeof(where), "%s:%ld", r->path, r->line);
	cJSON *o = parse_line(line, where, err);
	if (!o)
		return -1;
	const cJSON *url = field(o, "url", cJSON_String), *model = field(o, "model", cJSON_String),
		    *req = field(o, "req", cJSON_String),
		    *sample = field(o, "sample", cJSON_Number),
		    *sum = field(o, "sha256", cJSON_String), *text = field(o, "body", cJSON_String),
		    *hex = field(o, "body_hex", cJSON_String);
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(o, "stream");
	const char *bad = NULL, *bad_ms = NULL;
	char ms_msg[160];
	struct eng_cache_entry e = {cJSON_IsTrue(stream),
				    ms_field(o, "latency_ms", ms_msg, sizeof(ms_msg), &bad_ms),
				    ms_field(o, "ttft_ms", ms_msg, sizeof(ms_msg), &bad_ms)};
	if (!url)
		bad = "url: expected a string";
	else if (!model)
		bad = "model: expected a string";
	else if (!req || !is_hex64(req->valuestring))
		bad = "req: expected 64 lowercase hex digits";
	else if (!sample || sample->valuedouble < 0 || sample->valuedouble > 1e9 ||
		 sample->valuedouble != floor(sample->valuedouble))
		bad = "sample: expected a whole number from 0";
	else if (!cJSON_IsBool(stream))
		bad = "stream: expected true or false";
	else if (bad_ms)
		bad = bad_ms;
	else if (!sum || !is_hex64(sum->valuestring))
		bad = "sha256: expected 64 lowercase hex digits";
	else if (!text == !hex)
		bad = "expected exactly one of body (a string) and body_hex";
	buf_reset(body);
	if (!bad && text) {
		buf_puts(body, text->valuestring);
	} else if (!bad) {
		const char *h = hex->valuestring;
		size_t n = strlen(h);
		for (size_t i = 0; i + 1 < n && !bad; i += 2) {
			int hi = hexv(h[i]), lo = hexv(h[i + 1]);
			if (hi < 0 || lo < 0)
				bad = "body_hex: expected hex digits";
			else
				buf_putc(body, (char)(hi << 4 | lo));
		}
		if (n % 2)
			bad = "body_hex: expected an even number of hex digits";
	}
	char got[65];
	if (!bad) {
		sha256_hex(body->data ? body->data : "", body->len, got);
		if (strcmp(got, sum->valuestring))
			bad = "the text does not match its sha256 (a damaged bundle)";
	}
	if (bad) {
		cJSON_Delete(o);
		return se_fail(err, SE_INPUT, where, "%s", bad);
	}
	struct eng_cache_key k = {url->valuestring, model->valuestring, req->valuestring,
				  (long)sample->valuedouble};
	int rc = eng_cache_add(c, &k, &e, body->data ? body->data : "", body->len, err);
	if (rc == ENG_CACHE_ADDED) {
		counts->added++;
	} else if (rc == ENG_CACHE_SAME) {
		counts->same++;
	} else if (rc == ENG_CACHE_CONFLICT) {
		if (note && counts->conflicts < NOTE_CONFLICTS)
			fprintf(note,
				"shadoweval: %s: conflict: model \"%s\" at %s, request %.12s..., "
				"sample %ld: the cache already holds another answer; kept it\n",
				where, k.model, k.url[0] ? k.url : "(unknown URL)", k.req,
				k.sample);
		counts->conflicts++;
	}
	cJSON_Delete(o);
	return rc < 0 ? -1 : 0;
}

static int check_head(struct reader *r, const struct buf *line, struct se_err *err)
{
	char where[600];
	snprintf(where, sizeof(where), "%s:1", r->path);
	cJSON *o = cJSON_ParseWithLength(line->data ? line->data : "", line->len);
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "format");
	bool ours = cJSON_IsString(f) && !strcmp(f->valuestring, FORMAT);
	cJSON_Delete(o);
	if (!ours)
		return se_fail(err, SE_INPUT, where,
			       "not a shadoweval cache bundle (no \"format\": \"" FORMAT "\")");
	o = parse_line(line, where, err);
	if (!o)
		return -1;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
	int rc = 0;
	if (!cJSON_IsNumber(v)) {
		char got[64];
		if (cJSON_IsString(v))
			snprintf(got, sizeof(got), "the string \"%.40s\"", v->valuestring);
		else
			snprintf(got, sizeof(got), "%s", v ? jsonv_type(v) : "nothing");
		rc =
		    se_fail(err, SE_INPUT, where,
			    "version: expected a number (this shadoweval reads version %d), got %s",
			    VERSION, got);
	} else if (v->valuedouble != VERSION) {
		rc = se_fail(err, SE_INPUT, where,
			     "bundle version %.15g; this shadoweval reads version %d",
			     v->valuedouble, VERSION);
	}
	cJSON_Delete(o);
	return rc;
}

int eng_bundle_import(struct eng_cache *c, const char *path, struct eng_bundle_counts *counts,
		      FILE *note, struct se_err *err)
{
	struct reader r = {
	    .path = path, .f = fio_fopen_regular(path, "bundle", err), .counts = counts};
	if (!r.f)
		return -1;
	r.z = ZSTD_createDCtx();
	r.in_cap = ZSTD_DStreamInSize();
	r.in = xmalloc(r.in_cap);
	buf_init(&r.pending);
	struct buf line, body;
	buf_init(&line);
	buf_init(&body);
	int got = next_line(&r, &line, err);
	int rc = got < 0 ? -1 : 0;
	if (got == 0)
		rc = se_fail(err, SE_INPUT, path, "an empty bundle (not even its first line)");
	if (!rc)
		rc = check_head(&r, &line, err);
	while (!rc && (got = next_line(&r, &line, err)) > 0)
		rc = take_line(c, &r, &line, &body, counts, note, err);
	if (got < 0)
		rc = -1;
	/* what was taken in before a bad line stays: write it */
	struct se_err ferr;
	if (eng_cache_flush(c, rc ? &ferr : err))
		rc = -1;
	ZSTD_freeDCtx(r.z);
	free(r.in);
	buf_free(&r.pending);
	buf_free(&line);
	buf_free(&body);
	fclose(r.f);
	return rc;
}

/* ---- merge -------------------------------------------------------------- */

static void remove_tmp_cache(const char *dir)
{
	static const char *const names[] = {ENG_CACHE_FILE, ENG_CACHE_FILE "-wal",
					    ENG_CACHE_FILE "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char *p = fio_join(dir, names[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

int eng_bundle_merge(const char *out, char *const *in, size_t n_in,
		     struct eng_bundle_counts *counts, FILE *note, struct se_err *err)
{
	struct buf tmp;
	buf_init(&tmp);
	buf_printf(&tmp, "%s.merge-XXXXXX", out);
	if (!mkdtemp(tmp.data)) {
		int rc = se_fail_errno(err, tmp.data, "cannot make a temporary folder");
		buf_free(&tmp);
		return rc;
	}
	struct eng_cache *c;
	int rc = eng_cache_open(&c, tmp.data, true, NULL, err);
	for (size_t i = 0; !rc && i < n_in; i++)
		rc = eng_bundle_import(c, in[i], counts, note, err);
	long long n = 0;
	if (!rc)
		rc = eng_bundle_export(c, out, &n, err);
	if (!rc)
		rc = eng_cache_close(c, err);
	else if (c)
		eng_cache_close(c, NULL);
	remove_tmp_cache(tmp.data);
	buf_free(&tmp);
	return rc;
}
