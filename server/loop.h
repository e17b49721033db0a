/* The main loop's sleep (server/main.c). The loop has no clock of its own:
 * it sleeps until a stop signal, the next deadline of a job that has one
 * (a retry, a confirmation's rollback, a repair, the sweep of connections
 * while there are any), or until another thread hands it work with
 * loop_wake(). An idle daemon is never woken (README.md, "Watching"). */
#ifndef NETNSD_LOOP_H
#define NETNSD_LOOP_H

#include <signal.h>

/* Takes the signals of `stop`, which every thread must have blocked. */
int loop_init(const sigset_t *stop);
/* Sleeps for up to `ms` milliseconds (-1: until woken). The signal that
 * asks to stop, 0 when woken or timed out, or -errno. */
int loop_wait(long ms);
/* From any thread: the loop looks at its jobs again, now. */
void loop_wake(void);
/* A descriptor that wakes the loop too when it is readable (an epoll
 * descriptor of events to look at); one, set at start-up, -1 for none. */
void loop_watch(int fd);

#endif
