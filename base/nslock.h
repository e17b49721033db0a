/* Locks by namespace name, so that mutations in different namespaces run at
 * once while two in the same namespace (or on the two ends of one veth) take
 * turns. Names hash onto a fixed set of stripes, taken in stripe order, so
 * that two requests never wait for each other in a circle. */
#ifndef NETNSD_NSLOCK_H
#define NETNSD_NSLOCK_H

#include <stddef.h>
#include <stdint.h>

#define NSLOCK_STRIPES 64

/* How long a request waits for a stripe another request holds before it
 * gives up (seconds; 0: forever). A holder may be stuck in a kernel call
 * for up to the netlink timeout, and two namespaces may share a stripe: the
 * bound keeps one stuck namespace from holding up another one's requests
 * for longer than that (see README.md, "Timeouts"). Set once at start-up. */
void nslock_set_wait(unsigned seconds);

/* Takes the stripes of `names` (NULL entries are skipped) that the caller
 * does not hold yet; `held` is the caller's set of stripes. When one of them
 * sorts before a stripe already held, everything is let go and taken again
 * in order: returns 1 then, and the caller must look again at what it read
 * under the old locks. Otherwise returns 0. When a stripe stays taken by
 * another request past the wait bound, every stripe is let go (`held` is
 * 0) and -ETIMEDOUT is returned: the caller answers 503 (handler_lock). */
int nslock_acquire(uint64_t *held, const char *const names[], size_t n);
/* Lets go of every stripe in `held`. */
void nslock_release(uint64_t *held);

#endif
