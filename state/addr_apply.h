/* An address added as its desired record says (nodad, noprefixroute,
 * lifetimes: openapi/openapi.yaml, AddressCreate), wherever netnsd adds
 * one: on POST, when a link comes back up or lands in another namespace,
 * and at reconcile. */
#ifndef NETNSD_ADDR_APPLY_H
#define NETNSD_ADDR_APPLY_H

#include <jansson.h>

#include "../api/value.h"
#include "../netlink/addr.h"
#include "record.h"

void addr_apply_opts(const struct record_addr *w, struct nl_addr_opts *ret);
/* `rec` is the address's record (NULL: the defaults). */
int addr_apply_add(struct nl_sock *s, int ifindex, const struct cidr *c,
		   json_t *rec);

#endif
