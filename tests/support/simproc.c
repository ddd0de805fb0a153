/* simproc.c: a test helper that runs shadowsim as a child process; see
 * simproc.h. It only forks, execs, reads one line and signals: it knows
 * nothing about HTTP (tests bring their own client). */
#include "simproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Bounds on waiting for events (the listening line, the exit), not sleeps:
 * a healthy start takes well under a second, but a sanitized shadowsim
 * hashing a 40,000-item eval on a loaded 2-core machine took over 20 s. */
#define SIMPROC_START_MS 120000
#define SIMPROC_STOP_MS 10000
#define SIMPROC_MAX_ARGS 64

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits for the child for at most ms; returns its status code or -2 if it
 * is still running. */
static int wait_child(pid_t pid, long ms)
{
	long deadline = now_ms() + ms;
	for (;;) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			return -2;
		usleep(10000);
	}
}

static void child_exec(int out_w, char **argv)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (dup2(out_w, STDOUT_FILENO) < 0)
		_exit(127);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	/* Do not hold the test runner's pipes open after a crash. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	execv(argv[0], argv);
	fprintf(stderr, "simproc: cannot run \"%s\": %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reads until a newline or the deadline; returns the line length or -1. */
static int read_line(int fd, char *line, size_t size, long deadline)
{
	size_t len = 0;
	while (len + 1 < size) {
		long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = read(fd, line + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (line[len] == '\n') {
			line[len] = '\0';
			return (int)len;
		}
		len++;
	}
	return -1;
}

int simproc_start(struct simproc *sp, const char *profiles, const char *eval,
		  const char *const *extra_args)
{
	memset(sp, 0, sizeof(*sp));
	sp->out_fd = -1;

	const char *dir = getenv("SE_BIN_DIR");
	if (!dir || !*dir)
		dir = "build/asan/bin";
	char exe[1024];
	snprintf(exe, sizeof(exe), "%s/shadowsim", dir);

	char *argv[SIMPROC_MAX_ARGS];
	size_t n = 0;
	argv[n++] = exe;
	argv[n++] = (char *)"--port";
	argv[n++] = (char *)"0";
	argv[n++] = (char *)"--profiles";
	argv[n++] = (char *)profiles;
	if (eval) {
		argv[n++] = (char *)"--eval";
		argv[n++] = (char *)eval;
	}
	for (size_t i = 0; extra_args && extra_args[i]; i++) {
		if (n + 1 >= SIMPROC_MAX_ARGS) {
			snprintf(sp->error, sizeof(sp->error), "too many arguments");
			return -1;
		}
		argv[n++] = (char *)extra_args[i];
	}
	argv[n] = NULL;

	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(sp->error, sizeof(sp->error), "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(sp->error, sizeof(sp->error), "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child_exec(fds[1], argv);
	close(fds[1]);
	sp->pid = pid;
	sp->out_fd = fds[0];

	char line[256];
	if (read_line(sp->out_fd, line, sizeof(line), now_ms() + SIMPROC_START_MS) < 0) {
		simproc_stop(sp);
		snprintf(sp->error, sizeof(sp->error),
			 "shadowsim \"%.180s\" printed no listening line (exit status %d)", exe,
			 sp->status);
		return -1;
	}
	const char *colon = strrchr(line, ':');
	int port = colon ? atoi(colon + 1) : 0;
	if (strncmp(line, "listening on ", 13) != 0 || port <= 0 || port > 65535) {
		simproc_stop(sp);
		snprintf(sp->error, sizeof(sp->error), "unexpected first line \"%.200s\"", line);
		return -1;
	}
	sp->port = port;
	snprintf(sp->base_url, sizeof(sp->base_url), "http://127.0.0.1:%d/v1", port);
	return 0;
}

int simproc_stop(struct simproc *sp)
{
	if (sp->pid > 0) {
		kill(sp->pid, SIGTERM);
		int st = wait_child(sp->pid, SIMPROC_STOP_MS);
		if (st == -2) {
			kill(sp->pid, SIGKILL);
			st = wait_child(sp->pid, SIMPROC_STOP_MS);
			st = -1;
		}
		sp->status = st;
		sp->pid = 0;
	}
	if (sp->out_fd >= 0) {
		close(sp->out_fd);
		sp->out_fd = -1;
	}
	return sp->status;
}
