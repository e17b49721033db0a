/* What the event stream says (README.md, "Watching"): the API's changes,
 * told once they are durable (from the HTTP dispatch, by route), the
 * kernel's (netlink/monitor.h), each with its object as its GET shows it,
 * and `drift` when an object's in_sync flips. */
#ifndef NETNSD_WATCH_H
#define NETNSD_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "router.h"

struct store;

/* Starts the kernel monitor; without it the stream still carries the
 * API's events (and says so in the log). */
int watch_start(struct store *store);
void watch_stop(void);

/* Before a mutating route's handler: what its events will need that the
 * change takes away (a deleted veth's peer), or NULL. */
json_t *watch_api_before(const struct route *route, const struct request *req);
/* A mutating route answered: its events when it succeeded; when it was
 * refused, none, but a whole-state apply's undone steps are told.
 * `before` is watch_api_before()'s, borrowed. */
void watch_api(const struct route *route, const struct request *req,
	       const struct reply *rep, json_t *before);

/* A change of the whole desired state begins or ends on this thread (PUT
 * /v1/state, a rollback of one not confirmed): the kernel's notifications
 * of it are told as the API's, then, when `told` (it was applied), one
 * `state` event with `report`. */
void watch_bulk_begin(void);
void watch_bulk_end(json_t *report, bool told);

/* A reconcile run begins or ends on this thread: the kernel's notifications
 * of its changes are events with source `reconcile`. */
void watch_reconcile_begin(void);
void watch_reconcile_end(void);

/* netnsd_drifted_objects: the objects known out of sync, kept from events
 * as they come. false when the monitor does not run (the caller counts
 * itself). Waits, briefly, for the monitor to have read what the kernel
 * has notified so far, then recounts the namespaces events have marked
 * since the last call: the count is made when it is read, and only then
 * (a dump of every link of a namespace, which a tick repeated each second
 * while the API made a thousand links there). */
bool watch_drifted(size_t *ret);

#endif
