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
	json_decref(v->desired);
	json_decref(v->desired_addrs);
	v->desired = NULL;
	v->desired_addrs = NULL;
	free(v->want_first);
	free(v->want_cidr);
	v->want_first = NULL;
	v->want_cidr = NULL;
	v->desired_loaded = false;
	for (int i = 0; i < v->n_peers; i++)
		nl_ns_put(v->peers[i].ns, v->peers[i].sock);
	v->n_peers = 0;
}

/* Reads the namespace's desired links and addresses once per whole view,
 * with one store_list each rather than one per link. */
static void link_view_load_desired(struct link_view *v)
{
	char prefix[KEY_MAX], name[IFNAMSIZ];
	const char **cidr = NULL, **order_cidr = NULL, *k, *rest, *slash;
	const struct nl_link *l;
	size_t n, i = 0, plen, *order = NULL;
	long *pos = NULL;
	json_t *x;

	if (v->desired_loaded || !v->links)
		return;
	v->desired_loaded = true;
	key_link_prefix(prefix, v->ns);
	v->desired = store_list(v->store, prefix);
	key_addr_prefix(prefix, v->ns, NULL);
	v->desired_addrs = store_list(v->store, prefix);
	if (!v->desired || !v->desired_addrs)
		goto fail;
	n = json_object_size(v->desired_addrs);
	plen = strlen(prefix);
	pos = calloc(n ? n : 1, sizeof(*pos));
	cidr = calloc(n ? n : 1, sizeof(*cidr));
	order_cidr = calloc(n ? n : 1, sizeof(*order_cidr));
	if (!pos || !cidr || !order_cidr)
		goto fail;
	/* "addr/<ns>/<link>/<ip>/<prefixlen>": the link ends at the first
	 * '/' after the prefix, since names have none. */
	json_object_foreach(v->desired_addrs, k, x)
	{
		rest = k + plen;
		slash = strchr(rest, '/');
		pos[i] = -1;
		if (slash && (size_t)(slash - rest) < sizeof(name)) {
			memcpy(name, rest, (size_t)(slash - rest));
			name[slash - rest] = '\0';
			l = link_index_name(&v->index, name);
			if (l) {
				pos[i] = l - v->links;
				cidr[i] = slash + 1;
			}
		}
		i++;
	}
	if (link_view_group(v->n_links, pos, n, &v->want_first, &order) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		order_cidr[i] = cidr[order[i]];
	v->want_cidr = order_cidr;
	free(order);
	free(pos);
	free(cidr);
	return;
fail:
	free(order_cidr);
	free(v->want_first);
	v->want_first = NULL;
	/* Each link then asks the store itself, as single views do. */
	free(pos);
	free(cidr);
	json_decref(v->desired);
	json_decref(v->desired_addrs);
	v->desired = NULL;
	v->desired_addrs = NULL;
}

json_t *link_view_desired(struct link_view *v, const char *name)
{
	char key[KEY_MAX];

	link_view_load_desired(v);
	if (!v->desired || !name)
		return v->desired;
	key_link(key, v->ns, name);
	return json_object_get(v->desired, key);
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

/* The name of link `ifindex` of namespace `ns`, asked of a socket there
 * that the view keeps until it is cleared. */
static int link_view_name_in(struct link_view *v, const char *ns, int ifindex,
			     char *buf)
{
	struct nl_sock *s = NULL;
	int i, r;

	for (i = 0; i < v->n_peers; i++)
		if (!strcmp(v->peers[i].ns, ns))
			return nl_ifname_of(v->peers[i].sock, ifindex, buf);
	r = nl_ns_get(ns, &s);
	if (r < 0)
		return r;
	r = nl_ifname_of(s, ifindex, buf);
	if (v->n_peers < 4 && strlen(ns) < sizeof(v->peers[0].ns)) {
		strcpy(v->peers[v->n_peers].ns, ns);
		v->peers[v->n_peers++].sock = s;
	} else {
		nl_ns_put(ns, s);
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
	/* One ioctl per peer: no dump of the peer's whole namespace. */
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

/* Appends "address ... is missing" for each desired address of the link
 * that `have` lacks, in the store's order. */
static void link_missing_addrs(struct link_view *v, const struct nl_link *l,
			       const struct link_addrs *have, json_t *drift)
{
	const struct nl_link *at;
	char key[KEY_MAX];
	json_t *want, *x;
	const char *k;

	link_view_load_desired(v);
	at = v->want_cidr ? link_index_name(&v->index, l->name) : NULL;
	if (at) {
		size_t p = (size_t)(at - v->links);

		for (size_t i = v->want_first[p]; i < v->want_first[p + 1]; i++)
			if (!link_addrs_has(have, v->want_cidr[i]))
				json_array_append_new(
					drift,
					json_sprintf("address %s is missing",
						     v->want_cidr[i]));
		return;
	}
	key_addr_prefix(key, v->ns, l->name);
	want = store_list(v->store, key);
	json_object_foreach(want, k, x)
	{
		const char *cidr = k + strlen(key);

		if (!link_addrs_has(have, cidr))
			json_array_append_new(
				drift,
				json_sprintf("address %s is missing", cidr));
	}
	json_decref(want);
}

/* Writes "in_sync" and "drift" for a link with desired state, addresses
 * included. */
static void link_write_sync(struct link_view *v, const struct nl_link *l,
			    const struct link_addrs *have, json_t *desired,
			    const char *master, const char *peer_ns,
			    const char *peer_name, struct jsonbuf *b)
{
	struct diff_link d;

	if (diff_link(desired, l, master, peer_ns, peer_name, &d) < 0)
		return;
	if (json_is_true(json_object_get(desired, "owned")) &&
	    !nl_link_is_ours(l))
		json_array_append_new(
			d.drift,
			json_string(
				"a link netnsd did not create has taken its name"));
	link_missing_addrs(v, l, have, d.drift);
	jsonbuf_lit(b, ",\"in_sync\":");
	jsonbuf_bool(b, !json_array_size(d.drift));
	if (json_array_size(d.drift)) {
		jsonbuf_lit(b, ",\"drift\":");
		jsonbuf_json(b, d.drift);
	}
	diff_link_clear(&d);
}

int link_write_json(struct link_view *v, const struct nl_link *l,
		    struct jsonbuf *b)
{
	char master[IFNAMSIZ], peer_ns[NAME_NS_MAX + 1], peer_name[IFNAMSIZ];
	char mac[18], key[KEY_MAX];
	const char *master_name = link_view_name_of(v, l->master, master);
	bool has_peer =
		link_view_peer(v, l, peer_ns, sizeof(peer_ns), peer_name);
	struct link_addrs have;
	json_t *desired;
	size_t mark;

	/* The members and their order are those link_to_json always had;
	 * a string jansson refuses (not UTF-8) fails the whole object, but
	 * for the peer, which is then left out. */
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
		value_format_mac(l->mac, mac);
	jsonbuf_str(b, l->has_mac ? mac : NULL);
	jsonbuf_lit(b, ",\"up\":");
	jsonbuf_bool(b, l->flags & IFF_UP);
	jsonbuf_lit(b, ",\"oper_state\":");
	jsonbuf_str(b, link_oper_state(l->operstate));
	jsonbuf_lit(b, ",\"master\":");
	jsonbuf_str(b, master_name);
	if (b->err)
		return b->err;
	mark = b->len;
	jsonbuf_lit(b, ",\"peer\":");
	if (has_peer) {
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
	link_view_addrs(v, l, &have);
	jsonbuf_lit(b, ",\"addresses\":[");
	for (size_t i = 0; i < have.n; i++) {
		if (i)
			jsonbuf_lit(b, ",");
		jsonbuf_str(b, have.text[i]);
	}
	jsonbuf_lit(b, "],\"managed\":");
	jsonbuf_bool(b, nl_link_is_ours(l));
	if (!strcmp(l->kind, "bridge")) {
		jsonbuf_lit(b, ",\"stp\":");
		jsonbuf_bool(b, l->br_stp_state);
		jsonbuf_lit(b, ",\"vlan_filtering\":");
		jsonbuf_bool(b, l->br_vlan_filtering);
	}
	desired = json_incref(v->links ? link_view_desired(v, l->name) : NULL);
	if (!desired && !v->desired) {
		key_link(key, v->ns, l->name);
		desired = store_get(v->store, key);
	}
	if (desired)
		link_write_sync(v, l, &have, desired, master_name,
				has_peer ? peer_ns : NULL,
				has_peer ? peer_name : NULL, b);
	json_decref(desired);
	free(have.text);
	jsonbuf_lit(b, "}");
	return b->err;
}

json_t *link_to_json(struct link_view *v, const struct nl_link *l)
{
	struct jsonbuf b = JSONBUF_INIT;
	json_t *o = NULL;

	/* One writer for both forms, so that a link looks the same in a
	 * list and on its own. */
	if (link_write_json(v, l, &b) == 0)
		o = json_loadb(b.data, b.len, 0, NULL);
	jsonbuf_free(&b);
	return o;
}

json_t *link_missing_to_json(const char *ns, const char *name, json_t *desired)
{
	const char *kind = json_string_value(json_object_get(desired, "kind"));
	json_t *o;

	o = json_pack(
		"{s:s, s:s, s:n, s:s, s:O?, s:O?, s:b, s:s, s:O?, s:O?, s:[], s:b, s:b, s:[s]}",
		"name", name, "namespace", ns, "ifindex", "kind",
		kind ? kind : "device", "mtu", json_object_get(desired, "mtu"),
		"mac", json_object_get(desired, "mac"), "up",
		json_is_true(json_object_get(desired, "up")), "oper_state",
		"notpresent", "master", json_object_get(desired, "master"),
		"peer", json_object_get(desired, "peer"), "addresses",
		"managed", json_is_true(json_object_get(desired, "owned")),
		"in_sync", false, "drift", "missing");
	if (o && kind && !strcmp(kind, "bridge")) {
		/* A bridge shows its settings, as desired. */
		json_object_set_new(o, "stp",
				    json_boolean(json_is_true(
					    json_object_get(desired, "stp"))));
		json_object_set_new(o, "vlan_filtering",
				    json_boolean(json_is_true(json_object_get(
					    desired, "vlan_filtering"))));
	}
	return o;
}
