#ifndef NETNSD_NL_VETH_H
#define NETNSD_NL_VETH_H

#include "link.h"

struct nl_kind;

/* The veth kind, for nl_kind_find() (kind.h). */
extern const struct nl_kind nl_kind_veth;

/* The far end of a new veth. Its netns_fd places it directly in its own
 * namespace, so it never appears, even briefly, anywhere else. */
struct nl_veth_spec {
	struct nl_link_spec peer;
};

/* Creates the pair `a` (in `s`'s namespace) and `b` (placed directly in
 * `ps`'s namespace through b->netns_fd, or beside `a` when that is -1), and
 * marks both ends as netnsd's. On failure nothing is left behind. With
 * `ret_a`, end `a` as the kernel echoed it when made (see nl_link_add). */
int nl_veth_add(struct nl_sock *s, const struct nl_link_spec *a,
		struct nl_sock *ps, const struct nl_link_spec *b,
		struct nl_link *ret_a);

#endif
