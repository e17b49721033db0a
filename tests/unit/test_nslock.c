/* Unit tests of base/nslock.c, the namespace locks of mutations: which
 * stripes a set of names takes, that a stripe sorting before a held one makes
 * the caller let go and take everything again (and says so), and that
 * threads taking overlapping sets in every order never wait in a circle,
 * and that a wait for a stripe another thread keeps is bounded. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/nslock.h"

#include "check.h"

static int popcount(uint64_t x)
{
	return __builtin_popcountll(x);
}

static void test_sets(void)
{
	const char *one[] = { "blue" };
	const char *same[] = { "blue", NULL, "blue" };
	const char *none[] = { NULL, NULL };
	uint64_t held = 0, first;

	CHECK(nslock_acquire(&held, none, 2) == 0 && held == 0);
	CHECK(nslock_acquire(&held, one, 1) == 0 && popcount(held) == 1);
	first = held;
	/* Held already: nothing to take, nothing to look at again. */
	CHECK(nslock_acquire(&held, same, 3) == 0 && held == first);
	nslock_release(&held);
	CHECK(held == 0);
	/* Released: another thread could take it now; so can we. */
	CHECK(nslock_acquire(&held, one, 1) == 0 && held == first);
	nslock_release(&held);
}

static void test_order(void)
{
	char x[16], y[16];
	uint64_t hx = 0, hy = 0, held = 0;
	const char *nx[1], *ny[1], *both[2];

	/* Two names on different stripes, and which stripe each is. */
	snprintf(x, sizeof(x), "a");
	for (int i = 0;; i++) {
		snprintf(y, sizeof(y), "b%d", i);
		nx[0] = x;
		ny[0] = y;
		hx = hy = 0;
		nslock_acquire(&hx, nx, 1);
		{
			uint64_t kx = hx;

			nslock_release(&hx);
			hx = kx;
		}
		nslock_acquire(&hy, ny, 1);
		{
			uint64_t ky = hy;

			nslock_release(&hy);
			hy = ky;
		}
		if (hx != hy)
			break;
	}
	/* Take the higher stripe first, then the lower: everything is let go
	 * and taken again, and the caller is told. */
	nx[0] = hx > hy ? x : y;
	ny[0] = hx > hy ? y : x;
	CHECK(nslock_acquire(&held, nx, 1) == 0);
	CHECK(nslock_acquire(&held, ny, 1) == 1);
	CHECK(held == (hx | hy));
	nslock_release(&held);
	/* The lower first, then the higher: in order, nothing let go. */
	CHECK(nslock_acquire(&held, ny, 1) == 0);
	CHECK(nslock_acquire(&held, nx, 1) == 0);
	CHECK(held == (hx | hy));
	nslock_release(&held);
	both[0] = x;
	both[1] = y;
	CHECK(nslock_acquire(&held, both, 2) == 0 && held == (hx | hy));
	nslock_release(&held);
}

static int counter; /* guarded by the stripe of "shared" */

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	char mine[16], other[16];

	for (int i = 0; i < 20000; i++) {
		const char *first[1], *second[2];
		uint64_t held = 0;

		snprintf(mine, sizeof(mine), "t%d-%d", id, i % 7);
		snprintf(other, sizeof(other), "t%d-%d", 1 - id, i % 5);
		/* Each thread takes its names in its own order. */
		first[0] = id ? other : mine;
		second[0] = id ? mine : other;
		second[1] = "shared";
		nslock_acquire(&held, first, 1);
		nslock_acquire(&held, second, 2);
		counter++;
		nslock_release(&held);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[2];

	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(counter == 40000);
}

static void *holder(void *arg)
{
	const char *names[] = { "held-elsewhere", "other" };
	uint64_t held = 0;

	nslock_acquire(&held, names, 2);
	pthread_barrier_wait(arg); /* taken */
	pthread_barrier_wait(arg); /* the other thread has given up */
	nslock_release(&held);
	return NULL;
}

/* A stripe another thread keeps is waited for up to the bound, then given
 * up: -ETIMEDOUT, and the caller holds nothing, not even what it held. */
static void test_wait_bound(void)
{
	const char *mine[] = { "mine" }, *busy[] = { "held-elsewhere" };
	pthread_barrier_t b;
	struct timespec t0, t1;
	uint64_t held = 0;
	pthread_t t;
	double secs;

	pthread_barrier_init(&b, NULL, 2);
	pthread_create(&t, NULL, holder, &b);
	pthread_barrier_wait(&b);
	nslock_set_wait(1);
	CHECK(nslock_acquire(&held, mine, 1) == 0 && held);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(nslock_acquire(&held, busy, 1) == -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(secs > 0.9 && secs < 3);
	CHECK(held == 0);
	/* "mine" was let go: taken again at once. */
	CHECK(nslock_acquire(&held, mine, 1) == 0);
	nslock_release(&held);
	pthread_barrier_wait(&b);
	pthread_join(t, NULL);
	/* Free again: taken, no wait. */
	CHECK(nslock_acquire(&held, busy, 1) == 0);
	nslock_release(&held);
	nslock_set_wait(0);
	pthread_barrier_destroy(&b);
}

int main(void)
{
	test_sets();
	test_order();
	test_threads();
	test_wait_bound();
	return check_report();
}
