#include "router.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/value.h"

#define ROUTER_SEGMENTS_MAX 12
#define ROUTER_PATH_MAX	    2048
/* The longest query parameter name an error repeats (README.md, "Query
 * parameters"): the name is client text. */
#define ROUTER_QUERY_NAME_MAX 64

const struct route_query_def router_queries[] = {
	{ "force", ROUTE_QUERY_FORCE, ROUTE_QUERY_BOOL,
	  offsetof(struct request, force), 0, false },
	{ "dry_run", ROUTE_QUERY_DRY_RUN, ROUTE_QUERY_BOOL,
	  offsetof(struct request, dry_run), 0, false },
	/* A day at most: a rollback is for a session, not a schedule. */
	{ "confirm", ROUTE_QUERY_CONFIRM, ROUTE_QUERY_NUMBER,
	  offsetof(struct request, confirm), 86400, false },
	/* A route's selectors: the kernel's 32-bit table and metric. */
	{ "table", ROUTE_QUERY_TABLE, ROUTE_QUERY_NUMBER,
	  offsetof(struct request, table), UINT32_MAX, false },
	{ "metric", ROUTE_QUERY_METRIC, ROUTE_QUERY_NUMBER,
	  offsetof(struct request, metric), UINT32_MAX, true },
	{ "namespace", ROUTE_QUERY_NAMESPACE, ROUTE_QUERY_REPEAT, 0, 0, false },
	{ "kind", ROUTE_QUERY_KIND, ROUTE_QUERY_TEXT, 0, 0, false },
	{ "managed", ROUTE_QUERY_MANAGED, ROUTE_QUERY_BOOL,
	  offsetof(struct request, managed), 0, false },
	{ "in_sync", ROUTE_QUERY_IN_SYNC, ROUTE_QUERY_BOOL,
	  offsetof(struct request, in_sync), 0, false },
	/* GET /v1/events: read by server/events_http.c itself. */
	{ "since", ROUTE_QUERY_SINCE, ROUTE_QUERY_TEXT, 0, 0, false },
	{ "types", ROUTE_QUERY_TYPES, ROUTE_QUERY_TEXT, 0, 0, false },
	{ "ticket", ROUTE_QUERY_TICKET, ROUTE_QUERY_TEXT, 0, 0, false },
};

const size_t router_n_queries =
	sizeof(router_queries) / sizeof(router_queries[0]);

/* Percent-decodes one path segment. A decoded NUL or a bad escape fails: a
 * name can then never smuggle '/' past the split, nor end early. */
static char *router_decode(const char *seg, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (seg[i] == '%') {
			int hi, lo;

			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hi = value_hex_digit(seg[i + 1]);
			lo = value_hex_digit(seg[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = seg[i];
		}
	}
	*o = '\0';
	return out;
}

/* Splits "/a/b/c" into segments pointing into path. An empty segment makes
 * the path unmatchable, except one trailing slash after a segment: then the
 * segments are those of the path without it, and *ret_slash says so. */
static int router_split(const char *path, const char **seg, size_t *seglen,
			size_t *ret_n, bool *ret_slash)
{
	size_t n = 0;
	const char *p = path;

	*ret_slash = false;
	if (*p != '/')
		return -1;
	if (p[1] == '\0' || p[1] == '?') { /* "/": the root, no segment */
		*ret_n = 0;
		return 0;
	}
	while (*p == '/') {
		const char *start = ++p;

		while (*p && *p != '/' && *p != '?')
			p++;
		if (p == start && n > 0 && (*p == '\0' || *p == '?')) {
			*ret_slash = true;
			break;
		}
		if (p == start)
			return -1;
		if (n == ROUTER_SEGMENTS_MAX)
			return -1;
		seg[n] = start;
		seglen[n] = (size_t)(p - start);
		n++;
	}
	if (*p && *p != '?')
		return -1;
	*ret_n = n;
	return 0;
}

static bool router_pattern_matches(const char *pattern, const char **seg,
				   const size_t *seglen, size_t n)
{
	const char *p = pattern;
	size_t i = 0;

	if (!strcmp(pattern, "/"))
		return n == 0;
	while (*p == '/') {
		const char *start = ++p;
		size_t plen;

		while (*p && *p != '/')
			p++;
		plen = (size_t)(p - start);
		if (i == n)
			return false;
		if (!(start[0] == '{' && start[plen - 1] == '}') &&
		    (plen != seglen[i] || memcmp(start, seg[i], plen)))
			return false;
		i++;
	}
	return i == n;
}

static int router_fill_params(const char *pattern, const char **seg,
			      const size_t *seglen, struct request *req,
			      struct problem *p)
{
	const char *pp = pattern;
	size_t i = 0;

	while (*pp == '/') {
		const char *start = ++pp;

		while (*pp && *pp != '/')
			pp++;
		if (start[0] == '{' && req->n_params < REQUEST_PARAMS_MAX) {
			char *v = router_decode(seg[i], seglen[i]);

			if (!v)
				return problem_set(
					p, 400, "invalid-path",
					"the path has a bad percent-encoding or an encoded NUL");
			req->param_names[req->n_params] = start;
			req->params[req->n_params] = v;
			req->n_params++;
		}
		i++;
	}
	return 0;
}

int router_match(const char *method, const char *path,
		 const struct route **ret_route, struct request *req,
		 char *allow, size_t allow_len, struct problem *p)
{
	const char *seg[ROUTER_SEGMENTS_MAX];
	size_t seglen[ROUTER_SEGMENTS_MAX], n;
	bool path_known = false, slash;

	allow[0] = '\0';
	if (strlen(path) > ROUTER_PATH_MAX)
		return problem_set(p, 400, "invalid-path",
				   "the path is longer than %d bytes",
				   ROUTER_PATH_MAX);
	if (router_split(path, seg, seglen, &n, &slash) < 0)
		return problem_set(p, 404, "not-found", "no such resource");
	for (size_t i = 0; i < router_n_routes; i++) {
		const struct route *r = &router_routes[i];

		if (!router_pattern_matches(r->pattern, seg, seglen, n))
			continue;
		/* Sent to the one name of the resource, whatever the method:
		 * a proxy's rule for "/v1/namespaces/prod" must not be
		 * dodged by "/v1/namespaces/prod/" (README, "Paths"). */
		if (slash)
			return problem_set(
				p, 308, "trailing-slash",
				"the path has no trailing slash; the Location header names it");
		if (!strcmp(r->method, method) ||
		    (!strcmp(method, "HEAD") && !strcmp(r->method, "GET"))) {
			/* The methods of routes seen before this one belong
			 * in a 405 only, not in an answer to this route. */
			allow[0] = '\0';
			*ret_route = r;
			return router_fill_params(r->pattern, seg, seglen, req,
						  p);
		}
		if (!strstr(allow, r->method)) {
			size_t used = strlen(allow);

			snprintf(allow + used, allow_len - used, "%s%s",
				 used ? ", " : "", r->method);
		}
		path_known = true;
	}
	if (path_known)
		return problem_set(p, 405, "method-not-allowed",
				   "%s is not allowed here; allowed: %s",
				   method, allow);
	return problem_set(p, 404, "not-found", "no such resource");
}

int router_canonical(const char *target, char *buf, size_t len)
{
	size_t path_len = strcspn(target, "?");
	int n;

	if (path_len > 1 && target[path_len - 1] == '/')
		path_len--;
	n = snprintf(buf, len, "%.*s%s", (int)path_len, target,
		     target + strcspn(target, "?"));
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* "query.NAME" for errors[].field: at most ROUTER_QUERY_NAME_MAX bytes of
 * the name, every byte that is not printable ASCII made a '?', so that
 * whatever a client sends, the answer stays short and plain. */
static void router_query_field(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name), i, o;

	o = (size_t)snprintf(buf, len, "query.");
	for (i = 0; i < n && i < ROUTER_QUERY_NAME_MAX && o + 4 < len; i++) {
		unsigned char c = (unsigned char)name[i];

		buf[o++] = c > 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (i < n && o + 4 <= len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/* The names a route accepts, for the error that names an unknown one. */
static void router_query_names(const struct route *route, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < router_n_queries; i++) {
		if (!(route->query & router_queries[i].bit))
			continue;
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
			 router_queries[i].name);
		used = strlen(buf);
	}
	if (!used)
		snprintf(buf, len, "none");
}

static const struct route_query_def *router_query_def(const struct route *route,
						      const char *name)
{
	for (size_t i = 0; i < router_n_queries; i++)
		if ((route->query & router_queries[i].bit) &&
		    !strcmp(router_queries[i].name, name))
			return &router_queries[i];
	return NULL;
}

/* A whole-number parameter: 1 (0 with d->zero) to d->max, digits only, no
 * leading zero; ten digits at most, so that 4294967295 fits. */
static int router_query_number(const struct route_query_def *d,
			       struct request *req, const char *value,
			       const char *field, struct problem *p)
{
	unsigned long long n = 0;
	unsigned *slot = (unsigned *)((char *)req + d->offset);
	bool zero = d->zero && value && !strcmp(value, "0");

	if (!value || !*value || (*value == '0' && !zero) ||
	    strspn(value, "0123456789") != strlen(value) || strlen(value) > 10)
		return problem_field(p, field,
				     "must be a whole number from %d to %u",
				     d->zero ? 0 : 1, d->max);
	n = strtoull(value, NULL, 10);
	if (n > d->max)
		return problem_field(p, field,
				     "must be a whole number from %d to %u",
				     d->zero ? 0 : 1, d->max);
	if ((req->query_seen & d->bit) && *slot != n)
		return problem_field(
			p, field,
			"is given more than once, with different values");
	req->query_seen |= d->bit;
	*slot = (unsigned)n;
	return 0;
}

/* A text parameter's value is kept as given (the handler checks it): a
 * single one given twice must be the same both times; a repeatable one
 * is kept each time, up to REQUEST_QUERY_VALUES_MAX in all. */
static int router_query_text(const struct route_query_def *d,
			     struct request *req, const char *field,
			     const char *value, struct problem *p)
{
	const char *had = request_query_value(req, d->bit, 0);

	if (!value || !*value)
		return problem_field(p, field, "needs a value");
	if (d->type == ROUTE_QUERY_TEXT && had) {
		if (strcmp(had, value))
			return problem_field(
				p, field,
				"is given more than once, with different values");
		return 0;
	}
	if (req->n_query_values == REQUEST_QUERY_VALUES_MAX)
		return problem_field(p, field,
				     "is one value too many: at most %d in all",
				     REQUEST_QUERY_VALUES_MAX);
	req->query_values[req->n_query_values].bit = d->bit;
	req->query_values[req->n_query_values++].value = value;
	req->query_seen |= d->bit;
	return 0;
}

int router_query(const struct route *route, struct request *req,
		 const char *name, const char *value, struct problem *p)
{
	const struct route_query_def *d = router_query_def(route, name);
	char field[sizeof("query.") + ROUTER_QUERY_NAME_MAX + 4], names[128];
	bool *slot, b;

	router_query_field(name, field, sizeof(field));
	if (!d) {
		router_query_names(route, names, sizeof(names));
		return problem_field(
			p, field,
			"is not a query parameter of this operation (it takes: %s)",
			names);
	}
	if (d->type == ROUTE_QUERY_NUMBER)
		return router_query_number(d, req, value, field, p);
	if (d->type != ROUTE_QUERY_BOOL)
		return router_query_text(d, req, field, value, p);
	/* Compared as sent: no client spells `true` percent-encoded, and
	 * one that does is told rather than guessed at. */
	if (!value || (strcmp(value, "true") && strcmp(value, "false")))
		return problem_field(p, field, "must be true or false");
	b = !strcmp(value, "true");
	slot = (bool *)((char *)req + d->offset);
	if ((req->query_seen & d->bit) && *slot != b)
		return problem_field(
			p, field,
			"is given more than once, with different values");
	req->query_seen |= d->bit;
	*slot = b;
	return 0;
}
