#include "veth.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <linux/if_ether.h>

#include "../api/name.h"
#include "../netlink/ns.h"
#include "../netlink/veth.h"
#include "../server/log.h"
#include "../state/desired.h"
#include "../state/key.h"
#include "../state/store.h"
#include "common.h"
#include "link.h"
#include "link_view.h"

int veth_handle_list(struct request *req, struct reply *rep)
{
	return link_list_kind(req, rep, "veth", false);
}

int veth_handle_get(struct request *req, struct reply *rep)
{
	return link_get_kind(req, rep, "name", "veth");
}

int veth_handle_delete(struct request *req, struct reply *rep)
{
	return link_delete_kind(req, rep, "name", "veth");
}

/* A random locally administered unicast MAC, as the kernel would pick, but
 * chosen here so the desired state knows it without asking. */
static void veth_random_mac(struct link_spec_in *in)
{
	if (in->spec.mac)
		return;
	if (getrandom(in->mac, sizeof(in->mac), 0) != sizeof(in->mac))
		return; /* the kernel then picks one */
	in->mac[0] = (uint8_t)((in->mac[0] & 0xfe) | 0x02);
	in->spec.mac = in->mac;
}

/* 409 before anything is recorded when a name netnsd has a record for is
 * taken in the kernel: the intent would replace that record, and a crash
 * before its undo would leave the new one in force. Names without a record
 * are left to the kernel's EEXIST (the intent is then taken back), at no
 * cost of a round trip. */
static int veth_check_free(struct request *req, struct reply *rep,
			   struct nl_sock *s, const char *ns, const char *name,
			   struct nl_sock *ps, const char *pns,
			   const char *pname)
{
	json_t *ra = desired_link(req->store, ns, name);
	json_t *rb = desired_link(req->store, pns, pname);
	struct nl_link l;
	bool taken = (ra && nl_link_get(s, name, &l) == 0) ||
		     (rb && nl_link_get(ps, pname, &l) == 0);

	json_decref(ra);
	json_decref(rb);
	if (taken)
		return problem_set(
			&rep->problem, 409, "already-exists",
			"a link named %s already exists in namespace %s, or %s in namespace %s",
			name, ns, pname, pns);
	return 0;
}

/* The desired record of one end, whose peer is pns/pname. */
static json_t *veth_record(json_t *req, const struct nl_link_spec *spec,
			   const char *pns, const char *pname)
{
	struct record_link w;
	char mac[18];

	link_record_init(&w, RECORD_KIND_VETH, req, spec, mac);
	w.has |= RECORD_HAS_PEER;
	w.veth.peer_ns = pns;
	w.veth.peer_name = pname;
	return record_link_format(&w);
}

int veth_handle_create(struct request *req, struct reply *rep)
{
	static const struct body_field fields[] = {
		{ "name", BODY_STRING, true }, { "peer", BODY_OBJECT, true },
		{ "mtu", BODY_INT, false },    { "mac", BODY_STRING, false },
		{ "up", BODY_BOOL, false },    { NULL, 0, false },
	};
	static const struct body_field peer_fields[] = {
		{ "name", BODY_STRING, true },
		{ "namespace", BODY_STRING, false },
		{ "mtu", BODY_INT, false },
		{ "mac", BODY_STRING, false },
		{ "up", BODY_BOOL, false },
		{ NULL, 0, false },
	};
	struct nl_sock *s = NULL, *ps = NULL;
	struct store_txn *t = NULL, *undo = NULL;
	struct link_spec_in a, b;
	struct nl_link la;
	struct link_view v;
	json_t *body = NULL, *peer, *ra, *rb;
	const char *ns, *pns = NULL, *why;
	char key[KEY_MAX], what[128];
	int pfd = -1, r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_body(req, rep, fields, false, &body);
	if (r < 0)
		goto out;
	peer = json_object_get(body, "peer");
	r = body_check(peer, peer_fields, "peer.", &rep->problem);
	if (r < 0)
		goto out;
	pns = json_string_value(json_object_get(peer, "namespace"));
	if (!pns)
		pns = ns;
	else if ((why = name_check_namespace(pns)))
		problem_field(&rep->problem, "peer.namespace",
			      "namespace name %s", why);
	link_spec_from_json(body, "", rep, &a);
	link_spec_from_json(peer, "peer.", rep, &b);
	if (!rep->problem.status && !strcmp(pns, ns) &&
	    !strcmp(a.spec.name, b.spec.name))
		problem_field(
			&rep->problem, "peer.name",
			"must differ from name when both ends share a namespace");
	if (rep->problem.status) {
		r = -rep->problem.status;
		goto out;
	}

	/* Before the locks: nothing here reads what they guard. */
	veth_random_mac(&a);
	veth_random_mac(&b);
	/* The kernel's default for a veth, asked for explicitly so that the
	 * record says it: an MTU changed behind netnsd's back is drift. */
	if (!a.spec.mtu)
		a.spec.mtu = ETH_DATA_LEN;
	if (!b.spec.mtu)
		b.spec.mtu = ETH_DATA_LEN;
	/* The peer's namespace is changed too: its lock as well, taken
	 * before its file is opened, so that it is the namespace a
	 * concurrent delete and create of the same name left behind. */
	if (handler_lock(req, ns, pns, NULL) < 0) {
		r = handler_busy(rep, ns, pns);
		goto out;
	}
	if (strcmp(pns, ns)) {
		r = nl_ns_open_fd(pns, &pfd);
		if (r == -ENOENT || r == -EINVAL)
			r = problem_set(&rep->problem, 404, "not-found",
					"namespace %s does not exist", pns);
		else if (r < 0)
			r = handler_kernel_failed(
				rep, r, "opening the peer's namespace");
		if (r < 0)
			goto out;
		b.spec.netns_fd = pfd;
	}

	r = handler_ns_sock(req, rep, ns, &s);
	if (r == 0)
		r = handler_ns_sock(req, rep, pns, &ps);
	if (r < 0)
		goto out;
	r = veth_check_free(req, rep, s, ns, a.spec.name, ps, pns, b.spec.name);
	if (r < 0)
		goto out;

	/* Both ends are recorded before the kernel makes them (intent
	 * first): every value is known here, the MACs included. */
	ra = veth_record(body, &a.spec, pns, b.spec.name);
	rb = veth_record(peer, &b.spec, ns, a.spec.name);
	t = store_txn_new();
	if (t) {
		key_link(key, ns, a.spec.name);
		store_txn_set(t, key, ra);
		key_link(key, pns, b.spec.name);
		store_txn_set(t, key, rb);
		store_txn_creates(t); /* two objects, one per end */
	} else {
		json_decref(ra);
		json_decref(rb);
	}
	r = handler_intent(req, rep, t, &undo);
	if (r < 0)
		goto out;
	/* End a as the kernel made it, echoed, saves reading it back; not
	 * when the peer goes up after, which changes a's operational state. */
	r = nl_veth_add(s, &a.spec, ps, &b.spec, b.spec.up ? NULL : &la);
	if (r == -EEXIST)
		r = problem_set(
			&rep->problem, 409, "already-exists",
			"a link named %s already exists in namespace %s, or %s in namespace %s",
			a.spec.name, ns, b.spec.name, pns);
	else if (r < 0)
		r = handler_kernel_failed(rep, r, "creating the veth pair");
	snprintf(what, sizeof(what), "creating veth %s/%s", ns, a.spec.name);
	if (r < 0) {
		handler_intent_undo(req, undo, what);
		goto out;
	}
	if (b.spec.up || !la.ifindex)
		r = nl_link_get(s, a.spec.name, &la);
	if (r < 0) {
		/* A failed request changes nothing: the pair goes again. */
		r = handler_kernel_failed(rep, r, "reading the new veth pair");
		link_take_back(req, s, a.spec.name, undo, what);
		goto out;
	}

	handler_unlock(req);
	log_info("created veth %s/%s <-> %s/%s", ns, a.spec.name, pns,
		 b.spec.name);
	link_view_init(&v, req->store, ns, s, false);
	v.peer_hint_ns = pns;
	v.peer_hint_name = b.spec.name;
	v.hint_no_addresses = true;
	r = handler_reply(rep, 201, link_to_json(&v, &la),
			  "/v1/namespaces/%s/veths/%s", ns, a.spec.name);
	link_view_clear(&v);
out:
	if (pfd >= 0)
		close(pfd);
	store_txn_free(t);
	store_txn_free(undo);
	nl_ns_put(ns, s);
	if (ps)
		nl_ns_put(pns, ps);
	json_decref(body); /* last: pns points into it */
	return r;
}
