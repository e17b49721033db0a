/* The HTTP glue: libmicrohttpd daemons on every listener, request bodies
 * gathered within a cap, one exit for every answer. */
#ifndef NETNSD_HTTP_H
#define NETNSD_HTTP_H

#include <stdbool.h>

#include "config.h"

struct store;

/* Loads tokens and TLS files and binds every listener: all that may need
 * root, before privileges are dropped. */
int http_prepare(const struct config *cfg);
/* Starts serving on the bound listeners. */
int http_serve(struct store *store);
/* Stops accepting, lets in-flight requests finish, and stops. */
void http_stop(void);

/* Cuts connections that have spent more than --connection-timeout seconds
 * sending one request, or waiting idle for the next, those that have not
 * sent a request's headers within --header-timeout, and those whose client
 * has gone while a request was still arriving. Called every second while
 * it returns true (connections are open; an event stream's heartbeats are
 * due too); a new connection wakes the main loop (server/loop.h). */
bool http_sweep(void);

/* Every mutation, from a request or the reconciler, runs under this lock
 * held for writing; reads hold it for reading. */
void http_mutations_lock(void);
void http_mutations_unlock(void);

#endif
