/* Compares one desired link record with what the kernel has: the drift in
 * plain words, and the change that would converge it. The handlers show the
 * words; the reconciler applies the change. */
#ifndef NETNSD_DIFF_H
#define NETNSD_DIFF_H

#include <jansson.h>

#include "../netlink/bridge.h"
#include "../netlink/link.h"

struct diff_link {
	json_t *drift;		      /* array of strings, owned */
	struct nl_link_change change; /* mtu, mac, up */
	uint8_t mac[6];		      /* storage for change.mac */
	struct nl_bridge_spec bridge; /* -1 where nothing to change */
	bool master_differs;
	const char *want_master; /* desired master name, NULL for none */
};

/* A desired link record read into plain values, once: a list of many
 * links keeps these rather than walk each record's JSON again. Strings
 * point into the record, which must outlive this. */
struct diff_want {
	bool has_mtu;
	json_int_t mtu;
	bool has_mac; /* a valid "mac" */
	uint8_t mac[6];
	const char *mac_text;
	int up; /* -1 when not desired, else 0 or 1 */
	bool has_master;
	const char *master;	 /* NULL: desired to have none */
	int stp, vlan_filtering; /* -1 when not desired */
	bool has_peer;
	const char *peer_ns, *peer_name;
	bool owned;
	const char *kind; /* or NULL */
};

void diff_want_read(json_t *desired, struct diff_want *w);

/* `master_name` is the observed master's name, or NULL. Returns 0 or
 * -ENOMEM; free with diff_link_clear(). */
int diff_link_want(const struct diff_want *w, const struct nl_link *l,
		   const char *master_name, const char *peer_ns,
		   const char *peer_name, struct diff_link *ret);
/* The same, from the record itself. */
int diff_link(json_t *desired, const struct nl_link *l, const char *master_name,
	      const char *peer_ns, const char *peer_name,
	      struct diff_link *ret);
void diff_link_clear(struct diff_link *d);

/* Whether the change has anything to send. */
bool diff_link_has_change(const struct diff_link *d);

#endif
