/* Namespace ids: how one namespace names another (a veth's peer is reported
 * by such an id). */
#ifndef NETNSD_NL_NSID_H
#define NETNSD_NL_NSID_H

#include <stddef.h>

#include "link.h"
#include "sock.h"

/* The id the socket's namespace gives `netns_fd`, or -1 when none. */
int nl_nsid_of(struct nl_sock *s, int netns_fd, int *ret_id);

/* The name ("host" or a namespace in the netns directory) of the namespace
 * known as `nsid` to the socket's namespace; -ENOENT when none matches. */
int nl_nsid_name(struct nl_sock *s, int nsid, char *buf, size_t len);

/* The parent of a link whose parent is in another namespace (l->opts.parent
 * -1, l->far_parent its index there): that namespace's name and the
 * parent's, read through the link's socket `s`. -ENOENT when the
 * namespace has no name netnsd knows, -ENODEV when the parent is gone. */
int nl_nsid_far_parent(struct nl_sock *s, const struct nl_link *l, char *ns,
		       size_t ns_len, char name[IFNAMSIZ]);

#endif
