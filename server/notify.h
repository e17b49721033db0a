#ifndef NETNSD_NOTIFY_H
#define NETNSD_NOTIFY_H

/* Tells systemd (Type=notify) about the daemon's state, when $NOTIFY_SOCKET
 * is set; a no-op otherwise. */
void notify_send(const char *state);

#endif
