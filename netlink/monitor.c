#include "monitor.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netconf.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "link.h"
#include "ns.h"
#include "nsid.h"
#include "sock.h"

/* The kernel's notifications are read in datagrams of up to this size. */
#define MONITOR_BUF (64 * 1024)
/* Notifications a namespace may have queued before the kernel drops them
 * (ENOBUFS, then a resync): memory is taken only while it is behind. */
#define MONITOR_RCVBUF (1024 * 1024)
/* Files seen in the directory that are not (yet) mounted namespaces:
 * `ip netns add` makes the file first and mounts on it next. */
#define MONITOR_PENDING_MAX 1024
/* Changes of netnsd in flight at once: one per request thread, and a few. */
#define MONITOR_TOKENS 128
#define MONITOR_NOTES  256
/* Far ends of veths expected to go with namespaces netnsd deletes. */
#define MONITOR_EXPECTS 4096

struct monitor_entry {
	struct monitor_entry *next;
	char name[NAME_NS_MAX + 1];
	uint64_t ino;	   /* the namespace (its nsfs inode) */
	struct nl_sock *s; /* NULL once closed */
};

static pthread_mutex_t mon_mu = PTHREAD_MUTEX_INITIALIZER;
static struct monitor_entry *mon_entries, *mon_dead;
static unsigned mon_n;
static int mon_epoll = -1, mon_inotify = -1, mon_mounts = -1, mon_fence = -1,
	   mon_stopfd = -1;
static char mon_pending[MONITOR_PENDING_MAX][NAME_NS_MAX + 1];
static size_t mon_n_pending;
static monitor_fn mon_fn;
static void (*mon_idle)(void);
static pthread_mutex_t mon_sync_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mon_sync_cv = PTHREAD_COND_INITIALIZER;
static uint64_t mon_sync_asked, mon_sync_done;
static pthread_t mon_thread;
static bool mon_running;
/* epoll's tags for what is no namespace; the mount table's readiness is
 * used up by the poll that sees it, so it is remembered. */
static char mon_tag_stop, mon_tag_fence, mon_tag_inotify, mon_tag_mounts;
static bool mon_mounts_seen;

static bool mon_is_entry(const void *ptr)
{
	return ptr && ptr != &mon_tag_stop && ptr != &mon_tag_fence &&
	       ptr != &mon_tag_inotify && ptr != &mon_tag_mounts;
}

/* Whose change is it. netnsd's own changes are reported by whoever asked
 * for them (the API's answer, or reconcile), so the monitor must recognise
 * the kernel's notifications of them. Each change netnsd asks for is
 * bracketed by a token (monitor_own_begin/end, from netlink/sock.c). The
 * kernel queues a change's notifications on every listening socket before
 * it answers the request (both happen inside the same rtnetlink call,
 * notification first), so when the requester has its answer, the
 * notifications are already in the monitor's sockets. A wake-up of the
 * monitor that retires tokens first marks those done by then, drains every
 * socket with something queued, and only then retires what it marked. Such
 * a wake-up comes from a fence (an eventfd) monitor_own_end() posts, or,
 * without one, from the monitor itself, which looks for done tokens before
 * it waits again; a change ending while the monitor waits with nothing
 * queued had its notifications read already, and retires its token on the
 * spot (mon_needs_fence()). A notification is therefore read while its
 * token is active: this is ordering, not timing.
 *
 * Which token a notification belongs to: when the kernel names the
 * requester (nlmsg_pid, set for IPv4 addresses, routes, and links made or
 * deleted by RTM_NEWLINK/RTM_DELLINK), it must be the port id of one of
 * netnsd's active requests; a notification with port id 0 (a link's MTU or
 * state changed by RTM_NEWLINK on an existing link, a veth's far end,
 * IPv6 addresses, what a deletion takes with it) is netnsd's when any of
 * its changes is in flight. The one misreading left is an outside change
 * with port id 0 made while netnsd itself changes something: it is then
 * taken for netnsd's (README.md, "Watching"). */
struct monitor_token {
	bool active, done, retiring;
	uint64_t ino;
	uint32_t portid;
	enum monitor_source source;
};

static pthread_mutex_t mon_tok_mu = PTHREAD_MUTEX_INITIALIZER;
static struct monitor_token mon_tokens[MONITOR_TOKENS];
/* A fence is posted and the monitor has not read it yet: the changes done
 * meanwhile need none of their own, as the monitor marks every token done
 * by the time it reads the fence. A change of netnsd makes several
 * requests (the link, its peer's flags, ...), each ending with a fence:
 * one wake-up of the monitor for all those it had not come to yet. */
static atomic_bool mon_fence_posted;
/* The monitor has read and handled everything its last wake-up found, and
 * waits (or is about to): under mon_tok_mu. A change that ends then, with
 * nothing queued on any of the monitor's descriptors, had every
 * notification of it read while its token was active, in a wake-up that is
 * over: its token retires at once, and the monitor is not woken for it. */
static bool mon_asleep;
/* The mount table's change, seen by that look instead of the monitor. */
static atomic_bool mon_mounts_told;
/* Changes in flight past the table: each counts as one of port id 0. */
static unsigned mon_tok_overflow;
static _Thread_local enum monitor_source mon_source;

void monitor_set_source(enum monitor_source src)
{
	mon_source = src;
}

int monitor_own_begin(uint64_t ns_ino, uint32_t portid)
{
	int t = -1;

	pthread_mutex_lock(&mon_tok_mu);
	for (int i = 0; i < MONITOR_TOKENS && t < 0; i++)
		if (!mon_tokens[i].active)
			t = i;
	if (t >= 0)
		mon_tokens[t] = (struct monitor_token){
			.active = true,
			.ino = ns_ino,
			.portid = portid,
			.source = mon_source,
		};
	else
		mon_tok_overflow++;
	pthread_mutex_unlock(&mon_tok_mu);
	return t;
}

/* Whether token `t`, done just now, needs a fence to retire. Under
 * mon_tok_mu. An awake monitor looks for done tokens before it waits
 * again. An asleep one with something queued wakes for it, and then looks:
 * a look at epoll takes nothing from it but the mount table's readiness,
 * which is handed over with a fence. With nothing queued, every
 * notification of the change was read while its token was active, in a
 * wake-up that is over: the token retires at once. */
static bool mon_needs_fence(int t)
{
	struct epoll_event ev;
	int n;

	if (!mon_asleep)
		return false;
	n = epoll_wait(mon_epoll, &ev, 1, 0);
	if (n == 0) {
		mon_tokens[t] = (struct monitor_token){ 0 };
		return false;
	}
	if (n > 0 && ev.data.ptr == &mon_tag_mounts) {
		atomic_store(&mon_mounts_told, true);
		return true;
	}
	return n < 0;
}

void monitor_own_end(int token)
{
	uint64_t one = 1;
	bool fence = true;

	pthread_mutex_lock(&mon_tok_mu);
	if (token >= 0)
		mon_tokens[token].done = true;
	else if (mon_tok_overflow)
		mon_tok_overflow--;
	if (token >= 0 && mon_running && mon_fence >= 0)
		fence = mon_needs_fence(token);
	pthread_mutex_unlock(&mon_tok_mu);
	if (!fence ||
	    (mon_fence >= 0 && atomic_exchange(&mon_fence_posted, true)))
		return;
	/* Without a monitor, done tokens are retired by the next begin's
	 * search only if the monitor runs: keep the table from filling. */
	if (mon_fence < 0 || write(mon_fence, &one, sizeof(one)) < 0) {
		atomic_store(&mon_fence_posted, false);
		pthread_mutex_lock(&mon_tok_mu);
		if (token >= 0)
			mon_tokens[token].active = false;
		pthread_mutex_unlock(&mon_tok_mu);
	}
}

/* Whether a notification with port id `pid` is netnsd's own, and for whom. */
static bool mon_is_own(uint32_t pid, enum monitor_source *ret)
{
	bool own = false;

	pthread_mutex_lock(&mon_tok_mu);
	for (int i = 0; i < MONITOR_TOKENS && !own; i++) {
		const struct monitor_token *t = &mon_tokens[i];

		if (t->active && (pid == 0 || t->portid == pid)) {
			own = true;
			*ret = t->source;
		}
	}
	if (!own && pid == 0 && mon_tok_overflow) {
		own = true;
		*ret = MONITOR_SOURCE_API;
	}
	pthread_mutex_unlock(&mon_tok_mu);
	return own;
}

/* Whether a token is done that no wake-up has marked yet. Under
 * mon_tok_mu. */
static bool mon_tokens_done_unmarked(void)
{
	for (int i = 0; i < MONITOR_TOKENS; i++)
		if (mon_tokens[i].active && mon_tokens[i].done &&
		    !mon_tokens[i].retiring)
			return true;
	return false;
}

static void mon_tokens_mark_retiring(void)
{
	pthread_mutex_lock(&mon_tok_mu);
	for (int i = 0; i < MONITOR_TOKENS; i++)
		if (mon_tokens[i].active && mon_tokens[i].done)
			mon_tokens[i].retiring = true;
	pthread_mutex_unlock(&mon_tok_mu);
}

static void mon_tokens_retire(void)
{
	pthread_mutex_lock(&mon_tok_mu);
	for (int i = 0; i < MONITOR_TOKENS; i++)
		if (mon_tokens[i].retiring)
			mon_tokens[i] = (struct monitor_token){ 0 };
	pthread_mutex_unlock(&mon_tok_mu);
}

/* Whose removal is it, for a veth's far end. A namespace netnsd deletes
 * takes its veths with it, and their far ends in other namespaces, but
 * not while netnsd's request runs: the kernel dismantles a namespace
 * later, once its last reference is gone (after the unmount), and the far
 * ends' RTM_DELLINK come then, with port id 0 and no token active. So
 * before it unmounts one, netnsd notes each far end (the namespace it is
 * in, by its nsfs inode, and its ifindex, which that namespace never
 * gives another link while it lives) with the source of the deletion
 * (monitor_ns_deleting), and the notification of that link's removal,
 * whenever it comes, is that source's. An entry goes with the far end's
 * namespace, if that goes first. Under mon_mu. */
struct monitor_expect {
	uint64_t ino;
	int ifindex;
	enum monitor_source source;
};

static struct monitor_expect mon_expects[MONITOR_EXPECTS];
static size_t mon_n_expects;

static void mon_expect_add(uint64_t ino, int ifindex, enum monitor_source src)
{
	if (mon_n_expects < MONITOR_EXPECTS)
		mon_expects[mon_n_expects++] = (struct monitor_expect){
			.ino = ino, .ifindex = ifindex, .source = src
		};
}

/* Whether the removal of `ifindex` in namespace `ino` was expected, and
 * for whom; the expectation is used up. */
static bool mon_expect_take(uint64_t ino, int ifindex, enum monitor_source *ret)
{
	for (size_t i = 0; i < mon_n_expects; i++)
		if (mon_expects[i].ino == ino &&
		    mon_expects[i].ifindex == ifindex) {
			*ret = mon_expects[i].source;
			mon_expects[i] = mon_expects[--mon_n_expects];
			return true;
		}
	return false;
}

static void mon_expect_forget(uint64_t ino)
{
	for (size_t i = 0; i < mon_n_expects;)
		if (mon_expects[i].ino == ino)
			mon_expects[i] = mon_expects[--mon_n_expects];
		else
			i++;
}

/* Notes are gathered under mon_mu and handed over after it is let go: the
 * callback reads the kernel and the store, and may take its time. */
struct mon_batch {
	struct monitor_note notes[MONITOR_NOTES];
	size_t n;
};

static struct monitor_note *mon_note(struct mon_batch *b, enum monitor_kind k,
				     enum monitor_action a, const char *ns)
{
	struct monitor_note *n;

	if (b->n == MONITOR_NOTES)
		return NULL;
	n = &b->notes[b->n++];
	memset(n, 0, sizeof(*n));
	n->kind = k;
	n->action = a;
	snprintf(n->ns, sizeof(n->ns), "%s", ns);
	return n;
}

static void mon_flush(struct mon_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		mon_fn(&b->notes[i]);
	b->n = 0;
}

/* Per-thread buffers are big; the monitor reads into one of its own. */
static char mon_buf[MONITOR_BUF] __attribute__((aligned(8)));

static struct monitor_entry *mon_find(const char *ns)
{
	for (struct monitor_entry *e = mon_entries; e; e = e->next)
		if (!strcmp(e->name, ns))
			return e;
	return NULL;
}

/* Out of descriptors: the soft limit goes up to the hard one, and the hard
 * one (as root) up to what the kernel allows (README.md, "Watching"). */
static bool mon_raise_nofile(void)
{
	struct rlimit rl;
	unsigned long max = 0;
	FILE *f;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return false;
	f = fopen("/proc/sys/fs/nr_open", "re");
	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (max > rl.rlim_max) {
		rl.rlim_max = max;
		rl.rlim_cur = max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return true;
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		return setrlimit(RLIMIT_NOFILE, &rl) == 0;
	}
	return false;
}

/* A socket inside the namespace `fd`, subscribed to what the stream
 * reports, that never blocks the loop. */
static int mon_sock_open(int fd, struct nl_sock **ret)
{
	static const int groups[] = { RTNLGRP_LINK,	   RTNLGRP_IPV4_IFADDR,
				      RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
				      RTNLGRP_IPV6_ROUTE,  RTNLGRP_IPV4_NETCONF,
				      RTNLGRP_IPV6_NETCONF };
	int size = MONITOR_RCVBUF, sfd, r;
	struct nl_sock *s;

	r = nl_sock_open(fd, &s);
	if (r == -EMFILE && mon_raise_nofile())
		r = nl_sock_open(fd, &s);
	if (r < 0)
		return r;
	sfd = mnl_socket_get_fd(s->mnl);
	/* FORCE as root; otherwise as much as net.core.rmem_max allows. */
	if (setsockopt(sfd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) <
	    0)
		setsockopt(sfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	for (size_t i = 0; i < sizeof(groups) / sizeof(*groups); i++) {
		int group = groups[i];

		if (mnl_socket_setsockopt(s->mnl, NETLINK_ADD_MEMBERSHIP,
					  &group, sizeof(group)) < 0) {
			r = -errno;
			nl_sock_close(s);
			return r;
		}
	}
	if (fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK) < 0) {
		r = -errno;
		nl_sock_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

static void mon_pending_add(const char *ns)
{
	for (size_t i = 0; i < mon_n_pending; i++)
		if (!strcmp(mon_pending[i], ns))
			return;
	if (mon_n_pending < MONITOR_PENDING_MAX)
		snprintf(mon_pending[mon_n_pending++], sizeof(mon_pending[0]),
			 "%s", ns);
}

static void mon_pending_del(const char *ns)
{
	for (size_t i = 0; i < mon_n_pending; i++)
		if (!strcmp(mon_pending[i], ns)) {
			memmove(mon_pending[i], mon_pending[--mon_n_pending],
				sizeof(mon_pending[0]));
			return;
		}
}

/* Stops watching `e`: its socket is closed at once (the namespace must not
 * outlive its file because of us); the entry itself is freed by the loop,
 * which may still hold a pointer to it from epoll. Under mon_mu. */
static void mon_entry_close(struct monitor_entry *e)
{
	struct monitor_entry **pe;

	for (pe = &mon_entries; *pe; pe = &(*pe)->next)
		if (*pe == e) {
			*pe = e->next;
			break;
		}
	if (e->s) {
		epoll_ctl(mon_epoll, EPOLL_CTL_DEL,
			  mnl_socket_get_fd(e->s->mnl), NULL);
		nl_sock_close(e->s);
		e->s = NULL;
	}
	mon_expect_forget(e->ino);
	e->next = mon_dead;
	mon_dead = e;
	mon_n--;
}

/* Watches namespace `ns` if it is one now. 1 when it became watched, 0
 * when it already was (the same namespace) or is not mounted yet (then
 * pending), or -errno. Under mon_mu. */
static int mon_add_locked(const char *ns, struct mon_batch *b, bool report)
{
	struct monitor_entry *e = mon_find(ns);
	struct epoll_event ev = { .events = EPOLLIN };
	struct nl_sock *s = NULL;
	struct monitor_note *n;
	enum monitor_source src = MONITOR_SOURCE_API;
	struct stat st;
	int fd, r;

	r = nl_ns_open_fd(ns, &fd);
	if (r == -EMFILE && mon_raise_nofile())
		r = nl_ns_open_fd(ns, &fd);
	if (r == -ENOENT) {
		mon_pending_add(ns);
		return 0;
	}
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	mon_pending_del(ns);
	if (e && e->ino == (uint64_t)st.st_ino) {
		r = 0;
		goto out;
	}
	if (e)
		mon_entry_close(e); /* replaced behind our back */
	r = mon_sock_open(fd, &s);
	if (r < 0)
		goto out;
	e = calloc(1, sizeof(*e));
	if (!e) {
		nl_sock_close(s);
		r = -ENOMEM;
		goto out;
	}
	snprintf(e->name, sizeof(e->name), "%s", ns);
	e->ino = (uint64_t)st.st_ino;
	e->s = s;
	ev.data.ptr = e;
	if (epoll_ctl(mon_epoll, EPOLL_CTL_ADD, mnl_socket_get_fd(s->mnl),
		      &ev) < 0) {
		r = -errno;
		nl_sock_close(s);
		free(e);
		goto out;
	}
	e->next = mon_entries;
	mon_entries = e;
	mon_n++;
	r = 1;
	if (report && b) {
		bool own = mon_is_own(0, &src);

		n = mon_note(b, MONITOR_NAMESPACE, MONITOR_ADDED, ns);
		if (n) {
			n->own = own;
			n->source = src;
		}
	}
out:
	close(fd);
	return r;
}

static void mon_remove_locked(const char *ns, struct mon_batch *b, bool own,
			      enum monitor_source src)
{
	struct monitor_entry *e = mon_find(ns);
	struct monitor_note *n;

	mon_pending_del(ns);
	if (!e)
		return;
	mon_entry_close(e);
	n = mon_note(b, MONITOR_NAMESPACE, MONITOR_REMOVED, ns);
	if (n) {
		n->own = own;
		n->source = src;
	}
}

/* What netnsd itself did to namespace `ns` (`added`: made it; else
 * deleted it), noted as its own change and handed to the listener. */
static void mon_ns_own(const char *ns, bool added)
{
	struct mon_batch *b;

	if (!mon_running)
		return;
	b = malloc(sizeof(*b));
	if (!b)
		return;
	b->n = 0;
	pthread_mutex_lock(&mon_mu);
	if (!added) {
		mon_remove_locked(ns, b, true, mon_source);
		/* Should the deletion fail, the next change of the mount
		 * table finds the namespace again. */
		mon_pending_add(ns);
	} else if (mon_add_locked(ns, b, true) < 0) {
		log_warn("cannot watch namespace %s for events", ns);
	}
	for (size_t i = 0; added && i < b->n; i++) {
		b->notes[i].own = true;
		b->notes[i].source = mon_source;
	}
	pthread_mutex_unlock(&mon_mu);
	mon_flush(b);
	free(b);
}

void monitor_ns_added(const char *ns)
{
	mon_ns_own(ns, true);
}

void monitor_ns_gone(const char *ns)
{
	mon_ns_own(ns, false);
}

bool monitor_active(void)
{
	return mon_running;
}

/* Notes the far ends, in other namespaces, of the veths among `links` (of
 * `ns`, read through `s`), where the monitor watches those namespaces:
 * elsewhere no notification of their removal comes anyway. */
static void mon_far_ends(const char *ns, struct nl_sock *s,
			 const struct nl_link *links, size_t n,
			 enum monitor_source src)
{
	char peer[NAME_NS_MAX + 1];
	struct monitor_entry *e;

	for (size_t i = 0; i < n; i++) {
		const struct nl_link *l = &links[i];

		if (strcmp(l->kind, "veth") || l->link_netnsid < 0 ||
		    l->link <= 0 ||
		    nl_nsid_name(s, l->link_netnsid, peer, sizeof(peer)) < 0 ||
		    !strcmp(peer, ns))
			continue;
		pthread_mutex_lock(&mon_mu);
		e = mon_find(peer);
		if (e)
			mon_expect_add(e->ino, l->link, src);
		pthread_mutex_unlock(&mon_mu);
	}
}

void monitor_ns_deleting(const char *ns)
{
	struct nl_sock *s = NULL;
	struct nl_link *links = NULL;
	size_t n = 0;

	if (!mon_running || nl_ns_get(ns, &s) < 0)
		return;
	if (nl_link_dump(s, &links, &n) == 0)
		mon_far_ends(ns, s, links, n, mon_source);
	nl_ns_put(ns, s);
	free(links);
}

unsigned monitor_count(void)
{
	unsigned n;

	pthread_mutex_lock(&mon_mu);
	n = mon_n;
	pthread_mutex_unlock(&mon_mu);
	return n;
}

/* One notification, as a note. */
static void mon_parse_link(const struct monitor_entry *e,
			   const struct nlmsghdr *h, struct mon_batch *b)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	struct monitor_note *n;
	enum monitor_action act;

	/* The bridge's own per-port copies repeat what AF_UNSPEC says. */
	if (ifi->ifi_family != AF_UNSPEC)
		return;
	/* A link's first notification has every flag "changed" (~0U): it
	 * was registered, or moved here, just now. */
	act = h->nlmsg_type == RTM_DELLINK ? MONITOR_REMOVED
	      : ifi->ifi_change == ~0U	   ? MONITOR_ADDED
					   : MONITOR_CHANGED;
	n = mon_note(b, MONITOR_LINK, act, e->name);
	if (!n)
		return;
	n->ifindex = ifi->ifi_index;
	mnl_attr_for_each(a, h, sizeof(*ifi))
	{
		if (mnl_attr_get_type(a) == IFLA_IFNAME &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(n->name, sizeof(n->name), "%s",
				 mnl_attr_get_str(a));
	}
}

static void mon_addr_text(const struct nlattr *a, int family, char *buf)
{
	size_t want = family == AF_INET ? 4 : 16;

	if (mnl_attr_get_payload_len(a) == want)
		inet_ntop(family, mnl_attr_get_payload(a), buf,
			  INET6_ADDRSTRLEN);
}

static void mon_parse_addr(const struct monitor_entry *e,
			   const struct nlmsghdr *h, struct mon_batch *b)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	struct monitor_note *n;
	char local[INET6_ADDRSTRLEN] = "", address[INET6_ADDRSTRLEN] = "";

	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return;
	mnl_attr_for_each(a, h, sizeof(*ifa))
	{
		if (mnl_attr_get_type(a) == IFA_LOCAL)
			mon_addr_text(a, ifa->ifa_family, local);
		else if (mnl_attr_get_type(a) == IFA_ADDRESS)
			mon_addr_text(a, ifa->ifa_family, address);
	}
	n = mon_note(b, MONITOR_ADDRESS,
		     h->nlmsg_type == RTM_DELADDR ? MONITOR_REMOVED
						  : MONITOR_ADDED,
		     e->name);
	if (!n)
		return;
	n->ifindex = (int)ifa->ifa_index;
	n->family = ifa->ifa_family;
	n->prefixlen = ifa->ifa_prefixlen;
	/* IFA_LOCAL is the address on a point-to-point link, where
	 * IFA_ADDRESS is the far end's; elsewhere they are the same. */
	snprintf(n->addr, sizeof(n->addr), "%s", *local ? local : address);
}

static void mon_parse_route(const struct monitor_entry *e,
			    const struct nlmsghdr *h, struct mon_batch *b)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	struct monitor_note *n;
	uint32_t table = rtm->rtm_table;

	if ((rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return;
	mnl_attr_for_each(a, h, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_TABLE &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			table = mnl_attr_get_u32(a);
	}
	/* The local table follows the addresses (each has its routes
	 * there): reported as the addresses themselves. */
	if (table == RT_TABLE_LOCAL)
		return;
	n = mon_note(b, MONITOR_ROUTE,
		     h->nlmsg_type == RTM_DELROUTE ? MONITOR_REMOVED
						   : MONITOR_ADDED,
		     e->name);
	if (!n)
		return;
	n->family = rtm->rtm_family;
	n->prefixlen = rtm->rtm_dst_len;
	n->table = table;
	snprintf(n->addr, sizeof(n->addr), "%s",
		 rtm->rtm_family == AF_INET ? "0.0.0.0" : "::");
	mnl_attr_for_each(a, h, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_DST)
			mon_addr_text(a, rtm->rtm_family, n->addr);
		else if (mnl_attr_get_type(a) == RTA_GATEWAY)
			mon_addr_text(a, rtm->rtm_family, n->via);
		else if (mnl_attr_get_type(a) == RTA_OIF &&
			 !mnl_attr_validate(a, MNL_TYPE_U32))
			n->ifindex = (int)mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == RTA_PRIORITY &&
			 !mnl_attr_validate(a, MNL_TYPE_U32))
			n->metric = mnl_attr_get_u32(a);
	}
}

/* The conf attribute a netconf attribute is, in `family`'s directory. */
static const char *mon_netconf_name(int family, int type)
{
	switch (type) {
	case NETCONFA_FORWARDING: return "forwarding";
	case NETCONFA_RP_FILTER: return "rp_filter";
	case NETCONFA_MC_FORWARDING: return "mc_forwarding";
	case NETCONFA_PROXY_NEIGH:
		return family == AF_INET ? "proxy_arp" : "proxy_ndp";
	case NETCONFA_IGNORE_ROUTES_WITH_LINKDOWN:
		return "ignore_routes_with_linkdown";
	case NETCONFA_BC_FORWARDING: return "bc_forwarding";
	default: return NULL;
	}
}

/* A sysctl the kernel tells of (README.md, "Watching"): a change of one
 * value comes with that one attribute; a link's arrival comes with all of
 * them at once, and is told as the link. */
static void mon_parse_netconf(const struct monitor_entry *e,
			      const struct nlmsghdr *h, struct mon_batch *b)
{
	const struct netconfmsg *ncm = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	const char *name = NULL;
	struct monitor_note *n;
	int ifindex = 0, values = 0;
	bool has_index = false;

	if (ncm->ncm_family != AF_INET && ncm->ncm_family != AF_INET6)
		return;
	mnl_attr_for_each(a, h, sizeof(*ncm))
	{
		if (mnl_attr_get_type(a) == NETCONFA_IFINDEX &&
		    !mnl_attr_validate(a, MNL_TYPE_U32)) {
			ifindex = (int)mnl_attr_get_u32(a);
			has_index = true;
		} else if (mnl_attr_get_type(a) != NETCONFA_IFINDEX) {
			values++;
			name = mon_netconf_name(ncm->ncm_family,
						mnl_attr_get_type(a));
		}
	}
	if (!has_index || values != 1 || !name)
		return;
	n = mon_note(b, MONITOR_SYSCTL, MONITOR_CHANGED, e->name);
	if (!n)
		return;
	n->family = ncm->ncm_family;
	n->ifindex = ifindex;
	snprintf(n->sysctl, sizeof(n->sysctl), "%s", name);
}

static void mon_parse(const struct monitor_entry *e, const char *buf,
		      size_t len, struct mon_batch *b)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	int left = (int)len;
	size_t first;

	for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		enum monitor_source src = MONITOR_SOURCE_API;
		size_t min;
		bool own;

		switch (h->nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK: min = sizeof(struct ifinfomsg); break;
		case RTM_NEWADDR:
		case RTM_DELADDR: min = sizeof(struct ifaddrmsg); break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE: min = sizeof(struct rtmsg); break;
		case RTM_NEWNETCONF: min = sizeof(struct netconfmsg); break;
		default: continue;
		}
		if (h->nlmsg_len < mnl_nlmsg_size(min))
			continue;
		first = b->n;
		if (h->nlmsg_type == RTM_NEWNETCONF)
			mon_parse_netconf(e, h, b);
		else if (min == sizeof(struct ifinfomsg))
			mon_parse_link(e, h, b);
		else if (min == sizeof(struct ifaddrmsg))
			mon_parse_addr(e, h, b);
		else
			mon_parse_route(e, h, b);
		if (b->n == first)
			continue;
		own = mon_is_own(h->nlmsg_pid, &src);
		if (h->nlmsg_type == RTM_DELLINK &&
		    mon_expect_take(e->ino, b->notes[first].ifindex, &src))
			own = b->notes[first].far_end = true;
		b->notes[first].own = own;
		b->notes[first].source = src;
	}
}

/* Reads what namespace `e` has queued, to the end. */
static void mon_drain(struct monitor_entry *e, struct mon_batch *b)
{
	for (;;) {
		ssize_t n;
		int err = 0;

		pthread_mutex_lock(&mon_mu);
		if (!e->s) {
			pthread_mutex_unlock(&mon_mu);
			return;
		}
		/* Each notification is a datagram of its own: room for a
		 * few notes, or hand over first. */
		if (b->n + 4 > MONITOR_NOTES) {
			pthread_mutex_unlock(&mon_mu);
			mon_flush(b);
			continue;
		}
		n = recv(mnl_socket_get_fd(e->s->mnl), mon_buf, sizeof(mon_buf),
			 MSG_DONTWAIT);
		err = n < 0 ? errno : 0;
		if (n > 0)
			mon_parse(e, mon_buf, (size_t)n, b);
		else if (err == ENOBUFS) {
			/* The kernel dropped some: what changed is unknown,
			 * clients re-read (and so does the drift count). */
			mon_note(b, MONITOR_RESYNC, MONITOR_CHANGED, e->name);
		}
		pthread_mutex_unlock(&mon_mu);
		if (n == 0 || (n < 0 && err != ENOBUFS && err != EINTR))
			break;
	}
	mon_flush(b);
}

/* Whatever the sockets have queued, now: everything the kernel notified
 * before this call is read when it returns (the fence, above). */
static void mon_drain_ready(struct mon_batch *b)
{
	struct epoll_event evs[64];
	int n;

	do {
		n = epoll_wait(mon_epoll, evs, 64, 0);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &mon_tag_mounts)
				mon_mounts_seen = true;
			if (mon_is_entry(evs[i].data.ptr))
				mon_drain(evs[i].data.ptr, b);
		}
	} while (n == 64);
}

/* The directory as it is now, after inotify lost track (its queue
 * overflowed) or at start. */
static void mon_rescan(struct mon_batch *b, bool report)
{
	struct monitor_entry *e, *next;
	char **names = NULL;
	size_t n = 0;

	if (nl_ns_list(&names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&mon_mu);
		mon_add_locked(names[i], report ? b : NULL, report);
		pthread_mutex_unlock(&mon_mu);
		if (b->n + 4 > MONITOR_NOTES)
			mon_flush(b);
	}
	pthread_mutex_lock(&mon_mu);
	for (e = mon_entries; e && b->n + 4 <= MONITOR_NOTES; e = next) {
		next = e->next;
		if (!name_is_host(e->name) && nl_ns_probe(e->name) == 0) {
			char ns[NAME_NS_MAX + 1];

			snprintf(ns, sizeof(ns), "%s", e->name);
			mon_remove_locked(ns, b, false, MONITOR_SOURCE_API);
		}
	}
	pthread_mutex_unlock(&mon_mu);
	nl_ns_list_free(names, n);
	/* What inotify lost, the pool may have missed too. */
	nl_ns_sweep();
	mon_flush(b);
}

static void mon_inotify_read(struct mon_batch *b)
{
	char buf[8192] __attribute__((aligned(8)));
	ssize_t len;

	while ((len = read(mon_inotify, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (void *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				mon_rescan(b, true);
				continue;
			}
			if (!ev->len || name_check_namespace(ev->name) ||
			    name_is_host(ev->name))
				continue;
			pthread_mutex_lock(&mon_mu);
			if (ev->mask & (IN_CREATE | IN_MOVED_TO))
				mon_add_locked(ev->name, b, true);
			else if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
				enum monitor_source src = MONITOR_SOURCE_API;
				bool own = mon_is_own(0, &src);

				mon_remove_locked(ev->name, b, own, src);
			}
			pthread_mutex_unlock(&mon_mu);
			/* The name gone, or another file put in its place:
			 * the pool lets go of what it held there. */
			if (ev->mask &
			    (IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))
				nl_ns_sweep_one(ev->name);
			mon_flush(b);
		}
	}
}

/* Every namespace made mounts one (the mount table changes), and the look
 * for those unmounted stats every watched name: done for each, a thousand
 * namespaces made in a row would cost half a million stats. The look is
 * batched instead: at once after a quiet spell, then at most this often. */
#define MONITOR_SCAN_MS 100
static bool mon_scan_due;
static struct timespec mon_scan_last;

static long mon_scan_wait_ms(void)
{
	struct timespec now;
	long ms;

	if (!mon_scan_due)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - mon_scan_last.tv_sec) * 1000 +
	     (now.tv_nsec - mon_scan_last.tv_nsec) / 1000000;
	return ms >= MONITOR_SCAN_MS ? 0 : MONITOR_SCAN_MS - ms;
}

/* The mount table changed: a file made earlier may be a namespace now. */
static void mon_mounts_changed(struct mon_batch *b)
{
	char names[MONITOR_PENDING_MAX][NAME_NS_MAX + 1];
	size_t n;

	pthread_mutex_lock(&mon_mu);
	n = mon_n_pending;
	memcpy(names, mon_pending, n * sizeof(names[0]));
	pthread_mutex_unlock(&mon_mu);
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&mon_mu);
		mon_add_locked(names[i], b, true);
		pthread_mutex_unlock(&mon_mu);
		if (b->n + 4 > MONITOR_NOTES)
			mon_flush(b);
	}
	/* The look for namespaces unmounted comes at most every
	 * MONITOR_SCAN_MS (mon_main): a stat of every watched name. */
	mon_scan_due = true;
	mon_flush(b);
}

/* A namespace unmounted without its file removed (a bare umount) is gone
 * as well: its name no longer leads to it. */
static void mon_scan_unmounted(struct mon_batch *b)
{
	struct monitor_entry *e, *next;
	char path[PATH_MAX];
	struct stat st;
	int r;

	pthread_mutex_lock(&mon_mu);
	for (e = mon_entries; e && b->n + 4 <= MONITOR_NOTES; e = next) {
		next = e->next;
		if (name_is_host(e->name) ||
		    nl_ns_path(e->name, path, sizeof(path)) < 0)
			continue;
		r = lstat(path, &st) < 0 ? -errno : 0;
		if (r < 0 || (uint64_t)st.st_ino != e->ino) {
			char ns[NAME_NS_MAX + 1];

			snprintf(ns, sizeof(ns), "%s", e->name);
			mon_remove_locked(ns, b, false, MONITOR_SOURCE_API);
			/* Its file may become a namespace again. */
			if (r != -ENOENT)
				mon_pending_add(ns);
		}
	}
	pthread_mutex_unlock(&mon_mu);
	/* The pool's sockets, in namespaces watched here or not (a watch
	 * that failed), go the same way: a mount gone is the one sign of
	 * a bare umount. */
	nl_ns_sweep();
	mon_flush(b);
}

static void mon_free_dead(void)
{
	struct monitor_entry *e;

	pthread_mutex_lock(&mon_mu);
	while ((e = mon_dead)) {
		mon_dead = e->next;
		free(e);
	}
	pthread_mutex_unlock(&mon_mu);
}

/* What one wake-up of the loop found ready. */
struct mon_ready {
	bool stop, fence, inotify;
	struct monitor_entry *entries[64];
	int n;
};

static void mon_sort_ready(const struct epoll_event *evs, int n,
			   struct mon_ready *r)
{
	for (int i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;

		if (p == &mon_tag_mounts)
			mon_mounts_seen = true;
		else if (p == &mon_tag_stop)
			r->stop = true;
		else if (p == &mon_tag_fence)
			r->fence = true;
		else if (p == &mon_tag_inotify)
			r->inotify = true;
		else if (mon_is_entry(p))
			r->entries[r->n++] = p;
	}
}

static void *mon_main(void *arg)
{
	struct mon_batch *b = arg;
	struct epoll_event evs[64];
	uint64_t v, asked;

	for (;;) {
		struct mon_ready r = { 0 };
		bool retire;
		int n;

		mon_free_dead();
		/* A change that ended during the last wake-up, after its
		 * tokens were marked, retires in a wake-up of its own, now
		 * (it posted no fence: the monitor was awake). */
		pthread_mutex_lock(&mon_tok_mu);
		retire = mon_tokens_done_unmarked();
		mon_asleep = !retire;
		pthread_mutex_unlock(&mon_tok_mu);
		n = epoll_wait(mon_epoll, evs, 64,
			       retire ? 0 : (int)mon_scan_wait_ms());
		pthread_mutex_lock(&mon_tok_mu);
		mon_asleep = false;
		pthread_mutex_unlock(&mon_tok_mu);
		if (n < 0 && errno != EINTR)
			break;
		mon_sort_ready(evs, n < 0 ? 0 : n, &r);
		if (atomic_exchange(&mon_mounts_told, false))
			mon_mounts_seen = true;
		if (r.stop)
			break;
		retire = retire || r.fence;
		/* Every monitor_sync() begun by now is answered once
		 * what is queued now has been read. */
		pthread_mutex_lock(&mon_sync_mu);
		asked = mon_sync_asked;
		pthread_mutex_unlock(&mon_sync_mu);
		if (retire) {
			/* Fence first: the tokens done by now retire only
			 * after every socket is drained, those that became
			 * ready since the wait too. A change ending after
			 * the flag is cleared posts a fence of its own. */
			atomic_store(&mon_fence_posted, false);
			if (r.fence)
				(void)!read(mon_fence, &v, sizeof(v));
			mon_tokens_mark_retiring();
			mon_drain_ready(b);
		} else {
			/* No token retires this time: what was ready is
			 * enough (the rest wakes the next wait). */
			for (int i = 0; i < r.n; i++)
				mon_drain(r.entries[i], b);
		}
		if (r.inotify)
			mon_inotify_read(b);
		if (mon_mounts_seen) {
			mon_mounts_seen = false;
			mon_mounts_changed(b);
		}
		if (mon_scan_wait_ms() == 0) {
			mon_scan_due = false;
			mon_scan_unmounted(b);
			clock_gettime(CLOCK_MONOTONIC, &mon_scan_last);
		}
		if (retire)
			mon_tokens_retire();
		/* Before the waiters of monitor_sync() go on: what the idle
		 * pass tells (server/watch.c) is part of what was read. */
		if (mon_idle)
			mon_idle();
		pthread_mutex_lock(&mon_sync_mu);
		mon_sync_done = asked;
		pthread_cond_broadcast(&mon_sync_cv);
		pthread_mutex_unlock(&mon_sync_mu);
	}
	free(b);
	return NULL;
}

static int mon_add_fd(int fd, uint32_t events, void *tag)
{
	struct epoll_event ev = { .events = events, .data.ptr = tag };

	return epoll_ctl(mon_epoll, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The host's namespace is watched too: "host" is a namespace of the API. */
static int mon_add_host(void)
{
	struct monitor_entry *e = calloc(1, sizeof(*e));
	struct epoll_event ev = { .events = EPOLLIN };
	struct stat st;
	int r;

	if (!e)
		return -ENOMEM;
	if (fstat(nl_host_fd(), &st) < 0) {
		free(e);
		return -errno;
	}
	r = mon_sock_open(nl_host_fd(), &e->s);
	if (r < 0) {
		free(e);
		return r;
	}
	snprintf(e->name, sizeof(e->name), "host");
	e->ino = (uint64_t)st.st_ino;
	ev.data.ptr = e;
	if (epoll_ctl(mon_epoll, EPOLL_CTL_ADD, mnl_socket_get_fd(e->s->mnl),
		      &ev) < 0) {
		r = -errno;
		nl_sock_close(e->s);
		free(e);
		return r;
	}
	e->next = mon_entries;
	mon_entries = e;
	mon_n++;
	return 0;
}

int monitor_sync(unsigned ms)
{
	struct timespec deadline;
	uint64_t one = 1, ticket;
	int r = 0;

	if (!mon_running)
		return -ENOTCONN;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mon_sync_mu);
	ticket = ++mon_sync_asked;
	pthread_mutex_unlock(&mon_sync_mu);
	if (write(mon_fence, &one, sizeof(one)) < 0)
		return -errno;
	pthread_mutex_lock(&mon_sync_mu);
	while (mon_sync_done < ticket && r == 0)
		r = pthread_cond_clockwait(&mon_sync_cv, &mon_sync_mu,
					   CLOCK_MONOTONIC, &deadline);
	pthread_mutex_unlock(&mon_sync_mu);
	return r ? -ETIMEDOUT : 0;
}

int monitor_start(monitor_fn fn, void (*idle)(void))
{
	struct mon_batch *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	mon_fn = fn;
	mon_idle = idle;
	mon_epoll = epoll_create1(EPOLL_CLOEXEC);
	mon_inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	mon_fence = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	mon_stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* The mount table's changes (POLLPRI) tell when a file of the
	 * directory has become a namespace. */
	mon_mounts = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mon_epoll < 0 || mon_inotify < 0 || mon_fence < 0 ||
	    mon_stopfd < 0 || mon_mounts < 0) {
		r = -errno;
		goto fail;
	}
	/* As `ip netns add` would: the directory must exist to be watched. */
	if (mkdir(nl_ns_dir(), 0755) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	if (inotify_add_watch(mon_inotify, nl_ns_dir(),
			      IN_CREATE | IN_DELETE | IN_MOVED_FROM |
				      IN_MOVED_TO | IN_ONLYDIR |
				      IN_DONT_FOLLOW) < 0) {
		r = -errno;
		goto fail;
	}
	if ((r = mon_add_fd(mon_inotify, EPOLLIN, &mon_tag_inotify)) < 0 ||
	    (r = mon_add_fd(mon_fence, EPOLLIN, &mon_tag_fence)) < 0 ||
	    (r = mon_add_fd(mon_stopfd, EPOLLIN, &mon_tag_stop)) < 0 ||
	    (r = mon_add_fd(mon_mounts, EPOLLPRI, &mon_tag_mounts)) < 0)
		goto fail;
	r = mon_add_host();
	if (r < 0)
		goto fail;
	mon_running = true;
	nl_sock_set_change_hooks(monitor_own_begin, monitor_own_end);
	mon_rescan(b, false);
	r = -pthread_create(&mon_thread, NULL, mon_main, b);
	if (r < 0) {
		mon_running = false;
		goto fail;
	}
	return 0;
fail:
	free(b);
	return r;
}

void monitor_stop(void)
{
	uint64_t one = 1;

	if (!mon_running)
		return;
	if (write(mon_stopfd, &one, sizeof(one)) == sizeof(one))
		pthread_join(mon_thread, NULL);
	/* Changes ending from now on retire their own tokens. */
	pthread_mutex_lock(&mon_tok_mu);
	mon_running = false;
	pthread_mutex_unlock(&mon_tok_mu);
	pthread_mutex_lock(&mon_mu);
	while (mon_entries)
		mon_entry_close(mon_entries);
	pthread_mutex_unlock(&mon_mu);
	mon_free_dead();
}
