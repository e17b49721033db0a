#include "route_apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "../api/name.h"
#include "../netlink/link.h"
#include "../netlink/link_index.h"
#include "../netlink/ns.h"
#include "desired.h"
#include "doc.h"
#include "key.h"
#include "plan.h"
#include "reconcile.h"

void route_path(char buf[256], const char *ns, const struct record_route *r)
{
	uint32_t dflt =
		r->dst.family == AF_INET6 ? NL_ROUTE_METRIC6_DEFAULT : 0;
	char dst[64], query[48] = "", *slash;
	size_t used = 0;

	value_format_cidr(&r->dst, dst, sizeof(dst));
	slash = strchr(dst, '/');
	*slash = '\0';
	if (r->table != RT_TABLE_MAIN)
		used = (size_t)snprintf(query, sizeof(query), "?table=%u",
					r->table);
	if (r->metric != dflt)
		snprintf(query + used, sizeof(query) - used, "%cmetric=%u",
			 used ? '&' : '?', r->metric);
	snprintf(buf, 256, "/v1/namespaces/%s/routes/%s/%s%s", ns, dst,
		 slash + 1, query);
}

void route_to_nl(const struct record_route *r, int ifindex,
		 struct nl_route *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->dst = r->dst;
	ret->has_via = r->has_via;
	memcpy(ret->via, r->via, sizeof(ret->via));
	ret->ifindex = ifindex;
	ret->metric = r->metric;
	ret->table = r->table;
	ret->scope = r->scope;
	ret->protocol = NL_ROUTE_PROTO;
	ret->type = RTN_UNICAST;
}

static size_t route_alen(const struct record_route *r)
{
	return r->dst.family == AF_INET ? 4 : 16;
}

bool route_matches(const struct record_route *r, int ifindex,
		   const struct nl_route *have)
{
	return have && have->protocol == NL_ROUTE_PROTO &&
	       have->type == RTN_UNICAST && !have->multipath &&
	       have->scope == r->scope && have->has_via == r->has_via &&
	       (!r->has_via || !memcmp(have->via, r->via, route_alen(r))) &&
	       (!r->dev || have->ifindex == ifindex);
}

static void route_drift_add(json_t *words, const char *what, const char *have,
			    const char *want)
{
	char text[192];

	snprintf(text, sizeof(text), "%s is %s, desired %s", what, have, want);
	json_array_append_new(words, json_string(text));
}

json_t *route_drift(const struct record_route *r, const struct nl_route *have,
		    const char *have_dev)
{
	json_t *words = json_array();
	char a[64], b[64];
	const char *scope;

	if (!words)
		return NULL;
	if (!have) {
		json_array_append_new(words, json_string("missing"));
		return words;
	}
	if (have->protocol != NL_ROUTE_PROTO)
		json_array_append_new(
			words,
			json_string(
				"a route netnsd did not make has taken its place"));
	if (have->has_via != r->has_via ||
	    (r->has_via && memcmp(have->via, r->via, route_alen(r)))) {
		if (have->has_via)
			value_format_ip(r->dst.family, have->via, a);
		if (r->has_via)
			value_format_ip(r->dst.family, r->via, b);
		route_drift_add(words, "via", have->has_via ? a : "none",
				r->has_via ? b : "none");
	}
	if (r->dev && (!have_dev || strcmp(have_dev, r->dev)))
		route_drift_add(words, "dev", have_dev ? have_dev : "none",
				r->dev);
	if (have->scope != r->scope) {
		scope = record_route_scope_name(have->scope);
		snprintf(a, sizeof(a), "%s", scope ? scope : "unknown");
		route_drift_add(words, "scope", a,
				record_route_scope_name(r->scope));
	}
	/* netnsd makes unicast routes only: another type (prohibit,
	 * blackhole, local) put in its place does not forward. */
	if (have->type != RTN_UNICAST) {
		const char *type = nl_route_type_name(have->type);

		route_drift_add(words, "type", type ? type : "unknown",
				"unicast");
	}
	if (have->multipath)
		json_array_append_new(words,
				      json_string("it has several next hops"));
	return words;
}

int route_apply(struct nl_sock *s, const struct record_route *r,
		const struct nl_route *routes, size_t n, bool force,
		enum route_outcome *ret)
{
	const struct nl_route *have =
		nl_route_find(routes, n, &r->dst, r->table, r->metric);
	struct nl_route want;
	struct nl_link l;
	int ifindex = 0, e;

	if (r->dev) {
		e = nl_link_get(s, r->dev, &l);
		if (e < 0)
			return e;
		ifindex = l.ifindex;
	}
	if (route_matches(r, ifindex, have)) {
		*ret = ROUTE_MATCHED;
		return 0;
	}
	if (have && have->protocol != NL_ROUTE_PROTO && !force) {
		*ret = ROUTE_FOREIGN;
		return 0;
	}
	route_to_nl(r, ifindex, &want);
	if (!have) {
		*ret = ROUTE_CREATED;
		return nl_route_add(s, &want);
	}
	*ret = ROUTE_REPLACED;
	/* One step, so that a refusal leaves the route as it was: a replace
	 * takes a route with several next hops whole, IPv6's too (Linux
	 * 4.11 and later, "ipv6: fix ECMP route replacement"). */
	return nl_route_replace(s, &want);
}

bool route_waits_for_link(const struct record_route *r,
			  const struct nl_route *have,
			  const struct link_index *links)
{
	const struct nl_link *l = !have && r->dev && links
					  ? link_index_name(links, r->dev)
					  : NULL;

	return l && !(l->flags & IFF_UP);
}

/* One desired route's drift, said as "route <dst> [table T] [metric M]:
 * <words>"; 1 when it differs. */
static size_t route_drift_one(json_t *rec, const struct nl_route *routes,
			      size_t n, const struct link_index *links,
			      json_t *words)
{
	const struct nl_route *have;
	const struct nl_link *l;
	struct record_route r;
	char head[96], text[64];
	json_t *drift, *x;
	size_t i;

	if (record_route_parse(rec, &r, NULL, 0) < 0)
		return 0;
	have = nl_route_find(routes, n, &r.dst, r.table, r.metric);
	if (route_waits_for_link(&r, have, links))
		return 0;
	l = have && have->ifindex ? link_index_ifindex(links, have->ifindex)
				  : NULL;
	drift = route_drift(&r, have, l ? l->name : NULL);
	if (!json_array_size(drift)) {
		json_decref(drift);
		return 0;
	}
	value_format_cidr(&r.dst, text, sizeof(text));
	snprintf(head, sizeof(head), "route %s (table %u, metric %u)", text,
		 r.table, r.metric);
	json_array_foreach(drift, i, x)
		json_array_append_new(
			words,
			json_sprintf("%s: %s", head, json_string_value(x)));
	json_decref(drift);
	return 1;
}

size_t route_drift_ns(struct store *store, const char *ns, struct nl_sock *s,
		      const struct link_index *links, json_t *words)
{
	struct nl_route *routes = NULL;
	char prefix[KEY_MAX];
	size_t n = 0, drifted = 0;
	const char *k;
	json_t *recs, *v;

	key_route_prefix(prefix, ns);
	recs = store_list(store, prefix);
	if (!json_object_size(recs)) {
		json_decref(recs);
		return 0;
	}
	if (s && nl_route_dump(s, &routes, &n) < 0)
		n = 0;
	json_object_foreach(recs, k, v)
		drifted += route_drift_one(v, routes, n, links, words);
	free(routes);
	json_decref(recs);
	return drifted;
}

/* ---- The reconciler's pass ---- */

struct route_pass {
	struct store *store;
	json_t *actions, *failures;
	json_t *blocked; /* what reconcile left alone: "ns/<ns>" keys */
	char ns[NAME_NS_MAX + 1]; /* whose routes `routes` holds */
	struct nl_sock *s;
	struct nl_route *routes;
	size_t n;
	int err; /* reading ns failed */
};

static void route_pass_close(struct route_pass *p)
{
	if (p->s)
		nl_ns_put(p->ns, p->s);
	free(p->routes);
	p->s = NULL;
	p->routes = NULL;
	p->n = 0;
	p->ns[0] = '\0';
}

/* The socket and routes of `ns`, read once for all its routes: each
 * record is a route of its own identity (its key), so what one adds or
 * replaces is never what another finds. */
static int route_pass_open(struct route_pass *p, const char *ns)
{
	if (p->ns[0] && !strcmp(p->ns, ns))
		return p->err;
	route_pass_close(p);
	snprintf(p->ns, sizeof(p->ns), "%s", ns);
	p->err = nl_ns_get(ns, &p->s);
	if (p->err == 0) {
		p->err = nl_route_dump(p->s, &p->routes, &p->n);
		if (p->err < 0) {
			nl_ns_put(ns, p->s);
			p->s = NULL;
		}
	}
	return p->err;
}

static void route_failed(struct route_pass *p, const char *what,
			 const char *why, int err, bool transient)
{
	const char *msg = nl_extack();
	char text[512];

	if (!err)
		snprintf(text, sizeof(text), "%s", why);
	else
		snprintf(text, sizeof(text), "%s: %s", why,
			 *msg ? msg : strerror(-err));
	json_array_append_new(p->failures,
			      json_pack("{s:s, s:s, s:b}", "object", what,
					"error", text, "transient", transient));
}

/* Whether `via` lies in the network of `c`. */
static bool route_in_net(const struct cidr *c, int family, const uint8_t *via)
{
	int bits = c->prefixlen;

	if (c->family != family)
		return false;
	if (bits / 8 && memcmp(c->addr, via, (size_t)bits / 8))
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));

		return (c->addr[bits / 8] & mask) == (via[bits / 8] & mask);
	}
	return true;
}

/* Whether an address of ns's desired state (on `r`'s dev, when it names
 * one) puts `r`'s gateway on a subnet: only then may an unreachable
 * gateway become reachable without someone else's help. */
static bool route_gateway_desired(struct store *store, const char *ns,
				  const struct record_route *r)
{
	char prefix[KEY_MAX];
	json_t *addrs, *v;
	const char *k;
	bool found = false;

	key_addr_prefix(prefix, ns, NULL);
	addrs = store_list(store, prefix);
	json_object_foreach(addrs, k, v) {
		const char *link = k + strlen(prefix), *at = strchr(link, '/');
		struct cidr c;

		if (!at ||
		    (r->dev && (strlen(r->dev) != (size_t)(at - link) ||
				strncmp(link, r->dev, (size_t)(at - link)))))
			continue;
		if (!value_parse_cidr(at + 1, &c) &&
		    route_in_net(&c, r->dst.family, r->via))
			found = true;
	}
	json_decref(addrs);
	return found;
}

static bool route_link_down(struct nl_sock *s, const char *dev)
{
	struct nl_link l;

	return nl_link_get(s, dev, &l) == 0 && !(l.flags & IFF_UP);
}

static void route_reconcile_one(struct route_pass *p, const char *key,
				json_t *v)
{
	const char *ns = key + strlen("route/"), *slash = strchr(ns, '/');
	char name[NAME_NS_MAX + 1], what[256], err[128], nskey[KEY_MAX];
	struct record_route r;
	enum route_outcome out;
	int e;

	if (!slash || (size_t)(slash - ns) > NAME_NS_MAX)
		return;
	memcpy(name, ns, (size_t)(slash - ns));
	name[slash - ns] = '\0';
	snprintf(what, sizeof(what), "route %s in %s", slash + 1, name);
	if (record_route_parse(v, &r, err, sizeof(err)) < 0) {
		route_failed(p, what, err, 0, false);
		return;
	}
	/* Named as the namespace's drift names it. */
	snprintf(what, sizeof(what), "route %s (table %u, metric %u) in %s",
		 r.dst_text, r.table, r.metric, name);
	key_ns(nskey, name);
	if (json_object_get(p->blocked, nskey)) {
		route_failed(p, what, reconcile_ns_left_alone, 0, false);
		return;
	}
	/* A namespace or link that is missing comes back only when it is
	 * desired (being made by this run or the next): else the failure
	 * stays until someone makes it, and is not retried. */
	e = route_pass_open(p, name);
	if (e < 0) {
		route_failed(p, what, "its namespace cannot be read", e,
			     e == -ENOENT && desired_has_ns(p->store, name));
		return;
	}
	/* Its link is down: the kernel takes no route through it, and the
	 * route comes back when the link comes up (apply_restore_routes). */
	if (r.dev && route_link_down(p->s, r.dev))
		return;
	e = route_apply(p->s, &r, p->routes, p->n, false, &out);
	if (e == -ENODEV) {
		route_failed(p, what, "its link is missing", e,
			     desired_has_link(p->store, name, r.dev));
	} else if (e < 0) {
		/* A gateway not reachable yet may come: when an address
		 * netnsd is to add makes it so, or, in the host, one someone
		 * else adds (DHCP). Anything else the kernel refuses stays
		 * refused until it is asked again. */
		bool unreachable = e == -ENETUNREACH || e == -EHOSTUNREACH;

		route_failed(p, what, "applying", e,
			     (unreachable &&
			      (name_is_host(name) ||
			       route_gateway_desired(p->store, name, &r))) ||
				     e == -EEXIST || e == -EBUSY ||
				     e == -EAGAIN || e == -ENOBUFS);
	} else if (out == ROUTE_FOREIGN) {
		route_failed(p, what,
			     "a route netnsd did not make holds its place", 0,
			     false);
	} else if (out != ROUTE_MATCHED) {
		json_array_append_new(
			p->actions,
			json_pack("s+",
				  out == ROUTE_CREATED ? "added " : "replaced ",
				  what));
	}
}

void route_reconcile(struct store *store, json_t *actions, json_t *failures,
		     json_t *blocked)
{
	struct route_pass p = { .store = store,
				.actions = actions,
				.failures = failures,
				.blocked = blocked };
	json_t *all = store_list(store, "route/"), *v;
	const char *key;

	json_object_foreach(all, key, v)
		route_reconcile_one(&p, key, v);
	route_pass_close(&p);
	json_decref(all);
}
