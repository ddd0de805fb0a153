/* test_dataset.c: the dataset room (src/dataset/): JSONL and CSV items, ids,
 * expected answers, errors with their file:line, and the shipped datasets.
 * Bad inputs live in tests/fixtures/dataset/; the over-long line is made in a
 * temporary file. Run from the project root. */
#include <criterion/criterion.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/fileio.h"
#include "core/sha256.h"
#include "dataset/dataset.h"

#define FIX "tests/fixtures/dataset/"

static struct ds_reader *open_ds(const char *path, const char *field, const char *regex)
{
	struct cfg_dataset d = {
	    .path = (char *)path, .expected_field = (char *)field, .expected_regex = (char *)regex};
	struct ds_reader *r = NULL;
	struct se_err err = {0};
	int rc = ds_open(&r, &d, &err);
	cr_assert_eq(rc, 0, "ds_open %s: %s: %s", path, err.where, err.msg);
	return r;
}

static void next_ok(struct ds_reader *r, struct ds_item *it)
{
	struct se_err err = {0};
	int rc = ds_next(r, it, &err);
	cr_assert_eq(rc, 1, "ds_next: rc %d: %s: %s", rc, err.where, err.msg);
}

static void at_end(struct ds_reader *r, struct ds_item *it)
{
	struct se_err err = {0};
	int rc = ds_next(r, it, &err);
	cr_assert_eq(rc, 0, "expected the end, got rc %d: %s: %s", rc, err.where, err.msg);
}

static void expect_answers(const struct ds_item *it, size_t n, const char *const *want)
{
	cr_assert_eq(it->n_expected, n, "item %s: %zu expected answers, want %zu", it->id,
		     it->n_expected, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(it->expected[i], want[i]);
}

/* Reads until the first error and checks its kind, where and message. */
static void expect_failure(struct ds_reader *r, const char *where, const char *frag)
{
	struct ds_item it = {0};
	struct se_err err = {0};
	int rc;
	while ((rc = ds_next(r, &it, &err)) == 1)
		;
	cr_assert_eq(rc, -1, "no error, want %s: %s", where, frag);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert_str_eq(err.where, where);
	cr_assert(strstr(err.msg, frag), "message \"%s\" lacks \"%s\"", err.msg, frag);
	cr_assert_null(it.obj, "a failed ds_next leaves the item cleared");
	ds_item_clear(&it);
	ds_close(r);
}

static void expect_file_failure(const char *path, const char *where, const char *frag)
{
	expect_failure(open_ds(path, NULL, NULL), where, frag);
}

Test(dataset, jsonl_ids_tasks_and_expected_answers)
{
	struct ds_reader *r = open_ds(FIX "items.jsonl", NULL, NULL);
	struct ds_item it = {0};
	char tmp[64];

	next_ok(r, &it);
	cr_assert_str_eq(it.id, "alpha");
	cr_assert_str_eq(it.task, "reason");
	cr_assert_eq(it.line, 1);
	cr_assert_eq(it.index, 0);
	expect_answers(&it, 1, (const char *[]){"4"});

	next_ok(r, &it);
	cr_assert_str_eq(it.id, "7", "a numeric id is rendered");
	cr_assert_str_eq(it.task, "", "task defaults to empty");
	expect_answers(&it, 3, (const char *[]){"a", "b", "3"});

	next_ok(r, &it);
	cr_assert_eq(it.line, 4, "blank line 3 is skipped but counted");
	cr_assert_eq(it.index, 2);
	cr_assert_str_eq(it.id, "4", "without an id, the line number");
	expect_answers(&it, 1, (const char *[]){"2.5"});

	next_ok(r, &it);
	cr_assert_eq(it.line, 6, "a whitespace-only line is skipped");
	cr_assert_str_eq(it.id, "12.5");
	cr_assert_str_eq(it.task, "classify");
	cr_assert_eq(it.n_expected, 0);
	cr_assert(cJSON_IsArray(cJSON_GetObjectItem(it.obj, "messages")));

	next_ok(r, &it);
	cr_assert_str_eq(it.id, "no-expected");
	cr_assert_eq(it.n_expected, 0, "a missing expected field gives no answers");
	cr_assert_null(it.expected);
	cr_assert_str_eq(ds_field(&it, "metadata.tier", tmp, sizeof(tmp)), "premium");
	cr_assert_str_eq(ds_field(&it, "tier", tmp, sizeof(tmp)), "premium");
	cr_assert_str_eq(ds_field(&it, "n", tmp, sizeof(tmp)), "3");
	cr_assert_str_eq(ds_field(&it, "id", tmp, sizeof(tmp)), "no-expected");
	cr_assert_str_eq(ds_field(&it, "prompt", tmp, sizeof(tmp)), "x");
	cr_assert_null(ds_field(&it, "nope", tmp, sizeof(tmp)));
	cr_assert_null(ds_field(&it, "metadata.nope", tmp, sizeof(tmp)));

	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
}

Test(dataset, jsonl_bom_crlf_lines_and_missing_final_newline)
{
	struct ds_reader *r = open_ds(FIX "crlf.jsonl", NULL, NULL);
	struct ds_item it = {0};
	next_ok(r, &it);
	cr_assert_str_eq(it.id, "crlf");
	next_ok(r, &it);
	cr_assert_str_eq(it.id, "last");
	cr_assert_eq(it.line, 3);
	expect_answers(&it, 1, (const char *[]){"-12"});
	at_end(r, &it);
	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
}

Test(dataset, rejects_invalid_json_with_line_and_column)
{
	expect_file_failure(FIX "bad_json.jsonl", FIX "bad_json.jsonl:3",
			    "invalid JSON at column 40");
}

Test(dataset, rejects_item_that_is_not_an_object)
{
	expect_file_failure(FIX "not_object.jsonl", FIX "not_object.jsonl:2", "not a JSON object");
}

Test(dataset, rejects_item_without_prompt_or_messages)
{
	expect_file_failure(FIX "missing_prompt.jsonl", FIX "missing_prompt.jsonl:2",
			    "missing \"prompt\" or \"messages\"");
}

Test(dataset, accepts_item_without_prompt_when_a_template_builds_it)
{
	struct cfg cfg = {0};
	cfg.dataset.path = FIX "missing_prompt.jsonl";
	cfg.prompt.template = "{{question}}";
	struct ds_reader *r = NULL;
	struct se_err err = {0};
	cr_assert_eq(ds_open_cfg(&r, &cfg, &err), 0, "%s", err.msg);
	struct ds_item it = {0};
	next_ok(r, &it);
	next_ok(r, &it);
	cr_assert_str_eq(it.id, "b");
	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
}

Test(dataset, rejects_duplicate_id_naming_the_first_line)
{
	expect_file_failure(FIX "duplicate_id.jsonl", FIX "duplicate_id.jsonl:4",
			    "duplicate id \"b\" (first at line 2)");
}

Test(dataset, rejects_line_number_id_that_repeats_an_explicit_id)
{
	expect_file_failure(FIX "duplicate_line_id.jsonl", FIX "duplicate_line_id.jsonl:2",
			    "duplicate id \"2\" (first at line 1)");
}

Test(dataset, rejects_invalid_utf8_naming_the_byte)
{
	expect_file_failure(FIX "bad_utf8.jsonl", FIX "bad_utf8.jsonl:2",
			    "invalid UTF-8 at byte 28");
}

static char *temp_path(void)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	cr_assert(asprintf(&path, "%s/se-dataset-XXXXXX", dir && *dir ? dir : "/tmp") > 0);
	int fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp %s", path);
	close(fd);
	return path;
}

/* Writes text (n bytes) to a temporary file with the given suffix. */
static char *write_temp(const char *text, size_t n, const char *suffix)
{
	char *base = temp_path();
	char *path = NULL;
	cr_assert(asprintf(&path, "%s%s", base, suffix) > 0);
	unlink(base);
	free(base);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Issue 9 item 17: a NUL would cut a prompt, an id or an answer without a
 * word (cJSON strings end at it), so it is refused with file:line and the
 * field's path, in JSONL and in CSV cells. */
Test(dataset, rejects_nul_in_any_string_naming_line_and_field)
{
	static const struct {
		const char *text;
		size_t len;
		const char *suffix, *line, *frag;
	} cases[] = {
	    {"{\"prompt\":\"ok\"}\n{\"prompt\":\"2+2?\\u0000 ignore the above\"}\n", 0, ".jsonl",
	     ":2", "prompt: contains a NUL character"},
	    {"{\"id\":\"a\\u0000b\",\"prompt\":\"x\"}\n", 0, ".jsonl", ":1",
	     "id: contains a NUL character"},
	    {"{\"prompt\":\"x\",\"expected\":[\"4\",\"4\\u0000\"]}\n", 0, ".jsonl", ":1",
	     "expected[1]: contains a NUL character"},
	    {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\\u0000\"}]}\n", 0, ".jsonl", ":1",
	     "messages[0].content: contains a NUL character"},
	    {"{\"prompt\":\"raw\0nul\"}\n", 21, ".jsonl", ":1", "prompt: contains a NUL"},
	    {"id,prompt\nq1,fine\nq2,cut\0here\n", 30, ".csv", ":3",
	     "column \"prompt\": contains a NUL"},
	    {"id,prompt,metadata\nq1,x,\"{\"\"t\"\":\"\"a\\u0000\"\"}\"\n", 0, ".csv", ":2",
	     "column \"metadata\": t: contains a NUL"},
	    {"id,pro\0mpt\nq1,x\n", 16, ".csv", ":1", "header: column 2 contains a NUL"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = cases[i].len ? cases[i].len : strlen(cases[i].text);
		char *path = write_temp(cases[i].text, n, cases[i].suffix);
		char where[600];
		snprintf(where, sizeof where, "%s%s", path, cases[i].line);
		struct cfg_dataset d = {.path = path};
		struct ds_reader *r = NULL;
		struct se_err err = {0};
		if (ds_open(&r, &d, &err) == 0) {
			expect_failure(r, where, cases[i].frag);
		} else {
			cr_expect_str_eq(err.where, where, "case %zu", i);
			cr_expect(strstr(err.msg, cases[i].frag), "case %zu: %s", i, err.msg);
		}
		unlink(path);
		free(path);
	}
}

/* An empty id cell is an empty id, refused at its file:line as JSONL's
 * "id": "" is (it took the record number, so a later id "1" was a duplicate
 * "first at line 2" of a line with no id); quoted or not, first row or
 * later. A CSV without an id column still numbers its records. */
Test(dataset, csv_empty_id_cell_is_refused_as_in_jsonl)
{
	static const struct {
		const char *text, *suffix, *line;
	} cases[] = {
	    {"id,prompt\n,first\n1,second\n", ".csv", ":2"},
	    {"id,prompt\nq1,x\n\"\",y\n", ".csv", ":3"},
	    {"prompt,id,task\nx,a,t\ny,,t\n", ".csv", ":3"},
	    {"{\"id\":\"\",\"prompt\":\"x\"}\n", ".jsonl", ":1"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = write_temp(cases[i].text, strlen(cases[i].text), cases[i].suffix);
		char where[600];
		snprintf(where, sizeof where, "%s%s", path, cases[i].line);
		struct ds_reader *r = open_ds(path, NULL, NULL);
		struct ds_item it = {0};
		struct se_err err = {0};
		int rc = 0;
		while ((rc = ds_next(r, &it, &err)) == 1)
			ds_item_clear(&it);
		cr_expect_eq(rc, -1, "case %zu", i);
		cr_expect_str_eq(err.where, where, "case %zu", i);
		cr_expect_str_eq(err.msg, "\"id\" is empty", "case %zu", i);
		ds_close(r);
		unlink(path);
		free(path);
	}
	/* no id column: the record numbers */
	char *path = write_temp("prompt\nx\ny\n", 11, ".csv");
	struct ds_reader *r = open_ds(path, NULL, NULL);
	struct ds_item it = {0};
	next_ok(r, &it);
	cr_expect_str_eq(it.id, "1");
	ds_item_clear(&it);
	next_ok(r, &it);
	cr_expect_str_eq(it.id, "2");
	ds_item_clear(&it);
	ds_close(r);
	unlink(path);
	free(path);
}

/* The text "\\u0000" (a backslash, then u0000) in a plain CSV cell is no NUL. */
Test(dataset, csv_text_that_spells_an_escape_is_kept)
{
	const char *text = "id,prompt\nq1,say \\u0000 literally\n";
	char *path = write_temp(text, strlen(text), ".csv");
	struct ds_reader *r = open_ds(path, NULL, NULL);
	struct ds_item it = {0};
	next_ok(r, &it);
	char tmp[8];
	cr_expect_str_eq(ds_field(&it, "prompt", tmp, sizeof tmp), "say \\u0000 literally");
	ds_item_clear(&it);
	ds_close(r);
	unlink(path);
	free(path);
}

/* Line 1 fine, line 2 a JSON object of exactly `len` bytes. */
static char *write_long_line(size_t len)
{
	char *path = temp_path();
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	fputs("{\"id\": \"short\", \"prompt\": \"x\"}\n", f);
	const char *head = "{\"id\": \"long\", \"prompt\": \"";
	fputs(head, f);
	size_t fill = len - strlen(head) - 2;
	char *a = malloc(fill);
	cr_assert(a);
	memset(a, 'a', fill);
	fwrite(a, 1, fill, f);
	free(a);
	fputs("\"}\n", f);
	cr_assert_eq(fclose(f), 0);
	return path;
}

Test(dataset, rejects_line_longer_than_16_mib)
{
	char *path = write_long_line((17u << 20));
	char where[600];
	snprintf(where, sizeof(where), "%s:2", path);
	expect_failure(open_ds(path, NULL, NULL), where, "line longer than 16 MiB");
	unlink(path);
	free(path);
}

Test(dataset, accepts_line_of_exactly_16_mib)
{
	char *path = write_long_line(DS_MAX_LINE);
	struct ds_reader *r = open_ds(path, NULL, NULL);
	struct ds_item it = {0};
	next_ok(r, &it);
	next_ok(r, &it);
	cr_assert_str_eq(it.id, "long");
	cr_assert_eq(strlen(cJSON_GetObjectItem(it.obj, "prompt")->valuestring),
		     DS_MAX_LINE - strlen("{\"id\": \"long\", \"prompt\": \"\"}"));
	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
	unlink(path);
	free(path);
}

Test(dataset, missing_file_is_an_io_error)
{
	struct cfg_dataset d = {.path = FIX "no-such-file.jsonl"};
	struct ds_reader *r = (struct ds_reader *)1;
	struct se_err err = {0};
	cr_assert_eq(ds_open(&r, &d, &err), -1);
	cr_assert_null(r);
	cr_assert_eq(err.kind, SE_IO);
	cr_assert(strstr(err.msg, "no-such-file.jsonl"), "%s", err.msg);
}

Test(dataset, rejects_unknown_format)
{
	struct cfg_dataset d = {.path = FIX "items.jsonl", .format = "xml"};
	struct ds_reader *r = NULL;
	struct se_err err = {0};
	cr_assert_eq(ds_open(&r, &d, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.msg, "unknown dataset format \"xml\""), "%s", err.msg);
}

Test(dataset, csv_quoting_crlf_bom_and_metadata_columns)
{
	struct ds_reader *r = open_ds(FIX "items.csv", NULL, NULL);
	struct ds_item it = {0};
	char tmp[64];

	next_ok(r, &it);
	cr_assert_str_eq(it.id, "1", "the BOM is not part of the first column name");
	cr_assert_eq(it.line, 2);
	cr_assert_str_eq(it.task, "classify");
	cr_assert_str_eq(ds_field(&it, "prompt", tmp, sizeof(tmp)), "plain prompt");
	expect_answers(&it, 1, (const char *[]){"card_arrival"});
	cr_assert_str_eq(ds_field(&it, "metadata.tier", tmp, sizeof(tmp)), "premium");
	cr_assert_str_eq(ds_field(&it, "bucket", tmp, sizeof(tmp)), "a");

	next_ok(r, &it);
	cr_assert_str_eq(it.id, "q2");
	cr_assert_eq(it.line, 3);
	cr_assert_str_eq(ds_field(&it, "prompt", tmp, sizeof(tmp)),
			 "line one\r\nline two, with a comma\nand \"quotes\"");
	expect_answers(&it, 2, (const char *[]){"x", "y"});
	cr_assert_null(ds_field(&it, "metadata.tier", tmp, sizeof(tmp)),
		       "an empty metadata cell is absent");
	cr_assert_str_eq(ds_field(&it, "metadata.bucket", tmp, sizeof(tmp)), "b");

	next_ok(r, &it);
	cr_assert_eq(it.line, 7, "the record after a 3-line record and a blank line");
	cr_assert_str_eq(it.id, "q3");
	cr_assert_str_eq(ds_field(&it, "prompt", tmp, sizeof(tmp)), "  spaces kept  ");
	cr_assert_eq(it.n_expected, 0);
	cr_assert_str_eq(ds_field(&it, "tier", tmp, sizeof(tmp)), "standard");

	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
}

Test(dataset, csv_metadata_json_column_and_plain_bracket_expected)
{
	struct ds_reader *r = open_ds(FIX "metadata.csv", NULL, NULL);
	struct ds_item it = {0};
	char tmp[64];
	next_ok(r, &it);
	cr_assert_str_eq(ds_field(&it, "prompt", tmp, sizeof(tmp)), "p, one");
	cr_assert_str_eq(ds_field(&it, "metadata.source", tmp, sizeof(tmp)), "unit");
	cr_assert_str_eq(ds_field(&it, "metadata.n", tmp, sizeof(tmp)), "5");
	expect_answers(&it, 1, (const char *[]){"[not json"});
	next_ok(r, &it);
	cr_assert_str_eq(it.id, "m2");
	cr_assert_null(cJSON_GetObjectItem(it.obj, "metadata"));
	expect_answers(&it, 1, (const char *[]){"12"});
	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
}

Test(dataset, csv_header_only_has_no_items)
{
	struct ds_reader *r = open_ds(FIX "header_only.csv", NULL, NULL);
	struct ds_item it = {0};
	at_end(r, &it);
	ds_close(r);
}

Test(dataset, rejects_csv_record_with_wrong_field_count)
{
	expect_file_failure(FIX "field_count.csv", FIX "field_count.csv:3",
			    "record has 2 fields, header has 3");
}

Test(dataset, rejects_csv_unterminated_quote_at_eof)
{
	expect_file_failure(FIX "unterminated.csv", FIX "unterminated.csv:3",
			    "unterminated quoted field");
}

Test(dataset, rejects_csv_stray_quote_with_column)
{
	expect_file_failure(FIX "stray_quote.csv", FIX "stray_quote.csv:3:5", "invalid CSV");
}

Test(dataset, rejects_csv_invalid_utf8_on_its_physical_line)
{
	expect_file_failure(FIX "bad_utf8.csv", FIX "bad_utf8.csv:3", "invalid UTF-8 at byte 6");
}

Test(dataset, rejects_csv_messages_column_that_is_not_json)
{
	expect_file_failure(FIX "bad_messages.csv", FIX "bad_messages.csv:2",
			    "column \"messages\" is not valid JSON");
}

Test(dataset, expected_regex_takes_capture_group_one)
{
	struct ds_reader *r = open_ds(FIX "regex.jsonl", "answer", "####\\s*(.+?)\\s*$");
	struct ds_item it = {0};
	next_ok(r, &it);
	expect_answers(&it, 1, (const char *[]){"1,234"});
	next_ok(r, &it);
	expect_answers(&it, 1, (const char *[]){"42"});
	next_ok(r, &it);
	cr_assert_eq(it.n_expected, 0, "no answer field: no expected answers");
	ds_item_clear(&it);
	expect_failure(r, FIX "regex.jsonl:4", "expected: pattern did not match field \"answer\"");
}

Test(dataset, rejects_expected_regex_that_does_not_compile_or_capture)
{
	const char *bad[] = {"(unclosed", "no group"};
	const char *frag[] = {"invalid regex", "no capture group"};
	for (int i = 0; i < 2; i++) {
		struct cfg_dataset d = {.path = FIX "regex.jsonl",
					.expected_regex = (char *)bad[i]};
		struct ds_reader *r = NULL;
		struct se_err err = {0};
		cr_assert_eq(ds_open(&r, &d, &err), -1);
		cr_assert_eq(err.kind, SE_INPUT);
		cr_assert(strstr(err.msg, frag[i]), "%s", err.msg);
	}
}

Test(dataset, sha256_covers_every_byte_read)
{
	const char *path = "datasets/gsm8k-100.jsonl";
	char *data;
	size_t len;
	struct se_err err = {0};
	cr_assert_eq(fio_read_all(path, &data, &len, &err), 0, "%s", err.msg);
	char want[65], got[65];
	sha256_hex(data, len, want);
	free(data);
	struct ds_reader *r = open_ds(path, NULL, NULL);
	struct ds_item it = {0};
	while (ds_next(r, &it, &err) == 1)
		;
	ds_sha256_hex(r, got);
	cr_assert_str_eq(got, want);
	ds_sha256_hex(r, got);
	cr_assert_str_eq(got, want, "asking twice gives the same digest");
	ds_item_clear(&it);
	ds_close(r);
}

Test(dataset, streams_shipped_gsm8k_100)
{
	struct ds_reader *r = open_ds("datasets/gsm8k-100.jsonl", NULL, NULL);
	struct ds_item it = {0};
	struct se_err err = {0};
	size_t n = 0;
	int rc;
	while ((rc = ds_next(r, &it, &err)) == 1) {
		char want[32];
		snprintf(want, sizeof(want), "gsm8k-test-%04zu", n + 1);
		cr_assert_str_eq(it.id, want);
		cr_assert_str_eq(it.task, "reason");
		cr_assert_eq(it.n_expected, 1);
		cr_assert_eq(it.line, n + 1);
		if (n == 0)
			cr_assert_str_eq(it.expected[0], "18");
		if (n == 1)
			cr_assert_str_eq(it.expected[0], "3");
		n++;
	}
	cr_assert_eq(rc, 0, "%s: %s", err.where, err.msg);
	cr_assert_eq(n, 100);
	ds_close(r);
}

Test(dataset, streams_shipped_banking77_csv_with_two_items_per_label)
{
	struct ds_reader *r = open_ds("datasets/banking77-154.csv", NULL, NULL);
	struct ds_item it = {0};
	struct se_err err = {0};
	char *labels[154];
	size_t n = 0, last_line = 0;
	int rc;
	while ((rc = ds_next(r, &it, &err)) == 1) {
		cr_assert_lt(n, 154);
		cr_assert_str_eq(it.task, "classify");
		cr_assert_eq(it.n_expected, 1);
		cr_assert_gt(it.line, last_line + 1, "each record spans several lines");
		last_line = it.line;
		labels[n++] = strdup(it.expected[0]);
		if (n == 1) {
			cr_assert_str_eq(it.id, "banking77-test-0001");
			cr_assert_str_eq(it.expected[0], "card_arrival");
			cr_assert_eq(it.line, 2);
		}
	}
	cr_assert_eq(rc, 0, "%s: %s", err.where, err.msg);
	cr_assert_eq(n, 154);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++) {
		size_t same = 0, j;
		for (j = 0; j < n; j++)
			same += !strcmp(labels[i], labels[j]);
		cr_assert_eq(same, 2, "label %s appears %zu times", labels[i], same);
		for (j = 0; j < i && strcmp(labels[i], labels[j]); j++)
			;
		distinct += j == i;
	}
	cr_assert_eq(distinct, 77);
	for (size_t i = 0; i < n; i++)
		free(labels[i]);
	ds_close(r);
}

Test(dataset, streams_shipped_mixed_set)
{
	struct ds_reader *r = open_ds("datasets/mixed.jsonl", NULL, NULL);
	struct ds_item it = {0};
	struct se_err err = {0};
	size_t n = 0, premium = 0, bucket_a = 0, bucket_b = 0;
	char tmp[64];
	int rc;
	while ((rc = ds_next(r, &it, &err)) == 1) {
		n++;
		cr_assert_eq(it.n_expected, 1, "item %s has one expected answer", it.id);
		cr_assert_neq(it.expected[0][0], '\0');
		const char *tier = ds_field(&it, "metadata.tier", tmp, sizeof(tmp));
		premium += tier && !strcmp(tier, "premium");
		const char *b = ds_field(&it, "metadata.bucket", tmp, sizeof(tmp));
		cr_assert_not_null(b);
		bucket_a += !strcmp(b, "a");
		bucket_b += !strcmp(b, "b");
	}
	cr_assert_eq(rc, 0, "%s: %s", err.where, err.msg);
	cr_assert_geq(n, 100);
	cr_assert_leq(n, 140);
	cr_assert_gt(premium, 0);
	cr_assert_gt(bucket_a, 0);
	cr_assert_gt(bucket_b, 0);
	cr_assert_eq(bucket_a + bucket_b, n);
	ds_close(r);
}

/* Progress estimates: the share of the file the items returned so far cover.
 * The reader reads ahead in large chunks, so this must count consumed lines,
 * not bytes read from the file. */
Test(dataset, fraction_read_follows_items_not_read_ahead)
{
	char *path = temp_path();
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 100; i++)
		fprintf(f, "{\"id\": \"i%03d\", \"prompt\": \"question number %03d\"}\n", i, i);
	cr_assert_eq(fclose(f), 0);
	struct ds_reader *r = open_ds(path, NULL, NULL);
	struct ds_item it = {0};
	cr_assert_float_eq(ds_fraction_read(r), 0.0, 1e-9);
	for (int i = 0; i < 25; i++)
		next_ok(r, &it);
	cr_assert_float_eq(ds_fraction_read(r), 0.25, 1e-9, "got %g", ds_fraction_read(r));
	for (int i = 0; i < 75; i++)
		next_ok(r, &it);
	cr_assert_float_eq(ds_fraction_read(r), 1.0, 1e-9);
	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
	unlink(path);
	free(path);
}

/* A FIFO (or a device) as the dataset would be read twice (hashed, then run)
 * and block on the second open: it is refused at open, without blocking. */
Test(dataset, refuses_a_fifo_or_a_device_without_blocking, .timeout = 20)
{
	char dir[] = "/tmp/se-ds-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "%s/items.jsonl", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	const char *paths[] = {fifo, "/dev/null"};
	const char *types[] = {"is a FIFO", "is a character device"};
	for (int i = 0; i < 2; i++) {
		struct cfg_dataset d = {.path = (char *)paths[i], .format = (char *)"jsonl"};
		struct ds_reader *r = NULL;
		struct se_err err = {0};
		cr_assert_eq(ds_open(&r, &d, &err), -1, "%s was opened", paths[i]);
		cr_expect_null(r);
		cr_expect_eq(err.kind, SE_INPUT);
		cr_expect_str_eq(err.where, paths[i]);
		cr_expect(strstr(err.msg, types[i]) && strstr(err.msg, "regular file"), "%s",
			  err.msg);
	}
	unlink(fifo);
	rmdir(dir);
}

/* A numeric id is read through a double: past 2^53 (rounded) or not finite
 * (1e400) it would not keep the text of the file, so it is refused rather
 * than renamed; and a duplicate key in a line is refused
 * as in the config (cJSON keeps both; which one is used is not for the
 * file to decide). */
Test(dataset, ids_that_cannot_be_kept_exactly_and_duplicate_keys_are_refused)
{
	static const struct {
		const char *text, *line, *frag;
	} bad[] = {
	    {"{\"id\":12345678901234567890,\"prompt\":\"x\"}\n", ":1",
	     "\"id\" is a number over 2^53 or not finite"},
	    {"{\"id\":7,\"prompt\":\"x\"}\n{\"id\":1e400,\"prompt\":\"x\"}\n", ":2",
	     "\"id\" is a number over 2^53 or not finite"},
	    {"{\"id\":\"a\",\"id\":\"b\",\"prompt\":\"x\"}\n", ":1", "duplicate key \"id\""},
	    {"{\"prompt\":\"x\",\"messages\":[{\"role\":\"user\",\"role\":\"x\",\"content\":\"c\"}]"
	     "}\n",
	     ":1", "messages[0]: duplicate key \"role\""},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *path = write_temp(bad[i].text, strlen(bad[i].text), ".jsonl");
		char where[600];
		snprintf(where, sizeof where, "%s%s", path, bad[i].line);
		expect_file_failure(path, where, bad[i].frag);
		unlink(path);
		free(path);
	}
	/* a number a double holds exactly keeps its text */
	const char *ok =
	    "{\"id\":9007199254740992,\"prompt\":\"x\"}\n{\"id\":-3,\"prompt\":\"y\"}\n";
	char *path = write_temp(ok, strlen(ok), ".jsonl");
	struct ds_reader *r = open_ds(path, NULL, NULL);
	struct ds_item it = {0};
	next_ok(r, &it);
	cr_expect_str_eq(it.id, "9007199254740992");
	next_ok(r, &it);
	cr_expect_str_eq(it.id, "-3");
	at_end(r, &it);
	ds_item_clear(&it);
	ds_close(r);
	unlink(path);
	free(path);
}
