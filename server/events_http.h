/* The HTTP side of the event stream: GET /v1/events as text/event-stream
 * and POST /v1/events/tickets (openapi/openapi.yaml; README.md,
 * "Watching"). */
#ifndef NETNSD_EVENTS_HTTP_H
#define NETNSD_EVENTS_HTTP_H

#include <microhttpd.h>

#include "../api/problem.h"
#include "router.h"

/* The watch of streams' clients going away: its epoll descriptor, which
 * the main loop waits on too (loop_watch), or -errno. Once, at start-up. */
int events_http_init(void);
/* Ends the streams whose clients have gone; from the main loop, when the
 * descriptor is readable (it is cheap when none has). */
void events_http_reap(void);

/* The stream's response for this connection, reading the request's query
 * and Last-Event-ID: 0, or a problem (400 for a bad query, 503 `busy` at
 * the subscriber limit, Retry-After to be sent). */
int events_http_open(struct MHD_Connection *conn, struct MHD_Response **ret,
		     struct problem *p);

/* Route handlers. The stream's is never called (http_dispatch answers a
 * ROUTE_STREAM route itself); it is in the table for the router. */
int events_handle_stream(struct request *req, struct reply *rep);
int events_handle_ticket(struct request *req, struct reply *rep);

#endif
