#include "bridge.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/bodies.h"
#include "../api/name.h"
#include "../api/value.h"
#include "../base/log.h"
#include "../netlink/bridge.h"
#include "../netlink/ns.h"
#include "../state/desired.h"
#include "../state/key.h"
#include "../state/store.h"
#include "common.h"
#include "link.h"
#include "link_ask.h"
#include "link_view.h"

/* A bridge's "ports": the names of the links it is the master of in a whole
 * view (none for a bridge the kernel lacks). A name jansson refuses (not
 * UTF-8) is left out. */
static void bridge_write_ports(const struct link_view *v,
			       const struct nl_link *br, struct jsonbuf *b)
{
	bool first = true;
	size_t mark;

	if (b->err)
		return;
	jsonbuf_lit(b, ",\"ports\":[");
	for (size_t i = 0; br && i < v->n_links; i++) {
		if (v->links[i].master != br->ifindex)
			continue;
		mark = b->len;
		if (!first)
			jsonbuf_lit(b, ",");
		jsonbuf_str(b, v->links[i].name);
		if (b->err == -EILSEQ)
			jsonbuf_rewind(b, mark);
		else
			first = false;
	}
	jsonbuf_lit(b, "]");
}

int bridge_handle_list(struct request *req, struct reply *rep)
{
	return link_list_kind(req, rep, "bridge", bridge_write_ports);
}

/* The bridge named by the {br} parameter, with the whole namespace in `v`. */
static int bridge_find(struct request *req, struct reply *rep,
		       const char **ret_ns, struct nl_sock **ret_s,
		       struct link_view *v, const struct nl_link **ret_br)
{
	const struct nl_link *br;
	const char *ns, *name;
	int r;

	r = handler_link_path(req, rep, "br", &ns, &name, ret_s);
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
		return problem_link_missing(&rep->problem, "bridge", name, ns);
	}
	*ret_ns = ns;
	*ret_br = br;
	return 0;
}

int bridge_handle_get(struct request *req, struct reply *rep)
{
	struct jsonbuf b = JSONBUF_INIT;
	const struct nl_link *br = NULL;
	struct nl_sock *s = NULL;
	struct link_view v;
	const char *ns = NULL;
	int r;

	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0) {
		/* A desired bridge the kernel lacks is reported as drift. */
		if (rep->problem.status == 404 && s == NULL &&
		    nl_ns_exists(request_param(req, "ns"))) {
			problem_clear(&rep->problem);
			return link_get_kind(req, rep, "br", "bridge",
					     bridge_write_ports);
		}
		return r;
	}
	v.extra = bridge_write_ports;
	link_write_json(&v, br, &b);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return handler_reply_text(rep, 200, &b, NULL);
}

int bridge_handle_delete(struct request *req, struct reply *rep)
{
	return link_delete_kind(req, rep, "br", "bridge");
}

/* The bridge as an answer shows it: with its ports. */
static int bridge_reply(struct request *req, struct reply *rep, int status,
			struct nl_sock *s, const char *ns,
			const struct nl_link *br)
{
	struct jsonbuf b = JSONBUF_INIT;
	struct link_view v;
	int r = link_view_init(&v, req->store, ns, s, true);

	if (r < 0)
		return handler_kernel_failed(rep, r, "listing links");
	v.extra = bridge_write_ports;
	link_write_json(&v, br, &b);
	link_view_clear(&v);
	return handler_reply_text(rep, status, &b,
				  "/v1/namespaces/%s/bridges/%s", ns, br->name);
}

/* POST (`param` NULL: create only) and PUT (create or converge; `param`
 * names the path's name). */
static int bridge_apply(struct request *req, struct reply *rep,
			const char *param)
{
	struct link_put lp = { 0 };
	struct record_link want;
	char mac[18];
	int r;

	r = link_put_read(req, rep, param, body_bridge, &lp);
	if (r == 0)
		r = link_put_open(req, rep, "bridge", &lp);
	if (r == 0)
		r = link_ask_record(&lp.ask, RECORD_KIND_BRIDGE,
				    lp.held ? &lp.held_w : NULL,
				    lp.exists ? &lp.l : NULL, &want, mac,
				    &rep->problem);
	if (r == 0)
		r = link_put_apply(req, rep, &lp, &want);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	r = bridge_reply(req, rep, lp.exists ? 200 : 201, lp.s, lp.ns, &lp.l);
out:
	link_put_close(&lp);
	return r;
}

int bridge_handle_create(struct request *req, struct reply *rep)
{
	return bridge_apply(req, rep, NULL);
}

int bridge_handle_put(struct request *req, struct reply *rep)
{
	return bridge_apply(req, rep, "br");
}

int bridge_handle_patch(struct request *req, struct reply *rep)
{
	const struct nl_link *br;
	struct record_link want;
	struct nl_sock *s = NULL;
	struct link_ask ask;
	struct link_view v;
	struct nl_link now;
	json_t *body = NULL, *held = NULL;
	const char *ns = NULL;
	char mac[18];
	int r;

	r = handler_body(req, rep, body_bridge_patch, false, &body);
	if (r == 0)
		r = link_ask_from_json(body, "", &rep->problem, &ask);
	if (r < 0)
		goto out_body;
	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0)
		goto out_body;
	r = handler_check_host_link(req, rep, ns, nl_link_is_ours(br),
				    br->name);
	if (r < 0)
		goto out;
	/* The record says what was asked, over what it said before. */
	held = desired_link_edit(req->store, ns, br->name, &want);
	link_ask_apply(&ask, &want, mac);
	r = link_apply_one(req, rep, s, ns, br->name, &want, &now);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	log_info("changed bridge %s/%s", ns, now.name);
	link_view_clear(&v);
	r = bridge_reply(req, rep, 200, s, ns, &now);
	rep->location[0] = '\0';
	nl_ns_put(ns, s);
	json_decref(held);
	json_decref(body);
	return r;
out:
	json_decref(held);
	link_view_clear(&v);
	nl_ns_put(ns, s);
out_body:
	json_decref(body);
	return r;
}

/* The ports as links, each as its GET shows it. */
int bridge_handle_ports(struct request *req, struct reply *rep)
{
	struct jsonbuf b = JSONBUF_INIT;
	const struct nl_link *br;
	struct nl_sock *s = NULL;
	struct link_view v;
	const char *ns;
	bool first = true;
	int r;

	r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0)
		return r;
	jsonbuf_lit(&b, "{\"items\":[");
	for (size_t i = 0; i < v.n_links; i++) {
		if (v.links[i].master == br->ifindex)
			link_write_item(&v, &v.links[i], &first, &b);
	}
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return handler_reply_list(rep, &b);
}

/* The checks of a port's attach or detach; 0 when it may go on. */
static int bridge_port_check(struct request *req, struct reply *rep,
			     const char *ns, const struct nl_link *br,
			     const struct nl_link *port, const char *pname,
			     bool attach)
{
	int r;

	if (!port)
		return problem_set(
			&rep->problem, 404, "not-found",
			"link %s does not exist in namespace %s (a port must be in its bridge's namespace)",
			pname, ns);
	if (port->ifindex == br->ifindex)
		return problem_own_port(&rep->problem, "link");
	r = handler_check_host_link(req, rep, ns, nl_link_is_ours(port), pname);
	if (r == 0)
		r = handler_check_dying(rep, ns, port);
	if (r < 0)
		return r;
	if (!attach && port->master != br->ifindex)
		return problem_set(&rep->problem, 404, "not-found",
				   "%s is not a port of bridge %s", pname,
				   br->name);
	/* Also when already attached: the attachment becomes desired, and
	 * reconcile would then change that bridge on its own. */
	return handler_check_host_bridge(req, rep, ns, nl_link_is_ours(br),
					 br->name, attach);
}

/* Attaches (PUT) or detaches (DELETE) a port: its record's master, then
 * the plan that makes the kernel so. */
static int bridge_port_change(struct request *req, struct reply *rep,
			      bool attach)
{
	const struct nl_link *br, *port;
	struct jsonbuf b = JSONBUF_INIT;
	struct record_link want;
	struct nl_sock *s = NULL;
	struct link_view v;
	struct nl_link now;
	const char *ns, *pname;
	json_t *held = NULL, *body = NULL;
	bool already;
	int r;

	r = handler_link_param(req, rep, "link", &pname);
	/* The path names the port entirely: a body may only be empty. */
	if (r == 0 && attach)
		r = handler_body(
			req, rep,
			(const struct body_field[]){ { NULL, 0, false } }, true,
			&body);
	json_decref(body);
	if (r == 0)
		r = bridge_find(req, rep, &ns, &s, &v, &br);
	if (r < 0)
		return r;
	port = link_view_find(&v, pname);
	r = bridge_port_check(req, rep, ns, br, port, pname, attach);
	if (r < 0)
		goto out;
	already = port->master == br->ifindex;
	held = desired_link_edit(req->store, ns, pname, &want);
	want.has |= RECORD_HAS_MASTER;
	want.master = attach ? br->name : NULL;
	r = link_apply_one(req, rep, s, ns, pname, &want, &now);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	if (!attach) {
		log_info("detached %s/%s from %s", ns, pname, br->name);
		r = handler_reply(rep, 204, NULL, NULL);
		goto out;
	}
	if (!already)
		log_info("attached %s/%s to %s", ns, pname, br->name);
	link_write_json(&v, &now, &b);
	r = handler_reply_text(
		rep, already ? 200 : 201, &b,
		already ? NULL : "/v1/namespaces/%s/bridges/%s/ports/%s", ns,
		br->name, pname);
out:
	json_decref(held);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return r;
}

int bridge_handle_port_get(struct request *req, struct reply *rep)
{
	const struct nl_link *br, *port;
	struct jsonbuf b = JSONBUF_INIT;
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
	if (!port || port->master != br->ifindex) {
		r = problem_set(&rep->problem, 404, "not-found",
				"%s is not a port of bridge %s", pname,
				br->name);
	} else {
		link_write_json(&v, port, &b);
		r = handler_reply_text(rep, 200, &b, NULL);
	}
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
