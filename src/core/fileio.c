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

static const char *file_type(mode_t m)
{
	return S_ISDIR(m)    ? "a folder"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

int fio_open_regular(const char *path, const char *what, struct se_err *err)
{
	/* O_NONBLOCK: opening a FIFO with no writer would otherwise block
	 * before fstat can tell what it is */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return se_fail_errno(err, path, "cannot open %s", what);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		se_fail_errno(err, path, "cannot stat %s", what);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return se_fail(err, SE_INPUT, path, "%s is %s; expected a regular file", what,
			       file_type(st.st_mode));
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		se_fail_errno(err, path, "cannot open %s", what);
		close(fd);
		return -1;
	}
	return fd;
}

int fio_regular_or_absent(const char *path, const char *what, struct se_err *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? 0 : se_fail_errno(err, path, "cannot stat %s", what);
	if (!S_ISREG(st.st_mode))
		return se_fail(err, SE_INPUT, path, "%s is %s; expected a regular file", what,
			       file_type(st.st_mode));
	return 0;
}

FILE *fio_fopen_regular(const char *path, const char *what, struct se_err *err)
{
	int fd = fio_open_regular(path, what, err);
	if (fd < 0)
		return NULL;
	FILE *fp = fdopen(fd, "rb");
	if (!fp) {
		se_fail_errno(err, path, "cannot open %s", what);
		close(fd);
	}
	return fp;
}

static void size_text(size_t n, char *out, size_t size)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, size, "%zu MiB", n >> 20);
	else
		snprintf(out, size, "%zu bytes", n);
}

static int too_big(const char *path, size_t max, struct se_err *err)
{
	char cap[48];
	size_text(max, cap, sizeof(cap));
	return se_fail(err, SE_INPUT, path, "file larger than the %s limit of a whole-file read",
		       cap);
}

/* Reads fd to its end in chunks, handing each to fn; stops at the first
 * error (a read, or fn's -1). */
static int read_chunks(int fd, const char *path,
		       int (*fn)(void *ctx, const char *p, size_t n, struct se_err *err), void *ctx,
		       struct se_err *err)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return se_fail_errno(err, path, "read failed");
		if (n == 0)
			return 0;
		if (fn(ctx, chunk, (size_t)n, err))
			return -1;
	}
}

struct capped {
	struct buf b;
	const char *path;
	size_t max;
};

static int append_capped(void *ctx, const char *p, size_t n, struct se_err *err)
{
	struct capped *c = ctx;
	/* the file may grow while it is read: the cap holds anyway */
	if (n > c->max - c->b.len)
		return too_big(c->path, c->max, err);
	buf_append(&c->b, p, n);
	return 0;
}

int fio_read_all_max(const char *path, size_t max, char **data, size_t *len, struct se_err *err)
{
	int fd = fio_open_regular(path, "file", err);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) == 0 && (unsigned long long)st.st_size > max) {
		close(fd);
		return too_big(path, max, err);
	}
	struct capped c = {.path = path, .max = max};
	buf_init(&c.b);
	int rc = read_chunks(fd, path, append_capped, &c, err);
	close(fd);
	if (rc) {
		buf_free(&c.b);
		return -1;
	}
	*data = buf_detach(&c.b, len);
	return 0;
}

int fio_read_all(const char *path, char **data, size_t *len, struct se_err *err)
{
	return fio_read_all_max(path, FIO_MAX_FILE, data, len, err);
}

static int hash_chunk(void *ctx, const char *p, size_t n, struct se_err *err)
{
	(void)err;
	sha256_update(ctx, p, n);
	return 0;
}

int fio_sha256_file(const char *path, char hex[65], struct se_err *err)
{
	int fd = fio_open_regular(path, "file", err);
	if (fd < 0)
		return -1;
	struct sha256 s;
	sha256_init(&s);
	int rc = read_chunks(fd, path, hash_chunk, &s, err);
	close(fd);
	if (rc)
		return -1;
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
	/* a stale NAME.tmp (a crash, or a symlink planted to redirect the
	 * write out of the folder) is removed, never followed: O_EXCL |
	 * O_NOFOLLOW create a new file of our own */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		se_fail_errno(err, tmp, "cannot remove the stale temporary file");
		free(tmp);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	*fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!*fp) {
		se_fail_errno(err, tmp, "cannot create");
		if (fd >= 0)
			close(fd);
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
		/* EEXIST is fine only for a folder (or a link to one): a plain
		 * file or a dangling link would fail later, at a file inside,
		 * with "Not a directory" or "No such file" about that file */
		struct stat st;
		if (p[0] && stat(p, &st) != 0) {
			struct stat lst;
			if (lstat(p, &lst) == 0 && S_ISLNK(lst.st_mode))
				se_fail(err, SE_INPUT, p,
					"is a symbolic link to nothing (a dangling link), not a "
					"folder");
			else
				se_fail_errno(err, p, "cannot create folder");
			free(p);
			return -1;
		}
		if (p[0] && !S_ISDIR(st.st_mode)) {
			se_fail(err, SE_INPUT, p, "exists and is not a folder");
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
