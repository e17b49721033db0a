/* Named network namespaces: where they live (the netns directory shared with
 * `ip netns`), and a pool of netlink sockets opened inside each. */
#ifndef NETNSD_NL_NS_H
#define NETNSD_NL_NS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "sock.h"

int nl_ns_init(const char *netns_dir);
const char *nl_ns_dir(void);

/* The file of a named namespace; "host" has none. */
int nl_ns_path(const char *ns, char *buf, size_t len);

/* A socket inside `ns` ("host" for the daemon's own), from the pool or new.
 * -ENOENT when there is no such namespace. Give it back with nl_ns_put. */
int nl_ns_get(const char *ns, struct nl_sock **ret);
void nl_ns_put(const char *ns, struct nl_sock *s);
/* Test hook (--test-stall-netns): sockets nl_ns_get() hands out for `ns`
 * never send their requests, so every wait on them runs into the netlink
 * timeout, as with a kernel that never answers. For tests only; set once
 * at start-up. */
void nl_ns_test_stall(const char *ns);
/* Closes every pooled socket of `ns`: a socket keeps its namespace alive. */
void nl_ns_forget(const char *ns);

/* Every link name of `ns`, sorted by ifindex (free with free()). Names come
 * from one dump of the namespace, kept while a socket subscribed to its
 * link notifications hears of no change, and let go with the namespace's
 * pooled sockets (nl_ns_forget, nl_ns_sweep): naming a thousand veth peers
 * costs one dump, not a thousand calls. */
struct nl_ns_name {
	int ifindex;
	char name[IFNAMSIZ];
};
int nl_ns_link_names(const char *ns, struct nl_ns_name **ret, size_t *ret_n);
/* The name of `ifindex` in such an array; -ENODEV when absent. */
int nl_ns_name_find(const struct nl_ns_name *names, size_t n, int ifindex,
		    char *ret_name);

/* Drops pooled sockets of namespaces deleted or replaced behind our back,
 * so that the pool never keeps one alive: all of them, or those of `ns`.
 * Called when the event monitor (netlink/monitor.h) sees the netns
 * directory or the mount table change, not on a clock: an idle daemon is
 * never woken for it. */
void nl_ns_sweep(void);
void nl_ns_sweep_one(const char *ns);

/* An fd of the namespace, for IFLA_NET_NS_FD and NETNSA_FD. */
int nl_ns_open_fd(const char *ns, int *ret_fd);

/* Whether `ns` names a mounted network namespace ("host" always does). */
bool nl_ns_exists(const char *ns);
/* The same, three ways: 1 it does, 0 it does not (no file, or a file with
 * no namespace mounted on it), or a negative errno when that cannot be
 * told (out of descriptors, say): a caller about to remove and make the
 * namespace again must not take that for "absent". */
int nl_ns_probe(const char *ns);

/* Creates `ns` the way `ip netns add` does, with its loopback up. */
int nl_ns_add(const char *ns);
/* Unmounts (lazily if busy) and removes it; returns when the name is gone. */
int nl_ns_del(const char *ns);
/* Every valid namespace name in the netns directory, sorted. */
int nl_ns_list(char ***ret_names, size_t *ret_n);
void nl_ns_list_free(char **names, size_t n);

#endif
