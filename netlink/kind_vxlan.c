/* vxlan: Ethernet over UDP. Everything is in the kind's data: the VNI,
 * the addresses (IPv4 and IPv6 under attributes of their own), the
 * underlay link (IFLA_VXLAN_LINK, not IFLA_LINK), the port in network
 * order, and learning. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>

#include "kind.h"

static void nl_vxlan_put_addr(struct nlmsghdr *nlh, int family,
			      const uint8_t *addr, uint16_t v4, uint16_t v6)
{
	if (family == AF_INET)
		mnl_attr_put(nlh, v4, 4, addr);
	else if (family == AF_INET6)
		mnl_attr_put(nlh, v6, 16, addr);
}

static int nl_vxlan_fill(struct nlmsghdr *nlh, const void *kind_data)
{
	const struct nl_link_opts *o = kind_data;
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);

	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, o->vni);
	nl_vxlan_put_addr(nlh, o->remote_family, o->remote, IFLA_VXLAN_GROUP,
			  IFLA_VXLAN_GROUP6);
	nl_vxlan_put_addr(nlh, o->local_family, o->local, IFLA_VXLAN_LOCAL,
			  IFLA_VXLAN_LOCAL6);
	if (o->parent > 0)
		mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, (uint32_t)o->parent);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(o->port));
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, o->learning);
	mnl_attr_nest_end(nlh, data);
	return 0;
}

static int nl_vxlan_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_VXLAN_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* One address from whichever of its two attributes is there. */
static void nl_vxlan_get_addr(const struct nlattr *v4, const struct nlattr *v6,
			      int *family, uint8_t *addr)
{
	if (v4 && mnl_attr_get_payload_len(v4) == 4) {
		*family = AF_INET;
		memcpy(addr, mnl_attr_get_payload(v4), 4);
	} else if (v6 && mnl_attr_get_payload_len(v6) == 16) {
		*family = AF_INET6;
		memcpy(addr, mnl_attr_get_payload(v6), 16);
	}
}

static void nl_vxlan_parse(const struct nlattr *info_data, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1] = { NULL };
	struct nl_link_opts *o = &l->opts;

	if (mnl_attr_parse_nested(info_data, nl_vxlan_attr_cb, tb) < 0)
		return;
	o->parent = 0; /* IFLA_LINK means nothing here */
	if (tb[IFLA_VXLAN_ID] &&
	    mnl_attr_validate(tb[IFLA_VXLAN_ID], MNL_TYPE_U32) >= 0)
		o->vni = mnl_attr_get_u32(tb[IFLA_VXLAN_ID]);
	if (tb[IFLA_VXLAN_LINK] &&
	    mnl_attr_validate(tb[IFLA_VXLAN_LINK], MNL_TYPE_U32) >= 0)
		o->parent = (int)mnl_attr_get_u32(tb[IFLA_VXLAN_LINK]);
	if (tb[IFLA_VXLAN_PORT] &&
	    mnl_attr_validate(tb[IFLA_VXLAN_PORT], MNL_TYPE_U16) >= 0)
		o->port = ntohs(mnl_attr_get_u16(tb[IFLA_VXLAN_PORT]));
	if (tb[IFLA_VXLAN_LEARNING] &&
	    mnl_attr_validate(tb[IFLA_VXLAN_LEARNING], MNL_TYPE_U8) >= 0)
		o->learning = mnl_attr_get_u8(tb[IFLA_VXLAN_LEARNING]);
	nl_vxlan_get_addr(tb[IFLA_VXLAN_GROUP], tb[IFLA_VXLAN_GROUP6],
			  &o->remote_family, o->remote);
	nl_vxlan_get_addr(tb[IFLA_VXLAN_LOCAL], tb[IFLA_VXLAN_LOCAL6],
			  &o->local_family, o->local);
}

const struct nl_kind nl_kind_vxlan = {
	.name = "vxlan",
	.fill = nl_vxlan_fill,
	.parse = nl_vxlan_parse,
	.parent_in_link = false,
};
