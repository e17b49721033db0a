#include "link_new.h"

#include <errno.h>
#include <string.h>

#include "../api/name.h"
#include "../netlink/ns.h"
#include "../netlink/nsid.h"
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

/* The parent's namespace the body names, when it is a valid name and not
 * `ns`: locked with `ns` (it is read, not changed). */
static const char *link_new_parent_ns(json_t *body, const char *ns)
{
	const char *pns =
		json_string_value(json_object_get(body, "parent_namespace"));

	return pns && !name_check_namespace(pns) && strcmp(pns, ns) ? pns
								    : NULL;
}

/* The parent of an existing link `l`, by name, and its namespace when it
 * is not `s`'s (NULL). */
static void link_new_parent_of(struct nl_sock *s, const struct nl_link *l,
			       struct nl_link *parent, char *pns, size_t len,
			       const char **ret, const char **ret_ns)
{
	*ret = *ret_ns = NULL;
	if (l->opts.parent > 0 &&
	    nl_link_get_index(s, l->opts.parent, parent) == 0) {
		*ret = parent->name;
	} else if (l->opts.parent < 0 &&
		   nl_nsid_far_parent(s, l, pns, len, parent->name) == 0) {
		*ret = parent->name;
		*ret_ns = pns;
	}
}

/* The record wanted: what is desired (a PUT keeps what it leaves out),
 * else what the link `l` of this kind has (on `parent`, in `parent_ns`),
 * else a new link's defaults, edited by the body. A parent in the link's
 * own namespace `ns` is kept without parent_namespace. */
static int link_new_want(const struct link_kind *lk, json_t *body,
			 const char *ns, const struct link_ask *ask,
			 const struct record_link *held,
			 const struct nl_link *l, const char *parent,
			 const char *parent_ns, struct record_link *w,
			 char mac[18], struct problem *prob)
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
		link_kind_from_kernel(lk, l, parent, parent_ns, &w->opts);
	else if (!keep)
		link_kind_init(lk, &w->opts);
	w->has |= RECORD_HAS_OPTIONS;
	r = link_kind_from_body(lk, body, &w->opts, prob);
	if (w->opts.parent_ns && !strcmp(w->opts.parent_ns, ns)) {
		w->opts.parent_ns = NULL;
		w->opts.has &= ~LINK_OPT_PARENT_NS;
	}
	if (r == 0 && w->opts.parent && !w->opts.parent_ns &&
	    !strcmp(w->opts.parent, ask->name))
		r = problem_field(prob, "parent", "must be another link");
	return r;
}

/* POST (`param` NULL: create only) and PUT (create or converge; `param`
 * names the path's name). */
static int link_new_apply(struct request *req, struct reply *rep,
			  const char *param)
{
	const struct link_kind *lk = NULL;
	struct link_put lp = { 0 };
	struct record_link want;
	struct jsonbuf text = JSONBUF_INIT;
	struct link_view v;
	struct nl_link parent;
	const char *parent_name = NULL, *parent_ns = NULL;
	char mac[18], pns[NAME_NS_MAX + 1];
	int r;

	r = link_put_read(req, rep, param, body_link_new, &lp);
	if (r == 0)
		r = link_new_kind(lp.body, &lk, &rep->problem);
	if (r == 0) {
		lp.ns2 = link_new_parent_ns(lp.body, lp.ns);
		r = link_put_open(req, rep, "link", &lp);
	}
	if (r < 0)
		goto out;
	if (lp.exists)
		link_new_parent_of(lp.s, &lp.l, &parent, pns, sizeof(pns),
				   &parent_name, &parent_ns);
	r = link_new_want(lk, lp.body, lp.ns, &lp.ask,
			  lp.held ? &lp.held_w : NULL, lp.exists ? &lp.l : NULL,
			  parent_name, parent_ns, &want, mac, &rep->problem);
	if (r == 0)
		r = link_put_apply(req, rep, &lp, &want);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	link_view_init(&v, req->store, lp.ns, lp.s, false);
	link_write_json(&v, &lp.l, &text);
	r = handler_reply_text(rep, lp.exists ? 200 : 201, &text,
			       "/v1/namespaces/%s/links/%s", lp.ns,
			       lp.ask.name);
	link_view_clear(&v);
out:
	link_put_close(&lp);
	return r;
}

int link_handle_create(struct request *req, struct reply *rep)
{
	return link_new_apply(req, rep, NULL);
}

int link_handle_put(struct request *req, struct reply *rep)
{
	return link_new_apply(req, rep, "link");
}
