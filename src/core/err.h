/* err.h: the one error type every room fills and only main.c prints.
 *
 * A failing function returns -1 and describes the failure in the caller's
 * struct se_err: what kind of failure (it decides the exit code), where (a
 * "file:line[:col]" or "file: json.path[2].key"), and a lowercase message
 * without a full stop. `return se_fail(err, ...)` sets it and returns -1, so
 * call sites stay one line (git's `return error(...)`). A failed HTTP request
 * is not an error: it is data (a status in results.jsonl).
 *
 * Messages never contain an API key: keys are read from the environment at the
 * moment a request is built and are never passed to anything that formats text.
 */
#ifndef SE_ERR_H
#define SE_ERR_H

#include <stddef.h>

enum se_kind {
	SE_OK = 0,
	SE_USAGE,    /* bad flags or arguments: exit 2 */
	SE_INPUT,    /* bad config, dataset, results file, server reply: exit 2 */
	SE_IO,	     /* a file could not be read or written: exit 2 (3 when
		      * se_is_environment: disk full, I/O error) */
	SE_FINDING,  /* a regression or a stop by budget: exit 1 */
	SE_INTERRUPT /* SIGINT: exit 130 */
};

struct se_err {
	enum se_kind kind;
	int sys_errno; /* the errno of an se_fail_errno, else 0 */
	char where[512];
	char msg[1536];
};

#define SE_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Sets *err (when err is not NULL) and returns -1. `where` may be NULL. */
int se_fail(struct se_err *err, enum se_kind kind, const char *where, const char *fmt, ...)
    SE_PRINTF(4, 5);

/* Same, with errno's text appended as ": <strerror>". */
int se_fail_errno(struct se_err *err, const char *where, const char *fmt, ...) SE_PRINTF(3, 4);

/* Resets to SE_OK with empty where and msg. */
void se_clear(struct se_err *err);

/* The exit status for an error kind: 0, 1, 2 or 130. */
int se_exit_code(enum se_kind kind);

/* True when the error comes from the machine, not from the input: a full
 * disk or quota (ENOSPC, EDQUOT, EFBIG), an I/O error (EIO), a read-only
 * file system (EROFS), memory (ENOMEM), a file another process holds
 * locked (EBUSY). Retrying later or elsewhere may work; editing the input
 * will not. */
int se_is_environment(const struct se_err *err);

/* The process exit status for an error: se_exit_code(kind), except 3 for an
 * environment failure (se_is_environment). */
int se_exit_status(const struct se_err *err);

#endif
