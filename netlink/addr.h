/* IPv4 and IPv6 addresses of links in one namespace. */
#ifndef NETNSD_NL_ADDR_H
#define NETNSD_NL_ADDR_H

#include <stddef.h>

#include "../api/value.h"
#include "sock.h"

struct nl_addr {
	int ifindex;
	struct cidr cidr;
	unsigned char scope;
};

/* Every address of link `ifindex` (0: of every link); free with free(). */
int nl_addr_dump(struct nl_sock *s, int ifindex, struct nl_addr **ret,
		 size_t *ret_n);
int nl_addr_add(struct nl_sock *s, int ifindex, const struct cidr *c);
int nl_addr_del(struct nl_sock *s, int ifindex, const struct cidr *c);

#endif
