/* The API's events in the order of its changes. Two requests that change
 * one object hold its namespace's lock in turn, but each tells its events
 * after the lock is released (once durable, server/http.c): without turns
 * the first could be told last, and a subscriber would keep the state the
 * second replaced. A mutating request takes a turn as it lets its locks go
 * (request_unlock, api/request.h) and tells its events in that turn.
 *
 * A turn names the lock stripes it held (base/nslock.h; every bit for a
 * request that ran alone): it waits only for earlier turns that held one
 * of them, so that a request slow to tell its events (reading a silent
 * namespace) holds up no change elsewhere. */
#ifndef NETNSD_TURNS_H
#define NETNSD_TURNS_H

#include <stdint.h>

/* The next turn, for changes made under the stripes of `locks`; taken
 * while they are still held. */
uint64_t turn_take(uint64_t locks);

/* Waits until every earlier turn that shares a stripe with this one is
 * done, for at most `ms` milliseconds (an earlier request reading a silent
 * kernel for its events must not hold the others for ever: past the
 * bound, order gives way). */
void turn_wait(uint64_t turn, unsigned ms);

/* The turn is done, whether it told anything or not. */
void turn_done(uint64_t turn);

#endif
