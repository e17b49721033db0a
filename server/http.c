#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <grp.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "etag.h"
#include "events.h"
#include "events_http.h"
#include "../base/log.h"
#include "dashboard.h"
#include "../netlink/sock.h"
#include "loop.h"
#include "metrics.h"
#include "origin.h"
#include "router.h"
#include "tls.h"
#include "../base/turns.h"
#include "watch.h"
#include "workers.h"
#include "../state/store.h"

/* One request, across the several calls libmicrohttpd makes for it. */
struct http_req {
	char *body;
	size_t len, cap;
	bool too_large;
	bool answered; /* an early answer (413, 401) is already queued */
	struct timespec start;
	char id[33];		   /* X-Request-Id */
	const struct route *route; /* matched route, for metrics */
	int status;
	char method[16];
	char *path;		/* as sent, for the request log */
	const char *target_end; /* where the request target's string ends */
	char *slash_target;	/* the raw target, when its path ends in '/' */
	struct http_job *job;	/* handed to the workers, answered once done */
};

/* What the access handler needs to know of the listener it serves. */
struct http_listener {
	bool tls;
	bool client_ca;
};

static struct MHD_Daemon *http_daemons[CONFIG_LISTEN_MAX];
static struct http_listener http_listeners[CONFIG_LISTEN_MAX];
static size_t http_n_daemons;
static const struct config *http_cfg;
static struct store *http_store;
static pthread_rwlock_t http_rw;
static char *http_tls_cert, *http_tls_key, *http_tls_ca;
static const char *http_tls_priority = TLS_PRIORITY_DEFAULT;
/* Connections libmicrohttpd may accept, per thread, past --max-connections
 * while the ones cut to make room are being closed. */
#define HTTP_CONN_SLACK 8

/* Every open connection, so that one that takes too long to send a
 * request (headers and body) can be cut: libmicrohttpd's own timeout only counts
 * silence, and a client dribbling a byte a second is never silent. */
struct http_conn {
	struct http_conn *next, **pprev;
	int fd;
	bool receiving;	       /* a request is still arriving */
	bool headers;	       /* ... and its headers are all in */
	bool cut;	       /* shut down here; libmicrohttpd closes it */
	struct timespec since; /* ... since then */
};

static pthread_mutex_t http_conns_mu = PTHREAD_MUTEX_INITIALIZER;
static struct http_conn *http_conns;
static unsigned http_n_conns; /* those not cut */
/* Set on SIGTERM: requests not yet handled are refused from then on. */
static atomic_bool http_stopping;

/* The entry http_conn_notify made for the connection, or NULL. */
static struct http_conn *http_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void http_conn_phase(struct MHD_Connection *conn, bool receiving)
{
	struct http_conn *c = http_conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&http_conns_mu);
	c->receiving = receiving;
	c->headers = false;
	clock_gettime(CLOCK_MONOTONIC, &c->since);
	pthread_mutex_unlock(&http_conns_mu);
}

/* The request's headers are complete: --header-timeout no longer applies,
 * --connection-timeout still does (from the same start). */
static void http_conn_headers_done(struct MHD_Connection *conn)
{
	struct http_conn *c = http_conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&http_conns_mu);
	c->headers = true;
	pthread_mutex_unlock(&http_conns_mu);
}

/* Shuts a connection down; it stays listed (its fd open) until
 * libmicrohttpd has seen that and closed it. Under http_conns_mu. */
static void http_conn_cut(struct http_conn *c)
{
	if (c->cut)
		return;
	shutdown(c->fd, SHUT_RDWR);
	c->cut = true;
	http_n_conns--;
}

/* The table is full: the connection that has waited longest for its
 * request's headers makes room, so that clients which never finish theirs
 * cannot shut others out (README, Security). NULL if every connection has
 * a request in hand. Under http_conns_mu. */
static struct http_conn *http_conn_victim(void)
{
	struct http_conn *c, *oldest = NULL;

	for (c = http_conns; c; c = c->next) {
		if (c->cut || !c->receiving || c->headers)
			continue;
		if (!oldest || c->since.tv_sec < oldest->since.tv_sec ||
		    (c->since.tv_sec == oldest->since.tv_sec &&
		     c->since.tv_nsec < oldest->since.tv_nsec))
			oldest = c;
	}
	return oldest;
}

static void http_conn_notify(void *cls, struct MHD_Connection *conn,
			     void **socket_context,
			     enum MHD_ConnectionNotificationCode code)
{
	const union MHD_ConnectionInfo *ci;
	struct http_conn *c;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
					     MHD_CONNECTION_INFO_CONNECTION_FD);
		c = calloc(1, sizeof(*c));
		if (!c || !ci) {
			free(c);
			return;
		}
		c->fd = ci->connect_fd;
		c->receiving = true;
		clock_gettime(CLOCK_MONOTONIC, &c->since);
		pthread_mutex_lock(&http_conns_mu);
		if (http_n_conns >= http_cfg->max_connections) {
			struct http_conn *victim = http_conn_victim();

			/* With every slot busy answering, the newcomer
			 * is the one turned away. */
			if (victim)
				http_conn_cut(victim);
			else
				c->cut = true;
		}
		if (c->cut)
			shutdown(c->fd, SHUT_RDWR);
		else
			http_n_conns++;
		c->next = http_conns;
		c->pprev = &http_conns;
		if (http_conns)
			http_conns->pprev = &c->next;
		http_conns = c;
		pthread_mutex_unlock(&http_conns_mu);
		*socket_context = c;
		loop_wake(); /* http_sweep() is due while it is open */
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	pthread_mutex_lock(&http_conns_mu);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	if (!c->cut)
		http_n_conns--;
	pthread_mutex_unlock(&http_conns_mu);
	free(c);
	*socket_context = NULL;
}

/* Connections with a request received and not yet answered. */
static size_t http_busy_connections(void)
{
	struct http_conn *c;
	size_t n = 0;

	pthread_mutex_lock(&http_conns_mu);
	for (c = http_conns; c; c = c->next)
		n += !c->receiving;
	pthread_mutex_unlock(&http_conns_mu);
	return n;
}

bool http_sweep(void)
{
	struct timespec now;
	struct http_conn *c;
	bool open;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&http_conns_mu);
	/* The socket stays registered, so open, until libmicrohttpd has
	 * seen the shutdown and closed it: the fd cannot be reused here. */
	for (c = http_conns; c; c = c->next) {
		long long ms = (now.tv_sec - c->since.tv_sec) * 1000LL +
			       (now.tv_nsec - c->since.tv_nsec) / 1000000;
		char byte;

		if (!c->receiving || c->cut)
			continue;
		/* Too slow, or the client is gone: a request that is still
		 * arriving on a socket at its end can never complete. */
		if (now.tv_sec - c->since.tv_sec >
			    (time_t)http_cfg->conn_timeout ||
		    (!c->headers &&
		     ms >= (long long)http_cfg->header_timeout * 1000) ||
		    recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			http_conn_cut(c);
	}
	open = http_conns != NULL;
	pthread_mutex_unlock(&http_conns_mu);
	return open;
}

void http_mutations_lock(void)
{
	pthread_rwlock_wrlock(&http_rw);
}

void http_mutations_unlock(void)
{
	pthread_rwlock_unlock(&http_rw);
}

/* The allowed origin a browser sent, or NULL: CORS headers go only to the
 * origins named by --cors-origin. */
static const char *http_cors_origin(struct MHD_Connection *conn)
{
	const char *origin =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");

	return origin && origin_cors_allowed(origin, http_cfg) ? origin : NULL;
}

/* A CORS answer to `origin`: which response headers its script may read. */
static void http_cors_allow(struct MHD_Response *resp, const char *origin,
			    const char *expose)
{
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(resp, "Vary", "Origin");
	MHD_add_response_header(resp, "Access-Control-Expose-Headers", expose);
}

struct http_headers {
	const char *allow;
	const char *cors_methods; /* a preflight's, when not those of allow */
	const char *location;
	const char *etag;
	bool auth_challenge;
	bool preflight;
	bool close;	 /* the connection cannot be trusted past this answer */
	bool retry;	 /* a 503 `busy`: Retry-After */
	const char *csp; /* a dashboard page's policy (struct reply) */
};

static enum MHD_Result http_send(struct MHD_Connection *conn,
				 struct http_req *hr, int status, char *body,
				 size_t len, const char *content_type,
				 const struct http_headers *h)
{
	struct MHD_Response *resp;
	const char *origin;
	enum MHD_Result r;

	resp = MHD_create_response_from_buffer(len, body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	if (h && h->allow && *h->allow)
		MHD_add_response_header(resp, "Allow", h->allow);
	if (h && h->location && *h->location)
		MHD_add_response_header(resp, "Location", h->location);
	if (h && h->etag)
		MHD_add_response_header(resp, "ETag", h->etag);
	if (h && h->auth_challenge)
		MHD_add_response_header(resp, "WWW-Authenticate",
					"Bearer realm=\"netnsd\"");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Request-Id", hr->id);
	/* No answer is a page that runs anything, but for the dashboard's,
	 * which runs its own script only (README.md, "Dashboard"); none is
	 * sniffed into another type. */
	MHD_add_response_header(resp, "Content-Security-Policy",
				h && h->csp ? h->csp : DASHBOARD_CSP_NONE);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (h && h->close)
		MHD_add_response_header(resp, "Connection", "close");
	if (h && h->retry)
		MHD_add_response_header(resp, "Retry-After", "1");
	origin = http_cors_origin(conn);
	if (origin) {
		http_cors_allow(resp, origin,
				"Location, X-Request-Id, Allow, ETag");
		if (h && h->preflight) {
			MHD_add_response_header(
				resp, "Access-Control-Allow-Methods",
				h->cors_methods ? h->cors_methods : h->allow);
			MHD_add_response_header(
				resp, "Access-Control-Allow-Headers",
				"Authorization, Content-Type, X-Request-Id, If-Match, If-None-Match");
			MHD_add_response_header(resp, "Access-Control-Max-Age",
						"600");
		}
	}
	hr->status = status;
	r = MHD_queue_response(conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static char *http_dump(json_t *j, size_t *ret_len)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;

	if (!s)
		return NULL;
	len = strlen(s);
	s[len] = '\n'; /* the NUL becomes a newline; the length excludes it */
	*ret_len = len + 1;
	return s;
}

/* The path of a request target: the absolute form (RFC 9112, 3.2.2) names
 * the same resource as the origin form. */
static const char *http_target_path(const char *url)
{
	if (!strncasecmp(url, "http://", 7) ||
	    !strncasecmp(url, "https://", 8)) {
		const char *path = strchr(strstr(url, "//") + 2, '/');

		return path ? path : "/";
	}
	return url;
}

/* Where a 308 for a path with a trailing slash sends the client: the same
 * target without the slash, query kept (a redirected DELETE keeps its
 * ?force=true). -1, and so a 404, when the raw target was not kept. */
static int http_redirect_location(const struct http_req *hr, char *buf,
				  size_t len)
{
	const char *t = hr->slash_target;

	if (!t)
		return -1;
	return router_canonical(http_target_path(t), buf, len);
}

/* The single exit of every error: a problem document, nothing else. A 308
 * (router_match's trailing slash) is no error: it answers the Location it
 * names, and no body. */
static enum MHD_Result http_send_problem(struct MHD_Connection *conn,
					 struct http_req *hr, struct problem *p,
					 const struct http_headers *h)
{
	struct http_headers with_location = h ? *h : (struct http_headers){ 0 };
	char location[4200];
	size_t len = 0;
	json_t *j;
	char *body;

	if (p->status == 308) {
		if (http_redirect_location(hr, location, sizeof(location)) <
		    0) {
			problem_clear(p);
			problem_set(p, 404, "not-found", "no such resource");
		} else {
			with_location.location = location;
			return http_send(conn, hr, 308, NULL, 0, NULL,
					 &with_location);
		}
	}
	j = problem_to_json(p);
	body = j ? http_dump(j, &len) : NULL;
	json_decref(j);
	if (p->status >= 500)
		log_warn("request %s answered %d: %s", hr->id, p->status,
			 p->detail);
	if (!body)
		return MHD_NO;
	return http_send(conn, hr, p->status, body, len,
			 "application/problem+json", h);
}

static enum MHD_Result http_fail(struct MHD_Connection *conn,
				 struct http_req *hr, int status,
				 const char *type, const char *detail,
				 const struct http_headers *h)
{
	struct problem p = PROBLEM_INIT;
	enum MHD_Result r;

	problem_set(&p, status, type, "%s", detail);
	r = http_send_problem(conn, hr, &p, h);
	problem_clear(&p);
	return r;
}

static bool http_is_json(const char *ct)
{
	size_t n = strlen("application/json");

	if (!ct || strncasecmp(ct, "application/json", n))
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

struct http_query {
	const struct route *route;
	struct request *req;
	struct problem *p;
};

static enum MHD_Result http_query_one(void *cls, enum MHD_ValueKind kind,
				      const char *key, const char *value)
{
	struct http_query *q = cls;

	(void)kind;
	router_query(q->route, q->req, key ? key : "", value, q->p);
	return MHD_YES; /* on: every bad parameter is named (at most a few) */
}

/* Reads the query into req, as the route's entry in the table allows: an
 * unknown or malformed parameter is a 400 before any handler runs
 * (openapi/openapi.yaml, "Conventions"). Returns 0 or -400. */
static int http_query(struct MHD_Connection *conn, const struct route *route,
		      struct request *req, struct problem *p)
{
	struct http_query q = { route, req, p };

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, http_query_one,
				  &q);
	return p->status ? -p->status : 0;
}

/* Probes answer without credentials: they tell nothing but "alive". */
static bool http_is_probe(const char *url)
{
	return !strcmp(url, "/healthz") || !strcmp(url, "/readyz");
}

/* A browser's EventSource cannot send Authorization: GET /v1/events may
 * carry instead a one-use ticket that an authorised POST
 * /v1/events/tickets gave (README.md, "Watching"). */
static bool http_ticket_ok(struct MHD_Connection *conn, const char *url,
			   const char *method)
{
	size_t len = strcspn(url, "?");

	if (strcmp(method, "GET") || len != strlen("/v1/events") ||
	    strncmp(url, "/v1/events", len))
		return false;
	/* Used up only once its stream is open (http_stream). */
	return events_ticket_valid(MHD_lookup_connection_value(
		conn, MHD_GET_ARGUMENT_KIND, "ticket"));
}

/* With --tls-client-ca, a client certificate the CA signed, made for
 * client authentication, is required: a server's certificate from the same
 * CA is not a client's (README, Security). */
static bool http_client_cert_ok(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	unsigned status = 0;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	if (gnutls_certificate_type_get(ci->tls_session) != GNUTLS_CRT_X509 ||
	    !gnutls_certificate_get_peers(ci->tls_session, &status))
		return false;
	status = 0;
	if (gnutls_certificate_verify_peers2(ci->tls_session, &status) < 0)
		return false;
	return status == 0 && tls_peer_is_client(ci->tls_session);
}

/* Checks the client's credentials as soon as its headers are in, before a
 * byte of its body is stored or 100 Continue is sent (README, Security):
 * a client without them costs no memory for its body. Returns the 401's
 * detail, or NULL to go on. Probes and CORS preflights need no token. */
static const char *http_unauthorized(struct MHD_Connection *conn,
				     const struct http_listener *l,
				     const char *url, const char *method,
				     bool *challenge)
{
	if (l->client_ca && !http_client_cert_ok(conn))
		return "a client certificate signed by the configured CA and made for client authentication is required";
	url = http_target_path(url);
	if (!strcmp(method, "OPTIONS") || http_is_probe(url) ||
	    dashboard_is_asset(method, url))
		return NULL;
	if (auth_enabled() &&
	    !auth_check(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "Authorization")) &&
	    !http_ticket_ok(conn, url, method)) {
		*challenge = true;
		/* A ticket given is one that was used or has run out (or was
		 * never given): saying which would tell a guesser too much. */
		if (MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						"ticket"))
			return "this ticket cannot be used: a ticket is good for one stream, within the expires_in seconds of its POST /v1/events/tickets, and is gone once used; get a new one (with Authorization: Bearer <token>)";
		return "a valid bearer token is required (Authorization: Bearer <token>)";
	}
	return NULL;
}

/* Whether a comma-separated list (an Allow value) has this item. */
static bool http_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *s = list; *s; s += strspn(s, ", ")) {
		size_t len = strcspn(s, ", ");

		if (len == n && !strncmp(s, item, n))
			return true;
		s += len;
	}
	return false;
}

/* A CORS preflight (an allowed Origin and Access-Control-Request-Method) is
 * answered 204 on every path, the asked method among the allowed ones even
 * where the path does not serve it: a browser sends its real request only
 * after a preflight that succeeded, and that request then shows the real
 * 404 or 405 instead of "Failed to fetch" (openapi/openapi.yaml, "Answers
 * outside the operations below"). The real request meets every check. */
static enum MHD_Result http_preflight(struct MHD_Connection *conn,
				      struct http_req *hr, const char *url)
{
	struct request req = { .method = "OPTIONS", .path = url };
	struct problem p = PROBLEM_INIT;
	const struct route *route = NULL;
	struct http_headers h = { .preflight = true };
	const char *asked = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
	char allow[128], methods[160];
	bool cors, known;
	enum MHD_Result r;

	cors = http_cors_origin(conn) && asked && *asked &&
	       strlen(asked) < 16 &&
	       strspn(asked, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "abcdefghijklmnopqrstuvwxyz0123456789"
			     "!#$%&'*+-.^_`|~") == strlen(asked);
	router_match("OPTIONS", url, &route, &req, allow, sizeof(allow), &p);
	request_clear(&req);
	known = p.status == 405; /* else no route has this path */
	if (!known && !cors) {
		r = http_send_problem(conn, hr, &p, NULL);
		problem_clear(&p);
		return r;
	}
	problem_clear(&p);
	if (known) {
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
			 ", OPTIONS");
		h.allow = allow;
	} else {
		allow[0] = '\0';
	}
	if (cors && !http_list_has(allow, asked)) {
		snprintf(methods, sizeof(methods), "%s%s%s", allow,
			 *allow ? ", " : "", asked);
		h.cors_methods = methods;
	}
	return http_send(conn, hr, 204, NULL, 0, NULL, &h);
}

/* Takes the daemon-wide lock: shared for every route but reconcile, which
 * runs alone, as does a conditional change (http_conditional). The lock
 * prefers its writer, so while a reconcile waits for a request stuck in a
 * kernel call every new request waits too: the wait is
 * bounded (by --netlink-timeout, the longest a kernel call is waited for),
 * and one that runs out is answered 503 `busy` with Retry-After. Namespaces
 * come and go under their own locks (handlers/namespace.c), not this one:
 * a stuck namespace holds up its own requests, bounded the same way
 * (base/nslock.h), and no other namespace's. Returns 0 or -ETIMEDOUT. */
static int http_lock(const struct route *route, bool exclusive)
{
	struct timespec deadline;
	int r;

	if (route->flags & ROUTE_NO_LOCK)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)http_cfg->netlink_timeout;
	if (exclusive)
		r = pthread_rwlock_clockwrlock(&http_rw, CLOCK_MONOTONIC,
					       &deadline);
	else
		r = pthread_rwlock_clockrdlock(&http_rw, CLOCK_MONOTONIC,
					       &deadline);
	return r ? -ETIMEDOUT : 0;
}

struct http_conds {
	const char *etag; /* the current one, or NULL */
	struct etag_cond match, none_match;
};

static enum MHD_Result http_cond_one(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	struct http_conds *c = cls;

	(void)kind;
	if (!strcasecmp(key, "If-Match"))
		etag_cond_add(&c->match, value ? value : "", c->etag);
	else if (!strcasecmp(key, "If-None-Match"))
		etag_cond_add(&c->none_match, value ? value : "", c->etag);
	return MHD_YES;
}

/* Reads every If-Match and If-None-Match field of the request (a list may
 * be split over several), comparing their tags with `etag`. */
static void http_conds(struct MHD_Connection *conn, const char *etag,
		       struct http_conds *c)
{
	memset(c, 0, sizeof(*c));
	c->etag = etag;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, http_cond_one, c);
}

/* Whether this request is a conditional change: a PUT, PATCH or DELETE
 * with If-Match or If-None-Match. Only these evaluate the two (README.md,
 * "Conditional requests"); a POST on a collection ignores them, as RFC
 * 9110 (13.1) lets a server do for a resource that does not support
 * them, and a GET reads If-None-Match only (http_not_modified). */
static bool http_conditional(struct MHD_Connection *conn, const char *method,
			     const struct route *route)
{
	struct http_conds c;

	if (!(route->flags & ROUTE_MUTATES) ||
	    (strcmp(method, "PUT") && strcmp(method, "PATCH") &&
	     strcmp(method, "DELETE")))
		return false;
	http_conds(conn, NULL, &c);
	return c.match.present || c.none_match.present;
}

/* The bytes of an answer: its JSON dumped, or its text (copied when it is
 * borrowed); NULL and 0 when it has neither. Returns 0 or -ENOMEM. */
static int http_reply_body(struct reply *rep, char **ret_body, size_t *ret_len,
			   const char **ret_type)
{
	*ret_body = NULL;
	*ret_len = 0;
	*ret_type = NULL;
	if (rep->text) {
		/* Borrowed text (the OpenAPI document) or owned (metrics). */
		*ret_body = rep->text_owned ? rep->text_owned
					    : malloc(rep->text_len + 1);
		if (!*ret_body)
			return -ENOMEM;
		if (!rep->text_owned)
			memcpy(*ret_body, rep->text, rep->text_len);
		rep->text_owned = NULL;
		*ret_len = rep->text_len;
		*ret_type = rep->content_type;
	} else if (rep->json) {
		*ret_body = http_dump(rep->json, ret_len);
		if (!*ret_body)
			return -ENOMEM;
		*ret_type = "application/json";
	}
	return 0;
}

/* RFC 9110, 13.2.2: If-Match first, then If-None-Match; `etag` is the
 * target's current one, NULL when it does not exist. 0, or a 412. */
static int http_preconditions_hold(const struct http_conds *c, const char *etag,
				   struct problem *p)
{
	if (c->match.present && !etag)
		return problem_set(
			p, 412, "precondition-failed",
			"If-Match: the resource does not exist; nothing was changed");
	if (c->match.present && !c->match.star && !c->match.strong)
		return problem_set(
			p, 412, "precondition-failed",
			"If-Match: the resource's current ETag is %s, which the request does not list; nothing was changed",
			etag);
	if (c->none_match.present && etag && c->none_match.star)
		return problem_set(
			p, 412, "precondition-failed",
			"If-None-Match: *: the resource exists (ETag %s); nothing was changed",
			etag);
	if (c->none_match.present && etag && c->none_match.weak)
		return problem_set(
			p, 412, "precondition-failed",
			"If-None-Match: the resource's current ETag %s is listed; nothing was changed",
			etag);
	return 0;
}

/* The preconditions of a conditional change (RFC 9110, 13.2.2), against the
 * current representation of its target: what the GET of the same path
 * answers now (every path a PUT, PATCH or DELETE serves has a GET, which
 * openapi/check_routes.py checks), hashed as a GET's answer is. If-Match
 * needs it to exist and, unless "*", to have a listed tag (strong
 * comparison); If-None-Match needs it not to exist or, unless "*", to have
 * none of the listed tags (weak comparison). Any failure is 412
 * `precondition-failed`, and the change is not made. Called with the
 * daemon-wide lock held exclusively, so that nothing changes the target
 * between this check and the change. Returns 0 or a negative status. */
static int http_preconditions(struct MHD_Connection *conn, const char *url,
			      const struct request *req, struct problem *p)
{
	/* A route's selectors (?table, ?metric) name the target: the GET
	 * reads the same one. */
	struct request get = { .method = "GET",
			       .path = url,
			       .body = "",
			       .store = http_store,
			       .table = req->table,
			       .metric = req->metric,
			       .query_seen =
				       req->query_seen & (ROUTE_QUERY_TABLE |
							  ROUTE_QUERY_METRIC) };
	struct reply cur = { .problem = PROBLEM_INIT };
	const struct route *route = NULL;
	char allow[128], etag[ETAG_SIZE];
	struct http_conds c;
	const char *type;
	bool exists;
	char *body = NULL;
	size_t len;
	int r = 0;

	if (router_match("GET", url, &route, &get, allow, sizeof(allow),
			 &cur.problem) < 0) {
		r = problem_set(
			p, 412, "precondition-failed",
			"If-Match or If-None-Match: this resource has no representation to compare with; nothing was changed");
		goto out;
	}
	route->handle(&get, &cur);
	exists = !cur.problem.status;
	if (cur.problem.status && cur.problem.status != 404) {
		/* The target cannot be read: the change would fail alike. */
		*p = cur.problem;
		cur.problem = (struct problem)PROBLEM_INIT;
		r = -p->status;
		goto out;
	}
	if (exists) {
		if (http_reply_body(&cur, &body, &len, &type) < 0) {
			r = problem_set(p, 500, "internal",
					"out of memory; nothing was changed");
			goto out;
		}
		etag_of(body ? body : "", len, etag);
	}
	http_conds(conn, exists ? etag : NULL, &c);
	r = http_preconditions_hold(&c, exists ? etag : NULL, p);
out:
	free(body);
	free(cur.text_owned);
	json_decref(cur.json);
	problem_clear(&cur.problem);
	request_clear(&get);
	return r;
}

/* A GET's answer: its ETag, and whether the client already has it (If-None-Match,
 * weak comparison: RFC 9110, 13.1.2), in which case it gets a 304. */
static bool http_not_modified(struct MHD_Connection *conn, const char *etag)
{
	struct http_conds c;

	http_conds(conn, etag, &c);
	return c.none_match.present && (c.none_match.star || c.none_match.weak);
}

/* Sends a handler's answer that is no problem. Every GET's 200 carries the
 * ETag of its bytes (README.md, "Conditional requests"): hashed here,
 * once, as they are sent, and a 304 when the client has them already. */
static enum MHD_Result http_answer(struct MHD_Connection *conn,
				   struct http_req *hr,
				   const struct route *route, struct reply *rep)
{
	struct http_headers h = { .location = rep->location, .csp = rep->csp };
	char etag[ETAG_SIZE];
	const char *ct;
	size_t len;
	char *body;

	if (http_reply_body(rep, &body, &len, &ct) < 0)
		return MHD_NO;
	if (!strcmp(route->method, "GET") && rep->status == 200) {
		etag_of(body ? body : "", len, etag);
		h.etag = etag;
		/* The 304 is queued with the body it stands for, which
		 * libmicrohttpd does not send (as for HEAD) but counts in
		 * Content-Length: RFC 9110 (8.6) allows that length only. */
		if (http_not_modified(conn, etag))
			return http_send(conn, hr, 304, body, len, NULL, &h);
	}
	return http_send(conn, hr,
			 rep->status ? rep->status
			 : body	     ? 200
				     : 204,
			 body, len, ct, &h);
}

/* GET /v1/events: a text/event-stream that lasts (server/events_http.c),
 * with the headers every answer has. */
static enum MHD_Result http_stream(struct MHD_Connection *conn,
				   struct http_req *hr)
{
	struct http_headers h = { 0 };
	struct MHD_Response *resp = NULL;
	struct problem p = PROBLEM_INIT;
	const char *origin;
	enum MHD_Result r;

	if (events_http_open(conn, &resp, &p) < 0) {
		h.retry = p.status == 503;
		r = http_send_problem(conn, hr, &p, &h);
		problem_clear(&p);
		return r;
	}
	/* Let in by a ticket (http_unauthorized): it is used up now that
	 * its stream is open, unless another stream took it meanwhile. */
	if (auth_enabled() &&
	    !auth_check(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "Authorization")) &&
	    !events_ticket_use(MHD_lookup_connection_value(
		    conn, MHD_GET_ARGUMENT_KIND, "ticket"))) {
		MHD_destroy_response(resp);
		h.auth_challenge = true;
		return http_fail(
			conn, hr, 401, "unauthorized",
			"this ticket was used by another stream meanwhile, or has run out; get a new one (with Authorization: Bearer <token>)",
			&h);
	}
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Request-Id", hr->id);
	origin = http_cors_origin(conn);
	if (origin)
		http_cors_allow(resp, origin, "X-Request-Id");
	hr->status = 200;
	r = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return r;
}

/* A body, when there is one, is JSON. Returns 0 or -415. */
static int http_body_type(struct MHD_Connection *conn,
			  const struct http_req *hr, struct problem *p)
{
	const char *ct;

	if (hr->len == 0)
		return 0;
	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	if (http_is_json(ct))
		return 0;
	return problem_set(
		p, 415, "unsupported-media-type",
		"the body must be sent as Content-Type: application/json");
}

/* A request whose handler runs (http_work): what it reads, and what it
 * answers, kept until its connection is resumed to send it. */
struct http_job {
	struct work work; /* first: server/workers.h */
	struct MHD_Connection *conn;
	const char *url, *method;
	const struct route *route;
	struct request req;
	struct reply rep;
};

static void http_job_free(struct http_job *j)
{
	if (!j)
		return;
	free(j->rep.text_owned);
	json_decref(j->rep.json);
	problem_clear(&j->rep.problem);
	request_clear(&j->req);
	free(j);
}

/* Runs the route's handler under the daemon-wide lock (http_lock), makes
 * what it changed durable and tells subscribers; the answer is in j->rep
 * (a problem, or what http_answer sends). On a worker thread, while the
 * connection is suspended: it reads the request's headers, and queues
 * nothing. */
static void http_work(struct http_job *j)
{
	const struct route *route = j->route;
	struct request *req = &j->req;
	struct reply *rep = &j->rep;
	uint64_t sync_point = 0;
	json_t *before = NULL;
	bool cond, exclusive;

	req->mutates = route->flags & ROUTE_MUTATES;
	/* A conditional change runs alone: check and change are then one
	 * step, with no request between them that could change the target.
	 * Such changes are rare (an orchestrator's optimistic concurrency),
	 * and correctness comes first: the cost is that they wait for every
	 * request in flight, and every other request for them. */
	cond = http_conditional(j->conn, j->method, route);
	exclusive = cond || (route->flags & ROUTE_EXCLUSIVE);
	req->alone = exclusive;
	if (http_lock(route, exclusive) < 0) {
		problem_set(
			&rep->problem, 503, "busy",
			"netnsd is busy: %s has not finished within %u s, as when the kernel does not answer; nothing was changed, try again",
			exclusive ? "a request already running" : "a reconcile",
			http_cfg->netlink_timeout);
		return;
	}
	nl_request_begin();
	if (req->mutates)
		before = watch_api_before(route, req);
	if (!cond ||
	    http_preconditions(j->conn, j->url, req, &rep->problem) == 0)
		route->handle(req, rep);
	/* Everything this request wrote or saw is committed by now; what
	 * others commit from here on is theirs to wait for. Its events are
	 * told in the order of the locks (base/turns.h). */
	if (req->mutates)
		sync_point = store_sync_point(http_store);
	request_unlock(req);
	if (!(route->flags & ROUTE_NO_LOCK))
		pthread_rwlock_unlock(&http_rw);
	/* Durable before answered; outside the lock, so that the changes of
	 * concurrent clients share one sync. */
	if (req->mutates)
		store_sync_until(http_store, sync_point);

	/* Told to subscribers once durable, as the client is told; a refused
	 * change too, for what it did and undid (server/watch.h). */
	if (req->mutates) {
		/* A dry run or a refusal tells nothing (but a refused
		 * whole-state apply, which runs alone): no turn to wait. */
		if (!req->dry_run && (!rep->problem.status || exclusive))
			turn_wait(req->turn, 1000 * http_cfg->netlink_timeout);
		watch_api(route, req, rep, before);
		turn_done(req->turn);
	}
	json_decref(before);
}

/* Sends what http_work left; a 503 `busy` with Retry-After. */
static enum MHD_Result http_reply(struct MHD_Connection *conn,
				  struct http_req *hr, struct http_job *j)
{
	struct http_headers h = { .retry = j->rep.problem.status == 503 };

	if (j->rep.problem.status)
		return http_send_problem(conn, hr, &j->rep.problem, &h);
	return http_answer(conn, hr, j->route, &j->rep);
}

/* On a worker thread: the handler runs, then the connection is resumed,
 * and libmicrohttpd calls http_access again to answer (http_all_in). */
static void http_job_run(struct work *w)
{
	struct http_job *j = (struct http_job *)w;

	http_work(j);
	MHD_resume_connection(j->conn);
}

/* Runs the request here, or for a route that may take long (ROUTE_LONG)
 * hands it to the workers, its connection suspended until it is answered;
 * when they do not run (they are stopping), runs it here too, and the
 * answer comes the same way. */
static enum MHD_Result http_run(struct MHD_Connection *conn,
				struct http_req *hr, struct http_job *j)
{
	enum MHD_Result r;

	j->conn = conn;
	if (!(j->route->flags & ROUTE_LONG)) {
		http_work(j);
		r = http_reply(conn, hr, j);
		http_job_free(j);
		return r;
	}
	j->work.run = http_job_run;
	hr->job = j;
	/* Suspended first: a resume must never come before it. */
	MHD_suspend_connection(conn);
	if (!workers_push(&j->work))
		http_job_run(&j->work);
	return MHD_YES;
}

/* A request that is all in: its route, its query and its body's type are
 * checked before its handler runs (http_run), or the stream opens. */
static enum MHD_Result http_dispatch(struct MHD_Connection *conn,
				     const char *url, const char *method,
				     struct http_req *hr)
{
	struct http_job *j = calloc(1, sizeof(*j));
	struct http_headers h = { 0 };
	const struct route *route = NULL;
	char allow[128];
	enum MHD_Result r;

	if (!j)
		return http_fail(conn, hr, 500, "internal", "out of memory",
				 NULL);
	/* Credentials were checked with the headers (http_unauthorized). */
	url = http_target_path(url);
	j->url = url;
	j->method = method;
	j->req = (struct request){ .method = method,
				   .path = url,
				   .body = hr->body ? hr->body : "",
				   .body_len = hr->len,
				   .store = http_store };
	j->rep = (struct reply){ .problem = PROBLEM_INIT };
	if (!strcmp(method, "OPTIONS")) {
		r = http_preflight(conn, hr, url);
		goto out;
	}
	if (router_match(method, url, &route, &j->req, allow, sizeof(allow),
			 &j->rep.problem) < 0) {
		hr->route = route;
		h.allow = allow;
		r = http_send_problem(conn, hr, &j->rep.problem, &h);
		goto out;
	}
	hr->route = route;
	j->route = route;
	if (http_query(conn, route, &j->req, &j->rep.problem) < 0) {
		r = http_send_problem(conn, hr, &j->rep.problem, NULL);
		goto out;
	}
	if (route->flags & ROUTE_STREAM) {
		r = http_stream(conn, hr);
		goto out;
	}
	if (http_body_type(conn, hr, &j->rep.problem) < 0) {
		r = http_send_problem(conn, hr, &j->rep.problem, NULL);
		goto out;
	}
	return http_run(conn, hr, j);
out:
	http_job_free(j);
	return r;
}

static enum MHD_Result http_too_large(struct MHD_Connection *conn,
				      struct http_req *hr)
{
	char detail[96];

	snprintf(detail, sizeof(detail),
		 "the request body is larger than %zu bytes",
		 http_cfg->max_body);
	return http_fail(conn, hr, 413, "body-too-large", detail, NULL);
}

struct http_framing {
	const char *content_length;
	bool differing_lengths;
	size_t transfer_encodings;
};

static enum MHD_Result http_count_framing(void *cls, enum MHD_ValueKind kind,
					  const char *key, const char *value)
{
	struct http_framing *f = cls;

	(void)kind;
	if (!strcasecmp(key, "Content-Length")) {
		if (f->content_length && strcmp(f->content_length, value))
			f->differing_lengths = true;
		f->content_length = value;
	} else if (!strcasecmp(key, "Transfer-Encoding")) {
		f->transfer_encodings++;
	}
	return MHD_YES;
}

/* The body's framing must be unambiguous (RFC 9112, 6.1 and 6.3): a message
 * with both Content-Length and Transfer-Encoding, two different lengths, or
 * a coding other than chunked could be read two ways, which is how requests
 * are smuggled past one reader to another. Such a request is refused and
 * its connection closed. Returns NULL when the framing is sound. */
static const char *http_framing_problem(struct MHD_Connection *conn,
					int *ret_status)
{
	struct http_framing f = { 0 };
	const char *te;

	MHD_get_connection_values(conn, MHD_HEADER_KIND, http_count_framing,
				  &f);
	*ret_status = 400;
	if (f.transfer_encodings && f.content_length)
		return "Content-Length and Transfer-Encoding must not both be sent";
	if (f.differing_lengths)
		return "Content-Length is given twice, with different values";
	if (f.transfer_encodings > 1)
		return "Transfer-Encoding is given more than once";
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 "Transfer-Encoding");
	if (te && strcasecmp(te, "chunked")) {
		*ret_status = 501;
		return "only the chunked transfer coding is supported";
	}
	return NULL;
}

/* The next of this thread's request ids: a counter from a random start,
 * mixed (splitmix64, a bijection, so a thread repeats none), with one
 * getrandom() per thread instead of one per request. Ids name requests in
 * the log; they guard nothing. */
static uint64_t http_id_next(void)
{
	static _Thread_local uint64_t state;
	static _Thread_local bool seeded;
	uint64_t z;

	if (!seeded) {
		if (getrandom(&state, sizeof(state), GRND_NONBLOCK) !=
		    sizeof(state))
			state = (uint64_t)time(NULL) ^
				((uint64_t)gettid() << 32);
		seeded = true;
	}
	z = state += 0x9e3779b97f4a7c15u;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* A request id: the client's own when it is short and plain, else new. */
static void http_request_id(struct MHD_Connection *conn, struct http_req *hr)
{
	static const char hex[] = "0123456789abcdef";
	const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							"X-Request-Id");
	uint64_t id;

	if (given && *given && strlen(given) < sizeof(hr->id) &&
	    strspn(given,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
		    strlen(given)) {
		strcpy(hr->id, given);
		return;
	}
	id = http_id_next();
	for (size_t i = 0; i < 16; i++)
		hr->id[i] = hex[(id >> (60 - 4 * i)) & 0xf];
	hr->id[16] = '\0';
}

/* The first call for a request, its headers all in: what can be refused
 * from them alone is refused now, before a byte of the body is read.
 * Returns MHD_YES to go on, or the early answer's result. */
static enum MHD_Result http_headers_in(struct MHD_Connection *conn,
				       const struct http_listener *l,
				       struct http_req *hr, const char *url,
				       const char *method, const char *version)
{
	const char *cl, *framing, *unauthorized;
	struct http_headers challenge = { 0 };
	struct problem p = PROBLEM_INIT;
	int status;

	http_conn_headers_done(conn);
	http_request_id(conn, hr);
	snprintf(hr->method, sizeof(hr->method), "%s", method);
	hr->path = strndup(url, 512);
	/* libmicrohttpd 0.9 hands the target over as a C string, so a
	 * raw NUL inside it would silently cut the path short. The
	 * target is followed by exactly one space, then the version,
	 * in the same buffer: anything else means a NUL was there. */
	if (!version || strncmp(version, "HTTP/1.", 7) || !hr->target_end ||
	    hr->target_end + 1 != version) {
		hr->answered = true;
		return http_fail(conn, hr, 400, "malformed-request",
				 "the request line is malformed", NULL);
	}
	framing = http_framing_problem(conn, &status);
	if (framing) {
		struct http_headers h = { .close = true };

		hr->answered = true;
		return http_fail(conn, hr, status, "malformed-request", framing,
				 &h);
	}
	/* Host and Origin: DNS rebinding and cross-site requests are
	 * refused before any handler runs or any body is stored. */
	if (origin_check(conn, http_cfg, url, &p) < 0) {
		enum MHD_Result r = http_send_problem(conn, hr, &p, NULL);

		problem_clear(&p);
		hr->answered = true;
		return r;
	}
	/* Answered now, on the first call, libmicrohttpd neither
	 * sends 100 Continue nor reads the body into memory. */
	unauthorized = http_unauthorized(conn, l, url, method,
					 &challenge.auth_challenge);
	if (unauthorized) {
		hr->answered = true;
		return http_fail(conn, hr, 401, "unauthorized", unauthorized,
				 &challenge);
	}
	/* Never trust the size the client announces beyond refusing
	 * it early; the bytes are counted as they come anyway. */
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 "Content-Length");
	if (cl && strtoull(cl, NULL, 10) > http_cfg->max_body) {
		hr->answered = true;
		return http_too_large(conn, hr);
	}
	return MHD_YES;
}

/* A piece of the body: kept while the whole stays within --max-body; past
 * it, what was kept is let go, and a 413 comes once the body is all in. */
static enum MHD_Result http_body_piece(struct http_req *hr, const char *upload,
				       size_t *upload_size)
{
	if (!hr->too_large && hr->len + *upload_size > http_cfg->max_body) {
		hr->too_large = true;
		free(hr->body);
		hr->body = NULL;
		hr->len = hr->cap = 0;
	}
	if (!hr->too_large && !hr->answered) {
		if (hr->len + *upload_size + 1 > hr->cap) {
			size_t cap = hr->cap ? hr->cap : 1024;
			char *grown;

			while (cap < hr->len + *upload_size + 1)
				cap *= 2;
			grown = realloc(hr->body, cap);
			if (!grown)
				return MHD_NO;
			hr->body = grown;
			hr->cap = cap;
		}
		memcpy(hr->body + hr->len, upload, *upload_size);
		hr->len += *upload_size;
		hr->body[hr->len] = '\0';
	}
	*upload_size = 0;
	return MHD_YES;
}

/* The request is all in: answered now, unless it was already. */
static enum MHD_Result http_all_in(struct MHD_Connection *conn, const char *url,
				   const char *method, struct http_req *hr)
{
	enum MHD_Result r;

	/* Resumed: its handler is done (http_run). */
	if (hr->job) {
		r = http_reply(conn, hr, hr->job);
		http_job_free(hr->job);
		hr->job = NULL;
		return r;
	}
	if (hr->answered)
		return MHD_YES;
	hr->answered = true;
	http_conn_phase(conn, false); /* all in: handling takes what it takes */
	/* After the phase change, so that http_stop() either waits for this
	 * request or this request sees that it must not start. */
	if (atomic_load(&http_stopping)) {
		struct http_headers h = { .close = true };

		return http_fail(conn, hr, 503, "shutting-down",
				 "netnsd is shutting down; nothing was changed",
				 &h);
	}
	if (hr->too_large)
		return http_too_large(conn, hr);
	return http_dispatch(conn, url, method, hr);
}

/* libmicrohttpd's calls for a request: once with its headers, once per
 * piece of its body, and once when it is all in. */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn,
				   const char *url, const char *method,
				   const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct http_req *hr = *con_cls;

	if (!hr)
		return MHD_NO; /* http_uri_seen could not allocate */
	if (!hr->method[0])
		return http_headers_in(conn, cls, hr, url, method, version);
	if (*upload_size)
		return http_body_piece(hr, upload, upload_size);
	return http_all_in(conn, url, method, hr);
}

/* Called first for every request, with the raw target (path and query):
 * the per-request state starts here, so its end can be checked. */
static void *http_uri_seen(void *cls, const char *uri,
			   struct MHD_Connection *conn)
{
	struct http_req *hr = calloc(1, sizeof(*hr));
	size_t path_len;

	(void)cls;
	(void)conn;
	if (!hr)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &hr->start);
	hr->target_end = uri + strlen(uri);
	/* Parsing the query rewrites it in place: keep the raw target of
	 * the rare request that may be redirected. */
	path_len = strcspn(uri, "?");
	if (path_len > 1 && uri[path_len - 1] == '/')
		hr->slash_target = strndup(uri, 4096);
	return hr;
}

static void http_completed(void *cls, struct MHD_Connection *conn,
			   void **con_cls, enum MHD_RequestTerminationCode toe)
{
	static const char *const keys[] = { "request_id", "method", "path",
					    "status", "duration_ms" };
	struct http_req *hr = *con_cls;
	struct timespec now;
	const char *vals[5];
	char status[8], ms[32];
	double secs;

	(void)cls;
	(void)toe;
	if (!hr)
		return;
	http_conn_phase(conn, true); /* the next request's turn */
	if (hr->status) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		secs = (double)(now.tv_sec - hr->start.tv_sec) +
		       (double)(now.tv_nsec - hr->start.tv_nsec) / 1e9;
		snprintf(status, sizeof(status), "%d", hr->status);
		snprintf(ms, sizeof(ms), "%.3f", secs * 1000);
		vals[0] = hr->id;
		vals[1] = hr->method;
		vals[2] = hr->path ? hr->path : "";
		vals[3] = status;
		vals[4] = ms;
		log_fields(LOG_LEVEL_INFO, "request", 5, keys, vals);
		metrics_request(hr->route, hr->method, hr->status, secs);
	}
	http_job_free(hr->job);
	free(hr->body);
	free(hr->path);
	free(hr->slash_target);
	free(hr);
	*con_cls = NULL;
}

/* Paths are split and decoded by the router, segment by segment, so that an
 * encoded '/' stays inside its segment: MHD must hand them over raw. */
static size_t http_unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libmicrohttpd: %s", line);
}

static int http_listen_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	struct group *gr;
	gid_t gid = 0;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("cannot listen on unix:%s: path too long", path);
		return -1;
	}
	if (http_cfg->socket_group) {
		gr = getgrnam(http_cfg->socket_group);
		if (!gr) {
			log_error("cannot listen on unix:%s: no group %s", path,
				  http_cfg->socket_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error(
				"cannot listen on unix:%s: it exists and is not a socket",
				path);
			close(fd);
			return -1;
		}
		/* A socket nobody answers on is stale: remove it. */
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			log_error(
				"cannot listen on unix:%s: another process serves it",
				path);
			close(fd);
			return -1;
		}
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || unlink(path) < 0)
			goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	if (chmod(path, http_cfg->socket_mode) < 0 ||
	    chown(path, (uid_t)-1, gid) < 0)
		goto fail;
	if (listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	log_error("cannot listen on unix:%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static bool http_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)
				      ->sin_addr.s_addr) >>
			24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

static int http_listen_tcp(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char host[256];
	const char *port, *colon;
	int fd = -1, one = 1;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (!end || end[1] != ':' ||
		    (size_t)(end - spec) >= sizeof(host))
			goto bad;
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		host[end - spec - 1] = '\0';
		port = end + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || (size_t)(colon - spec) >= sizeof(host) ||
		    memchr(spec, ':', (size_t)(colon - spec)))
			goto bad;
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		port = colon + 1;
	}
	if (!*host || !*port || strlen(port) > 5 ||
	    strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 ||
	    atoi(port) > 65535 || getaddrinfo(host, port, &hints, &ai))
		goto bad;
	/* Whoever reaches this port owns the host's network. */
	if (!http_is_loopback(ai->ai_addr) && !auth_enabled() &&
	    !http_cfg->tls_cert && !http_cfg->insecure) {
		log_error(
			"refusing to listen on %s: it is not a loopback address and neither --token-file nor --tls-cert is set, so anyone who reaches it could reconfigure this host's network; add one of them, or --insecure if you really mean it",
			spec);
		freeaddrinfo(ai);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0)
		goto fail;
	freeaddrinfo(ai);
	return fd;
bad:
	if (ai)
		freeaddrinfo(ai);
	log_error(
		"cannot listen on %s: want ADDR:PORT (numeric address, IPv6 in brackets, port 1-65535) or unix:PATH",
		spec);
	return -1;
fail:
	log_error("cannot listen on %s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static char *http_read_pem(const char *flag, const char *path)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		log_error("cannot read %s %s: %s", flag, path, strerror(errno));
		return NULL;
	}
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = NULL;
		log_error("cannot read %s %s: empty or unreadable", flag, path);
	}
	fclose(f);
	return text;
}

static int http_fds[CONFIG_LISTEN_MAX];
static size_t http_n_fds;

int http_prepare(const struct config *cfg)
{
	pthread_rwlockattr_t attr;

	http_cfg = cfg;
	pthread_rwlockattr_init(&attr);
	/* Readers must not starve the single writer. */
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&http_rw, &attr);
	pthread_rwlockattr_destroy(&attr);

	if (cfg->token_file && auth_load(cfg->token_file, cfg->user) < 0)
		return -1;
	if (cfg->tls_cert) {
		http_tls_cert = http_read_pem("--tls-cert", cfg->tls_cert);
		http_tls_key = http_read_pem("--tls-key", cfg->tls_key);
		if (!http_tls_cert || !http_tls_key)
			return -1;
		if (cfg->tls_priority)
			http_tls_priority = cfg->tls_priority;
		if (tls_priority_check(http_tls_priority) < 0)
			return -1;
		if (cfg->tls_client_ca) {
			http_tls_ca = http_read_pem("--tls-client-ca",
						    cfg->tls_client_ca);
			if (!http_tls_ca)
				return -1;
		}
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const char *spec = cfg->listen[i];
		int fd = !strncmp(spec, "unix:", 5) ? http_listen_unix(spec + 5)
						    : http_listen_tcp(spec);

		if (fd < 0)
			return -1;
		http_fds[http_n_fds++] = fd;
	}
	return 0;
}

int http_serve(struct store *store)
{
	const struct config *cfg = http_cfg;
	int r;

	http_store = store;
	/* Handlers run on threads of their own (server/workers.h); without
	 * them, on libmicrohttpd's (http_run). */
	r = workers_start(cfg->threads);
	if (r < 0)
		log_warn(
			"cannot start the threads that run requests (%s): they run on the connections' threads",
			strerror(-r));
	for (size_t i = 0; i < http_n_fds; i++) {
		const char *spec = cfg->listen[i];
		bool is_unix = !strncmp(spec, "unix:", 5);
		struct http_listener *l = &http_listeners[i];
		/* Suspend and resume let an event stream wait without
		 * holding one of the pool's threads. */
		unsigned flags =
			MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
		struct MHD_Daemon *d;

		/* TLS guards the network listeners; a unix socket is guarded
		 * by its mode and group. */
		l->tls = !is_unix && http_tls_cert;
		l->client_ca = l->tls && http_tls_ca;
		if (l->tls)
			flags |= MHD_USE_TLS;
		d = MHD_start_daemon(
			flags, 0, NULL, NULL, http_access, l,
			MHD_OPTION_LISTEN_SOCKET, http_fds[i],
			MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
			MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout,
			/* --max-connections is kept by http_conn_notify,
			 * which makes room by closing a connection still
			 * waiting for its headers: libmicrohttpd must
			 * accept past it to get that chance. */
			MHD_OPTION_CONNECTION_LIMIT,
			cfg->max_connections + HTTP_CONN_SLACK * cfg->threads,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT,
			is_unix ? 0u : cfg->max_connections_per_ip,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			cfg->max_header_size, MHD_OPTION_NOTIFY_COMPLETED,
			http_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK,
			http_uri_seen, NULL, MHD_OPTION_NOTIFY_CONNECTION,
			http_conn_notify, NULL, MHD_OPTION_UNESCAPE_CALLBACK,
			http_unescape_none, NULL, MHD_OPTION_STRICT_FOR_CLIENT,
			1, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
			l->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
			http_tls_cert, MHD_OPTION_HTTPS_MEM_KEY, http_tls_key,
			MHD_OPTION_HTTPS_PRIORITIES, http_tls_priority,
			l->client_ca ? MHD_OPTION_HTTPS_MEM_TRUST
				     : MHD_OPTION_END,
			http_tls_ca, MHD_OPTION_END);
		if (!d) {
			log_error(
				"cannot serve on %s%s", spec,
				l->tls ? " (are the TLS certificate and key valid and matching?)"
				       : "");
			goto fail;
		}
		http_daemons[http_n_daemons++] = d;
		log_info("listening on %s%s", spec,
			 l->client_ca ? " (TLS, client certificates required)"
			 : l->tls     ? " (TLS)"
				      : "");
	}
	return 0;
fail:
	http_stop();
	return -1;
}

void http_stop(void)
{
	/* Stop accepting first; then requests in flight finish, each
	 * answered only once it is durable, before the threads end. Event
	 * streams end now: they would never finish by themselves, and
	 * libmicrohttpd must not be stopped with one suspended. */
	events_stop();
	for (size_t i = 0; i < http_n_daemons; i++) {
		MHD_socket fd = MHD_quiesce_daemon(http_daemons[i]);

		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	/* Let every request already received be answered (bounded), so that
	 * none is applied and then cut off before its client hears of it;
	 * later ones are refused. */
	atomic_store(&http_stopping, true);
	for (int waited = 0; waited < 1000 && http_busy_connections();
	     waited++) {
		struct timespec ms10 = { .tv_nsec = 10 * 1000 * 1000 };

		nanosleep(&ms10, NULL);
	}
	/* A handler still running holds its connection suspended, which
	 * libmicrohttpd must not be stopped with: it is waited for (each
	 * kernel call it makes is bounded by --netlink-timeout). */
	workers_stop();
	for (size_t i = 0; i < http_n_daemons; i++)
		MHD_stop_daemon(http_daemons[i]);
	http_n_daemons = 0;
}
