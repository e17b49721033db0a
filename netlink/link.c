#include "link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "kind.h"

static struct nlmsghdr *nl_link_msg(char *buf, int type, unsigned flags,
				    int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)flags;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

static int nl_linkinfo_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_INFO_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = a;
	return MNL_CB_OK;
}

/* Reads one RTM_NEWLINK message, validating each attribute before use.
 * A dump brings thousands, each with dozens of attributes (statistics,
 * IPv6 settings) that nobody here reads: only the wanted ones are kept,
 * in one pass without a callback per attribute. As with mnl_attr_parse,
 * the last of duplicates counts and a malformed one ends the message. */
static int nl_link_parse(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { NULL };
	const struct nlattr *info[IFLA_INFO_MAX + 1] = { NULL };
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return -EBADMSG;
	memset(l, 0, sizeof(*l));
	l->link_netnsid = -1;
	l->ifindex = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifm))
	{
		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
		case IFLA_MTU:
		case IFLA_ADDRESS:
		case IFLA_OPERSTATE:
		case IFLA_MASTER:
		case IFLA_LINK:
		case IFLA_LINK_NETNSID:
		case IFLA_IFALIAS:
		case IFLA_GROUP:
		case IFLA_LINKINFO: tb[mnl_attr_get_type(a)] = a; break;
		default: break;
		}
	}
	if (!tb[IFLA_IFNAME] ||
	    mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
		return -EBADMSG;
	strncpy(l->name, mnl_attr_get_str(tb[IFLA_IFNAME]), IFNAMSIZ - 1);
	if (tb[IFLA_MTU] && mnl_attr_validate(tb[IFLA_MTU], MNL_TYPE_U32) >= 0)
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		l->has_mac = true;
	}
	if (tb[IFLA_OPERSTATE] &&
	    mnl_attr_validate(tb[IFLA_OPERSTATE], MNL_TYPE_U8) >= 0)
		l->operstate = mnl_attr_get_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_MASTER] &&
	    mnl_attr_validate(tb[IFLA_MASTER], MNL_TYPE_U32) >= 0)
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINK] &&
	    mnl_attr_validate(tb[IFLA_LINK], MNL_TYPE_U32) >= 0)
		l->link = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
	if (tb[IFLA_LINK_NETNSID] &&
	    mnl_attr_validate(tb[IFLA_LINK_NETNSID], MNL_TYPE_U32) >= 0)
		l->link_netnsid = (int)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_IFALIAS] &&
	    mnl_attr_validate(tb[IFLA_IFALIAS], MNL_TYPE_NUL_STRING) >= 0)
		strncpy(l->alias, mnl_attr_get_str(tb[IFLA_IFALIAS]),
			sizeof(l->alias) - 1);
	if (tb[IFLA_GROUP] &&
	    mnl_attr_validate(tb[IFLA_GROUP], MNL_TYPE_U32) >= 0)
		l->group = mnl_attr_get_u32(tb[IFLA_GROUP]);
	if (tb[IFLA_LINKINFO] &&
	    mnl_attr_validate(tb[IFLA_LINKINFO], MNL_TYPE_NESTED) >= 0 &&
	    mnl_attr_parse_nested(tb[IFLA_LINKINFO], nl_linkinfo_attr_cb,
				  info) >= 0) {
		const struct nl_kind *kind;

		if (info[IFLA_INFO_KIND] &&
		    mnl_attr_validate(info[IFLA_INFO_KIND],
				      MNL_TYPE_NUL_STRING) >= 0)
			strncpy(l->kind, mnl_attr_get_str(info[IFLA_INFO_KIND]),
				sizeof(l->kind) - 1);
		kind = nl_kind_find(l->kind);
		l->opts.parent = l->link;
		if (kind && kind->parse && info[IFLA_INFO_DATA] &&
		    mnl_attr_validate(info[IFLA_INFO_DATA], MNL_TYPE_NESTED) >=
			    0)
			kind->parse(info[IFLA_INFO_DATA], l);
		/* A parent in another namespace is none of this one's: its
		 * index counts in the namespace link_netnsid names (a vxlan's
		 * underlay too, IFLA_VXLAN_LINK). */
		if (l->link_netnsid >= 0) {
			l->far_parent = l->opts.parent;
			l->opts.parent = -1;
		}
	}
	return 0;
}

struct nl_link_list {
	struct nl_link *items;
	size_t n, cap;
	int err;
};

static int nl_link_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_link_list *ll = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 16;
		struct nl_link *grown =
			realloc(ll->items, cap * sizeof(*grown));

		if (!grown) {
			ll->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		ll->items = grown;
		ll->cap = cap;
	}
	if (nl_link_parse(nlh, &ll->items[ll->n]) == 0)
		ll->n++;
	return MNL_CB_OK;
}

static void nl_link_dump_reset(void *data)
{
	((struct nl_link_list *)data)->n = 0;
}

/* Statistics are the bulk of a link message and nobody here reads them. */
static void nl_link_skip_stats(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
}

int nl_link_dump(struct nl_sock *s, struct nl_link **ret, size_t *ret_n)
{
	struct nl_link_list ll = { 0 };
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int r;

	nlh = nl_link_msg(buf, RTM_GETLINK, 0, 0);
	nl_link_skip_stats(nlh);
	r = nl_sock_dump(s, nlh, nl_link_dump_cb, nl_link_dump_reset, &ll);
	if (r == 0 && ll.err)
		r = ll.err;
	if (r < 0) {
		free(ll.items);
		return r;
	}
	*ret = ll.items;
	*ret_n = ll.n;
	return 0;
}

static int nl_link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		nl_link_parse(nlh, data);
	return MNL_CB_OK;
}

static int nl_link_get_msg(struct nl_sock *s, struct nlmsghdr *nlh,
			   struct nl_link *ret)
{
	struct nl_link l;
	int r;

	memset(&l, 0, sizeof(l));
	nl_link_skip_stats(nlh);
	r = nl_sock_request(s, nlh, nl_link_get_cb, &l);
	if (r < 0)
		return r;
	if (!l.name[0])
		return -ENODEV;
	*ret = l;
	return 0;
}

int nl_link_get(struct nl_sock *s, const char *name, struct nl_link *ret)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = nl_link_msg(buf, RTM_GETLINK, 0, 0);

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nl_link_get_msg(s, nlh, ret);
}

int nl_link_get_index(struct nl_sock *s, int ifindex, struct nl_link *ret)
{
	char buf[NL_REQ_SIZE];

	return nl_link_get_msg(s, nl_link_msg(buf, RTM_GETLINK, 0, ifindex),
			       ret);
}

/* Fills the attributes shared by a new link and a veth's peer. */
void nl_link_put_spec(struct nlmsghdr *nlh, struct ifinfomsg *ifm,
		      const struct nl_link_spec *spec)
{
	if (spec->up) {
		ifm->ifi_change |= IFF_UP;
		ifm->ifi_flags |= IFF_UP;
	}
	mnl_attr_put_strz(nlh, IFLA_IFNAME, spec->name);
	mnl_attr_put_u32(nlh, IFLA_GROUP, NL_LINK_GROUP);
	if (spec->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, spec->mtu);
	if (spec->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, spec->mac);
	if (spec->netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)spec->netns_fd);
	if (spec->link > 0)
		mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)spec->link);
	if (spec->queues) {
		mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, spec->queues);
		mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, spec->queues);
	}
}

int nl_link_add(struct nl_sock *s, const struct nl_link_spec *spec,
		const struct nl_kind *kind, const void *kind_data,
		struct nl_link *ret)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *linkinfo;
	int r;

	nlh = nl_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	nl_link_put_spec(nlh, mnl_nlmsg_get_payload(nlh), spec);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind->name);
	if (kind->fill) {
		r = kind->fill(nlh, kind_data);
		if (r < 0)
			return r;
	}
	mnl_attr_nest_end(nlh, linkinfo);
	if (!ret)
		return nl_sock_request(s, nlh, NULL, NULL);
	memset(ret, 0, sizeof(*ret));
	nlh->nlmsg_flags |= NLM_F_ECHO;
	r = nl_sock_request(s, nlh, nl_link_get_cb, ret);
	if (r == 0 && strcmp(ret->name, spec->name))
		memset(ret, 0, sizeof(*ret)); /* not the one asked for */
	return r;
}

int nl_link_set(struct nl_sock *s, const struct nl_link_change *c)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = nl_link_msg(buf, RTM_NEWLINK, 0, c->ifindex);
	ifm = mnl_nlmsg_get_payload(nlh);
	if (c->up >= 0) {
		ifm->ifi_change = IFF_UP;
		ifm->ifi_flags = c->up ? IFF_UP : 0;
	}
	if (c->netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
	if (c->name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	if (c->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, c->mac);
	if (c->master >= 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)c->master);
	if (c->alias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, c->alias);
	return nl_sock_request(s, nlh, NULL, NULL);
}

int nl_link_del(struct nl_sock *s, int ifindex)
{
	char buf[NL_REQ_SIZE];

	return nl_sock_request(s, nl_link_msg(buf, RTM_DELLINK, 0, ifindex),
			       NULL, NULL);
}

int nl_link_set_up_index(struct nl_sock *s, int ifindex, bool up)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	c.ifindex = ifindex;
	c.up = up;
	return nl_link_set(s, &c);
}

static int nl_link_count_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		(*(int *)data)++;
	return MNL_CB_OK;
}

static void nl_link_count_reset(void *data)
{
	*(int *)data = 0;
}

int nl_link_count(struct nl_sock *s, int *ret_n)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	int n = 0, r;

	nlh = nl_link_msg(buf, RTM_GETLINK, 0, 0);
	nl_link_skip_stats(nlh);
	r = nl_sock_dump(s, nlh, nl_link_count_cb, nl_link_count_reset, &n);
	if (r == 0)
		*ret_n = n;
	return r;
}

int nl_link_mark_ours(struct nl_sock *s, const char *name, int up, unsigned mtu)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	/* Index 0 and a name: the kernel finds the link by name, so one
	 * message does it. */
	nlh = nl_link_msg(buf, RTM_NEWLINK, 0, 0);
	ifm = mnl_nlmsg_get_payload(nlh);
	if (up >= 0) {
		ifm->ifi_change = IFF_UP;
		ifm->ifi_flags = up ? IFF_UP : 0;
	}
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, NL_LINK_ALIAS);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_sock_request(s, nlh, NULL, NULL);
}
