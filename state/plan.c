#include "plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "link_kind.h"

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

void plan_clear(struct plan *p)
{
	free(p->steps);
	plan_init(p);
}

const char *plan_action_name(enum plan_action a)
{
	switch (a) {
	case PLAN_CREATE: return "create";
	case PLAN_UPDATE: return "update";
	case PLAN_DELETE: return "delete";
	}
	return "update";
}

/* A new step, zeroed, or NULL when out of memory. */
static struct plan_step *plan_add(struct plan *p, enum plan_op op,
				  enum plan_action action, const char *ns,
				  const char *name)
{
	struct plan_step *st;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct plan_step *n = realloc(p->steps, cap * sizeof(*n));

		if (!n)
			return NULL;
		p->steps = n;
		p->cap = cap;
	}
	st = &p->steps[p->n++];
	memset(st, 0, sizeof(*st));
	st->op = op;
	st->action = action;
	snprintf(st->ns, sizeof(st->ns), "%s", ns);
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->set.up = st->old.up = -1;
	st->set.master = st->old.master = -1;
	st->bridge.stp = st->bridge.vlan_filtering = -1;
	st->bridge_old.stp = st->bridge_old.vlan_filtering = -1;
	return st;
}

/* Appends to a step's detail, "; " between parts. */
static void plan_say(struct plan_step *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void plan_say(struct plan_step *st, const char *fmt, ...)
{
	size_t len = strlen(st->detail);
	va_list ap;

	if (len && len + 2 < sizeof(st->detail)) {
		memcpy(st->detail + len, ", ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(st->detail + len, sizeof(st->detail) - len, fmt, ap);
	va_end(ap);
}

/* The API path of a link: under the collection of its kind. */
static void plan_link_path(struct plan_step *st, enum record_kind kind)
{
	const char *coll = kind == RECORD_KIND_BRIDGE ? "bridges"
			   : kind == RECORD_KIND_VETH ? "veths"
						      : "links";

	snprintf(st->path, sizeof(st->path), "/v1/namespaces/%s/%s/%s", st->ns,
		 coll, st->name);
}

static void plan_spec(struct plan_link_spec *sp, const char *ns,
		      const char *name, const struct record_link *w)
{
	memset(sp, 0, sizeof(*sp));
	snprintf(sp->ns, sizeof(sp->ns), "%s", ns);
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	sp->mtu = w->has & RECORD_HAS_MTU ? w->mtu : 0;
	sp->up = (w->has & RECORD_HAS_UP) && w->up;
	sp->has_mac = w->has & RECORD_HAS_MAC;
	if (sp->has_mac)
		memcpy(sp->mac, w->mac, 6);
}

static const char *plan_bool(int b)
{
	return b ? "true" : "false";
}

/* The bridge `want` wants as master, checked: 0 with its index in
 * *ret (0 for none), or a problem. */
static int plan_master(const char *ns, const struct record_link *want,
		       const struct plan_seen *seen, int self, int *ret,
		       struct problem *prob)
{
	const struct nl_link *m = seen->want_master;

	*ret = 0;
	if (!want->master)
		return 0;
	if (!m)
		return problem_link_missing(prob, "bridge", want->master, ns);
	if (strcmp(m->kind, "bridge"))
		return problem_not_bridge(prob, ns, want->master);
	if (m->ifindex == self)
		return problem_own_port(prob, "master");
	*ret = m->ifindex;
	return 0;
}

/* The LINK_SET step's mtu, mac and up, each with its inverse. */
static void plan_set_attrs(struct plan_step *st, const struct nl_link *l,
			   const struct diff_link *d)
{
	char a[18], b[18];

	if (d->change.mtu) {
		st->set.mtu = d->change.mtu;
		st->old.mtu = l->mtu;
		plan_say(st, "mtu %u -> %u", l->mtu, d->change.mtu);
	}
	if (d->change.mac) {
		st->set.has_mac = true;
		memcpy(st->set.mac, d->change.mac, 6);
		st->old.has_mac = l->has_mac;
		memcpy(st->old.mac, l->mac, 6);
		value_format_mac(l->mac, a);
		value_format_mac(d->change.mac, b);
		plan_say(st, "mac %s -> %s", l->has_mac ? a : "none", b);
	}
	if (d->change.up >= 0) {
		st->set.up = d->change.up;
		st->old.up = !d->change.up;
		plan_say(st, "up %s -> %s", plan_bool(st->old.up),
			 plan_bool(st->set.up));
	}
}

/* One LINK_SET step for what differs of the link's own attributes, its
 * master (`master`: the new one's index, -1 when it stays) and netnsd's
 * mark on a link it owns; none when nothing does. */
static int plan_link_set(struct plan *p, const char *ns, const char *name,
			 const struct record_link *want,
			 const struct plan_seen *seen,
			 const struct diff_link *d, int master)
{
	const struct nl_link *l = seen->link;
	bool mark = want->owned && strcmp(l->alias, NL_LINK_ALIAS);
	struct plan_step *st;

	if (!diff_link_has_change(d) && master < 0 && !mark)
		return 0;
	st = plan_add(p, PLAN_LINK_SET, PLAN_UPDATE, ns, name);
	if (!st)
		return -ENOMEM;
	plan_link_path(st, want->kind);
	st->ifindex = l->ifindex;
	plan_set_attrs(st, l, d);
	if (master >= 0) {
		st->set.master = master;
		st->old.master = l->master;
		plan_say(st, "master %s -> %s",
			 seen->master_name ? seen->master_name : "none",
			 want->master ? want->master : "none");
	}
	if (mark) {
		st->set.mark = true;
		plan_say(st, "marked as netnsd's");
	}
	return 0;
}

/* One BRIDGE_SET step for the bridge settings that differ, if any. */
static int plan_bridge_set(struct plan *p, const char *ns, const char *name,
			   const struct record_link *want,
			   const struct nl_link *l, const struct diff_link *d)
{
	struct plan_step *st;

	if (d->bridge.stp < 0 && d->bridge.vlan_filtering < 0)
		return 0;
	st = plan_add(p, PLAN_BRIDGE_SET, PLAN_UPDATE, ns, name);
	if (!st)
		return -ENOMEM;
	plan_link_path(st, want->kind);
	st->ifindex = l->ifindex;
	st->bridge = d->bridge;
	if (d->bridge.stp >= 0) {
		st->bridge_old.stp = !d->bridge.stp;
		plan_say(st, "stp %s -> %s", plan_bool(!d->bridge.stp),
			 plan_bool(d->bridge.stp));
	}
	if (d->bridge.vlan_filtering >= 0) {
		st->bridge_old.vlan_filtering = !d->bridge.vlan_filtering;
		plan_say(st, "vlan_filtering %s -> %s",
			 plan_bool(!d->bridge.vlan_filtering),
			 plan_bool(d->bridge.vlan_filtering));
	}
	return 0;
}

/* The attribute changes of an existing link, as one LINK_SET step (and a
 * BRIDGE_SET for a bridge's options), from the diff of record and link. */
static int plan_converge(struct plan *p, const char *ns, const char *name,
			 const struct record_link *want,
			 const struct plan_seen *seen, struct problem *prob)
{
	const struct nl_link *l = seen->link;
	struct diff_link d;
	int master = -1, r = 0;

	if (diff_link_want(want, l, seen->master_name, NULL, NULL, &d) < 0)
		return problem_errno(prob, -ENOMEM, "planning", NULL);
	if (d.master_differs)
		r = plan_master(ns, want, seen, l->ifindex, &master, prob);
	if (r == 0)
		r = plan_link_set(p, ns, name, want, seen, &d, master);
	if (r == 0)
		r = plan_bridge_set(p, ns, name, want, l, &d);
	if (r == -ENOMEM)
		r = problem_errno(prob, -ENOMEM, "planning", NULL);
	diff_link_clear(&d);
	return r;
}

/* Whether the link under the name can be the one `want` describes. */
static int plan_check_kind(const char *ns, const char *name,
			   const struct record_link *want,
			   const struct nl_link *l, struct problem *prob)
{
	const char *kind = record_kind_name(want->kind);

	if (kind && strcmp(l->kind, kind))
		return problem_set(
			prob, 409, "already-exists",
			"a link named %s already exists in namespace %s and is %s%s, not a %s: it cannot be converged",
			name, ns, *l->kind ? "a " : "a link of no kind",
			l->kind, kind);
	if (want->owned && !nl_link_is_ours(l))
		return problem_link_foreign(prob, ns, name);
	return 0;
}

/* Whether the link seen is on the parent its record names: by index in
 * its own namespace, or by the id of the parent's namespace and the index
 * there. */
static bool plan_on_parent(const struct record_link *want,
			   const struct plan_seen *seen)
{
	const struct nl_link *l = seen->link;

	if (!seen->parent)
		return false;
	if (!want->opts.parent_ns)
		return seen->parent->ifindex == l->opts.parent;
	return seen->parent_nsid >= 0 && l->link_netnsid == seen->parent_nsid &&
	       l->far_parent == seen->parent->ifindex;
}

/* Whether the options of the kind table the link has are those desired:
 * they are fixed when a link is made (README.md, "More link kinds"). */
static int plan_check_options(const char *ns, const char *name,
			      const struct record_link *want,
			      const struct plan_seen *seen,
			      struct problem *prob)
{
	const struct link_kind *lk = link_kind_of(want->kind);
	const struct nl_link *l = seen->link;
	struct record_link_opts have;
	char hw[64], ww[64];
	const char *opt;

	if (!lk || !(want->has & RECORD_HAS_OPTIONS))
		return 0;
	if ((want->opts.has & LINK_OPT_PARENT) && !plan_on_parent(want, seen))
		return problem_set(
			prob, 409, "conflict",
			"%s %s in namespace %s is not on parent %s in namespace %s, and a parent cannot be changed on a live link: it cannot be converged: delete and create",
			lk->name, name, ns, want->opts.parent,
			want->opts.parent_ns ? want->opts.parent_ns : ns);
	link_kind_from_kernel(lk, l, want->opts.parent, want->opts.parent_ns,
			      &have);
	if (link_kind_differs(lk, &want->opts, &have, &opt, hw, ww, sizeof(hw)))
		return problem_set(
			prob, 409, "conflict",
			"%s %s in namespace %s has %s %s, desired %s, and %s cannot be changed on a live link: it cannot be converged: delete and create",
			lk->name, name, ns, opt, hw, ww, opt);
	return 0;
}

/* A link of the kind table, made on its parent. */
static int plan_link_add(struct plan *p, const char *ns, const char *name,
			 const struct record_link *want,
			 const struct plan_seen *seen, struct problem *prob)
{
	const struct link_kind *lk = link_kind_of(want->kind);
	const char *parent_kind;
	struct plan_step *st;

	if (!(want->has & RECORD_HAS_OPTIONS))
		return problem_set(prob, 400, "invalid-value",
				   "%s %s in namespace %s has no options",
				   lk->name, name, ns);
	if ((want->opts.has & LINK_OPT_PARENT) && seen->parent_ns_missing)
		return problem_set(
			prob, 404, "not-found",
			"namespace %s (parent_namespace) does not exist",
			want->opts.parent_ns);
	if ((want->opts.has & LINK_OPT_PARENT) && !seen->parent &&
	    !seen->parent_planned)
		return problem_link_missing(
			prob, "parent link", want->opts.parent,
			want->opts.parent_ns ? want->opts.parent_ns : ns);
	/* The kernel puts a macvlan on a macvlan (an ipvlan on an ipvlan)
	 * on that one's own parent: what it made would not be what is
	 * recorded. */
	parent_kind = seen->parent		  ? seen->parent->kind
		      : seen->parent_planned_kind ? seen->parent_planned_kind
						  : "";
	if (!strcmp(parent_kind, lk->name) &&
	    (!strcmp(lk->name, "macvlan") || !strcmp(lk->name, "ipvlan")))
		return problem_set(
			prob, 409, "conflict",
			"%s %s cannot stand on %s, itself a %s: the kernel would put it on %s's own parent; name that link as parent",
			lk->name, name, want->opts.parent, lk->name,
			want->opts.parent);
	/* Its master, if any, is attached by converging it once it is
	 * there (reconcile's attributes pass). */
	st = plan_add(p, PLAN_LINK_ADD, PLAN_CREATE, ns, name);
	if (!st)
		return problem_errno(prob, -ENOMEM, "planning", NULL);
	plan_link_path(st, want->kind);
	plan_spec(&st->a, ns, name, want);
	st->kind = want->kind;
	st->kopts = want->opts.k;
	st->kopts.parent = seen->parent ? seen->parent->ifindex : 0;
	if (want->opts.has & LINK_OPT_PARENT)
		snprintf(st->parent_name, sizeof(st->parent_name), "%s",
			 want->opts.parent);
	if ((want->opts.has & LINK_OPT_PARENT) && want->opts.parent_ns)
		snprintf(st->parent_ns, sizeof(st->parent_ns), "%s",
			 want->opts.parent_ns);
	link_kind_detail(lk, &want->opts, st->detail, sizeof(st->detail));
	return 0;
}

int plan_link(struct plan *p, const char *ns, const char *name,
	      const struct record_link *want, const struct plan_seen *seen,
	      struct problem *prob)
{
	struct plan_step *st;
	int master, r;

	if (seen->link) {
		r = plan_check_kind(ns, name, want, seen->link, prob);
		if (r == 0)
			r = plan_check_options(ns, name, want, seen, prob);
		return r < 0 ? r : plan_converge(p, ns, name, want, seen, prob);
	}
	if (want->owned && link_kind_of(want->kind))
		return plan_link_add(p, ns, name, want, seen, prob);
	if (want->kind != RECORD_KIND_BRIDGE || !want->owned)
		return problem_link_missing(prob, "link", name, ns);
	r = plan_master(ns, want, seen, 0, &master, prob);
	if (r < 0)
		return r;
	st = plan_add(p, PLAN_BRIDGE_ADD, PLAN_CREATE, ns, name);
	if (!st)
		return problem_errno(prob, -ENOMEM, "planning", NULL);
	plan_link_path(st, RECORD_KIND_BRIDGE);
	plan_spec(&st->a, ns, name, want);
	if (want->has & RECORD_HAS_STP)
		st->bridge.stp = want->bridge.stp;
	if (want->has & RECORD_HAS_VLAN_FILTERING)
		st->bridge.vlan_filtering = want->bridge.vlan_filtering;
	plan_say(st, "bridge");
	return 0;
}

/* Whether the two links seen are a veth pair, each the other's peer. */
static bool plan_is_pair(const struct plan_seen *a, const struct plan_seen *b,
			 const char *pns, const char *pname)
{
	return !strcmp(a->link->kind, "veth") &&
	       !strcmp(b->link->kind, "veth") && a->peer_ns && a->peer_name &&
	       !strcmp(a->peer_ns, pns) && !strcmp(a->peer_name, pname);
}

int plan_veth(struct plan *p, const char *ns, const char *name,
	      const struct record_link *want_a, const struct plan_seen *seen_a,
	      const char *pns, const char *pname,
	      const struct record_link *want_b, const struct plan_seen *seen_b,
	      struct problem *prob)
{
	struct plan_step *st;
	int r = 0;

	if (!seen_a->link && !seen_b->link) {
		st = plan_add(p, PLAN_VETH_ADD, PLAN_CREATE, ns, name);
		if (!st)
			return problem_errno(prob, -ENOMEM, "planning", NULL);
		plan_link_path(st, RECORD_KIND_VETH);
		plan_spec(&st->a, ns, name, want_a);
		plan_spec(&st->b, pns, pname, want_b);
		plan_say(st, "veth pair with %s/%s", pns, pname);
		return 0;
	}
	if (seen_a->link && !seen_b->link)
		r = plan_check_kind(ns, name, want_a, seen_a->link, prob);
	else if (!seen_a->link)
		r = plan_check_kind(pns, pname, want_b, seen_b->link, prob);
	if (r < 0)
		return r;
	if (!seen_a->link || !seen_b->link)
		return problem_set(
			prob, 409, "already-exists",
			"a link named %s already exists in namespace %s, but without %s in namespace %s as its peer: it cannot be converged",
			seen_a->link ? name : pname, seen_a->link ? ns : pns,
			seen_a->link ? pname : name, seen_a->link ? pns : ns);
	r = plan_check_kind(ns, name, want_a, seen_a->link, prob);
	if (r == 0)
		r = plan_check_kind(pns, pname, want_b, seen_b->link, prob);
	if (r < 0)
		return r;
	if (!plan_is_pair(seen_a, seen_b, pns, pname))
		return problem_set(
			prob, 409, "already-exists",
			"veth %s in namespace %s exists with another peer than %s in namespace %s: it cannot be converged",
			name, ns, pname, pns);
	r = plan_converge(p, ns, name, want_a, seen_a, prob);
	if (r == 0)
		r = plan_converge(p, pns, pname, want_b, seen_b, prob);
	return r;
}

int plan_attach(struct plan *p, const char *ns, const char *name, int ifindex,
		enum record_kind kind, const char *have, int have_index,
		const char *master)
{
	struct plan_step *st;

	if ((!have && !master) || (have && master && !strcmp(have, master)))
		return 0;
	st = plan_add(p, PLAN_LINK_SET, PLAN_UPDATE, ns, name);
	if (!st)
		return -ENOMEM;
	plan_link_path(st, kind);
	st->ifindex = ifindex;
	st->set.master = master ? PLAN_MASTER_BY_NAME : 0;
	if (master)
		snprintf(st->set.master_name, sizeof(st->set.master_name), "%s",
			 master);
	st->old.master = have ? have_index : 0;
	plan_say(st, "master %s -> %s", have ? have : "none",
		 master ? master : "none");
	return 0;
}

int plan_addr(struct plan *p, const char *ns, const char *link, int ifindex,
	      const struct cidr *c, const struct record_addr *opts, bool add,
	      bool present)
{
	struct plan_step *st;
	char text[64];

	if (add == present)
		return 0;
	st = plan_add(p, add ? PLAN_ADDR_ADD : PLAN_ADDR_DEL,
		      add ? PLAN_CREATE : PLAN_DELETE, ns, link);
	if (!st)
		return -ENOMEM;
	st->ifindex = ifindex;
	st->addr = *c;
	st->addr_opts = opts ? *opts : (struct record_addr)RECORD_ADDR_INIT;
	value_format_cidr(c, text, sizeof(text));
	snprintf(st->path, sizeof(st->path),
		 "/v1/namespaces/%s/links/%s/addresses/%s", ns, link, text);
	plan_say(st, "address %s", text);
	return 0;
}

int plan_ns(struct plan *p, const char *ns, bool add)
{
	struct plan_step *st =
		plan_add(p, add ? PLAN_NS_ADD : PLAN_NS_DEL,
			 add ? PLAN_CREATE : PLAN_DELETE, ns, "");

	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "/v1/namespaces/%s", ns);
	plan_say(st, add ? "namespace" : "namespace, and every link in it");
	return 0;
}

int plan_ns_mark(struct plan *p, const char *ns)
{
	struct plan_step *st = plan_add(p, PLAN_NS_MARK, PLAN_UPDATE, ns, "lo");

	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "/v1/namespaces/%s", ns);
	plan_say(st, "made elsewhere: adopted, marked as netnsd's on its lo");
	return 0;
}

int plan_ns_release(struct plan *p, const char *ns)
{
	struct plan_step *st =
		plan_add(p, PLAN_NS_UNMARK, PLAN_DELETE, ns, "lo");

	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "/v1/namespaces/%s", ns);
	plan_say(st, "adopted: released (forgotten, its mark taken off), "
		     "not deleted");
	return 0;
}

int plan_link_del(struct plan *p, const char *ns, const char *name, int ifindex,
		  const char *kind)
{
	struct plan_step *st =
		plan_add(p, PLAN_LINK_DEL, PLAN_DELETE, ns, name);

	if (!st)
		return -ENOMEM;
	st->ifindex = ifindex;
	plan_link_path(st, !kind		     ? RECORD_KIND_NONE
			   : !strcmp(kind, "veth")   ? RECORD_KIND_VETH
			   : !strcmp(kind, "bridge") ? RECORD_KIND_BRIDGE
						     : RECORD_KIND_NONE);
	plan_say(st, "%s",
		 kind && !strcmp(kind, "veth") ? "veth pair"
		 : kind			       ? kind
					       : "link");
	return 0;
}

int plan_sysctl(struct plan *p, enum plan_action action, const char *ns,
		const struct sysctl_key *k, const char *set, const char *old)
{
	struct plan_step *st = plan_add(p, PLAN_SYSCTL_SET, action, ns, "");

	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "/v1/namespaces/%s/sysctls/%s", ns,
		 k->key);
	snprintf(st->sysctl.path, sizeof(st->sysctl.path), "%s", k->path);
	snprintf(st->sysctl.set, sizeof(st->sysctl.set), "%s", set);
	snprintf(st->sysctl.old, sizeof(st->sysctl.old), "%s", old ? old : "");
	if (old)
		plan_say(st, "value %s -> %s", old, set);
	else
		plan_say(st, "value %s", set);
	return 0;
}

int plan_record(struct plan *p, enum plan_action action, const char *ns,
		const char *path, const char *detail)
{
	struct plan_step *st = plan_add(p, PLAN_RECORD, action, ns, "");

	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "%s", path);
	plan_say(st, "%s", detail);
	return 0;
}

int plan_route_set(struct plan *p, const char *ns, const char *path,
		   const struct nl_route *want, const char *dev,
		   const struct nl_route *have, const char *detail)
{
	struct plan_step *st = plan_add(
		p, PLAN_ROUTE_SET, have ? PLAN_UPDATE : PLAN_CREATE, ns, "");

	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "%s", path);
	st->route = *want;
	snprintf(st->dev, sizeof(st->dev), "%s", dev ? dev : "");
	if (have) {
		st->old_route = *have;
		st->has_old = true;
	}
	plan_say(st, "%s", detail);
	return 0;
}

int plan_route_del(struct plan *p, const char *ns, const char *path,
		   const struct nl_route *have)
{
	struct plan_step *st = plan_add(p, PLAN_ROUTE_DEL, PLAN_DELETE, ns, "");

	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "%s", path);
	st->old_route = *have;
	st->has_old = true;
	plan_say(st, "route removed and forgotten");
	return 0;
}

int plan_move(struct plan *p, const char *ns, const char *name, const char *ns2,
	      const char *name2)
{
	struct plan_step *st =
		plan_add(p, PLAN_LINK_MOVE, PLAN_UPDATE, ns, name);

	if (!st)
		return -ENOMEM;
	snprintf(st->a.ns, sizeof(st->a.ns), "%s", ns);
	snprintf(st->a.name, sizeof(st->a.name), "%s", name);
	snprintf(st->b.ns, sizeof(st->b.ns), "%s", ns2);
	snprintf(st->b.name, sizeof(st->b.name), "%s", name2);
	plan_link_path(st, RECORD_KIND_NONE);
	plan_say(st, "%s/%s -> %s/%s", ns, name, ns2, name2);
	return 0;
}

json_t *plan_to_json(const struct plan *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < p->n; i++) {
		const struct plan_step *st = &p->steps[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "action",
						   plan_action_name(st->action),
						   "path", st->path, "detail",
						   st->detail));
	}
	return a;
}
