#include "nslock.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

static pthread_mutex_t nslock_stripes[NSLOCK_STRIPES] = {
	[0 ... NSLOCK_STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER
};

static unsigned nslock_stripe(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h % NSLOCK_STRIPES;
}

static unsigned nslock_wait_s;

void nslock_set_wait(unsigned seconds)
{
	nslock_wait_s = seconds;
}

/* Takes the stripes of `set` in order, each by the same deadline; on a
 * timeout lets go of those it took and returns -ETIMEDOUT. */
static int nslock_take(uint64_t set)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)nslock_wait_s;
	for (unsigned i = 0; i < NSLOCK_STRIPES; i++) {
		pthread_mutex_t *mu = &nslock_stripes[i];
		int r;

		if (!(set & (1ull << i)))
			continue;
		r = nslock_wait_s ? pthread_mutex_clocklock(mu, CLOCK_MONOTONIC,
							    &deadline)
				  : pthread_mutex_lock(mu);
		if (r) {
			uint64_t taken = set & ((1ull << i) - 1);

			nslock_release(&taken);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

int nslock_acquire(uint64_t *held, const char *const names[], size_t n)
{
	uint64_t want = 0, more;

	for (size_t i = 0; i < n; i++)
		if (names[i])
			want |= 1ull << nslock_stripe(names[i]);
	more = want & ~*held;
	if (!more)
		return 0;
	/* Only stripes above every one held keep the order. */
	if (*held && (more & ((2ull << (63 - __builtin_clzll(*held))) - 1))) {
		uint64_t all = *held | want;

		nslock_release(held);
		if (nslock_take(all) < 0)
			return -ETIMEDOUT;
		*held = all;
		return 1;
	}
	if (nslock_take(more) < 0) {
		nslock_release(held);
		return -ETIMEDOUT;
	}
	*held |= more;
	return 0;
}

void nslock_release(uint64_t *held)
{
	for (unsigned i = 0; i < NSLOCK_STRIPES; i++)
		if (*held & (1ull << i))
			pthread_mutex_unlock(&nslock_stripes[i]);
	*held = 0;
}
