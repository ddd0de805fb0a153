/* test_merge.c: mg_merge and cmd_merge on run folders built by hand.
 *
 * Each folder gets a manifest.json written by man_write (from a small struct
 * cfg: eval "mg", slots fast and deep, one shadow) and a results.jsonl of
 * lines made by res_format: items it00..it11, each answered by its primary
 * (slot fast for even items, deep for odd) and by the shadow, with latencies,
 * costs and passes that vary per item so every summary has something to say.
 * Shard K of N holds the items whose index % N == K-1, as `run --shard-by index` does.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "support/files.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fileio.h"
#include "manifest/manifest.h"
#include "merge/merge.h"
#include "results/results.h"
#include "summarize/summarize.h"

#define N_ITEMS 12
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static const char *const tables[] = {"models.csv", "tasks.csv", "slots.csv", "pairs.csv",
				     "swaps.csv"};

/* One result line (with its newline) for item i and model 0 (primary) or 1
 * (shadow); `bump` changes the latency, making a different line for the pair. */
static void add_line(struct buf *b, int i, int which, double bump)
{
	static const char *const slot_model[] = {"acme/fast-1", "acme/deep-1"};
	char id[16];
	snprintf(id, sizeof(id), "it%02d", i);
	struct res_row r;
	res_row_init(&r);
	r.item_id = id;
	r.item_index = i;
	r.task = i % 3 ? "qa" : "math";
	r.slot = i % 2 ? "deep" : "fast";
	r.model = which ? "acme/cand-x" : slot_model[i % 2];
	r.served_model = r.model;
	r.role = which ? "shadow" : "primary";
	bool err = which && i == 7;
	r.status = err ? "http_5xx" : "ok";
	r.http_status = err ? 503 : 200;
	r.attempts = err ? 4 : 1;
	r.latency_ms = 100 + 37 * i + 250 * which + bump;
	r.ttft_ms = 20 + i;
	r.prompt_tokens = 40 + i;
	r.completion_tokens = err ? -1 : 10 + 3 * i;
	r.cost_usd = err ? NAN : 0.0001 * (1 + i) * (which ? 2 : 1);
	r.cost_source = err ? "unknown" : "reported";
	r.est_tokens = 30 + i;
	r.output = err ? NULL : "#### 42";
	r.output_len = r.output ? strlen(r.output) : 0;
	r.finish_reason = err ? NULL : "stop";
	r.checks_json = err ? NULL : "{\"answer\":true}";
	r.pass = !err && (i * (which + 2)) % 5 != 0;
	r.score = err ? NAN : r.pass;
	r.error = err ? "server error" : NULL;
	res_format(b, &r);
}

/* The lines of shard k of n (n 0: every item), in item order. */
static void shard_lines(struct buf *b, int k, int n)
{
	for (int i = 0; i < N_ITEMS; i++) {
		if (n && i % n != k - 1)
			continue;
		add_line(b, i, 0, 0);
		add_line(b, i, 1, 0);
	}
}

struct run_spec {
	const char *eval;
	const char *config_sha;
	const char *dataset_sha;
	const char *shard;
	const char *status;
	const char *started, *ended;
};

static const struct run_spec base = {
    "mg", SHA_A, SHA_D, NULL, "complete", "2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z"};

static void write_manifest(const char *dir, const struct run_spec *s, size_t lines)
{
	struct cfg_model models[] = {{"acme/fast-1", 0}, {"acme/deep-1", 0}, {"acme/cand-x", 0}};
	struct cfg_slot slots[] = {{"fast", 0, NULL, 0}, {"deep", 1, NULL, 0}};
	int shadows[] = {2};
	struct cfg c;
	memset(&c, 0, sizeof(c));
	c.name = (char *)s->eval;
	c.path = "evals/mg.json";
	snprintf(c.sha256, sizeof(c.sha256), "%s", s->config_sha);
	c.models = models;
	c.n_models = 3;
	c.slots = slots;
	c.n_slots = 2;
	c.shadows = shadows;
	c.n_shadows = 1;
	struct man_status_count by[] = {{"ok", lines}, {"http_5xx", 0}};
	struct man_info mi;
	memset(&mi, 0, sizeof(mi));
	mi.cfg = &c;
	mi.dataset_path = "datasets/mg.jsonl";
	mi.dataset_sha256 = s->dataset_sha;
	mi.status = s->status;
	snprintf(mi.started_at, sizeof(mi.started_at), "%s", s->started);
	snprintf(mi.ended_at, sizeof(mi.ended_at), "%s", s->ended);
	mi.shard = s->shard;
	mi.limit = -1;
	mi.concurrency = 8;
	mi.cache_mode = "off";
	mi.items = lines / 2;
	mi.requests = lines + 1;
	mi.results_written = lines;
	mi.by_status = by;
	mi.n_status = 2;
	mi.spent_usd = 0.25;
	struct se_err err;
	cr_assert_eq(man_write(dir, &mi, &err), 0, "%s", err.msg);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char *p = fio_join(dir, name);
	FILE *fp = fopen(p, "wb");
	cr_assert(fp, "cannot write %s", p);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	free(p);
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* A run folder holding `lines` (and `tail`, a torn last line, when given). */
static char *make_run(const char *tag, const struct run_spec *s, const struct buf *lines,
		      const char *tail)
{
	char *dir = test_mkdtemp(tag);
	struct buf all;
	buf_init(&all);
	buf_append(&all, lines->data, lines->len);
	if (tail)
		buf_puts(&all, tail);
	write_file(dir, "results.jsonl", all.data, all.len);
	write_manifest(dir, s, count_lines(lines->data, lines->len));
	buf_free(&all);
	return dir;
}

static char *make_shard(int k, int n, const char *shard_text)
{
	struct buf b;
	buf_init(&b);
	shard_lines(&b, k, n);
	struct run_spec s = base;
	s.shard = shard_text;
	char tag[32];
	snprintf(tag, sizeof(tag), "mg-shard%d", k);
	char *dir = make_run(tag, &s, &b, NULL);
	buf_free(&b);
	return dir;
}

/* A path for OUT that does not exist yet, inside a fresh temp folder. */
struct out {
	char *parent;
	char *path;
};

static struct out new_out(void)
{
	struct out o;
	o.parent = test_mkdtemp("mg-out");
	o.path = fio_join(o.parent, "merged");
	return o;
}

static void free_out(struct out *o)
{
	test_rmdir(o->path);
	test_rmdir(o->parent);
}

/* An output folder that exists (empty) before the merge. */
static struct out new_out_dir(void)
{
	struct out o = new_out();
	cr_assert_eq(mkdir(o.path, 0755), 0);
	return o;
}

static char *read_in(const char *dir, const char *name, size_t *len)
{
	char *p = fio_join(dir, name);
	char *data = test_read_file(p, len);
	free(p);
	return data;
}

static cJSON *read_manifest(const char *dir)
{
	size_t len;
	char *data = read_in(dir, "manifest.json", &len);
	cJSON *o = cJSON_ParseWithLength(data, len);
	free(data);
	cr_assert(cJSON_IsObject(o), "merged manifest is not a JSON object");
	return o;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jcount(const cJSON *m, const char *k)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "counts");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, k);
	cr_assert(cJSON_IsNumber(v), "counts.%s missing", k);
	return v->valuedouble;
}

/* Warnings go to a memory stream, read back as a string. */
struct warnings {
	char *text;
	size_t len;
	FILE *fp;
};

static void warnings_open(struct warnings *w)
{
	w->text = NULL;
	w->len = 0;
	w->fp = open_memstream(&w->text, &w->len);
	cr_assert(w->fp);
}

static void warnings_close(struct warnings *w)
{
	fclose(w->fp);
	w->fp = NULL;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A finished merge leaves no merge.partial in OUT. */
static void expect_no_marker(const char *out)
{
	char *p = fio_join(out, "merge.partial");
	cr_expect_not(exists(p), "a finished merge left its marker");
	free(p);
}

Test(merge, joins_shards_into_their_union_byte_for_byte)
{
	char *d[3] = {make_shard(1, 3, "1/3"), make_shard(2, 3, "2/3"), make_shard(3, 3, "3/3")};
	struct out o = new_out();
	struct mg_report rep;
	struct se_err err;
	se_clear(&err);
	struct mg_opts opts = {NULL, NULL, false};
	cr_assert_eq(mg_merge((const char *const *)d, 3, o.path, &opts, &rep, &err), 0, "%s: %s",
		     err.where, err.msg);

	struct buf want;
	buf_init(&want);
	for (int k = 1; k <= 3; k++)
		shard_lines(&want, k, 3);
	size_t len;
	char *got = read_in(o.path, "results.jsonl", &len);
	cr_expect_eq(len, want.len);
	cr_expect(len == want.len && !memcmp(got, want.data, len),
		  "merged results.jsonl is not the shards' lines in order:\n%s", got);
	cr_expect_eq(rep.lines, 2 * N_ITEMS);
	cr_expect_eq(rep.identical, 0);
	cr_expect(rep.complete);

	cJSON *m = read_manifest(o.path);
	cr_expect_str_eq(jstr(m, "status"), "complete");
	cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "shard")));
	cr_expect_str_eq(jstr(m, "eval"), "mg");
	cr_expect_str_eq(jstr(m, "config_sha256"), SHA_A);
	cr_expect_str_eq(jstr(m, "dataset_sha256"), SHA_D);
	cr_expect_eq(jcount(m, "results_written"), 2 * N_ITEMS);
	cr_expect_eq(jcount(m, "items"), N_ITEMS);	      /* 4 + 4 + 4 summed */
	cr_expect_eq(jcount(m, "requests"), 2 * N_ITEMS + 3); /* each shard: lines + 1 */
	cr_expect(fabs(jcount(m, "spent_usd") - 0.75) < 1e-9);
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(m, "counts"), "by_status");
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(by, "ok")->valuedouble, 2 * N_ITEMS - 1);
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(by, "http_5xx")->valuedouble, 1);
	const cJSON *slots = cJSON_GetObjectItemCaseSensitive(m, "slots");
	cr_expect_str_eq(jstr(slots, "deep"), "acme/deep-1");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(m, "shadows");
	cr_expect_eq(cJSON_GetArraySize(sh), 1);
	cr_expect_str_eq(cJSON_GetArrayItem(sh, 0)->valuestring, "acme/cand-x");
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(m, "merged_from");
	cr_expect_eq(cJSON_GetArraySize(from), 3);
	for (int k = 0; k < 3 && cJSON_GetArraySize(from) == 3; k++)
		cr_expect_str_eq(cJSON_GetArrayItem(from, k)->valuestring, d[k]);
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(m, "missing_shards"));
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(m, "allow_partial"));
	cJSON_Delete(m);

	free(got);
	buf_free(&want);
	free_out(&o);
	for (int k = 0; k < 3; k++)
		test_rmdir(d[k]);
}

Test(merge, summaries_equal_those_of_one_run_with_the_same_lines)
{
	char *d[2] = {make_shard(1, 2, "1/2"), make_shard(2, 2, "2/2")};
	struct buf all;
	buf_init(&all);
	shard_lines(&all, 0, 0); /* item order, as one unsharded run */
	char *single = make_run("mg-single", &base, &all, NULL);
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(sum_run_dir(single, NULL, &err), 0, "%s", err.msg);

	struct out o = new_out();
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), 0, "%s: %s",
		     err.where, err.msg);
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		size_t gl, wl;
		char *got = read_in(o.path, tables[t], &gl);
		char *want = read_in(single, tables[t], &wl);
		cr_expect(gl > 0 && count_lines(want, wl) > 1, "%s is empty", tables[t]);
		cr_expect(gl == wl && !memcmp(got, want, gl),
			  "%s differs:\nmerged:\n%s\nsingle:\n%s", tables[t], got, want);
		free(got);
		free(want);
	}
	buf_free(&all);
	free_out(&o);
	test_rmdir(single);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, rejects_a_config_hash_mismatch_naming_the_folder)
{
	struct buf b;
	buf_init(&b);
	shard_lines(&b, 2, 2);
	struct run_spec s = base;
	s.shard = "2/2";
	s.config_sha = SHA_B;
	char *d[2] = {make_shard(1, 2, "1/2"), make_run("mg-other", &s, &b, NULL)};
	struct out o = new_out();
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_str_eq(err.where, d[1]);
	cr_expect(strstr(err.msg, "config_sha256") && strstr(err.msg, d[0]), "%s", err.msg);
	cr_expect(!exists(o.path), "a failed merge left its output folder");
	buf_free(&b);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, rejects_a_dataset_or_eval_mismatch)
{
	struct buf b;
	buf_init(&b);
	struct run_spec s = base;
	s.dataset_sha = SHA_B;
	char *a = make_run("mg-a", &base, &b, NULL);
	char *other = make_run("mg-ds", &s, &b, NULL);
	s = base;
	s.eval = "other";
	char *named = make_run("mg-ev", &s, &b, NULL);
	struct out o = new_out();
	struct se_err err;
	const char *ds[2] = {a, other};
	cr_assert_eq(mg_merge(ds, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_str_eq(err.where, other);
	cr_expect(strstr(err.msg, "dataset_sha256"), "%s", err.msg);
	const char *ev[2] = {a, named};
	cr_assert_eq(mg_merge(ev, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_str_eq(err.where, named);
	cr_expect(strstr(err.msg, "eval \"other\""), "%s", err.msg);
	buf_free(&b);
	free_out(&o);
	test_rmdir(a);
	test_rmdir(other);
	test_rmdir(named);
}

Test(merge, rejects_a_repeated_shard_naming_both_folders)
{
	struct buf b;
	buf_init(&b);
	shard_lines(&b, 2, 2); /* other items, so only the shard rule can object */
	struct run_spec s = base;
	s.shard = "1/2";
	char *d[2] = {make_shard(1, 2, "1/2"), make_run("mg-again", &s, &b, NULL)};
	struct out o = new_out();
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_str_eq(err.where, d[1]);
	cr_expect(strstr(err.msg, "\"1/2\"") && strstr(err.msg, d[0]), "%s", err.msg);
	cr_expect(!exists(o.path));
	buf_free(&b);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, rejects_shards_of_different_counts)
{
	char *d[2] = {make_shard(1, 2, "1/2"), make_shard(2, 3, "2/3")};
	struct out o = new_out();
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_str_eq(err.where, d[1]);
	cr_expect(strstr(err.msg, "2/3") && strstr(err.msg, "1/2"), "%s", err.msg);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, rejects_a_different_duplicate_pair_naming_both_places)
{
	struct buf b;
	buf_init(&b);
	shard_lines(&b, 2, 2);
	add_line(&b, 2, 1, 5.5); /* it02 x cand-x is shard 1's 4th line */
	struct run_spec s = base;
	s.shard = "2/2";
	char *d[2] = {make_shard(1, 2, "1/2"), make_run("mg-dup", &s, &b, NULL)};
	struct out o = new_out();
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	char want_here[600], want_there[600];
	snprintf(want_here, sizeof(want_here), "%s/results.jsonl:%d", d[1], N_ITEMS + 1);
	snprintf(want_there, sizeof(want_there), "%s/results.jsonl:4", d[0]);
	cr_expect_str_eq(err.where, want_here);
	cr_expect(strstr(err.msg, want_there) && strstr(err.msg, "\"it02\"") &&
		      strstr(err.msg, "\"acme/cand-x\""),
		  "%s", err.msg);
	cr_expect(!exists(o.path), "a failed merge left its output folder");
	buf_free(&b);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

/* Issue 9 #25: within one input even a byte-identical copy of a line is an
 * error naming both lines, as summarize says; across inputs it is collapsed
 * (collapses_byte_identical_duplicates). */
Test(merge, identical_copy_within_one_input_is_an_error_naming_both_lines)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < N_ITEMS; i++) {
		add_line(&b, i, 0, 0);
		add_line(&b, i, 1, 0);
	}
	add_line(&b, 3, 1, 0); /* line 8 again, as line 2 * N_ITEMS + 1 */
	char *d[1] = {make_run("mg-copy", &base, &b, NULL)};
	struct out o = new_out();
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 1, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	char want_here[600], want_there[600];
	snprintf(want_here, sizeof(want_here), "%s/results.jsonl:%d", d[0], 2 * N_ITEMS + 1);
	snprintf(want_there, sizeof(want_there), "%s/results.jsonl:8", d[0]);
	cr_expect_str_eq(err.where, want_here);
	cr_expect(strstr(err.msg, want_there) && strstr(err.msg, "\"it03\""), "%s", err.msg);
	cr_expect(!exists(o.path), "a failed merge left its output folder");
	buf_free(&b);
	free_out(&o);
	test_rmdir(d[0]);
}

/* Issue 9 #20: merge copies lines, but only lines the reader accepts. */
Test(merge, wrong_type_in_an_input_is_an_error_naming_file_line_and_field)
{
	struct buf b;
	buf_init(&b);
	add_line(&b, 0, 0, 0);
	buf_puts(&b, "{\"item_id\":\"it01\",\"model\":\"acme/deep-1\",\"role\":\"primary\","
		     "\"status\":\"ok\",\"pass\":\"yes\"}\n");
	char *d[1] = {make_run("mg-type", &base, &b, NULL)};
	struct out o = new_out();
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 1, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	char want[600];
	snprintf(want, sizeof(want), "%s/results.jsonl:2", d[0]);
	cr_expect_str_eq(err.where, want);
	cr_expect(strstr(err.msg, "pass: expected true or false"), "%s", err.msg);
	buf_free(&b);
	free_out(&o);
	test_rmdir(d[0]);
}

Test(merge, collapses_byte_identical_duplicates)
{
	/* Two unsharded partial copies of one run: items 0-7 and 4-11. */
	struct buf a, b, want;
	buf_init(&a);
	buf_init(&b);
	buf_init(&want);
	for (int i = 0; i < N_ITEMS; i++) {
		if (i < 8) {
			add_line(&a, i, 0, 0);
			add_line(&a, i, 1, 0);
		}
		if (i >= 4) {
			add_line(&b, i, 0, 0);
			add_line(&b, i, 1, 0);
		}
	}
	buf_append(&want, a.data, a.len);
	for (int i = 8; i < N_ITEMS; i++) {
		add_line(&want, i, 0, 0);
		add_line(&want, i, 1, 0);
	}
	char *d[2] = {make_run("mg-p1", &base, &a, NULL), make_run("mg-p2", &base, &b, NULL)};
	struct out o = new_out();
	struct mg_report rep;
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, &rep, &err), 0, "%s: %s",
		     err.where, err.msg);
	cr_expect_eq(rep.identical, 8);
	cr_expect_eq(rep.lines, 2 * N_ITEMS);
	size_t len;
	char *got = read_in(o.path, "results.jsonl", &len);
	cr_expect(len == want.len && !memcmp(got, want.data, len), "merged:\n%s", got);
	cJSON *m = read_manifest(o.path);
	cr_expect_eq(jcount(m, "results_written"), 2 * N_ITEMS);
	cr_expect_str_eq(jstr(m, "status"), "complete");
	cJSON_Delete(m);
	free(got);
	buf_free(&a);
	buf_free(&b);
	buf_free(&want);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, skips_a_torn_last_line_with_a_warning)
{
	struct buf b;
	buf_init(&b);
	shard_lines(&b, 2, 2);
	struct run_spec s = base;
	s.shard = "2/2";
	char *d[2] = {make_shard(1, 2, "1/2"),
		      make_run("mg-torn", &s, &b, "{\"item_id\":\"it99\",\"model\":\"acme/fa")};
	struct out o = new_out();
	struct warnings w;
	warnings_open(&w);
	struct mg_opts opts = {NULL, w.fp, false};
	struct mg_report rep;
	struct se_err err;
	int rc = mg_merge((const char *const *)d, 2, o.path, &opts, &rep, &err);
	warnings_close(&w);
	cr_assert_eq(rc, 0, "%s: %s", err.where, err.msg);
	cr_expect_eq(rep.torn, 1);
	cr_expect_eq(rep.lines, 2 * N_ITEMS);
	cr_expect(w.text && strstr(w.text, "torn") && strstr(w.text, d[1]), "warnings: %s",
		  w.text ? w.text : "(none)");
	size_t len;
	char *got = read_in(o.path, "results.jsonl", &len);
	cr_expect(!strstr(got, "it99"), "the torn line was copied");
	cr_expect_eq(count_lines(got, len), 2 * N_ITEMS);
	cr_expect_eq(got[len - 1], '\n');
	free(got);
	free(w.text);
	buf_free(&b);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, refuses_an_output_folder_that_has_results)
{
	char *d[1] = {make_shard(1, 1, NULL)};
	struct out o = new_out_dir();
	write_file(o.path, "results.jsonl", "keep\n", 5);
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 1, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_str_eq(err.where, o.path);
	cr_expect(strstr(err.msg, "already has results"), "%s", err.msg);
	size_t len;
	char *kept = read_in(o.path, "results.jsonl", &len);
	cr_expect(len == 5 && !memcmp(kept, "keep\n", 5), "OUT/results.jsonl was changed");
	free(kept);
	free_out(&o);
	test_rmdir(d[0]);
}

Test(merge, accepts_an_empty_output_folder)
{
	char *d[1] = {make_shard(1, 1, NULL)};
	struct out o = new_out_dir();
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 1, o.path, NULL, NULL, &err), 0, "%s",
		     err.msg);
	char *p = fio_join(o.path, "models.csv");
	cr_expect(exists(p), "no summaries in the merged folder");
	free(p);
	expect_no_marker(o.path);
	free_out(&o);
	test_rmdir(d[0]);
}

/* A merge killed midway leaves OUT/merge.partial beside what it wrote: the
 * next merge into OUT clears those files and writes the whole run; a
 * finished merge leaves no marker. */
Test(merge, redoes_a_merge_that_did_not_finish)
{
	char *d[1] = {make_shard(1, 1, NULL)};
	struct out o = new_out_dir();
	write_file(o.path, "merge.partial", "", 0);
	write_file(o.path, "results.jsonl", "{\"item_id\":\"torn", 16);
	write_file(o.path, "manifest.json", "{}", 2);
	write_file(o.path, "models.csv", "old\n", 4);
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(mg_merge((const char *const *)d, 1, o.path, NULL, NULL, &err), 0, "%s: %s",
		     err.where, err.msg);
	struct buf want;
	buf_init(&want);
	shard_lines(&want, 1, 1);
	size_t len;
	char *got = read_in(o.path, "results.jsonl", &len);
	cr_expect(len == want.len && !memcmp(got, want.data, len),
		  "the leftover lines were not replaced:\n%s", got);
	cJSON *m = read_manifest(o.path);
	cr_expect_str_eq(jstr(m, "status"), "complete");
	char *models = read_in(o.path, "models.csv", &len);
	cr_expect(len > 4 && strncmp(models, "old", 3), "models.csv is the leftover");
	expect_no_marker(o.path);
	free(models);
	cJSON_Delete(m);
	free(got);
	buf_free(&want);
	free_out(&o);
	test_rmdir(d[0]);
}

Test(merge, an_unfinished_merge_with_a_subfolder_is_refused)
{
	char *d[1] = {make_shard(1, 1, NULL)};
	struct out o = new_out_dir();
	write_file(o.path, "merge.partial", "", 0);
	char *sub = fio_join(o.path, "notes");
	cr_assert_eq(mkdir(sub, 0755), 0);
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 1, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect(strstr(err.msg, "subfolder (notes)"), "%s", err.msg);
	cr_expect(exists(sub), "the subfolder was removed");
	rmdir(sub);
	free(sub);
	free_out(&o);
	test_rmdir(d[0]);
}

/* A missing shard is an error that names it and leaves nothing (issue 15);
 * --allow-partial merges the same set with a warning. */
Test(merge, a_missing_shard_is_an_error_unless_allowed_then_a_warning_and_incomplete)
{
	char *d[2] = {make_shard(1, 3, "1/3"), make_shard(3, 3, "3/3")};
	struct out o = new_out();
	struct mg_opts strict = {NULL, NULL, false};
	struct se_err serr;
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, &strict, NULL, &serr), -1,
		     "an incomplete shard set was merged");
	cr_expect_eq(serr.kind, SE_INPUT);
	cr_expect(strstr(serr.msg, "incomplete shard set: 1 missing shard: 2/3") &&
		      strstr(serr.msg, "--allow-partial"),
		  "%s", serr.msg);
	cr_expect_neq(access(o.path, F_OK), 0, "a refused merge left %s", o.path);
	struct warnings w;
	warnings_open(&w);
	struct mg_opts opts = {NULL, w.fp, true};
	struct mg_report rep;
	struct se_err err;
	int rc = mg_merge((const char *const *)d, 2, o.path, &opts, &rep, &err);
	warnings_close(&w);
	cr_assert_eq(rc, 0, "%s: %s", err.where, err.msg);
	cr_expect_eq(rep.missing, 1);
	cr_expect_not(rep.complete);
	cr_expect(w.text && strstr(w.text, "missing shard") && strstr(w.text, "2/3"),
		  "warnings: %s", w.text ? w.text : "(none)");
	cJSON *m = read_manifest(o.path);
	cr_expect_str_eq(jstr(m, "status"), "incomplete");
	cr_expect_str_eq(jstr(m, "missing_shards"), "2/3");
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "allow_partial")));
	cJSON_Delete(m);
	free(w.text);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, an_interrupted_input_makes_the_run_incomplete)
{
	struct buf b;
	buf_init(&b);
	shard_lines(&b, 2, 2);
	struct run_spec s = base;
	s.shard = "2/2";
	s.status = "interrupted";
	s.started = "2026-01-01T09:00:00Z";
	s.ended = "2026-01-01T11:00:00Z";
	char *d[2] = {make_shard(1, 2, "1/2"), make_run("mg-int", &s, &b, NULL)};
	struct out o = new_out();
	struct warnings w;
	warnings_open(&w);
	struct mg_opts opts = {NULL, w.fp, false};
	struct se_err err;
	int rc = mg_merge((const char *const *)d, 2, o.path, &opts, NULL, &err);
	warnings_close(&w);
	cr_assert_eq(rc, 0, "%s: %s", err.where, err.msg);
	cr_expect(w.text && strstr(w.text, "interrupted") && strstr(w.text, d[1]), "warnings: %s",
		  w.text ? w.text : "(none)");
	cJSON *m = read_manifest(o.path);
	cr_expect_str_eq(jstr(m, "status"), "incomplete");
	cr_expect_str_eq(jstr(m, "started_at"), "2026-01-01T09:00:00Z");
	cr_expect_str_eq(jstr(m, "ended_at"), "2026-01-01T11:00:00Z");
	cJSON_Delete(m);
	free(w.text);
	buf_free(&b);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

Test(merge, rejects_a_folder_that_is_not_a_run)
{
	char *d[2] = {make_shard(1, 2, "1/2"), test_mkdtemp("mg-empty")};
	write_file(d[1], "results.jsonl", "", 0);
	struct out o = new_out();
	struct se_err err;
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_str_eq(err.where, d[1]);
	cr_expect(strstr(err.msg, "manifest.json"), "%s", err.msg);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

/* An OUT that cannot be a folder is named as such: a dangling symbolic
 * link (it was "LINK/run.lock: cannot open the run folder's lock: No such
 * file or directory"), a plain file, a path through a plain file; nothing
 * is written, and the link still points nowhere. */
Test(merge, command_names_an_output_that_is_not_a_folder)
{
	char *d = make_shard(1, 1, NULL);
	struct out o = new_out();
	char *link = fio_join(o.parent, "link"), *nowhere = fio_join(o.parent, "nowhere");
	char *file = fio_join(o.parent, "file"), *under = fio_join(file, "sub");
	cr_assert_eq(symlink(nowhere, link), 0);
	write_file(o.parent, "file", "x", 1);
	static const struct {
		int which;
		const char *msg;
	} cases[] = {
	    {0, "is a symbolic link to nothing (a dangling link), not a folder"},
	    {1, "output exists and is not a folder"},
	    {2, "exists and is not a folder"},
	};
	const char *outs[] = {link, file, under};
	const char *wheres[] = {link, file, file};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct se_err err;
		se_clear(&err);
		char *argv[] = {"merge", "-q", d, "-o", (char *)outs[cases[i].which], NULL};
		cr_expect_eq(cmd_merge(5, argv, &err), -1, "case %zu", i);
		cr_expect_eq(err.kind, SE_INPUT, "case %zu", i);
		cr_expect_str_eq(err.where, wheres[cases[i].which], "case %zu", i);
		cr_expect_str_eq(err.msg, cases[i].msg, "case %zu", i);
	}
	cr_expect_neq(access(nowhere, F_OK), 0, "the link's target was made");
	unlink(link);
	free(link);
	free(nowhere);
	free(file);
	free(under);
	free_out(&o);
	test_rmdir(d);
}

Test(merge, command_needs_an_output_and_refuses_a_folder_twice)
{
	char *d = make_shard(1, 1, NULL);
	struct out o = new_out();
	struct se_err err;
	char *no_out[] = {"merge", d, NULL};
	cr_expect_eq(cmd_merge(2, no_out, &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.msg, "-o"), "%s", err.msg);
	char *twice[] = {"merge", d, d, "-o", o.path, "--quiet", NULL};
	cr_expect_eq(cmd_merge(6, twice, &err), -1);
	cr_expect_eq(err.kind, SE_USAGE);
	cr_expect(strstr(err.msg, "twice"), "%s", err.msg);
	char *ok[] = {"merge", "-q", d, "--out", o.path, NULL};
	cr_expect_eq(cmd_merge(5, ok, &err), 0, "%s", err.msg);
	cJSON *m = read_manifest(o.path);
	cr_expect_str_eq(jstr(m, "status"), "complete");
	cJSON_Delete(m);
	free_out(&o);
	test_rmdir(d);
}

/* dir/manifest.json with the value at path ("counts.requests": keys joined
 * by dots) replaced by the JSON text raw. */
static void set_manifest(const char *dir, const char *path, const char *raw)
{
	cJSON *m = read_manifest(dir);
	cJSON *o = m;
	char key[128];
	snprintf(key, sizeof(key), "%s", path);
	char *k = key, *dot;
	while ((dot = strchr(k, '.'))) {
		*dot = '\0';
		o = cJSON_GetObjectItemCaseSensitive(o, k);
		cr_assert(cJSON_IsObject(o), "%s: no object %s", dir, k);
		k = dot + 1;
	}
	cJSON *v = cJSON_Parse(raw);
	cr_assert(v, "bad raw JSON %s", raw);
	if (cJSON_GetObjectItemCaseSensitive(o, k))
		cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
	else
		cJSON_AddItemToObject(o, k, v);
	char *text = cJSON_Print(m);
	write_file(dir, "manifest.json", text, strlen(text));
	free(text);
	cJSON_Delete(m);
}

/* An input manifest's counts were summed whatever they held: requests -5
 * made the merged count smaller, 2.5 was cut to 2, "x" read as 0, and
 * spent_usd 1e308 went into the merged manifest. Every field merge reads is
 * checked by the manifest module's rules: bad input (exit 2) naming
 * "<folder>/manifest.json: <json path>" and what was found, nothing
 * written. */
Test(merge, refuses_bogus_fields_of_an_input_manifest_naming_file_and_path)
{
	static const struct {
		const char *path, *raw, *at, *found;
	} bad[] = {
	    {"counts.requests", "-5", "counts.requests", "-5"},
	    {"counts.requests", "2.5", "counts.requests", "2.5"},
	    {"counts.requests", "\"x\"", "counts.requests", "\"x\""},
	    {"counts.requests", "1e300", "counts.requests", "1.0000000000000001e+300"},
	    {"counts.items", "true", "counts.items", "a boolean"},
	    {"counts.items_not_run", "-1", "counts.items_not_run", "-1"},
	    {"counts.results_written", "null", "counts.results_written", "null"},
	    {"counts.by_status.ok", "-3", "counts.by_status.ok", "-3"},
	    {"counts.spent_usd", "1e308", "counts.spent_usd", "1e+308"},
	    {"counts.spent_usd", "-0.5", "counts.spent_usd", "-0.5"},
	    {"counts", "[]", "counts", "an array"},
	    {"concurrency", "-8", "concurrency", "-8"},
	    {"concurrency", "\"8\"", "concurrency", "\"8\""},
	    {"limit", "-2", "limit", "-2"},
	    {"limit", "1.5", "limit", "1.5"},
	    {"started_at", "5", "started_at", "a string or null, got 5"},
	    {"ended_at", "[]", "ended_at", "an array"},
	    {"cache", "{}", "cache", "an object"},
	    {"status", "\"weird\"", "status", "\"weird\""},
	    {"status", "1", "status", "1"},
	    {"shard", "\"5/2\"", "shard", "\"5/2\""},
	    {"shard", "{\"k\":1,\"n\":2}", "shard", "an object"},
	    {"slots.fast", "7", "slots.fast", "7"},
	    {"shadows", "5", "shadows", "5"},
	    {"eval", "3", "eval", "3"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *d[2] = {make_shard(1, 2, "1/2"), make_shard(2, 2, "2/2")};
		set_manifest(d[0], bad[i].path, bad[i].raw);
		struct out o = new_out();
		struct se_err err;
		se_clear(&err);
		cr_expect_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), -1,
			     "%s = %s was merged", bad[i].path, bad[i].raw);
		cr_expect_eq(err.kind, SE_INPUT, "%s = %s", bad[i].path, bad[i].raw);
		char want[512];
		snprintf(want, sizeof(want), "%s/manifest.json: %s", d[0], bad[i].at);
		cr_expect_str_eq(err.where, want, "%s = %s", bad[i].path, bad[i].raw);
		cr_expect(strstr(err.msg, bad[i].found), "%s = %s: %s", bad[i].path, bad[i].raw,
			  err.msg);
		cr_expect(!exists(o.path), "%s = %s: output written", bad[i].path, bad[i].raw);
		free_out(&o);
		test_rmdir(d[0]);
		test_rmdir(d[1]);
	}
}

/* Each input's count may be within 2^53 while their sum is not: the merged
 * manifest would hold a count no reader accepts, so the merge is refused
 * naming the input where the sum passes it. */
Test(merge, refuses_counts_whose_sum_passes_2_to_the_53)
{
	char *d[2] = {make_shard(1, 2, "1/2"), make_shard(2, 2, "2/2")};
	set_manifest(d[0], "counts.requests", "9007199254740000");
	set_manifest(d[1], "counts.requests", "9007199254740000");
	struct out o = new_out();
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(mg_merge((const char *const *)d, 2, o.path, NULL, NULL, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	char *want = fio_join(d[1], "manifest.json");
	cr_expect_str_eq(err.where, want);
	cr_expect(strstr(err.msg, "counts.requests") && strstr(err.msg, "2^53"), "%s", err.msg);
	cr_expect(!exists(o.path));
	free(want);
	free_out(&o);
	test_rmdir(d[0]);
	test_rmdir(d[1]);
}

/* The same rules hold for every reader of a manifest: run --resume and
 * gate read it through man_read, which refuses what merge refuses. */
Test(merge, man_read_applies_the_same_rules)
{
	char *d = make_shard(1, 2, "1/2");
	set_manifest(d, "counts.spent_usd", "-1e308");
	struct man_read mr;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(man_read(d, &mr, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	char want[512];
	snprintf(want, sizeof(want), "%s/manifest.json: counts.spent_usd", d);
	cr_expect_str_eq(err.where, want);
	test_rmdir(d);
}
