#include "link_new.h"

#include <errno.h>
#include <string.h>

#include "../netlink/ns.h"
#include "../base/log.h"
#include "../state/desired.h"
#include "../state/link_kind.h"
#include "../api/bodies.h"
#include "common.h"
#include "link_ask.h"
#include "link_view.h"

/* The kind the body names, and the body held to its members. */
static int link_new_kind(json_t *body, const struct link_kind **ret,
			 struct problem *prob)
{
	const char *name = json_string_value(json_object_get(body, "kind"));
	struct body_field fields[24];

	*ret = link_kind_named(name);
	if (!*ret && (!strcmp(name, "veth") || !strcmp(name, "bridge")))
		return problem_field(
			prob, "kind",
			"a %s is made through /v1/namespaces/{ns}/%ss", name,
			name);
	if (!*ret)
		return problem_field(prob, "kind", "must be %s",
				     link_kind_names());
	if (link_kind_fields(*ret, body_link_new_base, fields, 24) < 0)
		return problem_errno(prob, -ENOBUFS, "reading the body", NULL);
	return body_check(body, fields, "", prob);
}

/* The record wanted: what is desired (a PUT keeps what it leaves out),
 * else what the link `l` of this kind has (on `parent`), else a new
 * link's defaults, edited by the body. */
static int link_new_want(const struct link_kind *lk, json_t *body,
			 const struct link_ask *ask,
			 const struct record_link *held,
			 const struct nl_link *l, const char *parent,
			 struct record_link *w, char mac[18],
			 struct problem *prob)
{
	bool keep = held && held->kind == lk->kind && held->owned &&
		    (held->has & RECORD_HAS_OPTIONS);
	int r;

	if (held && held->owned && held->kind != lk->kind &&
	    held->kind != RECORD_KIND_NONE)
		return problem_set(prob, 409, "conflict",
				   "%s is desired as a %s: delete it first",
				   ask->name,
				   record_kind_name(held->kind) ?: "link");
	r = link_ask_record(ask, lk->kind, keep ? held : NULL, l, w, mac, prob);
	if (r < 0)
		return r;
	/* The kind's own MAC, or its parent's (ipvlan, a passthru macvlan):
	 * none is chosen here, only a MAC asked for is desired. */
	if (!keep && !ask->has_mac)
		w->has &= ~RECORD_HAS_MAC;
	if (!keep && l && !strcmp(l->kind, lk->name))
		/* Not desired (the state was lost): what the link has. */
		link_kind_from_kernel(lk, l, parent, &w->opts);
	else if (!keep)
		link_kind_init(lk, &w->opts);
	w->has |= RECORD_HAS_OPTIONS;
	r = link_kind_from_body(lk, body, &w->opts, prob);
	if (r == 0 && w->opts.parent && !strcmp(w->opts.parent, ask->name))
		r = problem_field(prob, "parent", "must be another link");
	return r;
}

/* POST (path_name NULL: create only) and PUT (create or converge). */
static int link_new_apply(struct request *req, struct reply *rep,
			  const char *path_name)
{
	const struct link_kind *lk = NULL;
	struct record_link held_w, want;
	struct nl_sock *s = NULL;
	struct link_ask ask;
	struct link_view v;
	struct nl_link l, parent;
	json_t *body = NULL, *held = NULL;
	const char *ns = NULL, *parent_name = NULL;
	char mac[18];
	bool exists;
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r == 0)
		r = handler_body(req, rep, body_link_new, false, &body);
	if (r == 0)
		r = link_new_kind(body, &lk, &rep->problem);
	if (r == 0)
		r = link_ask_from_json(body, "", &rep->problem, &ask);
	if (r == 0)
		r = link_ask_name(&ask, path_name, &rep->problem);
	if (r == 0)
		r = handler_lock_ns(req, rep, ns);
	if (r == 0)
		r = handler_ns_sock(req, rep, ns, &s);
	if (r < 0)
		goto out;
	r = link_ask_find(rep, req->store, s, ns, ask.name, !path_name, "link",
			  &l, &exists, &held, &held_w);
	if (r < 0)
		goto out;
	if (exists && l.opts.parent > 0 &&
	    nl_link_get_index(s, l.opts.parent, &parent) == 0)
		parent_name = parent.name;
	r = link_new_want(lk, body, &ask, held ? &held_w : NULL,
			  exists ? &l : NULL, parent_name, &want, mac,
			  &rep->problem);
	if (r == 0)
		r = link_apply_one(req, rep, s, ns, ask.name, &want, &l);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	handler_unlock(req);
	if (!exists)
		log_info("created %s %s/%s", lk->name, ns, ask.name);
	link_view_init(&v, req->store, ns, s, false);
	r = handler_reply(rep, exists ? 200 : 201, link_to_json(&v, &l),
			  "/v1/namespaces/%s/links/%s", ns, ask.name);
	link_view_clear(&v);
out:
	json_decref(held);
	json_decref(body); /* last: the record's strings point into it */
	nl_ns_put(ns, s);
	return r;
}

int link_handle_create(struct request *req, struct reply *rep)
{
	return link_new_apply(req, rep, NULL);
}

int link_handle_put(struct request *req, struct reply *rep)
{
	const char *name;
	int r = handler_link_param(req, rep, "link", &name);

	return r < 0 ? r : link_new_apply(req, rep, name);
}
