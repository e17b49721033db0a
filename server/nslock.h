/* Locks by namespace name, so that mutations in different namespaces run at
 * once while two in the same namespace (or on the two ends of one veth) take
 * turns. Names hash onto a fixed set of stripes, taken in stripe order, so
 * that two requests never wait for each other in a circle. */
#ifndef NETNSD_NSLOCK_H
#define NETNSD_NSLOCK_H

#include <stddef.h>
#include <stdint.h>

#define NSLOCK_STRIPES 64

/* Takes the stripes of `names` (NULL entries are skipped) that the caller
 * does not hold yet; `held` is the caller's set of stripes. When one of them
 * sorts before a stripe already held, everything is let go and taken again
 * in order: returns 1 then, and the caller must look again at what it read
 * under the old locks. Otherwise returns 0. */
int nslock_acquire(uint64_t *held, const char *const names[], size_t n);
/* Lets go of every stripe in `held`. */
void nslock_release(uint64_t *held);

#endif
