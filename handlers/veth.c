#include "veth.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../api/name.h"
#include "../netlink/ns.h"
#include "../netlink/veth.h"
#include "../server/log.h"
#include "../state/key.h"
#include "../state/store.h"
#include "common.h"
#include "link.h"
#include "link_view.h"

int veth_handle_list(struct request *req, struct reply *rep)
{
	return link_list_kind(req, rep, "veth");
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
	struct store_txn *t = NULL;
	struct link_spec_in a, b;
	struct nl_link la, lb;
	struct link_view v;
	json_t *body = NULL, *peer, *ra, *rb;
	const char *ns, *pns = NULL, *why;
	char key[KEY_MAX];
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

	r = handler_ns_sock(rep, ns, &s);
	if (r == 0)
		r = handler_ns_sock(rep, pns, &ps);
	if (r < 0)
		goto out;
	veth_random_mac(&a);
	veth_random_mac(&b);
	if (strcmp(pns, ns)) {
		r = nl_ns_open_fd(pns, &pfd);
		if (r < 0) {
			r = handler_kernel_failed(
				rep, r, "opening the peer's namespace");
			goto out;
		}
		b.spec.netns_fd = pfd;
	}
	r = nl_veth_add(s, &a.spec, ps, &b.spec);
	if (r == -EEXIST) {
		r = problem_set(
			&rep->problem, 409, "already-exists",
			"a link named %s already exists in namespace %s, or %s in namespace %s",
			a.spec.name, ns, b.spec.name, pns);
		goto out;
	}
	if (r < 0) {
		r = handler_kernel_failed(rep, r, "creating the veth pair");
		goto out;
	}
	r = nl_link_get(s, a.spec.name, &la);
	if (r < 0) {
		handler_kernel_failed(rep, r, "reading the new veth pair");
		goto undo;
	}
	/* The peer is as asked: its MAC was chosen here. */
	memset(&lb, 0, sizeof(lb));
	lb.mtu = b.spec.mtu; /* 0: not asked, not recorded */
	lb.has_mac = b.spec.mac != NULL;
	if (lb.has_mac)
		memcpy(lb.mac, b.spec.mac, 6);

	ra = link_record_new("veth", body, &la);
	rb = link_record_new("veth", peer, &lb);
	json_object_set_new(
		ra, "peer",
		json_pack("{s:s, s:s}", "namespace", pns, "name", b.spec.name));
	json_object_set_new(
		rb, "peer",
		json_pack("{s:s, s:s}", "namespace", ns, "name", a.spec.name));
	t = store_txn_new();
	if (t) {
		key_link(key, ns, a.spec.name);
		store_txn_set(t, key, ra);
		key_link(key, pns, b.spec.name);
		store_txn_set(t, key, rb);
	} else {
		json_decref(ra);
		json_decref(rb);
	}
	if (handler_commit(req, rep, t) < 0)
		goto undo;

	log_info("created veth %s/%s <-> %s/%s", ns, a.spec.name, pns,
		 b.spec.name);
	link_view_init(&v, req->store, ns, s, false);
	v.peer_hint_ns = pns;
	v.peer_hint_name = b.spec.name;
	r = handler_reply(rep, 201, link_to_json(&v, &la),
			  "/v1/namespaces/%s/veths/%s", ns, a.spec.name);
	link_view_clear(&v);
	goto out;
undo:
	r = -rep->problem.status;
	if (nl_link_get(s, a.spec.name, &la) == 0)
		nl_link_del(s, la.ifindex);
out:
	if (pfd >= 0)
		close(pfd);
	store_txn_free(t);
	nl_ns_put(ns, s);
	if (ps)
		nl_ns_put(pns, ps);
	json_decref(body); /* last: pns points into it */
	return r;
}
