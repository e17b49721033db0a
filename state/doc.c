#include "doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "../api/name.h"
#include "../netlink/route.h"
#include "link_kind.h"

/* Copies `o` without the members the document adds to a record (its place
 * in the state, and what only the server sets). */
static json_t *doc_record_part(json_t *o, const char *const skip[])
{
	json_t *c = json_deep_copy(o);

	for (size_t i = 0; c && skip[i]; i++)
		json_object_del(c, skip[i]);
	return c;
}

/* The string member `key` of `o`, checked by `check` (NULL: valid). */
static const char *doc_name(json_t *o, const char *key,
			    const char *(*check)(const char *), const char *at,
			    struct problem *prob)
{
	const char *v = json_string_value(json_object_get(o, key));
	const char *why = v ? check(v) : "is required, as a string";

	if (why) {
		problem_field(prob, at, "%s %s", key, why);
		return NULL;
	}
	return v;
}

static const char *doc_check_ns(const char *ns)
{
	return name_check_namespace(ns);
}

/* Each member of `rest` is one the entry at `at` cannot have: named by
 * its pointer, as an unknown field of an item's body is. */
static void doc_unknown_members(json_t *rest, const char *at, const char *only,
				struct problem *prob)
{
	char field[160];
	const char *k;
	json_t *v;

	json_object_foreach(rest, k, v) {
		size_t n = (size_t)snprintf(field, sizeof(field), "%s/", at);

		/* RFC 6901: "~" and "/" in a name are "~0" and "~1". */
		for (const char *c = k; *c && n + 3 < sizeof(field); c++) {
			if (*c == '~' || *c == '/') {
				field[n++] = '~';
				field[n++] = *c == '~' ? '0' : '1';
			} else {
				field[n++] = *c;
			}
		}
		field[n] = '\0';
		problem_field(prob, field, "unknown member (%s)", only);
	}
}

static int doc_read_ns(struct doc *d, json_t *a, struct problem *prob)
{
	static const char *const skip[] = { "name", NULL };
	char at[64];
	json_t *o, *rest;
	size_t i;

	json_array_foreach(a, i, o) {
		struct doc_ns *n = &d->ns[d->n_ns];

		snprintf(at, sizeof(at), "/namespaces/%zu", i);
		if (!json_is_object(o)) {
			problem_field(prob, at, "must be an object");
			continue;
		}
		n->name = doc_name(o, "name", doc_check_ns, at, prob);
		rest = doc_record_part(o, skip);
		doc_unknown_members(rest, at, "a namespace has only name",
				    prob);
		json_decref(rest);
		if (n->name && name_is_host(n->name))
			problem_field(prob, at,
				      "host is the daemon's own namespace, not "
				      "one to declare");
		else if (n->name)
			n->index = i, d->n_ns++;
	}
	return 0;
}

static int doc_read_link(struct doc *d, json_t *o, size_t i,
			 struct problem *prob)
{
	static const char *const skip[] = { "namespace", "name", "owned",
					    NULL };
	struct doc_link *l = &d->links[d->n_links];
	char at[64], err[256];
	json_t *rest;
	const char *why;

	snprintf(at, sizeof(at), "/links/%zu", i);
	if (!json_is_object(o))
		return problem_field(prob, at, "must be an object");
	l->ns = doc_name(o, "namespace", doc_check_ns, at, prob);
	l->name = doc_name(o, "name", name_check_link, at, prob);
	rest = doc_record_part(o, skip);
	if (!rest)
		return problem_errno(prob, -ENOMEM, "reading the document",
				     NULL);
	/* The record's strings point into the copy: the document keeps it. */
	json_array_append_new(d->keep, rest);
	if (record_link_parse(rest, &l->rec, err, sizeof(err)) < 0)
		problem_field(prob, at, "%s", err);
	l->rec.owned = l->rec.kind != RECORD_KIND_NONE;
	l->rec.has |= RECORD_HAS_OWNED;
	/* A parent in the link's own namespace is kept as a POST keeps it:
	 * without parent_namespace (README.md, "More link kinds"). */
	if (l->ns && l->rec.opts.parent_ns &&
	    !strcmp(l->rec.opts.parent_ns, l->ns)) {
		l->rec.opts.parent_ns = NULL;
		l->rec.opts.has &= ~LINK_OPT_PARENT_NS;
	}
	if ((l->rec.has & RECORD_HAS_MTU) &&
	    (why = value_check_mtu(l->rec.mtu)))
		problem_field(prob, at, "mtu %s", why);
	if (l->ns && l->name) {
		l->index = i;
		d->n_links++;
	}
	return 0;
}

static int doc_read_addr(struct doc *d, json_t *o, size_t i,
			 struct problem *prob)
{
	static const char *const skip[] = { "namespace", "link", "address",
					    NULL };
	struct doc_addr *x = &d->addrs[d->n_addrs];
	char at[64], err[256];
	const char *text, *why;
	json_t *rest;

	snprintf(at, sizeof(at), "/addresses/%zu", i);
	if (!json_is_object(o))
		return problem_field(prob, at, "must be an object");
	x->ns = doc_name(o, "namespace", doc_check_ns, at, prob);
	x->link = doc_name(o, "link", name_check_link, at, prob);
	text = json_string_value(json_object_get(o, "address"));
	why = text ? value_parse_cidr(text, &x->cidr) : "is required";
	if (why)
		problem_field(prob, at, "address %s", why);
	rest = doc_record_part(o, skip);
	x->opts = (struct record_addr)RECORD_ADDR_INIT;
	if (rest && record_addr_parse(rest, &x->opts, err, sizeof(err)) < 0)
		problem_field(prob, at, "%s", err);
	json_decref(rest);
	if (x->ns && x->link && !why) {
		value_format_cidr(&x->cidr, x->text, sizeof(x->text));
		x->index = i;
		d->n_addrs++;
	}
	return 0;
}

/* What a route may leave out, as its POST body may (openapi/openapi.yaml,
 * RouteCreate): the main table, the family's default metric (the kernel
 * makes an IPv6 metric 0 into 1024, and so does netnsd, as for a POST),
 * the scope a POST gives. Its destination in one spelling (2001:DB8:: is
 * 2001:db8::), since its key is made of it. */
static void doc_route_defaults(json_t *r)
{
	const char *dst = json_string_value(json_object_get(r, "dst"));
	json_t *metric = json_object_get(r, "metric");
	char text[64];
	struct cidr c;

	if (!json_object_get(r, "table"))
		json_object_set_new(r, "table", json_integer(RT_TABLE_MAIN));
	if (!dst || value_parse_cidr(dst, &c))
		return; /* record_route_parse names it */
	value_format_cidr(&c, text, sizeof(text));
	json_object_set_new(r, "dst", json_string(text));
	/* iproute2's choice, as for a POST: a route through a gateway
	 * reaches past the link, one without stays on it. */
	if (!json_object_get(r, "scope") && c.family == AF_INET &&
	    !json_object_get(r, "via"))
		json_object_set_new(r, "scope", json_string("link"));
	if (!metric || (c.family == AF_INET6 && json_is_integer(metric) &&
			json_integer_value(metric) == 0))
		json_object_set_new(
			r, "metric",
			json_integer(c.family == AF_INET6
					     ? NL_ROUTE_METRIC6_DEFAULT
					     : 0));
}

static int doc_read_route(struct doc *d, json_t *o, size_t i,
			  struct problem *prob)
{
	static const char *const skip[] = { "namespace", NULL };
	struct doc_route *x = &d->routes[d->n_routes];
	char at[64], err[256];
	json_t *rest;

	snprintf(at, sizeof(at), "/routes/%zu", i);
	if (!json_is_object(o))
		return problem_field(prob, at, "must be an object");
	x->ns = doc_name(o, "namespace", doc_check_ns, at, prob);
	rest = doc_record_part(o, skip);
	if (!rest)
		return problem_errno(prob, -ENOMEM, "reading the document",
				     NULL);
	json_array_append_new(d->keep, rest);
	doc_route_defaults(rest);
	if (record_route_parse(rest, &x->rec, err, sizeof(err)) < 0)
		return problem_field(prob, at, "%s", err);
	if (x->rec.dst.family == AF_INET6 &&
	    x->rec.scope != RT_SCOPE_UNIVERSE) {
		snprintf(at, sizeof(at), "/routes/%zu/scope", i);
		return problem_field(
			prob, at,
			"must be global for an IPv6 route: the kernel keeps no other");
	}
	if (x->ns) {
		x->index = i;
		d->n_routes++;
	}
	return 0;
}

static json_t *doc_array(json_t *root, const char *key, struct problem *prob)
{
	json_t *a = json_object_get(root, key);
	char at[32];

	if (!a)
		return NULL;
	if (!json_is_array(a)) {
		snprintf(at, sizeof(at), "/%s", key);
		problem_field(prob, at, "must be an array");
		return NULL;
	}
	return a;
}

/* The top level: five arrays, and "revision" (ignored). */
static int doc_read(json_t *root, struct doc *d, struct problem *prob)
{
	json_t *ns, *links, *addrs, *routes, *sysctls, *o;
	const char *k;
	size_t i;
	char at[80];

	json_object_foreach(root, k, o) {
		if (strcmp(k, "namespaces") && strcmp(k, "links") &&
		    strcmp(k, "addresses") && strcmp(k, "revision") &&
		    strcmp(k, "routes") && strcmp(k, "sysctls")) {
			snprintf(at, sizeof(at), "/%.60s", k);
			problem_field(prob, at, "unknown member");
		}
	}
	ns = doc_array(root, "namespaces", prob);
	links = doc_array(root, "links", prob);
	addrs = doc_array(root, "addresses", prob);
	routes = doc_array(root, "routes", prob);
	sysctls = doc_array(root, "sysctls", prob);
	d->routes = calloc(json_array_size(routes) + 1, sizeof(*d->routes));
	d->ns = calloc(json_array_size(ns) + 1, sizeof(*d->ns));
	d->links = calloc(json_array_size(links) + 1, sizeof(*d->links));
	d->addrs = calloc(json_array_size(addrs) + 1, sizeof(*d->addrs));
	d->sysctls = calloc(json_array_size(sysctls) + 1, sizeof(*d->sysctls));
	if (!d->ns || !d->links || !d->addrs || !d->routes || !d->sysctls)
		return problem_errno(prob, -ENOMEM, "reading the document",
				     NULL)
			       ?: -ENOMEM;
	json_array_foreach(routes, i, o)
		doc_read_route(d, o, i, prob);
	doc_read_ns(d, ns, prob);
	json_array_foreach(links, i, o)
		doc_read_link(d, o, i, prob);
	json_array_foreach(addrs, i, o)
		doc_read_addr(d, o, i, prob);
	json_array_foreach(sysctls, i, o)
		d->n_sysctls +=
			sysctl_doc_read(o, i, &d->sysctls[d->n_sysctls], prob);
	return 0;
}

/* Entries compare by name, then by their place in the document, so that
 * the first of a name sorts first. */
static int doc_ns_cmp(const void *a, const void *b)
{
	const struct doc_ns *x = *(const struct doc_ns *const *)a,
			    *y = *(const struct doc_ns *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int doc_link_cmp(const void *a, const void *b)
{
	const struct doc_link *x = *(const struct doc_link *const *)a,
			      *y = *(const struct doc_link *const *)b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int doc_addr_key_cmp(const struct doc_addr *x, const char *ns,
			    const char *link, const char *text)
{
	int c = strcmp(x->ns, ns);

	if (!c)
		c = strcmp(x->link, link);
	return c ? c : strcmp(x->text, text);
}

static int doc_addr_cmp(const void *a, const void *b)
{
	const struct doc_addr *x = *(const struct doc_addr *const *)a,
			      *y = *(const struct doc_addr *const *)b;
	int c = doc_addr_key_cmp(x, y->ns, y->link, y->text);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The sorted views of the entries read; -ENOMEM. */
static int doc_sort(struct doc *d)
{
	d->ns_sorted = calloc(d->n_ns + 1, sizeof(*d->ns_sorted));
	d->links_sorted = calloc(d->n_links + 1, sizeof(*d->links_sorted));
	d->addrs_sorted = calloc(d->n_addrs + 1, sizeof(*d->addrs_sorted));
	if (!d->ns_sorted || !d->links_sorted || !d->addrs_sorted)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_ns; i++)
		d->ns_sorted[i] = &d->ns[i];
	for (size_t i = 0; i < d->n_links; i++)
		d->links_sorted[i] = &d->links[i];
	for (size_t i = 0; i < d->n_addrs; i++)
		d->addrs_sorted[i] = &d->addrs[i];
	qsort(d->ns_sorted, d->n_ns, sizeof(*d->ns_sorted), doc_ns_cmp);
	qsort(d->links_sorted, d->n_links, sizeof(*d->links_sorted),
	      doc_link_cmp);
	qsort(d->addrs_sorted, d->n_addrs, sizeof(*d->addrs_sorted),
	      doc_addr_cmp);
	return 0;
}

/* The first entry at or after ns/name in the sorted links. */
static size_t doc_link_lower(const struct doc *d, const char *ns,
			     const char *name)
{
	size_t lo = 0, hi = d->n_links;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct doc_link *l = d->links_sorted[mid];
		int c = strcmp(l->ns, ns);

		if (!c)
			c = strcmp(l->name, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct doc_link *doc_link_find(const struct doc *d, const char *ns,
				     const char *name)
{
	size_t i = doc_link_lower(d, ns, name);
	const struct doc_link *l;

	if (i == d->n_links)
		return NULL;
	l = d->links_sorted[i];
	return strcmp(l->ns, ns) || strcmp(l->name, name) ? NULL : l;
}

/* The first namespace entry named `ns`, or NULL. */
static const struct doc_ns *doc_ns_find(const struct doc *d, const char *ns)
{
	size_t lo = 0, hi = d->n_ns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(d->ns_sorted[mid]->name, ns) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n_ns && !strcmp(d->ns_sorted[lo]->name, ns)
		       ? d->ns_sorted[lo]
		       : NULL;
}

bool doc_has_ns(const struct doc *d, const char *ns)
{
	return name_is_host(ns) || doc_ns_find(d, ns);
}

/* The first address entry of ns/link/text, or NULL. */
static const struct doc_addr *doc_addr_find(const struct doc *d, const char *ns,
					    const char *link, const char *text)
{
	size_t lo = 0, hi = d->n_addrs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (doc_addr_key_cmp(d->addrs_sorted[mid], ns, link, text) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n_addrs && !doc_addr_key_cmp(d->addrs_sorted[lo], ns,
						    link, text)
		       ? d->addrs_sorted[lo]
		       : NULL;
}

bool doc_has_addr(const struct doc *d, const char *ns, const char *link,
		  const char *text)
{
	return doc_addr_find(d, ns, link, text) != NULL;
}

/* Duplicates, each said at its second occurrence, in document order. */
static void doc_check_unique(const struct doc *d, struct problem *prob)
{
	char at[64];

	for (size_t i = 0; i < d->n_ns; i++)
		if (doc_ns_find(d, d->ns[i].name) != &d->ns[i]) {
			snprintf(at, sizeof(at), "/namespaces/%zu",
				 d->ns[i].index);
			problem_field(prob, at,
				      "namespace %s is declared twice",
				      d->ns[i].name);
		}
	for (size_t i = 0; i < d->n_links; i++)
		if (doc_link_find(d, d->links[i].ns, d->links[i].name) !=
		    &d->links[i]) {
			snprintf(at, sizeof(at), "/links/%zu",
				 d->links[i].index);
			problem_field(prob, at, "link %s/%s is declared twice",
				      d->links[i].ns, d->links[i].name);
		}
	for (size_t i = 0; i < d->n_addrs; i++) {
		const struct doc_addr *a = &d->addrs[i];

		if (doc_addr_find(d, a->ns, a->link, a->text) == a)
			continue;
		snprintf(at, sizeof(at), "/addresses/%zu", a->index);
		problem_field(prob, at, "address %s on %s/%s twice", a->text,
			      a->ns, a->link);
	}
}

/* Two routes of one identity: namespace, table, destination, metric. */
static void doc_check_unique_routes(const struct doc *d, struct problem *prob)
{
	char at[64];

	for (size_t i = 0; i < d->n_routes; i++)
		for (size_t j = 0; j < i; j++) {
			const struct doc_route *a = &d->routes[i],
					       *b = &d->routes[j];

			if (strcmp(a->ns, b->ns) ||
			    a->rec.table != b->rec.table ||
			    a->rec.metric != b->rec.metric ||
			    !value_cidr_equal(&a->rec.dst, &b->rec.dst))
				continue;
			snprintf(at, sizeof(at), "/routes/%zu", a->index);
			problem_field(prob, at,
				      "route %s (table %u, metric %u) in %s "
				      "twice",
				      a->rec.dst_text, a->rec.table,
				      a->rec.metric, a->ns);
			break;
		}
}

/* A veth end's peer: declared, a veth, and naming this end back. */
static void doc_check_peer(const struct doc *d, const struct doc_link *l,
			   struct problem *prob)
{
	const struct record_veth *v = &l->rec.veth;
	const struct doc_link *p;
	char at[64];

	snprintf(at, sizeof(at), "/links/%zu/peer", l->index);
	if (!(l->rec.has & RECORD_HAS_PEER)) {
		problem_field(prob, at, "a veth needs its peer");
		return;
	}
	p = doc_link_find(d, v->peer_ns, v->peer_name);
	if (!p || p->rec.kind != RECORD_KIND_VETH)
		problem_field(prob, at,
			      "the peer %s/%s is not declared as a veth",
			      v->peer_ns, v->peer_name);
	else if (!(p->rec.has & RECORD_HAS_PEER) ||
		 strcmp(p->rec.veth.peer_ns, l->ns) ||
		 strcmp(p->rec.veth.peer_name, l->name))
		problem_field(prob, at, "the peer %s/%s names another peer",
			      v->peer_ns, v->peer_name);
}

/* References: namespaces declared, peers matched, bridges that are
 * bridges. A master or an address's link that the document does not
 * declare may exist in the kernel: the planner checks that. */
static void doc_check_refs(const struct doc *d, struct problem *prob)
{
	const struct doc_link *m;
	char at[64];

	for (size_t i = 0; i < d->n_links; i++) {
		const struct doc_link *l = &d->links[i];

		snprintf(at, sizeof(at), "/links/%zu/namespace", l->index);
		if (!doc_has_ns(d, l->ns))
			problem_ns_undeclared(prob, at, l->ns);
		if (l->rec.kind == RECORD_KIND_VETH)
			doc_check_peer(d, l, prob);
		snprintf(at, sizeof(at), "/links/%zu/options/parent_namespace",
			 l->index);
		if (l->rec.opts.parent_ns &&
		    !doc_has_ns(d, l->rec.opts.parent_ns))
			problem_ns_undeclared(prob, at, l->rec.opts.parent_ns);
		if (!(l->rec.has & RECORD_HAS_MASTER) || !l->rec.master)
			continue;
		m = doc_link_find(d, l->ns, l->rec.master);
		snprintf(at, sizeof(at), "/links/%zu/master", l->index);
		if (m && m->rec.kind != RECORD_KIND_BRIDGE &&
		    m->rec.kind != RECORD_KIND_NONE)
			problem_field(prob, at, "%s is declared as a %s",
				      l->rec.master,
				      record_kind_name(m->rec.kind));
		else if (m == l)
			problem_own_port(prob, at);
	}
	for (size_t i = 0; i < d->n_routes; i++) {
		snprintf(at, sizeof(at), "/routes/%zu/namespace",
			 d->routes[i].index);
		if (!doc_has_ns(d, d->routes[i].ns))
			problem_ns_undeclared(prob, at, d->routes[i].ns);
	}
	for (size_t i = 0; i < d->n_addrs; i++) {
		snprintf(at, sizeof(at), "/addresses/%zu/namespace",
			 d->addrs[i].index);
		if (!doc_has_ns(d, d->addrs[i].ns))
			problem_ns_undeclared(prob, at, d->addrs[i].ns);
	}
}

int doc_parse(json_t *root, struct doc *d, struct problem *prob)
{
	memset(d, 0, sizeof(*d));
	if (!json_is_object(root))
		return problem_field(prob, "/", "must be an object");
	d->root = json_incref(root);
	d->keep = json_array();
	if (!d->keep)
		return problem_errno(prob, -ENOMEM, "reading the document",
				     NULL);
	/* Every problem at once: the checks across entries run on those
	 * that could be read, even when others could not. */
	if (doc_read(root, d, prob) == 0) {
		if (doc_sort(d) < 0) {
			doc_free(d);
			return problem_errno(prob, -ENOMEM,
					     "reading the document", NULL);
		}
		doc_check_unique(d, prob);
		doc_check_unique_routes(d, prob);
		sysctl_doc_check_unique(d->sysctls, d->n_sysctls, prob);
		doc_check_refs(d, prob);
	}
	if (prob->status) {
		doc_free(d);
		return -prob->status;
	}
	return 0;
}

void doc_free(struct doc *d)
{
	free(d->ns_sorted);
	free(d->links_sorted);
	free(d->addrs_sorted);
	free(d->ns);
	free(d->links);
	free(d->addrs);
	free(d->routes);
	free(d->sysctls);
	json_decref(d->root);
	json_decref(d->keep);
	memset(d, 0, sizeof(*d));
}
