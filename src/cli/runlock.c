/* runlock.c: DIR/run.lock, one writer per run folder (see runlock.h). */
#include "cli/runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/fileio.h"

/* The holder's "PID COMMAND" line, as the message shows it. */
static void holder_of(int fd, char *pid, size_t pid_size, char *cmd, size_t cmd_size)
{
	char line[96];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	line[n > 0 ? n : 0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	size_t p = strspn(line, "0123456789");
	snprintf(pid, pid_size, "%.*s", (int)p, line);
	const char *c = line + p + strspn(line + p, " ");
	size_t k = strspn(c, "abcdefghijklmnopqrstuvwxyz");
	/* a lock written before the command was recorded holds the pid alone */
	snprintf(cmd, cmd_size, "%.*s", (int)k, k ? c : "process");
}

int run_lock_take(const char *dir, const char *command, size_t reserve, int *fd_out,
		  struct se_err *err)
{
	char *path = fio_join(dir, "run.lock");
	int rc = -1;
	*fd_out = -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		se_fail_errno(err, path, "cannot open the run folder's lock");
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			char pid[32], cmd[32];
			holder_of(fd, pid, sizeof(pid), cmd, sizeof(cmd));
			se_fail(err, SE_INPUT, dir,
				"run folder is in use by another shadoweval %s (pid %s holds %s); "
				"wait for it to end%s",
				cmd, pid[0] ? pid : "unknown", path,
				strcmp(command, "run") && strcmp(command, "merge")
				    ? ""
				    : ", or use another -o");
		} else {
			se_fail_errno(err, path, "cannot lock the run folder");
		}
		close(fd);
		goto out;
	}
	char line[64];
	int n = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), command);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
		se_fail_errno(err, path, "cannot write the run folder's lock");
		close(fd);
		goto out;
	}
	/* Best effort: a file system without fallocate keeps no reserve. */
	if (reserve && posix_fallocate(fd, 0, (off_t)reserve) != 0 && ftruncate(fd, n) != 0) {
		se_fail_errno(err, path, "cannot write the run folder's lock");
		close(fd);
		goto out;
	}
	*fd_out = fd;
	rc = 0;
out:
	free(path);
	return rc;
}

int run_lock_existing(const char *dir, const char *command, int *fd, struct se_err *err)
{
	struct se_err mine;
	se_clear(&mine);
	if (run_lock_take(dir, command, 0, fd, &mine) == 0)
		return 0;
	if (mine.kind == SE_INPUT || (mine.sys_errno != ENOENT && mine.sys_errno != ENOTDIR &&
				      mine.sys_errno != EROFS && mine.sys_errno != EACCES)) {
		*err = mine;
		return -1;
	}
	return 0;
}

int run_lock_drop_reserve(int fd)
{
	char line[96];
	ssize_t n = pread(fd, line, sizeof(line), 0);
	if (n <= 0)
		return -1;
	char *nl = memchr(line, '\n', (size_t)n);
	return ftruncate(fd, nl ? nl - line + 1 : n) == 0 ? 0 : -1;
}

void run_lock_release(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}
