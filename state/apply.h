/* Make it so, or not at all: runs a plan (plan.h) under the protocol of
 * intent.c. The records go first, then each step in the kernel; when a step
 * fails, the steps done are undone in reverse and the records taken back,
 * so a failed request changes nothing. Every mutation of a link or an
 * address goes through here: the handlers, start-up and POST /v1/reconcile.
 *
 * Also what a plan is made from: what the kernel has of a link (observe). */
#ifndef NETNSD_APPLY_H
#define NETNSD_APPLY_H

#include "../netlink/sock.h"
#include "plan.h"
#include "store.h"

/* What the kernel has of one link, in storage of its own; `seen` points
 * into it (do not copy the struct). */
struct apply_seen {
	struct plan_seen seen;
	struct nl_link link, want_master, parent;
	char master_name[IFNAMSIZ];
	char peer_ns[NAME_NS_MAX + 1], peer_name[IFNAMSIZ];
};

/* Reads the link `name` (absent: seen.link NULL) and, when `want_master`
 * is given, the bridge of that name, through `s`. */
int apply_see_link(struct nl_sock *s, const char *name, const char *want_master,
		   struct apply_seen *ret);
/* The same for both ends of a veth, and whether they are each other's
 * peer (ns/name in `s`, pns/pname in `ps`). */
int apply_see_pair(struct nl_sock *s, const char *ns, const char *name,
		   const char *want_master_a, struct nl_sock *ps,
		   const char *pns, const char *pname,
		   const char *want_master_b, struct apply_seen *a,
		   struct apply_seen *b);

/* The link named `parent` (NULL: none) as the parent `ret` sees, through
 * `s`, or in namespace `pns` when it is not NULL (then also the id `s`'s
 * namespace gives `pns`, and whether `pns` is missing); seen.parent NULL
 * when nothing has the name. */
int apply_see_parent(struct nl_sock *s, const char *parent, const char *pns,
		     struct apply_seen *ret);

/* Whether link `ifindex` has the address `c`. */
int apply_see_addr(struct nl_sock *s, int ifindex, const struct cidr *c,
		   bool *ret_present);

struct apply {
	struct store *store;
	struct plan *plan;
	struct store_txn *undo; /* takes the records back */
	size_t done;		/* steps made so far */
	unsigned char *effect;	/* per step: 1 when it changed the kernel */
};

/* Runs `p`: `records` (NULL: none) committed first as the intent, then
 * each step. 0 when all is done (a->undo still able to take the records
 * back, see apply_take_back); else `prob` says which step failed and with
 * the kernel's words, and nothing is left changed. `long_work` as for
 * intent_begin(). */
int apply_run(struct apply *a, struct store *s, struct plan *p,
	      struct store_txn *records, bool long_work, struct problem *prob);
/* Undoes a run that succeeded, when what follows it failed (reading the
 * result back): a failed request changes nothing. */
void apply_take_back(struct apply *a, const char *what);
/* Frees what a run kept for its undo. */
void apply_end(struct apply *a);

/* One step in the kernel, without records (reconcile's way): 0 done, 1
 * already so, or a negative errno with nl_extack() holding the kernel's
 * words. */
int apply_step(struct store *s, const struct plan_step *st);

/* Desired addresses of ns/name put back on it (taking a link down drops
 * its IPv6 addresses; a move drops them all). */
void apply_restore_addresses(struct store *store, struct nl_sock *s,
			     const char *ns, const char *name);

/* Desired routes through ns/name (or with no `dev`) put back: taking a
 * link down takes the routes through it, and deleting an IPv4 address
 * takes those whose gateway it made reachable; bringing the link up or
 * adding the address back does not return them. */
void apply_restore_routes(struct store *store, struct nl_sock *s,
			  const char *ns, const char *name);

#endif
