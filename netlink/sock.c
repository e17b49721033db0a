#include "sock.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define NL_DUMP_BUF   (32u * 1024)
#define NL_DUMP_TRIES 8

static _Thread_local char nl_extack_msg[256];
/* Set when the message that ends a request (its ACK, error or DONE) was
 * read: nothing of that request is left in the socket. */
static _Thread_local bool nl_ended;
/* Set when the kernel flagged the dump as interrupted (NLM_F_DUMP_INTR): the
 * links changed while it ran, so it may have missed or doubled some. */
static _Thread_local bool nl_dump_intr;
/* Each thread's receive buffer. Freed after every request, a 32 KiB block
 * went back to the kernel and was mapped and faulted in again by the next
 * one (the thread's malloc arena trimmed its top), about 5% of the daemon's
 * CPU per veth pair. Aligned as malloc's blocks were (netlink headers need
 * 4 bytes). Static TLS comes out of every thread's stack: a thread given a
 * small stack must leave room for it. */
static _Thread_local _Alignas(max_align_t) char nl_rx_buf[NL_DUMP_BUF];
static _Thread_local bool nl_rx_busy;
/* The namespace (pool generation) this thread's request gave up on, and
 * why; see nl_request_begin(). */
static _Thread_local bool nl_gave_up;
static _Thread_local uint64_t nl_gave_up_gen;
static _Thread_local char nl_gave_up_msg[sizeof(nl_extack_msg)];
static _Atomic uint64_t nl_errors[NL_ERRNO_MAX];

void nl_error_counts(uint64_t *out, size_t n)
{
	for (size_t i = 0; i < n && i < NL_ERRNO_MAX; i++)
		out[i] = nl_errors[i];
}
static int nl_host_netns_fd = -1;
static unsigned nl_timeout_s = NL_TIMEOUT_DEFAULT;

void nl_set_timeout(unsigned seconds)
{
	nl_timeout_s = seconds;
}

unsigned nl_timeout(void)
{
	return nl_timeout_s;
}

void nl_request_begin(void)
{
	nl_gave_up = false;
}

const char *nl_extack(void)
{
	return nl_extack_msg;
}

int nl_host_init(void)
{
	if (nl_host_netns_fd >= 0)
		return 0;
	nl_host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return nl_host_netns_fd < 0 ? -errno : 0;
}

int nl_host_fd(void)
{
	return nl_host_netns_fd;
}

int nl_enter(int netns_fd)
{
	return setns(netns_fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

void nl_enter_host(void)
{
	if (setns(nl_host_netns_fd, CLONE_NEWNET) < 0) {
		fprintf(stderr,
			"netnsd: cannot return a thread to the host network namespace: %s\n",
			strerror(errno));
		abort();
	}
}

static int nl_sock_set_rcvtimeo(struct nl_sock *s)
{
	struct timeval tv = { .tv_sec = (time_t)nl_timeout_s };

	if (setsockopt(mnl_socket_get_fd(s->mnl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		       sizeof(tv)) < 0)
		return -errno;
	return 0;
}

int nl_sock_open(int netns_fd, struct nl_sock **ret)
{
	bool move = netns_fd != NL_SOCK_HERE && netns_fd != nl_host_netns_fd;
	struct nl_sock *s;
	struct stat st;
	int one = 1, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (move) {
		r = nl_enter(netns_fd);
		if (r < 0)
			goto fail;
	}
	s->mnl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	r = s->mnl ? 0 : -errno;
	/* Which namespace: the event monitor tells netnsd's own changes by
	 * it (netlink/monitor.c). */
	if (r == 0 && stat("/proc/thread-self/ns/net", &st) == 0)
		s->ns_ino = (uint64_t)st.st_ino;
	if (move)
		nl_enter_host();
	if (r < 0)
		goto fail;
	if (mnl_socket_bind(s->mnl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	/* Extended ACKs carry the kernel's reason; capped ACKs keep error
	 * replies from echoing the whole request back. */
	mnl_socket_setsockopt(s->mnl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->mnl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->mnl, NETLINK_GET_STRICT_CHK, &one,
			      sizeof(one));
	/* Set once here, the bound costs nothing per request (a poll()
	 * before every receive would cost a system call on the hot path of
	 * every veth made). The kernel answers in the sender's context, so
	 * the wait it bounds is a reply that never comes; a call blocked
	 * inside sendmsg() itself (on the kernel's own locks) is beyond any
	 * user-space bound. */
	r = nl_sock_set_rcvtimeo(s);
	if (r < 0)
		goto fail;
	s->portid = mnl_socket_get_portid(s->mnl);
	s->seq = (uint32_t)random();
	*ret = s;
	return 0;
fail:
	nl_sock_close(s);
	return r;
}

int nl_sock_watch_links(struct nl_sock *s)
{
	int group = RTNLGRP_LINK, size = 4096;

	/* Whether anything came is all that matters: a small buffer keeps
	 * a namespace nobody lists from holding the default's 200 KiB of
	 * notifications, and an overflow reads as a change (ENOBUFS). */
	if (setsockopt(mnl_socket_get_fd(s->mnl), SOL_SOCKET, SO_RCVBUF, &size,
		       sizeof(size)) < 0 ||
	    mnl_socket_setsockopt(s->mnl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0)
		return -errno;
	return 0;
}

int nl_sock_drain(struct nl_sock *s)
{
	char buf[8192];
	int seen = 0;

	for (;;) {
		ssize_t n = recv(mnl_socket_get_fd(s->mnl), buf, sizeof(buf),
				 MSG_DONTWAIT);

		if (n > 0) {
			seen = 1;
			continue;
		}
		if (n == 0)
			return seen;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return seen;
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS) {
			seen = 1; /* notifications were lost */
			continue;
		}
		return -errno;
	}
}

void nl_sock_close(struct nl_sock *s)
{
	if (!s)
		return;
	if (s->mnl)
		mnl_socket_close(s->mnl);
	free(s);
}

static int nl_extack_attr_cb(const struct nlattr *attr, void *data)
{
	(void)data;
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(nl_extack_msg, sizeof(nl_extack_msg), "%s",
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: error 0 is the ACK; else keep the extended ACK message. */
static int nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t off;

	(void)data;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	nl_ended = true;
	if (err->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += mnl_nlmsg_get_payload_len(&err->msg) +
			       sizeof(struct nlmsghdr);
		mnl_attr_parse(nlh, (unsigned int)off, nl_extack_attr_cb, NULL);
	}
	errno = -err->error;
	return MNL_CB_ERROR;
}

/* NLMSG_DONE of a dump may carry an error too. */
static int nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	nl_ended = true;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int err = *(int *)mnl_nlmsg_get_payload(nlh);

		if (err < 0) {
			if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
				mnl_attr_parse(nlh, sizeof(int),
					       nl_extack_attr_cb, NULL);
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static mnl_cb_t nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = nl_error_cb,
	[NLMSG_DONE] = nl_done_cb,
};

/* Whether `buf` holds the message that ends request `seq` (its DONE, or an
 * error). */
static bool nl_buf_ends(const char *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left))
		if (m->nlmsg_seq == seq && (m->nlmsg_type == NLMSG_DONE ||
					    m->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/* The name of a request's message type, for the timeout's problem. */
static const char *nl_type_name(uint16_t type)
{
	switch (type) {
	case RTM_NEWLINK: return "RTM_NEWLINK";
	case RTM_DELLINK: return "RTM_DELLINK";
	case RTM_GETLINK: return "RTM_GETLINK";
	case RTM_SETLINK: return "RTM_SETLINK";
	case RTM_NEWADDR: return "RTM_NEWADDR";
	case RTM_DELADDR: return "RTM_DELADDR";
	case RTM_GETADDR: return "RTM_GETADDR";
	case RTM_NEWNSID: return "RTM_NEWNSID";
	case RTM_GETNSID: return "RTM_GETNSID";
	default: return "a netlink request";
	}
}

/* Whether the datagram in `buf` answers an earlier request than `seq`: a
 * late answer to a request given up on. Sockets that gave up are closed
 * (nl_ns_put), so none should ever come; if one does, it is skipped rather
 * than taken for this request's answer or failing it. */
static bool nl_buf_stale(const char *buf, size_t len, uint32_t seq)
{
	const struct nlmsghdr *m = (const struct nlmsghdr *)buf;
	int left = (int)len;

	return mnl_nlmsg_ok(m, left) && m->nlmsg_seq != 0 &&
	       m->nlmsg_seq != seq;
}

#define NL_NO_TOKEN (-2)

static int (*nl_change_begin)(uint64_t ns_ino, uint32_t portid);
static void (*nl_change_end)(int token);

void nl_sock_set_change_hooks(int (*begin)(uint64_t ns_ino, uint32_t portid),
			      void (*end)(int token))
{
	nl_change_begin = begin;
	nl_change_end = end;
}

/* Whether a message asks the kernel to change what the stream reports. */
static bool nl_is_change(uint16_t type)
{
	switch (type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
	case RTM_SETLINK:
	case RTM_NEWADDR:
	case RTM_DELADDR:
	case RTM_NEWROUTE:
	case RTM_DELROUTE: return true;
	default: return false;
	}
}

/* A nested call (from a callback; none makes one today) reads into a buffer
 * of its own rather than over the answer being parsed. */
static int nl_sock_run(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		       void *data)
{
	bool own = !nl_rx_busy;
	int token = NL_NO_TOKEN;
	char *buf;
	int r;

	if (nl_gave_up && s->gen == nl_gave_up_gen) {
		memcpy(nl_extack_msg, nl_gave_up_msg, sizeof(nl_extack_msg));
		return -ETIMEDOUT;
	}
	buf = own ? nl_rx_buf : malloc(NL_DUMP_BUF);
	if (!buf)
		return -ENOMEM;
	if (own)
		nl_rx_busy = true;
	nl_extack_msg[0] = '\0';
	nl_ended = false;
	s->dirty = true;
	nlh->nlmsg_seq = ++s->seq;
	nlh->nlmsg_pid = 0;
	/* A change: the event monitor is to know it is netnsd's. */
	if (nl_change_begin && nl_is_change(nlh->nlmsg_type))
		token = nl_change_begin(s->ns_ino, s->portid);
	/* The test hook's namespace: the request is never sent, so the
	 * receive below waits out its timeout, as for a kernel that never
	 * answers (see README.md, "Testing"). */
	if (!s->stall && mnl_socket_sendto(s->mnl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s->mnl, buf, NL_DUMP_BUF);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			snprintf(nl_extack_msg, sizeof(nl_extack_msg),
				 "the kernel did not answer %s within %u s",
				 nl_type_name(nlh->nlmsg_type), nl_timeout_s);
			r = -ETIMEDOUT;
			nl_errors[ETIMEDOUT]++; /* the metric's errno="110" */
			nl_gave_up = true;
			nl_gave_up_gen = s->gen;
			memcpy(nl_gave_up_msg, nl_extack_msg,
			       sizeof(nl_gave_up_msg));
			goto out;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (nl_buf_stale(buf, (size_t)n, s->seq))
			continue;
		r = mnl_cb_run2(buf, (size_t)n, s->seq, s->portid, cb, data,
				nl_ctl_cbs, NLMSG_MIN_TYPE);
		/* libmnl stops at the first message flagged NLM_F_DUMP_INTR,
		 * with EINTR, before any callback sees it: read the rest of
		 * the dump to its end, and let nl_sock_dump() start over. */
		if (r == MNL_CB_ERROR && errno == EINTR &&
		    (nlh->nlmsg_flags & NLM_F_DUMP)) {
			nl_dump_intr = true;
			if (!nl_buf_ends(buf, (size_t)n, s->seq))
				continue;
			nl_ended = true;
			r = 0;
			goto out;
		}
		if (r == MNL_CB_ERROR) {
			r = errno ? -errno : -EIO;
			if (-r < NL_ERRNO_MAX)
				nl_errors[-r]++;
			goto out;
		}
		if (r == MNL_CB_STOP) {
			r = 0;
			goto out;
		}
	}
out:
	if (token != NL_NO_TOKEN)
		nl_change_end(token);
	/* Cut short before the end (a stray reply, a failed callback), the
	 * rest of the answer would confuse the next request. */
	s->dirty = !nl_ended;
	if (own)
		nl_rx_busy = false;
	else
		free(buf);
	return r;
}

int nl_sock_request(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data)
{
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	return nl_sock_run(s, nlh, cb, data);
}

int nl_sock_dump(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		 void (*reset)(void *data), void *data)
{
	int r, tries;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
	for (tries = 0; tries < NL_DUMP_TRIES; tries++) {
		nl_dump_intr = false;
		r = nl_sock_run(s, nlh, cb, data);
		if (r < 0 || !nl_dump_intr)
			return r;
		if (reset)
			reset(data);
	}
	return -EAGAIN;
}
