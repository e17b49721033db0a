#include "kind.h"

#include <string.h>

#include "bridge.h"
#include "veth.h"

static const struct nl_kind *const nl_kinds[] = {
	&nl_kind_veth, &nl_kind_bridge, &nl_kind_macvlan, &nl_kind_vxlan,
	&nl_kind_vlan, &nl_kind_ipvlan, &nl_kind_dummy,
};

const struct nl_kind *nl_kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(nl_kinds) / sizeof(nl_kinds[0]); i++)
		if (!strcmp(nl_kinds[i]->name, name))
			return nl_kinds[i];
	return NULL;
}
