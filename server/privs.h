/* --user: run as an unprivileged user that keeps only CAP_NET_ADMIN and
 * CAP_SYS_ADMIN, in the permitted, effective, inheritable, ambient and
 * bounding sets alike. Must run before any thread is started. */
#ifndef NETNSD_PRIVS_H
#define NETNSD_PRIVS_H

/* Gives the user the netns directory and the state directory it must
 * write, then drops. Prints why on failure. */
int privs_drop(const char *user, const char *netns_dir, const char *state_file);

#endif
