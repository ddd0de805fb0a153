/* test_results.c: results.jsonl lines: every field written and read back,
 * unknowns as null, torn tails skipped on read and cut for resume. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "results/results.h"
#include "support/files.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/se-results-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static struct res_row sample(const char *id, const char *model)
{
	struct res_row r;
	res_row_init(&r);
	r.item_id = id;
	r.item_index = 3;
	r.task = "reason";
	r.slot = "deep";
	r.model = model;
	r.served_model = model;
	r.role = "primary";
	r.status = "ok";
	r.http_status = 200;
	r.attempts = 2;
	r.latency_ms = 812.5;
	r.ttft_ms = 90.25;
	r.prompt_tokens = 120;
	r.completion_tokens = 33;
	r.cost_usd = 0.0035352;
	r.cost_source = "reported";
	r.est_tokens = 118;
	r.output = "step 1\n#### 18";
	r.finish_reason = "stop";
	r.checks_json = "{\"answer\":{\"pass\":true,\"detail\":\"18\"}}";
	r.pass = true;
	r.score = 1;
	return r;
}

struct collected {
	int n;
	size_t line[8];
	char ids[8][32];
	double latency[8];
	long tokens[8];
	double cost[8];
	bool pass[8];
};

static int collect(void *ctx, const struct res_rec *row)
{
	struct collected *c = ctx;
	snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", row->item_id);
	c->line[c->n] = row->line;
	c->latency[c->n] = row->latency_ms;
	c->tokens[c->n] = row->prompt_tokens;
	c->cost[c->n] = row->cost_usd;
	c->pass[c->n] = row->pass;
	c->n++;
	return 0;
}

Test(results, line_is_one_json_object_with_every_field, .init = setup, .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	struct res_row r = sample("gsm8k-1", "a/b");
	res_format(&b, &r);
	cr_assert_eq(b.data[b.len - 1], '\n');
	cr_assert_null(memchr(b.data, '\n', b.len - 1), "exactly one line");
	cJSON *o = cJSON_Parse(b.data);
	cr_assert_not_null(o, "%s", b.data);
	static const char *const fields[] = {"item_id",	    "task",	     "slot",
					     "model",	    "role",	     "status",
					     "http_status", "attempts",	     "latency_ms",
					     "ttft_ms",	    "prompt_tokens", "completion_tokens",
					     "cost_usd",    "cost_source",   "cached",
					     "output",	    "finish_reason", "checks",
					     "pass",	    "score",	     "error"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cr_assert_not_null(cJSON_GetObjectItem(o, fields[i]), "missing %s", fields[i]);
	cr_assert_str_eq(cJSON_GetObjectItem(o, "output")->valuestring, "step 1\n#### 18");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(o, "checks"), "answer"), "pass")));
	cJSON_Delete(o);
	buf_free(&b);
}

Test(results, unknown_numbers_are_null_never_zero)
{
	struct buf b;
	buf_init(&b);
	struct res_row r;
	res_row_init(&r);
	r.item_id = "x";
	r.model = "m";
	r.role = "shadow";
	r.status = "timeout";
	res_format(&b, &r);
	cJSON *o = cJSON_Parse(b.data);
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "cost_usd")));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "latency_ms")));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "prompt_tokens")));
	cr_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "http_status")));
	cr_assert_str_eq(cJSON_GetObjectItem(o, "cost_source")->valuestring, "unknown");
	cJSON_Delete(o);
	buf_free(&b);
}

Test(results, written_rows_read_back, .init = setup, .fini = teardown)
{
	struct res_writer w;
	struct se_err err;
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	struct res_row a = sample("i1", "m1"), b = sample("i2", "m2");
	b.cost_usd = NAN;
	b.pass = false;
	cr_assert_eq(res_writer_append(&w, &a, &err), 0);
	cr_assert_eq(res_writer_append(&w, &b, &err), 0);
	res_writer_close(&w);
	struct collected c = {0};
	struct res_scan_stats st;
	cr_assert_eq(res_scan(path, false, collect, &c, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(c.n, 2);
	cr_assert_str_eq(c.ids[1], "i2");
	cr_assert_float_eq(c.latency[0], 812.5, 1e-9);
	cr_assert_eq(c.tokens[0], 120);
	cr_assert_float_eq(c.cost[0], 0.0035352, 1e-12);
	cr_assert(isnan(c.cost[1]));
	cr_assert(c.pass[0]);
	cr_assert_not(c.pass[1]);
	cr_assert_eq(st.torn, 0);
}

static int count_rows(void *ctx, const struct res_rec *row)
{
	(void)row;
	(*(long *)ctx)++;
	return 0;
}

static size_t file_lines(void)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	size_t n = 0;
	int ch;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

Test(results, a_batched_writer_writes_whole_lines_on_flush_or_when_full, .init = setup,
     .fini = teardown)
{
	struct res_writer w;
	struct se_err err;
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	w.batched = true;
	struct res_row a = sample("i1", "m1"), b = sample("i2", "m2");
	cr_assert_eq(res_writer_append(&w, &a, &err), 0);
	cr_assert_eq(res_writer_append(&w, &b, &err), 0);
	cr_assert_eq(file_lines(), 0, "a batched line was written before the flush");
	cr_assert_eq(res_writer_flush(&w, &err), 0, "%s", err.msg);
	cr_assert_eq(file_lines(), 2);
	cr_assert_eq(res_writer_flush(&w, &err), 0, "an empty flush fails");
	cr_assert_eq(file_lines(), 2, "a flush wrote a line twice");
	/* a full buffer is written at once, ending on a whole line */
	size_t n = 0;
	while (file_lines() == 2) {
		cr_assert_eq(res_writer_append(&w, &a, &err), 0);
		n++;
		cr_assert_lt(n, 10000, "a full buffer was never written");
	}
	cr_assert_eq(file_lines(), 2 + n);
	struct buf one;
	buf_init(&one);
	res_format(&one, &a);
	cr_assert_eq(n, (RES_WRITER_BATCH_BYTES + one.len - 1) / one.len,
		     "written before or after the buffer was full");
	buf_free(&one);
	res_writer_close(&w);
	struct res_scan_stats st;
	long seen = 0;
	cr_assert_eq(res_scan(path, false, count_rows, &seen, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(seen, (long)(2 + n));
	cr_assert_eq(st.torn, 0);
}

Test(results, torn_last_line_is_skipped_then_cut, .init = setup, .fini = teardown)
{
	struct res_writer w;
	struct se_err err;
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	struct res_row a = sample("i1", "m1");
	cr_assert_eq(res_writer_append(&w, &a, &err), 0);
	const char torn[] = "{\"item_id\":\"i2\",\"TORNMARK";
	cr_assert_eq(fio_write_full(w.fd, torn, sizeof(torn) - 1, path, &err), 0);
	res_writer_close(&w);

	struct collected c = {0};
	struct res_scan_stats st;
	cr_assert_eq(res_scan(path, false, collect, &c, &st, &err), 0);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(st.torn, 1);

	int dropped = 0;
	cr_assert_eq(res_drop_torn_tail(path, &dropped, &err), 0);
	cr_assert_eq(dropped, 1);
	char *data;
	size_t len;
	cr_assert_eq(fio_read_all(path, &data, &len, &err), 0);
	cr_assert_eq(data[len - 1], '\n');
	cr_assert_null(strstr(data, "TORNMARK"), "the torn bytes are gone");
	free(data);
	cr_assert_eq(res_drop_torn_tail(path, &dropped, &err), 0);
	cr_assert_eq(dropped, 0, "a whole file is left alone");
}

Test(results, bad_line_in_the_middle_names_file_and_line, .init = setup, .fini = teardown)
{
	FILE *fp = fopen(path, "w");
	struct buf b;
	buf_init(&b);
	struct res_row a = sample("i1", "m1");
	res_format(&b, &a);
	fputs(b.data, fp);
	fputs("{not json}\n", fp);
	fputs(b.data, fp);
	fclose(fp);
	buf_free(&b);
	struct collected c = {0};
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(res_scan(path, false, collect, &c, NULL, &err), -1);
	char want[200];
	snprintf(want, sizeof(want), "%s:2", path);
	cr_assert_str_eq(err.where, want);
	cr_assert_eq(err.kind, SE_INPUT);
}

Test(results, missing_file_is_empty_only_when_allowed)
{
	struct collected c = {0};
	struct se_err err;
	cr_assert_eq(res_scan("/nonexistent/results.jsonl", true, collect, &c, NULL, &err), 0);
	cr_assert_eq(c.n, 0);
	cr_assert_eq(res_scan("/nonexistent/results.jsonl", false, collect, &c, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_IO);
}

Test(results, rows_carry_their_physical_line_number, .init = setup, .fini = teardown)
{
	FILE *fp = fopen(path, "w");
	struct buf b;
	buf_init(&b);
	struct res_row a = sample("i1", "m1");
	res_format(&b, &a);
	fputs(b.data, fp);
	fputs("\n", fp); /* a blank line still counts as a line */
	fputs(b.data, fp);
	fclose(fp);
	buf_free(&b);
	struct collected c = {0};
	struct se_err err;
	cr_assert_eq(res_scan(path, false, collect, &c, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.line[0], 1);
	cr_assert_eq(c.line[1], 3);
}

/* ---- strict reading: tests/fixtures/results/bad/NAME.jsonl with NAME.expect
 * ("where: FILE:N" and "msg: ..." that the message must contain) ---- */

#define BAD "tests/fixtures/results/bad/"

static char *slurp(const char *p);

static int count_row(void *ctx, const struct res_rec *row)
{
	(void)row;
	(*(int *)ctx)++;
	return 0;
}

static void expect_line(const char *text, const char *key, char *out, size_t size)
{
	out[0] = '\0';
	const char *p = strstr(text, key);
	if (!p)
		return;
	p += strlen(key);
	size_t n = strcspn(p, "\n");
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

/* 1 when the fixture fails as its .expect says. */
static int bad_fixture_fails_as_expected(const char *name)
{
	char jpath[300], epath[300], want_where[600], raw_where[200], want_msg[400];
	snprintf(jpath, sizeof(jpath), BAD "%s", name);
	snprintf(epath, sizeof(epath), BAD "%.*s.expect", (int)(strlen(name) - 6), name);
	char *expect = slurp(epath);
	cr_assert_not_null(expect, "%s has no .expect file", epath);
	expect_line(expect, "where: FILE", raw_where, sizeof(raw_where));
	expect_line(expect, "msg: ", want_msg, sizeof(want_msg));
	free(expect);
	cr_assert(raw_where[0] && want_msg[0], "%s needs where: FILE... and msg:", epath);
	snprintf(want_where, sizeof(want_where), "%s%s", jpath, raw_where);
	int rows = 0;
	struct se_err err;
	se_clear(&err);
	int rc = res_scan(jpath, false, count_row, &rows, NULL, &err);
	if (rc != -1 || err.kind != SE_INPUT) {
		cr_log_error("%s: rc %d kind %d, expected an input error", name, rc, (int)err.kind);
		return 0;
	}
	if (strcmp(err.where, want_where)) {
		cr_log_error("%s: where \"%s\", expected \"%s\"", name, err.where, want_where);
		return 0;
	}
	if (!strstr(err.msg, want_msg)) {
		cr_log_error("%s: msg \"%s\", expected \"%s\"", name, err.msg, want_msg);
		return 0;
	}
	return 1;
}

static void count_unexpected(const char *name, void *ctx)
{
	*(int *)ctx += !bad_fixture_fails_as_expected(name);
}

Test(results, every_bad_fixture_fails_naming_file_line_and_field)
{
	int failed = 0;
	size_t n = test_each_file(BAD, ".jsonl", count_unexpected, &failed);
	cr_expect_geq(n, 19, "only %zu bad fixtures", n);
	cr_expect_eq(failed, 0, "%d of %zu bad fixtures did not fail as expected (see above)",
		     failed, n);
}

Test(results, finds_the_first_line_of_a_pair_again, .init = setup, .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	struct res_row a = sample("i1", "m1");
	a.role = "fallback";
	a.status = "timeout";
	res_format(&b, &a);
	FILE *fp = fopen(path, "w");
	fputs(b.data, fp);
	fclose(fp);
	buf_free(&b);
	struct res_rec got;
	struct se_err err;
	cr_assert_eq(res_find_pair(path, "i1", "m1", &got.line, &got.role, &err), 0, "%s", err.msg);
	cr_assert_eq(got.line, 1);
	cr_assert_eq(got.role, RES_FALLBACK);
	cr_assert_eq(res_find_pair(path, "i1", "m2", &got.line, &got.role, &err), 0);
	cr_assert_eq(got.line, 0, "no such pair: line 0");
}

static int keep_first(void *ctx, const struct res_rec *row)
{
	struct res_rec *out = ctx;
	if (!out->line) {
		*out = *row;
		out->item_id = out->model = out->raw = NULL; /* storage ends with the callback */
		out->task = out->slot = out->served_model = out->finish_reason = NULL;
		out->error = out->output = NULL;
	}
	return 0;
}

Test(results, record_carries_enums_and_lengths, .init = setup, .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	struct res_row a = sample("item-7", "acme/m");
	a.role = "shadow";
	a.status = "rate_limited";
	a.cost_source = "pricing";
	res_format(&b, &a);
	FILE *fp = fopen(path, "w");
	fputs(b.data, fp);
	fclose(fp);
	buf_free(&b);
	struct res_rec r;
	memset(&r, 0, sizeof(r));
	struct se_err err;
	cr_assert_eq(res_scan(path, false, keep_first, &r, NULL, &err), 0, "%s", err.msg);
	cr_expect_eq(r.role, RES_SHADOW);
	cr_expect_eq(r.status, RES_RATE_LIMITED);
	cr_expect_eq(r.cost_source, RES_COST_PRICING);
	cr_expect_eq(r.item_id_len, 6);
	cr_expect_eq(r.model_len, 6);
	cr_expect_eq(r.output_len, strlen("step 1\n#### 18"));
	cr_expect_eq(r.http_status, 200);
	cr_expect_eq(r.attempts, 2);
	cr_expect_eq(r.est_tokens, 118);
}

Test(results, over_long_line_is_a_located_error, .init = setup, .fini = teardown)
{
	/* A line of 4,000 bytes with a 1,024-byte limit: the error names the
	 * line before the memory for the rest is taken. */
	FILE *fp = fopen(path, "w");
	struct buf b;
	buf_init(&b);
	struct res_row a = sample("i1", "m1");
	res_format(&b, &a);
	fputs(b.data, fp);
	for (int i = 0; i < 4000; i++)
		fputc('x', fp);
	fputc('\n', fp);
	fclose(fp);
	buf_free(&b);
	int rows = 0;
	struct se_err err;
	cr_assert_eq(res_scan_max(path, false, count_row, &rows, NULL, 1024, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	char want[200];
	snprintf(want, sizeof(want), "%s:2", path);
	cr_expect_str_eq(err.where, want);
	cr_expect(strstr(err.msg, "line longer than"), "%s", err.msg);
	cr_expect_eq(rows, 1);
}

/* ---- the vocabulary: enum, names and documented lists agree ---- */

static char *slurp(const char *p)
{
	FILE *fp = fopen(p, "rb");
	if (!fp)
		return NULL;
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	return strdup(text);
}

/* The text from heading to the next heading of any level (ends the copy
 * there); NULL when the heading is missing. */
static char *section(char *doc, const char *heading)
{
	char *s = strstr(doc, heading);
	if (!s)
		return NULL;
	char *end = strstr(s + strlen(heading), "\n#");
	if (end)
		*end = '\0';
	return s;
}

struct names {
	char v[32][40];
	int n;
};

static void add_name(struct names *ns, const char *s, size_t len)
{
	cr_assert_lt(ns->n, 32);
	cr_assert_lt(len, sizeof(ns->v[0]));
	memcpy(ns->v[ns->n], s, len);
	ns->v[ns->n][len] = '\0';
	ns->n++;
}

/* Every `name` inside the parentheses that follow `field` (, e.g. SPEC's
 * "`role` (`primary`, `shadow`, `fallback`)". */
static struct names listed_after(const char *text, const char *field)
{
	struct names ns = {.n = 0};
	char key[64];
	snprintf(key, sizeof(key), "`%s` (", field);
	const char *p = strstr(text, key);
	cr_assert_not_null(p, "no \"%s\" list", key);
	p += strlen(key);
	const char *end = strchr(p, ')');
	cr_assert_not_null(end);
	while ((p = strchr(p, '`')) && p < end) {
		const char *q = strchr(p + 1, '`');
		cr_assert(q && q < end);
		add_name(&ns, p + 1, (size_t)(q - p - 1));
		p = q + 1;
	}
	return ns;
}

/* The first `name` of each "- `name`" list line. */
static struct names bullets(const char *text)
{
	struct names ns = {.n = 0};
	for (const char *p = text; (p = strstr(p, "\n- `")); p++) {
		p += 4;
		const char *q = strchr(p, '`');
		cr_assert_not_null(q);
		add_name(&ns, p, (size_t)(q - p));
	}
	return ns;
}

/* The documented names are exactly the enum's: each parses, none twice,
 * and there are as many as enum values. */
static void expect_same(const struct names *ns, int n_enum, int (*parse)(const char *, size_t),
			const char *what)
{
	bool seen[32] = {false};
	for (int i = 0; i < ns->n; i++) {
		int v = parse(ns->v[i], strlen(ns->v[i]));
		cr_expect_geq(v, 0, "%s: documented \"%s\" is not in the enum", what, ns->v[i]);
		if (v >= 0) {
			cr_expect_not(seen[v], "%s: \"%s\" documented twice", what, ns->v[i]);
			seen[v] = true;
		}
	}
	cr_expect_eq(ns->n, n_enum, "%s: %d documented, %d in the enum", what, ns->n, n_enum);
}

Test(results, vocabulary_names_and_parse_round_trip)
{
	for (int i = 0; i < RES_N_STATUS; i++) {
		const char *s = res_status_name((enum res_status)i);
		cr_assert_neq(strcmp(s, "unknown"), 0);
		cr_assert_eq(res_status_parse(s, strlen(s)), i);
	}
	for (int i = 0; i < RES_N_ROLE; i++) {
		const char *s = res_role_name((enum res_role)i);
		cr_assert_eq(res_role_parse(s, strlen(s)), i);
	}
	for (int i = 0; i < RES_N_COST; i++) {
		const char *s = res_cost_source_name((enum res_cost_source)i);
		cr_assert_eq(res_cost_source_parse(s, strlen(s)), i);
	}
	cr_assert_eq(res_status_parse("OK", 2), -1);
	cr_assert_eq(res_status_parse("ok ", 3), -1);
	cr_assert_eq(res_status_parse("o", 1), -1);
	cr_assert_eq(res_status_parse(NULL, 0), -1);
	cr_assert_eq(res_role_parse("primaryx", 8), -1);
	cr_assert_eq(res_role_parse("primaryx", 7), RES_PRIMARY); /* length, not NUL */
	cr_assert_eq(res_cost_source_parse("guessed", 7), -1);
	cr_assert_str_eq(res_status_name(RES_N_STATUS), "unknown");
	char list[160];
	cr_assert_str_eq(res_role_list(list, sizeof(list)), "primary, shadow, fallback");
}

Test(results, readme_lists_exactly_the_statuses_roles_and_cost_sources)
{
	char *doc = slurp("README.md");
	cr_assert_not_null(doc, "README.md not found (tests run from the repository root)");
	char *sec = section(doc, "### `results.jsonl`");
	cr_assert_not_null(sec, "README.md has no \"### `results.jsonl`\" section");
	struct names st = bullets(sec);
	cr_assert_gt(st.n, 0, "README's results.jsonl section lists no status");
	expect_same(&st, RES_N_STATUS, res_status_parse, "README status");
	struct names ro = listed_after(sec, "role");
	expect_same(&ro, RES_N_ROLE, res_role_parse, "README role");
	struct names co = listed_after(sec, "cost_source");
	expect_same(&co, RES_N_COST, res_cost_source_parse, "README cost_source");
	free(doc);
}

/* SPEC.md lives next to the repository in the project's layout; a checkout
 * without it is checked against the README alone (the test above). */
Test(results, spec_lists_exactly_the_statuses_and_roles)
{
	char *doc = slurp("../shared/SPEC.md");
	if (!doc) {
		cr_log_info("../shared/SPEC.md absent: checked README only");
		return;
	}
	struct names st = listed_after(doc, "status");
	expect_same(&st, RES_N_STATUS, res_status_parse, "SPEC status");
	struct names ro = listed_after(doc, "role");
	expect_same(&ro, RES_N_ROLE, res_role_parse, "SPEC role");
	free(doc);
}

static int count_samples(void *ctx, const struct res_rec *row)
{
	long *seen = ctx;
	seen[row->sample < 4 ? row->sample : 4]++;
	return 0;
}

/* run --repeats: a K = 1 line has no sample field and reads as sample 0;
 * res_scan hands over sample 0 only, res_scan_samples every line. */
Test(results, sample_index_is_written_only_with_repeats_and_absent_reads_as_zero, .init = setup,
     .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	struct res_row r = sample("i1", "m1");
	res_format(&b, &r);
	cr_expect_null(strstr(b.data, "\"sample\""), "%s", b.data);
	struct res_writer w;
	struct se_err err;
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	cr_assert_eq(res_writer_append(&w, &r, &err), 0); /* K = 1: sample 0 */
	for (long k = 0; k < 3; k++) {
		struct res_row s = sample("i2", "m1");
		s.sample = k;
		buf_reset(&b);
		res_format(&b, &s);
		char want[32];
		snprintf(want, sizeof(want), "\"sample\":%ld,", k);
		cr_expect_not_null(strstr(b.data, want), "%s", b.data);
		cr_assert_eq(res_writer_append(&w, &s, &err), 0);
	}
	res_writer_close(&w);
	buf_free(&b);
	long seen[5] = {0};
	cr_assert_eq(res_scan(path, false, count_samples, seen, NULL, &err), 0, "%s", err.msg);
	cr_expect(seen[0] == 2 && seen[1] == 0 && seen[2] == 0, "%ld %ld %ld", seen[0], seen[1],
		  seen[2]);
	memset(seen, 0, sizeof(seen));
	cr_assert_eq(res_scan_samples(path, false, count_samples, seen, NULL, &err), 0, "%s",
		     err.msg);
	cr_expect(seen[0] == 2 && seen[1] == 1 && seen[2] == 1, "%ld %ld %ld", seen[0], seen[1],
		  seen[2]);
}

Test(results, a_bad_sample_index_names_the_field, .init = setup, .fini = teardown)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"item_id\":\"i\",\"model\":\"m\",\"sample\":-1,\"role\":\"primary\","
	      "\"status\":\"ok\",\"pass\":true}\n",
	      f);
	cr_assert_eq(fclose(f), 0);
	long seen[5] = {0};
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(res_scan_samples(path, false, count_samples, seen, NULL, &err), -1);
	cr_expect_not_null(strstr(err.msg, "sample"), "%s", err.msg);
	cr_expect_not_null(strstr(err.where, ":1"), "%s", err.where);
}

/* ---- judging fields (issue 12) ---------------------------------------- */

struct judged {
	int n;
	double jcost, jlat;
	enum res_pw_outcome pw;
	enum res_pw_pick ab, ba;
	char judge[64];
	bool has_checks;
	double cost, latency;
};

static int keep_judged(void *ctx, const struct res_rec *r)
{
	struct judged *j = ctx;
	j->n++;
	j->jcost = r->judge_cost_usd;
	j->jlat = r->judge_latency_ms;
	j->pw = r->pairwise;
	j->ab = r->pw_ab;
	j->ba = r->pw_ba;
	snprintf(j->judge, sizeof(j->judge), "%s", r->pw_judge_model ? r->pw_judge_model : "");
	j->has_checks = r->checks && cJSON_GetObjectItem(r->checks, "answer");
	j->cost = r->cost_usd;
	j->latency = r->latency_ms;
	return 0;
}

Test(results, judge_fields_and_pairwise_round_trip_apart_from_the_model_cost, .init = setup,
     .fini = teardown)
{
	struct res_writer w;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	struct res_row r = sample("i1", "cand/x");
	r.role = "shadow";
	r.judged = true;
	r.judge_cost_usd = 0.25;
	r.judge_latency_ms = 40.5;
	struct res_pairwise pw = {"vs_primary",	   "judge/j",	    "prim/p",
				  RES_PICK_SHADOW, RES_PICK_SHADOW, "Verdict: B | Verdict: A"};
	r.pairwise = &pw;
	cr_assert_eq(res_writer_append(&w, &r, &err), 0, "%s", err.msg);
	res_writer_close(&w);

	char *text = slurp(path);
	cr_assert_not_null(strstr(text, "\"outcome\":\"win\""), "%s", text);
	/* Order: checks, then the judge sums, then pairwise, then error. */
	const char *c = strstr(text, "\"checks\""), *jc = strstr(text, "\"judge_cost_usd\""),
		   *pwp = strstr(text, "\"pairwise\""), *e = strstr(text, "\"error\"");
	cr_assert(c && jc && pwp && e && c < jc && jc < pwp && pwp < e, "%s", text);
	free(text);

	struct judged j = {0};
	cr_assert_eq(res_scan(path, false, keep_judged, &j, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(j.n, 1);
	cr_expect_float_eq(j.jcost, 0.25, 1e-12);
	cr_expect_float_eq(j.jlat, 40.5, 1e-12);
	cr_expect_float_eq(j.cost, 0.0035352, 1e-12, "the model's own cost is untouched");
	cr_expect_float_eq(j.latency, 812.5, 1e-12);
	cr_expect_eq(j.pw, RES_PW_WIN);
	cr_expect_eq(j.ab, RES_PICK_SHADOW);
	cr_expect_eq(j.ba, RES_PICK_SHADOW);
	cr_expect_str_eq(j.judge, "judge/j");
	cr_expect(j.has_checks);
}

Test(results, a_line_without_judging_has_no_judge_fields_and_reads_as_none, .init = setup,
     .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	struct res_row r = sample("i1", "m");
	res_format(&b, &r);
	cr_expect_null(strstr(b.data, "judge_cost_usd"), "%s", b.data);
	cr_expect_null(strstr(b.data, "pairwise"), "%s", b.data);
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_write_atomic(path, b.data, b.len, &err), 0);
	buf_free(&b);
	struct judged j = {0};
	cr_assert_eq(res_scan(path, false, keep_judged, &j, NULL, &err), 0, "%s", err.msg);
	cr_expect(isnan(j.jcost) && isnan(j.jlat));
	cr_expect_eq(j.pw, RES_PW_NONE);
	cr_expect_eq(j.ab, RES_PICK_NONE);
	cr_expect_str_eq(j.judge, "");
}

Test(results, pairwise_outcome_follows_from_both_orders)
{
	cr_expect_eq(res_pw_outcome_of(RES_PICK_SHADOW, RES_PICK_SHADOW), RES_PW_WIN);
	cr_expect_eq(res_pw_outcome_of(RES_PICK_REFERENCE, RES_PICK_REFERENCE), RES_PW_LOSS);
	cr_expect_eq(res_pw_outcome_of(RES_PICK_SHADOW, RES_PICK_REFERENCE), RES_PW_TIE);
	cr_expect_eq(res_pw_outcome_of(RES_PICK_TIE, RES_PICK_SHADOW), RES_PW_TIE);
	cr_expect_eq(res_pw_outcome_of(RES_PICK_TIE, RES_PICK_TIE), RES_PW_TIE);
	cr_expect_eq(res_pw_outcome_of(RES_PICK_SHADOW, RES_PICK_ERROR), RES_PW_ERROR);
	cr_expect_eq(res_pw_outcome_of(RES_PICK_ERROR, RES_PICK_REFERENCE), RES_PW_ERROR);
	cr_expect_eq(res_pw_outcome_of(RES_PICK_NONE, RES_PICK_SHADOW), RES_PW_ERROR);
	for (int i = 1; i < RES_N_PW; i++) {
		const char *s = res_pw_outcome_name((enum res_pw_outcome)i);
		cr_assert_eq(res_pw_outcome_parse(s, strlen(s)), i);
	}
	for (int i = 1; i < RES_N_PICK; i++) {
		const char *s = res_pw_pick_name((enum res_pw_pick)i);
		cr_assert_eq(res_pw_pick_parse(s, strlen(s)), i);
	}
	cr_expect_str_eq(res_pw_outcome_name(RES_PW_NONE), "unknown");
	cr_expect_eq(res_pw_outcome_parse("none", 4), -1);
	cr_expect_eq(res_pw_pick_parse("A", 1), -1);
}

static void expect_bad_line(const char *line, const char *needle)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(line, f);
	cr_assert_eq(fclose(f), 0);
	struct judged j = {0};
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(res_scan(path, false, keep_judged, &j, NULL, &err), -1, "%s", line);
	cr_expect_not_null(strstr(err.msg, needle), "want \"%s\" in: %s", needle, err.msg);
	cr_expect_not_null(strstr(err.where, ":1"), "%s", err.where);
}

#define HEAD                                                                                       \
	"{\"item_id\":\"i\",\"model\":\"m\",\"role\":\"shadow\",\"status\":\"ok\",\"pass\":true,"
#define PW(ab, ba, out)                                                                            \
	"\"pairwise\":{\"check\":\"c\",\"judge_model\":\"j\",\"reference_model\":\"p\",\"ab\":"    \
	"\"" ab "\",\"ba\":\"" ba "\",\"outcome\":\"" out "\",\"detail\":\"\"}}\n"

Test(results, bad_judge_fields_name_the_field, .init = setup, .fini = teardown)
{
	expect_bad_line(HEAD "\"judge_cost_usd\":-1}\n", "judge_cost_usd");
	expect_bad_line(HEAD "\"judge_latency_ms\":\"x\"}\n", "judge_latency_ms");
	expect_bad_line(HEAD "\"pairwise\":3}\n", "pairwise");
	expect_bad_line(HEAD PW("A", "shadow", "tie"), "pairwise.ab");
	expect_bad_line(HEAD PW("shadow", "shadow", "won"), "pairwise.outcome");
	expect_bad_line(HEAD PW("shadow", "reference", "win"), "does not follow");
	expect_bad_line(HEAD "\"pairwise\":{\"ab\":\"tie\",\"ba\":\"tie\",\"outcome\":\"tie\"}}\n",
			"pairwise.check");
}

Test(results, readme_lists_exactly_the_pairwise_outcomes_and_picks)
{
	char *doc = slurp("README.md");
	cr_assert_not_null(doc);
	char *sec = section(doc, "### `results.jsonl`");
	cr_assert_not_null(sec);
	struct names out = listed_after(sec, "outcome");
	expect_same(&out, RES_N_PW - 1, res_pw_outcome_parse, "README pairwise outcome");
	struct names ab = listed_after(sec, "ab");
	expect_same(&ab, RES_N_PICK - 1, res_pw_pick_parse, "README pairwise ab");
	free(doc);
}

/* A reply's 10^15 tokens or a cost past the reader's $1M per request were
 * written as given, and summarize, report and --resume then refused the
 * folder: a count or cost out of the reader's range is written as unknown,
 * and the line reads back. */
Test(results, values_past_the_readers_ranges_are_written_as_unknown, .init = setup,
     .fini = teardown)
{
	struct res_writer w;
	struct se_err err;
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	struct res_row a = sample("i1", "m1");
	a.prompt_tokens = 4294967295L; /* one past the bound */
	a.completion_tokens = 1000000000000000L;
	a.cost_usd = 1e7;
	a.cost_source = "reported";
	struct res_row b = sample("i2", "m1");
	b.prompt_tokens = 4294967294L; /* the bound itself is kept */
	b.cost_usd = 1e6;
	cr_assert_eq(res_writer_append(&w, &a, &err), 0);
	cr_assert_eq(res_writer_append(&w, &b, &err), 0);
	res_writer_close(&w);
	struct collected c = {0};
	struct res_scan_stats st;
	cr_assert_eq(res_scan(path, false, collect, &c, &st, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_assert_eq(c.n, 2);
	cr_expect_eq(c.tokens[0], -1);
	cr_expect(isnan(c.cost[0]));
	cr_expect_eq(c.tokens[1], 4294967294L);
	cr_expect_float_eq(c.cost[1], 1e6, 1e-6);
	/* and the unknown cost says so */
	FILE *f = fopen(path, "r");
	char line[4096];
	cr_assert(fgets(line, sizeof(line), f));
	fclose(f);
	cr_expect(strstr(line, "\"cost_usd\":null,\"cost_source\":\"unknown\""), "%s", line);
	cr_expect(strstr(line, "\"completion_tokens\":null"), "%s", line);
}

/* The README: blank lines are skipped. A line of spaces and tabs is blank
 * too, for both readers (the full one and the field scanner). */
Test(results, a_line_of_spaces_and_tabs_is_blank_for_every_reader, .init = setup, .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	struct res_row a = sample("i1", "m1"), c = sample("i2", "m1");
	res_format(&b, &a);
	buf_puts(&b, "  \t \r\n\n");
	res_format(&b, &c);
	FILE *f = fopen(path, "wb");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	buf_free(&b);
	long rows = 0;
	struct se_err err;
	cr_assert_eq(res_scan(path, false, count_rows, &rows, NULL, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_expect_eq(rows, 2);
	rows = 0;
	struct res_fields sf = {.want = RES_WANT_TASK};
	cr_assert_eq(res_scan_fields(path, &sf, count_rows, &rows, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_expect_eq(rows, 2);
}

/* A whole last line that only lacks its newline is a result every reader
 * counts: --resume completed it by cutting it, then asked (and paid) for
 * that answer again. It gets its newline, and the file reads the same. */
Test(results, a_whole_last_line_without_newline_is_completed_not_cut, .init = setup,
     .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	struct res_row a = sample("i1", "m1"), c2 = sample("i2", "m1");
	res_format(&b, &a);
	res_format(&b, &c2);
	b.len--; /* the last newline */
	FILE *f = fopen(path, "wb");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	struct se_err err;
	int dropped = 1;
	cr_assert_eq(res_drop_torn_tail(path, &dropped, &err), 0, "%s", err.msg);
	cr_expect_eq(dropped, 0);
	char *data;
	size_t len;
	cr_assert_eq(fio_read_all(path, &data, &len, &err), 0);
	cr_expect_eq(len, b.len + 1);
	cr_expect_eq(data[len - 1], '\n');
	cr_expect(!memcmp(data, b.data, b.len), "the lines changed");
	free(data);
	buf_free(&b);
	struct collected c = {0};
	cr_assert_eq(res_scan(path, false, collect, &c, NULL, &err), 0);
	cr_expect_eq(c.n, 2);
}

static int keep_rec(void *ctx, const struct res_rec *row)
{
	struct res_rec *out = ctx;
	*out = *row;
	out->item_id = out->model = out->task = out->slot = NULL;
	out->served_model = out->finish_reason = out->error = out->output = NULL;
	out->checks = NULL;
	out->pw_judge_model = NULL;
	return 0;
}

/* A replay's latency came from the cache: 1e308 or -5 there was written as
 * original_latency_ms and summarize then refused the folder. Every number
 * the writer puts in a line is one the reader takes (one range table for
 * both): out of range, on either side, it is written as null. */
Test(results, every_number_outside_the_readers_range_is_written_as_null, .init = setup,
     .fini = teardown)
{
	struct res_writer w;
	struct se_err err;
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	struct res_row a = sample("i1", "m1");
	a.latency_ms = 1e308;
	a.ttft_ms = -5;
	a.cached = true;
	a.original_latency_ms = -1e308;
	a.original_ttft_ms = INFINITY;
	a.score = 1.5;
	a.judged = true;
	a.judge_latency_ms = 1e11;
	a.judge_cost_usd = -0.5;
	a.attempts = 2000000;
	a.http_status = 1000;
	a.item_index = 2000000000000000L;
	a.sample = 5000000;
	a.est_tokens = 5000000000L;
	cr_assert_eq(res_writer_append(&w, &a, &err), 0);
	res_writer_close(&w);
	char *text = test_read_file(path, NULL);
	static const char *const nulls[] = {
	    "\"latency_ms\":null",	 "\"ttft_ms\":null",  "\"original_latency_ms\":null",
	    "\"original_ttft_ms\":null", "\"score\":null",    "\"judge_latency_ms\":null",
	    "\"judge_cost_usd\":null",	 "\"attempts\":null", "\"http_status\":null",
	    "\"item_index\":null",	 "\"sample\":null",   "\"est_tokens\":null"};
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		cr_expect(strstr(text, nulls[i]), "%s not in %s", nulls[i], text);
	free(text);
	struct res_rec r;
	struct res_scan_stats st;
	cr_assert_eq(res_scan(path, false, keep_rec, &r, &st, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_expect(isnan(r.latency_ms) && isnan(r.ttft_ms) && isnan(r.original_latency_ms) &&
		  isnan(r.original_ttft_ms) && isnan(r.score) && isnan(r.judge_latency_ms) &&
		  isnan(r.judge_cost_usd));
	cr_expect_eq(r.item_index, -1);
	cr_expect_eq(r.est_tokens, -1);
}

/* The bounds themselves are in range: written as given, read back equal. */
Test(results, numbers_at_the_readers_bounds_are_written_as_given, .init = setup, .fini = teardown)
{
	struct res_writer w;
	struct se_err err;
	cr_assert_eq(res_writer_open(&w, path, &err), 0);
	struct res_row a = sample("i1", "m1");
	a.latency_ms = RES_MAX_MS;
	a.ttft_ms = 0;
	a.cached = true;
	a.original_latency_ms = RES_MAX_MS;
	a.original_ttft_ms = 0.5;
	a.judged = true;
	a.judge_latency_ms = RES_MAX_MS;
	a.judge_cost_usd = RES_MAX_USD;
	cr_assert_eq(res_writer_append(&w, &a, &err), 0);
	res_writer_close(&w);
	struct res_rec r;
	struct res_scan_stats st;
	cr_assert_eq(res_scan(path, false, keep_rec, &r, &st, &err), 0, "%s: %s", err.where,
		     err.msg);
	cr_expect_eq(r.latency_ms, RES_MAX_MS);
	cr_expect_eq(r.ttft_ms, 0);
	cr_expect_eq(r.original_latency_ms, RES_MAX_MS);
	cr_expect_eq(r.original_ttft_ms, 0.5);
	cr_expect_eq(r.judge_latency_ms, RES_MAX_MS);
	cr_expect_eq(r.judge_cost_usd, RES_MAX_USD);
	cr_expect_eq(r.attempts, 2);
}
