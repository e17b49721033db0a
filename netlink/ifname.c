#include "ifname.h"

#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>

int nl_ifname_of(struct nl_sock *s, int ifindex, char *buf)
{
	struct ifreq ifr;

	if (ifindex <= 0)
		return -ENODEV;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = ifindex;
	/* Any socket answers for its own namespace: the netlink one will. */
	if (ioctl(mnl_socket_get_fd(s->mnl), SIOCGIFNAME, &ifr) < 0)
		return -errno;
	memcpy(buf, ifr.ifr_name, IFNAMSIZ);
	buf[IFNAMSIZ - 1] = '\0';
	return 0;
}
