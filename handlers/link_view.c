#include "link_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>

#include "../api/name.h"
#include "../api/value.h"
#include "../netlink/ifname.h"
#include "../netlink/ns.h"
#include "../netlink/nsid.h"
#include "../state/diff.h"
#include "../state/key.h"
#include "../state/link_kind.h"
#include "../state/store.h"

/* Groups `n` items by link position (pos[i], or -1 for none): the items of
 * position p are ret_order[ret_first[p] .. ret_first[p + 1]), in their
 * original order. */
static int link_view_group(size_t n_links, const long *pos, size_t n,
			   size_t **ret_first, size_t **ret_order)
{
	size_t *first = calloc(n_links + 1, sizeof(*first));
	size_t *next = calloc(n_links + 1, sizeof(*next));
	size_t *order = calloc(n ? n : 1, sizeof(*order));
	size_t i, p;

	if (!first || !next || !order) {
		free(first);
		free(next);
		free(order);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (pos[i] >= 0)
			first[pos[i] + 1]++;
	for (p = 0; p < n_links; p++) {
		first[p + 1] += first[p];
		next[p] = first[p];
	}
	for (i = 0; i < n; i++)
		if (pos[i] >= 0)
			order[next[pos[i]]++] = i;
	free(next);
	*ret_first = first;
	*ret_order = order;
	return 0;
}

/* Indexes a whole view: links by name and ifindex, addresses by link. */
static int link_view_index(struct link_view *v)
{
	const struct nl_link *l;
	long *pos;
	int r;

	r = link_index_build(&v->index, v->links, v->n_links);
	if (r < 0)
		return r;
	pos = calloc(v->n_addrs ? v->n_addrs : 1, sizeof(*pos));
	if (!pos)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_addrs; i++) {
		l = link_index_ifindex(&v->index, v->addrs[i].ifindex);
		pos[i] = l ? l - v->links : -1;
	}
	r = link_view_group(v->n_links, pos, v->n_addrs, &v->addr_first,
			    &v->addr_order);
	free(pos);
	return r;
}

int link_view_init(struct link_view *v, struct store *store, const char *ns,
		   struct nl_sock *sock, bool whole)
{
	int r;

	memset(v, 0, sizeof(*v));
	v->store = store;
	v->ns = ns;
	v->sock = sock;
	if (!whole)
		return 0;
	r = nl_link_dump(sock, &v->links, &v->n_links);
	if (r == 0)
		r = nl_addr_dump(sock, 0, &v->addrs, &v->n_addrs);
	if (r == 0)
		r = link_view_index(v);
	if (r < 0)
		link_view_clear(v);
	return r;
}

void link_view_clear(struct link_view *v)
{
	free(v->links);
	free(v->addrs);
	v->links = NULL;
	v->addrs = NULL;
	v->n_links = 0;
	v->n_addrs = 0;
	link_index_clear(&v->index);
	free(v->addr_first);
	free(v->addr_order);
	v->addr_first = NULL;
	v->addr_order = NULL;
	for (int i = 0; i < v->n_peer_names; i++)
		free(v->peer_names[i].names);
	v->n_peer_names = 0;
	link_wants_put(v->wants);
	free(v->want_of);
	v->wants = NULL;
	v->want_of = NULL;
	v->wants_loaded = false;
}

/* The namespace's desired links, once per whole view, each matched to
 * its kernel link by name. */
static void link_view_load_wants(struct link_view *v)
{
	const struct nl_link *l;

	if (v->wants_loaded || !v->links)
		return;
	v->wants_loaded = true;
	if (link_wants_get(v->store, v->ns, &v->wants) < 0)
		return;
	v->want_of = calloc(v->n_links ? v->n_links : 1, sizeof(*v->want_of));
	if (!v->want_of) {
		link_wants_put(v->wants);
		v->wants = NULL;
		return;
	}
	for (size_t i = 0; i < v->wants->n; i++) {
		l = link_index_name(&v->index, v->wants->items[i].name);
		if (l)
			v->want_of[l - v->links] = &v->wants->items[i];
	}
}

const struct link_wants *link_view_wants(struct link_view *v)
{
	link_view_load_wants(v);
	return v->wants;
}

const struct nl_link *link_view_find(const struct link_view *v,
				     const char *name)
{
	return link_index_name(&v->index, name);
}

const char *link_view_name_of(struct link_view *v, int ifindex, char *buf)
{
	const struct nl_link *l;

	if (ifindex <= 0)
		return NULL;
	if (v->links) {
		l = link_index_ifindex(&v->index, ifindex);
		return l ? strcpy(buf, l->name) : NULL;
	}
	if (nl_ifname_of(v->sock, ifindex, buf) < 0)
		return NULL;
	return buf;
}

static const char *link_view_nsid_name(struct link_view *v, int nsid)
{
	char name[NAME_NS_MAX + 1];
	int i;

	for (i = 0; i < v->n_nsid_cache; i++)
		if (v->nsid_cache_id[i] == nsid)
			return v->nsid_cache_name[i];
	if (nl_nsid_name(v->sock, nsid, name, sizeof(name)) < 0)
		return NULL;
	if (v->n_nsid_cache == 8)
		v->n_nsid_cache = 0; /* a tiny cache; start over */
	i = v->n_nsid_cache++;
	v->nsid_cache_id[i] = nsid;
	snprintf(v->nsid_cache_name[i], sizeof(v->nsid_cache_name[i]), "%s",
		 name);
	return v->nsid_cache_name[i];
}

/* A peer's name in its own namespace: from that namespace's name cache (one
 * dump for all the peers there, see nl_ns_link_names), copied once per
 * view so that a thousand peers cost one look at it. */
static int link_view_name_in(struct link_view *v, const char *ns, int ifindex,
			     char *buf)
{
	struct nl_ns_name *names;
	size_t n;
	int i, r;

	for (i = 0; i < v->n_peer_names; i++)
		if (!strcmp(v->peer_names[i].ns, ns))
			return nl_ns_name_find(v->peer_names[i].names,
					       v->peer_names[i].n, ifindex,
					       buf);
	r = nl_ns_link_names(ns, &names, &n);
	if (r < 0)
		return r;
	r = nl_ns_name_find(names, n, ifindex, buf);
	if (v->n_peer_names < 4 && strlen(ns) < sizeof(v->peer_names[0].ns)) {
		i = v->n_peer_names++;
		strcpy(v->peer_names[i].ns, ns);
		v->peer_names[i].names = names;
		v->peer_names[i].n = n;
	} else {
		free(names);
	}
	return r;
}

bool link_view_peer(struct link_view *v, const struct nl_link *l, char *ret_ns,
		    size_t ns_len, char *ret_name)
{
	const char *pns;

	if (strcmp(l->kind, "veth") || l->link <= 0)
		return false;
	if (v->peer_hint_ns && v->peer_hint_name) {
		snprintf(ret_ns, ns_len, "%s", v->peer_hint_ns);
		snprintf(ret_name, IFNAMSIZ, "%s", v->peer_hint_name);
		return true;
	}
	if (l->link_netnsid < 0) {
		if (!link_view_name_of(v, l->link, ret_name))
			return false;
		snprintf(ret_ns, ns_len, "%s", v->ns);
		return true;
	}
	pns = link_view_nsid_name(v, l->link_netnsid);
	if (!pns || link_view_name_in(v, pns, l->link, ret_name) < 0)
		return false;
	snprintf(ret_ns, ns_len, "%s", pns);
	return true;
}

const char *link_kind_name(const struct nl_link *l)
{
	if (l->kind[0])
		return l->kind;
	if (l->flags & IFF_LOOPBACK)
		return "loopback";
	return "device";
}

static const char *link_oper_state(uint8_t s)
{
	static const char *const names[] = { "unknown", "notpresent",
					     "down",	"lowerlayerdown",
					     "testing", "dormant",
					     "up" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/* A link's addresses as CIDR text, in the kernel's order. */
struct link_addrs {
	char (*text)[64];
	size_t n;
};

static void link_view_addrs(struct link_view *v, const struct nl_link *l,
			    struct link_addrs *ret)
{
	const struct nl_link *at = NULL;
	struct nl_addr *dumped = NULL;
	size_t n = 0, i, first = 0, count = 0;

	memset(ret, 0, sizeof(*ret));
	if (v->hint_no_addresses)
		return;
	if (v->links) {
		at = link_index_ifindex(&v->index, l->ifindex);
		if (!at)
			return;
		first = v->addr_first[at - v->links];
		count = v->addr_first[at - v->links + 1] - first;
	} else if (nl_addr_dump(v->sock, l->ifindex, &dumped, &n) == 0) {
		for (i = 0; i < n; i++)
			count += dumped[i].ifindex == l->ifindex;
	}
	if (!count)
		goto out;
	ret->text = calloc(count, sizeof(*ret->text));
	if (!ret->text)
		goto out;
	if (at) {
		for (i = 0; i < count; i++)
			value_format_cidr(
				&v->addrs[v->addr_order[first + i]].cidr,
				ret->text[i], sizeof(ret->text[i]));
		ret->n = count;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (dumped[i].ifindex == l->ifindex)
			value_format_cidr(&dumped[i].cidr, ret->text[ret->n++],
					  sizeof(ret->text[0]));
out:
	free(dumped);
}

static bool link_addrs_has(const struct link_addrs *a, const char *cidr)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->text[i], cidr))
			return true;
	return false;
}

/* Writes "in_sync" and "drift" for a link with desired state `w`, whose
 * desired addresses are cidrs[0 .. n_cidrs). */
static void link_write_sync(const struct nl_link *l,
			    const struct link_addrs *have,
			    const struct record_link *w,
			    const char *const *cidrs, size_t n_cidrs,
			    const char *master, const char *peer_ns,
			    const char *peer_name, struct jsonbuf *b)
{
	struct diff_link d;

	struct record_drift_item it = { .code = RECORD_DRIFT_ADDRESS };

	if (diff_link_want(w, l, master, peer_ns, peer_name, &d) < 0)
		return;
	for (size_t i = 0; i < n_cidrs; i++) {
		if (link_addrs_has(have, cidrs[i]))
			continue;
		it.want[0] = cidrs[i];
		diff_link_add(&d, &it);
	}
	jsonbuf_lit(b, ",\"in_sync\":");
	jsonbuf_bool(b, !json_array_size(d.drift));
	if (json_array_size(d.drift)) {
		jsonbuf_lit(b, ",\"drift\":");
		jsonbuf_json(b, d.drift);
	}
	diff_link_clear(&d);
}

/* The same for a view without a snapshot: the link's record and
 * addresses asked of the store. */
static void link_write_sync_stored(struct link_view *v, const struct nl_link *l,
				   const struct link_addrs *have,
				   const char *master, const char *peer_ns,
				   const char *peer_name, struct jsonbuf *b)
{
	const char **cidrs = NULL;
	char key[KEY_MAX];
	json_t *desired, *want = NULL, *x;
	struct record_link w;
	const char *k;
	size_t n = 0;

	key_link(key, v->ns, l->name);
	desired = store_get(v->store, key);
	if (!desired)
		return;
	key_addr_prefix(key, v->ns, l->name);
	want = store_list(v->store, key);
	cidrs = calloc(json_object_size(want) ?: 1, sizeof(*cidrs));
	if (cidrs)
		json_object_foreach(want, k, x)
			cidrs[n++] = k + strlen(key);
	record_link_read(desired, &w);
	link_write_sync(l, have, &w, cidrs, n, master, peer_ns, peer_name, b);
	free(cidrs);
	json_decref(want);
	json_decref(desired);
}

/* value_format_mac() without printf, which costs a list of a thousand
 * links more than all its other formatting: the same lowercase text. */
static void link_format_mac(const uint8_t mac[6], char buf[18])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		buf[i * 3] = hex[mac[i] >> 4];
		buf[i * 3 + 1] = hex[mac[i] & 15];
		buf[i * 3 + 2] = i < 5 ? ':' : '\0';
	}
}

/* The members of a set of options as members of the object in `b`. */
static void link_write_members(json_t *o, struct jsonbuf *b)
{
	const char *k;
	json_t *x;

	json_object_foreach(o, k, x) {
		jsonbuf_lit(b, ",");
		jsonbuf_str(b, k);
		jsonbuf_lit(b, ":");
		jsonbuf_json(b, x);
	}
}

/* A link of the kind table shows its options (openapi/openapi.yaml,
 * Link), as a body gives them. */
static void link_write_options(struct link_view *v, const struct nl_link *l,
			       struct jsonbuf *b)
{
	const struct link_kind *lk = link_kind_named(l->kind);
	struct record_link_opts o;
	char parent[IFNAMSIZ], pns[NAME_NS_MAX + 1];
	const char *pname = NULL;
	json_t *obj;

	if (!lk)
		return;
	if (l->opts.parent > 0)
		pname = link_view_name_of(v, l->opts.parent, parent);
	/* A parent in another namespace: its name there and the namespace's
	 * (parent_namespace). */
	else if ((lk->opts & LINK_OPT_PARENT_NS) &&
		 nl_nsid_far_parent(v->sock, l, pns, sizeof(pns), parent) == 0)
		pname = parent;
	link_kind_from_kernel(lk, l, pname,
			      pname && l->opts.parent <= 0 ? pns : NULL, &o);
	obj = link_kind_format(lk, &o);
	if (obj)
		link_write_members(obj, b);
	json_decref(obj);
}

/* The kernel's facts every link shows first, up to its master (NULL: none).
 * The members and their order are the contract's (openapi/openapi.yaml,
 * Link); a string jansson refuses (not UTF-8) fails the whole object. */
static void link_write_facts(const struct link_view *v, const struct nl_link *l,
			     const char *master, struct jsonbuf *b)
{
	char mac[18];

	jsonbuf_lit(b, "{\"name\":");
	jsonbuf_str(b, l->name);
	jsonbuf_lit(b, ",\"namespace\":");
	jsonbuf_str(b, v->ns);
	jsonbuf_lit(b, ",\"ifindex\":");
	jsonbuf_int(b, l->ifindex);
	jsonbuf_lit(b, ",\"kind\":");
	jsonbuf_str(b, link_kind_name(l));
	jsonbuf_lit(b, ",\"mtu\":");
	jsonbuf_int(b, (int)l->mtu);
	jsonbuf_lit(b, ",\"mac\":");
	if (l->has_mac)
		link_format_mac(l->mac, mac);
	jsonbuf_str(b, l->has_mac ? mac : NULL);
	jsonbuf_lit(b, ",\"up\":");
	jsonbuf_bool(b, l->flags & IFF_UP);
	jsonbuf_lit(b, ",\"oper_state\":");
	jsonbuf_str(b, link_oper_state(l->operstate));
	jsonbuf_lit(b, ",\"master\":");
	jsonbuf_str(b, master);
}

/* A veth's peer (NULL: null). A peer whose name jansson refuses is the one
 * string that does not fail the object: the member is left out. */
static void link_write_peer(const char *peer_ns, const char *peer_name,
			    struct jsonbuf *b)
{
	size_t mark = b->len;

	jsonbuf_lit(b, ",\"peer\":");
	if (peer_ns) {
		jsonbuf_lit(b, "{\"namespace\":");
		jsonbuf_str(b, peer_ns);
		jsonbuf_lit(b, ",\"name\":");
		jsonbuf_str(b, peer_name);
		jsonbuf_lit(b, "}");
	} else {
		jsonbuf_lit(b, "null");
	}
	if (b->err == -EILSEQ)
		jsonbuf_rewind(b, mark);
}

static void link_write_addrs(const struct link_addrs *have, struct jsonbuf *b)
{
	jsonbuf_lit(b, ",\"addresses\":[");
	for (size_t i = 0; i < have->n; i++) {
		if (i)
			jsonbuf_lit(b, ",");
		jsonbuf_str(b, have->text[i]);
	}
	jsonbuf_lit(b, "]");
}

/* Whether netnsd made it, and what its kind has to show: a bridge's
 * settings, the options of a kind of the kind table. */
static void link_write_kind(struct link_view *v, const struct nl_link *l,
			    struct jsonbuf *b)
{
	jsonbuf_lit(b, ",\"managed\":");
	jsonbuf_bool(b, nl_link_is_ours(l));
	if (!strcmp(l->kind, "bridge")) {
		jsonbuf_lit(b, ",\"stp\":");
		jsonbuf_bool(b, l->br_stp_state);
		jsonbuf_lit(b, ",\"vlan_filtering\":");
		jsonbuf_bool(b, l->br_vlan_filtering);
	}
	link_write_options(v, l, b);
}

/* "in_sync" and "drift" of a link with desired state. A link of the dump
 * reads its snapshot; any other (one read after the dump) asks the
 * store. */
static void link_write_state(struct link_view *v, const struct nl_link *l,
			     const struct link_addrs *have, const char *master,
			     const char *peer_ns, const char *peer_name,
			     struct jsonbuf *b)
{
	const struct nl_link *at =
		link_view_wants(v) ? link_index_name(&v->index, l->name) : NULL;
	const struct link_want *w = at ? v->want_of[at - v->links] : NULL;

	if (w)
		link_write_sync(l, have, &w->want,
				v->wants->cidrs + w->addr_first, w->addr_n,
				master, peer_ns, peer_name, b);
	else if (!at)
		link_write_sync_stored(v, l, have, master, peer_ns, peer_name,
				       b);
}

int link_write_json(struct link_view *v, const struct nl_link *l,
		    struct jsonbuf *b)
{
	char master[IFNAMSIZ], pns[NAME_NS_MAX + 1], pname[IFNAMSIZ];
	const char *master_name = link_view_name_of(v, l->master, master);
	bool has_peer = link_view_peer(v, l, pns, sizeof(pns), pname);
	struct link_addrs have;

	link_write_facts(v, l, master_name, b);
	if (b->err)
		return b->err;
	link_write_peer(has_peer ? pns : NULL, pname, b);
	link_view_addrs(v, l, &have);
	link_write_addrs(&have, b);
	link_write_kind(v, l, b);
	link_write_state(v, l, &have, master_name, has_peer ? pns : NULL,
			 has_peer ? pname : NULL, b);
	free(have.text);
	if (v->extra)
		v->extra(v, l, b);
	jsonbuf_lit(b, "}");
	return b->err;
}

void link_write_item(struct link_view *v, const struct nl_link *l, bool *first,
		     struct jsonbuf *b)
{
	size_t mark = b->len;

	if (!*first)
		jsonbuf_lit(b, ",");
	if (link_write_json(v, l, b) < 0)
		jsonbuf_rewind(b, mark);
	else
		*first = false;
}

/* A desired value as the API shows it: null where not desired. */
static json_t *link_missing_mtu(const struct record_link *d)
{
	return d->has & RECORD_HAS_MTU ? json_integer(d->mtu) : json_null();
}

static json_t *link_missing_peer(const struct record_link *d)
{
	if (!(d->has & RECORD_HAS_PEER))
		return json_null();
	return json_pack("{s:s, s:s}", "namespace", d->veth.peer_ns, "name",
			 d->veth.peer_name);
}

static json_t *link_missing_to_json(const char *ns, const char *name,
				    const struct record_link *d)
{
	const char *kind = record_kind_name(d->kind);
	json_t *o;

	o = json_pack(
		"{s:s, s:s, s:n, s:s, s:o, s:s?, s:b, s:s, s:s?, s:o, s:[], s:b, s:b, s:[s]}",
		"name", name, "namespace", ns, "ifindex", "kind",
		kind ? kind : "device", "mtu", link_missing_mtu(d), "mac",
		d->has & RECORD_HAS_MAC ? d->mac_text : NULL, "up",
		(d->has & RECORD_HAS_UP) && d->up, "oper_state", "notpresent",
		"master", d->has & RECORD_HAS_MASTER ? d->master : NULL, "peer",
		link_missing_peer(d), "addresses", "managed",
		(d->has & RECORD_HAS_OWNED) && d->owned, "in_sync", false,
		"drift", "missing");
	if (o && d->kind == RECORD_KIND_BRIDGE) {
		/* A bridge shows its settings, as desired. */
		json_object_set_new(o, "stp",
				    json_boolean((d->has & RECORD_HAS_STP) &&
						 d->bridge.stp));
		json_object_set_new(
			o, "vlan_filtering",
			json_boolean((d->has & RECORD_HAS_VLAN_FILTERING) &&
				     d->bridge.vlan_filtering));
	}
	if (o && (d->has & RECORD_HAS_OPTIONS) && link_kind_of(d->kind)) {
		/* So do the kind table's, as desired. */
		json_t *opts =
			link_kind_format(link_kind_of(d->kind), &d->opts);

		json_object_update(o, opts);
		json_decref(opts);
	}
	return o;
}

int link_missing_write(const struct link_view *v, const char *name,
		       const struct record_link *d, struct jsonbuf *b)
{
	json_t *o;
	size_t mark = b->len;
	int r;

	if (b->err)
		return b->err;
	o = link_missing_to_json(v->ns, name, d);
	jsonbuf_json(b, o);
	json_decref(o);
	if (v->extra && !b->err) {
		jsonbuf_rewind(b, b->len - 1); /* before its closing brace */
		v->extra(v, NULL, b);
		jsonbuf_lit(b, "}");
	}
	r = b->err;
	if (r == -EILSEQ || r == -EINVAL)
		jsonbuf_rewind(b, mark); /* nothing of it stays */
	return r;
}

void link_missing_write_json(const struct link_view *v, const char *kind,
			     const char *name, const struct record_link *d,
			     bool *first, struct jsonbuf *b)
{
	const char *dk = record_kind_name(d->kind);
	size_t mark = b->len;

	if (link_view_find(v, name) || !d->owned)
		return;
	if (kind && (!dk || strcmp(dk, kind)))
		return;
	if (!*first)
		jsonbuf_lit(b, ",");
	if (link_missing_write(v, name, d, b) < 0)
		jsonbuf_rewind(b, mark);
	else
		*first = false;
}
