/* The kernel's side of the event stream (README.md, "Watching"): one
 * rtnetlink socket inside every namespace of the netns directory (and the
 * host's), subscribed to link, address and route notifications, all read
 * by one thread on one epoll loop. Namespaces are noticed as they come and
 * go (inotify on the directory, the mount table's changes, and netnsd's
 * own calls), and a namespace's socket is closed as soon as its file goes,
 * so that the monitor never keeps a deleted namespace alive.
 *
 * Each notification is told apart as netnsd's own or not (see monitor.c,
 * "Whose change is it") and handed to a callback, outside every lock of
 * this file. */
#ifndef NETNSD_MONITOR_H
#define NETNSD_MONITOR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "../api/name.h"

enum monitor_kind {
	MONITOR_NAMESPACE,
	MONITOR_LINK,
	MONITOR_ADDRESS,
	MONITOR_ROUTE,
	MONITOR_RESYNC, /* notifications of `ns` were lost: re-read it */
	/* a sysctl the kernel tells of (RTM_NEWNETCONF): `family`,
	 * `ifindex` (or -1 for conf.all, -2 for conf.default), `sysctl` */
	MONITOR_SYSCTL,
};

enum monitor_action { MONITOR_ADDED, MONITOR_CHANGED, MONITOR_REMOVED };

/* Who asked for a change netnsd makes: set per thread, so that the
 * kernel's notifications of it can be told apart (README.md, "Watching"). */
enum monitor_source {
	MONITOR_SOURCE_API,	  /* told by the API's answer: not again */
	MONITOR_SOURCE_RECONCILE, /* told from the notifications */
	/* an API change of the whole state: told from the notifications,
	 * as the API's */
	MONITOR_SOURCE_API_BULK,
};

struct monitor_note {
	enum monitor_kind kind;
	enum monitor_action action;
	char ns[NAME_NS_MAX + 1];
	bool own;		    /* netnsd made this change */
	enum monitor_source source; /* ... on behalf of this, when own */
	/* The far end of a veth that went with a namespace netnsd deleted:
	 * told from this notification, as `source`'s, since nothing else
	 * tells it (see monitor.c, "Whose removal is it"). */
	bool far_end;
	/* links: */
	int ifindex;
	char name[IFNAMSIZ];
	/* addresses and routes: */
	int family;
	char addr[INET6_ADDRSTRLEN]; /* address, or route destination */
	unsigned prefixlen;
	char via[INET6_ADDRSTRLEN]; /* route gateway, or "" */
	uint32_t table;
	uint32_t metric; /* a route's priority */
	/* sysctls: the attribute of the conf directory ("forwarding") */
	char sysctl[32];
};

typedef void (*monitor_fn)(const struct monitor_note *n);

/* Starts the thread: `fn` gets every note, `idle` is called each time the
 * loop has read all there was. -errno when it cannot (the daemon then
 * serves without kernel events, and says so). */
int monitor_start(monitor_fn fn, void (*idle)(void));
/* Returns once the monitor has read, and handed over, every notification
 * the kernel queued before the call: 0, or -ETIMEDOUT after `ms`. */
int monitor_sync(unsigned ms);
void monitor_stop(void);
/* Whether the monitor runs: then it, not a clock, tells the socket pool
 * when a namespace goes behind netnsd's back (nl_ns_sweep). */
bool monitor_active(void);
/* How many namespaces are watched now. */
unsigned monitor_count(void);

/* netnsd made `ns` (nl_ns_add): watched from now on. */
void monitor_ns_added(const char *ns);
/* netnsd is about to delete `ns` (nl_ns_del, before the unmount): the
 * far ends of its veths, in other namespaces, will go with it, later,
 * and their removal is told as this thread's source's. */
void monitor_ns_deleting(const char *ns);
/* netnsd is deleting `ns` (nl_ns_forget): its socket is closed now, before
 * the namespace is unmounted, so that nothing of netnsd holds it. */
void monitor_ns_gone(const char *ns);

/* The source of the changes this thread makes from now on. */
void monitor_set_source(enum monitor_source src);

/* Brackets every change netnsd asks the kernel for (netlink/sock.c): the
 * socket's namespace (its nsfs inode) and port id. Returns a token for
 * monitor_own_end(), called once the kernel has answered. */
int monitor_own_begin(uint64_t ns_ino, uint32_t portid);
void monitor_own_end(int token);

#endif
