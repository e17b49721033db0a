/* ipvlan: links sharing their parent's MAC, told apart by address. The
 * parent is IFLA_LINK; the data is the mode (a u16). */
#include <linux/if_link.h>

#include "kind.h"

static int nl_ipvlan_fill(struct nlmsghdr *nlh, const void *kind_data)
{
	const struct nl_link_opts *o = kind_data;
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);

	mnl_attr_put_u16(nlh, IFLA_IPVLAN_MODE, (uint16_t)o->mode);
	mnl_attr_nest_end(nlh, data);
	return 0;
}

static int nl_ipvlan_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_IPVLAN_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void nl_ipvlan_parse(const struct nlattr *info_data, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_IPVLAN_MAX + 1] = { NULL };

	if (mnl_attr_parse_nested(info_data, nl_ipvlan_attr_cb, tb) < 0)
		return;
	if (tb[IFLA_IPVLAN_MODE] &&
	    mnl_attr_validate(tb[IFLA_IPVLAN_MODE], MNL_TYPE_U16) >= 0)
		l->opts.mode = mnl_attr_get_u16(tb[IFLA_IPVLAN_MODE]);
}

const struct nl_kind nl_kind_ipvlan = {
	.name = "ipvlan",
	.fill = nl_ipvlan_fill,
	.parse = nl_ipvlan_parse,
	.parent_in_link = true,
};
