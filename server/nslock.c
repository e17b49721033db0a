#include "nslock.h"

#include <pthread.h>

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

static void nslock_take(uint64_t set)
{
	for (unsigned i = 0; i < NSLOCK_STRIPES; i++)
		if (set & (1ull << i))
			pthread_mutex_lock(&nslock_stripes[i]);
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
		nslock_take(all);
		*held = all;
		return 1;
	}
	nslock_take(more);
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
