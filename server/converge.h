/* The re-apply of the desired state until it converges (README "Start-up
 * and convergence"): every reconcile run goes through here, is logged and
 * counted, and when it leaves failures that may pass by themselves it is
 * run again with backoff; readiness follows the start-up runs. */
#ifndef NETNSD_CONVERGE_H
#define NETNSD_CONVERGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct store;

enum converge_origin {
	CONVERGE_STARTUP, /* the first run, before netnsd says ready */
	CONVERGE_REQUEST, /* POST /v1/reconcile */
	CONVERGE_RETRY,	  /* a retry of a run that left transient failures */
	CONVERGE_AUTO,	  /* --reconcile=auto repairing a drift (autoheal.h) */
};

struct converge_status {
	bool started;	/* the start-up run has finished */
	bool ready;	/* /readyz says 200 (once true, it stays true) */
	bool converged; /* the latest run left no failure */
	size_t pending; /* its failures that are being retried */
	size_t failures;
};

/* Runs reconcile_run() (the caller holds http_mutations_lock() or runs as
 * an exclusive route), logs and counts it, schedules a retry if it left
 * transient failures, and returns its report. */
json_t *converge_run(struct store *store, enum converge_origin origin);

/* Milliseconds until converge_tick() has something to do: a retry due or
 * the end of the start-up grace window; -1 when nothing is waiting. */
long converge_wait_ms(void);

/* Runs a retry if one is due, taking http_mutations_lock() for it. */
void converge_tick(struct store *store);

void converge_status(struct converge_status *st);

/* The start-up grace window: /readyz says 503 while the start-up run's
 * transient failures are retried, for at most this long. */
#define CONVERGE_GRACE_S 10

#endif
