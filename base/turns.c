#include "turns.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv;
static pthread_once_t turn_once = PTHREAD_ONCE_INIT;
/* Turns handed out, and the first turn not done yet. Turns end out of
 * order only past turn_wait's bound: `done` marks the ends that came
 * early in a small window, so that `next_done` can pass them later. */
#define TURN_WINDOW 64
static uint64_t turn_next, next_done;
static bool done[TURN_WINDOW];

static void turn_init(void)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&turn_cv, &a);
	pthread_condattr_destroy(&a);
}

uint64_t turn_take(void)
{
	uint64_t t;

	pthread_once(&turn_once, turn_init);
	pthread_mutex_lock(&turn_mu);
	t = turn_next++;
	pthread_mutex_unlock(&turn_mu);
	return t;
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
	while (next_done < turn &&
	       pthread_cond_timedwait(&turn_cv, &turn_mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&turn_mu);
}

void turn_done(uint64_t turn)
{
	pthread_mutex_lock(&turn_mu);
	if (turn >= next_done && turn - next_done < TURN_WINDOW)
		done[turn % TURN_WINDOW] = true;
	/* An end further ahead than the window: the turns before it are all
	 * past their bound by then, and are let go. */
	else if (turn >= next_done) {
		memset(done, 0, sizeof(done));
		next_done = turn + 1;
	}
	while (done[next_done % TURN_WINDOW]) {
		done[next_done % TURN_WINDOW] = false;
		next_done++;
	}
	pthread_cond_broadcast(&turn_cv);
	pthread_mutex_unlock(&turn_mu);
}
