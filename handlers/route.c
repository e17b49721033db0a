#include "route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "../api/bodies.h"
#include "../api/name.h"
#include "../api/value.h"
#include "../base/log.h"
#include "../netlink/link.h"
#include "../netlink/link_index.h"
#include "../netlink/ns.h"
#include "../netlink/route.h"
#include "../netlink/sock.h"
#include "../state/apply.h"
#include "../state/key.h"
#include "../state/plan.h"
#include "../state/record.h"
#include "../state/route_apply.h"
#include "../state/store.h"
#include "common.h"

/* A route's identity in the kernel, as a path and its query select it:
 * destination, table and metric. */
struct route_sel {
	struct cidr dst;
	uint32_t table, metric;
	char text[64];	   /* "198.18.8.0/24" */
	char key[KEY_MAX]; /* its desired-state key */
};

/* What the kernel has in one namespace: its routes, and its links to name
 * their devices. */
struct route_view {
	struct nl_route *routes;
	size_t n;
	struct nl_link *links;
	size_t n_links;
	struct link_index index;
};

static void route_view_free(struct route_view *v)
{
	link_index_clear(&v->index);
	free(v->routes);
	free(v->links);
	memset(v, 0, sizeof(*v));
}

static int route_view_read(struct reply *rep, struct nl_sock *s,
			   struct route_view *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	r = nl_route_dump(s, &v->routes, &v->n);
	if (r == 0)
		r = nl_link_dump(s, &v->links, &v->n_links);
	if (r == 0)
		r = link_index_build(&v->index, v->links, v->n_links);
	if (r < 0) {
		route_view_free(v);
		return handler_kernel_failed(rep, r, "listing routes");
	}
	return 0;
}

static const char *route_dev_name(const struct route_view *v, int ifindex)
{
	const struct nl_link *l =
		ifindex ? link_index_ifindex(&v->index, ifindex) : NULL;

	return l ? l->name : NULL;
}

/* The kernel's default metric of a family: what a route without one
 * gets, and what a path without ?metric selects. IPv6 has no metric 0:
 * the kernel makes it 1024. */
static uint32_t route_metric(int family, uint32_t metric)
{
	return family == AF_INET6 && metric == 0 ? NL_ROUTE_METRIC6_DEFAULT
						 : metric;
}

/* A name of the kernel's, or its number as text. */
static json_t *route_name_or_number(const char *name, unsigned n)
{
	char buf[16];

	if (name)
		return json_string(name);
	snprintf(buf, sizeof(buf), "%u", n);
	return json_string(buf);
}

/* A route as the API shows it (openapi/openapi.yaml, "Route"): the
 * kernel's, or the desired one when the kernel has none; with `want`,
 * whether it is as desired. */
static json_t *route_to_json(const struct route_view *v,
			     const struct nl_route *have,
			     const struct record_route *want)
{
	const char *dev = have ? route_dev_name(v, have->ifindex) : want->dev;
	const struct cidr *dst = have ? &have->dst : &want->dst;
	bool has_via = have ? have->has_via : want->has_via;
	char text[64];
	json_t *o, *drift;

	value_format_cidr(dst, text, sizeof(text));
	o = json_pack(
		"{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:b}", "dst", text,
		"family", dst->family == AF_INET ? "ipv4" : "ipv6", "metric",
		(json_int_t)(have ? have->metric : want->metric), "table",
		(json_int_t)(have ? have->table : want->table), "scope",
		route_name_or_number(record_route_scope_name(
					     have ? have->scope : want->scope),
				     have ? have->scope : want->scope),
		"protocol",
		route_name_or_number(
			nl_route_protocol_name(have ? have->protocol
						    : NL_ROUTE_PROTO),
			have ? have->protocol : NL_ROUTE_PROTO),
		"type",
		route_name_or_number(
			nl_route_type_name(have ? have->type : RTN_UNICAST),
			have ? have->type : RTN_UNICAST),
		"managed", have ? have->protocol == NL_ROUTE_PROTO : true);
	if (!o)
		return NULL;
	if (has_via) {
		value_format_ip(dst->family, have ? have->via : want->via,
				text);
		json_object_set_new(o, "via", json_string(text));
	}
	if (dev)
		json_object_set_new(o, "dev", json_string(dev));
	if (want && route_waits_for_link(want, have, &v->index)) {
		json_object_set_new(o, "in_sync", json_true());
	} else if (want) {
		drift = route_drift(want, have,
				    have ? route_dev_name(v, have->ifindex)
					 : NULL);
		json_object_set_new(o, "in_sync",
				    json_boolean(json_array_size(drift) == 0));
		if (json_array_size(drift))
			json_object_set_new(o, "drift", drift);
		else
			json_decref(drift);
	}
	return o;
}

/* The desired record under `key` read into `r`; the returned value holds
 * its strings. NULL when there is none (or it cannot be read: logged). */
static json_t *route_desired(struct store *store, const char *key,
			     struct record_route *r)
{
	json_t *v = store_get(store, key);
	char err[128];

	if (v && record_route_parse(v, r, err, sizeof(err)) < 0) {
		log_error("desired %s: %s", key, err);
		json_decref(v);
		return NULL;
	}
	return v;
}

static void route_sel_key(const char *ns, struct route_sel *sel)
{
	value_format_cidr(&sel->dst, sel->text, sizeof(sel->text));
	key_route(sel->key, ns, sel->table, sel->text, sel->metric);
}

/* A destination as parsed: `why`, the parser's refusal, or NULL; then a
 * network address, with no host bits set. */
static int route_dst_check(struct reply *rep, const char *why,
			   const struct cidr *dst)
{
	if (why)
		return problem_field(&rep->problem, "dst", "%s", why);
	if (value_cidr_host_bits(dst))
		return problem_field(
			&rep->problem, "dst",
			"has bits set past its prefix length: a route's destination is a network address");
	return 0;
}

/* The route the path names: {dst}/{prefixlen}, ?table (main, 254, when
 * not given) and ?metric (the family's default when not given). */
static int route_sel_of_path(struct request *req, struct reply *rep,
			     const char *ns, struct route_sel *sel)
{
	const char *why = value_parse_ip_prefix(request_param(req, "dst"),
						request_param(req, "prefixlen"),
						&sel->dst);
	int e = route_dst_check(rep, why, &sel->dst);

	if (e < 0)
		return e;
	/* The router took a table from 1 only (server/router.c). */
	sel->table = req->query_seen & ROUTE_QUERY_TABLE ? req->table
							 : RT_TABLE_MAIN;
	sel->metric = route_metric(
		sel->dst.family,
		req->query_seen & ROUTE_QUERY_METRIC ? req->metric : 0);
	route_sel_key(ns, sel);
	return 0;
}

/* What every read of routes does first: the {ns} of the path, the route
 * it names (`sel`, NULL for the list), a socket inside the namespace and
 * its routes and links read. On failure nothing is left to release. */
static int route_read_open(struct request *req, struct reply *rep,
			   const char **ns, struct route_sel *sel,
			   struct nl_sock **s, struct route_view *v)
{
	int r = handler_ns_param(req, rep, true, ns);

	if (r == 0 && sel)
		r = route_sel_of_path(req, rep, *ns, sel);
	if (r == 0)
		r = handler_ns_sock(req, rep, *ns, s);
	if (r == 0)
		r = route_view_read(rep, *s, v);
	if (r < 0) {
		nl_ns_put(*ns, *s);
		*s = NULL;
	}
	return r;
}

/* A member of the body that is a 32-bit unsigned number. */
static int route_body_u32(struct reply *rep, json_t *body, const char *k,
			  uint32_t min, uint32_t *out)
{
	json_t *v = json_object_get(body, k);
	json_int_t n = json_integer_value(v);

	if (!v)
		return 0;
	if (n < (json_int_t)min || n > (json_int_t)UINT32_MAX)
		return problem_field(&rep->problem, k,
				     "must be from %u to 4294967295", min);
	*out = (uint32_t)n;
	return 0;
}

/* The gateway, of the destination's family. */
static int route_body_via(struct reply *rep, const char *via,
			  struct record_route *r)
{
	int family = strchr(via, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, via, r->via) != 1)
		return problem_field(
			&rep->problem, "via",
			"must be an IPv4 or IPv6 address, like 198.18.0.1");
	if (family != r->dst.family)
		return problem_field(
			&rep->problem, "via",
			"is an %s address, and dst an %s network: they must be of one family",
			family == AF_INET ? "IPv4" : "IPv6",
			r->dst.family == AF_INET ? "IPv4" : "IPv6");
	r->has_via = true;
	r->via_text = via;
	return 0;
}

static int route_body_scope(struct reply *rep, const char *scope,
			    struct record_route *r)
{
	if (!scope) {
		/* iproute2's choice: a route through a gateway reaches
		 * past the link, one without stays on it. */
		r->scope = r->dst.family == AF_INET && !r->has_via
				   ? RT_SCOPE_LINK
				   : RT_SCOPE_UNIVERSE;
		return 0;
	}
	if (record_route_scope_parse(scope, &r->scope) < 0)
		return problem_field(&rep->problem, "scope",
				     "must be global, site, link or host");
	if (r->dst.family == AF_INET6 && r->scope != RT_SCOPE_UNIVERSE)
		return problem_field(
			&rep->problem, "scope",
			"must be global for an IPv6 route: the kernel keeps no other");
	return 0;
}

/* The body of a POST, or of a PUT whose path selected `sel`, as a
 * record. Strict: every member checked, the first wrong one named. Its
 * strings stay in *ret_body, which the caller frees. */
static int route_body(struct request *req, struct reply *rep,
		      const struct route_sel *sel, struct record_route *r,
		      json_t **ret_body)
{
	const char *dst, *via, *why;
	json_t *body;
	int e;

	memset(r, 0, sizeof(*r));
	e = handler_body(req, rep, body_route, sel != NULL, &body);
	if (e < 0)
		return e;
	*ret_body = body;
	dst = json_string_value(json_object_get(body, "dst"));
	via = json_string_value(json_object_get(body, "via"));
	r->dev = json_string_value(json_object_get(body, "dev"));
	r->table = RT_TABLE_MAIN;
	if (!dst && !sel)
		return problem_field(
			&rep->problem, "dst",
			"is required, like 198.18.8.0/24 or 0.0.0.0/0");
	if (dst) {
		e = route_dst_check(rep, value_parse_cidr(dst, &r->dst),
				    &r->dst);
		if (e < 0)
			return e;
	} else {
		r->dst = sel->dst;
	}
	if (sel && !value_cidr_equal(&r->dst, &sel->dst))
		return problem_field(&rep->problem, "dst",
				     "must be the path's, %s", sel->text);
	if (via && (e = route_body_via(rep, via, r)) < 0)
		return e;
	if (r->dev && (why = name_check_link(r->dev)))
		return problem_field(&rep->problem, "dev", "link name %s", why);
	if (!via && !r->dev)
		return problem_field(
			&rep->problem, "via",
			"a route needs via (a gateway), dev (a link) or both");
	if (route_body_u32(rep, body, "metric", 0, &r->metric) < 0 ||
	    route_body_u32(rep, body, "table", 1, &r->table) < 0)
		return -400;
	r->metric = route_metric(r->dst.family, r->metric);
	if (sel && json_object_get(body, "metric") && r->metric != sel->metric)
		return problem_field(
			&rep->problem, "metric",
			"must be the path's, %u (select another with ?metric=)",
			sel->metric);
	if (sel && json_object_get(body, "table") && r->table != sel->table)
		return problem_field(
			&rep->problem, "table",
			"must be the path's, %u (select another with ?table=)",
			sel->table);
	if (sel) {
		r->metric = sel->metric;
		r->table = sel->table;
	}
	return route_body_scope(
		rep, json_string_value(json_object_get(body, "scope")), r);
}

/* The link of r->dev, which must be in the namespace. In `host`, a route
 * changes how the host itself routes: as for an address (README.md, "The
 * API in short"), one through a link netnsd did not create, or through
 * whatever link the kernel picks for its gateway, needs ?force=true. */
static int route_dev_check(struct request *req, struct reply *rep,
			   struct nl_sock *s, const char *ns,
			   const struct record_route *r)
{
	struct nl_link l;
	int e;

	if (!r->dev) {
		if (!name_is_host(ns) || req->force)
			return 0;
		return problem_set(
			&rep->problem, 409, "unmanaged",
			"a route in the host namespace without dev goes through a link netnsd did not choose; name a link netnsd created as dev, or add ?force=true");
	}
	e = nl_link_get(s, r->dev, &l);
	if (e == -ENODEV)
		return problem_field(&rep->problem, "dev",
				     "there is no link %s in namespace %s",
				     r->dev, ns);
	if (e < 0)
		return handler_kernel_failed(rep, e, "reading the link");
	return handler_check_host_link(req, rep, ns, nl_link_is_ours(&l),
				       l.name);
}

/* A refusal of the kernel: a gateway it cannot reach, a link that is
 * down, conflict with what is there (409); the rest as for any request. */
static int route_kernel_failed(struct reply *rep, int err, const char *what,
			       const struct record_route *r)
{
	const char *msg = nl_extack();

	if ((err == -ENETUNREACH || err == -EHOSTUNREACH) && r->via_text)
		return problem_set(
			&rep->problem, 409, "conflict",
			"%s: the gateway %s is not reachable%s%s (%s): give the link an address of the gateway's network first; nothing was changed",
			what, r->via_text, r->dev ? " through " : "",
			r->dev ? r->dev : "", *msg ? msg : strerror(-err));
	if (err == -ENETUNREACH || err == -ENETDOWN || err == -EHOSTUNREACH)
		return problem_set(&rep->problem, 409, "conflict",
				   "%s: %s; nothing was changed", what,
				   *msg ? msg : strerror(-err));
	return handler_kernel_failed(rep, err, what);
}

/* Answers `status` with `body` and, for a 201, the route's path. */
static int route_reply(struct reply *rep, const char *ns,
		       const struct record_route *r, int status, json_t *body)
{
	char path[256];

	route_path(path, ns, r);
	return handler_reply(rep, status, body, "%s", path);
}

/* The route in words, for a dry run's plan. */
static void route_words(const struct record_route *r, char *buf, size_t len)
{
	char dst[64], via[64] = "";

	value_format_cidr(&r->dst, dst, sizeof(dst));
	if (r->has_via)
		value_format_ip(r->dst.family, r->via, via);
	snprintf(buf, len, "route %s%s%s%s%s table %u metric %u scope %s", dst,
		 r->has_via ? " via " : "", via, r->dev ? " dev " : "",
		 r->dev ? r->dev : "", r->table, r->metric,
		 record_route_scope_name(r->scope));
}

/* The answer of a dry run (README.md, "Routes"; openapi/openapi.yaml,
 * "Plan"): the one change the request would make, or none (`action`
 * NULL). Nothing is changed. */
static int route_plan_reply(struct reply *rep, const char *ns,
			    const struct record_route *r, const char *action,
			    const char *detail)
{
	json_t *changes = json_array();
	char path[256];

	route_path(path, ns, r);
	if (changes && action)
		json_array_append_new(
			changes, json_pack("{s:s, s:s, s:s}", "action", action,
					   "path", path, "detail", detail));
	return handler_reply(
		rep, 200,
		json_pack("{s:b, s:o}", "dry_run", 1, "changes", changes),
		NULL);
}

int route_handle_list(struct request *req, struct reply *rep)
{
	struct nl_sock *s = NULL;
	struct route_view v;
	char prefix[KEY_MAX], key[KEY_MAX], text[64];
	json_t *items, *want, *val;
	const char *ns = NULL, *k;
	int r;

	r = route_read_open(req, rep, &ns, NULL, &s, &v);
	if (r < 0)
		return r;
	key_route_prefix(prefix, ns);
	want = store_list(req->store, prefix);
	items = json_array();
	for (size_t i = 0; i < v.n; i++) {
		const struct nl_route *x = &v.routes[i];
		struct record_route w;
		json_t *d;

		value_format_cidr(&x->dst, text, sizeof(text));
		key_route(key, ns, x->table, text, x->metric);
		d = json_object_get(want, key);
		if (d && record_route_parse(d, &w, NULL, 0) < 0)
			d = NULL;
		json_array_append_new(items,
				      route_to_json(&v, x, d ? &w : NULL));
		/* One route per identity is desired: the rest are shown
		 * as the kernel has them. */
		if (d)
			json_object_del(want, key);
	}
	json_object_foreach(want, k, val) {
		struct record_route w;

		if (record_route_parse(val, &w, NULL, 0) == 0)
			json_array_append_new(items,
					      route_to_json(&v, NULL, &w));
	}
	json_decref(want);
	route_view_free(&v);
	nl_ns_put(ns, s);
	return handler_reply(rep, 200, json_pack("{s:o}", "items", items),
			     NULL);
}

/* 404: neither the kernel has the route of the path nor is it desired. */
static int route_missing(struct reply *rep, const char *ns,
			 const struct route_sel *sel)
{
	return problem_set(
		&rep->problem, 404, "not-found",
		"no route to %s in table %u with metric %u in namespace %s",
		sel->text, sel->table, sel->metric, ns);
}

int route_handle_get(struct request *req, struct reply *rep)
{
	struct record_route w;
	struct route_sel sel;
	struct nl_sock *s = NULL;
	struct route_view v;
	const struct nl_route *have;
	json_t *desired;
	const char *ns = NULL;
	int r;

	r = route_read_open(req, rep, &ns, &sel, &s, &v);
	if (r < 0)
		return r;
	have = nl_route_find(v.routes, v.n, &sel.dst, sel.table, sel.metric);
	desired = route_desired(req->store, sel.key, &w);
	if (!have && !desired)
		r = route_missing(rep, ns, &sel);
	else
		r = handler_reply(rep, 200,
				  route_to_json(&v, have, desired ? &w : NULL),
				  NULL);
	json_decref(desired);
	route_view_free(&v);
	nl_ns_put(ns, s);
	return r;
}

/* A route of this identity is in the kernel: POST answers 409
 * already-exists (a PUT on its path converges it); a PUT or DELETE of one
 * netnsd did not make, without ?force=true, 409 unmanaged. */
static int route_taken(struct reply *rep, const char *ns,
		       const struct nl_route *have, bool post)
{
	bool ours = have->protocol == NL_ROUTE_PROTO;
	char text[64];

	value_format_cidr(&have->dst, text, sizeof(text));
	if (post)
		return problem_set(
			&rep->problem, 409, "already-exists",
			"a route to %s in table %u with metric %u is already in namespace %s%s; PUT on its path converges it",
			text, have->table, have->metric, ns,
			ours ? "" : " (netnsd did not make it)");
	return problem_set(
		&rep->problem, 409, "unmanaged",
		"the route to %s in table %u with metric %u in namespace %s was not made by netnsd; add ?force=true to change it anyway",
		text, have->table, have->metric, ns);
}

/* Records `r` under `key` (intent first), converges the kernel to it and,
 * when the kernel refuses, takes the record back. `creates`: a new
 * desired object, counted against --max-objects. */
static int route_converge(struct request *req, struct reply *rep,
			  struct nl_sock *s, const struct route_view *v,
			  const char *key, const struct record_route *r,
			  bool creates, enum route_outcome *out)
{
	struct store_txn *t = store_txn_new(), *undo = NULL;
	int e;

	if (t) {
		store_txn_set(t, key, record_route_format(r));
		if (creates)
			store_txn_creates(t);
	}
	e = handler_intent(req, rep, t, &undo);
	if (e == 0) {
		e = route_apply(s, r, v->routes, v->n, req->force, out);
		if (e == 0 && *out == ROUTE_FOREIGN)
			e = -EEXIST; /* not reached: checked before */
		if (e < 0) {
			e = e == -EEXIST
				    ? problem_set(
					      &rep->problem, 409,
					      "already-exists",
					      "a route of this destination, table and metric appeared meanwhile; nothing was changed")
				    : route_kernel_failed(
					      rep, e, "applying the route", r);
			handler_intent_undo(req, undo, "a route");
		}
	}
	store_txn_free(t);
	store_txn_free(undo);
	return e;
}

/* The answer to a change: the route as the kernel has it now. */
static int route_answer(struct reply *rep, struct nl_sock *s, const char *ns,
			const struct record_route *r, int status)
{
	const struct nl_route *have;
	struct route_view v;
	int e;

	e = route_view_read(rep, s, &v);
	if (e < 0)
		return e;
	have = nl_route_find(v.routes, v.n, &r->dst, r->table, r->metric);
	e = route_reply(rep, ns, r, status, route_to_json(&v, have, r));
	route_view_free(&v);
	return e;
}

/* What every change of a route does first: the namespace's lock, its
 * socket, the route's device checked (`r`, NULL for a deletion) and the
 * namespace's routes and links read. */
static int route_change_open(struct request *req, struct reply *rep,
			     const char *ns, const struct record_route *r,
			     struct nl_sock **s, struct route_view *v)
{
	int e = handler_lock_ns(req, rep, ns);

	if (e == 0)
		e = handler_ns_sock(req, rep, ns, s);
	if (e == 0 && r)
		e = route_dev_check(req, rep, *s, ns, r);
	if (e == 0)
		e = route_view_read(rep, *s, v);
	return e;
}

int route_handle_create(struct request *req, struct reply *rep)
{
	struct record_route r;
	struct nl_sock *s = NULL;
	struct route_view v = { 0 };
	const struct nl_route *have;
	enum route_outcome out;
	json_t *body = NULL;
	char key[KEY_MAX], text[64], words[256];
	const char *ns = NULL;
	int e;

	e = handler_ns_param(req, rep, true, &ns);
	if (e == 0)
		e = route_body(req, rep, NULL, &r, &body);
	if (e == 0)
		e = route_change_open(req, rep, ns, &r, &s, &v);
	if (e < 0)
		goto out;
	have = nl_route_find(v.routes, v.n, &r.dst, r.table, r.metric);
	if (have) {
		e = route_taken(rep, ns, have, true);
		goto out;
	}
	if (req->dry_run) {
		route_words(&r, words, sizeof(words));
		e = route_plan_reply(rep, ns, &r, "create", words);
		goto out;
	}
	value_format_cidr(&r.dst, text, sizeof(text));
	key_route(key, ns, r.table, text, r.metric);
	e = route_converge(req, rep, s, &v, key, &r, true, &out);
	if (e < 0)
		goto out;
	log_info("added route %s (table %u, metric %u) in %s", text, r.table,
		 r.metric, ns);
	e = route_answer(rep, s, ns, &r, 201);
out:
	route_view_free(&v);
	json_decref(body);
	nl_ns_put(ns, s);
	return e;
}

/* A PUT's dry run: what it would create or replace, or record only. */
static int route_put_plan(struct reply *rep, const char *ns,
			  const struct route_view *v,
			  const struct record_route *r, int ifindex,
			  const struct nl_route *have,
			  const struct record_route *old)
{
	char words[512];
	json_t *drift;
	size_t used = 0, i;
	json_t *x;

	if (route_matches(r, ifindex, have)) {
		if (old && record_route_equal(old, r))
			return route_plan_reply(rep, ns, r, NULL, NULL);
		return route_plan_reply(
			rep, ns, r, "update",
			"recorded as desired, as the kernel has it");
	}
	route_words(r, words, sizeof(words));
	if (!have)
		return route_plan_reply(rep, ns, r, "create", words);
	drift = route_drift(r, have, route_dev_name(v, have->ifindex));
	json_array_foreach(drift, i, x) {
		int n = snprintf(words + used, sizeof(words) - used, "%s%s",
				 used ? "; " : "", json_string_value(x));

		if (n < 0 || (size_t)n >= sizeof(words) - used)
			break;
		used += (size_t)n;
	}
	json_decref(drift);
	if (!used)
		snprintf(words, sizeof(words), "replaced");
	return route_plan_reply(rep, ns, r, "update", words);
}

int route_handle_put(struct request *req, struct reply *rep)
{
	struct record_route r, old;
	struct route_sel sel;
	struct nl_sock *s = NULL;
	struct route_view v = { 0 };
	const struct nl_route *have;
	enum route_outcome out;
	json_t *body = NULL, *desired = NULL;
	const char *ns = NULL;
	int e, ifindex = 0;
	struct nl_link l;

	e = handler_ns_param(req, rep, true, &ns);
	if (e == 0)
		e = route_sel_of_path(req, rep, ns, &sel);
	if (e == 0)
		e = route_body(req, rep, &sel, &r, &body);
	if (e == 0)
		e = route_change_open(req, rep, ns, &r, &s, &v);
	if (e < 0)
		goto out;
	have = nl_route_find(v.routes, v.n, &sel.dst, sel.table, sel.metric);
	if (have && have->protocol != NL_ROUTE_PROTO && !req->force) {
		e = route_taken(rep, ns, have, false);
		goto out;
	}
	desired = route_desired(req->store, sel.key, &old);
	if (r.dev && nl_link_get(s, r.dev, &l) == 0)
		ifindex = l.ifindex;
	if (req->dry_run) {
		e = route_put_plan(rep, ns, &v, &r, ifindex, have,
				   desired ? &old : NULL);
		goto out;
	}
	if (route_matches(&r, ifindex, have)) {
		/* The kernel is as asked: only the record may change, and
		 * the store leaves the revision alone when it does not. */
		struct store_txn *t = store_txn_new();

		if (t) {
			store_txn_set(t, sel.key, record_route_format(&r));
			if (!desired)
				store_txn_creates(t);
		}
		e = handler_commit(req, rep, t);
		store_txn_free(t);
		if (e == 0)
			e = route_answer(rep, s, ns, &r, 200);
		goto out;
	}
	e = route_converge(req, rep, s, &v, sel.key, &r, !desired, &out);
	if (e < 0)
		goto out;
	log_info("%s route %s (table %u, metric %u) in %s",
		 out == ROUTE_CREATED ? "added" : "replaced", sel.text,
		 sel.table, sel.metric, ns);
	e = route_answer(rep, s, ns, &r,
			 out == ROUTE_CREATED && !desired ? 201 : 200);
out:
	json_decref(desired);
	route_view_free(&v);
	json_decref(body);
	nl_ns_put(ns, s);
	return e;
}

/* Plans a route's deletion: the kernel's route, when there is one, goes
 * (a gone-route marker is written with the record's removal, so that
 * start-up finishes an interrupted one), else the record is forgotten. */
static int route_plan_delete(struct plan *p, const char *ns,
			     const struct route_sel *sel,
			     const struct nl_route *have)
{
	char path[256];

	route_path(path, ns,
		   &(struct record_route){ .dst = sel->dst,
					   .table = sel->table,
					   .metric = sel->metric });
	return have ? plan_route_del(p, ns, path, have)
		    : handler_plan_forget(p, ns, path);
}

int route_handle_delete(struct request *req, struct reply *rep)
{
	struct record_route old;
	struct route_sel sel;
	struct nl_sock *s = NULL;
	struct route_view v = { 0 };
	const struct nl_route *have;
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	struct plan p;
	json_t *desired = NULL;
	const char *ns = NULL;
	int e;

	plan_init(&p);
	e = handler_ns_param(req, rep, true, &ns);
	if (e == 0)
		e = route_sel_of_path(req, rep, ns, &sel);
	if (e == 0)
		e = route_change_open(req, rep, ns, NULL, &s, &v);
	if (e < 0)
		goto out;
	have = nl_route_find(v.routes, v.n, &sel.dst, sel.table, sel.metric);
	desired = route_desired(req->store, sel.key, &old);
	if (!have && !desired) {
		e = route_missing(rep, ns, &sel);
		goto out;
	}
	if (have && have->protocol != NL_ROUTE_PROTO && !req->force) {
		e = route_taken(rep, ns, have, false);
		goto out;
	}
	/* Forgotten first, then deleted: a failure of either changes
	 * nothing (the record is taken back when the kernel refuses). */
	e = route_plan_delete(&p, ns, &sel, have);
	t = store_txn_new();
	if (!t && e == 0)
		e = -ENOMEM;
	if (t && desired)
		store_txn_del(t, sel.key);
	e = handler_delete_run(req, rep, &ap, &p, e, t);
	if (e < 0 || req->dry_run)
		goto out;
	log_info("deleted route %s (table %u, metric %u) in %s", sel.text,
		 sel.table, sel.metric, ns);
	e = handler_reply(rep, 204, NULL, NULL);
out:
	apply_end(&ap);
	plan_clear(&p);
	store_txn_free(t);
	json_decref(desired);
	route_view_free(&v);
	nl_ns_put(ns, s);
	return e;
}
