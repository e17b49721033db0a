/* Group commit: commits append to the journal under the store's lock,
 * and one fdatasync at a time covers every record written before it, for
 * all the requests that wait. The syncer thread runs such a sync ahead of
 * the waits when asked (store_sync_begin), and where it runs is chosen
 * here. */
#include "store_impl.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Called with s->sync_mu held: `upto` and everything before it is on disk. */
static void store_synced_locked(struct store *s, uint64_t upto)
{
	if (upto > s->synced_seq)
		__atomic_store_n(&s->synced_seq, upto, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&s->synced);
}

void store_synced(struct store *s, uint64_t upto)
{
	pthread_mutex_lock(&s->sync_mu);
	store_synced_locked(s, upto);
	pthread_mutex_unlock(&s->sync_mu);
}

/* Called with s->sync_mu held, which it drops while it syncs. */
static void store_sync_locked(struct store *s, uint64_t target)
{
	uint64_t upto;
	int r;

	while (s->synced_seq < target) {
		if (s->syncing) {
			pthread_cond_wait(&s->synced, &s->sync_mu);
			continue;
		}
		/* Lead: one fdatasync covers every record written so far,
		 * while others keep appending behind it. */
		s->syncing = true;
		upto = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		pthread_mutex_unlock(&s->sync_mu);
		r = fdatasync(s->journal_fd);
		if (r < 0) {
			/* After a failed sync the page cache cannot be trusted
			 * to match the disk: stop, and let the restart read
			 * what is really there. */
			fprintf(stderr,
				"netnsd: fatal: cannot sync the journal: %s\n",
				strerror(errno));
			abort();
		}
		pthread_mutex_lock(&s->sync_mu);
		s->syncing = false;
		store_synced_locked(s, upto);
	}
}

static void *store_syncer(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->sync_mu);
	while (!s->stopping) {
		if (!s->sync_wanted) {
			s->syncer_asleep = true;
			pthread_cond_wait(&s->wanted, &s->sync_mu);
			s->syncer_asleep = false;
			continue;
		}
		s->sync_wanted = false;
		store_sync_locked(s,
				  __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE));
	}
	pthread_mutex_unlock(&s->sync_mu);
	return NULL;
}

/* With `elsewhere`, keeps the idle syncer off the CPU of the thread about
 * to wake it, when there is another; without, lets it use every CPU again.
 * That thread goes on into long kernel work (unshare); a syncer woken onto
 * the same CPU waits for that work to end (the kernel does not preempt
 * it), and the sync meant to run beside it runs after it instead. A
 * scheduler that knows which CPUs share a cache would move the syncer to
 * an idle one; VMs often do not tell it (a namespace's creation: 810 ->
 * 601 µs here). Not for short work: a veth's creation ends before its sync,
 * and the sync on the other CPU then costs two more cross-CPU wake-ups
 * (430 -> 550 µs of CPU a pair here). A hint only: on any failure the
 * syncer keeps the CPUs it had. Called with s->sync_mu held, while the
 * syncer sleeps in its wait for work: moving a thread that runs costs a
 * migration. */
static void store_syncer_place(struct store *s, bool elsewhere)
{
	cpu_set_t set = s->syncer_cpus;
	int cpu = elsewhere ? sched_getcpu() : -1;

	if (cpu == s->syncer_away_from || CPU_COUNT(&s->syncer_cpus) < 2)
		return;
	if (cpu >= 0) {
		if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set))
			return;
		CPU_CLR(cpu, &set);
	}
	if (pthread_setaffinity_np(s->syncer, sizeof(set), &set) == 0)
		s->syncer_away_from = cpu;
	else
		CPU_ZERO(&s->syncer_cpus); /* no more tries */
}

/* With `elsewhere` (the caller goes on into kernel work that outlasts a
 * sync: a namespace's creation), the sync is started on another CPU than
 * the caller's, where there is one; otherwise the scheduler places it,
 * which costs fewer cross-CPU wake-ups when the caller soon waits for the
 * sync anyway (see store_syncer_place). */
void store_sync_begin(struct store *s, bool elsewhere)
{
	uint64_t point = store_sync_point(s);

	pthread_mutex_lock(&s->sync_mu);
	/* Started on first use, so that it is born with the privileges of
	 * the threads that serve requests (after --user dropped them), and
	 * with their CPUs. */
	if (!s->has_syncer) {
		s->has_syncer =
			pthread_create(&s->syncer, NULL, store_syncer, s) == 0;
		s->syncer_away_from = -1;
		if (sched_getaffinity(0, sizeof(s->syncer_cpus),
				      &s->syncer_cpus) < 0)
			CPU_ZERO(&s->syncer_cpus);
	}
	if (s->synced_seq < point && s->has_syncer) {
		if (s->syncer_asleep)
			store_syncer_place(s, elsewhere);
		s->sync_wanted = true;
		pthread_cond_signal(&s->wanted);
	}
	pthread_mutex_unlock(&s->sync_mu);
}

void store_sync(struct store *s)
{
	store_sync_until(s, store_sync_point(s));
}

uint64_t store_sync_point(struct store *s)
{
	uint64_t point;

	store_locked_copy(s, &point, &s->needed_seq, sizeof(point));
	return point;
}

void store_sync_until(struct store *s, uint64_t point)
{
	/* Often covered already, by a sync that ran during the request. */
	if (__atomic_load_n(&s->synced_seq, __ATOMIC_ACQUIRE) >= point)
		return;
	pthread_mutex_lock(&s->sync_mu);
	store_sync_locked(s, point);
	pthread_mutex_unlock(&s->sync_mu);
}

void store_syncer_stop(struct store *s)
{
	if (!s->has_syncer)
		return;
	pthread_mutex_lock(&s->sync_mu);
	s->stopping = true;
	pthread_cond_signal(&s->wanted);
	pthread_mutex_unlock(&s->sync_mu);
	pthread_join(s->syncer, NULL);
}
