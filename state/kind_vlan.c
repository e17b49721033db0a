/* vlan: `parent` and the 802.1Q `id` (openapi/openapi.yaml,
 * "LinkCreate"). */
#include "link_kind.h"

const struct link_kind link_kind_vlan = {
	.name = "vlan",
	.kind = RECORD_KIND_VLAN,
	.opts = LINK_OPT_PARENT | LINK_OPT_PARENT_NS | LINK_OPT_ID,
	.required = LINK_OPT_PARENT | LINK_OPT_ID,
};
