#include "veth.h"

#include <errno.h>
#include <string.h>

#include "../api/bodies.h"
#include "../api/name.h"
#include "../base/log.h"
#include "../netlink/ns.h"
#include "../state/apply.h"
#include "../state/desired.h"
#include "../state/key.h"
#include "../state/store.h"
#include "common.h"
#include "link.h"
#include "link_ask.h"
#include "link_view.h"

int veth_handle_list(struct request *req, struct reply *rep)
{
	return link_list_kind(req, rep, "veth", NULL);
}

int veth_handle_get(struct request *req, struct reply *rep)
{
	return link_get_kind(req, rep, "name", "veth", NULL);
}

int veth_handle_delete(struct request *req, struct reply *rep)
{
	return link_delete_kind(req, rep, "name", "veth");
}

/* One end of the pair as a request names it. */
struct veth_end {
	const char *ns;
	struct link_ask ask;
	json_t *held; /* the desired record, holding held_w's strings */
	struct record_link held_w, want;
	struct apply_seen seen;
	char mac[18];
};

/* Reads the body: both ends asked, the peer's namespace checked. */
static int veth_parse(struct request *req, struct reply *rep,
		      const char *path_name, json_t **ret_body,
		      struct veth_end *a, struct veth_end *b)
{
	struct problem *prob = &rep->problem;
	json_t *peer;
	const char *why;
	int r;

	r = handler_body(req, rep, body_veth, false, ret_body);
	if (r < 0)
		return r;
	peer = json_object_get(*ret_body, "peer");
	r = body_check(peer, body_veth_peer, "peer.", prob);
	if (r < 0)
		return r;
	b->ns = json_string_value(json_object_get(peer, "namespace"));
	if (!b->ns)
		b->ns = a->ns;
	else if ((why = name_check_namespace(b->ns)))
		problem_field(prob, "peer.namespace", "namespace name %s", why);
	link_ask_from_json(*ret_body, "", prob, &a->ask);
	link_ask_from_json(peer, "peer.", prob, &b->ask);
	if (!prob->status)
		link_ask_name(&a->ask, path_name, prob);
	if (!prob->status && !strcmp(a->ns, b->ns) &&
	    !strcmp(a->ask.name, b->ask.name))
		problem_field(
			prob, "peer.name",
			"must differ from name when both ends share a namespace");
	return prob->status ? -prob->status : 0;
}

/* Both ends' records: what is held, edited by the request. */
static int veth_want(struct veth_end *e, const struct veth_end *other,
		     struct store *store, struct problem *prob)
{
	int r;

	e->held = desired_link(store, e->ns, e->ask.name);
	if (e->held)
		record_link_read(e->held, &e->held_w);
	/* Desired with another peer: that pair is deleted first, or its
	 * far end would stay desired with this end as its peer. */
	if (e->held && (e->held_w.has & RECORD_HAS_PEER) &&
	    (strcmp(e->held_w.veth.peer_ns, other->ns) ||
	     strcmp(e->held_w.veth.peer_name, other->ask.name)))
		return problem_set(
			prob, 409, "already-exists",
			"veth %s in namespace %s is desired with %s in namespace %s as its peer: delete that pair first",
			e->ask.name, e->ns, e->held_w.veth.peer_name,
			e->held_w.veth.peer_ns);
	r = link_ask_record(&e->ask, RECORD_KIND_VETH,
			    e->held ? &e->held_w : NULL, e->seen.seen.link,
			    &e->want, e->mac, prob);
	e->want.has |= RECORD_HAS_PEER;
	e->want.veth.peer_ns = other->ns;
	e->want.veth.peer_name = other->ask.name;
	return r;
}

/* The records of both ends, to be committed before the kernel works. */
static struct store_txn *veth_records(const struct veth_end *a,
				      const struct veth_end *b, bool creates)
{
	struct store_txn *t = store_txn_new();
	char key[KEY_MAX];

	if (!t)
		return NULL;
	key_link(key, a->ns, a->ask.name);
	store_txn_set(t, key, record_link_format(&a->want));
	key_link(key, b->ns, b->ask.name);
	store_txn_set(t, key, record_link_format(&b->want));
	if (creates)
		store_txn_creates(t); /* two objects, one per end */
	return t;
}

/* Both ends as the kernel has them, under both namespaces' locks. */
static int veth_see(struct request *req, struct reply *rep, struct veth_end *a,
		    struct veth_end *b, struct nl_sock **s, struct nl_sock **ps)
{
	int r;

	/* Both namespaces change: both locks, before anything is read. */
	if (handler_lock(req, a->ns, b->ns, NULL) < 0)
		return handler_busy(rep, a->ns, b->ns);
	r = handler_ns_sock(req, rep, a->ns, s);
	if (r == 0)
		r = handler_ns_sock(req, rep, b->ns, ps);
	if (r < 0)
		return r;
	r = apply_see_pair(*s, a->ns, a->ask.name, NULL, *ps, b->ns,
			   b->ask.name, NULL, &a->seen, &b->seen);
	return r < 0 ? handler_kernel_failed(rep, r, "reading the links") : 0;
}

/* POST (path_name NULL: create only) and PUT (create or converge). */
static int veth_apply(struct request *req, struct reply *rep,
		      const char *path_name)
{
	struct veth_end a = { 0 }, b = { 0 };
	struct nl_sock *s = NULL, *ps = NULL;
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	struct plan p;
	struct jsonbuf text = JSONBUF_INIT;
	struct link_view v;
	struct nl_link la;
	json_t *body = NULL;
	bool created;
	int r;

	plan_init(&p);
	r = handler_ns_param(req, rep, true, &a.ns);
	if (r == 0)
		r = veth_parse(req, rep, path_name, &body, &a, &b);
	if (r < 0)
		goto out;
	r = veth_see(req, rep, &a, &b, &s, &ps);
	if (r < 0)
		goto out;
	created = !a.seen.seen.link && !b.seen.seen.link;
	if (!path_name && !created) {
		r = problem_pair_exists(&rep->problem, a.ns, a.ask.name, b.ns,
					b.ask.name, true);
		goto out;
	}
	r = veth_want(&a, &b, req->store, &rep->problem);
	if (r == 0)
		r = veth_want(&b, &a, req->store, &rep->problem);
	if (r == 0)
		r = plan_veth(&p, a.ns, a.ask.name, &a.want, &a.seen.seen, b.ns,
			      b.ask.name, &b.want, &b.seen.seen, &rep->problem);
	if (r < 0)
		goto out;
	if (req->dry_run) {
		r = handler_plan_reply(rep, &p);
		goto out;
	}
	t = veth_records(&a, &b, created);
	r = apply_run(&ap, req->store, &p, t, false, &rep->problem);
	if (r < 0)
		goto out;
	r = nl_link_get(s, a.ask.name, &la);
	if (r < 0) {
		/* A failed request changes nothing: the pair goes again. */
		r = handler_kernel_failed(rep, r, "reading the veth pair");
		apply_take_back(&ap, "a veth pair");
		goto out;
	}
	handler_unlock(req);
	if (created)
		log_info("created veth %s/%s <-> %s/%s", a.ns, a.ask.name, b.ns,
			 b.ask.name);
	link_view_init(&v, req->store, a.ns, s, false);
	v.peer_hint_ns = b.ns;
	v.peer_hint_name = b.ask.name;
	link_write_json(&v, &la, &text);
	r = handler_reply_text(rep, created ? 201 : 200, &text,
			       "/v1/namespaces/%s/veths/%s", a.ns, a.ask.name);
	link_view_clear(&v);
out:
	apply_end(&ap);
	plan_clear(&p);
	store_txn_free(t);
	nl_ns_put(a.ns, s);
	if (ps)
		nl_ns_put(b.ns, ps);
	json_decref(a.held);
	json_decref(b.held);
	json_decref(body); /* last: names point into it */
	return r;
}

int veth_handle_create(struct request *req, struct reply *rep)
{
	return veth_apply(req, rep, NULL);
}

int veth_handle_put(struct request *req, struct reply *rep)
{
	const char *name;
	int r = handler_link_param(req, rep, "name", &name);

	return r < 0 ? r : veth_apply(req, rep, name);
}
