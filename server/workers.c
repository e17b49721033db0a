#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

static pthread_mutex_t workers_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_cv = PTHREAD_COND_INITIALIZER;
static struct work *workers_head, **workers_tail = &workers_head;
static pthread_t *workers_threads;
static unsigned workers_n;
static bool workers_on, workers_ending;

static void *workers_main(void *arg)
{
	struct work *w;

	(void)arg;
	pthread_mutex_lock(&workers_mu);
	for (;;) {
		while (!workers_head && !workers_ending)
			pthread_cond_wait(&workers_cv, &workers_mu);
		w = workers_head;
		if (!w)
			break; /* ending, and nothing left */
		workers_head = w->next;
		if (!workers_head)
			workers_tail = &workers_head;
		pthread_mutex_unlock(&workers_mu);
		w->run(w);
		pthread_mutex_lock(&workers_mu);
	}
	pthread_mutex_unlock(&workers_mu);
	return NULL;
}

int workers_start(unsigned n)
{
	int r = 0;

	workers_threads = calloc(n, sizeof(*workers_threads));
	if (!workers_threads)
		return -ENOMEM;
	workers_ending = false;
	for (workers_n = 0; workers_n < n; workers_n++) {
		r = pthread_create(&workers_threads[workers_n], NULL,
				   workers_main, NULL);
		if (r)
			break;
	}
	workers_on = workers_n > 0;
	return workers_on ? 0 : -r;
}

bool workers_push(struct work *w)
{
	pthread_mutex_lock(&workers_mu);
	if (!workers_on || workers_ending) {
		pthread_mutex_unlock(&workers_mu);
		return false;
	}
	w->next = NULL;
	*workers_tail = w;
	workers_tail = &w->next;
	pthread_cond_signal(&workers_cv);
	pthread_mutex_unlock(&workers_mu);
	return true;
}

void workers_stop(void)
{
	pthread_mutex_lock(&workers_mu);
	workers_ending = true;
	pthread_cond_broadcast(&workers_cv);
	pthread_mutex_unlock(&workers_mu);
	for (unsigned i = 0; i < workers_n; i++)
		pthread_join(workers_threads[i], NULL);
	free(workers_threads);
	workers_threads = NULL;
	workers_n = 0;
	workers_on = false;
}
