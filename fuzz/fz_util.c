/* fz_util.c: the temporary input files of the fuzz targets; see fz_util.h. */
#include "fz_util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static void fz_cleanup(void)
{
	char cmd[128];
	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fz: could not remove %s\n", dir);
}

const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/sefuzz.XXXXXX",
			 t && *t && strlen(t) < 40 ? t : "/tmp");
		if (!mkdtemp(dir)) {
			perror("fz: mkdtemp");
			abort();
		}
		atexit(fz_cleanup);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("fz: open");
		abort();
	}
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0) {
			perror("fz: write");
			abort();
		}
		off += (size_t)n;
	}
	close(fd);
	return path;
}

char *fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
