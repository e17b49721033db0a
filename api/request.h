/* One HTTP exchange as every layer that answers one sees it: the request
 * the router matched (path parameters decoded, query parameters checked)
 * and the reply a handler fills in. Below both server/ (which reads
 * requests off the wire and writes replies back) and handlers/ (which
 * answer them), so that neither reaches into the other for it. */
#ifndef NETNSD_REQUEST_H
#define NETNSD_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "problem.h"

#define REQUEST_PARAMS_MAX 6
/* The most values of text query parameters one request may give
 * (?namespace= repeated): more is a 400, never a longer list. */
#define REQUEST_QUERY_VALUES_MAX 16

struct store;

struct request {
	const char *method;
	const char *path;
	const char *param_names[REQUEST_PARAMS_MAX];
	char *params[REQUEST_PARAMS_MAX]; /* percent-decoded */
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
	 * order sent: request_query_value reads them. */
	struct {
		unsigned bit;
		const char *value;
	} query_values[REQUEST_QUERY_VALUES_MAX];
	size_t n_query_values;
	struct store *store;
	bool mutates;	      /* ROUTE_MUTATES: takes namespace locks */
	uint64_t ns_locks;    /* stripes of base/nslock.h held by the handler */
	bool ns_lock_timeout; /* a stripe stayed busy past the wait bound */
	bool alone; /* it runs alone (the daemon-wide lock held exclusive) */
	/* The turn in which its events are told (base/turns.h), taken as it
	 * lets its locks go (request_unlock). */
	uint64_t turn;
	bool has_turn;
	/* Set only by the daemon's own reads (server/watch.c), never from
	 * HTTP: the peer of the veth end a link GET reads, when the caller
	 * knows it already, which spares a dump of the peer's namespace. A
	 * GET takes it only when the link points back at that ifindex. */
	struct {
		const char *ns, *name;
		int ifindex;
	} peer_hint;
};

struct reply {
	int status;
	json_t *json;	    /* body of a 2xx answer, or NULL */
	char location[512]; /* Location header of a 201 */
	const char *text;   /* a body written already: metrics, openapi, a
			     * link's JSON (handler_reply_text) */
	char *text_owned;   /* the same, when it is to be freed */
	size_t text_len;
	const char *content_type;
	/* The Content-Security-Policy of a page of the dashboard; NULL for
	 * every other answer, which then lets nothing run at all. */
	const char *csp;
	struct problem problem; /* set when status >= 400 */
};

/* The query parameters of the API, one bit each (named for the route
 * table, which lists those each route accepts). A route takes those it
 * lists; any other is a 400 before a handler runs (openapi/openapi.yaml,
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

/* The decoded value of path parameter `name`, or NULL. */
const char *request_param(const struct request *req, const char *name);

/* The `n`th value (from 0) given for text parameter `bit`, or NULL. */
const char *request_query_value(const struct request *req, unsigned bit,
				size_t n);

/* Lets the namespace locks go; a mutation takes its events' turn first,
 * while the locks still order it after the changes it followed. Early in
 * a handler (its answer is rendered unlocked) or at the end. */
void request_unlock(struct request *req);

/* Frees the decoded path parameters. */
void request_clear(struct request *req);

#endif
