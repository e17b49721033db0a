/* A NETLINK_ROUTE socket that lives in one network namespace, with requests
 * that wait for the kernel's acknowledgement and dumps that survive
 * interruption. Kernel errors come back as negative errno; the kernel's own
 * words (extended ACK) are kept per thread for the caller's problem. */
#ifndef NETNSD_NL_SOCK_H
#define NETNSD_NL_SOCK_H

#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nl_sock {
	struct mnl_socket *mnl;
	uint32_t portid;
	uint32_t seq;
	uint64_t gen;	 /* namespace pool generation it was opened for */
	uint64_t ns_ino; /* the namespace it is in (its nsfs inode) */
	bool dirty;	 /* a reply may be left unread: not to be reused */
	bool stall;	 /* test hook: requests are never sent (nl_ns_get) */
};

/* Size of a buffer that holds any request netnsd builds. */
#define NL_REQ_SIZE 4096

/* Every wait for the kernel's answer is bounded: a receive that hears
 * nothing for this long fails the request with -ETIMEDOUT, and nl_extack()
 * names the message the kernel left unanswered ("the kernel did not answer
 * RTM_NEWLINK within 5 s"). The socket is then dirty: a late answer would be
 * read by the next request as its own, so it is closed, never pooled.
 * Set once at start-up (--netlink-timeout), before any socket is opened. */
#define NL_TIMEOUT_DEFAULT 5
void nl_set_timeout(unsigned seconds);
unsigned nl_timeout(void);
/* Starts a request (an HTTP request, a reconcile) on this thread. Within one,
 * a namespace whose kernel let a wait time out is given up on: later calls
 * on its sockets fail at once with the same -ETIMEDOUT and words, so that a
 * request waits out the timeout once, not once per call it makes. */
void nl_request_begin(void);

/* Opens a socket inside the namespace `netns_fd` (setns on this thread and
 * back at once), or with NL_SOCK_HERE in the namespace the thread is in.
 * The process aborts rather than leave a thread in a foreign namespace. */
#define NL_SOCK_HERE (-1)
int nl_sock_open(int netns_fd, struct nl_sock **ret);
void nl_sock_close(struct nl_sock *s);

/* Subscribes `s` to the kernel's link notifications (RTNLGRP_LINK). */
int nl_sock_watch_links(struct nl_sock *s);
/* Reads, without waiting, what a watching socket has received: 0 when
 * nothing, 1 when some notification came (or some were lost: ENOBUFS), a
 * negative errno when the socket failed. */
int nl_sock_drain(struct nl_sock *s);

/* Called around every change netnsd asks the kernel for (the event
 * monitor's, netlink/monitor.h): `begin` with the socket's namespace and
 * port id before it is sent, `end` with begin's token once it is answered
 * (or failed). Set once at start-up. */
void nl_sock_set_change_hooks(int (*begin)(uint64_t ns_ino, uint32_t portid),
			      void (*end)(int token));

/* Sends `nlh` (seq and portid are filled in) and waits for the ACK. `cb`, if
 * given, sees any reply messages (NLM_F_ECHO, or a GET's answer). */
int nl_sock_request(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data);

/* Runs a dump, calling `cb` on every message. When the kernel marks the dump
 * interrupted (NLM_F_DUMP_INTR) it is run again, after `reset(data)`. */
int nl_sock_dump(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		 void (*reset)(void *data), void *data);

/* The kernel's extended-ACK message of this thread's last failed request, or
 * an empty string. */
const char *nl_extack(void);

/* How many requests the kernel refused, by errno (index), since start. */
#define NL_ERRNO_MAX 160
void nl_error_counts(uint64_t *out, size_t n);

/* The namespace of the daemon itself, opened once at start-up. */
int nl_host_fd(void);
int nl_host_init(void);

/* Switches this thread into `netns_fd`; nl_enter_host() brings it back and
 * aborts the process if it cannot. */
int nl_enter(int netns_fd);
void nl_enter_host(void);

#endif
