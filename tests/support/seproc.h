/* seproc.h: run the shadoweval binary under test from an e2e test, its
 * stdout and stderr captured to files in the test's folder.
 *
 * seproc_start forks and execs "$SE_BIN_DIR/shadoweval" (test_bin_dir())
 * with args (NULL-terminated, after "shadoweval") and returns at once, so a
 * test can act while it runs (send a signal, wait for a line in a file);
 * seproc_finish waits for it and collects its exit status and output.
 * seproc_run is both. Each call writes new stdout.N and stderr.N files in
 * dir, so the output of every run of a test stays there to read.
 */
#ifndef SE_TEST_SEPROC_H
#define SE_TEST_SEPROC_H

#include <sys/types.h>

/* A shadoweval child started by seproc_start, finished by seproc_finish. */
struct se_child {
	pid_t pid;
	char outp[512], errp[512];
};

struct proc_out {
	int status; /* exit code, or 128+signal */
	char *out;  /* never NULL ("" when nothing was written) */
	char *err;
};

void seproc_start(struct se_child *c, const char *dir, const char *const *args);
struct proc_out seproc_finish(struct se_child *c);
struct proc_out seproc_run(const char *dir, const char *const *args);
void proc_out_free(struct proc_out *p);

#endif
