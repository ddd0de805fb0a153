/* files.c: temporary folders and file reads for tests; see files.h. */
#include "files.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fileio.h"

char *test_mkdtemp(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[512];
	snprintf(tmpl, sizeof(tmpl), "%s/se-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	char *d = mkdtemp(tmpl);
	cr_assert(d, "mkdtemp %s failed", tmpl);
	return strdup(d);
}

void test_rmdir(char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			size_t n = strlen(e->d_name);
			cr_expect(n < 4 || strcmp(e->d_name + n - 4, ".tmp"),
				  "temporary file left: %s", e->d_name);
			char *p = fio_join(dir, e->d_name);
			unlink(p);
			free(p);
		}
		closedir(d);
	}
	rmdir(dir);
	free(dir);
}

void test_rmtree(char *dir)
{
	char cmd[1100];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

char *test_read_file(const char *path, size_t *len)
{
	char *data = NULL;
	size_t l = 0;
	struct se_err err;
	se_clear(&err);
	cr_assert_eq(fio_read_all(path, &data, &l, &err), 0, "%s: %s", path, err.msg);
	if (len)
		*len = l;
	return data;
}

char *test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, len);
}

void test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

size_t test_count_lines(const char *path)
{
	char *s = test_read_file(path, NULL);
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

char *test_path(const char *dir, const char *name)
{
	static char bufs[8][1024];
	static int k;
	char *p = bufs[k++ % 8];
	snprintf(p, sizeof(bufs[0]), "%s/%s", dir, name);
	return p;
}

const char *test_bin_dir(void)
{
	const char *d = getenv("SE_BIN_DIR");
	return d && *d ? d : "build/asan/bin";
}

const char *test_bin_abs(void)
{
	static char path[PATH_MAX];
	if (!path[0])
		cr_assert(realpath(test_bin_dir(), path), "%s", test_bin_dir());
	return path;
}

int test_sh(struct buf *out, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char *full = NULL;
	cr_assert(asprintf(&full, "(%s) 2>&1 </dev/null", cmd) > 0);
	FILE *p = popen(full, "r");
	free(full);
	cr_assert(p, "popen %s", cmd);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		if (out)
			buf_append(out, chunk, n);
	if (out)
		buf_append(out, "", 1);
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

cJSON *test_read_jsonl(const char *path)
{
	char *s = test_read_file(path, NULL);
	cr_assert(s, "no %s", path);
	cJSON *a = cJSON_CreateArray();
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		cJSON *o = cJSON_Parse(line);
		cr_assert(o, "%s: %s", path, line);
		cJSON_AddItemToArray(a, o);
	}
	free(s);
	return a;
}

size_t test_each_file(const char *dir, const char *suffix, void (*fn)(const char *name, void *ctx),
		      void *ctx)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s (tests run from the project root)", dir);
	size_t n = 0, sl = strlen(suffix);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= sl || strcmp(e->d_name + len - sl, suffix))
			continue;
		fn(e->d_name, ctx);
		n++;
	}
	closedir(d);
	return n;
}
