/* Unit tests of server/router.c against a route table of our own: exact and
 * parameter matches, percent-decoding, and the 400, 404 and 405 (with Allow)
 * answers that come from the table rather than from handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/router.h"

#include "check.h"

/* Each handler leaves its own mark, so a test can tell which one ran. */
#define TEST_HANDLER(fn, mark)                                \
	static int fn(struct request *req, struct reply *rep) \
	{                                                     \
		(void)req;                                    \
		rep->status = (mark);                         \
		return 0;                                     \
	}

TEST_HANDLER(h_health, 1)
TEST_HANDLER(h_ns_list, 2)
TEST_HANDLER(h_ns_create, 3)
TEST_HANDLER(h_ns_get, 4)
TEST_HANDLER(h_ns_put, 5)
TEST_HANDLER(h_ns_delete, 6)
TEST_HANDLER(h_link_get, 7)
TEST_HANDLER(h_link_patch, 8)
TEST_HANDLER(h_addr_delete, 9)
TEST_HANDLER(h_port_put, 10)
TEST_HANDLER(h_port_delete, 11)
TEST_HANDLER(h_reconcile, 12)
TEST_HANDLER(h_route_delete, 13)

const struct route router_routes[] = {
	{ "GET", "/healthz", h_health, 0, 0 },
	{ "GET", "/v1/namespaces", h_ns_list, 0, 0 },
	{ "POST", "/v1/namespaces", h_ns_create, ROUTE_MUTATES, 0 },
	{ "GET", "/v1/namespaces/{ns}", h_ns_get, 0, 0 },
	{ "PUT", "/v1/namespaces/{ns}", h_ns_put, ROUTE_MUTATES, 0 },
	{ "DELETE", "/v1/namespaces/{ns}", h_ns_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE },
	{ "GET", "/v1/namespaces/{ns}/links/{link}", h_link_get, 0, 0 },
	{ "PATCH", "/v1/namespaces/{ns}/links/{link}", h_link_patch,
	  ROUTE_MUTATES, 0 },
	{ "DELETE",
	  "/v1/namespaces/{ns}/links/{link}/addresses/{ip}/{prefixlen}",
	  h_addr_delete, ROUTE_MUTATES, 0 },
	{ "PUT", "/v1/namespaces/{ns}/bridges/{br}/ports/{link}", h_port_put,
	  ROUTE_MUTATES, 0 },
	{ "DELETE", "/v1/namespaces/{ns}/bridges/{br}/ports/{link}",
	  h_port_delete, ROUTE_MUTATES, 0 },
	{ "POST", "/v1/reconcile", h_reconcile, ROUTE_MUTATES, 0 },
	{ "DELETE", "/v1/namespaces/{ns}/routes/{dst}/{prefixlen}",
	  h_route_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_TABLE | ROUTE_QUERY_METRIC },
	{ "GET", "/", h_health, 0, 0 },
	{ "GET", "/v1/links", h_ns_list, 0,
	  ROUTE_QUERY_NAMESPACE | ROUTE_QUERY_KIND | ROUTE_QUERY_MANAGED |
		  ROUTE_QUERY_IN_SYNC },
};

const size_t router_n_routes = sizeof(router_routes) / sizeof(router_routes[0]);

/* One routing attempt and all it leaves behind. */
struct attempt {
	int r;
	const struct route *route;
	struct request req;
	struct problem p;
	char allow[128];
	int mark; /* what the matched handler set */
};

static void attempt_run(struct attempt *a, const char *method, const char *path)
{
	struct reply rep;

	memset(a, 0, sizeof(*a));
	memset(&rep, 0, sizeof(rep));
	a->req.method = method;
	a->req.path = path;
	strcpy(a->allow, "untouched");
	a->r = router_match(method, path, &a->route, &a->req, a->allow,
			    sizeof(a->allow), &a->p);
	if (a->r == 0 && a->route) {
		a->route->handle(&a->req, &rep);
		a->mark = rep.status;
	}
}

static void attempt_done(struct attempt *a)
{
	request_clear(&a->req);
	problem_clear(&a->p);
}

/* `method path` reaches the handler that leaves `mark`, with no problem
 * and no Allow. */
static int routes_to(const char *method, const char *path, int mark)
{
	struct attempt a;
	int ok;

	attempt_run(&a, method, path);
	ok = a.r == 0 && a.route && a.mark == mark && a.p.status == 0 &&
	     a.allow[0] == '\0';
	if (!ok)
		fprintf(stderr, "  %s %s: r=%d mark=%d allow=\"%s\"\n", method,
			path, a.r, a.mark, a.allow);
	attempt_done(&a);
	return ok;
}

/* `method path` is refused with `status`; for a 405, `allow` is the Allow
 * list, and for anything else Allow is empty. */
static int refused(const char *method, const char *path, int status,
		   const char *allow)
{
	struct attempt a;
	json_t *doc;
	int ok;

	attempt_run(&a, method, path);
	doc = problem_to_json(&a.p);
	ok = a.r == -status && a.p.status == status && a.p.detail[0] &&
	     doc != NULL && !strcmp(a.allow, allow ? allow : "");
	if (!ok)
		fprintf(stderr, "  %s %s: r=%d allow=\"%s\" detail=%s\n",
			method, path, a.r, a.allow, a.p.detail);
	json_decref(doc);
	attempt_done(&a);
	return ok;
}

/* The single parameter of `GET /v1/namespaces/{ns}` is `want`. */
static int ns_param_is(const char *path, const char *want)
{
	struct attempt a;
	const char *got;
	int ok;

	attempt_run(&a, "GET", path);
	got = a.r == 0 ? request_param(&a.req, "ns") : NULL;
	ok = a.mark == 4 && a.req.n_params == 1 && got && !strcmp(got, want);
	if (!ok)
		fprintf(stderr, "  %s: r=%d ns=%s, not %s\n", path, a.r,
			got ? got : "(null)", want);
	attempt_done(&a);
	return ok;
}

static void test_exact(void)
{
	struct attempt a;

	CHECK(routes_to("GET", "/healthz", 1));
	CHECK(routes_to("GET", "/v1/namespaces", 2));
	CHECK(routes_to("POST", "/v1/namespaces", 3));
	CHECK(routes_to("POST", "/v1/reconcile", 12));

	attempt_run(&a, "GET", "/healthz");
	CHECK(a.route == &router_routes[0]);
	CHECK(a.req.n_params == 0);
	CHECK(request_param(&a.req, "ns") == NULL);
	attempt_done(&a);

	attempt_run(&a, "PUT", "/v1/namespaces/blue");
	CHECK(a.route == &router_routes[4]);
	CHECK(a.route && (a.route->flags & ROUTE_MUTATES));
	attempt_done(&a);
	attempt_run(&a, "GET", "/v1/namespaces/blue");
	CHECK(a.route && !(a.route->flags & ROUTE_MUTATES));
	attempt_done(&a);

	/* HEAD is answered by the GET route. */
	CHECK(routes_to("HEAD", "/healthz", 1));
	CHECK(routes_to("HEAD", "/v1/namespaces", 2));
	CHECK(routes_to("HEAD", "/v1/namespaces/blue", 4));

	/* A query string is not part of the path. */
	CHECK(routes_to("GET", "/healthz?verbose=1", 1));
	CHECK(routes_to("DELETE", "/v1/namespaces/blue?force=true", 6));
	CHECK(ns_param_is("/v1/namespaces/blue?force=true", "blue"));
}

/* One trailing slash on a known path is a 308 whatever the method, so a
 * rule for one name cannot be dodged by the other; on an unknown path it is
 * a 404, and two slashes name nothing. */
static void test_trailing_slash(void)
{
	struct attempt a;

	CHECK(refused("GET", "/healthz/", 308, NULL));
	CHECK(refused("GET", "/v1/namespaces/", 308, NULL));
	CHECK(refused("POST", "/v1/namespaces/", 308, NULL));
	CHECK(refused("PATCH", "/v1/namespaces/", 308, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue/", 308, NULL));
	CHECK(refused("DELETE", "/v1/namespaces/blue/", 308, NULL));
	CHECK(refused("DELETE", "/v1/namespaces/blue/?force=true", 308, NULL));
	CHECK(refused("PUT", "/v1/namespaces/blue/bridges/br0/ports/va/", 308,
		      NULL));
	CHECK(refused("GET", "/nope/", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue/nope/", 404, NULL));

	/* No handler ran, nothing was decoded. */
	attempt_run(&a, "DELETE", "/v1/namespaces/blue/");
	CHECK(a.mark == 0 && a.req.n_params == 0);
	attempt_done(&a);
}

/* The redirect's target: the path without its slash, the query kept. */
static int canonical_is(const char *target, const char *want)
{
	char buf[64];
	int ok = router_canonical(target, buf, sizeof(buf)) == 0 &&
		 !strcmp(buf, want);

	if (!ok)
		fprintf(stderr, "  %s: got %s, want %s\n", target, buf, want);
	return ok;
}

static void test_canonical(void)
{
	char small[8];

	CHECK(canonical_is("/v1/namespaces/", "/v1/namespaces"));
	CHECK(canonical_is("/v1/namespaces/red/?force=true",
			   "/v1/namespaces/red?force=true"));
	CHECK(canonical_is("/v1/x/?a=/b/", "/v1/x?a=/b/"));
	CHECK(canonical_is("/", "/"));
	CHECK(router_canonical("/v1/namespaces/", small, sizeof(small)) == -1);
}

static void test_params(void)
{
	struct attempt a;

	CHECK(routes_to("GET", "/v1/namespaces/blue", 4));
	CHECK(routes_to("PUT", "/v1/namespaces/blue", 5));
	CHECK(routes_to("DELETE", "/v1/namespaces/blue", 6));
	CHECK(routes_to("GET", "/v1/namespaces/blue/links/veth0", 7));
	CHECK(routes_to("PATCH", "/v1/namespaces/blue/links/veth0", 8));
	CHECK(routes_to("PUT", "/v1/namespaces/blue/bridges/br0/ports/va", 10));
	CHECK(routes_to("DELETE", "/v1/namespaces/blue/bridges/br0/ports/va",
			11));

	attempt_run(&a, "GET", "/v1/namespaces/blue/links/veth0");
	CHECK(a.req.n_params == 2);
	CHECK(request_param(&a.req, "ns") &&
	      !strcmp(request_param(&a.req, "ns"), "blue"));
	CHECK(request_param(&a.req, "link") &&
	      !strcmp(request_param(&a.req, "link"), "veth0"));
	/* Names are whole: no prefix, no extension, no braces. */
	CHECK(request_param(&a.req, "n") == NULL);
	CHECK(request_param(&a.req, "nsx") == NULL);
	CHECK(request_param(&a.req, "lin") == NULL);
	CHECK(request_param(&a.req, "{ns}") == NULL);
	CHECK(request_param(&a.req, "") == NULL);
	CHECK(request_param(&a.req, "br") == NULL);
	attempt_done(&a);

	/* Three parameters, the same name in the value as in another. */
	attempt_run(&a, "PUT", "/v1/namespaces/red/bridges/br0/ports/red");
	CHECK(a.mark == 10 && a.req.n_params == 3);
	CHECK(request_param(&a.req, "ns") &&
	      !strcmp(request_param(&a.req, "ns"), "red"));
	CHECK(request_param(&a.req, "br") &&
	      !strcmp(request_param(&a.req, "br"), "br0"));
	CHECK(request_param(&a.req, "link") &&
	      !strcmp(request_param(&a.req, "link"), "red"));
	attempt_done(&a);

	/* Four parameters; an IPv6 address needs no encoding in a path. */
	attempt_run(&a, "DELETE",
		    "/v1/namespaces/blue/links/va/addresses/2001:db8::1/64");
	CHECK(a.mark == 9 && a.req.n_params == 4);
	CHECK(request_param(&a.req, "ip") &&
	      !strcmp(request_param(&a.req, "ip"), "2001:db8::1"));
	CHECK(request_param(&a.req, "prefixlen") &&
	      !strcmp(request_param(&a.req, "prefixlen"), "64"));
	attempt_done(&a);
	attempt_run(&a, "DELETE",
		    "/v1/namespaces/blue/links/va/addresses/198.18.0.1/24");
	CHECK(a.mark == 9 && request_param(&a.req, "ip") &&
	      !strcmp(request_param(&a.req, "ip"), "198.18.0.1"));
	attempt_done(&a);
	attempt_run(
		&a, "DELETE",
		"/v1/namespaces/blue/links/va/addresses/2001%3Adb8%3A%3A1/64");
	CHECK(a.mark == 9 && request_param(&a.req, "ip") &&
	      !strcmp(request_param(&a.req, "ip"), "2001:db8::1"));
	attempt_done(&a);
}

static void test_decode(void)
{
	struct attempt a;

	CHECK(ns_param_is("/v1/namespaces/%41", "A"));
	CHECK(ns_param_is("/v1/namespaces/%61%62c", "abc"));
	CHECK(ns_param_is("/v1/namespaces/x%2dy", "x-y"));
	CHECK(ns_param_is("/v1/namespaces/%7e%7E", "~~"));
	CHECK(ns_param_is("/v1/namespaces/%25", "%"));
	CHECK(ns_param_is("/v1/namespaces/%2541", "%41")); /* decoded once */
	CHECK(ns_param_is("/v1/namespaces/a%20b", "a b"));
	CHECK(ns_param_is("/v1/namespaces/a+b", "a+b")); /* not a space */
	CHECK(ns_param_is("/v1/namespaces/caf%C3%A9", "caf\xc3\xa9"));
	CHECK(ns_param_is("/v1/namespaces/%3F", "?"));
	CHECK(ns_param_is("/v1/namespaces/..", "..")); /* names refuse it */
	/* An encoded '/' stays inside its segment: one parameter, and the
	 * namespace route, not a deeper one. */
	CHECK(ns_param_is("/v1/namespaces/a%2Fb", "a/b"));
	CHECK(ns_param_is("/v1/namespaces/a%2fb", "a/b"));
	CHECK(ns_param_is("/v1/namespaces/..%2F..%2Fetc", "../../etc"));
	attempt_run(&a, "GET", "/v1/namespaces/blue%2Flinks%2Fva");
	CHECK(a.mark == 4 && a.req.n_params == 1);
	attempt_done(&a);

	/* An encoded NUL or a bad escape is a 400, not a shorter name. */
	CHECK(refused("GET", "/v1/namespaces/%00", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue%00", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue%00.json", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%4", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/a%4", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/a%", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%zz", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%4g", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%g4", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%%41", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/% 41", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%-1", 400, NULL));
	CHECK(refused("GET", "/v1/namespaces/%4?x", 400, NULL));
	/* Other methods' routes on the same path leave no Allow on a 400. */
	CHECK(refused("DELETE", "/v1/namespaces/%00", 400, NULL));
	/* The bad one may be the second parameter, after one was decoded;
	 * request_clear frees that one (checked under ASan). */
	attempt_run(&a, "GET", "/v1/namespaces/blue/links/%00");
	CHECK(a.r == -400 && a.p.status == 400);
	CHECK(a.req.n_params <= 1);
	attempt_done(&a);
	CHECK(a.req.n_params == 0);
}

static void test_not_found(void)
{
	char *long_path;
	char deep[256] = "";

	CHECK(refused("GET", "", 404, NULL));
	CHECK(refused("GET", "healthz", 404, NULL));
	CHECK(refused("GET", "/nope", 404, NULL));
	CHECK(refused("GET", "/v1", 404, NULL));
	CHECK(refused("GET", "/v1/namespace", 404, NULL));
	CHECK(refused("GET", "/v1/Namespaces", 404, NULL));
	CHECK(refused("GET", "/V1/namespaces", 404, NULL));
	CHECK(refused("GET", "/healthz/x", 404, NULL));
	CHECK(refused("GET", "/healthzz", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue/nope", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue/links", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue/links/va/x", 404, NULL));
	CHECK(refused("POST", "/nope", 404, NULL));
	/* Trailing slashes and empty segments name nothing. */
	CHECK(refused("GET", "//", 404, NULL));
	CHECK(refused("GET", "//healthz", 404, NULL));
	CHECK(refused("GET", "/v1//namespaces", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces//links/va", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue/links//", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces//", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue//", 404, NULL));
	CHECK(refused("GET", "/v1/namespaces/blue//?force=true", 404, NULL));
	/* More segments than any route has. */
	for (int i = 0; i < 20; i++)
		strcat(deep, "/v1");
	CHECK(refused("GET", deep, 404, NULL));
	/* A path longer than any real one: a 400 that says so. */
	long_path = malloc(4096);
	if (long_path) {
		strcpy(long_path, "/v1/namespaces/");
		memset(long_path + 15, 'a', 3000);
		long_path[3015] = '\0';
		CHECK(refused("GET", long_path, 400, NULL));
		free(long_path);
	}
}

static void test_method_not_allowed(void)
{
	struct attempt a;
	char small[8];

	CHECK(refused("PATCH", "/v1/namespaces/blue", 405, "GET, PUT, DELETE"));
	CHECK(refused("POST", "/v1/namespaces/blue", 405, "GET, PUT, DELETE"));
	CHECK(refused("POST", "/healthz", 405, "GET"));
	CHECK(refused("DELETE", "/healthz", 405, "GET"));
	CHECK(refused("PUT", "/v1/namespaces", 405, "GET, POST"));
	CHECK(refused("DELETE", "/v1/namespaces", 405, "GET, POST"));
	CHECK(refused("PUT", "/v1/namespaces/blue/links/va", 405,
		      "GET, PATCH"));
	CHECK(refused("GET", "/v1/namespaces/blue/bridges/br0/ports/va", 405,
		      "PUT, DELETE"));
	CHECK(refused("GET", "/v1/reconcile", 405, "POST"));
	/* HEAD stands in for GET only. */
	CHECK(refused("HEAD", "/v1/reconcile", 405, "POST"));
	CHECK(refused("HEAD", "/v1/namespaces/blue/bridges/br0/ports/va", 405,
		      "PUT, DELETE"));
	/* Methods are case-sensitive; unknown ones are simply not allowed. */
	CHECK(refused("get", "/healthz", 405, "GET"));
	CHECK(refused("BREW", "/healthz", 405, "GET"));
	CHECK(refused("", "/healthz", 405, "GET"));

	attempt_run(&a, "PATCH", "/v1/namespaces/blue");
	CHECK(a.p.type && !strcmp(a.p.type, "method-not-allowed"));
	CHECK(strstr(a.p.detail, "PATCH") != NULL);
	CHECK(a.req.n_params == 0); /* nothing decoded for a refusal */
	attempt_done(&a);

	/* A short Allow buffer is cut, never overrun. */
	memset(&a, 0, sizeof(a));
	CHECK(router_match("PATCH", "/v1/namespaces/blue", &a.route, &a.req,
			   small, sizeof(small), &a.p) == -405);
	CHECK(strlen(small) < sizeof(small));
	CHECK(!strncmp(small, "GET, PUT", sizeof(small) - 1));
	attempt_done(&a);
}

static void test_clear(void)
{
	struct request req;
	struct attempt a;

	memset(&req, 0, sizeof(req));
	request_clear(&req); /* nothing to free */
	CHECK(req.n_params == 0);

	attempt_run(&a, "PUT", "/v1/namespaces/red/bridges/br0/ports/va");
	CHECK(a.req.n_params == 3);
	request_clear(&a.req);
	CHECK(a.req.n_params == 0);
	CHECK(request_param(&a.req, "ns") == NULL);
	request_clear(&a.req); /* twice is harmless */
	CHECK(a.req.n_params == 0);

	/* The same request can be routed again after a clear. */
	CHECK(router_match("GET", "/v1/namespaces/blue/links/va", &a.route,
			   &a.req, a.allow, sizeof(a.allow), &a.p) == 0);
	CHECK(a.req.n_params == 2);
	CHECK(request_param(&a.req, "link") &&
	      !strcmp(request_param(&a.req, "link"), "va"));
	attempt_done(&a);
}

/* Feeds `query` ("a=b&c", no percent-decoding, as libmicrohttpd hands the
 * parameters over here) to router_query for `route`; returns what the last
 * call returned, or the first failure. */
static int query_run(const struct route *route, const char *query,
		     struct request *req, struct problem *p)
{
	char buf[256], *save = NULL, *kv;
	int r = 0, one;

	memset(req, 0, sizeof(*req));
	snprintf(buf, sizeof(buf), "%s", query);
	for (kv = strtok_r(buf, "&", &save); kv;
	     kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');

		if (eq)
			*eq++ = '\0';
		one = router_query(route, req, kv, eq, p);
		if (one < 0 && r == 0)
			r = one;
	}
	return r;
}

/* The field of the first error of p. */
static const char *query_field(const struct problem *p)
{
	json_t *e = p->errors ? json_array_get(p->errors, 0) : NULL;

	return e ? json_string_value(json_object_get(e, "field")) : NULL;
}

static int query_refused(const struct route *route, const char *query,
			 const char *field)
{
	struct request req;
	struct problem p = PROBLEM_INIT;
	int r = query_run(route, query, &req, &p);
	const char *got = query_field(&p);
	int ok = r == -400 && p.status == 400 && p.type &&
		 !strcmp(p.type, "invalid-value") && got && !strcmp(got, field);

	if (!ok)
		fprintf(stderr, "  ?%s: r=%d field=%s detail=%s\n", query, r,
			got ? got : "(none)", p.detail);
	problem_clear(&p);
	return ok;
}

/* Strict query strings (README.md, "Query parameters"): only what the
 * route lists, booleans exactly true or false. */
static void test_query(void)
{
	const struct route *del = &router_routes[5], *get = &router_routes[3];
	struct problem p = PROBLEM_INIT;
	struct request req;
	char name[300];

	CHECK(del->query & ROUTE_QUERY_FORCE);
	CHECK(query_run(del, "force=true", &req, &p) == 0 && req.force);
	CHECK(query_run(del, "force=false", &req, &p) == 0 && !req.force);
	CHECK(query_run(del, "force=true&force=true", &req, &p) == 0 &&
	      req.force);
	CHECK(query_run(del, "", &req, &p) == 0 && !req.force);
	CHECK(p.status == 0);

	CHECK(query_refused(del, "force=1", "query.force"));
	CHECK(query_refused(del, "force=0", "query.force"));
	CHECK(query_refused(del, "force=TRUE", "query.force"));
	CHECK(query_refused(del, "force=banana", "query.force"));
	CHECK(query_refused(del, "force=", "query.force"));
	CHECK(query_refused(del, "force", "query.force"));
	CHECK(query_refused(del, "force=%74rue", "query.force"));
	CHECK(query_refused(del, "force=true&force=false", "query.force"));
	CHECK(query_refused(del, "force=false&force=true", "query.force"));
	CHECK(query_refused(del, "x=1", "query.x"));
	CHECK(query_refused(del, "force=true&dry_run=true", "query.dry_run"));
	CHECK(query_refused(del, "%66orce=true", "query.%66orce"));
	/* A route without force takes none. */
	CHECK(query_refused(get, "force=true", "query.force"));
	/* The name in an error is short and printable, whatever was sent. */
	CHECK(query_refused(del, "a\x01\xff=1", "query.a??"));
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(&req, 0, sizeof(req));
	CHECK(router_query(del, &req, name, "true", &p) == -400);
	CHECK(query_field(&p) && strlen(query_field(&p)) == 6 + 64 + 3 &&
	      !strcmp(query_field(&p) + 70, "..."));
	problem_clear(&p);
}

/* A route's selectors are numbers in plain decimal: a table from 1, a
 * metric from 0, to 4294967295. */
static void test_query_numbers(void)
{
	const struct route *rdel = &router_routes[12], *del = &router_routes[5];
	struct problem p = PROBLEM_INIT;
	struct request req;

	CHECK(query_run(rdel, "table=100&metric=5&force=true", &req, &p) == 0 &&
	      req.table == 100 && req.metric == 5 && req.force &&
	      (req.query_seen & ROUTE_QUERY_TABLE) &&
	      (req.query_seen & ROUTE_QUERY_METRIC));
	CHECK(query_run(rdel, "metric=0", &req, &p) == 0 && req.metric == 0 &&
	      (req.query_seen & ROUTE_QUERY_METRIC) &&
	      !(req.query_seen & ROUTE_QUERY_TABLE));
	CHECK(query_run(rdel, "table=4294967295", &req, &p) == 0 &&
	      req.table == 4294967295u);
	CHECK(query_run(rdel, "table=7&table=7", &req, &p) == 0 &&
	      req.table == 7);
	CHECK(p.status == 0);
	CHECK(query_refused(rdel, "table=0", "query.table"));
	CHECK(query_refused(rdel, "metric=00", "query.metric"));
	CHECK(query_refused(rdel, "table=4294967296", "query.table"));
	CHECK(query_refused(rdel, "table=99999999999", "query.table"));
	CHECK(query_refused(rdel, "table=-1", "query.table"));
	CHECK(query_refused(rdel, "table=+1", "query.table"));
	CHECK(query_refused(rdel, "table=01", "query.table"));
	CHECK(query_refused(rdel, "table= 1", "query.table"));
	CHECK(query_refused(rdel, "table=0x10", "query.table"));
	CHECK(query_refused(rdel, "table=", "query.table"));
	CHECK(query_refused(rdel, "table", "query.table"));
	CHECK(query_refused(rdel, "metric=true", "query.metric"));
	CHECK(query_refused(rdel, "table=1&table=2", "query.table"));
	/* Only the routes that list them take them. */
	CHECK(query_refused(del, "table=1", "query.table"));
	problem_clear(&p);
}

static const struct route *route_of(const char *method, const char *pattern)
{
	for (size_t i = 0; i < router_n_routes; i++)
		if (!strcmp(router_routes[i].method, method) &&
		    !strcmp(router_routes[i].pattern, pattern))
			return &router_routes[i];
	return NULL;
}

/* Text parameters (GET /v1/links): kept as given, a repeatable one each
 * time, a single one equal each time; bounded in number. */
static void test_query_text(void)
{
	const struct route *all = route_of("GET", "/v1/links");
	struct problem p = PROBLEM_INIT;
	struct request req;
	char many[REQUEST_QUERY_VALUES_MAX + 1][8];

	CHECK(all != NULL);
	if (!all)
		return;
	memset(&req, 0, sizeof(req));
	CHECK(router_query(all, &req, "namespace", "a", &p) == 0);
	CHECK(router_query(all, &req, "kind", "veth", &p) == 0);
	CHECK(router_query(all, &req, "namespace", "b", &p) == 0);
	CHECK(router_query(all, &req, "kind", "veth", &p) == 0);
	CHECK(router_query(all, &req, "managed", "false", &p) == 0);
	CHECK(router_query(all, &req, "in_sync", "true", &p) == 0);
	CHECK(p.status == 0);
	CHECK(!strcmp(request_query_value(&req, ROUTE_QUERY_NAMESPACE, 0),
		      "a"));
	CHECK(!strcmp(request_query_value(&req, ROUTE_QUERY_NAMESPACE, 1),
		      "b"));
	CHECK(!request_query_value(&req, ROUTE_QUERY_NAMESPACE, 2));
	CHECK(!strcmp(request_query_value(&req, ROUTE_QUERY_KIND, 0), "veth"));
	CHECK(!request_query_value(&req, ROUTE_QUERY_KIND, 1));
	CHECK(req.query_seen & ROUTE_QUERY_MANAGED && !req.managed);
	CHECK(req.query_seen & ROUTE_QUERY_IN_SYNC && req.in_sync);

	CHECK(router_query(all, &req, "kind", "bridge", &p) == -400);
	problem_clear(&p);
	CHECK(router_query(all, &req, "namespace", "", &p) == -400);
	problem_clear(&p);
	CHECK(router_query(all, &req, "namespace", NULL, &p) == -400);
	problem_clear(&p);
	CHECK(router_query(all, &req, "force", "true", &p) == -400);
	problem_clear(&p);

	memset(&req, 0, sizeof(req));
	for (int i = 0; i <= REQUEST_QUERY_VALUES_MAX; i++) {
		snprintf(many[i], sizeof(many[i]), "n%d", i);
		CHECK(router_query(all, &req, "namespace", many[i], &p) ==
		      (i < REQUEST_QUERY_VALUES_MAX ? 0 : -400));
	}
	CHECK(query_field(&p) && !strcmp(query_field(&p), "query.namespace"));
	problem_clear(&p);
}

/* The root (GET /, the dashboard) has no segment; nothing else matches
 * it, and it matches nothing else. */
static void test_root(void)
{
	struct attempt a;

	attempt_run(&a, "GET", "/");
	CHECK(a.r == 0 && a.route && !strcmp(a.route->pattern, "/"));
	attempt_done(&a);
	attempt_run(&a, "GET", "/?x=1");
	CHECK(a.r == 0 && a.route && !strcmp(a.route->pattern, "/"));
	attempt_done(&a);
	attempt_run(&a, "POST", "/");
	CHECK(a.r == -405 && a.p.status == 405);
	attempt_done(&a);
	attempt_run(&a, "GET", "//");
	CHECK(a.r == -404);
	attempt_done(&a);
	attempt_run(&a, "GET", "/healthz");
	CHECK(a.r == 0 && a.route && !strcmp(a.route->pattern, "/healthz"));
	attempt_done(&a);
}

int main(void)
{
	test_exact();
	test_params();
	test_trailing_slash();
	test_canonical();
	test_decode();
	test_not_found();
	test_method_not_allowed();
	test_clear();
	test_query();
	test_query_numbers();
	test_query_text();
	test_root();
	return check_report();
}
