/* Finds links of a dump by name or by ifindex in constant time, so that a
 * view of thousands of links is not a quadratic scan. Pure code: it only
 * reads the array it was built over, which must outlive it. */
#ifndef NETNSD_NL_LINK_INDEX_H
#define NETNSD_NL_LINK_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"

struct link_index {
	const struct nl_link *links;
	size_t n;
	size_t mask;	      /* slots - 1; slots is a power of two */
	uint32_t *by_name;    /* slot -> position + 1, 0 when empty */
	uint32_t *by_ifindex; /* the same, keyed by ifindex */
};

/* Indexes `links[0..n)`. Where two share a name or an ifindex, the first
 * one is found, as a scan from the start would. Returns 0 or -ENOMEM. */
int link_index_build(struct link_index *x, const struct nl_link *links,
		     size_t n);
/* Frees the tables; the index finds nothing afterwards. NULL-safe. */
void link_index_clear(struct link_index *x);

const struct nl_link *link_index_name(const struct link_index *x,
				      const char *name);
const struct nl_link *link_index_ifindex(const struct link_index *x,
					 int ifindex);

#endif
