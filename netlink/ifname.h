/* The name of a link from its ifindex, by ioctl: one system call and no
 * netlink message, for naming many veth peers at once. */
#ifndef NETNSD_NL_IFNAME_H
#define NETNSD_NL_IFNAME_H

#include "sock.h"

/* The name of link `ifindex` in the namespace of `s`, into `buf` (IFNAMSIZ
 * bytes); -ENODEV when there is none. */
int nl_ifname_of(struct nl_sock *s, int ifindex, char *buf);

#endif
