/* Routes are data: a table of {method, pattern, handler}. The router matches
 * a request against it, decodes path parameters, and answers 404 and 405
 * (with Allow) itself so handlers never have to. */
#ifndef NETNSD_ROUTER_H
#define NETNSD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "../api/problem.h"
#include "../api/request.h"

typedef int (*route_fn)(struct request *req, struct reply *rep);

enum route_flags {
	/* Changes something: durable before answered. It runs alongside reads
	 * and other mutations, and takes the locks of the namespaces it
	 * touches itself (handler_lock). */
	ROUTE_MUTATES = 1 << 0,
	ROUTE_NO_LOCK = 1 << 1, /* answers even while a mutation runs */
	/* Runs alone: no read or other mutation alongside (reconcile). A
	 * namespace's creation or deletion no longer is: it takes the locks
	 * of its namespace (and of its veths' far ends) like any mutation, so
	 * that a request stuck in one namespace's kernel call holds up no
	 * other namespace (see http_dispatch). */
	ROUTE_EXCLUSIVE = 1 << 2,
	/* Answered by http_dispatch itself as a long-lived stream
	 * (GET /v1/events): the handler in the table is never called. */
	ROUTE_STREAM = 1 << 3,
	/* May take long (a whole-state apply, a reconcile, a read of every
	 * namespace): run on the workers (server/workers.h), so that the
	 * connections of libmicrohttpd's thread, event streams included,
	 * are not held meanwhile. The others take about a millisecond and
	 * run on the connection's own thread: the hand-over would cost more
	 * than that (bench/RESULTS.md, "Handlers on threads of their own"). */
	ROUTE_LONG = 1 << 4,
};

struct route {
	const char *method;
	const char *pattern; /* "/v1/namespaces/{ns}" */
	route_fn handle;
	unsigned flags;
	unsigned query; /* enum route_query: the parameters it accepts */
};

extern const struct route router_routes[];
extern const size_t router_n_routes;

enum route_query_type {
	ROUTE_QUERY_BOOL,   /* `true` or `false`, into a bool of the request */
	ROUTE_QUERY_TEXT,   /* one value, kept in query_values */
	ROUTE_QUERY_REPEAT, /* a value each time it is given, ditto */
	/* A whole number from 1 (0 with `zero`) to max, in decimal without
	 * sign or leading zero, into an `unsigned` of the request. */
	ROUTE_QUERY_NUMBER,
};

/* One query parameter: its name, its bit, its type, and for a boolean or a
 * number the field of struct request that its value goes to. */
struct route_query_def {
	const char *name;
	unsigned bit;
	enum route_query_type type;
	size_t offset; /* offsetof(struct request, ...): booleans, numbers */
	unsigned max;  /* a number's largest value */
	bool zero;     /* a number may also be 0 (a metric) */
};

extern const struct route_query_def router_queries[];
extern const size_t router_n_queries;

/* Finds the route for method and path, filling req->params. Returns 0, or a
 * problem (400 for a badly encoded path, 404, 405 with `allow` filled, 308
 * for a known path with one trailing slash: router_canonical names it). */
int router_match(const char *method, const char *path,
		 const struct route **ret_route, struct request *req,
		 char *allow, size_t allow_len, struct problem *p);

/* Writes `target` (path and query, as sent) without the trailing slash of
 * its path into buf; -1 when it does not fit. */
int router_canonical(const char *target, char *buf, size_t len);

/* Reads one query parameter of the request for `route`: name and value as
 * sent (not percent-decoded; value NULL for a name without '='). An unknown or
 * malformed parameter adds an error to `p` (400 `invalid-value`, field
 * `query.NAME`) and returns its negative status; otherwise its value is
 * stored in req and 0 is returned. Booleans are `true` or `false`, numbers
 * plain decimals; a parameter given twice must have the same value each
 * time. */
int router_query(const struct route *route, struct request *req,
		 const char *name, const char *value, struct problem *p);

#endif
