/* ipvlan: `parent` and `mode` l2 or l3 (openapi/openapi.yaml,
 * "LinkCreate"). */
#include <linux/if_link.h>

#include "link_kind.h"

static const struct link_mode kind_ipvlan_modes[] = {
	{ "l2", IPVLAN_MODE_L2 },
	{ "l3", IPVLAN_MODE_L3 },
	{ NULL, 0 },
};

const struct link_kind link_kind_ipvlan = {
	.name = "ipvlan",
	.kind = RECORD_KIND_IPVLAN,
	.opts = LINK_OPT_PARENT | LINK_OPT_PARENT_NS | LINK_OPT_MODE,
	.required = LINK_OPT_PARENT,
	.modes = kind_ipvlan_modes,
};
