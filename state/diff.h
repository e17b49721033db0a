/* Compares one desired link record with what the kernel has: the drift in
 * plain words, and the change that would converge it. The handlers show the
 * words; the reconciler applies the change. */
#ifndef NETNSD_DIFF_H
#define NETNSD_DIFF_H

#include <jansson.h>

#include "../netlink/bridge.h"
#include "../netlink/link.h"
#include "record.h"

struct diff_link {
	json_t *drift;		      /* array of strings, owned */
	struct nl_link_change change; /* mtu, mac, up */
	uint8_t mac[6];		      /* storage for change.mac */
	struct nl_bridge_spec bridge; /* -1 where nothing to change */
	bool master_differs;
	const char *want_master; /* desired master name, NULL for none */
	/* What differs, as codes: drift[i] says codes[i] in words, for the
	 * first RECORD_DRIFT_N items (the attributes; addresses follow). */
	enum record_drift codes[RECORD_DRIFT_N];
	size_t n_codes;
};

/* `master_name` is the observed master's name, or NULL. An owned record
 * over a link netnsd did not make also drifts (RECORD_DRIFT_IMPOSTOR).
 * Returns 0 or -ENOMEM; free with diff_link_clear(). */
int diff_link_want(const struct record_link *w, const struct nl_link *l,
		   const char *master_name, const char *peer_ns,
		   const char *peer_name, struct diff_link *ret);
void diff_link_clear(struct diff_link *d);
/* Appends one more drift item, in words and as a code. */
void diff_link_add(struct diff_link *d, const struct record_drift_item *it);

/* Whether the change has anything to send. */
bool diff_link_has_change(const struct diff_link *d);

#endif
