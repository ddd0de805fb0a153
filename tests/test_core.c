/* test_core.c: the core room: SHA-256 vectors, JSON string escaping and
 * UTF-8 repair, buffers, atomic replacement and write errors. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/csvw.h"
#include "core/decimal.h"
#include "core/esc.h"
#include "core/err.h"
#include "core/fileio.h"
#include "core/hash64.h"
#include "core/heap.h"
#include "core/jsonnul.h"
#include "core/jsonv.h"
#include "core/jsonw.h"
#include "core/sha256.h"
#include "core/strtab.h"

Test(core, sha256_matches_fips_vectors)
{
	char hex[65];
	sha256_hex("", 0, hex);
	cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex(two, strlen(two), hex);
	cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

Test(core, sha256_streaming_equals_one_shot)
{
	char big[1000], a[65], b[65];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	sha256_hex(big, sizeof(big), a);
	struct sha256 s;
	sha256_init(&s);
	for (size_t i = 0; i < sizeof(big); i += 13)
		sha256_update(&s, big + i, i + 13 <= sizeof(big) ? 13 : sizeof(big) - i);
	sha256_final_hex(&s, b);
	cr_assert_str_eq(a, b);
}

/* Lengths around the padding's edges (55/56 bytes into a block, a whole
 * block, more than one), each against Python's hashlib, with the block
 * function of the x86 SHA extensions and with the portable one. */
Test(core, sha256_both_block_functions_match_reference_digests_at_block_edges)
{
	static const struct {
		size_t n;
		const char *hex;
	} want[] = {
	    {55, "8aa994584139d128848eeebc4e815639ba5ab6e6e39574195a63ac4f14f7c43b"},
	    {56, "ad574708f75c044c9b85de64cb568ee7711ff4f36448c6242f053ba8f6cc2b63"},
	    {63, "280ed3e8ff1df845b2e7dfe6ac6cee817bef20e783cc65abc41b818b4d2fe076"},
	    {64, "c6ab9724ade5b6a7a1edfffb12f3aa9181351355af8fd08c919952ad211339dd"},
	    {65, "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0"},
	    {119, "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe"},
	    {120, "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656"},
	    {128, "cc548ca2dec1f6fe4f58b2e27aa9c7521607df1130d140b55a4dad0665302356"},
	    {300, "4ebe2a8bd5ece93fb899b68e8a5fe64464b2058a5ddca6c079bc907930aa3003"},
	};
	unsigned char data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)((i * 31 + 7) & 0xff);
	for (int portable = 0; portable < 2; portable++) {
		bool has = sha256_force_portable(portable == 1);
		cr_log_info("SHA extensions on this CPU: %s; portable only: %d", has ? "yes" : "no",
			    portable);
		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
			char hex[65];
			sha256_hex(data, want[k].n, hex);
			cr_expect_str_eq(hex, want[k].hex, "%zu bytes, portable %d", want[k].n,
					 portable);
		}
	}
	/* and the two agree on every length from 0 to 300, fed in odd pieces */
	for (size_t n = 0; n <= sizeof(data); n++) {
		char a[65], b[65];
		sha256_force_portable(true);
		sha256_hex(data, n, a);
		sha256_force_portable(false);
		struct sha256 s;
		sha256_init(&s);
		for (size_t i = 0; i < n; i += 37)
			sha256_update(&s, data + i, i + 37 <= n ? 37 : n - i);
		sha256_final_hex(&s, b);
		cr_assert_str_eq(a, b, "%zu bytes", n);
	}
}

Test(core, json_strings_escape_and_parse_back)
{
	const char *nasty = "quote\" back\\ nl\n tab\t ctl\x01 utf8 \xc3\xa9 end";
	struct buf b;
	buf_init(&b);
	jsonw_str(&b, nasty);
	cJSON *v = cJSON_Parse(b.data);
	cr_assert(cJSON_IsString(v), "not JSON: %s", b.data);
	cr_assert_str_eq(v->valuestring, nasty);
	cJSON_Delete(v);
	buf_free(&b);
}

Test(core, invalid_utf8_becomes_replacement_character)
{
	struct buf b;
	buf_init(&b);
	/* a lone continuation byte, a truncated 3-byte sequence, an overlong '/' */
	jsonw_strn(&b,
		   "a\x80"
		   "b\xe2\x82"
		   "c\xc0\xaf",
		   8);
	cr_assert(utf8_valid(b.data, b.len), "output must be valid UTF-8: %s", b.data);
	cJSON *v = cJSON_Parse(b.data);
	cr_assert_not_null(v);
	cr_assert_str_eq(v->valuestring, "a\xef\xbf\xbd"
					 "b\xef\xbf\xbd\xef\xbf\xbd"
					 "c\xef\xbf\xbd\xef\xbf\xbd");
	cJSON_Delete(v);
	buf_free(&b);
}

Test(core, utf8_validation_and_counting)
{
	cr_assert(utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
	cr_assert_not(utf8_valid("\xed\xa0\x80", 3), "surrogates are not UTF-8");
	cr_assert_not(utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF");
	cr_assert_eq(utf8_count("h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10), 4);
}

Test(core, doubles_round_trip_and_nan_is_null)
{
	struct buf b;
	buf_init(&b);
	jsonw_double(&b, 0.0035352);
	buf_putc(&b, ' ');
	jsonw_double(&b, 2.376e-05);
	buf_putc(&b, ' ');
	jsonw_double(&b, NAN);
	buf_putc(&b, ' ');
	jsonw_double(&b, 42.0);
	cr_assert_str_eq(b.data, "0.0035352 2.376e-05 null 42");
	buf_free(&b);
}

Test(core, buf_printf_grows_past_small_buffer)
{
	struct buf b;
	buf_init(&b);
	char big[1000];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "<%s>", big);
	cr_assert_eq(b.len, 1001);
	cr_assert_eq(b.data[0], '<');
	cr_assert_eq(b.data[1000], '>');
	cr_assert_eq(b.data[1001], '\0');
	buf_free(&b);
}

Test(core, atomic_replace_keeps_old_file_until_commit)
{
	char dir[] = "/tmp/se-core-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *path = fio_join(dir, "out.csv");
	struct se_err err;
	cr_assert_eq(fio_write_atomic(path, "old\n", 4, &err), 0);
	FILE *fp;
	cr_assert_eq(fio_replace_begin(path, &fp, &err), 0);
	fputs("new\n", fp);
	char *data;
	size_t len;
	cr_assert_eq(fio_read_all(path, &data, &len, &err), 0);
	cr_assert_str_eq(data, "old\n", "the old content stays until commit");
	free(data);
	cr_assert_eq(fio_replace_commit(path, fp, &err), 0);
	cr_assert_eq(fio_read_all(path, &data, &len, &err), 0);
	cr_assert_str_eq(data, "new\n");
	free(data);
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_neq(access(tmp, F_OK), 0, "no temporary file is left");
	unlink(path);
	rmdir(dir);
	free(path);
}

Test(core, write_to_full_device_is_an_error_not_a_crash)
{
	char dir[] = "/tmp/se-core-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *link = fio_join(dir, "full");
	cr_assert_eq(symlink("/dev/full", link), 0);
	struct se_err err;
	se_clear(&err);
	int fd = fio_open_append(link, &err);
	cr_assert_geq(fd, 0, "%s", err.msg);
	char line[100];
	memset(line, 'x', sizeof(line));
	cr_assert_eq(fio_write_full(fd, line, sizeof(line), link, &err), -1);
	cr_assert_eq(err.kind, SE_IO);
	cr_assert(strstr(err.msg, "write failed"), "%s", err.msg);
	close(fd);
	unlink(link);
	rmdir(dir);
	free(link);
}

/* Each whole-file reader goes through fio_read_all: a device, a FIFO or a
 * folder is refused at once (a FIFO without a writer must not block), and a
 * regular file over the cap is refused before it is read. */
Test(core, whole_file_reads_refuse_non_regular_files, .timeout = 20)
{
	char dir[] = "/tmp/se-core-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *fifo = fio_join(dir, "fifo");
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	const char *paths[] = {"/dev/zero", fifo, dir};
	const char *types[] = {"a character device", "a FIFO", "a folder"};
	for (int i = 0; i < 3; i++) {
		struct se_err err;
		se_clear(&err);
		char *data = NULL;
		size_t len = 0;
		cr_assert_eq(fio_read_all(paths[i], &data, &len, &err), -1, "%s was read",
			     paths[i]);
		cr_expect_eq(err.kind, SE_INPUT, "%s: kind %d", paths[i], (int)err.kind);
		cr_expect_str_eq(err.where, paths[i]);
		cr_expect(strstr(err.msg, types[i]) && strstr(err.msg, "expected a regular file"),
			  "%s: %s", paths[i], err.msg);
		char hex[65];
		se_clear(&err);
		cr_assert_eq(fio_sha256_file(paths[i], hex, &err), -1, "%s was hashed", paths[i]);
		cr_expect(strstr(err.msg, types[i]), "%s: %s", paths[i], err.msg);
	}
	unlink(fifo);
	rmdir(dir);
	free(fifo);
}

Test(core, whole_file_reads_refuse_files_over_the_cap)
{
	char dir[] = "/tmp/se-core-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char *path = fio_join(dir, "big.json");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	/* sparse: no disk space, but stat says one byte over the cap */
	cr_assert_eq(ftruncate(fd, (off_t)FIO_MAX_FILE + 1), 0);
	close(fd);
	struct se_err err;
	se_clear(&err);
	char *data = NULL;
	size_t len = 0;
	cr_assert_eq(fio_read_all(path, &data, &len, &err), -1);
	cr_expect_eq(err.kind, SE_INPUT);
	cr_expect_str_eq(err.where, path);
	cr_expect(strstr(err.msg, "64 MiB limit"), "%s", err.msg);
	/* at the cap exactly: read */
	cr_assert_eq(truncate(path, 10), 0);
	cr_assert_eq(fio_read_all_max(path, 10, &data, &len, &err), 0, "%s", err.msg);
	cr_expect_eq(len, 10);
	free(data);
	se_clear(&err);
	cr_assert_eq(fio_read_all_max(path, 9, &data, &len, &err), -1);
	cr_expect(strstr(err.msg, "9 bytes limit"), "%s", err.msg);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* A full disk or an I/O error is the machine's fault, not the input's: exit 3,
 * so that a script can tell "fix the input" (2) from "retry elsewhere". */
Test(core, environment_failures_exit_3_and_bad_input_2)
{
	struct se_err err;
	se_clear(&err);
	errno = ENOSPC;
	se_fail_errno(&err, "results.jsonl", "write failed");
	cr_expect_eq(err.kind, SE_IO);
	cr_expect_eq(se_exit_status(&err), 3);
	errno = EIO;
	se_fail_errno(&err, "x", "read failed");
	cr_expect_eq(se_exit_status(&err), 3);
	errno = ENOENT;
	se_fail_errno(&err, "x", "cannot open");
	cr_expect_eq(se_exit_status(&err), 2);
	/* an errno left over from earlier does not leak into a later error */
	errno = ENOSPC;
	se_fail(&err, SE_INPUT, "x", "bad");
	cr_expect_eq(se_exit_status(&err), 2);
	se_fail(&err, SE_INTERRUPT, NULL, "interrupted");
	cr_expect_eq(se_exit_status(&err), 130);
}

Test(core, error_kinds_map_to_exit_codes)
{
	cr_assert_eq(se_exit_code(SE_OK), 0);
	cr_assert_eq(se_exit_code(SE_FINDING), 1);
	cr_assert_eq(se_exit_code(SE_INPUT), 2);
	cr_assert_eq(se_exit_code(SE_USAGE), 2);
	cr_assert_eq(se_exit_code(SE_IO), 2);
	cr_assert_eq(se_exit_code(SE_INTERRUPT), 130);
}

Test(core, heap_pops_deadlines_in_order_with_their_payload)
{
	struct heap h;
	heap_init(&h);
	int tags[500];
	uint32_t x = 12345;
	for (int i = 0; i < 500; i++) {
		tags[i] = i;
		x = x * 1103515245u + 12345u;
		heap_push(&h, (double)(x % 1000), &tags[i]);
	}
	heap_push(&h, 500.0, &tags[0]); /* ties are allowed */
	struct heap_entry t, top;
	double last = -1;
	int n = 0;
	while (heap_peek(&h, &top)) {
		cr_assert(heap_pop(&h, &t));
		cr_assert_eq(t.at, top.at);
		cr_assert_eq(t.data, top.data);
		cr_assert_geq(t.at, last);
		last = t.at;
		n++;
	}
	cr_assert_eq(n, 501);
	cr_assert_not(heap_pop(&h, &t));
	heap_free(&h);
}

Test(core, strtab_gives_dense_indexes_and_finds_them_back)
{
	struct strtab t;
	strtab_init(&t);
	cr_assert_eq(strtab_find(&t, "x"), -1);
	char name[32];
	bool added;
	for (int i = 0; i < 1000; i++) { /* past several rehashes */
		snprintf(name, sizeof(name), "model-%d", i);
		cr_assert_eq(strtab_intern(&t, name, &added), (size_t)i);
		cr_assert(added);
	}
	cr_assert_eq(strtab_intern(&t, "model-7", &added), 7);
	cr_assert_not(added);
	cr_assert_eq(strtab_find(&t, "model-999"), 999);
	cr_assert_str_eq(t.name[42], "model-42");
	cr_assert_eq(strtab_find(&t, "model-1000"), -1);
	cr_assert_eq(t.n, 1000);
	strtab_free(&t);
}

Test(core, jsonv_names_types_paths_and_locations)
{
	cJSON *j = cJSON_Parse("{\"s\":\"x\",\"n\":1.5,\"b\":true,\"z\":null,\"a\":[],\"o\":{}}");
	static const char *const keys[] = {"s", "n", "b", "z", "a", "o"};
	static const char *const types[] = {"a string", "a number", "a boolean",
					    "null",	"an array", "an object"};
	for (size_t i = 0; i < 6; i++)
		cr_assert_str_eq(jsonv_type(cJSON_GetObjectItem(j, keys[i])), types[i]);
	cr_assert_str_eq(jsonv_type(NULL), "an invalid value");
	cr_assert(jsonv_is(cJSON_GetObjectItem(j, "z"), JSONV_NULL | JSONV_STRING));
	cr_assert_not(jsonv_is(cJSON_GetObjectItem(j, "n"), JSONV_NULL | JSONV_STRING));
	cr_assert_not(jsonv_is(NULL, ~0u));

	char p[JSONV_PATH], q[JSONV_PATH];
	jsonv_key(p, "", "routing");
	jsonv_key(q, p, "rules");
	jsonv_idx(p, q, 2);
	cr_assert_str_eq(p, "routing.rules[2]");
	char long_key[2 * JSONV_PATH];
	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	jsonv_key(q, p, long_key);
	cr_assert_eq(strlen(q), JSONV_PATH - 1);

	struct se_err err;
	struct jsonv in_file = {.file = "e.json", .err = &err};
	cr_assert_eq(jsonv_fail(&in_file, p, "expected %s", "x"), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert_str_eq(err.where, "e.json: routing.rules[2]");
	cr_assert_str_eq(err.msg, "expected x");
	jsonv_fail(&in_file, "", "bad");
	cr_assert_str_eq(err.where, "e.json: (root)");
	struct jsonv bare = {.file = NULL, .err = &err};
	jsonv_fail(&bare, "choices[0]", "bad");
	cr_assert_str_eq(err.where, "choices[0]");
	cJSON_Delete(j);
}

Test(core, jsonv_finds_the_first_unknown_key_and_lists_the_known)
{
	cJSON *j = cJSON_Parse("{\"name\":1,\"tpye\":2,\"other\":3}");
	static const char *const known[] = {"name", "type", NULL};
	cr_assert_str_eq(jsonv_unknown_key(j, known), "tpye");
	static const char *const all[] = {"name", "tpye", "other", NULL};
	cr_assert_null(jsonv_unknown_key(j, all));
	struct buf b;
	buf_init(&b);
	jsonv_known(&b, known);
	cr_assert_str_eq(b.data, "name, type");
	buf_free(&b);
	cJSON_Delete(j);
}

Test(core, jsonv_ranges_include_their_bounds_and_refuse_non_numbers)
{
	cJSON *j = cJSON_Parse("[0, 1, 1.5, -1, \"1\", 1e400]");
	const cJSON *zero = cJSON_GetArrayItem(j, 0), *one = cJSON_GetArrayItem(j, 1);
	const cJSON *half = cJSON_GetArrayItem(j, 2), *neg = cJSON_GetArrayItem(j, 3);
	const cJSON *str = cJSON_GetArrayItem(j, 4), *inf = cJSON_GetArrayItem(j, 5);
	cr_assert(jsonv_number_in(zero, 0, 1));
	cr_assert(jsonv_number_in(one, 0, 1));
	cr_assert_not(jsonv_number_in(half, 0, 1));
	cr_assert_not(jsonv_number_in(neg, 0, 1));
	cr_assert_not(jsonv_number_in(str, 0, 1));
	cr_assert_not(jsonv_number_in(inf, -HUGE_VAL, HUGE_VAL));
	cr_assert(jsonv_number_in(half, 1, 2));
	cr_assert_not(jsonv_integer_in(half, 1, 2));
	cr_assert(jsonv_integer_in(one, 1, 2));
	cJSON_Delete(j);
}

#include "core/suggest.h"

Test(suggest, closest_command_for_typos_and_none_for_strangers)
{
	static const char *const cmds[] = {"run",   "validate", "route", "summarize",
					   "sweep", "report",	"merge", "diff",
					   "plan",  "check",	"init"};
	const size_t n = sizeof(cmds) / sizeof(cmds[0]);
	cr_expect_str_eq(suggest_closest("rn", cmds, n), "run");
	cr_expect_str_eq(suggest_closest("sumarize", cmds, n), "summarize");
	cr_expect_str_eq(suggest_closest("reprot", cmds, n), "report");	 /* a swap is 1 edit */
	cr_expect_str_eq(suggest_closest("valid", cmds, n), "validate"); /* a prefix */
	cr_expect_str_eq(suggest_closest("chekc", cmds, n), "check");
	cr_expect_null(suggest_closest("xyz", cmds, n));
	cr_expect_null(suggest_closest("a", cmds, n)); /* 1 edit is over half of 1 byte */
	cr_expect_null(suggest_closest("", cmds, n));
	cr_expect_null(suggest_closest("summarizeeeeee", cmds, n)); /* 5 edits */
	char longword[200];
	memset(longword, 'r', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	cr_expect_null(suggest_closest(longword, cmds, n));
}

/* Issue 9 item 17: the one search every JSON reader runs for NULs that
 * cJSON's NUL-terminated strings would cut silently. */
Test(core, jsonnul_finds_escaped_and_raw_nul_with_its_path)
{
	static const struct {
		const char *text;
		size_t len; /* 0: strlen */
		int found;
		const char *path;
	} cases[] = {
	    {"{\"a\":\"x\",\"b\":[1,{\"c\":\"#### 4\\u0000hidden\"}]}", 0, 1, "b[1].c"},
	    {"{\"choices\":[{\"message\":{\"content\":\"a\\u0000\"}}]}", 0, 1,
	     "choices[0].message.content"},
	    {"[\"ok\",\"also\",\"n\\u0000\"]", 0, 1, "[2]"},
	    {"\"\\u0000\"", 0, 1, "(root)"},
	    {"{\"k\\u0000ey\":1}", 0, 1, "k\\u0000ey"},
	    {"{\"a\":{\"b\":1},\"c\":\"\\U0000 and \\u0000\"}", 0, 1, "c"},
	    {"{\"a\":\"raw\0nul\"}", 15, 1, "a"},
	    {"{\"\0d\":1}", 8, 1, "\\u0000d"},
	    /* an escaped backslash then u0000 is text, not a NUL */
	    {"{\"a\":\"\\\\u0000\",\"b\":\"\\u0001\\u00000\"}", 0, 1, "b"},
	    {"{\"a\":\"\\\\u0000\",\"b\":\"\\u0001\"}", 0, 0, ""},
	    {"{\"a\":[[],{}],\"b\":\"\\u0020\"}", 0, 0, ""},
	    /* cJSON reads a \u escape with a non-hex digit as NUL */
	    {"{\"a\":\"4\\uZZZZhidden\"}", 0, 1, "a"},
	    {"{\"a\":\"\\u00e9\",\"b\":[\"\\u12g4\"]}", 0, 1, "b[0]"},
	    {"{\"a\":\"\\uABCD\\uabcd\\u0a0F\"}", 0, 0, ""},
	    {"{\"a\":\"\\\\uZZZZ\"}", 0, 0, ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[64] = "unset";
		size_t n = cases[i].len ? cases[i].len : strlen(cases[i].text);
		int got = jsonnul_find(cases[i].text, n, path, sizeof path);
		cr_expect_eq(got, cases[i].found, "case %zu: %s", i, cases[i].text);
		if (cases[i].found)
			cr_expect_str_eq(path, cases[i].path, "case %zu: %s", i, cases[i].text);
	}
	/* a long path is cut to the buffer, never past it */
	char small[8];
	cr_assert_eq(jsonnul_find("{\"abcdefghijkl\":\"\\u0000\"}", 25, small, sizeof small), 1);
	cr_expect_str_eq(small, "abcdefg");
}

/* Issue 9 item 27: the one CSV cell writer: RFC 4180 quoting, and a text
 * cell a spreadsheet would run as a formula neutralised with an apostrophe;
 * numbers stay numbers. */
Test(core, csv_cells_are_quoted_and_neutralised_against_formulas)
{
	static const struct {
		const char *in;
		unsigned flags;
		const char *out;
	} cases[] = {
	    {"plain", CSVW_FIRST, "plain"},
	    {"a,b", CSVW_FIRST, "\"a,b\""},
	    {"say \"hi\"", CSVW_FIRST, "\"say \"\"hi\"\"\""},
	    {"=HYPERLINK(\"http://x\")", CSVW_FIRST, "\"'=HYPERLINK(\"\"http://x\"\")\""},
	    {"=1+2", CSVW_FIRST, "'=1+2"},
	    {"+cmd|' /C calc'!A0", CSVW_FIRST, "'+cmd|' /C calc'!A0"},
	    {"-2+3", CSVW_FIRST, "'-2+3"},
	    {"@SUM(A1)", CSVW_FIRST, "'@SUM(A1)"},
	    {"\t=1", CSVW_FIRST, "'\t=1"},
	    {"\r=1", CSVW_FIRST, "\"'\r=1\""},
	    {"-0.194067", CSVW_FIRST, "-0.194067"},
	    {"-26961.00", CSVW_FIRST, "-26961.00"},
	    {"+3", CSVW_FIRST, "+3"},
	    {"-1e-07", CSVW_FIRST, "-1e-07"},
	    {"-inf", CSVW_FIRST, "'-inf"},
	    {"-", CSVW_FIRST, "'-"},
	    {"a=b", CSVW_FIRST, "a=b"},
	    {"", CSVW_FIRST, ""},
	    {"x", 0, ",x"},
	    {"deep", CSVW_FIRST | CSVW_QUOTE, "\"deep\""},
	    {"=1", CSVW_QUOTE, ",\"'=1\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b);
		csvw_cell(&b, cases[i].in, cases[i].flags);
		cr_expect_str_eq(b.data, cases[i].out, "case %zu", i);
		buf_free(&b);
	}
}

/* csvw_celln writes n bytes, NULs included (a model's output keeps them);
 * a NUL after a number's digits makes it text, so "-1\0=x" is neutralised. */
Test(core, csv_cells_of_a_length_keep_nuls_and_are_neutralised)
{
	struct buf b;
	buf_init(&b);
	csvw_celln(&b, "=1\0,x", 5, CSVW_FIRST);
	cr_assert_eq(b.len, 8);
	cr_assert_eq(memcmp(b.data, "\"'=1\0,x\"", 8), 0);
	buf_reset(&b);
	csvw_celln(&b, "-1\0=x", 5, CSVW_FIRST);
	cr_assert_eq(b.len, 6);
	cr_assert_eq(memcmp(b.data, "'-1\0=x", 6), 0);
	buf_reset(&b);
	csvw_celln(&b, "-12", 2, 0); /* only "-1": a number */
	cr_assert_str_eq(b.data, ",-1");
	buf_reset(&b);
	csvw_celln(&b, NULL, 3, 0);
	cr_assert_str_eq(b.data, ",");
	buf_free(&b);
}

/* The one HTML and markdown escaper (core/esc.h): what diff, the report and
 * check --markdown write from model outputs, ids and paths. */
Test(core, html_and_markdown_escaping)
{
	static const char hostile[] = "<script>a&b</script> \"q\" 'x'";
	struct buf b;
	buf_init(&b);
	esc_html(&b, hostile, strlen(hostile));
	cr_assert_str_eq(b.data, "&lt;script&gt;a&amp;b&lt;/script&gt; &quot;q&quot; &#39;x&#39;");
	buf_reset(&b);
	/* a <pre> block: newlines kept as &#10;, CR dropped, controls shown */
	esc_html_pre(&b, "a\r\n\nb\x1b<\x7f\0z", 10);
	cr_assert_str_eq(b.data, "a&#10;&#10;b&#9243;&lt;&#9249;&#9216;z");
	buf_reset(&b);
	/* markdown: nothing can open a link, emphasis, code or a cell */
	static const char md[] = "[x](javascript:1) *b* _i_ `c` | #h\n!{}~+\\ <b>&\"'";
	esc_md_inline(&b, md, strlen(md));
	cr_assert_str_eq(b.data, "\\[x\\]\\(javascript:1\\) \\*b\\* \\_i\\_ \\`c\\` \\| \\#h "
				 "\\!\\{\\}\\~\\+\\\\ &lt;b&gt;&amp;&quot;'");
	buf_reset(&b);
	esc_md_inline(&b, "a\tb\0c", 5);
	cr_assert_str_eq(b.data, "a b c");
	buf_reset(&b);
	/* a table cell: only what could end it or open markup */
	static const char cell[] = "91% (9/10) [x](y) a|b *c* \"q\" <i>\n";
	esc_md_cell(&b, cell, strlen(cell));
	cr_assert_str_eq(b.data, "91% (9/10) \\[x\\](y) a\\|b \\*c\\* \"q\" &lt;i&gt; ");
	buf_free(&b);
}

/* Every byte of every length moves the hash (a word loop that dropped the
 * tail, or the length, would not), the seed chains without ambiguity, and
 * the low bits of close ids spread over a small table. */
Test(core, hash64_sees_every_byte_the_length_and_the_seed)
{
	unsigned char s[40] = {0};
	for (size_t n = 0; n <= sizeof(s); n++) {
		uint64_t h = hash64(0, s, n);
		cr_assert_neq(h, hash64(1, s, n), "seed ignored at length %zu", n);
		if (n < sizeof(s))
			cr_assert_neq(h, hash64(0, s, n + 1), "zero byte %zu not counted", n);
		for (size_t i = 0; i < n; i++) {
			s[i] = 1;
			cr_assert_neq(hash64(0, s, n), h, "byte %zu of %zu ignored", i, n);
			s[i] = 0;
		}
	}
	cr_assert_neq(hash64(hash64(0, "ab", 2), "c", 1), hash64(hash64(0, "a", 1), "bc", 2));
	cr_assert_eq(hash64(7, "item-1", 6), hash64(7, "item-1", 6));
	static unsigned hit[256];
	char id[32];
	for (int i = 0; i < 256 * 16; i++) {
		int n = snprintf(id, sizeof(id), "item-%07d", i);
		hit[hash64(0, id, (size_t)n) & 255]++;
	}
	for (int b = 0; b < 256; b++)
		cr_assert(hit[b] > 0 && hit[b] < 48, "bucket %d holds %u of 4096", b, hit[b]);
}

/* jsonw_strn writes null for no string, as jsonw_str does (diff's jsonl
 * relies on it for a result without output). */
Test(core, jsonw_strn_writes_null_for_no_string)
{
	struct buf b;
	buf_init(&b);
	jsonw_strn(&b, NULL, 0);
	buf_putc(&b, ',');
	jsonw_strn(&b, "a\"b", 3);
	cr_assert_str_eq(b.data, "null,\"a\\\"b\"");
	buf_free(&b);
}

/* decimal.h: what strtod also takes (hex, spaces, inf, nan) is no number;
 * a flag, a cost header or a judge's score of "0x10" read as 16. */
Test(core, decimal_parse_takes_decimals_only)
{
	static const struct {
		const char *s;
		double v;
	} good[] = {{"0", 0},	   {"16", 16},	   {"-2.5", -2.5}, {"+.5", 0.5},
		    {"1e3", 1000}, {"2.E-1", 0.2}, {"7.", 7}};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		double v = -1;
		cr_expect(decimal_parse(good[i].s, &v), "%s", good[i].s);
		cr_expect_float_eq(v, good[i].v, 1e-12, "%s", good[i].s);
	}
	static const char *const bad[] = {"",	"0x10", " 5", "5 ",    "inf", "nan", "infinity",
					  "1e", ".",	"-",  "1e400", "1,5", "5x",  "+-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		double v = 42;
		cr_expect(!decimal_parse(bad[i], &v), "\"%s\" was taken", bad[i]);
		cr_expect_float_eq(v, 42, 0, "\"%s\" changed the output", bad[i]);
	}
}

/* esc_term: a dataset's id cannot clear the screen or split a table row. */
Test(core, esc_term_shows_control_bytes)
{
	struct buf b;
	buf_init(&b);
	esc_term(&b, "a\nb\x1b[2J\x07\x7f\tc é", 14);
	buf_putc(&b, '\0');
	cr_expect_str_eq(b.data, "a\\x0ab\\x1b[2J\\x07\\x7f\\x09c é");
	buf_free(&b);
	cr_expect_str_eq(esc_term_str("x\ry", 0), "x\\x0dy");
}
