#include "autoheal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "converge.h"
#include "http.h"
#include "loop.h"
#include "../base/log.h"

/* A drift seen is repaired this long after, so that the notifications of
 * one change (a link's several attributes) make one run. */
#define AUTOHEAL_DEBOUNCE_MS 100
/* An object repaired again within AUTOHEAL_FLAP_MS waits twice as long as
 * the time before, from AUTOHEAL_BACKOFF_MIN_MS up to AUTOHEAL_BACKOFF_MAX_MS;
 * one left alone that long starts again from nothing. */
#define AUTOHEAL_BACKOFF_MIN_MS 500
#define AUTOHEAL_BACKOFF_MAX_MS 60000
#define AUTOHEAL_FLAP_MS	10000
/* Runs are at least this far apart: at most 5 a second. */
#define AUTOHEAL_GAP_MS 200
/* Objects remembered for their backoff; the oldest is forgotten first. */
#define AUTOHEAL_OBJECTS 512

struct autoheal_obj {
	char key[160];	    /* "<ns> <name>", "" when free */
	int64_t last_ms;    /* when it was last noted */
	int64_t backoff_ms; /* 0: repaired at once */
};

static pthread_mutex_t autoheal_mu = PTHREAD_MUTEX_INITIALIZER;
static bool autoheal_enabled;
static struct autoheal_obj autoheal_objs[AUTOHEAL_OBJECTS];
static int64_t autoheal_due_ms = -1; /* the next run, or -1 */
static int64_t autoheal_last_run_ms = -1000000;
static uint64_t autoheal_repairs, autoheal_deferred;

static int64_t autoheal_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void autoheal_set(bool on)
{
	autoheal_enabled = on;
}

bool autoheal_on(void)
{
	return autoheal_enabled;
}

/* The object's slot: found, or the free or oldest one taken. */
static struct autoheal_obj *autoheal_slot(const char *key)
{
	struct autoheal_obj *oldest = &autoheal_objs[0];

	for (size_t i = 0; i < AUTOHEAL_OBJECTS; i++) {
		struct autoheal_obj *o = &autoheal_objs[i];

		if (!strcmp(o->key, key))
			return o;
		if (!*o->key || o->last_ms < oldest->last_ms)
			oldest = o;
	}
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	return oldest;
}

void autoheal_note(const char *ns, const char *name)
{
	int64_t now = autoheal_now_ms(), due;
	struct autoheal_obj *o;
	char key[160];
	bool wake;

	if (!autoheal_enabled)
		return;
	snprintf(key, sizeof(key), "%s %s", ns, name);
	pthread_mutex_lock(&autoheal_mu);
	o = autoheal_slot(key);
	if (o->last_ms && now - o->last_ms < AUTOHEAL_FLAP_MS) {
		o->backoff_ms = o->backoff_ms ? o->backoff_ms * 2
					      : AUTOHEAL_BACKOFF_MIN_MS;
		if (o->backoff_ms > AUTOHEAL_BACKOFF_MAX_MS)
			o->backoff_ms = AUTOHEAL_BACKOFF_MAX_MS;
		autoheal_deferred++;
	} else {
		o->backoff_ms = 0;
	}
	o->last_ms = now;
	due = now + AUTOHEAL_DEBOUNCE_MS + o->backoff_ms;
	wake = autoheal_due_ms < 0 || due < autoheal_due_ms;
	if (wake)
		autoheal_due_ms = due;
	pthread_mutex_unlock(&autoheal_mu);
	/* The run is the main loop's, which sleeps until its next deadline:
	 * an earlier one is news to it. */
	if (wake)
		loop_wake();
}

long autoheal_wait_ms(void)
{
	int64_t due, now = autoheal_now_ms();

	pthread_mutex_lock(&autoheal_mu);
	due = autoheal_due_ms;
	if (due >= 0 && due < autoheal_last_run_ms + AUTOHEAL_GAP_MS)
		due = autoheal_last_run_ms + AUTOHEAL_GAP_MS;
	pthread_mutex_unlock(&autoheal_mu);
	if (due < 0)
		return -1;
	return due <= now ? 0 : (long)(due - now);
}

void autoheal_tick(struct store *store)
{
	json_t *report;
	size_t n;

	if (!autoheal_enabled || autoheal_wait_ms() != 0)
		return;
	pthread_mutex_lock(&autoheal_mu);
	autoheal_due_ms = -1;
	autoheal_last_run_ms = autoheal_now_ms();
	pthread_mutex_unlock(&autoheal_mu);
	http_mutations_lock();
	report = converge_run(store, CONVERGE_AUTO);
	http_mutations_unlock();
	n = json_array_size(json_object_get(report, "actions"));
	pthread_mutex_lock(&autoheal_mu);
	autoheal_repairs += n;
	pthread_mutex_unlock(&autoheal_mu);
	if (n)
		log_info("self-healing: repaired %zu drift%s", n,
			 n == 1 ? "" : "s");
	json_decref(report);
}

void autoheal_counts(uint64_t *ret_repairs, uint64_t *ret_deferred)
{
	pthread_mutex_lock(&autoheal_mu);
	*ret_repairs = autoheal_repairs;
	*ret_deferred = autoheal_deferred;
	pthread_mutex_unlock(&autoheal_mu);
}
