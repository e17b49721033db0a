#include "converge.h"
#include "watch.h"

#include <pthread.h>
#include <time.h>

#include "../netlink/sock.h"
#include "../state/reconcile.h"
#include "http.h"
#include "../base/log.h"
#include "loop.h"
#include "metrics.h"

/* Backoff of the retries: 50 ms, doubling, then every 5 s until the run
 * converges or only failures that will not pass are left. The kernel's
 * deferred teardown of a deleted namespace's links takes well under a
 * second, so the first few retries are the ones that matter. */
#define CONVERGE_FIRST_MS 50
#define CONVERGE_CAP_MS	  5000

static pthread_mutex_t converge_mu = PTHREAD_MUTEX_INITIALIZER;
static struct converge_status converge_st;
static struct timespec converge_started; /* end of the start-up run */
static struct timespec converge_due;	 /* of the next retry */
static long converge_delay_ms;		 /* 0: no retry scheduled */
static unsigned converge_retries;	 /* since the run that failed */

static long converge_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Ready once the start-up run is over and nothing is being retried, or
 * when the grace window is over: a failure that lasts is reported (in the
 * body and the metrics) rather than keeping the service out of rotation,
 * and readiness never flaps back. Called with converge_mu held. */
static void converge_update_ready(void)
{
	if (converge_st.ready || !converge_st.started)
		return;
	if (converge_st.pending == 0) {
		converge_st.ready = true;
		return;
	}
	if (converge_ms_since(&converge_started) >= CONVERGE_GRACE_S * 1000) {
		converge_st.ready = true;
		log_warn("the start-up reconcile has not converged after %d s: "
			 "ready all the same; %zu item(s) still retried every "
			 "%d s",
			 CONVERGE_GRACE_S, converge_st.pending,
			 CONVERGE_CAP_MS / 1000);
	}
}

static void converge_log(json_t *report, enum converge_origin origin)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(report, "actions"), i, v)
		log_info("reconcile: %s", json_string_value(v));
	json_array_foreach(json_object_get(report, "failures"), i, v) {
		bool transient = json_is_true(json_object_get(v, "transient"));

		/* A retry that fails again says so at debug level only: the
		 * first failure was a warning, and the end will be one. */
		log_msg(origin == CONVERGE_RETRY && transient ? LOG_LEVEL_DEBUG
							      : LOG_LEVEL_WARN,
			"reconcile: %s failed: %s%s",
			json_string_value(json_object_get(v, "object")),
			json_string_value(json_object_get(v, "error")),
			transient ? " (retrying)" : "");
	}
}

/* Schedules the next retry after a run. Called with converge_mu held. */
static void converge_schedule(enum converge_origin origin)
{
	if (origin == CONVERGE_RETRY)
		converge_retries++;
	if (converge_st.pending == 0) {
		if (converge_retries && converge_st.converged)
			log_info("reconcile converged after %u retr%s",
				 converge_retries,
				 converge_retries == 1 ? "y" : "ies");
		else if (converge_retries)
			log_warn("reconcile: retries stopped after %u: %zu "
				 "failure(s) will not pass by themselves",
				 converge_retries, converge_st.failures);
		converge_delay_ms = 0;
		converge_retries = 0;
		return;
	}
	if (origin == CONVERGE_RETRY) {
		converge_delay_ms *= 2;
		if (converge_delay_ms > CONVERGE_CAP_MS)
			converge_delay_ms = CONVERGE_CAP_MS;
	} else if (!converge_delay_ms) {
		converge_delay_ms = CONVERGE_FIRST_MS;
	}
	clock_gettime(CLOCK_MONOTONIC, &converge_due);
	converge_due.tv_sec += converge_delay_ms / 1000;
	converge_due.tv_nsec += (converge_delay_ms % 1000) * 1000000;
	if (converge_due.tv_nsec >= 1000000000) {
		converge_due.tv_sec++;
		converge_due.tv_nsec -= 1000000000;
	}
}

json_t *converge_run(struct store *store, enum converge_origin origin)
{
	json_t *report, *v;
	size_t i, n_act, n_fail, pending = 0;

	/* A run is one request to the kernel's eyes: it waits out a silent
	 * namespace once (netlink/sock.h). */
	nl_request_begin();
	watch_reconcile_begin();
	report = reconcile_run(store);
	watch_reconcile_end();

	converge_log(report, origin);
	n_act = json_array_size(json_object_get(report, "actions"));
	n_fail = json_array_size(json_object_get(report, "failures"));
	json_array_foreach(json_object_get(report, "failures"), i, v)
		pending += json_is_true(json_object_get(v, "transient"));
	metrics_reconcile(n_act, n_fail);

	pthread_mutex_lock(&converge_mu);
	converge_st.converged = n_fail == 0;
	converge_st.failures = n_fail;
	converge_st.pending = pending;
	if (origin == CONVERGE_STARTUP) {
		converge_st.started = true;
		clock_gettime(CLOCK_MONOTONIC, &converge_started);
		log_info("start-up reconcile: %zu actions, %zu failures "
			 "(%zu retried)",
			 n_act, n_fail, pending);
	}
	converge_schedule(origin);
	converge_update_ready();
	pthread_mutex_unlock(&converge_mu);
	/* A run from a request (POST /v1/reconcile) may schedule a retry, or
	 * make the daemon ready: the main loop has no clock to notice. */
	loop_wake();
	return report;
}

long converge_wait_ms(void)
{
	long wait = -1, left;

	pthread_mutex_lock(&converge_mu);
	if (converge_delay_ms) {
		left = -converge_ms_since(&converge_due);
		wait = left > 0 ? left : 0;
	}
	if (converge_st.started && !converge_st.ready) {
		left = CONVERGE_GRACE_S * 1000 -
		       converge_ms_since(&converge_started);
		if (left < 0)
			left = 0;
		if (wait < 0 || left < wait)
			wait = left;
	}
	pthread_mutex_unlock(&converge_mu);
	return wait;
}

void converge_tick(struct store *store)
{
	bool due;

	pthread_mutex_lock(&converge_mu);
	due = converge_delay_ms && converge_ms_since(&converge_due) >= 0;
	pthread_mutex_unlock(&converge_mu);
	if (due) {
		/* The same lock as POST /v1/reconcile: the retry runs alone. */
		http_mutations_lock();
		json_decref(converge_run(store, CONVERGE_RETRY));
		http_mutations_unlock();
	}
	pthread_mutex_lock(&converge_mu);
	converge_update_ready();
	pthread_mutex_unlock(&converge_mu);
}

void converge_status(struct converge_status *st)
{
	pthread_mutex_lock(&converge_mu);
	converge_update_ready();
	*st = converge_st;
	pthread_mutex_unlock(&converge_mu);
}
