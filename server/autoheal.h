/* Self-healing (--reconcile=auto; README.md, "Self-healing"): a drift on
 * a managed object that the event monitor sees is repaired by a reconcile
 * within a second, each object with an exponential backoff of its own (an
 * object someone keeps changing is not fought over in a loop) and the runs
 * capped per second. With --reconcile=manual nothing is repaired until
 * POST /v1/reconcile, as before. */
#ifndef NETNSD_AUTOHEAL_H
#define NETNSD_AUTOHEAL_H

#include <stdbool.h>
#include <stdint.h>

struct store;

void autoheal_set(bool on);
bool autoheal_on(void);

/* Object `name` of namespace `ns` went out of sync (server/watch.c). */
void autoheal_note(const char *ns, const char *name);

/* Milliseconds until autoheal_tick() has something to do; -1: nothing. */
long autoheal_wait_ms(void);
/* Runs the repair when one is due, under http_mutations_lock(). */
void autoheal_tick(struct store *store);

/* Repairs made and drifts left for later by the backoff, for /metrics. */
void autoheal_counts(uint64_t *ret_repairs, uint64_t *ret_deferred);

#endif
