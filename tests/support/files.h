/* files.h: temporary run folders and whole-file reads for the unit suites.
 *
 * Each helper asserts (Criterion) instead of returning errors: a test that
 * cannot make its folder has nothing to test.
 */
#ifndef SE_TEST_FILES_H
#define SE_TEST_FILES_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct cJSON;

/* A new empty folder under $TMPDIR (else /tmp), named se-<tag>-XXXXXX;
 * malloc'd path. */
char *test_mkdtemp(const char *tag);
/* Removes dir's files and dir, then frees dir. Expects no "*.tmp" file: every
 * file the program writes is renamed into place, so a leftover means a write
 * that was not atomic. */
void test_rmdir(char *dir);
/* Removes dir and everything below it (rm -rf), then frees dir: for the
 * e2e folders, which hold whole run folders and caches. */
void test_rmtree(char *dir);
/* A whole file, NUL-terminated (caller frees); len may be NULL. */
char *test_read_file(const char *path, size_t *len);
/* The same, or NULL when it cannot be read (a file a test waits for). */
char *test_slurp(const char *path, size_t *len);
/* Writes text to path, created or truncated. */
void test_write_file(const char *path, const char *text);
/* The number of '\n' in a file (it must exist). */
size_t test_count_lines(const char *path);
/* Calls fn(name, ctx) for every file of folder dir whose name ends in
 * suffix (".jsonl"), in readdir's order; returns how many. Asserts the
 * folder opens (tests run from the project root). */
size_t test_each_file(const char *dir, const char *suffix, void (*fn)(const char *name, void *ctx),
		      void *ctx);
/* Every line of a JSON-lines file, parsed, in file order, as one cJSON
 * array (the caller deletes it); asserts the file exists and each line
 * parses. */
struct cJSON *test_read_jsonl(const char *path);
/* "dir/name" in one of 8 rotating static buffers: valid until the 8th next
 * call, enough for the paths of one call's arguments. */
char *test_path(const char *dir, const char *name);

/* The folder of the binaries under test: $SE_BIN_DIR, else build/asan/bin. */
const char *test_bin_dir(void);
/* test_bin_dir as an absolute path (for a command run in another folder). */
const char *test_bin_abs(void);
/* Runs a shell command (printf-style) with stdin from /dev/null; its stdout
 * and stderr are appended to out (NUL-terminated; out may be NULL to drop
 * them). Returns the exit status, -1 when it died by a signal. */
int test_sh(struct buf *out, const char *fmt, ...) SE_PRINTF(2, 3);

#endif
