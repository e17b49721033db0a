/* The whole desired state made so at once (PUT /v1/state): the plan from
 * the document (state/doc.h), the records held and what the kernel has, in
 * dependency order (namespaces, bridges, veths and other links, ports,
 * addresses; then the deletions, addresses first and namespaces last), run
 * as one transaction by apply.h: the records of the whole target are made
 * durable in one commit before the first kernel step, and a failing step
 * undoes every step before it. */
#ifndef NETNSD_APPLY_STATE_H
#define NETNSD_APPLY_STATE_H

#include "../api/problem.h"
#include "doc.h"
#include "plan.h"
#include "store.h"

/* Plans `d` into `p` and the records that go with it into *ret_records
 * (NULL when nothing of the desired state changes). A problem, with a JSON
 * pointer to the entry, when the kernel makes the document impossible: a
 * name held by someone else's link, a bridge or link that is neither
 * declared nor there. */
int apply_state_plan(struct store *s, const struct doc *d, struct plan *p,
		     struct store_txn **ret_records, struct problem *prob);

/* The whole of PUT /v1/state but the answer: reads `root` (doc.h), plans
 * it into `p`, and unless `dry_run` applies it, `edit` (NULL: none) adding
 * to the records' transaction what goes with them (a commit-confirm's
 * record). 0, or the problem. */
int apply_state_document(struct store *s, json_t *root, bool dry_run,
			 void (*edit)(struct store_txn *t, void *arg),
			 void *arg, struct plan *p, struct problem *prob);

/* Commit-confirm (README.md, "Declaring a whole topology"): the record of
 * an apply waiting for its confirmation, a marker (key.h) holding
 * {"deadline": seconds since the epoch, "previous": the document of the
 * state before}. */
#define APPLY_STATE_CONFIRM_KEY "confirm/state"

#endif
