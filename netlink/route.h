/* IPv4 and IPv6 routes of one namespace, in every table. */
#ifndef NETNSD_NL_ROUTE_H
#define NETNSD_NL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../api/value.h"
#include "sock.h"

/* The routing protocol number netnsd stamps on the routes it makes: its
 * ownership mark, as routing daemons use theirs (README.md, "Routes").
 * Neither iproute2's rt_protos nor a known routing daemon uses it; the
 * shipped rt_protos.d file names it "netnsd". */
#define NL_ROUTE_PROTO 173

/* The kernel's metric for an IPv6 route added without one. */
#define NL_ROUTE_METRIC6_DEFAULT 1024

struct nl_route {
	struct cidr dst; /* family, network address and prefix length */
	bool has_via;
	uint8_t via[16]; /* of dst's family, when has_via */
	int ifindex;	 /* output device, 0 for none */
	uint32_t metric; /* RTA_PRIORITY */
	uint32_t table;
	uint8_t scope;	  /* RT_SCOPE_* */
	uint8_t protocol; /* RTPROT_*, NL_ROUTE_PROTO for netnsd's */
	uint8_t type;	  /* RTN_* */
	bool multipath; /* RTA_MULTIPATH: via and ifindex are the first hop's */
};

/* Every IPv4 and IPv6 route of every table; free with free(). */
int nl_route_dump(struct nl_sock *s, struct nl_route **ret, size_t *ret_n);
/* Adds `r` as netnsd's (its protocol is ignored): -EEXIST when a route of
 * the same table, destination and metric is there. */
int nl_route_add(struct nl_sock *s, const struct nl_route *r);
/* The same, replacing the route of that table, destination and metric. */
int nl_route_replace(struct nl_sock *s, const struct nl_route *r);
/* Deletes the route `r` as a dump gave it: its gateway, device and
 * protocol narrow the match, so that another route of the destination is
 * never taken instead (IPv4 matches any metric when given 0). */
int nl_route_del(struct nl_sock *s, const struct nl_route *r);

/* The route of `routes` with this identity (family and address of `dst`,
 * prefix length, table, metric), or NULL. */
const struct nl_route *nl_route_find(const struct nl_route *routes, size_t n,
				     const struct cidr *dst, uint32_t table,
				     uint32_t metric);

/* The name of an RTN_* value as iproute2 prints it, or NULL. */
const char *nl_route_type_name(uint8_t type);
/* "netnsd", "kernel", "boot", ... or NULL. */
const char *nl_route_protocol_name(uint8_t protocol);

#endif
