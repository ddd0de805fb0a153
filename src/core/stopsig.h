/* stopsig.h: SIGINT, SIGTERM and SIGHUP as a request to stop a run.
 *
 * `run` installs the handler before the run folder's manifest first says
 * "running" and keeps it until the final manifest and the summaries are
 * written, so a signal at any moment in between (preparation, the engine,
 * the end) ends the run as "interrupted" with its results kept, instead of
 * killing the process and leaving a manifest that says "running" for ever.
 * CI cancellation and `docker stop` send SIGTERM, a closed terminal SIGHUP.
 *
 * The handler sets a flag and writes one byte to the wake-up descriptor
 * when one is set (the engine's self-pipe, which its event loop polls).
 * Installs nest: only the outermost stopsig_install saves the previous
 * handlers and clears the flag, and only the matching stopsig_restore puts
 * them back. Not thread-safe to install from two threads; the flag may be
 * read from any thread.
 */
#ifndef SE_STOPSIG_H
#define SE_STOPSIG_H

#include <stdbool.h>

void stopsig_install(void);
void stopsig_restore(void);

/* Whether a stop signal arrived since the outermost install. */
bool stopsig_raised(void);

/* The descriptor the handler writes a byte to (non-blocking), or -1. */
void stopsig_set_wake_fd(int fd);

#endif
