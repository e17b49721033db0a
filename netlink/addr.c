#include "addr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

struct nl_addr_list {
	int ifindex;
	struct nl_addr *items;
	size_t n, cap;
	int err;
};

static int nl_addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* Flags (those past 8 bits only in IFA_FLAGS) and lifetimes left. */
static void nl_addr_details(struct nl_addr *x, const struct ifaddrmsg *ifa,
			    const struct nlattr **tb)
{
	const struct ifa_cacheinfo *ci;

	x->flags = ifa->ifa_flags;
	if (tb[IFA_FLAGS] && mnl_attr_get_payload_len(tb[IFA_FLAGS]) == 4)
		x->flags = mnl_attr_get_u32(tb[IFA_FLAGS]);
	x->valid_lft = x->preferred_lft = NL_ADDR_FOREVER;
	if (tb[IFA_CACHEINFO] &&
	    mnl_attr_get_payload_len(tb[IFA_CACHEINFO]) >= sizeof(*ci)) {
		ci = mnl_attr_get_payload(tb[IFA_CACHEINFO]);
		x->valid_lft = ci->ifa_valid;
		x->preferred_lft = ci->ifa_prefered;
	}
}

static int nl_addr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = { NULL };
	struct nl_addr_list *al = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct nl_addr *x;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (al->ifindex && (int)ifa->ifa_index != al->ifindex)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*ifa), nl_addr_attr_cb, tb) < 0)
		return MNL_CB_OK;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	len = ifa->ifa_family == AF_INET ? 4 : 16;
	if (!a || mnl_attr_get_payload_len(a) != len)
		return MNL_CB_OK;
	if (al->n == al->cap) {
		size_t cap = al->cap ? al->cap * 2 : 8;
		struct nl_addr *grown =
			realloc(al->items, cap * sizeof(*grown));

		if (!grown) {
			al->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		al->items = grown;
		al->cap = cap;
	}
	x = &al->items[al->n++];
	memset(x, 0, sizeof(*x));
	x->ifindex = (int)ifa->ifa_index;
	x->scope = ifa->ifa_scope;
	x->cidr.family = ifa->ifa_family;
	x->cidr.prefixlen = ifa->ifa_prefixlen;
	memcpy(x->cidr.addr, mnl_attr_get_payload(a), len);
	nl_addr_details(x, ifa, tb);
	return MNL_CB_OK;
}

static void nl_addr_dump_reset(void *data)
{
	((struct nl_addr_list *)data)->n = 0;
}

int nl_addr_dump(struct nl_sock *s, int ifindex, struct nl_addr **ret,
		 size_t *ret_n)
{
	struct nl_addr_list al = { .ifindex = ifindex };
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	/* With strict checking the kernel filters by link itself. */
	ifa->ifa_index = (unsigned)ifindex;
	r = nl_sock_dump(s, nlh, nl_addr_dump_cb, nl_addr_dump_reset, &al);
	if (r == 0 && al.err)
		r = al.err;
	if (r < 0) {
		free(al.items);
		return r;
	}
	*ret = al.items;
	*ret_n = al.n;
	return 0;
}

/* Flags past 8 bits (noprefixroute) fit only IFA_FLAGS; lifetimes ride
 * in IFA_CACHEINFO, sent only when one is not forever, as `ip` does. */
static void nl_addr_put_opts(struct nlmsghdr *nlh, const struct nl_addr_opts *o)
{
	struct ifa_cacheinfo ci = { 0 };
	uint32_t flags = 0;

	if (o->nodad)
		flags |= IFA_F_NODAD;
	if (o->noprefixroute)
		flags |= IFA_F_NOPREFIXROUTE;
	if (flags)
		mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	if (o->valid_lft != NL_ADDR_FOREVER ||
	    o->preferred_lft != NL_ADDR_FOREVER) {
		ci.ifa_valid = o->valid_lft;
		ci.ifa_prefered = o->preferred_lft;
		mnl_attr_put(nlh, IFA_CACHEINFO, sizeof(ci), &ci);
	}
}

static int nl_addr_change(struct nl_sock *s, int type, unsigned flags,
			  int ifindex, const struct cidr *c,
			  const struct nl_addr_opts *o)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t len = c->family == AF_INET ? 4 : 16;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)c->family;
	ifa->ifa_prefixlen = (unsigned char)c->prefixlen;
	ifa->ifa_index = (unsigned)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, len, c->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, c->addr);
	if (o)
		nl_addr_put_opts(nlh, o);
	return nl_sock_request(s, nlh, NULL, NULL);
}

int nl_addr_add(struct nl_sock *s, int ifindex, const struct cidr *c)
{
	return nl_addr_change(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
			      ifindex, c, NULL);
}

int nl_addr_add_opts(struct nl_sock *s, int ifindex, const struct cidr *c,
		     const struct nl_addr_opts *o)
{
	return nl_addr_change(s, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
			      ifindex, c, o);
}

int nl_addr_del(struct nl_sock *s, int ifindex, const struct cidr *c)
{
	return nl_addr_change(s, RTM_DELADDR, 0, ifindex, c, NULL);
}
