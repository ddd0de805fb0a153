/* spawn.c: starting, stopping and reaping one scorer process (see
 * scorer.h). posix_spawn, never a shell: argv is passed as it is. The
 * process's stdin and stdout are one end of a socketpair, so a write to a
 * process that died fails with EPIPE (MSG_NOSIGNAL) instead of killing
 * shadoweval with SIGPIPE. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "scorer/scorer.h"

static void spawn_attrs(posix_spawnattr_t *at)
{
	posix_spawnattr_init(at);
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	/* what shadoweval ignores or handles, the scorer gets as default */
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGHUP);
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &defaults);
	/* its own process group: a terminal's Ctrl-C stops shadoweval, which
	 * still grades what is queued, and scr_kill reaches its children */
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					 POSIX_SPAWN_SETPGROUP);
}

int scr_spawn(struct scr_proc *p, char *const *argv, const char *dir, char *const *env,
	      const char *where, struct se_err *err)
{
	p->pid = 0;
	p->fd = -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return se_fail_errno(err, where, "cannot create the scorer's socket");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
	if (dir && *dir)
		posix_spawn_file_actions_addchdir_np(&fa, dir);
	posix_spawnattr_t at;
	spawn_attrs(&at);
	pid_t pid = 0;
	int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return se_fail(err, SE_INPUT, where, "cannot start the scorer \"%s\": %s", argv[0],
			       strerror(rc));
	}
	p->pid = pid;
	p->fd = sv[0];
	return 0;
}

static void describe(int status, char *why, size_t cap)
{
	if (WIFEXITED(status))
		snprintf(why, cap, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(why, cap, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(why, cap, "ended (status %d)", status);
}

/* Whether the process has exited, waiting up to ms for it (a pidfd to
 * poll, so no sleep). It is not reaped: a zombie keeps its process group,
 * so its children can still be killed by group. */
static bool exited_within(pid_t pid, int ms)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
		return true;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return false;
	struct pollfd q = {.fd = pfd, .events = POLLIN};
	int r;
	double end = clock_now_ms() + ms;
	do {
		double left = end - clock_now_ms();
		r = left > 0 ? poll(&q, 1, (int)left + 1) : 0;
	} while (r < 0 && errno == EINTR);
	close(pfd);
	return r > 0;
}

/* Kills what is left of its process group (all of it when it has not
 * exited), reaps it, says how it ended. */
static void finish(struct scr_proc *p, char *why, size_t cap)
{
	kill(-p->pid, SIGKILL);
	kill(p->pid, SIGKILL); /* in case it left its group */
	int status = 0;
	while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (why)
		describe(status, why, cap);
	if (p->fd >= 0)
		close(p->fd);
	p->pid = 0;
	p->fd = -1;
}

void scr_kill(struct scr_proc *p)
{
	if (p->pid > 0)
		finish(p, NULL, 0);
}

void scr_reap(struct scr_proc *p, char *why, size_t cap)
{
	if (p->pid <= 0)
		return;
	/* it closed its stdout: most likely it is exiting; give it a second to
	 * say how before killing it */
	exited_within(p->pid, 1000);
	finish(p, why, cap);
}

void scr_close(struct scr_proc *p, int grace_ms)
{
	if (p->pid <= 0)
		return;
	shutdown(p->fd, SHUT_WR); /* EOF on its stdin: the end of the run */
	exited_within(p->pid, grace_ms);
	finish(p, NULL, 0);
}
