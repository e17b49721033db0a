/* One table of functions per link kind, so that a new kind (vlan, macvlan,
 * vxlan, dummy) is one new file, its table declared in its header, and
 * one line in nl_kinds[]. */
#ifndef NETNSD_NL_KIND_H
#define NETNSD_NL_KIND_H

#include <libmnl/libmnl.h>
#include <stdbool.h>

#include "link.h"

struct nl_kind {
	const char *name; /* IFLA_INFO_KIND */
	/* Puts IFLA_INFO_DATA (and whatever else the kind needs) inside
	 * IFLA_LINKINFO of a new link. May be NULL. */
	int (*fill)(struct nlmsghdr *nlh, const void *kind_data);
	/* Reads IFLA_INFO_DATA into the kind's fields of `l`. May be NULL. */
	void (*parse)(const struct nlattr *info_data, struct nl_link *l);
	/* The parent goes in IFLA_LINK (macvlan, vlan, ipvlan), rather than
	 * in the kind's own data (vxlan) or nowhere. */
	bool parent_in_link;
};

/* Kinds made through POST /v1/namespaces/{ns}/links; `fill` takes a
 * struct nl_link_opts, `parse` fills nl_link.opts. */
extern const struct nl_kind nl_kind_macvlan;
extern const struct nl_kind nl_kind_vxlan;
extern const struct nl_kind nl_kind_vlan;
extern const struct nl_kind nl_kind_ipvlan;
extern const struct nl_kind nl_kind_dummy;

const struct nl_kind *nl_kind_find(const char *name);

#endif
