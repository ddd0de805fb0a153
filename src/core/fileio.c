/* fileio.c: whole-file reads, atomic replacement, appends; see fileio.h. */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "core/xalloc.h"

int fio_read_all(const char *path, char **data, size_t *len, struct se_err *err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return se_fail_errno(err, path, "cannot open");
	struct buf b;
	buf_init(&b);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(fp)) {
		fclose(fp);
		buf_free(&b);
		return se_fail_errno(err, path, "read failed");
	}
	fclose(fp);
	*data = buf_detach(&b, len);
	return 0;
}

int fio_sha256_file(const char *path, char hex[65], struct se_err *err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return se_fail_errno(err, path, "cannot open");
	struct sha256 s;
	sha256_init(&s);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		sha256_update(&s, chunk, n);
	int bad = ferror(fp);
	fclose(fp);
	if (bad)
		return se_fail_errno(err, path, "read failed");
	sha256_final_hex(&s, hex);
	return 0;
}

static char *tmp_name(const char *path)
{
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s.tmp", path);
	return buf_detach(&b, NULL);
}

int fio_replace_begin(const char *path, FILE **fp, struct se_err *err)
{
	char *tmp = tmp_name(path);
	*fp = fopen(tmp, "wb");
	if (!*fp) {
		se_fail_errno(err, tmp, "cannot create");
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int fio_replace_commit(const char *path, FILE *fp, struct se_err *err)
{
	char *tmp = tmp_name(path);
	int rc = 0;
	if (fflush(fp) != 0 || ferror(fp)) {
		rc = se_fail_errno(err, tmp, "write failed");
		fclose(fp);
	} else if (fsync(fileno(fp)) != 0 && errno != EINVAL && errno != EROFS) {
		rc = se_fail_errno(err, tmp, "fsync failed");
		fclose(fp);
	} else if (fclose(fp) != 0) {
		rc = se_fail_errno(err, tmp, "close failed");
	} else if (rename(tmp, path) != 0) {
		rc = se_fail_errno(err, path, "cannot rename %s into place", tmp);
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

void fio_replace_abort(const char *path, FILE *fp)
{
	char *tmp = tmp_name(path);
	if (fp)
		fclose(fp);
	unlink(tmp);
	free(tmp);
}

int fio_write_atomic(const char *path, const void *data, size_t len, struct se_err *err)
{
	FILE *fp;
	if (fio_replace_begin(path, &fp, err))
		return -1;
	if (len && fwrite(data, 1, len, fp) != len) {
		char *tmp = tmp_name(path);
		se_fail_errno(err, tmp, "write failed");
		free(tmp);
		fio_replace_abort(path, fp);
		return -1;
	}
	return fio_replace_commit(path, fp, err);
}

int fio_open_append(const char *path, struct se_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return se_fail_errno(err, path, "cannot open for appending");
	return fd;
}

int fio_write_full(int fd, const void *data, size_t n, const char *path, struct se_err *err)
{
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return se_fail_errno(err, path, "write failed");
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int fio_mkdirs(const char *path, struct se_err *err)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char saved = p[i];
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			se_fail_errno(err, p, "cannot create folder");
			free(p);
			return -1;
		}
		p[i] = saved;
	}
	free(p);
	return 0;
}

char *fio_join(const char *dir, const char *name)
{
	if (!dir || !*dir || name[0] == '/' || strcmp(dir, ".") == 0)
		return xstrdup(name);
	struct buf b;
	buf_init(&b);
	buf_puts(&b, dir);
	if (b.data[b.len - 1] != '/')
		buf_putc(&b, '/');
	buf_puts(&b, name);
	return buf_detach(&b, NULL);
}

char *fio_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}
