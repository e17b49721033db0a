#include "diff.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "../api/value.h"

static void diff_say(json_t *drift, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void diff_say(json_t *drift, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(drift, json_string(text));
}

void diff_want_read(json_t *desired, struct diff_want *w)
{
	const char *k;
	json_t *v, *peer = NULL;

	memset(w, 0, sizeof(*w));
	w->up = w->stp = w->vlan_filtering = -1;
	/* One pass over the record rather than a lookup per member. */
	json_object_foreach(desired, k, v)
	{
		if (!strcmp(k, "mtu")) {
			w->has_mtu = json_is_integer(v);
			w->mtu = json_integer_value(v);
		} else if (!strcmp(k, "mac")) {
			w->mac_text = json_string_value(v);
			w->has_mac = w->mac_text &&
				     !value_parse_mac(w->mac_text, w->mac);
		} else if (!strcmp(k, "up")) {
			w->up = json_is_boolean(v) ? json_is_true(v) : -1;
		} else if (!strcmp(k, "master")) {
			w->has_master = true;
			w->master = json_string_value(v); /* NULL for null */
		} else if (!strcmp(k, "stp")) {
			w->stp = json_is_boolean(v) ? json_is_true(v) : -1;
		} else if (!strcmp(k, "vlan_filtering")) {
			w->vlan_filtering =
				json_is_boolean(v) ? json_is_true(v) : -1;
		} else if (!strcmp(k, "peer")) {
			peer = v;
		} else if (!strcmp(k, "owned")) {
			w->owned = json_is_true(v);
		} else if (!strcmp(k, "kind")) {
			w->kind = json_string_value(v);
		}
	}
	if (!peer)
		return;
	w->has_peer = true;
	json_object_foreach(peer, k, v)
	{
		if (!strcmp(k, "namespace"))
			w->peer_ns = json_string_value(v);
		else if (!strcmp(k, "name"))
			w->peer_name = json_string_value(v);
	}
}

int diff_link_want(const struct diff_want *w, const struct nl_link *l,
		   const char *master_name, const char *peer_ns,
		   const char *peer_name, struct diff_link *ret)
{
	struct diff_link d;
	char mac[18];

	memset(&d, 0, sizeof(d));
	d.change = (struct nl_link_change)NL_LINK_CHANGE_INIT;
	d.change.ifindex = l->ifindex;
	d.bridge.stp = -1;
	d.bridge.vlan_filtering = -1;
	d.drift = json_array();
	if (!d.drift)
		return -ENOMEM;

	if (w->has_mtu && (json_int_t)l->mtu != w->mtu) {
		diff_say(d.drift, "mtu is %u, desired %lld", l->mtu,
			 (long long)w->mtu);
		d.change.mtu = (unsigned)w->mtu;
	}
	if (w->has_mac && (!l->has_mac || memcmp(w->mac, l->mac, 6))) {
		value_format_mac(l->mac, mac);
		diff_say(d.drift, "mac is %s, desired %s",
			 l->has_mac ? mac : "none", w->mac_text);
		memcpy(d.mac, w->mac, 6);
		d.change.mac = d.mac;
	}
	if (w->up >= 0 && w->up != !!(l->flags & IFF_UP)) {
		diff_say(d.drift, "up is %s, desired %s",
			 l->flags & IFF_UP ? "true" : "false",
			 w->up ? "true" : "false");
		d.change.up = w->up;
	}
	if (w->has_master) {
		const char *want = w->master;

		if ((want == NULL) != (master_name == NULL) ||
		    (want && strcmp(want, master_name))) {
			diff_say(d.drift, "master is %s, desired %s",
				 master_name ? master_name : "none",
				 want ? want : "none");
			d.master_differs = true;
			d.want_master = want;
		}
	}
	if (w->stp >= 0 && w->stp != !!l->br_stp_state) {
		diff_say(d.drift, "stp is %s, desired %s",
			 l->br_stp_state ? "true" : "false",
			 w->stp ? "true" : "false");
		d.bridge.stp = w->stp;
	}
	if (w->vlan_filtering >= 0 &&
	    w->vlan_filtering != !!l->br_vlan_filtering) {
		diff_say(d.drift, "vlan_filtering is %s, desired %s",
			 l->br_vlan_filtering ? "true" : "false",
			 w->vlan_filtering ? "true" : "false");
		d.bridge.vlan_filtering = w->vlan_filtering;
	}
	if (w->has_peer) {
		const char *wns = w->peer_ns, *wname = w->peer_name;

		if (!peer_ns || !peer_name || !wns || !wname ||
		    strcmp(wns, peer_ns) || strcmp(wname, peer_name))
			diff_say(d.drift, "peer is %s/%s, desired %s/%s",
				 peer_ns ? peer_ns : "unknown",
				 peer_name ? peer_name : "unknown",
				 wns ? wns : "(null)",
				 wname ? wname : "(null)");
	}
	*ret = d;
	return 0;
}

int diff_link(json_t *desired, const struct nl_link *l, const char *master_name,
	      const char *peer_ns, const char *peer_name, struct diff_link *ret)
{
	struct diff_want w;

	diff_want_read(desired, &w);
	return diff_link_want(&w, l, master_name, peer_ns, peer_name, ret);
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
