/* The reconciler: compares the desired state with the kernel and applies the
 * difference with the same nl_* calls the handlers use. It only creates and
 * converges what netnsd owns, goes on past an item that fails, and reports
 * every action and failure. */
#ifndef NETNSD_RECONCILE_H
#define NETNSD_RECONCILE_H

#include <jansson.h>

#include "store.h"

/* Returns {"actions": [...], "failures": [{"object", "error", "transient"}]}:
 * a transient failure may pass by itself, so trying again can mend it
 * (README "Start-up and convergence"). */
json_t *reconcile_run(struct store *s);

/* The failure of an item in a namespace reconcile leaves alone (someone
 * else's holds the name, or it cannot be made): nothing is applied there
 * (README.md, "Ownership"). */
extern const char reconcile_ns_left_alone[];

#endif
