/* Routes are data: a table of {method, pattern, handler}. The router matches
 * a request against it, decodes path parameters, and answers 404 and 405
 * (with Allow) itself so handlers never have to. */
#ifndef NETNSD_ROUTER_H
#define NETNSD_ROUTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../api/problem.h"

#define ROUTER_PARAMS_MAX 6
/* The most values of text query parameters one request may give
 * (?namespace= repeated): more is a 400, never a longer list. */
#define ROUTER_QUERY_VALUES_MAX 16

struct store;

struct request {
	const char *method;
	const char *path;
	const char *param_names[ROUTER_PARAMS_MAX];
	char *params[ROUTER_PARAMS_MAX]; /* percent-decoded */
	size_t n_params;
	const char *body;
	size_t body_len;
	bool force;	     /* ?force=true */
	bool dry_run;	     /* ?dry_run=true: plan, change nothing */
	unsigned confirm;    /* ?confirm=SECONDS, or 0 */
	unsigned table;	     /* ?table=N, when ROUTE_QUERY_TABLE is seen */
	unsigned metric;     /* ?metric=N, when ROUTE_QUERY_METRIC is seen */
	bool managed;	     /* ?managed= (ROUTE_QUERY_MANAGED) */
	bool in_sync;	     /* ?in_sync= (ROUTE_QUERY_IN_SYNC) */
	unsigned query_seen; /* ROUTE_QUERY_* bits given in the query */
	/* The text parameters given, borrowed from the connection, in the
	 * order sent: router_query_value reads them. */
	struct {
		unsigned bit;
		const char *value;
	} query_values[ROUTER_QUERY_VALUES_MAX];
	size_t n_query_values;
	struct store *store;
	bool mutates;	   /* ROUTE_MUTATES: takes namespace locks */
	uint64_t ns_locks; /* stripes of server/nslock.h held by the handler */
	bool ns_lock_timeout; /* a stripe stayed busy past the wait bound */
};

struct reply {
	int status;
	json_t *json;	    /* body of a 2xx answer, or NULL */
	char location[512]; /* Location header of a 201 */
	const char *text;   /* a non-JSON body (metrics, openapi) */
	char *text_owned;   /* the same, when it is to be freed */
	size_t text_len;
	const char *content_type;
	/* The Content-Security-Policy of a page of the dashboard; NULL for
	 * every other answer, which then lets nothing run at all. */
	const char *csp;
	struct problem problem; /* set when status >= 400 */
};

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
};

/* The query parameters of the API, one bit each. A route lists those it
 * accepts; any other is a 400 before a handler runs (openapi/openapi.yaml,
 * "Conventions"), as an unknown JSON field is. */
enum route_query {
	ROUTE_QUERY_FORCE = 1 << 0,
	ROUTE_QUERY_DRY_RUN = 1 << 1, /* plan only: openapi.yaml "Plan" */
	ROUTE_QUERY_CONFIRM = 1 << 2, /* commit-confirm, in seconds */
	/* A route's selectors (README.md, "Routes"). */
	ROUTE_QUERY_TABLE = 1 << 4,
	ROUTE_QUERY_METRIC = 1 << 5,
	ROUTE_QUERY_NAMESPACE = 1 << 6, /* text, repeatable */
	ROUTE_QUERY_KIND = 1 << 7,	/* text */
	ROUTE_QUERY_MANAGED = 1 << 8,
	ROUTE_QUERY_IN_SYNC = 1 << 9,
	/* GET /v1/events (with namespace): server/events_http.c reads them. */
	ROUTE_QUERY_SINCE = 1 << 10,
	ROUTE_QUERY_TYPES = 1 << 11,
	ROUTE_QUERY_TICKET = 1 << 12,
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

/* The `n`th value (from 0) given for text parameter `bit`, or NULL. */
const char *router_query_value(const struct request *req, unsigned bit,
			       size_t n);

/* The decoded value of path parameter `name`, or NULL. */
const char *router_param(const struct request *req, const char *name);
void router_request_clear(struct request *req);

#endif
