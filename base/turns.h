/* The API's events in the order of its changes. Two requests that change
 * one object hold its namespace's lock in turn, but each tells its events
 * after the lock is released (once durable, server/http.c): without turns
 * the first could be told last, and a subscriber would keep the state the
 * second replaced. A mutating request takes a turn as it lets its locks go
 * (request_unlock, api/request.h) and tells its events in that turn. */
#ifndef NETNSD_TURNS_H
#define NETNSD_TURNS_H

#include <stdint.h>

/* The next turn; taken under the locks that ordered the change. */
uint64_t turn_take(void);

/* Waits until every earlier turn is done, for at most `ms` milliseconds
 * (an earlier request reading a silent kernel for its events must not
 * hold the others for ever: past the bound, order gives way). */
void turn_wait(uint64_t turn, unsigned ms);

/* The turn is done, whether it told anything or not. */
void turn_done(uint64_t turn);

#endif
