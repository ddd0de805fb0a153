/* test_cache.c: the response cache through the real binaries: `run --cache`
 * against a real shadowsim, then `shadoweval cache stats|export|import|merge`,
 * an old one-file-per-key folder migrated by a replay, and a damaged
 * database refused by name. The database alone (batching, processes at
 * once, damaged pages) is tested in tests/test_cache.c. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "../support/files.h"
#include "../support/simproc.h"
#include "core/buf.h"
#include "core/sha256.h"

#define FIX "tests/fixtures/run"
#define PAIRS 40 /* 20 items, each to its primary and one shadow */

static char *dir;
static struct simproc sim;
static char url[80];

static char *path_in(const char *name)
{
	static char bufs[8][512];
	static int k;
	char *p = bufs[k++ % 8];
	snprintf(p, 512, "%s/%s", dir, name);
	return p;
}

/* shadoweval ARGS, its stdout and stderr into out; the exit status */
static int se(struct buf *out, const char *args)
{
	buf_reset(out);
	return test_sh(out, "%s/shadoweval %s", test_bin_dir(), args);
}

/* run the eval into run folder `name`, with --cache MODE from cache folder `cache` */
static int run_eval(struct buf *out, const char *name, const char *mode, const char *cache)
{
	char args[1600];
	snprintf(args, sizeof(args),
		 "run " FIX "/eval.json --endpoint sim=%s -o '%s' --cache %s --cache-dir '%s' "
		 "--quiet",
		 url, path_in(name), mode, path_in(cache));
	return se(out, args);
}

/* shadowsim with every answer after ttft_ms */
static void sim_start(int ttft_ms)
{
	dir = test_mkdtemp("e2e-cache");
	const char *prof = path_in("profiles.json");
	FILE *f = fopen(prof, "w");
	cr_assert_not_null(f);
	fputs("{\"seed\": 7, \"models\": {", f);
	const char *models[] = {"sim/fast", "sim/deep", "sim/cand", "sim/backup"};
	for (int i = 0; i < 4; i++)
		fprintf(f,
			"%s\"%s\": {\"latency\": {\"ttft_ms\": %d, \"tokens_per_s\": 0},"
			" \"accuracy\": {\"default\": 1.0}}",
			i ? ", " : "", models[i], ttft_ms);
	fputs("}}\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(simproc_start(&sim, prof, FIX "/eval.json", NULL), 0, "%s", sim.error);
	snprintf(url, sizeof(url), "%s", sim.base_url);
}

/* shadowsim answering at once, and a first run that filled cache folder c */
static void setup(void)
{
	sim_start(0);
	struct buf out;
	buf_init(&out);
	int rc = run_eval(&out, "fill", "use", "c");
	cr_assert_eq(rc, 0, "fill: %s", out.data);
	buf_free(&out);
}

static void teardown(void)
{
	simproc_stop(&sim);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(dir);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* (item_id \t model \t output) per line of a run, sorted: what an answer is */
static void answers(const char *run, struct buf *out)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/results.jsonl", path_in(run));
	char *text = test_read_file(path, NULL);
	buf_reset(out);
	char *save = NULL;
	size_t n = 0;
	char *lines[PAIRS * 2];
	for (char *l = strtok_r(text, "\n", &save); l && n < PAIRS * 2;
	     l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		cr_assert_not_null(o, "%s", l);
		struct buf one;
		buf_init(&one);
		buf_printf(&one, "%s\t%s\t%s", cJSON_GetObjectItem(o, "item_id")->valuestring,
			   cJSON_GetObjectItem(o, "model")->valuestring,
			   cJSON_IsString(cJSON_GetObjectItem(o, "output"))
			       ? cJSON_GetObjectItem(o, "output")->valuestring
			       : "(null)");
		lines[n++] = buf_detach(&one, NULL);
		cJSON_Delete(o);
	}
	cr_assert_eq(n, PAIRS, "%s: %zu lines", run, n);
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(text);
}

static void all_cached(const char *run)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/results.jsonl", path_in(run));
	char *text = test_read_file(path, NULL);
	int n = 0;
	for (char *p = text; (p = strstr(p, "\"cached\":true")); p++)
		n++;
	cr_assert_eq(n, PAIRS, "%s: %d cached lines", run, n);
	free(text);
}

/* A bundle's JSON lines. */
static void unbundle(const char *path, struct buf *out)
{
	size_t len;
	char *z = test_read_file(path, &len);
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer in = {z, len, 0};
	buf_reset(out);
	while (in.pos < in.size) {
		buf_reserve(out, 1 << 16);
		ZSTD_outBuffer o = {out->data + out->len, 1 << 16, 0};
		size_t r = ZSTD_decompressStream(d, &o, &in);
		cr_assert(!ZSTD_isError(r), "%s: %s", path, ZSTD_getErrorName(r));
		out->len += o.pos;
	}
	buf_putc(out, '\0');
	out->len--;
	ZSTD_freeDCtx(d);
	free(z);
}

static void bundle(const char *path, const struct buf *lines)
{
	size_t cap = ZSTD_compressBound(lines->len);
	char *z = malloc(cap);
	size_t n = ZSTD_compress(z, cap, lines->data, lines->len, 3);
	cr_assert(!ZSTD_isError(n));
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(z, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	free(z);
}

/* The fill's cache exported to b.zst; its lines into lines. */
static void export_fill(struct buf *out, struct buf *lines)
{
	char args[1200];
	snprintf(args, sizeof(args), "cache export --cache-dir '%s' -o '%s'", path_in("c"),
		 path_in("b.zst"));
	cr_assert_eq(se(out, args), 0, "%s", out->data);
	unbundle(path_in("b.zst"), lines);
}

Test(cache, a_bundle_carries_the_cache_to_an_offline_replay_and_imports_once, .init = setup,
     .fini = teardown, .timeout = 120)
{
	struct buf out, a, b;
	buf_init(&out);
	buf_init(&a);
	buf_init(&b);
	char args[1200];
	snprintf(args, sizeof(args), "cache stats --cache-dir '%s'", path_in("c"));
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	cr_assert(strstr(out.data, "entries         40\n"), "%s", out.data);
	cr_assert(strstr(out.data, "quick_check     ok"), "%s", out.data);
	cr_assert(strstr(out.data, "sim/cand"), "%s", out.data);
	snprintf(args, sizeof(args), "cache export --cache-dir '%s' -o '%s'", path_in("c"),
		 path_in("b.zst"));
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	cr_assert(strstr(out.data, "exported 40 entries"), "%s", out.data);
	snprintf(args, sizeof(args), "cache import --cache-dir '%s' '%s'", path_in("c2"),
		 path_in("b.zst"));
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	cr_assert(strstr(out.data, "40 added, 0 unchanged, 0 conflicts"), "%s", out.data);
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	cr_assert(strstr(out.data, "0 added, 40 unchanged, 0 conflicts"), "%s", out.data);
	/* the same cache gives the same bundle */
	snprintf(args, sizeof(args), "cache export --cache-dir '%s' -o '%s'", path_in("c2"),
		 path_in("b2.zst"));
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	unbundle(path_in("b.zst"), &a);
	unbundle(path_in("b2.zst"), &b);
	cr_assert(a.len == b.len && !memcmp(a.data, b.data, a.len), "the bundles differ");
	/* no network from here on: the imported cache answers everything */
	simproc_stop(&sim);
	cr_assert_eq(run_eval(&out, "replay", "replay", "c2"), 0, "%s", out.data);
	all_cached("replay");
	answers("fill", &a);
	answers("replay", &b);
	cr_assert_str_eq(a.data, b.data);
	buf_free(&out);
	buf_free(&a);
	buf_free(&b);
}

Test(cache, conflicts_are_kept_out_and_explained, .init = setup, .fini = teardown, .timeout = 120)
{
	struct buf out, lines;
	buf_init(&out);
	buf_init(&lines);
	export_fill(&out, &lines);
	char args[1200];
	/* another answer to the request of line 2 (a non-deterministic model) */
	char *l2 = strchr(lines.data, '\n') + 1;
	char *end = strchr(l2, '\n');
	cJSON *o = cJSON_ParseWithLength(l2, (size_t)(end - l2));
	cr_assert_not_null(o);
	const char *other = "{\"choices\":[{\"message\":{\"content\":\"something else\"}}]}";
	char sum[65];
	sha256_hex(other, strlen(other), sum);
	cJSON_ReplaceItemInObject(o, "body", cJSON_CreateString(other));
	cJSON_ReplaceItemInObject(o, "sha256", cJSON_CreateString(sum));
	char *changed = cJSON_PrintUnformatted(o);
	struct buf nb;
	buf_init(&nb);
	buf_append(&nb, lines.data, (size_t)(l2 - lines.data));
	buf_printf(&nb, "%s\n", changed);
	bundle(path_in("other.zst"), &nb);
	snprintf(args, sizeof(args), "cache import --cache-dir '%s' '%s'", path_in("c"),
		 path_in("other.zst"));
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	cr_assert(strstr(out.data, "0 added, 0 unchanged, 1 conflicts"), "%s", out.data);
	cr_assert(strstr(out.data, "other.zst:2: conflict: model"), "%s", out.data);
	/* merge: the first bundle holding the key gives it */
	snprintf(args, sizeof(args), "cache merge -o '%s' '%s' '%s'", path_in("m.zst"),
		 path_in("b.zst"), path_in("other.zst"));
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	cr_assert(strstr(out.data, "40 added, 0 unchanged, 1 conflicts"), "%s", out.data);
	struct buf merged;
	buf_init(&merged);
	unbundle(path_in("m.zst"), &merged);
	cr_assert_null(strstr(merged.data, "something else"));
	/* a damaged bundle line is refused by place */
	char *t = strstr(nb.data, "something else");
	memcpy(t, "somethinG", 9);
	bundle(path_in("bad.zst"), &nb);
	snprintf(args, sizeof(args), "cache import --cache-dir '%s' '%s'", path_in("c3"),
		 path_in("bad.zst"));
	cr_assert_eq(se(&out, args), 2, "%s", out.data);
	cr_assert(strstr(out.data, "bad.zst:2: the text does not match its sha256"), "%s",
		  out.data);
	buf_free(&merged);
	buf_free(&nb);
	free(changed);
	cJSON_Delete(o);
	buf_free(&out);
	buf_free(&lines);
}

/* Writes the bundle's entries as the old one-file-per-key layout did. */
static void old_layout(const struct buf *lines, const char *cache)
{
	char *text = strdup(lines->data);
	char *save = NULL;
	int n = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (n++ == 0)
			continue; /* the header */
		cJSON *o = cJSON_Parse(l);
		cr_assert_not_null(o);
		const char *req = cJSON_GetObjectItem(o, "req")->valuestring;
		char folder[700], path[800];
		snprintf(folder, sizeof(folder), "%s/%.2s", path_in(cache), req);
		mkdir(path_in(cache), 0755);
		mkdir(folder, 0755);
		snprintf(path, sizeof(path), "%s/%s.json", folder, req);
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "status", 200);
		cJSON_AddBoolToObject(e, "stream", cJSON_IsTrue(cJSON_GetObjectItem(o, "stream")));
		cJSON_AddNumberToObject(e, "latency_ms",
					cJSON_GetObjectItem(o, "latency_ms")->valuedouble);
		cJSON_AddNullToObject(e, "ttft_ms");
		cJSON_AddStringToObject(e, "body", cJSON_GetObjectItem(o, "body")->valuestring);
		char *s = cJSON_PrintUnformatted(e);
		FILE *f = fopen(path, "w");
		cr_assert_not_null(f);
		fprintf(f, "%s\n", s);
		cr_assert_eq(fclose(f), 0);
		free(s);
		cJSON_Delete(e);
		cJSON_Delete(o);
	}
	free(text);
}

Test(cache, an_old_one_file_per_key_folder_is_migrated_once_with_a_message, .init = setup,
     .fini = teardown, .timeout = 120)
{
	struct buf out, lines, a, b;
	buf_init(&out);
	buf_init(&lines);
	buf_init(&a);
	buf_init(&b);
	export_fill(&out, &lines);
	old_layout(&lines, "old");
	simproc_stop(&sim);
	cr_assert_eq(run_eval(&out, "replay", "replay", "old"), 0, "%s", out.data);
	cr_assert(strstr(out.data, "moved 40 response-cache entries from the one-file-per-key "
				   "layout"),
		  "%s", out.data);
	all_cached("replay");
	answers("fill", &a);
	answers("replay", &b);
	cr_assert_str_eq(a.data, b.data);
	/* read once: no old folder is left, and the next run says nothing */
	buf_reset(&b);
	cr_assert_eq(test_sh(&b, "ls '%s'", path_in("old")), 0);
	cr_assert_str_eq(b.data, "cache.sqlite\n");
	cr_assert_eq(run_eval(&out, "replay2", "replay", "old"), 0, "%s", out.data);
	cr_assert_null(strstr(out.data, "moved"), "%s", out.data);
	buf_free(&out);
	buf_free(&lines);
	buf_free(&a);
	buf_free(&b);
}

Test(cache, a_damaged_database_stops_the_run_naming_the_file_and_the_rebuild, .init = setup,
     .fini = teardown, .timeout = 120)
{
	struct buf out;
	buf_init(&out);
	int fd = open(path_in("c/cache.sqlite"), O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "garbage, not a database header", 30, 0), 30);
	cr_assert_eq(close(fd), 0);
	cr_assert_eq(run_eval(&out, "replay", "replay", "c"), 2, "%s", out.data);
	cr_assert(strstr(out.data, "c/cache.sqlite: the response cache is damaged"), "%s",
		  out.data);
	cr_assert(strstr(out.data, "rm -f"), "%s", out.data);
	/* and use mode does not paper over it either: no results were written */
	cr_assert_eq(run_eval(&out, "use", "use", "c"), 2, "%s", out.data);
	char args[600];
	snprintf(args, sizeof(args), "cache stats --cache-dir '%s'", path_in("c"));
	cr_assert_eq(se(&out, args), 2, "%s", out.data);
	cr_assert(strstr(out.data, "damaged"), "%s", out.data);
	buf_free(&out);
}

static void setup_slow(void)
{
	sim_start(200);
}

/* The batch in memory is written when a run is interrupted: with 2 requests
 * of 200 ms at a time, SIGINT at the first result line comes long before
 * the batch's size or 1 s time bound would write it. */
Test(cache, an_interrupted_run_writes_its_last_batch, .init = setup_slow, .fini = teardown,
     .timeout = 120)
{
	char ep[128];
	snprintf(ep, sizeof(ep), "sim=%s", url);
	char bin[600];
	snprintf(bin, sizeof(bin), "%s/shadoweval", test_bin_dir());
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(bin, bin, "run", FIX "/eval.json", "--endpoint", ep, "-o", path_in("r"),
		      "--cache", "use", "--cache-dir", path_in("c"), "--concurrency", "2",
		      "--quiet", (char *)NULL);
		_exit(127);
	}
	/* the event: a first whole line in results.jsonl */
	for (;;) {
		size_t len = 0;
		FILE *f = fopen(path_in("r/results.jsonl"), "r");
		char line[4096];
		bool whole = f && fgets(line, sizeof(line), f) && (len = strlen(line)) &&
			     line[len - 1] == '\n';
		if (f)
			fclose(f);
		if (whole)
			break;
		int st;
		cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the run ended before its first line");
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGINT);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d", st);
	char *text = test_read_file(path_in("r/results.jsonl"), NULL);
	int ok = 0;
	for (char *p = text; (p = strstr(p, "\"status\":\"ok\"")); p++)
		ok++;
	free(text);
	cr_assert_gt(ok, 0);
	cr_assert_lt(ok, PAIRS, "the run was not interrupted");
	/* every answer written as a line is in the cache */
	struct buf out;
	buf_init(&out);
	char args[600], want[64];
	snprintf(args, sizeof(args), "cache stats --cache-dir '%s'", path_in("c"));
	cr_assert_eq(se(&out, args), 0, "%s", out.data);
	snprintf(want, sizeof(want), "entries         %d\n", ok);
	cr_assert(strstr(out.data, want), "%d ok lines: %s", ok, out.data);
	buf_free(&out);
}

/* The cache's damage classes through the binary: a bundle entry whose
 * latency no results line could hold is refused by place (it was imported,
 * replayed, and the run folder then refused by summarize); a FIFO named
 * cache.sqlite is exit 2 naming it for every command (it was exit 3, "disk
 * I/O error"); cache stats leaves an empty cache.sqlite empty. */
Test(cache, out_of_range_bundles_fifos_and_empty_files_are_input_not_damage_done, .init = setup,
     .fini = teardown, .timeout = 120)
{
	struct buf out, lines;
	buf_init(&out);
	buf_init(&lines);
	export_fill(&out, &lines);
	char *at = strstr(lines.data, "\"latency_ms\":");
	cr_assert_not_null(at);
	char *end = strchr(at, ',');
	struct buf nb;
	buf_init(&nb);
	buf_append(&nb, lines.data, (size_t)(at - lines.data));
	buf_puts(&nb, "\"latency_ms\":1e308");
	buf_puts(&nb, end);
	bundle(path_in("big.zst"), &nb);
	char args[1600];
	snprintf(args, sizeof(args), "cache import --cache-dir '%s' '%s'", path_in("c2"),
		 path_in("big.zst"));
	cr_assert_eq(se(&out, args), 2, "%s", out.data);
	cr_assert(strstr(out.data, "big.zst:2: latency_ms: expected a number from 0 to "
				   "10000000000 or null, got 1e+308"),
		  "%s", out.data);
	/* a FIFO for the database: every command refuses it by name */
	mkdir(path_in("f"), 0755);
	cr_assert_eq(mkfifo(path_in("f/cache.sqlite"), 0600), 0);
	static const char *const cmds[] = {"stats", "export -o /dev/null", "import /dev/null"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(args, sizeof(args), "cache %s --cache-dir '%s'", cmds[i], path_in("f"));
		cr_expect_eq(se(&out, args), 2, "%s: %s", args, out.data);
		cr_expect(strstr(out.data, "f/cache.sqlite: a response-cache file is a FIFO"),
			  "%s: %s", args, out.data);
	}
	cr_expect_eq(run_eval(&out, "r", "replay", "f"), 2, "%s", out.data);
	cr_expect(strstr(out.data, "f/cache.sqlite: a response-cache file is a FIFO"), "%s",
		  out.data);
	/* an empty file: an empty cache, left empty */
	mkdir(path_in("e"), 0755);
	FILE *f = fopen(path_in("e/cache.sqlite"), "w");
	cr_assert_not_null(f);
	cr_assert_eq(fclose(f), 0);
	snprintf(args, sizeof(args), "cache stats --cache-dir '%s'", path_in("e"));
	cr_expect_eq(se(&out, args), 0, "%s", out.data);
	cr_expect(strstr(out.data, "entries         0\n"), "%s", out.data);
	struct stat sb;
	cr_assert_eq(stat(path_in("e/cache.sqlite"), &sb), 0);
	cr_expect_eq(sb.st_size, 0);
	buf_free(&nb);
	buf_free(&out);
	buf_free(&lines);
}
