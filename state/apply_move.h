/* A link renamed or moved to another namespace (a PATCH with `name` or
 * `namespace`), with the request's other changes made where it lands. It
 * runs under its `moving` marker (state/intent.c): written before the
 * kernel is touched, so that a crash part-way leaves start-up able to take
 * the link back to where its records say. */
#ifndef NETNSD_APPLY_MOVE_H
#define NETNSD_APPLY_MOVE_H

#include <jansson.h>

#include "../api/problem.h"
#include "../netlink/link.h"
#include "store.h"

struct apply_move {
	struct nl_sock *s;	   /* a socket in `ns` */
	const char *ns, *name;	   /* where the link is */
	const char *ns2, *name2;   /* where it goes; ns2 == ns: a rename */
	int netns_fd;		   /* ns2's, for a move; else -1 */
	const struct nl_link *old; /* the link as it is */
	/* What else the request sets (mtu, mac, up, master; -1/0/NULL for
	 * nothing): applied after the move, where the link landed. */
	struct nl_link_change attrs;
	json_t *record; /* its desired record at ns2/name2; stolen */
};

/* 0 when done: the link as it now is in *ret and, for a move, a socket in
 * ns2 in *ret_s2 (give it back with nl_ns_put(ns2, ...)). Else a problem,
 * and the link is back where it was, or, when it cannot be, its marker is
 * left for start-up to take it back. */
int apply_move(struct store *store, struct apply_move *m,
	       struct nl_sock **ret_s2, struct nl_link *ret,
	       struct problem *prob);

/* Leaves out of `c` what `l` has already, so that a change to the values a
 * link has sends the kernel nothing (README.md, "Desired state": nothing
 * changed, nothing moves). */
void apply_change_only_new(struct nl_link_change *c, const struct nl_link *l);

#endif
