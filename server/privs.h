/* --user: run as an unprivileged user that keeps only CAP_NET_ADMIN and
 * CAP_SYS_ADMIN (permitted, effective and bounding sets; nothing inheritable
 * or ambient; no_new_privs set). Must run before any thread is started. */
#ifndef NETNSD_PRIVS_H
#define NETNSD_PRIVS_H

/* Refuses a state or netns directory others may write. With `user`
 * (NULL: none), refuses an account shared by design (root, nobody), gives
 * the user the netns and state directories if netnsd makes them now (never
 * one it did not make and the user does not own), then drops: the state is
 * opened after this, with the user's rights alone. Prints why on failure. */
int privs_drop(const char *user, const char *netns_dir, const char *state_file);

#endif
