/* test_results.c: results.jsonl lines: every field written and read back,
 * unknowns as null, torn tails skipped on read and cut for resume. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "results/results.h"

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

static int collect(void *ctx, const struct res_row *row)
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
	static const char *const fields[] = {
		"item_id", "task", "slot", "model", "role", "status", "http_status", "attempts",
		"latency_ms", "ttft_ms", "prompt_tokens", "completion_tokens", "cost_usd",
		"cost_source", "cached", "output", "finish_reason", "checks", "pass", "score", "error"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		cr_assert_not_null(cJSON_GetObjectItem(o, fields[i]), "missing %s", fields[i]);
	cr_assert_str_eq(cJSON_GetObjectItem(o, "output")->valuestring, "step 1\n#### 18");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "checks"), "answer"), "pass")));
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
