/* stopsig.c: the stop-signal handler of a run; see stopsig.h. */
#include "core/stopsig.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const int stop_sigs[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGS (sizeof(stop_sigs) / sizeof(stop_sigs[0]))

/* What the handler may touch, and the handlers to put back. */
static volatile sig_atomic_t raised;
static volatile sig_atomic_t wake_fd = -1;
static struct sigaction saved[N_SIGS];
static int depth;

static void on_stop(int sig)
{
	(void)sig;
	int e = errno;
	raised = 1;
	int fd = wake_fd;
	if (fd >= 0) {
		ssize_t r = write(fd, "x", 1);
		(void)r;
	}
	errno = e;
}

void stopsig_install(void)
{
	if (depth++ > 0)
		return;
	raised = 0;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < N_SIGS; i++)
		sigaction(stop_sigs[i], &sa, &saved[i]);
}

void stopsig_restore(void)
{
	if (depth == 0 || --depth > 0)
		return;
	for (size_t i = 0; i < N_SIGS; i++)
		sigaction(stop_sigs[i], &saved[i], NULL);
	wake_fd = -1;
}

bool stopsig_raised(void)
{
	return raised != 0;
}

void stopsig_set_wake_fd(int fd)
{
	wake_fd = fd;
}
