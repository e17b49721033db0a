/* macvlan: a link with a MAC of its own on a parent's wire. The parent is
 * IFLA_LINK; the data is the mode. */
#include <linux/if_link.h>

#include "kind.h"

static int nl_macvlan_fill(struct nlmsghdr *nlh, const void *kind_data)
{
	const struct nl_link_opts *o = kind_data;
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);

	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, o->mode);
	mnl_attr_nest_end(nlh, data);
	return 0;
}

static int nl_macvlan_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_MACVLAN_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void nl_macvlan_parse(const struct nlattr *info_data, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_MACVLAN_MAX + 1] = { NULL };

	if (mnl_attr_parse_nested(info_data, nl_macvlan_attr_cb, tb) < 0)
		return;
	if (tb[IFLA_MACVLAN_MODE] &&
	    mnl_attr_validate(tb[IFLA_MACVLAN_MODE], MNL_TYPE_U32) >= 0)
		l->opts.mode = mnl_attr_get_u32(tb[IFLA_MACVLAN_MODE]);
}

const struct nl_kind nl_kind_macvlan = {
	.name = "macvlan",
	.fill = nl_macvlan_fill,
	.parse = nl_macvlan_parse,
	.parent_in_link = true,
};
