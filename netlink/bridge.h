#ifndef NETNSD_NL_BRIDGE_H
#define NETNSD_NL_BRIDGE_H

#include "link.h"

struct nl_kind;

/* The bridge kind, for nl_kind_find() (kind.h). */
extern const struct nl_kind nl_kind_bridge;

/* Bridge settings; -1 leaves one as the kernel has it. */
struct nl_bridge_spec {
	int stp;
	int vlan_filtering;
};

/* Creates a bridge and marks it as netnsd's; on failure nothing is left. */
int nl_bridge_add(struct nl_sock *s, const struct nl_link_spec *spec,
		  const struct nl_bridge_spec *b);

/* Changes the settings of an existing bridge. */
int nl_bridge_set(struct nl_sock *s, int ifindex,
		  const struct nl_bridge_spec *b);

#endif
