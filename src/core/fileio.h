/* fileio.h: whole-file reads, atomic replacement, and whole-line appends.
 *
 * Two promises the program makes about every file it writes:
 * - a summary (CSV, manifest, report) is either the old version or the new one,
 *   never half: it is written to "<path>.tmp", flushed, fsync'd, closed with the
 *   close checked, then renamed over <path> (git's lockfile.h);
 * - an appended line (results.jsonl) is written with one write(2) on an
 *   O_APPEND descriptor, short writes resumed, so a crash leaves at most one
 *   torn last line, which the reader drops.
 */
#ifndef SE_FILEIO_H
#define SE_FILEIO_H

#include <stdio.h>

#include "core/err.h"

/* The size caps of whole-file reads (README "Limits"). A whole-file read
 * holds the file in memory, so it is refused above its cap rather than
 * letting a hostile or mistaken path (/dev/zero, a log) grow without bound. */
#define FIO_MAX_FILE (64u << 20)	 /* config, pricing, manifest, profiles */
#define FIO_MAX_CACHE_ENTRY (400u << 20) /* a 64 MiB reply, JSON-escaped */

/* Opens path for reading, refusing anything but a regular file (a FIFO, a
 * device, a folder) with SE_INPUT naming the path and the file type, without
 * blocking on a FIFO. `what` names the file's role in messages ("dataset").
 * Returns the fd (O_CLOEXEC, blocking) or -1. */
int fio_open_regular(const char *path, const char *what, struct se_err *err);
/* The same as a stdio stream ("rb"), or NULL with err set. */
FILE *fio_fopen_regular(const char *path, const char *what, struct se_err *err);

/* For a file another library opens (SQLite): 0 when path is absent or a
 * regular file (symbolic links followed); a FIFO, a device or a folder is
 * SE_INPUT naming the path and its type, as fio_open_regular words it. */
int fio_regular_or_absent(const char *path, const char *what, struct se_err *err);

/* Reads a whole regular file of at most FIO_MAX_FILE bytes into a
 * NUL-terminated malloc'd buffer (caller frees). A non-regular file or a
 * larger one is SE_INPUT naming the path and the cap. */
int fio_read_all(const char *path, char **data, size_t *len, struct se_err *err);
/* Same, with the cap `max` (bytes). */
int fio_read_all_max(const char *path, size_t max, char **data, size_t *len, struct se_err *err);

/* SHA-256 of a regular file's bytes, streamed (64 KiB at a time), as 64 hex
 * digits; a non-regular file is refused as by fio_open_regular. */
int fio_sha256_file(const char *path, char hex[65], struct se_err *err);

/* Starts an atomic replacement of `path`: *fp is "<path>.tmp" opened for writing. */
int fio_replace_begin(const char *path, FILE **fp, struct se_err *err);
/* Finishes it: fflush, fsync, fclose (checked), rename. On failure the tmp is
 * removed and the old file stays. fp is closed either way. */
int fio_replace_commit(const char *path, FILE *fp, struct se_err *err);
/* Abandons it: closes fp and removes the tmp. */
void fio_replace_abort(const char *path, FILE *fp);
/* Writes `len` bytes as the new content of path, atomically. */
int fio_write_atomic(const char *path, const void *data, size_t len, struct se_err *err);

/* Opens (creating) a file for appending; returns the fd or -1. */
int fio_open_append(const char *path, struct se_err *err);
/* Writes all n bytes (resuming short writes and EINTR). */
int fio_write_full(int fd, const void *data, size_t n, const char *path, struct se_err *err);

/* mkdir -p for one path (mode 0755). A part that exists must be a folder
 * (or a link to one): a plain file is "exists and is not a folder", a
 * dangling link "is a symbolic link to nothing", both SE_INPUT at it. */
int fio_mkdirs(const char *path, struct se_err *err);
/* Joins a folder and a relative name into a malloc'd path; an absolute name
 * or an empty folder returns a copy of name. */
char *fio_join(const char *dir, const char *name);
/* The folder part of a path ("." when there is none); malloc'd. */
char *fio_dirname(const char *path);

#endif
