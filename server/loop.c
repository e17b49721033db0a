#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

static int loop_sigfd = -1, loop_wakefd = -1, loop_extrafd = -1;

int loop_init(const sigset_t *stop)
{
	loop_sigfd = signalfd(-1, stop, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop_sigfd < 0)
		return -errno;
	loop_wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop_wakefd < 0) {
		close(loop_sigfd);
		loop_sigfd = -1;
		return -errno;
	}
	return 0;
}

int loop_wait(long ms)
{
	struct pollfd p[3] = { { .fd = loop_sigfd, .events = POLLIN },
			       { .fd = loop_wakefd, .events = POLLIN },
			       { .fd = loop_extrafd, .events = POLLIN } };
	struct signalfd_siginfo si;
	uint64_t v;

	if (ms > INT32_MAX)
		ms = INT32_MAX;
	/* A negative fd is left out by poll(). */
	if (poll(p, 3, (int)ms) < 0)
		return errno == EINTR ? 0 : -errno;
	if (p[1].revents & POLLIN)
		(void)!read(loop_wakefd, &v, sizeof(v));
	if ((p[0].revents & POLLIN) &&
	    read(loop_sigfd, &si, sizeof(si)) == sizeof(si))
		return (int)si.ssi_signo;
	return 0;
}

void loop_wake(void)
{
	uint64_t one = 1;

	/* Not set up (a unit test): there is no loop to wake. A full
	 * counter (EAGAIN) is a wake-up pending already. */
	if (loop_wakefd >= 0)
		(void)!write(loop_wakefd, &one, sizeof(one));
}

void loop_watch(int fd)
{
	loop_extrafd = fd;
}
