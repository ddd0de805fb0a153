/* test_res_fast.c: the fast pass over results.jsonl (res_scan_fields, used
 * by diff) reads exactly what the full reader (res_scan) reads: the same
 * record for every good line, the same error (file:line and message) for
 * every bad one, odd but valid JSON included; and it reads lines of ours
 * without the full parse. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "results/results.h"
#include "support/files.h"

#define WANT_ALL 63u
#define WANT_DIFF (RES_WANT_TASK | RES_WANT_SLOT)

static char dir[64];
static char path[320];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/se-resfast-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void write_file(const char *text)
{
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	fwrite(text, 1, strlen(text), fp);
	fclose(fp);
}

struct dump {
	struct buf *out;
	unsigned want;
};

#define S(x) ((x) ? (x) : "(null)")

/* Every field of a record as text (doubles exact, in hex); strings only
 * those of want, as the fast pass fills only those. */
static int dump_rec(void *ctx, const struct res_rec *r)
{
	struct dump *d = ctx;
	unsigned w = d->want;
	buf_printf(d->out, "%zu [%s] %zu [%s] %zu ", r->line, r->item_id, r->item_id_len, r->model,
		   r->model_len);
	buf_printf(d->out, "[%s] [%s] [%s] [%s] [%s] [%s] %zu ",
		   S(w & RES_WANT_TASK ? r->task : NULL), S(w & RES_WANT_SLOT ? r->slot : NULL),
		   S(w & RES_WANT_SERVED_MODEL ? r->served_model : NULL),
		   S(w & RES_WANT_FINISH_REASON ? r->finish_reason : NULL),
		   S(w & RES_WANT_ERROR ? r->error : NULL),
		   S(w & RES_WANT_OUTPUT ? r->output : NULL),
		   w & RES_WANT_OUTPUT ? r->output_len : 0);
	buf_printf(d->out, "%d %d %d %ld %ld %d %d %a %a %a %a %ld %ld %ld %a %a %d %d [%.*s]\n",
		   (int)r->role, (int)r->status, (int)r->cost_source, r->item_index, r->sample,
		   r->http_status, r->attempts, r->latency_ms, r->ttft_ms, r->original_latency_ms,
		   r->original_ttft_ms, r->prompt_tokens, r->completion_tokens, r->est_tokens,
		   r->cost_usd, r->score, (int)r->cached, (int)r->pass, (int)r->raw_len, r->raw);
	buf_printf(d->out, "  judge %a %a pairwise %d %d %d [%s]\n", r->judge_cost_usd,
		   r->judge_latency_ms, (int)r->pairwise, (int)r->pw_ab, (int)r->pw_ba,
		   S(r->pw_judge_model));
	return 0;
}

/* What a reader makes of path: its records, its end (lines, torn) and its
 * error. slow: the fast pass's count of lines it left to the full parse. */
static void outcome(bool fast, unsigned want, bool all_samples, struct buf *out, size_t *slow)
{
	struct dump d = {out, want};
	struct se_err err;
	se_clear(&err);
	int rc;
	size_t lines, torn;
	if (fast) {
		struct res_fields sf = {.want = want, .all_samples = all_samples};
		rc = res_scan_fields(path, &sf, dump_rec, &d, &err);
		lines = sf.lines;
		torn = sf.torn;
		if (slow)
			*slow = sf.slow;
	} else {
		struct res_scan_stats st = {0, 0};
		rc = all_samples ? res_scan_samples(path, false, dump_rec, &d, &st, &err)
				 : res_scan(path, false, dump_rec, &d, &st, &err);
		lines = st.lines;
		torn = st.torn;
	}
	if (rc)
		buf_printf(out, "error %d %d %s: %s\n", rc, (int)err.kind, err.where, err.msg);
	else
		buf_printf(out, "end lines %zu torn %zu\n", lines, torn);
}

/* Both readers on the file as it is, in both modes; the full one's text. */
static void expect_same(const char *what)
{
	static const unsigned wants[] = {WANT_ALL, WANT_DIFF, 0};
	for (int s = 0; s < 2; s++) {
		for (size_t i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
			struct buf a, b;
			buf_init(&a);
			buf_init(&b);
			outcome(false, wants[i], s, &a, NULL);
			outcome(true, wants[i], s, &b, NULL);
			cr_expect_str_eq(b.data, a.data, "%s (want %u, all samples %d)", what,
					 wants[i], s);
			buf_free(&a);
			buf_free(&b);
		}
	}
}

static void row_base(struct res_row *r, const char *id, const char *model)
{
	res_row_init(r);
	r->item_id = id;
	r->item_index = 3;
	r->task = "reason";
	r->slot = "deep";
	r->model = model;
	r->served_model = model;
	r->role = "primary";
	r->status = "ok";
	r->http_status = 200;
	r->attempts = 2;
	r->latency_ms = 812.5;
	r->ttft_ms = 90.25;
	r->prompt_tokens = 120;
	r->completion_tokens = 33;
	r->cost_usd = 0.0035352;
	r->cost_source = "reported";
	r->est_tokens = 118;
	r->output = "step 1 #### 18";
	r->finish_reason = "stop";
	r->checks_json = "{\"answer\":{\"pass\":true,\"detail\":\"18\",\"n\":[1,2.5e3,-0,null]}}";
	r->pass = true;
	r->score = 1;
}

/* Lines as `run` writes them, with the values that take each branch of the
 * number reader (integers, fractions, 17 digits, exponents) and every
 * optional field. */
static void writer_lines(struct buf *b)
{
	static const double lat[] = {0, 1, 0.1, 812.5, 123.45678901234568, 1e-7, 9999999999.5};
	static const char *const status[] = {"ok", "timeout", "http_5xx", "budget"};
	static const char *const role[] = {"primary", "shadow", "fallback"};
	char id[32];
	for (int i = 0; i < 28; i++) {
		struct res_row r;
		snprintf(id, sizeof(id), "item-%d", i);
		row_base(&r, id, i % 2 ? "acme/big" : "acme/small");
		r.latency_ms = lat[i % 7];
		r.ttft_ms = i % 3 ? NAN : lat[(i + 3) % 7];
		r.status = status[i % 4];
		r.role = role[i % 3];
		r.cached = i % 5 == 0;
		r.original_latency_ms = 40.125;
		r.original_ttft_ms = i;
		r.sample = i % 4 == 3 ? 1 : i % 4 == 2 ? 0 : -1;
		r.task = i % 6 ? "reason" : NULL;
		r.slot = i % 7 ? "deep" : NULL;
		r.cost_source = i % 3 ? "pricing" : "unknown";
		r.cost_usd = i % 3 ? 1.0 / (i + 3) : NAN;
		r.score = i % 2 ? 0.3333333333333333 : NAN;
		r.pass = i % 2;
		r.error = i % 4 ? "upstream said no" : NULL;
		r.output = i % 8 == 0 ? NULL : "plain answer";
		r.item_index = i % 9 ? i : -1;
		res_format(b, &r);
	}
}

Test(res_fast, lines_of_the_writer_go_the_fast_way_and_read_the_same, .init = setup,
     .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	writer_lines(&b);
	write_file(b.data);
	buf_free(&b);
	expect_same("writer lines");
	struct buf out;
	buf_init(&out);
	size_t slow = 99;
	outcome(true, WANT_DIFF, true, &out, &slow);
	cr_expect_eq(slow, 0, "%zu lines of the writer left to the full parse", slow);
	cr_expect(strstr(out.data, "end lines 28 torn 0"), "%s", out.data);
	buf_free(&out);
}

/* Decimals of every length up to 15 digits (the fast path computes them)
 * and beyond (strtod does), each the double strtod reads. */
Test(res_fast, decimals_read_to_the_double_strtod_reads, .init = setup, .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 4000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v = (double)(x % 10000000000ULL) / 1000.0;
		buf_printf(&b,
			   "{\"item_id\":\"i%d\",\"model\":\"m\",\"role\":\"primary\","
			   "\"status\":\"ok\",\"latency_ms\":%.*f,\"score\":0.%0*llu}\n",
			   i, i % 12, v, 1 + i % 18,
			   (unsigned long long)(x % 1000000000000000000ULL));
	}
	write_file(b.data);
	buf_free(&b);
	expect_same("decimals");
}

/* Odd lines: valid JSON the fast path must read as cJSON does (or leave to
 * it), and bad lines whose message must be the full reader's. */
static const char *const odd[] = {
    /* valid, unusual */
    "{ \"item_id\" : \"a\" , \"model\":\"m\",\"role\":\"shadow\",\"status\":\"ok\",\"pass\":true }",
    "{\"status\":\"ok\",\"role\":\"primary\",\"model\":\"m\",\"item_id\":\"a\",\"pass\":false}",
    "{\"item_id\":\"a\",\"extra\":{\"deep\":[[[{\"x\":\"\\\"}\"}]]],\"n\":-1.5E+3},\"model\":\"m\","
    "\"role\":\"primary\",\"status\":\"ok\"}",
    "{\"item_id\":\"a\\u0041\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"}",
    "{\"item\\u005fid\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"output\":"
    "\"caf\\u00e9 \\ud83d\\ude00 \\t\\\\ \\/\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"task\":\"t\\n\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"latency_ms\":"
    "0000012.500,\"score\":1.0000000000000001,\"attempts\":-0,\"cost_usd\":1e-300}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"latency_ms\":"
    "123456789.12345678901234}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"unknown\":1,"
    "\"unknown\":[],\"checks\":{}}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"} trailing",
    "\t{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"}\t",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"sample\":2}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"x\":"
    "123456789012345678901234567890123456789012345678901234567890123456789}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"shadow\",\"status\":\"ok\","
    "\"judge_cost_usd\":0.25,\"judge_latency_ms\":12,\"pairwise\":null}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"shadow\",\"status\":\"ok\",\"pairwise\":"
    "{\"check\":\"pw\",\"judge_model\":\"j\",\"reference_model\":\"r\",\"ab\":\"a\","
    "\"ba\":\"a\",\"outcome\":\"a\",\"detail\":\"\"}}",
    /* bad */
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"shadow\",\"status\":\"ok\",\"pairwise\":7}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"shadow\",\"status\":\"ok\","
    "\"judge_cost_usd\":-1}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"pass\":\"yes\"}",
    "{\"item_id\":\"\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"attempts\":1.5}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"latency_ms\":"
    "1e400}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"score\":1.01}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"cost_usd\":-1}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"cached\":null}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"checks\":[]}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"role\":"
    "\"shadow\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"okay\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"boss\",\"status\":\"ok\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"cost_source\":"
    "\"x\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"output\":\"\\x\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"output\":"
    "\"\\ud800\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"output\":"
    "\"\\uDC00 \\uD7FF\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"x\":[1,]}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"x\":+1}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"x\":.5}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"x\":1.}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"x\":tru}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"http_status\":"
    "1000}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",\"item_index\":"
    "\"3\"}",
    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"",
    "[1,2]",
    "not json",
};

Test(res_fast, odd_and_bad_lines_read_as_the_full_reader_reads_them, .init = setup,
     .fini = teardown)
{
	char text[1024];
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		/* the line in the middle of the file, then as a last line without
		 * its newline (a torn tail when it is not JSON) */
		snprintf(
		    text, sizeof(text),
		    "{\"item_id\":\"z\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"}\n"
		    "\n%s\n{\"item_id\":\"y\",\"model\":\"m\",\"role\":\"shadow\","
		    "\"status\":\"timeout\"}\r\n",
		    odd[i]);
		write_file(text);
		expect_same(odd[i]);
		snprintf(text, sizeof(text),
			 "{\"item_id\":\"z\",\"model\":\"m\",\"role\":\"primary\",\"status\":"
			 "\"ok\"}\n%s",
			 odd[i]);
		write_file(text);
		expect_same(odd[i]);
	}
}

Test(res_fast, raw_nul_bytes_are_refused_by_both_readers_alike, .init = setup, .fini = teardown)
{
	static const char line[] = "{\"item_id\":\"a\0b\",\"model\":\"m\",\"role\":\"primary\","
				   "\"status\":\"ok\",\"task\":\"t\0u\",\"k\0\":1}\n"
				   "{\"item_id\":\"\0b\",\"model\":\"m\",\"role\":\"primary\","
				   "\"status\":\"ok\"}\n";
	FILE *fp = fopen(path, "wb");
	fwrite(line, 1, sizeof(line) - 1, fp);
	fclose(fp);
	expect_same("raw NUL bytes");
}

/* A string of len bytes with mark (n bytes) at byte `at`, quoted. */
static void marked(struct buf *b, int len, int at, const char *mark, size_t n)
{
	buf_putc(b, '"');
	for (int i = 0; i < len; i++) {
		if (i == at)
			buf_append(b, mark, n);
		buf_putc(b, (char)('a' + i % 26));
	}
	if (at == len)
		buf_append(b, mark, n);
	buf_putc(b, '"');
}

/* Two lines: the mark in a wanted string and the output, then in a key (a
 * key with a NUL sends the whole line to the full parse). */
static void marked_line(struct buf *b, int len, int at, const char *mark, size_t n)
{
	buf_puts(b, "{\"item_id\":\"i\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\","
		    "\"task\":");
	marked(b, len, at, mark, n);
	buf_puts(b, ",\"output\":");
	marked(b, len, at, mark, n);
	buf_puts(b,
		 "}\n{\"item_id\":\"i\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\",");
	marked(b, len, at, mark, n);
	buf_puts(b, ":1}\n");
}

static void write_buf(const struct buf *b)
{
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	fwrite(b->data, 1, b->len, fp);
	fclose(fp);
}

/* Both readers, with the output wanted and not (the two ways a string is
 * read). */
static void expect_same_strings(const char *what)
{
	static const unsigned wants[] = {WANT_ALL, WANT_DIFF};
	for (size_t i = 0; i < 2; i++) {
		struct buf a, f;
		buf_init(&a);
		buf_init(&f);
		outcome(false, wants[i], false, &a, NULL);
		outcome(true, wants[i], false, &f, NULL);
		cr_expect_str_eq(f.data, a.data, "%s (want %u)", what, wants[i]);
		buf_free(&a);
		buf_free(&f);
	}
}

/* Strings of 0 to 40 bytes with a mark at every position (the fast path
 * reads the first 32 bytes of a string 8 at a time, the rest with memchr):
 * a raw NUL, escapes, a raw byte; then the bad escapes, a line each (a bad
 * line ends the read), at the lengths around each 8-byte step. */
Test(res_fast, strings_with_a_mark_at_every_position_read_as_the_full_reader_reads_them,
     .init = setup, .fini = teardown)
{
	static const struct {
		const char *s;
		size_t n;
	} good[] = {{"\0", 1}, {"\\n", 2}, {"\\\"", 2}, {"\\u0041", 6}, {"\\\\", 2}, {"\x7f", 1}},
	  bad[] = {{"\\ud800", 6}, {"\\x", 2}, {"\\", 1}};
	static const int lens[] = {0, 1, 6, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 34, 40};
	struct buf b;
	buf_init(&b);
	for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
		buf_reset(&b);
		for (int len = 0; len <= 40; len++)
			for (int at = 0; at <= len; at++)
				marked_line(&b, len, at, good[k].s, good[k].n);
		write_buf(&b);
		expect_same_strings(good[k].s);
	}
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
			for (int at = 0; at <= lens[l]; at++) {
				buf_reset(&b);
				marked_line(&b, lens[l], at, bad[k].s, bad[k].n);
				write_buf(&b);
				expect_same_strings(b.data);
			}
	buf_free(&b);
}

/* Integer fields given whole numbers as decimals, with exponents and past
 * 15 digits (the fast path decides "whole" without floor), and fractions. */
Test(res_fast, whole_numbers_in_every_spelling_read_as_the_full_reader_reads_them, .init = setup,
     .fini = teardown)
{
	static const char *const nums[] = {"7",
					   "7.0",
					   "7.000",
					   "7.50",
					   "70e-1",
					   "0.7e1",
					   "7.0000000000000001",
					   "6.9999999999999999",
					   "1000000.0",
					   "1000000.5",
					   "-0.0",
					   "00.00",
					   "999.000000000",
					   "998.0000000000001",
					   "1e3",
					   "123456.000000001",
					   "0.000000000000001",
					   "100000000000000.0",
					   "12345678901234.5",
					   "-1.0"};
	char line[512];
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(
		    line, sizeof(line),
		    "{\"item_id\":\"n\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\","
		    "\"http_status\":%s,\"attempts\":%s,\"prompt_tokens\":%s,\"latency_ms\":%s}\n",
		    nums[i], nums[i], nums[i], nums[i]);
		write_file(line);
		expect_same(line);
	}
}

#define BAD "tests/fixtures/results/bad/"

static void bad_fixture_same(const char *name, void *ctx)
{
	(void)ctx;
	snprintf(path, sizeof(path), BAD "%s", name);
	expect_same(name);
}

Test(res_fast, every_bad_fixture_gives_the_full_readers_message)
{
	size_t n = test_each_file(BAD, ".jsonl", bad_fixture_same, NULL);
	cr_expect_geq(n, 19, "only %zu bad fixtures", n);
}

static int note_off(void *ctx, const struct res_rec *r)
{
	struct buf *b = ctx;
	buf_printf(b, "%llu:%zu ", r->off, r->line);
	return 0;
}

Test(res_fast, offsets_and_line_numbers_find_each_line_again, .init = setup, .fini = teardown)
{
	const char *a =
	    "{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"}";
	char text[512];
	snprintf(text, sizeof(text), "%s\n\r\n\n%s\r\n%s", a, a, a);
	write_file(text);
	struct buf b;
	buf_init(&b);
	struct res_fields sf = {.want = 0, .all_samples = true};
	struct se_err err;
	cr_assert_eq(res_scan_fields(path, &sf, note_off, &b, &err), 0, "%s", err.msg);
	size_t n = strlen(a);
	char want[128];
	snprintf(want, sizeof(want), "0:1 %zu:4 %zu:5 ", n + 4, 2 * n + 6);
	cr_expect_str_eq(b.data, want);
	buf_free(&b);
}

Test(res_fast, a_line_over_the_limit_is_refused_before_it_is_read_whole, .init = setup,
     .fini = teardown)
{
	FILE *fp = fopen(path, "w");
	fputs("{\"item_id\":\"a\",\"model\":\"m\",\"role\":\"primary\",\"status\":\"ok\"}\n", fp);
	for (int i = 0; i < 400000; i++)
		fputc('x', fp);
	fputc('\n', fp);
	fclose(fp);
	struct res_fields sf = {.max_line = 1024};
	struct se_err err;
	struct buf b;
	buf_init(&b);
	struct dump d = {&b, 0};
	cr_assert_eq(res_scan_fields(path, &sf, dump_rec, &d, &err), -1);
	struct res_scan_stats st;
	struct se_err full;
	cr_assert_eq(res_scan_max(path, false, dump_rec, &d, &st, 1024, &full), -1);
	cr_expect_str_eq(err.where, full.where);
	cr_expect_str_eq(err.msg, full.msg);
	cr_expect(strstr(err.msg, "line longer than 1024 bytes"), "%s", err.msg);
	buf_free(&b);
}
