#include "diff.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "../api/value.h"
#include "link_kind.h"

void diff_link_add(struct diff_link *d, const struct record_drift_item *it)
{
	char text[256];

	record_drift_words(it, text, sizeof(text));
	json_array_append_new(d->drift, json_string(text));
	if (d->n_codes < RECORD_DRIFT_N)
		d->codes[d->n_codes++] = it->code;
}

static const char *diff_bool(bool b)
{
	return b ? "true" : "false";
}

/* An attribute that is "true" or "false" on both sides. */
static void diff_add_bool(struct diff_link *d, enum record_drift code,
			  bool have, bool want)
{
	struct record_drift_item it = { .code = code };

	it.have[0] = diff_bool(have);
	it.want[0] = diff_bool(want);
	diff_link_add(d, &it);
}

/* The attributes every link has: mtu, mac, up. */
static void diff_link_attrs(const struct record_link *w,
			    const struct nl_link *l, struct diff_link *d)
{
	struct record_drift_item it = { .code = RECORD_DRIFT_MTU };
	char mac[18];

	if ((w->has & RECORD_HAS_MTU) && l->mtu != w->mtu) {
		it.have_n = l->mtu;
		it.want_n = w->mtu;
		diff_link_add(d, &it);
		d->change.mtu = w->mtu;
	}
	if ((w->has & RECORD_HAS_MAC) &&
	    (!l->has_mac || memcmp(w->mac, l->mac, 6))) {
		value_format_mac(l->mac, mac);
		it.code = RECORD_DRIFT_MAC;
		it.have[0] = l->has_mac ? mac : "none";
		it.want[0] = w->mac_text;
		diff_link_add(d, &it);
		memcpy(d->mac, w->mac, 6);
		d->change.mac = d->mac;
	}
	if ((w->has & RECORD_HAS_UP) && w->up != !!(l->flags & IFF_UP)) {
		diff_add_bool(d, RECORD_DRIFT_UP, l->flags & IFF_UP, w->up);
		d->change.up = w->up;
	}
}

static void diff_link_master(const struct record_link *w,
			     const char *master_name, struct diff_link *d)
{
	const char *want = w->master;
	struct record_drift_item it = { .code = RECORD_DRIFT_MASTER };

	if (!(w->has & RECORD_HAS_MASTER))
		return;
	if ((want == NULL) == (master_name == NULL) &&
	    (!want || !strcmp(want, master_name)))
		return;
	it.have[0] = master_name;
	it.want[0] = want;
	diff_link_add(d, &it);
	d->master_differs = true;
	d->want_master = want;
}

/* Options of the kind table that differ (the parent is a name, compared
 * by the plan). Nothing converges them: they are drift to be seen. */
static void diff_link_options(const struct record_link *w,
			      const struct nl_link *l, struct diff_link *d)
{
	const struct link_kind *lk = link_kind_of(w->kind);
	struct record_drift_item it = { .code = RECORD_DRIFT_OPTION };
	struct record_link_opts have;
	char hw[64], ww[64];
	const char *opt;

	if (!lk || !(w->has & RECORD_HAS_OPTIONS) || strcmp(l->kind, lk->name))
		return;
	/* Whether the parent is in the namespace desired, as far as the link
	 * says without a lookup: in its own, or in another (README.md, "More
	 * link kinds"); which one, and the parent's name, the plan checks. */
	if ((w->opts.has & LINK_OPT_PARENT) &&
	    !w->opts.parent_ns != (l->link_netnsid < 0)) {
		it.have[0] = l->link_netnsid < 0 ? "none" : "another namespace";
		it.have[1] = "parent_namespace";
		it.want[0] = w->opts.parent_ns;
		diff_link_add(d, &it);
	}
	link_kind_from_kernel(lk, l, w->opts.parent, w->opts.parent_ns, &have);
	if (!link_kind_differs(lk, &w->opts, &have, &opt, hw, ww, sizeof(hw)))
		return;
	it.have[0] = hw;
	it.have[1] = opt;
	it.want[0] = ww;
	diff_link_add(d, &it);
}

/* The parts of a kind: a bridge's options, a veth's peer. */
static void diff_link_kind(const struct record_link *w, const struct nl_link *l,
			   const char *peer_ns, const char *peer_name,
			   struct diff_link *d)
{
	const struct record_veth *v = &w->veth;
	struct record_drift_item it = { .code = RECORD_DRIFT_PEER };

	if ((w->has & RECORD_HAS_STP) && w->bridge.stp != !!l->br_stp_state) {
		diff_add_bool(d, RECORD_DRIFT_STP, l->br_stp_state,
			      w->bridge.stp);
		d->bridge.stp = w->bridge.stp;
	}
	if ((w->has & RECORD_HAS_VLAN_FILTERING) &&
	    w->bridge.vlan_filtering != !!l->br_vlan_filtering) {
		diff_add_bool(d, RECORD_DRIFT_VLAN_FILTERING,
			      l->br_vlan_filtering, w->bridge.vlan_filtering);
		d->bridge.vlan_filtering = w->bridge.vlan_filtering;
	}
	if (!(w->has & RECORD_HAS_PEER))
		return;
	if (peer_ns && peer_name && !strcmp(v->peer_ns, peer_ns) &&
	    !strcmp(v->peer_name, peer_name))
		return;
	it.have[0] = peer_ns;
	it.have[1] = peer_name;
	it.want[0] = v->peer_ns;
	it.want[1] = v->peer_name;
	diff_link_add(d, &it);
}

int diff_link_want(const struct record_link *w, const struct nl_link *l,
		   const char *master_name, const char *peer_ns,
		   const char *peer_name, struct diff_link *ret)
{
	struct diff_link d;

	memset(&d, 0, sizeof(d));
	d.change = (struct nl_link_change)NL_LINK_CHANGE_INIT;
	d.change.ifindex = l->ifindex;
	d.bridge.stp = -1;
	d.bridge.vlan_filtering = -1;
	d.drift = json_array();
	if (!d.drift)
		return -ENOMEM;
	diff_link_attrs(w, l, &d);
	diff_link_master(w, master_name, &d);
	diff_link_kind(w, l, peer_ns, peer_name, &d);
	diff_link_options(w, l, &d);
	/* Owned, but the link under its name is not netnsd's. */
	if (w->owned && !nl_link_is_ours(l)) {
		struct record_drift_item it = { .code = RECORD_DRIFT_IMPOSTOR };

		diff_link_add(&d, &it);
	}
	*ret = d;
	/* The copy's own storage, not the local's. */
	if (ret->change.mac)
		ret->change.mac = ret->mac;
	return 0;
}

void diff_link_clear(struct diff_link *d)
{
	json_decref(d->drift);
	d->drift = NULL;
}

bool diff_link_has_change(const struct diff_link *d)
{
	return d->change.mtu || d->change.mac || d->change.up >= 0;
}
