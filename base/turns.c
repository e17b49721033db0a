#include "turns.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv;
static pthread_once_t turn_once = PTHREAD_ONCE_INIT;

/* The turns not done yet are those from `oldest` to `next`, each in slot
 * turn % TURN_WINDOW with its stripes. Every request holds at most one
 * (the HTTP workers are at most 256, --threads), so the window is never
 * full unless a request never ends its turn; then the oldest are let go
 * (turn_take), and their late ends ignored. */
#define TURN_WINDOW 1024
struct turn_slot {
	uint64_t locks;
	bool done;
};
static struct turn_slot turn_slots[TURN_WINDOW];
static uint64_t turn_next, turn_oldest;

static void turn_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&turn_cv, &a);
	pthread_condattr_destroy(&a);
}

/* Past the turns done at the front. Under turn_mu. */
static void turn_advance(void)
{
	while (turn_oldest < turn_next &&
	       turn_slots[turn_oldest % TURN_WINDOW].done)
		turn_oldest++;
}

uint64_t turn_take(uint64_t locks)
{
	uint64_t t;

	pthread_once(&turn_once, turn_init);
	pthread_mutex_lock(&turn_mu);
	if (turn_next - turn_oldest >= TURN_WINDOW) {
		turn_oldest = turn_next - TURN_WINDOW + 1;
		turn_advance();
	}
	t = turn_next++;
	turn_slots[t % TURN_WINDOW] = (struct turn_slot){ locks, false };
	pthread_mutex_unlock(&turn_mu);
	return t;
}

/* Whether an earlier turn that shares a stripe with `turn` is not done.
 * Under turn_mu. */
static bool turn_blocked(uint64_t turn)
{
	uint64_t locks;

	if (turn < turn_oldest)
		return false;
	locks = turn_slots[turn % TURN_WINDOW].locks;
	for (uint64_t u = turn_oldest; u < turn; u++) {
		const struct turn_slot *s = &turn_slots[u % TURN_WINDOW];

		if (!s->done && (s->locks & locks))
			return true;
	}
	return false;
}

void turn_wait(uint64_t turn, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&turn_mu);
	while (turn_blocked(turn) &&
	       pthread_cond_timedwait(&turn_cv, &turn_mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&turn_mu);
}

void turn_done(uint64_t turn)
{
	pthread_mutex_lock(&turn_mu);
	if (turn >= turn_oldest && turn < turn_next) {
		turn_slots[turn % TURN_WINDOW].done = true;
		turn_advance();
	}
	pthread_cond_broadcast(&turn_cv);
	pthread_mutex_unlock(&turn_mu);
}
