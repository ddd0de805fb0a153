/* err.c: filling struct se_err; see err.h. */
#include "core/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An empty path the user gave is still named: as "" (it would vanish). */
static void set_where(struct se_err *err, const char *where)
{
	if (where && !*where)
		snprintf(err->where, sizeof(err->where), "\"\"");
	else if (where)
		snprintf(err->where, sizeof(err->where), "%s", where);
	else
		err->where[0] = '\0';
}

int se_fail(struct se_err *err, enum se_kind kind, const char *where, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	err->kind = kind;
	err->sys_errno = 0;
	set_where(err, where);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int se_fail_errno(struct se_err *err, const char *where, const char *fmt, ...)
{
	int saved = errno;
	if (!err)
		return -1;
	va_list ap;
	err->kind = SE_IO;
	err->sys_errno = saved;
	set_where(err, where);
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(saved));
	return -1;
}

void se_clear(struct se_err *err)
{
	err->kind = SE_OK;
	err->sys_errno = 0;
	err->where[0] = '\0';
	err->msg[0] = '\0';
}

int se_exit_code(enum se_kind kind)
{
	switch (kind) {
	case SE_OK:
		return 0;
	case SE_FINDING:
		return 1;
	case SE_INTERRUPT:
		return 130;
	case SE_USAGE:
	case SE_INPUT:
	case SE_IO:
		break;
	}
	return 2;
}

int se_is_environment(const struct se_err *err)
{
	if (err->kind != SE_IO)
		return 0;
	switch (err->sys_errno) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
	case EIO:
	case EROFS:
	case ENOMEM:
	case EBUSY: /* held by another process (a locked cache) */
		return 1;
	}
	return 0;
}

int se_exit_status(const struct se_err *err)
{
	return se_is_environment(err) ? 3 : se_exit_code(err->kind);
}
