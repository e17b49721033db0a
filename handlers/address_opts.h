/* The details of an address (openapi/openapi.yaml, AddressCreate and
 * Address): how it is added (nodad, noprefixroute, lifetimes) and what
 * the kernel says of it (its flags, the lifetimes left, and its state:
 * tentative while IPv6 duplicate address detection runs, dadfailed, or
 * deprecated once its preferred lifetime is over). */
#ifndef NETNSD_ADDRESS_OPTS_H
#define NETNSD_ADDRESS_OPTS_H

#include <jansson.h>

#include "../api/body.h"
#include "../api/request.h"
#include "../api/value.h"
#include "../netlink/addr.h"
#include "../state/record.h"

/* The options of a POST body (types already checked) for address `c`, or
 * 400 naming the field. */
int address_opts_parse(json_t *body, const struct cidr *c,
		       struct record_addr *ret, struct reply *rep);
/* Adds an address with the options of its record. */
int address_opts_add(struct nl_sock *s, int ifindex, const struct cidr *c,
		     const struct record_addr *w);
/* Adds the kernel's word on an address to its JSON. */
void address_opts_render(json_t *o, const struct nl_addr *a);
/* The same for `c` on `ifindex`, read from the kernel (nothing is added
 * when it is not there). */
void address_opts_describe(json_t *o, struct nl_sock *s, int ifindex,
			   const struct cidr *c);
/* The kernel's entry of `c` among `addrs`, or NULL. */
const struct nl_addr *address_opts_find(const struct nl_addr *addrs, size_t n,
					const struct cidr *c);

#endif
