/* IPv4 and IPv6 addresses of links in one namespace. */
#ifndef NETNSD_NL_ADDR_H
#define NETNSD_NL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../api/value.h"
#include "sock.h"

struct nl_addr {
	int ifindex;
	struct cidr cidr;
	unsigned char scope;
	uint32_t flags;		/* IFA_F_*, from IFA_FLAGS when sent */
	uint32_t valid_lft;	/* seconds left; NL_ADDR_FOREVER: forever */
	uint32_t preferred_lft; /* the same */
};

#define NL_ADDR_FOREVER 0xffffffffu

/* How an address is added: duplicate address detection skipped (IPv6),
 * no prefix route, lifetimes in seconds (NL_ADDR_FOREVER: forever). */
struct nl_addr_opts {
	bool nodad, noprefixroute;
	uint32_t valid_lft, preferred_lft;
};

#define NL_ADDR_OPTS_INIT                                                      \
	{                                                                      \
		.valid_lft = NL_ADDR_FOREVER, .preferred_lft = NL_ADDR_FOREVER \
	}

/* Every address of link `ifindex` (0: of every link); free with free(). */
int nl_addr_dump(struct nl_sock *s, int ifindex, struct nl_addr **ret,
		 size_t *ret_n);
int nl_addr_add(struct nl_sock *s, int ifindex, const struct cidr *c);
int nl_addr_add_opts(struct nl_sock *s, int ifindex, const struct cidr *c,
		     const struct nl_addr_opts *o);
int nl_addr_del(struct nl_sock *s, int ifindex, const struct cidr *c);

#endif
