#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../api/name.h"
#include "../api/value.h"
#include "../netlink/bridge.h"
#include "../netlink/ns.h"
#include "../server/log.h"
#include "../state/desired.h"
#include "../state/key.h"
#include "../state/store.h"
#include "common.h"
#include "link.h"
#include "link_view.h"

/* Adds "ports" to a bridge's JSON. */
static void bridge_add_ports(struct link_view *v, const struct nl_link *br,
			     json_t *o, bool objects)
{
	json_t *ports = json_array();

	for (size_t i = 0; i < v->n_links; i++) {
		if (v->links[i].master != br->ifindex)
			continue;
		json_array_append_new(ports,
				      objects ? link_to_json(v, &v->links[i])
					      : json_string(v->links[i].name));
	}
	json_object_set_new(o, objects ? "items" : "ports", ports);
}

int bridge_handle_list(struct request *req, struct reply *rep)
{
	const char *ns = router_param(req, "ns");
	struct nl_sock *s = NULL;
	struct link_view v;
	json_t *item;
	size_t i;
	int r;

	r = link_list_kind(req, rep, "bridge", true);
	if (r < 0 || !rep->json || nl_ns_get(ns, &s) < 0)
		return r;
	/* Every bridge gets its port names; one dump serves them all. */
	if (link_view_init(&v, req->store, ns, s, true) == 0) {
		json_array_foreach(json_object_get(rep->json, "items"), i, item)
		{
			const struct nl_link *br = link_view_find(
				&v, json_string_value(
					    json_object_get(item, "name")));

			if (br)
				bridge_add_ports(&v, br, item, false);
			else
				json_object_set_new(item, "ports",
						    json_array());
		}
		link_view_clear(&v);
	}
	nl_ns_put(ns, s);
	return 0;
}

/* The bridge named by the {br} parameter, with the whole namespace in `v`. */
static int bridge_find(struct request *req, struct reply *rep,
		       const char **ret_ns, struct nl_sock **ret_s,
		       struct link_view *v, const struct nl_link **ret_br)
{
	const struct nl_link *br;
	const char *ns, *name;
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_link_param(req, rep, "br", &name);
	if (r == 0)
		r = handler_ns_sock(req, rep, ns, ret_s);
	if (r < 0)
		return r;
	r = link_view_init(v, req->store, ns, *ret_s, true);
	if (r < 0) {
		nl_ns_put(ns, *ret_s);
		*ret_s = NULL;
		return handler_kernel_failed(rep, r, "listing links");
	}
	br = link_view_find(v, name);
	if (!br || strcmp(br->kind, "bridge")) {
		link_view_clear(v);
		nl_ns_put(ns, *ret_s);
		*ret_s = NULL;
		return problem_set(&rep->problem, 404, "not-found",
				   "bridge %s does not exist in namespace %s",
				   name, ns);
	}
	*ret_ns = ns;
	*ret_br = br;
	return 0;
}

int bridge_handle_get(struct request *req, struct reply *rep)
{
	const struct nl_link *br;
	struct nl_sock *s = NULL;
	struct link_view v;
	const char *ns;
	json_t *o;
	int r;

	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0) {
		/* A desired bridge the kernel lacks is reported as drift. */
		if (rep->problem.status == 404 && s == NULL &&
		    nl_ns_exists(router_param(req, "ns"))) {
			problem_clear(&rep->problem);
			r = link_get_kind(req, rep, "br", "bridge");
			if (r == 0 && rep->json)
				json_object_set_new(rep->json, "ports",
						    json_array());
			return r;
		}
		return r;
	}
	o = link_to_json(&v, br);
	bridge_add_ports(&v, br, o, false);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return handler_reply(rep, 200, o, NULL);
}

int bridge_handle_delete(struct request *req, struct reply *rep)
{
	return link_delete_kind(req, rep, "br", "bridge");
}

static int bridge_settings_from_json(json_t *body, struct nl_bridge_spec *b)
{
	json_t *v;

	b->stp = (v = json_object_get(body, "stp")) ? json_is_true(v) : -1;
	b->vlan_filtering = (v = json_object_get(body, "vlan_filtering"))
				    ? json_is_true(v)
				    : -1;
	return 0;
}

int bridge_handle_create(struct request *req, struct reply *rep)
{
	static const struct body_field fields[] = {
		{ "name", BODY_STRING, true },
		{ "stp", BODY_BOOL, false },
		{ "vlan_filtering", BODY_BOOL, false },
		{ "mtu", BODY_INT, false },
		{ "mac", BODY_STRING, false },
		{ "up", BODY_BOOL, false },
		{ NULL, 0, false },
	};
	struct nl_bridge_spec bs;
	struct store_txn *t = NULL, *undo = NULL;
	struct nl_sock *s = NULL;
	struct link_spec_in in;
	struct link_view v;
	struct record_link w;
	struct nl_link l;
	json_t *body = NULL, *rec;
	const char *ns;
	char key[KEY_MAX], what[128], mac[18];
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_body(req, rep, fields, false, &body);
	if (r == 0)
		r = link_spec_from_json(body, "", rep, &in);
	if (r == 0)
		r = handler_ns_sock(req, rep, ns, &s);
	if (r < 0)
		goto out;
	bridge_settings_from_json(body, &bs);
	r = nl_link_get(s, in.spec.name, &l);
	if (r == 0) {
		r = problem_set(
			&rep->problem, 409, "already-exists",
			"a link named %s already exists in namespace %s",
			in.spec.name, ns);
		goto out;
	}
	/* Only "no such link" says the name is free. */
	if (r != -ENODEV) {
		r = handler_kernel_failed(rep, r, "looking for the name");
		goto out;
	}
	/* A fixed MAC, so the bridge's address does not follow its ports as
	 * they come and go. */
	if (!in.spec.mac) {
		if (getrandom(in.mac, sizeof(in.mac), 0) != sizeof(in.mac)) {
			r = handler_kernel_failed(rep, -EIO,
						  "choosing a MAC address");
			goto out;
		}
		in.mac[0] = (uint8_t)((in.mac[0] & 0xfe) | 0x02);
		in.spec.mac = in.mac;
	}
	/* Recorded before the kernel makes it (intent first). */
	link_record_init(&w, RECORD_KIND_BRIDGE, body, &in.spec, mac);
	w.has |= (bs.stp >= 0 ? RECORD_HAS_STP : 0) |
		 (bs.vlan_filtering >= 0 ? RECORD_HAS_VLAN_FILTERING : 0);
	w.bridge.stp = bs.stp > 0;
	w.bridge.vlan_filtering = bs.vlan_filtering > 0;
	rec = record_link_format(&w);
	t = store_txn_new();
	if (t) {
		key_link(key, ns, in.spec.name);
		store_txn_set(t, key, rec);
		store_txn_creates(t);
	} else {
		json_decref(rec);
	}
	r = handler_intent(req, rep, t, &undo);
	if (r < 0)
		goto out;
	snprintf(what, sizeof(what), "creating bridge %s/%s", ns, in.spec.name);
	r = nl_bridge_add(s, &in.spec, &bs);
	if (r < 0) {
		r = handler_kernel_failed(rep, r, "creating the bridge");
		handler_intent_undo(req, undo, what);
		goto out;
	}
	r = nl_link_get(s, in.spec.name, &l);
	if (r < 0) {
		/* A failed request changes nothing: the bridge goes again. */
		r = handler_kernel_failed(rep, r, "reading the new bridge");
		link_take_back(req, s, in.spec.name, undo, what);
		goto out;
	}
	handler_unlock(req);
	log_info("created bridge %s/%s", ns, in.spec.name);
	link_view_init(&v, req->store, ns, s, false);
	v.hint_no_addresses = true;
	rec = link_to_json(&v, &l);
	json_object_set_new(rec, "ports", json_array());
	link_view_clear(&v);
	r = handler_reply(rep, 201, rec, "/v1/namespaces/%s/bridges/%s", ns,
			  in.spec.name);
out:
	store_txn_free(t);
	store_txn_free(undo);
	json_decref(body);
	nl_ns_put(ns, s);
	return r;
}

/* The bridge's desired record after a PATCH: the settings and attributes
 * it changed, over the record it had (or over none: attributes only). */
static json_t *bridge_patch_record(struct store *store, const char *ns,
				   const char *name,
				   const struct nl_bridge_spec *bs,
				   const struct nl_link_change *c)
{
	struct record_link w;
	json_t *held = desired_link_edit(store, ns, name, &w), *rec;

	if (bs->stp >= 0) {
		w.has |= RECORD_HAS_STP;
		w.bridge.stp = bs->stp;
	}
	if (bs->vlan_filtering >= 0) {
		w.has |= RECORD_HAS_VLAN_FILTERING;
		w.bridge.vlan_filtering = bs->vlan_filtering;
	}
	if (c->mtu) {
		w.has |= RECORD_HAS_MTU;
		w.mtu = c->mtu;
	}
	if (c->up >= 0) {
		w.has |= RECORD_HAS_UP;
		w.up = c->up;
	}
	rec = record_link_format(&w);
	json_decref(held);
	return rec;
}

int bridge_handle_patch(struct request *req, struct reply *rep)
{
	static const struct body_field fields[] = {
		{ "stp", BODY_BOOL, false },
		{ "vlan_filtering", BODY_BOOL, false },
		{ "mtu", BODY_INT, false },
		{ "up", BODY_BOOL, false },
		{ NULL, 0, false },
	};
	struct nl_link_change c = NL_LINK_CHANGE_INIT, want;
	struct nl_bridge_spec bs, old_bs, send = { -1, -1 };
	const struct nl_link *br;
	struct store_txn *t = NULL;
	struct nl_sock *s = NULL;
	struct link_spec_in in;
	struct link_view v;
	struct nl_link old, now;
	json_t *body = NULL, *rec = NULL, *o;
	const char *ns = NULL;
	char key[KEY_MAX];
	int r;

	r = handler_body(req, rep, fields, false, &body);
	if (r == 0)
		r = link_spec_from_json(body, "", rep, &in);
	if (r < 0)
		goto out_body;
	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0)
		goto out_body;
	old = *br;
	r = handler_check_host_link(req, rep, ns, nl_link_is_ours(br),
				    br->name);
	if (r < 0)
		goto out;
	bridge_settings_from_json(body, &bs);
	/* Only what changes is sent: a kernel without VLAN filtering refuses
	 * even vlan_filtering false. */
	send = bs;
	if (send.stp == !!old.br_stp_state)
		send.stp = -1;
	if (send.vlan_filtering == old.br_vlan_filtering)
		send.vlan_filtering = -1;
	if (send.stp >= 0 || send.vlan_filtering >= 0) {
		r = nl_bridge_set(s, old.ifindex, &send);
		if (r < 0) {
			r = handler_kernel_failed(rep, r,
						  "changing the bridge");
			goto out;
		}
	}
	c.ifindex = old.ifindex;
	c.mtu = in.spec.mtu;
	if (json_object_get(body, "up"))
		c.up = in.spec.up;
	want = c;
	link_change_only_new(&c, &old);
	if (c.mtu || c.up >= 0) {
		r = nl_link_set(s, &c);
		if (r < 0) {
			handler_kernel_failed(rep, r, "changing the bridge");
			goto undo;
		}
	}
	/* The record says what was asked, not only what the kernel lacked. */
	rec = bridge_patch_record(req->store, ns, old.name, &bs, &want);
	t = store_txn_new();
	if (t) {
		key_link(key, ns, old.name);
		store_txn_set(t, key, rec);
		rec = NULL;
	}
	if (handler_commit(req, rep, t) < 0)
		goto undo;
	if (c.up == 0)
		link_restore_addresses(req->store, s, ns, old.name);
	log_info("changed bridge %s/%s", ns, old.name);
	r = nl_link_get(s, old.name, &now);
	if (r < 0) {
		r = handler_kernel_failed(rep, r, "reading the bridge");
		goto out;
	}
	link_view_clear(&v);
	link_view_init(&v, req->store, ns, s, true);
	o = link_to_json(&v, &now);
	bridge_add_ports(&v, &now, o, false);
	r = handler_reply(rep, 200, o, NULL);
	goto out;
undo:
	r = -rep->problem.status;
	old_bs.stp = send.stp >= 0 ? !!old.br_stp_state : -1;
	old_bs.vlan_filtering =
		send.vlan_filtering >= 0 ? old.br_vlan_filtering : -1;
	c = (struct nl_link_change)NL_LINK_CHANGE_INIT;
	c.ifindex = old.ifindex;
	c.mtu = old.mtu;
	c.up = !!(old.flags & IFF_UP);
	if ((old_bs.stp >= 0 || old_bs.vlan_filtering >= 0) &&
	    nl_bridge_set(s, old.ifindex, &old_bs) < 0)
		log_error(
			"bridge %s/%s settings could not be put back after a failed change",
			ns, old.name);
	if (nl_link_set(s, &c) < 0)
		log_error(
			"bridge %s/%s could not be put back after a failed change",
			ns, old.name);
	link_restore_addresses(req->store, s, ns, old.name);
out:
	json_decref(rec);
	store_txn_free(t);
	link_view_clear(&v);
	nl_ns_put(ns, s);
out_body:
	json_decref(body);
	return r;
}

int bridge_handle_ports(struct request *req, struct reply *rep)
{
	const struct nl_link *br;
	struct nl_sock *s = NULL;
	struct link_view v;
	const char *ns;
	json_t *o = json_object();
	int r;

	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	bridge_add_ports(&v, br, o, true);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return handler_reply(rep, 200, o, NULL);
}

/* Attaches (master = the bridge) or detaches (master = 0) a port. */
/* The port's desired record with its master (NULL: none), over the
 * record it had (or over none: attributes only). */
static json_t *bridge_port_record(struct store *store, const char *ns,
				  const char *port, const char *master)
{
	struct record_link w;
	json_t *held = desired_link_edit(store, ns, port, &w), *rec;

	w.has |= RECORD_HAS_MASTER;
	w.master = master;
	rec = record_link_format(&w);
	json_decref(held);
	return rec;
}

static int bridge_port_change(struct request *req, struct reply *rep,
			      bool attach)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;
	const struct nl_link *br, *port;
	struct store_txn *t = NULL;
	struct nl_sock *s = NULL;
	struct link_view v;
	struct nl_link now;
	const char *ns, *pname;
	json_t *rec = NULL;
	char key[KEY_MAX];
	bool already;
	int r;

	r = handler_link_param(req, rep, "link", &pname);
	if (r < 0)
		return r;
	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0)
		return r;
	port = link_view_find(&v, pname);
	if (!port) {
		r = problem_set(
			&rep->problem, 404, "not-found",
			"link %s does not exist in namespace %s (a port must be in its bridge's namespace)",
			pname, ns);
		goto out;
	}
	if (port->ifindex == br->ifindex) {
		r = problem_field(&rep->problem, "link",
				  "a bridge cannot be its own port");
		goto out;
	}
	r = handler_check_host_link(req, rep, ns, nl_link_is_ours(port), pname);
	if (r == 0)
		r = handler_check_dying(rep, ns, port);
	if (r < 0)
		goto out;
	already = port->master == br->ifindex;
	if (!attach && !already) {
		r = problem_set(&rep->problem, 404, "not-found",
				"%s is not a port of bridge %s", pname,
				br->name);
		goto out;
	}
	/* Also when already attached: the attachment becomes desired, and
	 * reconcile would then change that bridge on its own. */
	r = handler_check_host_bridge(req, rep, ns, nl_link_is_ours(br),
				      br->name, attach);
	if (r < 0)
		goto out;
	if (attach != already) {
		c.ifindex = port->ifindex;
		c.master = attach ? br->ifindex : 0;
		r = nl_link_set(s, &c);
		if (r < 0) {
			r = handler_kernel_failed(
				rep, r,
				attach ? "attaching the port"
				       : "detaching the port");
			goto out;
		}
	}
	rec = bridge_port_record(req->store, ns, pname,
				 attach ? br->name : NULL);
	t = store_txn_new();
	if (t) {
		key_link(key, ns, pname);
		store_txn_set(t, key, rec);
		rec = NULL;
	}
	if (handler_commit(req, rep, t) < 0) {
		r = -rep->problem.status;
		if (attach != already) {
			c.master = attach ? port->master : br->ifindex;
			nl_link_set(s, &c);
		}
		goto out;
	}
	if (!attach) {
		log_info("detached %s/%s from %s", ns, pname, br->name);
		r = handler_reply(rep, 204, NULL, NULL);
		goto out;
	}
	if (!already)
		log_info("attached %s/%s to %s", ns, pname, br->name);
	r = nl_link_get(s, pname, &now);
	if (r < 0) {
		r = handler_kernel_failed(rep, r, "reading the port");
		goto out;
	}
	r = handler_reply(rep, already ? 200 : 201, link_to_json(&v, &now),
			  already ? NULL
				  : "/v1/namespaces/%s/bridges/%s/ports/%s",
			  ns, br->name, pname);
out:
	json_decref(rec);
	store_txn_free(t);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return r;
}

int bridge_handle_port_get(struct request *req, struct reply *rep)
{
	const struct nl_link *br, *port;
	struct nl_sock *s = NULL;
	struct link_view v;
	const char *ns, *pname;
	int r;

	r = handler_link_param(req, rep, "link", &pname);
	if (r < 0)
		return r;
	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0)
		return r;
	port = link_view_find(&v, pname);
	if (!port || port->master != br->ifindex)
		r = problem_set(&rep->problem, 404, "not-found",
				"%s is not a port of bridge %s", pname,
				br->name);
	else
		r = handler_reply(rep, 200, link_to_json(&v, port), NULL);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return r;
}

int bridge_handle_port_put(struct request *req, struct reply *rep)
{
	return bridge_port_change(req, rep, true);
}

int bridge_handle_port_delete(struct request *req, struct reply *rep)
{
	return bridge_port_change(req, rep, false);
}
