/* vlan: an 802.1Q tagged link on a parent. The parent is IFLA_LINK; the
 * data is the VLAN id (the protocol is left at 802.1Q, the default). */
#include <linux/if_link.h>

#include "kind.h"

static int nl_vlan_fill(struct nlmsghdr *nlh, const void *kind_data)
{
	const struct nl_link_opts *o = kind_data;
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);

	mnl_attr_put_u16(nlh, IFLA_VLAN_ID, o->id);
	mnl_attr_nest_end(nlh, data);
	return 0;
}

static int nl_vlan_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_VLAN_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void nl_vlan_parse(const struct nlattr *info_data, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_VLAN_MAX + 1] = { NULL };

	if (mnl_attr_parse_nested(info_data, nl_vlan_attr_cb, tb) < 0)
		return;
	if (tb[IFLA_VLAN_ID] &&
	    mnl_attr_validate(tb[IFLA_VLAN_ID], MNL_TYPE_U16) >= 0)
		l->opts.id = mnl_attr_get_u16(tb[IFLA_VLAN_ID]);
}

const struct nl_kind nl_kind_vlan = {
	.name = "vlan",
	.fill = nl_vlan_fill,
	.parse = nl_vlan_parse,
	.parent_in_link = true,
};
