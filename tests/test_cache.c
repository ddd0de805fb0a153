/* test_cache.c: the response cache's database (src/engine/cache.c) and its
 * old layout (cache_legacy.c): batching, several processes at once,
 * migration, damage. The engine's use of it is tested end to end in
 * tests/e2e/test_run.c and tests/e2e/test_cache.c. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "engine/cache.h"
#include "engine/cache_bundle.h"
#include "results/results.h"
#include "engine/engine.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/se-cache-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* The key of request "name" (its hash, as the engine makes it). */
static void key_of(const char *name, char req[65])
{
	eng_cache_key("http://127.0.0.1:1/v1", "m/x", name, strlen(name), req);
}

/* A text that says whose it is, len bytes long: a torn or swapped entry
 * cannot pass for it. */
static void text_of(int writer, int i, struct buf *b)
{
	buf_reset(b);
	buf_printf(b, "{\"w\":%d,\"i\":%d,\"pad\":\"", writer, i);
	size_t len = 50 + (size_t)((writer + 1) * 7919 + i * 104729) % 9000;
	for (size_t k = 0; k < len; k++)
		buf_putc(b, (char)('a' + ((size_t)(writer + 1 + i) * 3 + k % 7) % 26));
	buf_puts(b, "\"}");
}

static struct eng_cache *open_dir(bool create)
{
	struct eng_cache *c;
	struct se_err err;
	cr_assert_eq(eng_cache_open(&c, dir, create, NULL, &err), 0, "%s: %s", err.where, err.msg);
	return c;
}

static void store(struct eng_cache *c, const char *name, const char *text)
{
	char req[65];
	key_of(name, req);
	struct eng_cache_key k = {"http://127.0.0.1:1/v1", "m/x", req, 0};
	struct eng_cache_entry e = {false, 5, NAN};
	struct se_err err;
	cr_assert_eq(eng_cache_store(c, &k, &e, text, strlen(text), &err), 0, "%s", err.msg);
}

static int load(struct eng_cache *c, const char *name, struct buf *out)
{
	char req[65];
	key_of(name, req);
	struct eng_cache_key k = {"http://127.0.0.1:1/v1", "m/x", req, 0};
	struct eng_cache_entry e;
	struct se_err err;
	buf_reset(out);
	return eng_cache_load(c, &k, &e, out, &err);
}

Test(cache, a_batch_is_seen_at_once_by_its_handle_and_by_others_once_written, .init = setup,
     .fini = teardown)
{
	struct eng_cache *a = open_dir(true), *b = open_dir(false);
	struct buf t;
	buf_init(&t);
	store(a, "q1", "{\"x\":1}");
	cr_assert_eq(load(a, "q1", &t), ENG_CACHE_HIT);
	cr_assert_str_eq(t.data, "{\"x\":1}");
	/* one store is far below the batch size and time bound: not written */
	cr_assert_eq(load(b, "q1", &t), ENG_CACHE_MISS);
	struct se_err err;
	cr_assert_eq(eng_cache_flush(a, &err), 0, "%s", err.msg);
	/* b's loads share a read snapshot (up to 1 s): its flush renews it */
	cr_assert_eq(load(b, "q1", &t), ENG_CACHE_MISS);
	cr_assert_eq(eng_cache_flush(b, &err), 0, "%s", err.msg);
	cr_assert_eq(load(b, "q1", &t), ENG_CACHE_HIT);
	/* a full batch is written without a flush */
	char name[32];
	for (int i = 0; i < ENG_CACHE_BATCH; i++) {
		snprintf(name, sizeof(name), "batch-%d", i);
		store(a, name, "{}");
	}
	cr_assert_eq(eng_cache_flush(b, &err), 0, "%s", err.msg);
	cr_assert_eq(load(b, "batch-0", &t), ENG_CACHE_HIT);
	/* and close writes the rest */
	store(a, "last", "{\"last\":true}");
	cr_assert_eq(eng_cache_flush(b, &err), 0, "%s", err.msg);
	cr_assert_eq(load(b, "last", &t), ENG_CACHE_MISS);
	cr_assert_eq(eng_cache_close(a, &err), 0, "%s", err.msg);
	cr_assert_eq(eng_cache_flush(b, &err), 0, "%s", err.msg);
	cr_assert_eq(load(b, "last", &t), ENG_CACHE_HIT);
	cr_assert_str_eq(t.data, "{\"last\":true}");
	cr_assert_eq(eng_cache_close(b, &err), 0, "%s", err.msg);
	buf_free(&t);
}

Test(cache, a_folder_without_a_cache_is_refused_unless_created, .init = setup, .fini = teardown)
{
	struct eng_cache *c;
	struct se_err err;
	cr_assert_eq(eng_cache_open(&c, dir, false, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.where, ENG_CACHE_FILE), "%s", err.where);
	cr_assert(strstr(err.msg, "no response cache"), "%s", err.msg);
}

/* ---- several processes at once ------------------------------------------ */

#define WRITERS 4
#define READERS 4
#define PER_WRITER 150
#define SHARED 40 /* keys every writer stores, with the same text (shards) */

static void name_of(int writer, int i, char *out, size_t size)
{
	if (writer < 0)
		snprintf(out, size, "shared-%d", i);
	else
		snprintf(out, size, "w%d-%d", writer, i);
}

/* exit status: 0 fine, 1 a failed call, 2 a wrong or torn text */
static int writer_proc(int w)
{
	struct eng_cache *c;
	struct se_err err;
	if (eng_cache_open(&c, dir, true, NULL, &err)) {
		fprintf(stderr, "writer, opening: %s: %s\n", err.where, err.msg);
		return 1;
	}
	struct buf t;
	buf_init(&t);
	char name[32], req[65];
	for (int i = 0; i < PER_WRITER + SHARED; i++) {
		bool shared = i >= PER_WRITER;
		int id = shared ? i - PER_WRITER : i;
		name_of(shared ? -1 : w, id, name, sizeof(name));
		text_of(shared ? -1 : w, id, &t);
		key_of(name, req);
		struct eng_cache_key k = {"http://127.0.0.1:1/v1", "m/x", req, 0};
		struct eng_cache_entry e = {false, i, NAN};
		if (eng_cache_store(c, &k, &e, t.data, t.len, &err)) {
			fprintf(stderr, "writer, storing: %s: %s\n", err.where, err.msg);
			return 1;
		}
		/* many small transactions: the writers interleave */
		if (i % 5 == 4 && eng_cache_flush(c, &err)) {
			fprintf(stderr, "writer, flushing: %s: %s\n", err.where, err.msg);
			return 1;
		}
	}
	buf_free(&t);
	return eng_cache_close(c, &err) ? 1 : 0;
}

static int reader_proc(void)
{
	struct eng_cache *c;
	struct se_err err;
	if (eng_cache_open(&c, dir, true, NULL, &err)) {
		fprintf(stderr, "reader, opening: %s: %s\n", err.where, err.msg);
		return 1;
	}
	struct buf got, want;
	buf_init(&got);
	buf_init(&want);
	char name[32];
	int rc = 0;
	for (int pass = 0; pass < 3 && !rc; pass++)
		for (int w = -1; w < WRITERS && !rc; w++)
			for (int i = 0; i < (w < 0 ? SHARED : PER_WRITER) && !rc; i++) {
				name_of(w, i, name, sizeof(name));
				int r = load(c, name, &got);
				if (r == ENG_CACHE_MISS)
					continue;
				if (r != ENG_CACHE_HIT) {
					rc = 1;
					break;
				}
				text_of(w, i, &want);
				if (got.len != want.len || memcmp(got.data, want.data, got.len))
					rc = 2;
			}
	buf_free(&got);
	buf_free(&want);
	if (eng_cache_close(c, &err))
		rc = 1;
	return rc;
}

Test(cache, four_writers_and_four_readers_lose_and_tear_nothing, .init = setup, .fini = teardown,
     .timeout = 120)
{
	/* the children wait on one pipe, so all start together when it closes */
	int go[2];
	cr_assert_eq(pipe(go), 0);
	pid_t pids[WRITERS + READERS];
	for (int p = 0; p < WRITERS + READERS; p++) {
		pids[p] = fork();
		cr_assert_geq(pids[p], 0);
		if (pids[p] == 0) {
			close(go[1]);
			char x;
			while (read(go[0], &x, 1) > 0)
				;
			_exit(p < WRITERS ? writer_proc(p) : reader_proc());
		}
	}
	close(go[0]);
	close(go[1]);
	for (int p = 0; p < WRITERS + READERS; p++) {
		int st;
		cr_assert_eq(waitpid(pids[p], &st, 0), pids[p]);
		cr_assert(WIFEXITED(st), "process %d died (%d)", p, st);
		cr_assert_eq(WEXITSTATUS(st), 0, "%s %d: %s", p < WRITERS ? "writer" : "reader", p,
			     WEXITSTATUS(st) == 2 ? "read a wrong or torn text" : "a call failed");
	}
	/* every entry of every writer is there, whole */
	struct eng_cache *c = open_dir(false);
	struct buf got, want;
	buf_init(&got);
	buf_init(&want);
	char name[32];
	for (int w = -1; w < WRITERS; w++)
		for (int i = 0; i < (w < 0 ? SHARED : PER_WRITER); i++) {
			name_of(w, i, name, sizeof(name));
			cr_assert_eq(load(c, name, &got), ENG_CACHE_HIT, "%s lost", name);
			text_of(w, i, &want);
			cr_assert(got.len == want.len && !memcmp(got.data, want.data, got.len),
				  "%s torn", name);
		}
	struct eng_cache_stats st;
	struct se_err err;
	cr_assert_eq(eng_cache_stats(c, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.entries, WRITERS * PER_WRITER + SHARED);
	cr_assert_str_eq(st.check, "ok");
	eng_cache_stats_free(&st);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	buf_free(&got);
	buf_free(&want);
}

/* ---- the old layout ------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* An entry as the one-file-per-key layout wrote it. */
static void old_entry(const char *name, const char *json_body, char path[512])
{
	char req[65], folder[300];
	key_of(name, req);
	snprintf(folder, sizeof(folder), "%s/%.2s", dir, req);
	mkdir(folder, 0700);
	snprintf(path, 512, "%s/%s.json", folder, req);
	char text[600];
	snprintf(text, sizeof(text),
		 "{\"status\":200,\"stream\":false,\"latency_ms\":42.5,\"ttft_ms\":null,"
		 "\"body\":\"%s\"}\n",
		 json_body);
	write_file(path, text);
}

static char *read_note(FILE *f)
{
	static char text[2048];
	rewind(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	return text;
}

Test(cache, the_old_layout_is_moved_into_the_database_once_with_a_message, .init = setup,
     .fini = teardown)
{
	char p1[512], p2[512], bad[512];
	old_entry("q1", "{\\\"a\\\":1}", p1);
	old_entry("q2", "{\\\"a\\\":2}", p2);
	old_entry("q3", "x", bad);
	write_file(bad, "{\"status\":200,\"body\":"); /* torn: not an entry */
	FILE *note = tmpfile();
	struct eng_cache *c;
	struct se_err err;
	/* a folder in the old layout is a cache even without create */
	cr_assert_eq(eng_cache_open(&c, dir, false, note, &err), 0, "%s", err.msg);
	const char *said = read_note(note);
	cr_assert(strstr(said, "moved 2 response-cache entries from the one-file-per-key layout"),
		  "%s", said);
	cr_assert(strstr(said, "1 files there are not cache entries"), "%s", said);
	struct buf t;
	buf_init(&t);
	cr_assert_eq(load(c, "q1", &t), ENG_CACHE_HIT);
	cr_assert_str_eq(t.data, "{\"a\":1}");
	cr_assert_eq(load(c, "q2", &t), ENG_CACHE_HIT);
	cr_assert_eq(load(c, "q3", &t), ENG_CACHE_MISS); /* never a wrong answer */
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	/* read once: the moved files are gone, the bad one is left */
	cr_assert_neq(access(p1, F_OK), 0);
	cr_assert_neq(access(p2, F_OK), 0);
	cr_assert_eq(access(bad, F_OK), 0);
	fclose(note);
	note = tmpfile();
	cr_assert_eq(eng_cache_open(&c, dir, false, note, &err), 0, "%s", err.msg);
	said = read_note(note);
	cr_assert(strstr(said, "moved 0 response-cache entries"), "%s", said);
	cr_assert_eq(load(c, "q1", &t), ENG_CACHE_HIT); /* still there */
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	fclose(note);
	buf_free(&t);
}

/* ---- damage -------------------------------------------------------------- */

static void scribble(long at, size_t n)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, ENG_CACHE_FILE);
	int fd = open(path, O_WRONLY);
	cr_assert_geq(fd, 0);
	char junk[8192];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(0x5a ^ (i * 37));
	cr_assert_eq(pwrite(fd, junk, n, at), (ssize_t)n);
	cr_assert_eq(close(fd), 0);
}

Test(cache, a_damaged_database_file_is_an_error_naming_it_and_how_to_rebuild, .init = setup,
     .fini = teardown)
{
	struct eng_cache *c = open_dir(true);
	store(c, "q1", "{}");
	struct se_err err;
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	scribble(0, 100); /* the header */
	cr_assert_eq(eng_cache_open(&c, dir, false, NULL, &err), -1);
	cr_assert_eq(err.kind, SE_INPUT);
	cr_assert(strstr(err.where, ENG_CACHE_FILE), "%s", err.where);
	cr_assert(strstr(err.msg, "damaged"), "%s", err.msg);
	cr_assert(strstr(err.msg, "rm -f"), "%s", err.msg);
	cr_assert(strstr(err.msg, "--cache use"), "%s", err.msg);
}

Test(cache, damaged_pages_give_errors_never_a_wrong_answer, .init = setup, .fini = teardown)
{
	struct eng_cache *c = open_dir(true);
	struct buf t, want;
	buf_init(&t);
	buf_init(&want);
	char name[32];
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		text_of(1, i, &t);
		store(c, name, t.data);
	}
	struct se_err err;
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	/* pages in the middle: rows, their overflow pages, the key index */
	struct stat sb;
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, ENG_CACHE_FILE);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_gt(sb.st_size, 3 * 8192);
	scribble(sb.st_size / 3, 8192);
	scribble(2 * sb.st_size / 3, 8192);
	c = open_dir(false);
	int hits = 0, errors = 0;
	for (int i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		int r = load(c, name, &t);
		if (r == ENG_CACHE_HIT) {
			text_of(1, i, &want);
			cr_assert(t.len == want.len && !memcmp(t.data, want.data, t.len),
				  "%s: a wrong answer", name);
			hits++;
		} else if (r == ENG_CACHE_BAD_ENTRY || r == ENG_CACHE_FAILED) {
			errors++;
		}
	}
	cr_assert_gt(errors, 0, "the damage went unnoticed (%d hits)", hits);
	struct eng_cache_stats st;
	int rc = eng_cache_stats(c, &st, &err);
	cr_assert(rc != 0 || strcmp(st.check, "ok"), "quick_check found nothing");
	eng_cache_stats_free(&st);
	eng_cache_close(c, &err);
	buf_free(&t);
	buf_free(&want);
}

Test(cache, stats_count_entries_and_text_per_model, .init = setup, .fini = teardown)
{
	struct eng_cache *c = open_dir(true);
	char req[65];
	struct se_err err;
	struct eng_cache_entry e = {false, 1, NAN};
	const char *models[] = {"b/two", "a/one", "b/two"};
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "q%d", i);
		key_of(name, req);
		struct eng_cache_key k = {"http://h/v1", models[i], req, 0};
		cr_assert_eq(eng_cache_store(c, &k, &e, "12345", 5, &err), 0, "%s", err.msg);
	}
	struct eng_cache_stats st;
	cr_assert_eq(eng_cache_stats(c, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.entries, 3);
	cr_assert_eq(st.bytes, 15);
	cr_assert_eq(st.n_sources, 2);
	cr_assert_str_eq(st.sources[0].model, "a/one");
	cr_assert_eq(st.sources[0].entries, 1);
	cr_assert_str_eq(st.sources[1].model, "b/two");
	cr_assert_eq(st.sources[1].entries, 2);
	cr_assert_eq(st.sources[1].bytes, 10);
	cr_assert_gt(st.file_bytes, 0);
	cr_assert_str_eq(st.check, "ok");
	eng_cache_stats_free(&st);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
}

/* ---- compression and the version-1 layout --------------------------------- */

static sqlite3 *raw_db(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, ENG_CACHE_FILE);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
		     sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

Test(cache, a_text_is_stored_compressed_and_a_damaged_frame_is_not_served, .init = setup,
     .fini = teardown)
{
	struct buf t, got;
	buf_init(&t);
	buf_init(&got);
	for (int i = 0; i < 500; i++)
		buf_printf(&t, "{\"choices\":[{\"index\":%d,\"content\":\"same words\"}]}\n",
			   i % 7);
	struct eng_cache *c = open_dir(true);
	store(c, "big", t.data);
	store(c, "tiny", "{}"); /* a frame would be longer: kept as it is */
	struct se_err err;
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	sqlite3 *db = raw_db();
	cr_assert_lt(raw_int(db, "SELECT max(length(body)) FROM responses"), (long long)t.len / 4);
	cr_assert_eq(raw_int(db, "SELECT max(zsize) FROM responses"), (long long)t.len);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM responses WHERE zsize IS NULL"), 1);
	c = open_dir(false);
	cr_assert_eq(load(c, "big", &got), ENG_CACHE_HIT);
	cr_assert(got.len == t.len && !memcmp(got.data, t.data, t.len));
	struct eng_cache_stats st;
	cr_assert_eq(eng_cache_stats(c, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.bytes, (long long)t.len + 2); /* the texts, not what they take */
	eng_cache_stats_free(&st);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	/* a frame cut short */
	cr_assert_eq(sqlite3_exec(db,
				  "UPDATE responses SET body = substr(body, 1, length(body) - 5) "
				  "WHERE zsize IS NOT NULL",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	c = open_dir(false);
	char req[65];
	key_of("big", req);
	struct eng_cache_key k = {"http://127.0.0.1:1/v1", "m/x", req, 0};
	struct eng_cache_entry e;
	buf_reset(&got);
	cr_assert_eq(eng_cache_load(c, &k, &e, &got, &err), ENG_CACHE_BAD_ENTRY);
	cr_assert(strstr(err.msg, "compressed text"), "%s", err.msg);
	cr_assert_eq(got.len, 0);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	buf_free(&t);
	buf_free(&got);
}

Test(cache, a_version_1_database_is_upgraded_in_place_and_keeps_its_entries, .init = setup,
     .fini = teardown)
{
	/* what the first SQLite layout wrote: no zsize, every text raw */
	sqlite3 *db = raw_db();
	char req[65], sum[65];
	key_of("q1", req);
	sha256_hex("{\"v\":1}", 7, sum);
	/* the checksum: the first 64 bits of the text's SHA-256 */
	char top[17];
	memcpy(top, sum, 16);
	top[16] = '\0';
	char sql[2048];
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE sources(id INTEGER PRIMARY KEY, url TEXT NOT NULL, model TEXT NOT "
		 "NULL, UNIQUE(url, model));"
		 "CREATE TABLE responses(req BLOB NOT NULL, sample INTEGER NOT NULL, source "
		 "INTEGER NOT NULL REFERENCES sources(id), stream INTEGER NOT NULL, latency_ms "
		 "REAL, ttft_ms REAL, sum INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY(req, "
		 "sample));"
		 "PRAGMA application_id = 1397052995; PRAGMA user_version = 1;"
		 "INSERT INTO sources VALUES(1, 'http://127.0.0.1:1/v1', 'm/x');"
		 "INSERT INTO responses VALUES(x'%s', 0, 1, 0, 5, NULL, %lld, "
		 "CAST('{\"v\":1}' AS BLOB));",
		 req, (long long)strtoull(top, NULL, 16));
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	struct eng_cache *c = open_dir(false);
	struct buf got;
	buf_init(&got);
	cr_assert_eq(load(c, "q1", &got), ENG_CACHE_HIT);
	cr_assert_str_eq(got.data, "{\"v\":1}");
	store(c, "q2", "{\"v\":2}");
	struct se_err err;
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	db = raw_db();
	cr_assert_eq(raw_int(db, "PRAGMA user_version"), 2);
	cr_assert_eq(raw_int(db, "SELECT count(*) FROM responses"), 2);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	buf_free(&got);
}

/* ---- out-of-range numbers: damage, wherever they come from --------------- */

/* A row whose latency no results line could hold (-1e308, 1e308, -5) was
 * served, and the run folder it went to was then refused by summarize: the
 * row is a damaged entry, like one whose checksum fails, for a load and for
 * an export alike. */
Test(cache, a_row_with_an_out_of_range_latency_is_a_damaged_entry, .init = setup, .fini = teardown)
{
	static const char *const bad[] = {"latency_ms = -1e308", "latency_ms = 1e308",
					  "ttft_ms = -5", "latency_ms = 'slow'"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct eng_cache *c = open_dir(true);
		store(c, "q1", "{\"v\":1}");
		struct se_err err;
		cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
		sqlite3 *db = raw_db();
		char sql[200];
		snprintf(sql, sizeof(sql), "UPDATE responses SET %s", bad[i]);
		cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		cr_assert_eq(sqlite3_close(db), SQLITE_OK);
		c = open_dir(false);
		struct buf got;
		buf_init(&got);
		cr_expect_eq(load(c, "q1", &got), ENG_CACHE_BAD_ENTRY, "%s", bad[i]);
		cr_expect_eq(got.len, 0);
		cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
		/* and an export names the entry instead of writing the number on */
		cr_assert_eq(eng_cache_open_readonly(&c, dir, NULL, &err), 0, "%s", err.msg);
		char out[300];
		snprintf(out, sizeof(out), "%s/b.zst", dir);
		long long n = 0;
		cr_expect_eq(eng_bundle_export(c, out, &n, &err), -1, "%s", bad[i]);
		cr_expect_eq(err.kind, SE_INPUT);
		cr_expect(strstr(err.msg, "damaged cache entry"), "%s", err.msg);
		eng_cache_close(c, NULL);
		db = raw_db();
		cr_assert_eq(sqlite3_exec(db, "DELETE FROM responses", NULL, NULL, NULL),
			     SQLITE_OK);
		cr_assert_eq(sqlite3_close(db), SQLITE_OK);
		buf_free(&got);
	}
}

/* An old-layout file with such a latency is not moved: it stays, counted
 * with the other files that are not entries. */
Test(cache, an_old_layout_entry_with_an_out_of_range_latency_is_left_in_place, .init = setup,
     .fini = teardown)
{
	char ok[512], neg[512], huge[512], str[512];
	old_entry("q1", "{\\\"a\\\":1}", ok);
	old_entry("q2", "x", neg);
	write_file(neg, "{\"status\":200,\"latency_ms\":-5,\"body\":\"{}\"}");
	old_entry("q3", "x", huge);
	write_file(huge, "{\"status\":200,\"latency_ms\":1,\"ttft_ms\":1e308,\"body\":\"{}\"}");
	old_entry("q4", "x", str);
	write_file(str, "{\"status\":200,\"latency_ms\":\"5\",\"body\":\"{}\"}");
	FILE *note = tmpfile();
	struct eng_cache *c;
	struct se_err err;
	cr_assert_eq(eng_cache_open(&c, dir, false, note, &err), 0, "%s", err.msg);
	const char *said = read_note(note);
	cr_expect(strstr(said, "moved 1 response-cache entries"), "%s", said);
	cr_expect(strstr(said, "3 files there are not cache entries"), "%s", said);
	struct buf t;
	buf_init(&t);
	cr_expect_eq(load(c, "q1", &t), ENG_CACHE_HIT);
	cr_expect_eq(load(c, "q2", &t), ENG_CACHE_MISS);
	cr_expect_eq(load(c, "q3", &t), ENG_CACHE_MISS);
	cr_expect_eq(load(c, "q4", &t), ENG_CACHE_MISS);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	cr_expect_eq(access(neg, F_OK), 0);
	cr_expect_eq(access(huge, F_OK), 0);
	cr_expect_eq(access(str, F_OK), 0);
	fclose(note);
	buf_free(&t);
}

/* ---- bundles -------------------------------------------------------------- */

/* Writes lines (the header first) as a bundle at DIR/name. */
static void put_bundle(const char *name, const char *lines, size_t len, char path[300])
{
	snprintf(path, 300, "%s/%s", dir, name);
	size_t cap = ZSTD_compressBound(len);
	char *z = malloc(cap);
	size_t n = ZSTD_compress(z, cap, lines, len, 1);
	cr_assert(!ZSTD_isError(n));
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(z, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	free(z);
}

#define HEAD "{\"format\":\"shadoweval-cache-bundle\",\"version\":1}\n"

/* One bundle entry of body "{}" with the given fields spliced in. */
static void entry_line(struct buf *b, const char *url_json, const char *timing, const char *extra)
{
	char req[65], sum[65];
	key_of("q1", req);
	sha256_hex("{}", 2, sum);
	buf_printf(b,
		   "{\"url\":%s,\"model\":\"m/x\",\"req\":\"%s\",\"sample\":0,\"stream\":false,"
		   "%s,\"sha256\":\"%s\",\"body\":\"{}\"%s}\n",
		   url_json, req, timing, sum, extra);
}

/* Imports DIR/name into DIR's cache: the result, err filled. */
static int import(const char *path, struct eng_bundle_counts *n, struct se_err *err)
{
	struct eng_cache *c;
	cr_assert_eq(eng_cache_open(&c, dir, true, NULL, err), 0, "%s", err->msg);
	int rc = eng_bundle_import(c, path, n, NULL, err);
	struct se_err cerr;
	eng_cache_close(c, &cerr);
	return rc;
}

/* The bundle reader is as strict as every other reader: a number out of the
 * range a results line holds, a NUL in a string (cJSON cuts the string
 * there: "http://x\u0000y" was imported as "http://x"), a key given twice,
 * each is refused naming BUNDLE:LINE and the field. */
Test(cache, a_bundle_line_out_of_range_with_a_nul_or_a_key_twice_is_refused_by_place, .init = setup,
     .fini = teardown)
{
	static const struct {
		const char *url, *timing, *extra, *want;
	} cases[] = {
	    {"\"http://x\"", "\"latency_ms\":1e308,\"ttft_ms\":null", "",
	     ":2: latency_ms: expected a number from 0 to 10000000000 or null, got 1e+308"},
	    {"\"http://x\"", "\"latency_ms\":-5,\"ttft_ms\":null", "",
	     ":2: latency_ms: expected a number from 0 to 10000000000 or null, got -5"},
	    {"\"http://x\"", "\"latency_ms\":5,\"ttft_ms\":-1e308", "",
	     ":2: ttft_ms: expected a number from 0 to 10000000000 or null, got -1e+308"},
	    {"\"http://x\\u0000y\"", "\"latency_ms\":5,\"ttft_ms\":null", "",
	     ":2: url: contains a NUL character"},
	    {"\"http://x\"", "\"latency_ms\":5,\"ttft_ms\":null", ",\"model\":\"m/y\"",
	     ":2: duplicate key \"model\""},
	    {"\"http://x\"", "\"latency_ms\":5,\"ttft_ms\":null", ",\"url\":\"http://z\"",
	     ":2: duplicate key \"url\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;
		buf_init(&b);
		buf_puts(&b, HEAD);
		entry_line(&b, cases[i].url, cases[i].timing, cases[i].extra);
		char path[300];
		put_bundle("b.zst", b.data, b.len, path);
		struct eng_bundle_counts n = {0};
		struct se_err err;
		cr_expect_eq(import(path, &n, &err), -1, "case %zu", i);
		cr_expect_eq(err.kind, SE_INPUT);
		char full[2100];
		snprintf(full, sizeof(full), "%s: %s", err.where, err.msg);
		cr_expect(strstr(full, cases[i].want), "case %zu: %s", i, full);
		cr_expect_eq(n.added, 0, "case %zu", i);
		buf_free(&b);
	}
	/* the same line in range is taken */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, HEAD);
	entry_line(&b, "\"http://x\"", "\"latency_ms\":10000000000,\"ttft_ms\":0", "");
	char path[300];
	put_bundle("ok.zst", b.data, b.len, path);
	struct eng_bundle_counts n = {0};
	struct se_err err;
	cr_assert_eq(import(path, &n, &err), 0, "%s: %s", err.where, err.msg);
	cr_expect_eq(n.added, 1);
	buf_free(&b);
}

/* A header whose version is not a number said "bundle version -1"; it
 * names what it found. A NUL or a key twice there is refused too. */
Test(cache, a_bundle_header_with_a_version_that_is_not_a_number_says_so, .init = setup,
     .fini = teardown)
{
	static const struct {
		const char *head, *want;
	} cases[] = {
	    {"{\"format\":\"shadoweval-cache-bundle\",\"version\":\"1\"}\n",
	     ":1: version: expected a number (this shadoweval reads version 1), got the string "
	     "\"1\""},
	    {"{\"format\":\"shadoweval-cache-bundle\"}\n",
	     ":1: version: expected a number (this shadoweval reads version 1), got nothing"},
	    {"{\"format\":\"shadoweval-cache-bundle\",\"version\":2}\n",
	     ":1: bundle version 2; this shadoweval reads version 1"},
	    {"{\"format\":\"shadoweval-cache-bundle\",\"version\":1,\"version\":2}\n",
	     ":1: duplicate key \"version\""},
	    {"{\"format\":\"shadoweval-cache-bundle\",\"version\":1,\"x\":\"a\\u0000\"}\n",
	     ":1: x: contains a NUL character"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[300];
		put_bundle("h.zst", cases[i].head, strlen(cases[i].head), path);
		struct eng_bundle_counts n = {0};
		struct se_err err;
		cr_expect_eq(import(path, &n, &err), -1, "case %zu", i);
		char full[2100];
		snprintf(full, sizeof(full), "%s: %s", err.where, err.msg);
		cr_expect(strstr(full, cases[i].want), "case %zu: %s", i, full);
		cr_expect_null(strstr(full, "-1"), "case %zu: %s", i, full);
	}
}

/* A long line was searched for its end again from its start after every
 * decompressed block: quadratic (200 MB took 18 s). Each byte is searched
 * once now. */
Test(cache, a_long_bundle_line_is_read_in_one_pass, .init = setup, .fini = teardown)
{
	struct buf b;
	buf_init(&b);
	buf_puts(&b, HEAD);
	buf_puts(&b, "{\"url\":\"");
	for (size_t i = 0; i < (8u << 20); i++)
		buf_putc(&b, 'a');
	buf_puts(&b, "\"}\n");
	char path[300];
	put_bundle("long.zst", b.data, b.len, path);
	struct eng_bundle_counts n = {0};
	struct se_err err;
	cr_assert_eq(import(path, &n, &err), -1);
	cr_expect(strstr(err.msg, "model: expected a string"), "%s", err.msg);
	cr_expect_eq(n.bytes, (long long)b.len);
	cr_expect_leq(n.scanned, n.bytes, "%lld bytes searched for %lld read", n.scanned, n.bytes);
	buf_free(&b);
}

/* ---- the database file ---------------------------------------------------- */

/* cache stats on a FIFO named cache.sqlite said "disk I/O error" (exit 3):
 * the database and its -wal and -shm are regular files or absent, checked
 * before SQLite opens them, by readers and writers alike. */
Test(cache, a_cache_file_that_is_not_a_regular_file_is_refused_by_name, .init = setup,
     .fini = teardown)
{
	static const char *const names[] = {ENG_CACHE_FILE, ENG_CACHE_FILE "-wal",
					    ENG_CACHE_FILE "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char path[300], db[300];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(db, sizeof(db), "%s/%s", dir, ENG_CACHE_FILE);
		if (i) /* an empty database beside it */
			write_file(db, "");
		cr_assert_eq(mkfifo(path, 0600), 0);
		for (int mode = 0; mode < 3; mode++) {
			struct eng_cache *c = NULL;
			struct se_err err;
			int rc = mode == 0   ? eng_cache_open(&c, dir, true, NULL, &err)
				 : mode == 1 ? eng_cache_open(&c, dir, false, NULL, &err)
					     : eng_cache_open_readonly(&c, dir, NULL, &err);
			cr_expect_eq(rc, -1, "%s, mode %d", names[i], mode);
			cr_expect_eq(err.kind, SE_INPUT, "%s, mode %d", names[i], mode);
			cr_expect_str_eq(err.where, path);
			cr_expect(strstr(err.msg, "is a FIFO; expected a regular file"), "%s",
				  err.msg);
			if (!rc)
				eng_cache_close(c, NULL);
		}
		unlink(path);
		unlink(db);
	}
}

/* cache stats wrote a schema into an empty cache.sqlite: the commands that
 * only read open it read-only; an empty file is an empty cache, left as it
 * is. */
Test(cache, a_read_only_open_of_an_empty_file_writes_nothing, .init = setup, .fini = teardown)
{
	char db[300];
	snprintf(db, sizeof(db), "%s/%s", dir, ENG_CACHE_FILE);
	write_file(db, "");
	struct eng_cache *c;
	struct se_err err;
	cr_assert_eq(eng_cache_open_readonly(&c, dir, NULL, &err), 0, "%s", err.msg);
	struct eng_cache_stats st;
	cr_assert_eq(eng_cache_stats(c, &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.entries, 0);
	eng_cache_stats_free(&st);
	char out[300];
	snprintf(out, sizeof(out), "%s/b.zst", dir);
	long long n = -1;
	cr_assert_eq(eng_bundle_export(c, out, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 0);
	struct buf got;
	buf_init(&got);
	cr_expect_eq(load(c, "q1", &got), ENG_CACHE_MISS);
	cr_expect_neq(eng_cache_store(c, &(struct eng_cache_key){"", "", "00", 0},
				      &(struct eng_cache_entry){false, NAN, NAN}, "x", 1, &err),
		      0);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	struct stat sb;
	cr_assert_eq(stat(db, &sb), 0);
	cr_expect_eq(sb.st_size, 0, "the empty file was written: %lld bytes",
		     (long long)sb.st_size);
	char wal[320];
	snprintf(wal, sizeof(wal), "%s-wal", db);
	cr_expect_neq(access(wal, F_OK), 0);
	buf_free(&got);
}

/* A filled cache read read-only: its entries, and the file unchanged. */
Test(cache, a_read_only_open_reads_a_filled_cache_without_writing_it, .init = setup,
     .fini = teardown)
{
	struct eng_cache *c = open_dir(true);
	store(c, "q1", "{\"v\":1}");
	store(c, "q2", "{\"v\":2}");
	struct se_err err;
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	char db[300];
	snprintf(db, sizeof(db), "%s/%s", dir, ENG_CACHE_FILE);
	cr_assert_eq(chmod(db, 0400), 0); /* root writes it anyway: the size tells */
	struct stat before, after;
	cr_assert_eq(stat(db, &before), 0);
	cr_assert_eq(eng_cache_open_readonly(&c, dir, NULL, &err), 0, "%s", err.msg);
	struct eng_cache_stats st;
	cr_assert_eq(eng_cache_stats(c, &st, &err), 0, "%s", err.msg);
	cr_expect_eq(st.entries, 2);
	cr_expect_str_eq(st.check, "ok");
	eng_cache_stats_free(&st);
	struct buf got;
	buf_init(&got);
	cr_expect_eq(load(c, "q2", &got), ENG_CACHE_HIT);
	cr_assert_eq(eng_cache_close(c, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(db, &after), 0);
	cr_expect_eq(after.st_size, before.st_size);
	cr_expect_eq(after.st_mtime, before.st_mtime);
	buf_free(&got);
}
