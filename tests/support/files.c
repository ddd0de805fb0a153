/* files.c: temporary folders and file reads for tests; see files.h. */
#include "files.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
