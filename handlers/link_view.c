#include "link_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>

#include "../api/name.h"
#include "../api/value.h"
#include "../netlink/ns.h"
#include "../netlink/nsid.h"
#include "../state/diff.h"
#include "../state/key.h"
#include "../state/store.h"

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
	if (r < 0)
		return r;
	r = nl_addr_dump(sock, 0, &v->addrs, &v->n_addrs);
	if (r < 0) {
		link_view_clear(v);
		return r;
	}
	return 0;
}

void link_view_clear(struct link_view *v)
{
	free(v->links);
	free(v->addrs);
	v->links = NULL;
	v->addrs = NULL;
	for (int i = 0; i < v->n_peers; i++)
		free(v->peers[i].links);
	v->n_peers = 0;
}

const struct nl_link *link_view_find(const struct link_view *v,
				     const char *name)
{
	for (size_t i = 0; i < v->n_links; i++)
		if (!strcmp(v->links[i].name, name))
			return &v->links[i];
	return NULL;
}

const char *link_view_name_of(struct link_view *v, int ifindex, char *buf)
{
	struct nl_link l;

	if (ifindex <= 0)
		return NULL;
	if (v->links) {
		for (size_t i = 0; i < v->n_links; i++)
			if (v->links[i].ifindex == ifindex)
				return strcpy(buf, v->links[i].name);
		return NULL;
	}
	if (nl_link_get_index(v->sock, ifindex, &l) < 0)
		return NULL;
	return strcpy(buf, l.name);
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

bool link_view_peer(struct link_view *v, const struct nl_link *l, char *ret_ns,
		    size_t ns_len, char *ret_name)
{
	struct nl_sock *ps = NULL;
	struct nl_link peer;
	const char *pns;
	int r;

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
	if (!pns)
		return false;
	if (v->links) {
		/* A whole view dumps each peer namespace once. */
		const struct nl_link *found = NULL;
		int i;

		for (i = 0; i < v->n_peers; i++)
			if (!strcmp(v->peers[i].ns, pns))
				break;
		if (i == v->n_peers && i < 4 && nl_ns_get(pns, &ps) == 0) {
			if (nl_link_dump(ps, &v->peers[i].links,
					 &v->peers[i].n) == 0) {
				snprintf(v->peers[i].ns, sizeof(v->peers[i].ns),
					 "%s", pns);
				v->n_peers++;
			}
			nl_ns_put(pns, ps);
			ps = NULL;
		}
		if (i < v->n_peers) {
			for (size_t k = 0; k < v->peers[i].n; k++)
				if (v->peers[i].links[k].ifindex == l->link)
					found = &v->peers[i].links[k];
			if (!found)
				return false;
			snprintf(ret_ns, ns_len, "%s", pns);
			strcpy(ret_name, found->name);
			return true;
		}
	}
	if (nl_ns_get(pns, &ps) < 0)
		return false;
	r = nl_link_get_index(ps, l->link, &peer);
	nl_ns_put(pns, ps);
	if (r < 0)
		return false;
	snprintf(ret_ns, ns_len, "%s", pns);
	strcpy(ret_name, peer.name);
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

static json_t *link_addresses(struct link_view *v, const struct nl_link *l)
{
	struct nl_addr *addrs = v->addrs;
	size_t n = v->n_addrs;
	json_t *out = json_array();
	char text[64];

	if (!addrs && nl_addr_dump(v->sock, l->ifindex, &addrs, &n) < 0) {
		addrs = NULL;
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (addrs[i].ifindex != l->ifindex)
			continue;
		value_format_cidr(&addrs[i].cidr, text, sizeof(text));
		json_array_append_new(out, json_string(text));
	}
	if (addrs != v->addrs)
		free(addrs);
	return out;
}

/* Adds "in_sync" and "drift" for a link with desired state, addresses
 * included. */
static void link_add_sync(struct link_view *v, const struct nl_link *l,
			  json_t *o, json_t *desired, const char *master,
			  const char *peer_ns, const char *peer_name)
{
	struct diff_link d;
	char key[KEY_MAX];
	json_t *want, *have = json_object_get(o, "addresses"), *x;
	const char *k;
	size_t i;

	if (diff_link(desired, l, master, peer_ns, peer_name, &d) < 0)
		return;
	if (json_is_true(json_object_get(desired, "owned")) &&
	    !nl_link_is_ours(l))
		json_array_append_new(
			d.drift,
			json_string(
				"a link netnsd did not create has taken its name"));
	key_addr_prefix(key, v->ns, l->name);
	want = store_list(v->store, key);
	json_object_foreach(want, k, x)
	{
		const char *cidr = k + strlen(key);
		bool found = false;

		json_array_foreach(have, i, x) if (!strcmp(json_string_value(x),
							   cidr)) found = true;
		if (!found)
			json_array_append_new(
				d.drift,
				json_sprintf("address %s is missing", cidr));
	}
	json_decref(want);
	json_object_set_new(o, "in_sync",
			    json_boolean(!json_array_size(d.drift)));
	if (json_array_size(d.drift))
		json_object_set(o, "drift", d.drift);
	diff_link_clear(&d);
}

json_t *link_to_json(struct link_view *v, const struct nl_link *l)
{
	char master[IFNAMSIZ], peer_ns[NAME_NS_MAX + 1], peer_name[IFNAMSIZ];
	char mac[18], key[KEY_MAX];
	const char *master_name = link_view_name_of(v, l->master, master);
	bool has_peer =
		link_view_peer(v, l, peer_ns, sizeof(peer_ns), peer_name);
	json_t *o, *desired;

	if (l->has_mac)
		value_format_mac(l->mac, mac);
	o = json_pack("{s:s, s:s, s:i, s:s, s:i, s:s?, s:b, s:s, s:s?}", "name",
		      l->name, "namespace", v->ns, "ifindex", l->ifindex,
		      "kind", link_kind_name(l), "mtu", (int)l->mtu, "mac",
		      l->has_mac ? mac : NULL, "up", !!(l->flags & IFF_UP),
		      "oper_state", link_oper_state(l->operstate), "master",
		      master_name);
	if (!o)
		return NULL;
	if (!l->has_mac)
		json_object_set_new(o, "mac", json_null());
	if (!master_name)
		json_object_set_new(o, "master", json_null());
	json_object_set_new(o, "peer",
			    has_peer ? json_pack("{s:s, s:s}", "namespace",
						 peer_ns, "name", peer_name)
				     : json_null());
	json_object_set_new(o, "addresses", link_addresses(v, l));
	json_object_set_new(o, "managed", json_boolean(nl_link_is_ours(l)));
	if (!strcmp(l->kind, "bridge")) {
		json_object_set_new(o, "stp", json_boolean(l->br_stp_state));
		json_object_set_new(o, "vlan_filtering",
				    json_boolean(l->br_vlan_filtering));
	}
	key_link(key, v->ns, l->name);
	desired = store_get(v->store, key);
	if (desired)
		link_add_sync(v, l, o, desired, master_name,
			      has_peer ? peer_ns : NULL,
			      has_peer ? peer_name : NULL);
	json_decref(desired);
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
