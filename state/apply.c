#include "apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"
#include "../netlink/addr.h"
#include "../netlink/bridge.h"
#include "../netlink/kind.h"
#include "../netlink/ns.h"
#include "../netlink/ns_mark.h"
#include "../netlink/nsid.h"
#include "../netlink/route.h"
#include "../netlink/sysctl.h"
#include "../netlink/veth.h"
#include "addr_apply.h"
#include "intent.h"
#include "key.h"
#include "link_kind.h"
#include "route_apply.h"

static int apply_get(struct nl_sock *s, const char *name, struct nl_link *l,
		     const struct nl_link **ret)
{
	int r = nl_link_get(s, name, l);

	*ret = r == 0 ? l : NULL;
	return r == -ENODEV ? 0 : r;
}

int apply_see_link(struct nl_sock *s, const char *name, const char *want_master,
		   struct apply_seen *ret)
{
	struct nl_link m;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = apply_get(s, name, &ret->link, &ret->seen.link);
	if (r < 0)
		return r;
	if (ret->seen.link && ret->link.master &&
	    nl_link_get_index(s, ret->link.master, &m) == 0) {
		snprintf(ret->master_name, sizeof(ret->master_name), "%s",
			 m.name);
		ret->seen.master_name = ret->master_name;
	}
	if (want_master)
		r = apply_get(s, want_master, &ret->want_master,
			      &ret->seen.want_master);
	return r;
}

int apply_see_pair(struct nl_sock *s, const char *ns, const char *name,
		   const char *want_master_a, struct nl_sock *ps,
		   const char *pns, const char *pname,
		   const char *want_master_b, struct apply_seen *a,
		   struct apply_seen *b)
{
	bool local = !strcmp(ns, pns);
	int r = apply_see_link(s, name, want_master_a, a);

	if (r == 0)
		r = apply_see_link(ps, pname, want_master_b, b);
	if (r < 0 || !a->seen.link || !b->seen.link)
		return r;
	/* Each names the other by index, in the namespace it says: a pair
	 * of netnsd's that was made together. */
	if (a->link.link == b->link.ifindex &&
	    b->link.link == a->link.ifindex &&
	    (a->link.link_netnsid < 0) == local &&
	    (b->link.link_netnsid < 0) == local) {
		snprintf(a->peer_ns, sizeof(a->peer_ns), "%s", pns);
		snprintf(a->peer_name, sizeof(a->peer_name), "%s", pname);
		snprintf(b->peer_ns, sizeof(b->peer_ns), "%s", ns);
		snprintf(b->peer_name, sizeof(b->peer_name), "%s", name);
		a->seen.peer_ns = a->peer_ns;
		a->seen.peer_name = a->peer_name;
		b->seen.peer_ns = b->peer_ns;
		b->seen.peer_name = b->peer_name;
	}
	return 0;
}

/* The parent in namespace `pns`, and the id `s`'s namespace gives it. */
static int apply_see_far_parent(struct nl_sock *s, const char *parent,
				const char *pns, struct apply_seen *ret)
{
	struct nl_sock *ps = NULL;
	int fd = -1, r;

	r = nl_ns_get(pns, &ps);
	if (r == -ENOENT) {
		ret->seen.parent_ns_missing = true;
		return 0;
	}
	if (r < 0)
		return r;
	r = apply_get(ps, parent, &ret->parent, &ret->seen.parent);
	nl_ns_put(pns, ps);
	if (r == 0 && ret->seen.parent)
		r = nl_ns_open_fd(pns, &fd);
	if (r == 0 && fd >= 0)
		r = nl_nsid_of(s, fd, &ret->seen.parent_nsid);
	if (fd >= 0)
		close(fd);
	return r;
}

int apply_see_parent(struct nl_sock *s, const char *parent, const char *pns,
		     struct apply_seen *ret)
{
	ret->seen.parent = NULL;
	ret->seen.parent_ns_missing = false;
	ret->seen.parent_nsid = -1;
	if (!parent)
		return 0;
	if (pns)
		return apply_see_far_parent(s, parent, pns, ret);
	return apply_get(s, parent, &ret->parent, &ret->seen.parent);
}

int apply_see_addr(struct nl_sock *s, int ifindex, const struct cidr *c,
		   bool *ret_present)
{
	struct nl_addr *a = NULL;
	size_t n = 0;
	int r = nl_addr_dump(s, ifindex, &a, &n);

	*ret_present = false;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (value_cidr_equal(&a[i].cidr, c))
			*ret_present = true;
	free(a);
	return r;
}

void apply_restore_addresses(struct store *store, struct nl_sock *s,
			     const char *ns, const char *name)
{
	char prefix[KEY_MAX];
	json_t *want, *v;
	struct nl_link l;
	struct cidr c;
	const char *k;

	if (nl_link_get(s, name, &l) < 0)
		return;
	key_addr_prefix(prefix, ns, name);
	want = store_list(store, prefix);
	json_object_foreach(want, k, v) {
		if (!value_parse_cidr(k + strlen(prefix), &c))
			addr_apply_add(s, l.ifindex, &c, v); /* EEXIST: there */
	}
	json_decref(want);
}

void apply_restore_routes(struct store *store, struct nl_sock *s,
			  const char *ns, const char *name)
{
	struct nl_route *routes = NULL;
	enum route_outcome outcome;
	struct record_route r;
	char prefix[KEY_MAX];
	json_t *want, *v;
	const char *k;
	size_t n = 0;

	key_route_prefix(prefix, ns);
	want = store_list(store, prefix);
	if (json_object_size(want) && nl_route_dump(s, &routes, &n) == 0) {
		json_object_foreach(want, k, v) {
			/* A route without `dev` may go through it too. Only
			 * what is missing is put back: one that is there, if
			 * it drifted, is reconcile's to mend, not this. */
			if (record_route_parse(v, &r, NULL, 0) == 0 &&
			    (!r.dev || !strcmp(r.dev, name)) &&
			    !nl_route_find(routes, n, &r.dst, r.table,
					   r.metric))
				route_apply(s, &r, routes, n, false, &outcome);
		}
	}
	free(routes);
	json_decref(want);
}

static void apply_spec(const struct plan_link_spec *sp,
		       struct nl_link_spec *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->name = sp->name;
	ret->mtu = sp->mtu;
	ret->up = sp->up;
	ret->mac = sp->has_mac ? sp->mac : NULL;
	ret->netns_fd = -1;
}

static int apply_veth_add(struct nl_sock *s, const struct plan_step *st)
{
	struct nl_link_spec a, b;
	struct nl_sock *ps = NULL;
	int fd = -1, r;

	apply_spec(&st->a, &a);
	apply_spec(&st->b, &b);
	r = nl_ns_get(st->b.ns, &ps);
	if (r == 0 && strcmp(st->a.ns, st->b.ns)) {
		r = nl_ns_open_fd(st->b.ns, &fd);
		b.netns_fd = fd;
	}
	if (r == 0)
		r = nl_veth_add(s, &a, ps, &b, NULL);
	if (fd >= 0)
		close(fd);
	if (ps)
		nl_ns_put(st->b.ns, ps);
	return r;
}

/* A link of the kind table made on its parent through `ps`, a socket in
 * the parent's namespace: moved into its own at once (IFLA_NET_NS_FD,
 * as `ip link add link eth0 name mv0 netns blue` does) when that is
 * another. */
static int apply_link_make(struct nl_sock *ps, const struct plan_step *st,
			   const struct nl_kind *nk)
{
	struct nl_link_opts o = st->kopts;
	struct nl_link_spec spec;
	struct nl_link l;
	int fd = -1, r;

	/* A parent the same plan made is known by name only. */
	if (!o.parent && st->parent_name[0]) {
		r = nl_link_get(ps, st->parent_name, &l);
		if (r < 0)
			return r;
		o.parent = l.ifindex;
	}
	apply_spec(&st->a, &spec);
	if (nk->parent_in_link)
		spec.link = o.parent;
	if (st->parent_ns[0]) {
		r = nl_ns_open_fd(st->ns, &fd);
		if (r < 0)
			return r;
		spec.netns_fd = fd;
	}
	r = nl_link_add(ps, &spec, nk, &o, NULL);
	if (fd >= 0)
		close(fd);
	return r;
}

/* A link of the kind table: made in netnsd's group, then given its alias
 * (netlink/link.h); taken away again when that fails. */
static int apply_link_add(struct nl_sock *s, const struct plan_step *st)
{
	const struct link_kind *lk = link_kind_of(st->kind);
	const struct nl_kind *nk = lk ? nl_kind_find(lk->name) : NULL;
	struct nl_sock *ps = s;
	struct nl_link l;
	int r;

	if (!nk)
		return -EOPNOTSUPP;
	if (st->parent_ns[0]) {
		r = nl_ns_get(st->parent_ns, &ps);
		if (r < 0)
			return r;
	}
	r = apply_link_make(ps, st, nk);
	if (ps != s)
		nl_ns_put(st->parent_ns, ps);
	if (r < 0)
		return r;
	r = nl_link_mark_ours(s, st->a.name, -1, 0);
	if (r < 0 && nl_link_get(s, st->a.name, &l) == 0)
		nl_link_del(s, l.ifindex);
	return r;
}

static int apply_link_set(struct nl_sock *s, int ifindex,
			  const struct plan_attrs *at)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;
	struct nl_link m;
	int r;

	if (at->master == PLAN_MASTER_BY_NAME) {
		r = nl_link_get(s, at->master_name, &m);
		if (r < 0)
			return r;
		c.master = m.ifindex;
	} else {
		c.master = at->master;
	}
	c.ifindex = ifindex;
	c.mtu = at->mtu;
	c.mac = at->has_mac ? at->mac : NULL;
	c.up = at->up;
	c.alias = at->mark ? NL_LINK_ALIAS : NULL;
	return nl_link_set(s, &c);
}

/* The index of the step's link: its own, or looked up by name when the
 * same plan made it. */
static int apply_index(struct nl_sock *s, const struct plan_step *st)
{
	struct nl_link l;
	int r;

	if (st->ifindex)
		return st->ifindex;
	r = nl_link_get(s, st->name, &l);
	return r < 0 ? r : l.ifindex;
}

/* The route of a ROUTE_SET step on its device's index now. */
static int apply_route_of(struct nl_sock *s, const struct plan_step *st,
			  struct nl_route *ret)
{
	struct nl_link l;
	int r;

	*ret = st->route;
	if (!*st->dev)
		return 0;
	r = nl_link_get(s, st->dev, &l);
	if (r < 0)
		return r;
	ret->ifindex = l.ifindex;
	return 0;
}

/* Whether netnsd's route `rt` is in the kernel as it is. */
static bool apply_route_there(struct nl_sock *s, const struct nl_route *rt)
{
	struct nl_route *routes = NULL;
	const struct nl_route *have;
	size_t n = 0;
	bool there;

	if (nl_route_dump(s, &routes, &n) < 0)
		return false;
	have = nl_route_find(routes, n, &rt->dst, rt->table, rt->metric);
	there = have && have->protocol == NL_ROUTE_PROTO &&
		have->type == RTN_UNICAST && !have->multipath &&
		have->scope == rt->scope && have->has_via == rt->has_via &&
		(!rt->has_via || !memcmp(have->via, rt->via,
					 rt->dst.family == AF_INET ? 4 : 16)) &&
		(!rt->ifindex || have->ifindex == rt->ifindex);
	free(routes);
	return there;
}

static int apply_route_set(struct nl_sock *s, const struct plan_step *st)
{
	struct nl_route rt;
	int r = apply_route_of(s, st, &rt);

	if (r < 0)
		return r;
	if (st->has_old)
		return nl_route_replace(s, &rt);
	r = nl_route_add(s, &rt);
	/* An earlier step of the plan may have made it already: a link
	 * coming up puts its desired routes back (apply_restore_routes),
	 * this one's record among them. */
	if (r == -EEXIST && apply_route_there(s, &rt))
		return 0;
	return r;
}

static int apply_route_back(struct nl_sock *s, const struct plan_step *st)
{
	struct nl_route rt;
	int r;

	if (st->has_old)
		return nl_route_replace(s, &st->old_route);
	r = apply_route_of(s, st, &rt);
	if (r == 0)
		r = nl_route_del(s, &rt);
	return r == -ESRCH || r == -ENODEV ? 0 : r;
}

/* The index a step on a link's attributes or addresses needs (0 for
 * other steps), or a negative errno when its link is not there. */
static int apply_step_index(struct nl_sock *s, const struct plan_step *st)
{
	if (st->op == PLAN_LINK_SET || st->op == PLAN_BRIDGE_SET ||
	    st->op == PLAN_ADDR_ADD || st->op == PLAN_ADDR_DEL)
		return apply_index(s, st);
	return 0;
}

static int apply_in(struct nl_sock *s, int ifindex, struct store *store,
		    const struct plan_step *st)
{
	struct nl_link_spec spec;
	int r;

	switch (st->op) {
	case PLAN_BRIDGE_ADD:
		apply_spec(&st->a, &spec);
		return nl_bridge_add(s, &spec, &st->bridge);
	case PLAN_VETH_ADD: return apply_veth_add(s, st);
	case PLAN_LINK_ADD: return apply_link_add(s, st);
	case PLAN_LINK_SET:
		r = apply_link_set(s, ifindex, &st->set);
		if (r == 0 && st->set.up == 0)
			apply_restore_addresses(store, s, st->ns, st->name);
		/* Taking a link down took the routes through it. */
		if (r == 0 && st->set.up == 1)
			apply_restore_routes(store, s, st->ns, st->name);
		return r;
	case PLAN_BRIDGE_SET: return nl_bridge_set(s, ifindex, &st->bridge);
	case PLAN_ADDR_ADD: {
		struct nl_addr_opts o = NL_ADDR_OPTS_INIT;

		addr_apply_opts(&st->addr_opts, &o);
		r = nl_addr_add_opts(s, ifindex, &st->addr, &o);
		return r == -EEXIST ? 1 : r;
	}
	case PLAN_ADDR_DEL:
		r = nl_addr_del(s, ifindex, &st->addr);
		return r == -EADDRNOTAVAIL || r == -ENOENT ? 1 : r;
	case PLAN_LINK_MOVE: break; /* not run here: see plan.h */
	case PLAN_NS_ADD: return nl_ns_add(st->ns);
	case PLAN_NS_DEL: r = nl_ns_del(st->ns); return r == -ENOENT ? 1 : r;
	case PLAN_LINK_DEL:
		r = nl_link_del(s, st->ifindex);
		return r == -ENODEV ? 1 : r;
	case PLAN_RECORD: return 1;
	case PLAN_NS_MARK: return nl_ns_mark_set(s, -1);
	case PLAN_NS_UNMARK: return nl_ns_mark_clear(s);
	case PLAN_ROUTE_SET: return apply_route_set(s, st);
	case PLAN_ROUTE_DEL:
		r = nl_route_del(s, &st->old_route);
		return r == -ESRCH || r == -ENOENT ? 1 : r;
	case PLAN_SYSCTL_SET:
		return nl_sysctl_write(st->ns, st->sysctl.path, st->sysctl.set);
	}
	return -EINVAL;
}

/* Takes one step back; a link made is deleted only while it is still
 * netnsd's own under its name. */
static int apply_back_in(struct nl_sock *s, int ifindex,
			 const struct plan_step *st)
{
	struct nl_link l;
	int r;

	switch (st->op) {
	case PLAN_BRIDGE_ADD:
	case PLAN_VETH_ADD:
	case PLAN_LINK_ADD:
		r = nl_link_get(s, st->a.name, &l);
		if (r == -ENODEV)
			return 0;
		if (r == 0 && nl_link_is_ours(&l))
			r = nl_link_del(s, l.ifindex);
		return r == -ENODEV ? 0 : r;
	case PLAN_LINK_SET: return apply_link_set(s, ifindex, &st->old);
	case PLAN_BRIDGE_SET: return nl_bridge_set(s, ifindex, &st->bridge_old);
	case PLAN_ADDR_ADD: return nl_addr_del(s, ifindex, &st->addr);
	case PLAN_ADDR_DEL: {
		struct nl_addr_opts o = NL_ADDR_OPTS_INIT;

		addr_apply_opts(&st->addr_opts, &o);
		return nl_addr_add_opts(s, ifindex, &st->addr, &o);
	}
	case PLAN_NS_ADD: return nl_ns_del(st->ns);
	case PLAN_RECORD: return 0;
	case PLAN_NS_MARK: return nl_ns_mark_clear(s);
	case PLAN_NS_UNMARK: return nl_ns_mark_set(s, -1);
	case PLAN_ROUTE_SET: return apply_route_back(s, st);
	case PLAN_ROUTE_DEL: return nl_route_add(s, &st->old_route);
	case PLAN_SYSCTL_SET:
		return st->sysctl.old[0]
			       ? nl_sysctl_write(st->ns, st->sysctl.path,
						 st->sysctl.old)
			       : 0;
	case PLAN_LINK_MOVE:
	case PLAN_NS_DEL:
	case PLAN_LINK_DEL: break; /* last in a plan: never undone */
	}
	return -EINVAL;
}

/* A step (`back`: its undoing) run where it acts: with a socket inside
 * its namespace, but for a namespace's own steps, and the index of its
 * link for a step that needs one. */
static int apply_where(struct store *store, const struct plan_step *st,
		       bool back)
{
	struct nl_sock *s = NULL;
	int ifindex = 0, r = 0;

	if (st->op != PLAN_NS_ADD && st->op != PLAN_NS_DEL &&
	    st->op != PLAN_RECORD && st->op != PLAN_SYSCTL_SET)
		r = nl_ns_get(st->ns, &s);
	if (r == 0)
		ifindex = apply_step_index(s, st);
	if (r == 0 && ifindex < 0)
		r = ifindex;
	if (r == 0)
		r = back ? apply_back_in(s, ifindex, st)
			 : apply_in(s, ifindex, store, st);
	nl_ns_put(st->ns, s);
	return r;
}

int apply_step(struct store *store, const struct plan_step *st)
{
	return apply_where(store, st, false);
}

static int apply_back(const struct plan_step *st)
{
	int r = apply_where(NULL, st, true);

	if (r < 0)
		log_error("%s %s could not be taken back after a failure: %s",
			  plan_action_name(st->action), st->path, strerror(-r));
	return r;
}

/* Every step made, undone in reverse; 0 when all of them are back. */
static int apply_back_all(struct apply *a)
{
	int bad = 0;

	while (a->done > 0) {
		const struct plan_step *st = &a->plan->steps[--a->done];

		if (a->effect[a->done] && apply_back(st) < 0)
			bad = -EIO;
	}
	return bad;
}

/* The words of a step the kernel refused. */
static int apply_failed_words(const struct plan_step *st, int err,
			      struct problem *prob);

/* A step the kernel refused, said with the step. */
static int apply_failed(const struct plan_step *st, int err,
			struct problem *prob)
{
	int r = apply_failed_words(st, err, prob);

	json_decref(prob->step);
	prob->step = json_pack("{s:s, s:s}", "action",
			       plan_action_name(st->action), "path", st->path);
	return r;
}

static int apply_failed_words(const struct plan_step *st, int err,
			      struct problem *prob)
{
	static const char *const what[] = {
		[PLAN_BRIDGE_ADD] = "creating the bridge",
		[PLAN_VETH_ADD] = "creating the veth pair",
		[PLAN_LINK_SET] = "changing the link",
		[PLAN_BRIDGE_SET] = "changing the bridge's options",
		[PLAN_ADDR_ADD] = "adding the address",
		[PLAN_ADDR_DEL] = "removing the address",
		[PLAN_LINK_MOVE] = "moving the link",
		[PLAN_NS_ADD] = "creating the namespace",
		[PLAN_NS_DEL] = "deleting the namespace",
		[PLAN_LINK_DEL] = "deleting the link",
		[PLAN_RECORD] = "recording",
		[PLAN_NS_MARK] = "marking the namespace",
		[PLAN_NS_UNMARK] = "releasing the namespace",
		[PLAN_ROUTE_SET] = "adding the route",
		[PLAN_ROUTE_DEL] = "deleting the route",
		[PLAN_LINK_ADD] = "creating the link",
		[PLAN_SYSCTL_SET] = "setting the sysctl",
	};

	const char *words = nl_extack();

	/* A link the kernel refuses for something other than its name (a
	 * VXLAN whose VNI another one has) says so in its own words. */
	if (err == -EEXIST && *words &&
	    (st->op == PLAN_BRIDGE_ADD || st->op == PLAN_VETH_ADD ||
	     st->op == PLAN_LINK_ADD))
		return problem_set(prob, 409, "conflict",
				   "%s: %s; nothing was changed", what[st->op],
				   words);
	/* A route the kernel cannot make here (a gateway on no link's
	 * network, a link that is down) is a conflict with what is there,
	 * as for a route's own PUT (handlers/route.c). */
	if (st->op == PLAN_ROUTE_SET &&
	    (err == -ENETUNREACH || err == -EHOSTUNREACH || err == -ENETDOWN ||
	     (err == -EINVAL && *words)))
		return problem_set(prob, 409, "conflict",
				   "%s: %s; nothing was changed", what[st->op],
				   *words ? words : strerror(-err));
	if (err == -EEXIST &&
	    (st->op == PLAN_BRIDGE_ADD || st->op == PLAN_VETH_ADD ||
	     st->op == PLAN_LINK_ADD)) {
		if (st->op != PLAN_VETH_ADD)
			return problem_link_exists(prob, st->a.ns, st->a.name,
						   NULL);
		return problem_pair_exists(prob, st->a.ns, st->a.name, st->b.ns,
					   st->b.name, false);
	}
	if (err == -EEXIST && st->op == PLAN_NS_ADD)
		return problem_ns_exists(prob, st->ns);
	/* A sysctl's ENOENT is its file's (a conf.<link> of no link), not
	 * the namespace's. */
	if (err == -ENOENT && st->op != PLAN_ADDR_DEL &&
	    st->op != PLAN_NS_ADD && st->op != PLAN_SYSCTL_SET)
		return problem_ns_missing(prob, st->ns);
	/* A namespace's own steps and a sysctl's are not netlink's: no
	 * kernel words (they would be a former request's). */
	return problem_errno(prob, err, what[st->op],
			     st->op == PLAN_NS_ADD || st->op == PLAN_NS_DEL ||
					     st->op == PLAN_SYSCTL_SET
				     ? NULL
				     : words);
}

/* The marker of a step the desired state cannot say (state/intent.c): a
 * deletion, a release. Its key in `key`; false for a step that has none. */
static bool apply_marker_key(const struct plan_step *st, char key[KEY_MAX])
{
	char text[64];

	if (st->op == PLAN_NS_DEL) {
		key_gone_ns(key, st->ns);
	} else if (st->op == PLAN_LINK_DEL) {
		key_gone_link(key, st->ns, st->name);
	} else if (st->op == PLAN_ADDR_DEL) {
		value_format_cidr(&st->addr, text, sizeof(text));
		key_gone_addr(key, st->ns, st->name, text);
	} else if (st->op == PLAN_NS_UNMARK) {
		key_release_ns(key, st->ns);
	} else if (st->op == PLAN_ROUTE_DEL) {
		value_format_cidr(&st->old_route.dst, text, sizeof(text));
		key_gone_route(key, st->ns, st->old_route.table, text,
			       st->old_route.metric);
	} else {
		return false;
	}
	return true;
}

/* Adds to `records` the markers of the plan's deletions and releases,
 * written with them before the kernel is touched. */
static int apply_markers(const struct plan *p, struct store_txn *records)
{
	char key[KEY_MAX];

	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *st = &p->steps[i];
		struct record_marker mk = { st->ifindex, NULL, NULL };
		json_t *v;

		if (!apply_marker_key(st, key))
			continue;
		v = st->op == PLAN_LINK_DEL ? record_marker_format(&mk)
					    : record_empty_format();
		if (!v)
			return -ENOMEM;
		store_txn_set(records, key, v);
	}
	return 0;
}

/* Once the kernel has done a marked step, its marker goes. */
static void apply_marker_done(struct store *s, const struct plan_step *st)
{
	char key[KEY_MAX];

	if (apply_marker_key(st, key))
		intent_done(s, key);
}

/* A namespace's creation outlasts the sync of its record: the sync then
 * starts on another CPU (see store_sync_begin). */
static bool apply_is_long(const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->steps[i].op == PLAN_NS_ADD)
			return true;
	return false;
}

int apply_run(struct apply *a, struct store *s, struct plan *p,
	      struct store_txn *records, bool long_work, struct problem *prob)
{
	int r = 0;

	memset(a, 0, sizeof(*a));
	a->store = s;
	a->plan = p;
	a->effect = calloc(p->n ? p->n : 1, 1);
	if (!a->effect)
		return problem_errno(prob, -ENOMEM, "applying", NULL);
	if (records) {
		r = apply_markers(p, records);
		if (r == 0)
			r = intent_begin(s, records,
					 long_work || apply_is_long(p),
					 &a->undo, prob);
		if (r < 0)
			return r == -ENOMEM ? problem_errno(prob, r, "applying",
							    NULL)
					    : r;
	}
	for (; a->done < p->n; a->done++) {
		const struct plan_step *st = &p->steps[a->done];

		r = apply_step(s, st);
		if (r < 0)
			break;
		a->effect[a->done] = r == 0;
		apply_marker_done(s, st);
		r = 0;
	}
	if (r < 0) {
		const struct plan_step *st = &p->steps[a->done];

		/* Said before the undo, while nl_extack() has its words. */
		r = apply_failed(st, r, prob);
		/* The kernel applies a link's attributes one by one: a
		 * refused MTU may follow a MAC already set. */
		if (st->op == PLAN_LINK_SET || st->op == PLAN_BRIDGE_SET)
			apply_back(st);
		apply_take_back(a, st->path);
	}
	return r;
}

void apply_take_back(struct apply *a, const char *what)
{
	/* A step that could not be undone keeps its record: reconcile
	 * converges to it, rather than leaving a kernel object unowned. */
	if (apply_back_all(a) == 0)
		intent_undo(a->store, a->undo, what);
	else
		log_error(
			"%s failed and could not be taken back entirely: the desired state keeps it, and the next reconcile converges to it",
			what);
	store_txn_free(a->undo);
	a->undo = NULL;
}

void apply_end(struct apply *a)
{
	store_txn_free(a->undo);
	free(a->effect);
	a->undo = NULL;
	a->effect = NULL;
}
