#include "veth.h"

#include <string.h>
#include <linux/veth.h>

#include "kind.h"

static int nl_veth_fill(struct nlmsghdr *nlh, const void *kind_data)
{
	const struct nl_veth_spec *v = kind_data;
	struct nlattr *data, *peer;
	struct ifinfomsg *ifm;

	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow an ifinfomsg of its own. */
	ifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(ifm, 0, sizeof(*ifm));
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	nl_link_put_spec(nlh, ifm, &v->peer);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	return 0;
}

const struct nl_kind nl_kind_veth = {
	.name = "veth",
	.fill = nl_veth_fill,
	.parse = NULL, /* the peer is told by IFLA_LINK and IFLA_LINK_NETNSID */
};

int nl_veth_add(struct nl_sock *s, const struct nl_link_spec *a,
		struct nl_sock *ps, const struct nl_link_spec *b,
		struct nl_link *ret_a)
{
	struct nl_veth_spec v = { .peer = *b };
	struct nl_link_spec va = *a;
	struct nl_link l;
	int r;

	/* The kernel configures the peer before the pair is joined, when it
	 * cannot be opened yet (ENOTCONN): it goes up afterwards. */
	v.peer.up = false;
	/* One queue each way on each end, the number the kernel makes active
	 * anyway. Left to it, it allocates one per possible CPU and then
	 * shrinks the active count to one while it holds rtnl_lock, waiting
	 * out an expedited RCU grace period per end: about half of what a
	 * pair costs it, and every other change on the host waits too. */
	va.queues = 1;
	v.peer.queues = 1;
	r = nl_link_add(s, &va, &nl_kind_veth, &v, ret_a);
	if (r < 0)
		return r;
	r = nl_link_mark_ours(s, a->name, -1, 0);
	if (r == 0)
		r = nl_link_mark_ours(ps, b->name, b->up ? 1 : -1, 0);
	if (r < 0 && nl_link_get(s, a->name, &l) == 0)
		nl_link_del(s, l.ifindex); /* takes the peer along */
	return r;
}
