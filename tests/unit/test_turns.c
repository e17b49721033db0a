/* Unit tests of base/turns.c, the order in which the API's changes are
 * told: a turn waits for every earlier one that shares one of its lock
 * stripes, and for no other; one that ends early is passed once those
 * before it end; a wait is bounded when an earlier turn never ends, and
 * one never ended is let go once the window has passed it. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/turns.h"

#include "check.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define TURNS 200

/* Threads take turns in one order and end them in another; what each
 * one's wait lets through is written in the order it was let through. */
static uint64_t order[TURNS];
static int n_order;
static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;

struct taker {
	uint64_t turn;
};

static void *take_turn(void *arg)
{
	struct taker *t = arg;
	struct timespec nap = { 0, (long)(t->turn * 7919 % 1000) * 1000 };

	/* Later turns often arrive first. */
	nanosleep(&nap, NULL);
	turn_wait(t->turn, 10000);
	pthread_mutex_lock(&order_mu);
	order[n_order++] = t->turn;
	pthread_mutex_unlock(&order_mu);
	turn_done(t->turn);
	return NULL;
}

static void test_in_order(void)
{
	pthread_t th[TURNS];
	struct taker tk[TURNS];
	uint64_t first = turn_take(1);
	bool sorted = true;

	turn_done(first);
	for (int i = 0; i < TURNS; i++)
		tk[i].turn = turn_take(1);
	for (int i = TURNS - 1; i >= 0; i--)
		pthread_create(&th[i], NULL, take_turn, &tk[i]);
	for (int i = 0; i < TURNS; i++)
		pthread_join(th[i], NULL);
	CHECK(n_order == TURNS);
	for (int i = 1; i < n_order; i++)
		sorted = sorted && order[i] == order[i - 1] + 1;
	CHECK(sorted);
}

static void test_bounded(void)
{
	uint64_t stuck = turn_take(1), next = turn_take(1), after;
	double t0 = now_s(), took;

	/* `stuck` never ends in time: `next` waits its bound, no more. */
	turn_wait(next, 200);
	took = now_s() - t0;
	CHECK(took >= 0.19 && took < 2.0);
	turn_done(next);
	/* `next` ended before `stuck`: the turn after them waits for
	 * `stuck` still, then passes at once when it ends. */
	after = turn_take(1);
	t0 = now_s();
	turn_wait(after, 100);
	CHECK(now_s() - t0 >= 0.09);
	turn_done(stuck);
	t0 = now_s();
	turn_wait(after, 5000);
	CHECK(now_s() - t0 < 1.0);
	turn_done(after);
}

static void test_other_stripes(void)
{
	uint64_t stuck = turn_take(1 << 3), other, shared, alone;
	double t0;

	/* A turn of other stripes does not wait for a slow one... */
	other = turn_take(1 << 4);
	t0 = now_s();
	turn_wait(other, 5000);
	CHECK(now_s() - t0 < 1.0);
	turn_done(other);
	/* ... one that shares a stripe does, and so does one of a request
	 * that ran alone (every stripe). */
	shared = turn_take((1 << 3) | (1 << 5));
	alone = turn_take(~(uint64_t)0);
	t0 = now_s();
	turn_wait(shared, 100);
	turn_wait(alone, 100);
	CHECK(now_s() - t0 >= 0.18);
	turn_done(stuck);
	t0 = now_s();
	turn_wait(shared, 5000);
	turn_done(shared);
	turn_wait(alone, 5000);
	turn_done(alone);
	CHECK(now_s() - t0 < 1.0);
}

static void test_window_full(void)
{
	uint64_t lost = turn_take(1), t;
	double t0;

	/* A turn never ended is let go once the window has gone past it:
	 * the turns after do not wait for it. */
	for (int i = 0; i < 1100; i++) {
		t = turn_take(1);
		turn_done(t);
	}
	t = turn_take(1);
	t0 = now_s();
	turn_wait(t, 5000);
	CHECK(now_s() - t0 < 1.0);
	turn_done(t);
	turn_done(lost); /* late: ignored */
	t = turn_take(1);
	t0 = now_s();
	turn_wait(t, 5000);
	CHECK(now_s() - t0 < 1.0);
	turn_done(t);
}

int main(void)
{
	test_in_order();
	test_bounded();
	test_other_stripes();
	test_window_full();
	return check_report();
}
