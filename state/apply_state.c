#include "apply_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/name.h"
#include "../netlink/addr.h"
#include "../netlink/link.h"
#include "../netlink/ns.h"
#include "../netlink/ns_mark.h"
#include "../netlink/nsid.h"
#include "apply.h"
#include "key.h"
#include "route_apply.h"

/* What the kernel has in one namespace the plan touches, read once: one
 * dump of links and one of addresses, not a request per object. */
struct view_ns {
	/* A copy: callers name it from buffers of their own. */
	char name[NAME_NS_MAX + 1];
	bool exists;
	struct nl_link *links; /* sorted by name */
	size_t n_links;
	struct nl_addr *addrs;
	size_t n_addrs;
	struct nl_route *routes;
	size_t n_routes;
};

struct ctx {
	struct store *store;
	const struct doc *d;
	struct plan *p;
	struct store_txn *t;
	struct problem *prob;
	struct view_ns *views;
	size_t n_views, cap_views;
	json_t *held; /* every desired record, by key */
	bool creates;
	/* A namespace's links, addresses or routes could not be read: no
	 * plan is made from a view that may lack what is there. */
	int view_err;
	char view_err_ns[NAME_NS_MAX + 1];
};

static int view_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nl_link *)a)->name,
		      ((const struct nl_link *)b)->name);
}

/* The view of `ns`, read on first use; NULL when out of memory. */
static struct view_ns *view_of(struct ctx *c, const char *ns)
{
	struct nl_sock *s = NULL;
	struct view_ns *v;
	int r;

	for (size_t i = 0; i < c->n_views; i++)
		if (!strcmp(c->views[i].name, ns))
			return &c->views[i];
	if (c->n_views == c->cap_views) {
		size_t cap = c->cap_views ? c->cap_views * 2 : 16;
		struct view_ns *n = realloc(c->views, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->views = n;
		c->cap_views = cap;
	}
	v = &c->views[c->n_views++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", ns);
	v->exists = name_is_host(ns) || nl_ns_exists(ns);
	if (!v->exists || nl_ns_get(ns, &s) < 0)
		return v;
	r = nl_link_dump(s, &v->links, &v->n_links);
	if (r == 0)
		qsort(v->links, v->n_links, sizeof(*v->links), view_cmp);
	if (r == 0)
		r = nl_addr_dump(s, 0, &v->addrs, &v->n_addrs);
	if (r == 0)
		r = nl_route_dump(s, &v->routes, &v->n_routes);
	if (r < 0 && !c->view_err) {
		c->view_err = r;
		snprintf(c->view_err_ns, sizeof(c->view_err_ns), "%s", ns);
	}
	nl_ns_put(ns, s);
	return v;
}

static const struct nl_link *view_link(const struct view_ns *v,
				       const char *name)
{
	struct nl_link key;

	if (!v || !v->n_links)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, v->links, v->n_links, sizeof(key), view_cmp);
}

static const struct nl_link *view_index(const struct view_ns *v, int ifindex)
{
	for (size_t i = 0; ifindex && i < v->n_links; i++)
		if (v->links[i].ifindex == ifindex)
			return &v->links[i];
	return NULL;
}

static bool view_has_addr(const struct view_ns *v, int ifindex,
			  const struct cidr *c)
{
	for (size_t i = 0; i < v->n_addrs; i++)
		if (v->addrs[i].ifindex == ifindex &&
		    value_cidr_equal(&v->addrs[i].cidr, c))
			return true;
	return false;
}

/* What the planner needs of a link, from the views. */
static void view_seen(const struct view_ns *v, const char *name,
		      struct plan_seen *ret)
{
	const struct nl_link *m;

	memset(ret, 0, sizeof(*ret));
	if (!v)
		return;
	ret->link = view_link(v, name);
	if (ret->link && (m = view_index(v, ret->link->master)))
		ret->master_name = m->name;
}

/* A problem of the planner said at the entry it is about. */
static int at(struct ctx *c, const char *what, size_t index, int r)
{
	char ptr[64];

	if (r == -ENOMEM || !c->prob->status)
		return problem_errno(c->prob, r < 0 ? r : -ENOMEM, "planning",
				     NULL);
	snprintf(ptr, sizeof(ptr), "/%s/%zu", what, index);
	problem_field(c->prob, ptr, "%s", c->prob->detail);
	return -c->prob->status;
}

static void set_record(struct ctx *c, const char *key, json_t *v)
{
	if (!json_object_get(c->held, key))
		c->creates = true;
	store_txn_set(c->t, key, v);
}

static int plan_namespaces(struct ctx *c)
{
	const struct record_ns made = { .marked = true },
			       adopted = { .adopted = true };
	char key[KEY_MAX];
	int r = 0;

	for (size_t i = 0; r == 0 && i < c->d->n_ns; i++) {
		const char *ns = c->d->ns[i].name;
		struct view_ns *v = view_of(c, ns);

		key_ns(key, ns);
		if (!v)
			return problem_errno(c->prob, -ENOMEM, "planning",
					     NULL);
		if (json_object_get(c->held, key))
			continue;
		if (!v->exists)
			r = plan_ns(c->p, ns, true);
		else if (nl_ns_marked(ns) != 1)
			r = plan_ns_mark(c->p, ns);
		/* An adopted one is recorded unmarked (README.md,
		 * "Ownership"): a crash before its mark leaves it netnsd's. */
		set_record(c, key,
			   record_ns_format(v->exists ? &adopted : &made));
	}
	return r < 0 ? problem_errno(c->prob, r, "planning", NULL) : 0;
}

/* The id namespace `ns` gives namespace `pns` (-1: none, or not known):
 * what a link there reports its parent in `pns` by. */
static int view_nsid(const char *ns, const char *pns)
{
	struct nl_sock *s = NULL;
	int fd = -1, id = -1;

	if (nl_ns_get(ns, &s) < 0)
		return -1;
	if (nl_ns_open_fd(pns, &fd) == 0)
		nl_nsid_of(s, fd, &id);
	if (fd >= 0)
		close(fd);
	nl_ns_put(ns, s);
	return id;
}

/* The parent of a link of the kind table as the planner sees it: in the
 * link's namespace, or in its parent_namespace (README.md, "More link
 * kinds"), declared by the same document. */
static void plan_one_parent(struct ctx *c, const struct doc_link *l,
			    struct plan_seen *seen, bool parent_planned)
{
	const char *pns = l->rec.opts.parent_ns;
	struct view_ns *pv = view_of(c, pns ? pns : l->ns);

	const struct doc_link *par =
		parent_planned ? doc_link_find(c->d, pns ? pns : l->ns,
					       l->rec.opts.parent)
			       : NULL;

	seen->parent =
		l->rec.opts.parent ? view_link(pv, l->rec.opts.parent) : NULL;
	seen->parent_planned = parent_planned;
	seen->parent_planned_kind =
		par ? record_kind_name(par->rec.kind) : NULL;
	seen->parent_nsid = -1;
	/* A namespace the document declares is made by an earlier step. */
	seen->parent_ns_missing =
		pns && pv && !pv->exists && !doc_has_ns(c->d, pns);
	if (pns && seen->link && seen->parent)
		seen->parent_nsid = view_nsid(l->ns, pns);
}

/* One link of the document without its master (pass B attaches); a link
 * of the kind table on its parent, there or made by an earlier step
 * (`parent_planned`). */
static int plan_one_link(struct ctx *c, const struct doc_link *l,
			 bool parent_planned)
{
	struct record_link w = l->rec, pw;
	struct view_ns *v = view_of(c, l->ns), *pv;
	const struct doc_link *peer;
	struct plan_seen seen, pseen;

	w.has &= ~RECORD_HAS_MASTER;
	view_seen(v, l->name, &seen);
	if (w.has & RECORD_HAS_OPTIONS)
		plan_one_parent(c, l, &seen, parent_planned);
	if (l->rec.kind != RECORD_KIND_VETH)
		return plan_link(c->p, l->ns, l->name, &w, &seen, c->prob);
	/* A pair is planned once, from its end that sorts first. */
	peer = doc_link_find(c->d, l->rec.veth.peer_ns, l->rec.veth.peer_name);
	if (strcmp(l->ns, peer->ns) > 0 ||
	    (!strcmp(l->ns, peer->ns) && strcmp(l->name, peer->name) > 0))
		return 0;
	pv = view_of(c, peer->ns);
	view_seen(pv, peer->name, &pseen);
	if (seen.link && pseen.link && seen.link->link == pseen.link->ifindex &&
	    pseen.link->link == seen.link->ifindex) {
		seen.peer_ns = peer->ns;
		seen.peer_name = peer->name;
	}
	pw = peer->rec;
	pw.has &= ~RECORD_HAS_MASTER;
	return plan_veth(c->p, l->ns, l->name, &w, &seen, peer->ns, peer->name,
			 &pw, &pseen, c->prob);
}

/* How deep links of the kind table may stand on each other. */
#define PLAN_KIND_ROUNDS 4

/* Whether link `l` is planned in `pass`: bridges first (ports have
 * somewhere to go), then veths and the rest, then the kind table's in
 * rounds, each once its parent is there or planned (`*parent_planned`). */
static bool plan_links_turn(struct ctx *c, const struct doc_link *l,
			    const bool *done, int pass, bool *parent_planned)
{
	const struct doc_link *par;

	*parent_planned = false;
	if (!(l->rec.has & RECORD_HAS_OPTIONS))
		return pass == (l->rec.kind == RECORD_KIND_BRIDGE ? 0 : 1);
	if (pass < 2)
		return false;
	par = l->rec.opts.parent
		      ? doc_link_find(c->d, l->rec.opts.parent_ns ?: l->ns,
				      l->rec.opts.parent)
		      : NULL;
	*parent_planned = par && done[par - c->d->links];
	return !par || *parent_planned || pass == 1 + PLAN_KIND_ROUNDS;
}

static int plan_links(struct ctx *c)
{
	bool *done = calloc(c->d->n_links + 1, sizeof(bool)), planned;
	char key[KEY_MAX];
	int r = 0;

	if (!done)
		return problem_errno(c->prob, -ENOMEM, "planning", NULL);
	for (int pass = 0; r == 0 && pass < 2 + PLAN_KIND_ROUNDS; pass++)
		for (size_t i = 0; r == 0 && i < c->d->n_links; i++) {
			const struct doc_link *l = &c->d->links[i];

			if (done[i] ||
			    !plan_links_turn(c, l, done, pass, &planned))
				continue;
			r = plan_one_link(c, l, planned);
			if (r < 0) {
				r = at(c, "links", l->index, r);
				break;
			}
			done[i] = true;
			key_link(key, l->ns, l->name);
			set_record(c, key, record_link_format(&l->rec));
		}
	free(done);
	return r;
}

/* Pass B: every link on the bridge the document says. */
static int plan_masters(struct ctx *c)
{
	for (size_t i = 0; i < c->d->n_links; i++) {
		const struct doc_link *l = &c->d->links[i];
		const char *m = l->rec.master;
		struct view_ns *v = view_of(c, l->ns);
		const struct nl_link *have = view_link(v, l->name), *br;
		struct plan_seen seen;
		int r;

		if (!(l->rec.has & RECORD_HAS_MASTER))
			continue;
		br = m ? view_link(v, m) : NULL;
		if (m && !doc_link_find(c->d, l->ns, m) &&
		    (!br || strcmp(br->kind, "bridge"))) {
			problem_set(
				c->prob, 404, "not-found",
				"bridge %s is neither declared nor in namespace %s",
				m, l->ns);
			return at(c, "links", l->index, -404);
		}
		view_seen(v, l->name, &seen);
		r = plan_attach(c->p, l->ns, l->name, have ? have->ifindex : 0,
				l->rec.kind, seen.master_name,
				have ? have->master : 0, m);
		if (r < 0)
			return problem_errno(c->prob, r, "planning", NULL);
	}
	return 0;
}

static int plan_addresses(struct ctx *c)
{
	char key[KEY_MAX];

	for (size_t i = 0; i < c->d->n_addrs; i++) {
		const struct doc_addr *a = &c->d->addrs[i];
		struct view_ns *v = view_of(c, a->ns);
		const struct nl_link *l = view_link(v, a->link);
		int r;

		if (!l && !doc_link_find(c->d, a->ns, a->link)) {
			problem_set(
				c->prob, 404, "not-found",
				"link %s is neither declared nor in namespace %s",
				a->link, a->ns);
			return at(c, "addresses", a->index, -404);
		}
		r = plan_addr(c->p, a->ns, a->link, l ? l->ifindex : 0,
			      &a->cidr, &a->opts, true,
			      l && view_has_addr(v, l->ifindex, &a->cidr));
		if (r < 0)
			return problem_errno(c->prob, r, "planning", NULL);
		key_addr(key, a->ns, a->link, a->text);
		set_record(c, key, record_addr_format(&a->opts));
	}
	return 0;
}

/* The held record under `key` ("link/<ns>/<name>", "addr/<ns>/<link>/
 * <cidr>") split into its names; false for a key of another kind. */
static bool split_key(const char *key, const char *prefix, char *ns, char *name,
		      const char **rest)
{
	size_t plen = strlen(prefix);
	const char *a = key + plen, *b;

	if (strncmp(key, prefix, plen) || !(b = strchr(a, '/')) ||
	    (size_t)(b - a) > NAME_NS_MAX)
		return false;
	memcpy(ns, a, (size_t)(b - a));
	ns[b - a] = '\0';
	a = b + 1;
	b = strchr(a, '/');
	if (!b)
		b = a + strlen(a);
	if ((size_t)(b - a) >= IFNAMSIZ)
		return false;
	memcpy(name, a, (size_t)(b - a));
	name[b - a] = '\0';
	*rest = *b ? b + 1 : b;
	return true;
}

/* Whether the held namespace `ns` goes with this apply. */
static bool ns_goes(struct ctx *c, const char *ns)
{
	char key[KEY_MAX];

	key_ns(key, ns);
	return json_object_get(c->held, key) && !doc_has_ns(c->d, ns);
}

/* Addresses held and not in the document: taken off their link, unless
 * the link or its namespace goes anyway. */
static int plan_gone_addrs(struct ctx *c)
{
	char ns[NAME_NS_MAX + 1], link[IFNAMSIZ];
	const char *key, *text;
	struct cidr cidr;
	json_t *v;
	int r = 0;

	json_object_foreach(c->held, key, v) {
		const struct nl_link *l;
		struct view_ns *vn;
		struct record_addr opts;

		if (!split_key(key, "addr/", ns, link, &text) ||
		    doc_has_addr(c->d, ns, link, text))
			continue;
		store_txn_del(c->t, key);
		if (ns_goes(c, ns) || value_parse_cidr(text, &cidr))
			continue;
		vn = view_of(c, ns);
		l = view_link(vn, link);
		if (!l || !view_has_addr(vn, l->ifindex, &cidr))
			continue;
		record_addr_read(v, &opts);
		r = plan_addr(c->p, ns, link, l->ifindex, &cidr, &opts, false,
			      true);
		if (r < 0)
			return problem_errno(c->prob, r, "planning", NULL);
	}
	return 0;
}

/* Whether a link that goes (in a namespace that stays) is deleted from
 * this end. A veth goes once: from its end that sorts first, unless that
 * end's namespace goes (the kernel takes the pair with the namespace, but
 * in its own time: the far end is deleted now, so that the answer sees the
 * state it reports). */
static bool gone_link_here(struct ctx *c, const struct record_link *w,
			   const char *ns, const char *name)
{
	const char *pns = w->veth.peer_ns, *pname = w->veth.peer_name;

	if (!(w->has & RECORD_HAS_PEER) || doc_link_find(c->d, pns, pname) ||
	    ns_goes(c, pns))
		return true;
	return strcmp(ns, pns) < 0 ||
	       (!strcmp(ns, pns) && strcmp(name, pname) < 0);
}

/* Links held and not in the document: netnsd's own are deleted (a veth
 * once, with its peer), unless their namespace goes; a record of
 * attributes is only forgotten. */
static int plan_gone_links(struct ctx *c)
{
	char ns[NAME_NS_MAX + 1], name[IFNAMSIZ];
	const char *key, *rest;
	json_t *v;
	int r = 0;

	json_object_foreach(c->held, key, v) {
		struct record_link w;
		const struct nl_link *l;

		if (!split_key(key, "link/", ns, name, &rest) ||
		    doc_link_find(c->d, ns, name))
			continue;
		store_txn_del(c->t, key);
		record_link_read(v, &w);
		if (!w.owned || ns_goes(c, ns) ||
		    !gone_link_here(c, &w, ns, name))
			continue;
		l = view_link(view_of(c, ns), name);
		if (!l || !nl_link_is_ours(l))
			continue;
		r = plan_link_del(c->p, ns, name, l->ifindex,
				  record_kind_name(w.kind));
		if (r < 0)
			return problem_errno(c->prob, r, "planning", NULL);
	}
	return 0;
}

/* Namespaces held and not in the document: deleted, or released when
 * netnsd adopted them. Releases come first: they can be undone. */
static int plan_gone_ns(struct ctx *c, bool adopted)
{
	const char *key;
	json_t *v;
	int r = 0;

	json_object_foreach(c->held, key, v) {
		const char *ns = key + strlen("ns/");
		struct record_ns w = { 0 };
		struct view_ns *vn;

		if (strncmp(key, "ns/", 3) || doc_has_ns(c->d, ns))
			continue;
		record_ns_parse(v, &w, NULL, 0);
		if (w.adopted != adopted)
			continue;
		store_txn_del(c->t, key);
		vn = view_of(c, ns);
		if (!vn || !vn->exists)
			continue;
		r = adopted ? plan_ns_release(c->p, ns)
			    : plan_ns(c->p, ns, false);
		if (r < 0)
			return problem_errno(c->prob, r, "planning", NULL);
	}
	return 0;
}

/* What the document leaves out goes (addresses went before the new
 * ones came): releases, then links and namespaces, which cannot be
 * undone, so that nothing that can fail comes after them. */
static int plan_gone(struct ctx *c)
{
	int r = plan_gone_ns(c, true);

	if (r == 0)
		r = plan_gone_links(c);
	if (r == 0)
		r = plan_gone_ns(c, false);
	return r;
}

/* The index of link `dev` in `v` when the kernel has it, 0 when the
 * same plan makes it (declared), -1 when neither. */
static int route_dev_index(struct ctx *c, const struct view_ns *v,
			   const char *ns, const char *dev)
{
	const struct nl_link *l = dev ? view_link(v, dev) : NULL;
	char key[KEY_MAX];

	if (!dev)
		return 0;
	if (doc_link_find(c->d, ns, dev))
		return l ? l->ifindex : 0;
	/* There now, but netnsd's and going with this apply. */
	key_link(key, ns, dev);
	if (!l || json_object_get(c->held, key))
		return -1;
	return l->ifindex;
}

/* The document's routes, after the addresses their gateways need: added
 * when missing, replaced when netnsd's differs; someone else's in their
 * place is a 409. */
static int plan_routes(struct ctx *c)
{
	char key[KEY_MAX], path[256], detail[160];

	for (size_t i = 0; i < c->d->n_routes; i++) {
		const struct doc_route *x = &c->d->routes[i];
		struct view_ns *v = view_of(c, x->ns);
		const struct nl_route *have;
		struct nl_route want;
		int ifindex = route_dev_index(c, v, x->ns, x->rec.dev), r;

		if (ifindex < 0) {
			problem_set(c->prob, 404, "not-found",
				    "link %s is neither declared nor in "
				    "namespace %s",
				    x->rec.dev, x->ns);
			return at(c, "routes", x->index, -404);
		}
		have = v ? nl_route_find(v->routes, v->n_routes, &x->rec.dst,
					 x->rec.table, x->rec.metric)
			 : NULL;
		route_path(path, x->ns, &x->rec);
		key_route(key, x->ns, x->rec.table, x->rec.dst_text,
			  x->rec.metric);
		set_record(c, key, record_route_format(&x->rec));
		/* A device the same plan makes has no index yet: not a
		 * match. */
		if (have && (!x->rec.dev || ifindex) &&
		    route_matches(&x->rec, ifindex, have))
			continue;
		if (have && have->protocol != NL_ROUTE_PROTO) {
			problem_set(c->prob, 409, "unmanaged",
				    "route %s in namespace %s is held by a "
				    "route netnsd did not make",
				    x->rec.dst_text, x->ns);
			return at(c, "routes", x->index, -409);
		}
		route_to_nl(&x->rec, 0, &want);
		snprintf(detail, sizeof(detail), "route %s%s%s%s%s",
			 x->rec.dst_text, x->rec.via_text ? " via " : "",
			 x->rec.via_text ? x->rec.via_text : "",
			 x->rec.dev ? " dev " : "",
			 x->rec.dev ? x->rec.dev : "");
		r = plan_route_set(c->p, x->ns, path, &want, x->rec.dev, have,
				   detail);
		if (r < 0)
			return problem_errno(c->prob, r, "planning", NULL);
	}
	return 0;
}

static bool doc_has_route(const struct doc *d, const char *ns,
			  const struct record_route *r)
{
	for (size_t i = 0; i < d->n_routes; i++)
		if (!strcmp(d->routes[i].ns, ns) &&
		    d->routes[i].rec.table == r->table &&
		    d->routes[i].rec.metric == r->metric &&
		    value_cidr_equal(&d->routes[i].rec.dst, &r->dst))
			return true;
	return false;
}

/* Routes held and not in the document: deleted from the kernel (before
 * the addresses and links they depend on go), unless their namespace
 * goes anyway. */
static int plan_gone_routes(struct ctx *c)
{
	char ns[NAME_NS_MAX + 1], path[256];
	const char *key, *slash;
	struct record_route rr;
	json_t *v;
	int r;

	json_object_foreach(c->held, key, v) {
		const struct nl_route *have;
		struct view_ns *vn;

		if (strncmp(key, "route/", 6))
			continue;
		slash = strchr(key + 6, '/');
		if (!slash || (size_t)(slash - key - 6) > NAME_NS_MAX ||
		    record_route_parse(v, &rr, NULL, 0) < 0)
			continue;
		memcpy(ns, key + 6, (size_t)(slash - key - 6));
		ns[slash - key - 6] = '\0';
		if (doc_has_route(c->d, ns, &rr))
			continue;
		store_txn_del(c->t, key);
		if (ns_goes(c, ns) || !(vn = view_of(c, ns)))
			continue;
		have = nl_route_find(vn->routes, vn->n_routes, &rr.dst,
				     rr.table, rr.metric);
		if (!have || have->protocol != NL_ROUTE_PROTO)
			continue;
		route_path(path, ns, &rr);
		r = plan_route_del(c->p, ns, path, have);
		if (r < 0)
			return problem_errno(c->prob, r, "planning", NULL);
	}
	return 0;
}

int apply_state_plan(struct store *s, const struct doc *d, struct plan *p,
		     struct store_txn **ret_records, struct problem *prob)
{
	struct ctx c = { .store = s, .d = d, .p = p, .prob = prob };
	int r = -ENOMEM;

	*ret_records = NULL;
	c.t = store_txn_new();
	c.held = store_list(s, "");
	if (!c.t || !c.held) {
		r = problem_errno(prob, -ENOMEM, "planning", NULL);
		goto out;
	}
	/* Addresses go before others come: an IPv4 address taken off
	 * takes the secondaries of its subnet with it. */
	r = plan_namespaces(&c);
	/* Sysctls as reconcile orders them (README.md, "Sysctls"). */
	if (r == 0)
		r = sysctl_doc_plan(c.held, d, false, p, c.t, prob);
	if (r == 0)
		r = plan_links(&c);
	if (r == 0)
		r = plan_masters(&c);
	if (r == 0)
		r = sysctl_doc_plan(c.held, d, true, p, c.t, prob);
	if (r == 0)
		r = plan_gone_routes(&c);
	if (r == 0)
		r = plan_gone_addrs(&c);
	if (r == 0)
		r = plan_addresses(&c);
	if (r == 0)
		r = plan_routes(&c);
	if (r == 0)
		r = plan_gone(&c);
	if (r == 0 && c.view_err) {
		char what[NAME_NS_MAX + 32];

		snprintf(what, sizeof(what), "reading namespace %s",
			 c.view_err_ns);
		r = problem_errno(prob, c.view_err, what, NULL);
	}
	if (r < 0)
		goto out;
	if (c.creates)
		store_txn_creates(c.t);
	*ret_records = c.t;
	c.t = NULL;
out:
	for (size_t i = 0; i < c.n_views; i++) {
		free(c.views[i].links);
		free(c.views[i].addrs);
		free(c.views[i].routes);
	}
	free(c.views);
	json_decref(c.held);
	store_txn_free(c.t);
	return r;
}

int apply_state_document(struct store *s, json_t *root, bool dry_run,
			 void (*edit)(struct store_txn *t, void *arg),
			 void *arg, struct plan *p, struct problem *prob)
{
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	struct doc d = { 0 };
	int r = doc_parse(root, &d, prob);

	if (r == 0)
		r = apply_state_plan(s, &d, p, &t, prob);
	if (r < 0 || dry_run)
		goto out;
	if (edit)
		edit(t, arg);
	r = apply_run(&ap, s, p, t, false, prob);
out:
	apply_end(&ap);
	store_txn_free(t);
	doc_free(&d);
	return r;
}
