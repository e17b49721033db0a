/* macvlan: `parent` (a link in the same namespace) and `mode`
 * (openapi/openapi.yaml, "LinkCreate"). */
#include <linux/if_link.h>

#include "link_kind.h"

static const struct link_mode kind_macvlan_modes[] = {
	{ "bridge", MACVLAN_MODE_BRIDGE },
	{ "private", MACVLAN_MODE_PRIVATE },
	{ "vepa", MACVLAN_MODE_VEPA },
	{ "passthru", MACVLAN_MODE_PASSTHRU },
	{ NULL, 0 },
};

const struct link_kind link_kind_macvlan = {
	.name = "macvlan",
	.kind = RECORD_KIND_MACVLAN,
	.opts = LINK_OPT_PARENT | LINK_OPT_PARENT_NS | LINK_OPT_MODE,
	.required = LINK_OPT_PARENT,
	.modes = kind_macvlan_modes,
};
