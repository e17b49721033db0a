#include "bridge.h"

#include <string.h>
#include <linux/if_link.h>

#include "kind.h"

static int nl_bridge_fill(struct nlmsghdr *nlh, const void *kind_data)
{
	const struct nl_bridge_spec *b = kind_data;
	struct nlattr *data;

	if (!b || (b->stp < 0 && b->vlan_filtering < 0))
		return 0;
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	if (b->stp >= 0)
		mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, (uint32_t)b->stp);
	if (b->vlan_filtering >= 0)
		mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING,
				(uint8_t)b->vlan_filtering);
	mnl_attr_nest_end(nlh, data);
	return 0;
}

static int nl_bridge_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_BR_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static void nl_bridge_parse(const struct nlattr *info_data, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_BR_MAX + 1] = { NULL };

	if (mnl_attr_parse_nested(info_data, nl_bridge_attr_cb, tb) < 0)
		return;
	if (tb[IFLA_BR_STP_STATE] &&
	    mnl_attr_validate(tb[IFLA_BR_STP_STATE], MNL_TYPE_U32) >= 0)
		l->br_stp_state = mnl_attr_get_u32(tb[IFLA_BR_STP_STATE]);
	if (tb[IFLA_BR_VLAN_FILTERING] &&
	    mnl_attr_validate(tb[IFLA_BR_VLAN_FILTERING], MNL_TYPE_U8) >= 0)
		l->br_vlan_filtering =
			mnl_attr_get_u8(tb[IFLA_BR_VLAN_FILTERING]);
}

const struct nl_kind nl_kind_bridge = {
	.name = "bridge",
	.fill = nl_bridge_fill,
	.parse = nl_bridge_parse,
};

int nl_bridge_set(struct nl_sock *s, int ifindex,
		  const struct nl_bridge_spec *b)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *linkinfo;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	nl_bridge_fill(nlh, b);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_sock_request(s, nlh, NULL, NULL);
}

int nl_bridge_add(struct nl_sock *s, const struct nl_link_spec *spec,
		  const struct nl_bridge_spec *b)
{
	struct nl_link_spec created = *spec;
	struct nl_bridge_spec settings = *b;
	struct nl_link l;
	int r;

	/* An MTU given at creation is not "set by the user" to the bridge,
	 * which would then follow its ports: it is set just after, as a
	 * change. vlan_filtering off is the default, and a kernel without
	 * VLAN filtering refuses the attribute even then. */
	created.mtu = 0;
	if (settings.vlan_filtering == 0)
		settings.vlan_filtering = -1;
	r = nl_link_add(s, &created, &nl_kind_bridge, &settings, NULL);
	if (r < 0)
		return r;
	/* The kernel skips a change to the MTU a link already has, and so
	 * would not remember that the user chose it: step aside first. */
	if (spec->mtu)
		r = nl_link_mark_ours(s, spec->name, -1,
				      spec->mtu < 65535 ? spec->mtu + 1
							: spec->mtu - 1);
	else
		r = 0;
	if (r == 0)
		r = nl_link_mark_ours(s, spec->name, -1, spec->mtu);
	if (r < 0 && nl_link_get(s, spec->name, &l) == 0)
		nl_link_del(s, l.ifindex);
	return r;
}
