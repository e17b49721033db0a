#include "link.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <linux/rtnetlink.h>

int nl_link_set_up_index(struct nl_sock *s, int ifindex, bool up)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	return nl_sock_request(s, nlh, NULL, NULL);
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
	struct ifinfomsg *ifm;
	int n = 0, r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	r = nl_sock_dump(s, nlh, nl_link_count_cb, nl_link_count_reset, &n);
	if (r == 0)
		*ret_n = n;
	return r;
}
