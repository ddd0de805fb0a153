/* simproc.h: start and stop a shadowsim process from a test.
 *
 * simproc_start forks and execs "$SE_BIN_DIR/shadowsim" (SE_BIN_DIR is
 * exported by the Makefile; "build/asan/bin" when unset) with
 * "--port 0 --profiles PROFILES [--eval EVAL] [extra args...]", waits (at
 * most 120 s: a sanitized shadowsim loading a large eval on a busy machine
 * can take tens of seconds) for its one stdout line "listening on 127.0.0.1:PORT" and
 * fills port and base_url. The child's stderr is the test's stderr, so a
 * sanitizer report or a load error shows up in the test output. The child
 * gets SIGTERM if the test process dies first (PR_SET_PDEATHSIG), so a
 * crashed or timed-out test leaves no server behind.
 *
 * simproc_stop sends SIGTERM, waits up to 10 s, then SIGKILL; it returns the
 * child's exit status (0 for a clean shutdown, 2 for bad input, -1 when it
 * had to be killed or died by a signal). Calling it twice, or on a simproc
 * whose start failed, is safe.
 *
 * Not thread-safe; one struct per server. Nothing to free besides stop.
 */
#ifndef SE_SIMPROC_H
#define SE_SIMPROC_H

#include <sys/types.h>

struct simproc {
	pid_t pid;	   /* 0 when not running */
	int port;	   /* the port shadowsim picked */
	char base_url[64]; /* "http://127.0.0.1:PORT/v1" */
	int status;	   /* exit status once stopped, or of a failed start */
	char error[256];   /* why simproc_start failed ("" otherwise) */
	/* private */
	int out_fd;
};

/* extra_args: NULL-terminated list appended to the command line, or NULL.
 * eval: NULL for none. Returns 0, or -1 with sp->error set (and the child
 * reaped: a shadowsim that exited with a load error has sp->status 2). */
int simproc_start(struct simproc *sp, const char *profiles, const char *eval,
		  const char *const *extra_args);

/* Stops the server (see above) and returns its exit status. */
int simproc_stop(struct simproc *sp);

#endif
