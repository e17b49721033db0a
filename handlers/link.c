#include "link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/bodies.h"
#include "../api/name.h"
#include "../api/value.h"
#include "../base/log.h"
#include "../netlink/addr.h"
#include "../netlink/ns.h"
#include "../state/apply.h"
#include "../state/apply_move.h"
#include "../state/desired.h"
#include "../state/key.h"
#include "../state/link_kind.h"
#include "../state/plan.h"
#include "../state/store.h"
#include "common.h"
#include "link_ask.h"
#include "link_view.h"

static bool link_kind_is(const struct nl_link *l, const char *kind)
{
	return !kind || !strcmp(l->kind, kind);
}

int link_list_kind(struct request *req, struct reply *rep, const char *kind,
		   link_extra_fn *extra)
{
	const struct link_wants *wants;
	struct jsonbuf b = JSONBUF_INIT;
	struct nl_sock *s = NULL;
	struct link_view v;
	struct record_link want;
	json_t *desired, *d;
	char prefix[KEY_MAX];
	const char *ns, *k;
	bool first = true;
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r < 0)
		return r;
	r = handler_ns_sock(req, rep, ns, &s);
	if (r < 0)
		return r;
	r = link_view_init(&v, req->store, ns, s, true);
	if (r < 0) {
		nl_ns_put(ns, s);
		return handler_kernel_failed(rep, r, "listing links");
	}
	v.extra = extra;
	/* Written as text: a thousand links as a json_t tree cost more to
	 * build, print and free than the kernel's dump. An item that cannot
	 * be written (a name that is not UTF-8) is left out, as before. */
	jsonbuf_reserve(&b, 512 * (v.n_links + 1)); /* a veth is ~350 */
	jsonbuf_lit(&b, "{\"items\":[");
	for (size_t i = 0; i < v.n_links; i++) {
		if (link_kind_is(&v.links[i], kind))
			link_write_item(&v, &v.links[i], &first, &b);
	}
	/* Desired links the kernel lacks are shown too, as drift. */
	wants = link_view_wants(&v);
	key_link_prefix(prefix, ns);
	desired = wants ? NULL : store_list(req->store, prefix);
	for (size_t i = 0; wants && i < wants->n; i++)
		link_missing_write_json(&v, kind, wants->items[i].name,
					&wants->items[i].want, &first, &b);
	json_object_foreach(desired, k, d) {
		record_link_read(d, &want);
		link_missing_write_json(&v, kind, k + strlen(prefix), &want,
					&first, &b);
	}
	json_decref(desired);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return handler_reply_list(rep, &b);
}

int link_handle_list(struct request *req, struct reply *rep)
{
	return link_list_kind(req, rep, NULL, NULL);
}

/* Whether the peer the daemon's own read says (struct request) is the
 * one `l` of `ns` points at: a veth whose peer has that index, in another
 * namespace exactly when the hint's is another. */
static bool link_peer_hint_fits(const struct request *req, const char *ns,
				const struct nl_link *l)
{
	const char *pns = req->peer_hint.ns;

	return pns && req->peer_hint.name && req->peer_hint.ifindex > 0 &&
	       !strcmp(l->kind, "veth") && l->link == req->peer_hint.ifindex &&
	       (l->link_netnsid >= 0) == (strcmp(ns, pns) != 0);
}

int link_get_kind(struct request *req, struct reply *rep, const char *param,
		  const char *kind, link_extra_fn *extra)
{
	struct jsonbuf b = JSONBUF_INIT;
	struct nl_sock *s = NULL;
	struct link_view v;
	struct record_link want;
	struct nl_link l;
	const char *ns, *name;
	json_t *desired;
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_link_param(req, rep, param, &name);
	if (r == 0)
		r = handler_ns_sock(req, rep, ns, &s);
	if (r < 0)
		return r;
	link_view_init(&v, req->store, ns, s, false);
	v.extra = extra;
	r = nl_link_get(s, name, &l);
	if (r == 0 && link_peer_hint_fits(req, ns, &l)) {
		v.peer_hint_ns = req->peer_hint.ns;
		v.peer_hint_name = req->peer_hint.name;
	}
	if (r == 0 && link_kind_is(&l, kind)) {
		link_write_json(&v, &l, &b);
		handler_reply_text(rep, 200, &b, NULL);
		goto out;
	}
	desired = r == -ENODEV ? desired_link(req->store, ns, name) : NULL;
	if (desired)
		record_link_read(desired, &want);
	if (desired && want.owned &&
	    (!kind || !strcmp(kind, record_kind_name(want.kind) ?: ""))) {
		link_missing_write(&v, name, &want, &b);
		handler_reply_text(rep, 200, &b, NULL);
		r = 0;
	} else if (r == 0 || r == -ENODEV) {
		r = problem_link_missing(&rep->problem, kind ? kind : "link",
					 name, ns);
	} else {
		r = handler_kernel_failed(rep, r, "reading the link");
	}
	json_decref(desired);
out:
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return r;
}

int link_handle_get(struct request *req, struct reply *rep)
{
	return link_get_kind(req, rep, "link", NULL, NULL);
}

/* Locks `ns`, the namespace of the link's veth peer (whose record changes
 * along) and `ns2` (a move's target). The link's record cannot change once
 * `ns` is held, so a second look confirms the peer. */
/* How often the peer's namespace is looked up again while the locks taken
 * for it keep being let go for another's (nslock_acquire's reordering): a
 * record that moved twice under a held `ns` cannot be, so more turns mean
 * the locks keep being lost, and the request answers 503 `busy`. */
#define LINK_LOCK_TURNS 8

static int link_lock(struct request *req, struct reply *rep, const char *ns,
		     const char *name, const char *ns2)
{
	char peer_ns[NAME_NS_MAX + 1] = "";
	bool same;

	for (int i = 0; i < LINK_LOCK_TURNS; i++) {
		json_t *rec = desired_link(req->store, ns, name);
		struct record_link w = { 0 };
		const char *p;

		if (rec)
			record_link_read(rec, &w);
		p = w.has & RECORD_HAS_PEER ? w.veth.peer_ns : NULL;

		same = !strcmp(p ? p : "", peer_ns);
		snprintf(peer_ns, sizeof(peer_ns), "%s", p ? p : "");
		json_decref(rec);
		if (i > 0 && same)
			return 0;
		if (handler_lock(req, ns, *peer_ns ? peer_ns : NULL, ns2) < 0)
			return handler_busy(rep, ns, *peer_ns ? peer_ns : NULL);
	}
	return handler_busy(rep, ns, *peer_ns ? peer_ns : NULL);
}

int link_delete_kind(struct request *req, struct reply *rep, const char *param,
		     const char *kind)
{
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	struct nl_sock *s = NULL;
	struct plan p = { 0 };
	const char *ns, *name;
	struct nl_link l;
	json_t *desired = NULL;
	char key[KEY_MAX];
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_link_param(req, rep, param, &name);
	if (r < 0)
		return r;
	r = link_lock(req, rep, ns, name, NULL);
	if (r == 0)
		r = handler_ns_sock(req, rep, ns, &s);
	if (r < 0)
		return r;
	r = nl_link_get(s, name, &l);
	if (r == -ENODEV || (r == 0 && !link_kind_is(&l, kind))) {
		/* A desired link that is already gone is just forgotten. */
		desired = r == -ENODEV ? desired_link(req->store, ns, name)
				       : NULL;
		if (!desired) {
			r = problem_link_missing(
				&rep->problem, kind ? kind : "link", name, ns);
			goto out;
		}
	} else if (r < 0) {
		r = handler_kernel_failed(rep, r, "reading the link");
		goto out;
	} else {
		r = handler_check_host_link(req, rep, ns, nl_link_is_ours(&l),
					    name);
		if (r < 0)
			goto out;
	}

	/* Forget first: a deleted link cannot be brought back as it was,
	 * but forgotten state can be written back. The plan's deletion
	 * writes its marker with the records (state/intent.c). */
	plan_init(&p);
	snprintf(key, sizeof(key), "/v1/namespaces/%s/links/%s", ns, name);
	r = !desired
		    ? plan_link_del(&p, ns, name, l.ifindex, link_kind_name(&l))
		    : handler_plan_forget(&p, ns, key);
	t = store_txn_new();
	if (t)
		desired_forget_link(req->store, t, ns, name);
	r = handler_delete_run(req, rep, &ap, &p, r, t);
	if (r < 0 || req->dry_run)
		goto out;
	log_info("deleted %s %s/%s", kind ? kind : "link", ns, name);
	r = handler_reply(rep, 204, NULL, NULL);
out:
	apply_end(&ap);
	plan_clear(&p);
	json_decref(desired);
	store_txn_free(t);
	nl_ns_put(ns, s);
	return r;
}

int link_handle_delete(struct request *req, struct reply *rep)
{
	return link_delete_kind(req, rep, "link", NULL);
}

/* A PATCH as validated values. */
struct link_patch {
	int up;	      /* -1: not given */
	unsigned mtu; /* 0: not given */
	uint8_t mac[6];
	bool has_mac;
	bool has_master;
	const char *master; /* NULL: detach */
	const char *name;   /* NULL: not given */
	const char *ns;	    /* NULL: not given */
};

static int link_patch_from_json(json_t *body, struct reply *rep,
				struct link_patch *p)
{
	json_t *v;
	const char *why;

	memset(p, 0, sizeof(*p));
	p->up = -1;
	if ((v = json_object_get(body, "up")))
		p->up = json_is_true(v);
	if ((v = json_object_get(body, "mtu"))) {
		if ((why = value_check_mtu(json_integer_value(v))))
			problem_field(&rep->problem, "mtu", "%s", why);
		else
			p->mtu = (unsigned)json_integer_value(v);
	}
	if ((v = json_object_get(body, "mac"))) {
		if ((why = value_parse_mac(json_string_value(v), p->mac)))
			problem_field(&rep->problem, "mac", "%s", why);
		p->has_mac = true;
	}
	if ((v = json_object_get(body, "master"))) {
		p->has_master = true;
		p->master = json_string_value(v);
		if (p->master && (why = name_check_link(p->master)))
			problem_field(&rep->problem, "master", "bridge name %s",
				      why);
	}
	if ((v = json_object_get(body, "name"))) {
		p->name = json_string_value(v);
		if ((why = name_check_new_link(p->name)))
			problem_field(&rep->problem, "name", "link name %s",
				      why);
	}
	if ((v = json_object_get(body, "namespace"))) {
		p->ns = json_string_value(v);
		if ((why = name_check_namespace(p->ns)))
			problem_field(&rep->problem, "namespace",
				      "namespace name %s", why);
	}
	if (p->ns && p->has_master)
		problem_field(
			&rep->problem, "master",
			"cannot be changed in the same request as namespace");
	return rep->problem.status ? -rep->problem.status : 0;
}

/* `master: null` detaches `l` from its bridge, which changes that bridge:
 * see handler_check_host_bridge. */
static int link_check_old_master(struct request *req, struct reply *rep,
				 struct nl_sock *s, const char *ns,
				 const struct nl_link *l)
{
	struct nl_link m;
	int r = nl_link_get_index(s, l->master, &m);

	if (r == -ENODEV)
		return 0; /* gone meanwhile: nothing to detach from */
	if (r < 0)
		return handler_kernel_failed(rep, r, "reading the bridge");
	return handler_check_host_bridge(req, rep, ns, nl_link_is_ours(&m),
					 m.name, false);
}

/* The link's desired record after a PATCH: the attributes it changed,
 * over the record it had (or over none: attributes only). A move drops
 * the master, as the kernel does. */
static void link_patch_edit(struct record_link *w, bool moved,
			    const struct link_patch *p, char mac[18])
{
	if (moved)
		w->has &= ~RECORD_HAS_MASTER;
	if (p->up >= 0) {
		w->has |= RECORD_HAS_UP;
		w->up = p->up;
	}
	if (p->mtu) {
		w->has |= RECORD_HAS_MTU;
		w->mtu = p->mtu;
	}
	if (p->has_mac) {
		value_format_mac(p->mac, mac);
		memcpy(w->mac, p->mac, 6);
		w->mac_text = mac;
		w->has |= RECORD_HAS_MAC;
	}
	if (p->has_master) {
		w->has |= RECORD_HAS_MASTER;
		w->master = p->master;
	}
}

/* The link's desired record after a PATCH: the attributes it changed,
 * over the record it had (or over none: attributes only). */
static json_t *link_patch_record(struct store *store, const char *ns,
				 const char *name, bool moved,
				 const struct link_patch *p)
{
	struct record_link w;
	json_t *held = desired_link_edit(store, ns, name, &w), *rec;
	char mac[18];

	link_patch_edit(&w, moved, p, mac);
	/* The kernel keeps a moved link on its parent: the record names
	 * where the parent is (README.md, "More link kinds"). */
	if (moved && (w.has & RECORD_HAS_OPTIONS) && w.opts.parent) {
		if (!w.opts.parent_ns)
			w.opts.parent_ns = ns;
		else if (!strcmp(w.opts.parent_ns, p->ns))
			w.opts.parent_ns = NULL;
		if (w.opts.parent_ns)
			w.opts.has |= LINK_OPT_PARENT_NS;
		else
			w.opts.has &= ~LINK_OPT_PARENT_NS;
	}
	rec = record_link_format(&w);
	json_decref(held);
	return rec;
}

/* A PATCH of attributes only: the record edited, then the plan that
 * converges the link to it (state/apply.h). */
static int link_patch_attrs(struct request *req, struct reply *rep,
			    struct nl_sock *s, const char *ns, const char *name,
			    const struct link_patch *p)
{
	struct record_link w;
	json_t *held = desired_link_edit(req->store, ns, name, &w);
	struct jsonbuf b = JSONBUF_INIT;
	struct link_view v;
	struct nl_link after;
	char mac[18];
	int r;

	link_patch_edit(&w, false, p, mac);
	r = link_apply_one(req, rep, s, ns, name, &w, &after);
	json_decref(held);
	if (r != 0)
		return r > 0 ? 0 : r;
	log_info("changed link %s/%s", ns, name);
	handler_unlock(req);
	link_view_init(&v, req->store, ns, s, false);
	link_write_json(&v, &after, &b);
	r = handler_reply_text(rep, 200, &b, NULL);
	link_view_clear(&v);
	return r;
}

/* The plan of a rename or move, for a dry run: the move itself runs under
 * its marker (state/intent.c) in link_handle_patch. */
static int link_patch_plan_move(struct reply *rep, const char *ns,
				const char *name, const char *ns2,
				const char *name2)
{
	struct plan p = { 0 };
	int r;

	plan_init(&p);
	r = plan_move(&p, ns, name, ns2, name2);
	r = r < 0 ? problem_errno(&rep->problem, r, "planning", NULL)
		  : handler_plan_reply(rep, &p);
	plan_clear(&p);
	return r;
}

/* A rename or move (state/apply_move.h), the other changes made where the
 * link lands, and the answer. */
static int link_patch_move(struct request *req, struct reply *rep,
			   struct nl_sock *s, const struct nl_link *l,
			   const char *ns2, const char *name2, int fd,
			   const struct link_patch *p, int master)
{
	const char *ns = request_param(req, "ns");
	bool moved = strcmp(ns, ns2) != 0;
	struct apply_move m = {
		.s = s,
		.ns = ns,
		.name = l->name,
		.ns2 = ns2,
		.name2 = name2,
		.netns_fd = moved ? fd : -1,
		.old = l,
		.attrs = NL_LINK_CHANGE_INIT,
	};
	struct jsonbuf b = JSONBUF_INIT;
	struct nl_sock *s2 = NULL;
	struct link_view v;
	struct nl_link after;
	int r;

	if (req->dry_run)
		return link_patch_plan_move(rep, ns, l->name, ns2, name2);
	m.attrs.mtu = p->mtu;
	m.attrs.mac = p->has_mac ? p->mac : NULL;
	m.attrs.up = p->up;
	if (p->has_master)
		m.attrs.master = master;
	m.record = link_patch_record(req->store, ns, l->name, moved, p);
	r = apply_move(req->store, &m, &s2, &after, &rep->problem);
	if (r < 0)
		return r;
	log_info("changed link %s/%s -> %s/%s", ns, l->name, ns2, name2);
	handler_unlock(req);
	link_view_init(&v, req->store, ns2, moved ? s2 : s, false);
	link_write_json(&v, &after, &b);
	r = handler_reply_text(rep, 200, &b, NULL);
	link_view_clear(&v);
	if (s2)
		nl_ns_put(ns2, s2);
	return r;
}

/* A new master checked (it exists, is a bridge, is not the link, may be
 * changed), its index in *ret; or the old one's check when the request
 * detaches. */
static int link_patch_check_master(struct request *req, struct reply *rep,
				   struct nl_sock *s, const char *ns,
				   const struct nl_link *l,
				   const struct link_patch *p, int *ret)
{
	struct nl_link br;
	int r;

	if (p->has_master && !p->master && l->master)
		return link_check_old_master(req, rep, s, ns, l);
	if (!p->has_master || !p->master)
		return 0;
	r = nl_link_get(s, p->master, &br);
	if (r < 0)
		return problem_link_missing(&rep->problem, "bridge", p->master,
					    ns);
	if (strcmp(br.kind, "bridge"))
		return problem_not_bridge(&rep->problem, ns, p->master);
	if (br.ifindex == l->ifindex)
		return problem_own_port(&rep->problem, "master");
	*ret = br.ifindex;
	return handler_check_host_bridge(req, rep, ns, nl_link_is_ours(&br),
					 br.name, true);
}

/* The name a rename or move gives is free where the link lands (its
 * namespace's lock is held): a taken one is refused in words, not with
 * the kernel's "File exists", and a dry run says so too. */
static int link_patch_check_free(struct reply *rep, struct nl_sock *s,
				 const char *ns2, const char *name2, bool moved)
{
	struct nl_sock *s2 = s;
	struct nl_link there;
	int r;

	if (moved) {
		r = nl_ns_get(ns2, &s2);
		if (r < 0)
			return problem_ns_missing(&rep->problem, ns2);
	}
	r = nl_link_get(s2, name2, &there);
	if (moved)
		nl_ns_put(ns2, s2);
	if (r == 0)
		return problem_link_exists(&rep->problem, ns2, name2, NULL);
	return r == -ENODEV ? 0
			    : handler_kernel_failed(rep, r, "reading the link");
}

int link_handle_patch(struct request *req, struct reply *rep)
{
	struct nl_sock *s = NULL;
	struct link_patch p;
	struct nl_link l;
	const char *ns, *name, *ns2 = NULL, *name2 = NULL;
	json_t *body = NULL;
	bool moved = false, managed;
	int fd = -1, master = 0, r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_link_param(req, rep, "link", &name);
	if (r == 0)
		r = handler_body(req, rep, body_link_patch, false, &body);
	if (r == 0)
		r = link_patch_from_json(body, rep, &p);
	if (r == 0) {
		r = link_lock(req, rep, ns, name, p.ns);
		if (r == 0)
			r = handler_ns_sock(req, rep, ns, &s);
	}
	if (r < 0)
		goto out;
	r = nl_link_get(s, name, &l);
	if (r < 0) {
		r = r == -ENODEV
			    ? problem_link_missing(&rep->problem, "link", name,
						   ns)
			    : handler_kernel_failed(rep, r, "reading the link");
		goto out;
	}
	managed = nl_link_is_ours(&l);
	r = handler_check_host_link(req, rep, ns, managed, name);
	if (r == 0)
		r = handler_check_dying(rep, ns, &l);
	if (r < 0)
		goto out;
	ns2 = p.ns ? p.ns : ns;
	name2 = p.name ? p.name : name;
	moved = strcmp(ns2, ns) != 0;
	/* The name it has already: no rename, and no marker of one. */
	if (!moved && p.name && !strcmp(p.name, name))
		p.name = NULL;
	if (moved) {
		r = nl_ns_open_fd(ns2, &fd);
		if (r < 0) {
			r = problem_ns_missing(&rep->problem, ns2);
			goto out;
		}
		if (name_is_host(ns2) && !req->force) {
			r = problem_set(
				&rep->problem, 409, "unmanaged",
				"moving a link into the host namespace needs ?force=true");
			goto out;
		}
	}
	r = link_patch_check_master(req, rep, s, ns, &l, &p, &master);
	if (r < 0)
		goto out;
	if (!moved && !p.name) {
		r = link_patch_attrs(req, rep, s, ns, name, &p);
		goto out;
	}
	r = link_patch_check_free(rep, s, ns2, name2, moved);
	if (r == 0)
		r = link_patch_move(req, rep, s, &l, ns2, name2, fd, &p,
				    master);
out:
	if (fd >= 0)
		close(fd);
	nl_ns_put(ns, s);
	json_decref(body); /* last: ns2 and name2 may point into it */
	return r;
}
