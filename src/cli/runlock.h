/* runlock.h: DIR/run.lock, one writer per run folder.
 *
 * Every command that writes into a run folder holds an exclusive flock on
 * DIR/run.lock while it writes: run (the whole run), summarize (its CSVs),
 * sweep (its CSVs and recommended.json), report (DIR/report.html, and
 * the summaries it writes when one is missing or re-corrects, even with -o
 * elsewhere) and merge (its OUT folder).
 * A second writer is refused at once (never waits), naming the command and
 * pid that hold the folder. The lock ends with its process however it ends,
 * so a leftover file blocks nothing. Commands that only read a folder
 * (check, diff) take no lock: every file a writer replaces is renamed
 * into place whole.
 */
#ifndef SE_CLI_RUNLOCK_H
#define SE_CLI_RUNLOCK_H

#include <stddef.h>

#include "core/err.h"

/* Takes DIR/run.lock for command (e.g. "summarize") for the rest of the
 * process or until run_lock_release, writing "PID COMMAND" in it, and keeps
 * reserve bytes allocated in it (0: none). *fd is the lock's descriptor;
 * -1 with err (SE_INPUT when another process holds it). */
int run_lock_take(const char *dir, const char *command, size_t reserve, int *fd,
		  struct se_err *err);

/* run_lock_take for a command that writes into an existing folder after
 * reading it (summarize, sweep, report): a folder that does not exist or
 * cannot hold the lock file (read-only, not ours) is left to the command,
 * whose own read or write then fails with its usual message; *fd is -1. */
int run_lock_existing(const char *dir, const char *command, int *fd, struct se_err *err);

/* Frees the lock's reserve, keeping its first line; -1 when it cannot. */
int run_lock_drop_reserve(int fd);

/* Releases the lock (closes fd; -1 is ignored). */
void run_lock_release(int fd);

#endif
