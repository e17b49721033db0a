/* The rollback of an apply that was not confirmed in time (PUT /v1/state
 * with ?confirm=SECONDS; README.md, "Declaring a whole topology"). The
 * deadline is recorded with the apply, so it holds across a restart: a
 * daemon started after it rolls back at once. */
#ifndef NETNSD_CONFIRM_H
#define NETNSD_CONFIRM_H

struct store;

/* Milliseconds until confirm_tick() has something to do; -1: nothing. */
long confirm_wait_ms(struct store *store);

/* An apply that may wait for confirmation was recorded (PUT /v1/state,
 * told by server/watch.c): the main loop, which sleeps until its next
 * deadline, looks again. */
void confirm_armed(void);

/* Rolls back an apply whose deadline has passed, as one more apply of
 * the state before it, taking http_mutations_lock() for it. */
void confirm_tick(struct store *store);

#endif
