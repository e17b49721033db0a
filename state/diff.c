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

int diff_link(json_t *desired, const struct nl_link *l, const char *master_name,
	      const char *peer_ns, const char *peer_name, struct diff_link *ret)
{
	struct diff_link d;
	json_t *v, *peer;
	char mac[18];

	memset(&d, 0, sizeof(d));
	d.change = (struct nl_link_change)NL_LINK_CHANGE_INIT;
	d.change.ifindex = l->ifindex;
	d.bridge.stp = -1;
	d.bridge.vlan_filtering = -1;
	d.drift = json_array();
	if (!d.drift)
		return -ENOMEM;

	v = json_object_get(desired, "mtu");
	if (json_is_integer(v) && (json_int_t)l->mtu != json_integer_value(v)) {
		diff_say(d.drift, "mtu is %u, desired %lld", l->mtu,
			 (long long)json_integer_value(v));
		d.change.mtu = (unsigned)json_integer_value(v);
	}
	v = json_object_get(desired, "mac");
	if (json_is_string(v) &&
	    !value_parse_mac(json_string_value(v), d.mac) &&
	    (!l->has_mac || memcmp(d.mac, l->mac, 6))) {
		value_format_mac(l->mac, mac);
		diff_say(d.drift, "mac is %s, desired %s",
			 l->has_mac ? mac : "none", json_string_value(v));
		d.change.mac = d.mac;
	}
	v = json_object_get(desired, "up");
	if (json_is_boolean(v) && json_is_true(v) != !!(l->flags & IFF_UP)) {
		diff_say(d.drift, "up is %s, desired %s",
			 l->flags & IFF_UP ? "true" : "false",
			 json_is_true(v) ? "true" : "false");
		d.change.up = json_is_true(v);
	}
	v = json_object_get(desired, "master");
	if (v) {
		const char *want = json_string_value(v); /* NULL for null */

		if ((want == NULL) != (master_name == NULL) ||
		    (want && strcmp(want, master_name))) {
			diff_say(d.drift, "master is %s, desired %s",
				 master_name ? master_name : "none",
				 want ? want : "none");
			d.master_differs = true;
			d.want_master = want;
		}
	}
	v = json_object_get(desired, "stp");
	if (json_is_boolean(v) && json_is_true(v) != !!l->br_stp_state) {
		diff_say(d.drift, "stp is %s, desired %s",
			 l->br_stp_state ? "true" : "false",
			 json_is_true(v) ? "true" : "false");
		d.bridge.stp = json_is_true(v);
	}
	v = json_object_get(desired, "vlan_filtering");
	if (json_is_boolean(v) && json_is_true(v) != !!l->br_vlan_filtering) {
		diff_say(d.drift, "vlan_filtering is %s, desired %s",
			 l->br_vlan_filtering ? "true" : "false",
			 json_is_true(v) ? "true" : "false");
		d.bridge.vlan_filtering = json_is_true(v);
	}
	peer = json_object_get(desired, "peer");
	if (peer) {
		const char *wns =
			json_string_value(json_object_get(peer, "namespace"));
		const char *wname =
			json_string_value(json_object_get(peer, "name"));

		if (!peer_ns || !peer_name || strcmp(wns, peer_ns) ||
		    strcmp(wname, peer_name))
			diff_say(d.drift, "peer is %s/%s, desired %s/%s",
				 peer_ns ? peer_ns : "unknown",
				 peer_name ? peer_name : "unknown", wns, wname);
	}
	*ret = d;
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
