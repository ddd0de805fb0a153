/* wakefd.h: an eventfd used as a wake-up between threads. One write of 1
 * makes it readable; one read takes every wake-up signalled since (the
 * eventfd is a counter, so nothing is lost and nothing blocks).
 *
 * The fd is the caller's (eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)); these
 * only write and read it. Errors are ignored on purpose: the counter cannot
 * overflow at one write per wake-up, and a read that finds nothing
 * (EAGAIN) means nothing was signalled.
 */
#ifndef SE_CORE_WAKEFD_H
#define SE_CORE_WAKEFD_H

/* Makes fd readable. */
void wakefd_signal(int fd);
/* Takes every pending wake-up of fd. */
void wakefd_drain(int fd);

#endif
