#include "route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

struct nl_route_list {
	struct nl_route *items;
	size_t n, cap;
	size_t start; /* where the family being dumped begins */
	int err;
};

static int nl_route_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static uint32_t nl_route_u32(const struct nlattr *a, uint32_t dflt)
{
	if (!a || mnl_attr_get_payload_len(a) != sizeof(uint32_t))
		return dflt;
	return mnl_attr_get_u32(a);
}

/* The first hop of RTA_MULTIPATH: what `ip route` shows first. */
static void nl_route_first_hop(const struct nlattr *mp, size_t alen,
			       struct nl_route *x)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	size_t len = mnl_attr_get_payload_len(mp);
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	struct nlattr *a;
	size_t off;

	x->multipath = true;
	if (len < sizeof(*nh) || nh->rtnh_len < sizeof(*nh) ||
	    nh->rtnh_len > len)
		return;
	x->ifindex = nh->rtnh_ifindex;
	for (off = RTNH_ALIGN(sizeof(*nh)); off + sizeof(*a) <= nh->rtnh_len;
	     off += MNL_ALIGN(a->nla_len)) {
		a = (struct nlattr *)((char *)nh + off);
		if (a->nla_len < sizeof(*a) || off + a->nla_len > nh->rtnh_len)
			break;
		nl_route_attr_cb(a, tb);
	}
	if (tb[RTA_GATEWAY] &&
	    mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == alen) {
		memcpy(x->via, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		x->has_via = true;
	}
}

static struct nl_route *nl_route_slot(struct nl_route_list *rl)
{
	if (rl->n == rl->cap) {
		size_t cap = rl->cap ? rl->cap * 2 : 16;
		struct nl_route *grown =
			realloc(rl->items, cap * sizeof(*grown));

		if (!grown) {
			rl->err = -ENOMEM;
			return NULL;
		}
		rl->items = grown;
		rl->cap = cap;
	}
	memset(&rl->items[rl->n], 0, sizeof(rl->items[0]));
	return &rl->items[rl->n++];
}

static int nl_route_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { NULL };
	struct nl_route_list *rl = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_route *x;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return MNL_CB_OK;
	if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
		return MNL_CB_OK;
	/* Cached clones (exceptions) are no routes anyone added. */
	if (rtm->rtm_flags & RTM_F_CLONED)
		return MNL_CB_OK;
	alen = rtm->rtm_family == AF_INET ? 4 : 16;
	if (rtm->rtm_dst_len > alen * 8 ||
	    mnl_attr_parse(nlh, sizeof(*rtm), nl_route_attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
		return MNL_CB_OK;
	x = nl_route_slot(rl);
	if (!x)
		return MNL_CB_ERROR;
	x->dst.family = rtm->rtm_family;
	x->dst.prefixlen = rtm->rtm_dst_len;
	if (tb[RTA_DST])
		memcpy(x->dst.addr, mnl_attr_get_payload(tb[RTA_DST]), alen);
	x->table = nl_route_u32(tb[RTA_TABLE], rtm->rtm_table);
	x->metric = nl_route_u32(tb[RTA_PRIORITY], 0);
	x->ifindex = (int)nl_route_u32(tb[RTA_OIF], 0);
	x->scope = rtm->rtm_scope;
	x->protocol = rtm->rtm_protocol;
	x->type = rtm->rtm_type;
	if (tb[RTA_GATEWAY] &&
	    mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == alen) {
		memcpy(x->via, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		x->has_via = true;
	}
	if (tb[RTA_MULTIPATH])
		nl_route_first_hop(tb[RTA_MULTIPATH], alen, x);
	return MNL_CB_OK;
}

static void nl_route_dump_reset(void *data)
{
	struct nl_route_list *rl = data;

	rl->n = rl->start;
}

static int nl_route_dump_family(struct nl_sock *s, int family,
				struct nl_route_list *rl)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	/* Table 0 and no RTA_TABLE: every table. */
	rtm->rtm_family = (unsigned char)family;
	rl->start = rl->n;
	r = nl_sock_dump(s, nlh, nl_route_dump_cb, nl_route_dump_reset, rl);
	return r == 0 && rl->err ? rl->err : r;
}

int nl_route_dump(struct nl_sock *s, struct nl_route **ret, size_t *ret_n)
{
	struct nl_route_list rl = { 0 };
	int r;

	r = nl_route_dump_family(s, AF_INET, &rl);
	if (r == 0)
		r = nl_route_dump_family(s, AF_INET6, &rl);
	if (r < 0) {
		free(rl.items);
		return r;
	}
	*ret = rl.items;
	*ret_n = rl.n;
	return 0;
}

static int nl_route_change(struct nl_sock *s, int type, unsigned flags,
			   const struct nl_route *r)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t alen = r->dst.family == AF_INET ? 4 : 16;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)r->dst.family;
	rtm->rtm_dst_len = (unsigned char)r->dst.prefixlen;
	/* Tables past 255 only fit RTA_TABLE, which the kernel prefers. */
	rtm->rtm_table =
		r->table < 256 ? (unsigned char)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	rtm->rtm_scope = r->scope;
	rtm->rtm_type = r->type;
	if (r->dst.prefixlen)
		mnl_attr_put(nlh, RTA_DST, alen, r->dst.addr);
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	if (r->has_via)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, r->via);
	if (r->ifindex)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->ifindex);
	return nl_sock_request(s, nlh, NULL, NULL);
}

/* Netnsd's route: its mark, a unicast route. */
static int nl_route_new(struct nl_sock *s, unsigned flags,
			const struct nl_route *r)
{
	struct nl_route mine = *r;

	mine.protocol = NL_ROUTE_PROTO;
	mine.type = RTN_UNICAST;
	return nl_route_change(s, RTM_NEWROUTE, flags, &mine);
}

int nl_route_add(struct nl_sock *s, const struct nl_route *r)
{
	return nl_route_new(s, NLM_F_CREATE | NLM_F_EXCL, r);
}

int nl_route_replace(struct nl_sock *s, const struct nl_route *r)
{
	return nl_route_new(s, NLM_F_CREATE | NLM_F_REPLACE, r);
}

int nl_route_del(struct nl_sock *s, const struct nl_route *r)
{
	struct nl_route sel = *r;

	/* Any scope: the kernel's own choice need not be repeated. */
	sel.scope = RT_SCOPE_NOWHERE;
	/* Its gateway and device, as dumped, are the first hop of a
	 * multipath route, which a deletion would not match: the
	 * destination, table, metric and protocol select it alone. */
	if (sel.multipath) {
		sel.has_via = false;
		sel.ifindex = 0;
	}
	return nl_route_change(s, RTM_DELROUTE, 0, &sel);
}

const struct nl_route *nl_route_find(const struct nl_route *routes, size_t n,
				     const struct cidr *dst, uint32_t table,
				     uint32_t metric)
{
	for (size_t i = 0; i < n; i++) {
		const struct nl_route *x = &routes[i];

		if (x->table == table && x->metric == metric &&
		    value_cidr_equal(&x->dst, dst))
			return x;
	}
	return NULL;
}

const char *nl_route_type_name(uint8_t type)
{
	static const char *const names[] = {
		[RTN_UNICAST] = "unicast",
		[RTN_LOCAL] = "local",
		[RTN_BROADCAST] = "broadcast",
		[RTN_ANYCAST] = "anycast",
		[RTN_MULTICAST] = "multicast",
		[RTN_BLACKHOLE] = "blackhole",
		[RTN_UNREACHABLE] = "unreachable",
		[RTN_PROHIBIT] = "prohibit",
		[RTN_THROW] = "throw",
		[RTN_NAT] = "nat",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : NULL;
}

const char *nl_route_protocol_name(uint8_t protocol)
{
	switch (protocol) {
	case NL_ROUTE_PROTO: return "netnsd";
	case RTPROT_REDIRECT: return "redirect";
	case RTPROT_KERNEL: return "kernel";
	case RTPROT_BOOT: return "boot";
	case RTPROT_STATIC: return "static";
	case RTPROT_RA: return "ra";
	case RTPROT_DHCP: return "dhcp";
	default: return NULL;
	}
}
