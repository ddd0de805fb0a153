/* wakefd.c: an eventfd as a wake-up between threads (see wakefd.h). */
#include "core/wakefd.h"

#include <stdint.h>
#include <unistd.h>

void wakefd_signal(int fd)
{
	uint64_t one = 1;
	ssize_t r = write(fd, &one, sizeof(one));
	(void)r;
}

void wakefd_drain(int fd)
{
	uint64_t v;
	ssize_t r = read(fd, &v, sizeof(v));
	(void)r;
}
