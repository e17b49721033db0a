/* The threads that run the requests that may take long (ROUTE_LONG,
 * server/router.h; from server/http.c). libmicrohttpd serves each
 * connection from one thread of its pool for its whole life: a handler
 * run there holds up every other connection of that thread, event streams
 * included, for as long as it takes (a whole-state apply: seconds). Such
 * a request, once all in, is suspended and handed to these threads, and
 * its connection is resumed to answer once its handler is done. */
#ifndef NETNSD_WORKERS_H
#define NETNSD_WORKERS_H

#include <stdbool.h>

/* A piece of work: `run` is called once, on one of the threads. */
struct work {
	struct work *next;
	void (*run)(struct work *w);
};

/* Starts `n` threads; -errno when none could be. */
int workers_start(unsigned n);
/* Queues `w` (first in, first out). false when the threads do not run:
 * the caller runs it itself. The queue holds at most one piece per
 * connection, so it is bounded by --max-connections. */
bool workers_push(struct work *w);
/* Runs what is queued, then ends the threads (at the daemon's stop). */
void workers_stop(void);

#endif
