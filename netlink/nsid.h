/* Namespace ids: how one namespace names another (a veth's peer is reported
 * by such an id). */
#ifndef NETNSD_NL_NSID_H
#define NETNSD_NL_NSID_H

#include <stddef.h>

#include "sock.h"

/* The id the socket's namespace gives `netns_fd`, or -1 when none. */
int nl_nsid_of(struct nl_sock *s, int netns_fd, int *ret_id);

/* The name ("host" or a namespace in the netns directory) of the namespace
 * known as `nsid` to the socket's namespace; -ENOENT when none matches. */
int nl_nsid_name(struct nl_sock *s, int nsid, char *buf, size_t len);

#endif
