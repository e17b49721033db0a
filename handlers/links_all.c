/* GET /v1/links: every namespace's links, each item exactly as GET of the
 * link shows it (its `namespace` included), namespaces in name order, with
 * the filters ?namespace= (repeatable), ?kind=, ?managed= and ?in_sync=
 * (openapi/openapi.yaml, listAllLinks; README.md, "Every link at once"). */
#include "links_all.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../api/jsonbuf.h"
#include "../api/name.h"
#include "../netlink/ns.h"
#include "../state/desired.h"
#include "../state/key.h"
#include "../state/store.h"
#include "common.h"
#include "link_view.h"

/* The longest kind a filter can name ("macvtap", "loopback", ...). */
#define LINKS_ALL_KIND_MAX 16

struct links_all_filter {
	const char *kind; /* NULL: any */
	bool by_managed, managed;
	bool by_in_sync, in_sync;
};

/* Kinds are short lowercase words; anything else is a typo or an attack,
 * told rather than matched against nothing. */
static int links_all_kind_check(const char *kind, struct reply *rep)
{
	size_t n = strlen(kind);

	if (n > LINKS_ALL_KIND_MAX ||
	    strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return problem_field(
			&rep->problem, "query.kind",
			"must be a link kind (veth, bridge, loopback, device, ...): at most %d of a-z, 0-9, '_' and '-'",
			LINKS_ALL_KIND_MAX);
	return 0;
}

/* Reads and checks the filters; every bad ?namespace= is named. */
static int links_all_filter_read(struct request *req, struct reply *rep,
				 struct links_all_filter *f)
{
	const char *ns;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0;
	     (ns = request_query_value(req, ROUTE_QUERY_NAMESPACE, i)); i++) {
		const char *why = name_check_namespace(ns);

		if (why)
			problem_field(&rep->problem, "query.namespace",
				      "namespace name %s", why);
	}
	f->kind = request_query_value(req, ROUTE_QUERY_KIND, 0);
	if (f->kind)
		links_all_kind_check(f->kind, rep);
	f->by_managed = req->query_seen & ROUTE_QUERY_MANAGED;
	f->managed = req->managed;
	f->by_in_sync = req->query_seen & ROUTE_QUERY_IN_SYNC;
	f->in_sync = req->in_sync;
	return rep->problem.status ? -rep->problem.status : 0;
}

/* Whether namespace `ns` is one the request asks for. */
static bool links_all_ns_wanted(const struct request *req, const char *ns)
{
	const char *want = request_query_value(req, ROUTE_QUERY_NAMESPACE, 0);

	for (size_t i = 1; want;
	     want = request_query_value(req, ROUTE_QUERY_NAMESPACE, i++))
		if (!strcmp(want, ns))
			return true;
	return !(req->query_seen & ROUTE_QUERY_NAMESPACE);
}

/* Whether the item just written at b[from..] passes ?managed= and
 * ?in_sync=. Read back from its own text, so that the filter sees exactly
 * what the client would: an item without `in_sync` (nothing desired of
 * it) matches neither ?in_sync=true nor ?in_sync=false. */
static bool links_all_keep(const struct links_all_filter *f,
			   const struct jsonbuf *b, size_t from)
{
	json_t *o, *v;
	bool keep = true;

	if (!f->by_managed && !f->by_in_sync)
		return true;
	if (b->data[from] == ',')
		from++;
	o = json_loadb(b->data + from, b->len - from, 0, NULL);
	if (!o)
		return false;
	if (f->by_managed) {
		v = json_object_get(o, "managed");
		keep = json_is_boolean(v) && json_is_true(v) == f->managed;
	}
	if (keep && f->by_in_sync) {
		v = json_object_get(o, "in_sync");
		keep = json_is_boolean(v) && json_is_true(v) == f->in_sync;
	}
	json_decref(o);
	return keep;
}

/* Appends the desired links of the view's namespace that the kernel lacks
 * (drift, as GET of the namespace's links shows them). */
static void links_all_missing(struct request *req, struct link_view *v,
			      const struct links_all_filter *f, bool *first,
			      struct jsonbuf *b)
{
	const struct link_wants *wants = link_view_wants(v);
	struct record_link want;
	char prefix[KEY_MAX];
	json_t *desired, *d;
	const char *k;
	size_t mark;
	bool was;

	key_link_prefix(prefix, v->ns);
	desired = wants ? NULL : store_list(req->store, prefix);
	for (size_t i = 0; wants && i < wants->n; i++) {
		mark = b->len;
		was = *first;
		link_missing_write_json(v, f->kind, wants->items[i].name,
					&wants->items[i].want, first, b);
		if (b->len > mark && !links_all_keep(f, b, mark)) {
			jsonbuf_rewind(b, mark);
			*first = was;
		}
	}
	json_object_foreach(desired, k, d) {
		record_link_read(d, &want);
		mark = b->len;
		was = *first;
		link_missing_write_json(v, f->kind, k + strlen(prefix), &want,
					first, b);
		if (b->len > mark && !links_all_keep(f, b, mark)) {
			jsonbuf_rewind(b, mark);
			*first = was;
		}
	}
	json_decref(desired);
}

/* Appends the links of one namespace. A namespace gone since the listing
 * is skipped, as if listed a moment later; any other failure fails the
 * answer (a partial topology would look like a wrong one). */
static int links_all_ns(struct request *req, struct reply *rep, const char *ns,
			const struct links_all_filter *f, bool *first,
			struct jsonbuf *b)
{
	struct nl_sock *s = NULL;
	struct link_view v;
	size_t mark;
	int r;

	r = nl_ns_get(ns, &s);
	if (r == -ENOENT || r == -EINVAL)
		return 0;
	if (r < 0)
		return problem_errno(
			&rep->problem, r,
			"opening a netlink socket in the namespace", NULL);
	r = link_view_init(&v, req->store, ns, s, true);
	if (r < 0) {
		nl_ns_put(ns, s);
		return handler_kernel_failed(rep, r, "listing links");
	}
	jsonbuf_reserve(b, 512 * (v.n_links + 1));
	for (size_t i = 0; i < v.n_links; i++) {
		if (f->kind && strcmp(link_kind_name(&v.links[i]), f->kind))
			continue;
		mark = b->len;
		if (!*first)
			jsonbuf_lit(b, ",");
		if (link_write_json(&v, &v.links[i], b) < 0 ||
		    !links_all_keep(f, b, mark))
			jsonbuf_rewind(b, mark);
		else
			*first = false;
	}
	links_all_missing(req, &v, f, first, b);
	link_view_clear(&v);
	nl_ns_put(ns, s);
	return 0;
}

int links_all_handle_list(struct request *req, struct reply *rep)
{
	struct links_all_filter f;
	struct jsonbuf b = JSONBUF_INIT;
	char **names = NULL;
	size_t n = 0;
	bool first = true;
	int r;

	r = links_all_filter_read(req, rep, &f);
	if (r < 0)
		return r;
	r = nl_ns_list(&names, &n);
	if (r < 0)
		return problem_errno(&rep->problem, r,
				     "reading the netns directory", NULL);
	jsonbuf_lit(&b, "{\"items\":[");
	/* `host` is in no listing of namespaces: only asked for by name. */
	if (req->query_seen & ROUTE_QUERY_NAMESPACE &&
	    links_all_ns_wanted(req, "host"))
		r = links_all_ns(req, rep, "host", &f, &first, &b);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (links_all_ns_wanted(req, names[i]))
			r = links_all_ns(req, rep, names[i], &f, &first, &b);
	nl_ns_list_free(names, n);
	if (r < 0) {
		jsonbuf_free(&b);
		return r;
	}
	return handler_reply_list(rep, &b);
}
