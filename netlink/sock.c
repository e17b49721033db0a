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
static _Atomic uint64_t nl_errors[NL_ERRNO_MAX];

void nl_error_counts(uint64_t *out, size_t n)
{
	for (size_t i = 0; i < n && i < NL_ERRNO_MAX; i++)
		out[i] = nl_errors[i];
}
static int nl_host_netns_fd = -1;

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

int nl_sock_open(int netns_fd, struct nl_sock **ret)
{
	bool move = netns_fd != NL_SOCK_HERE && netns_fd != nl_host_netns_fd;
	struct nl_sock *s;
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

/* A nested call (from a callback; none makes one today) reads into a buffer
 * of its own rather than over the answer being parsed. */
static int nl_sock_run(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb,
		       void *data)
{
	bool own = !nl_rx_busy;
	char *buf = own ? nl_rx_buf : malloc(NL_DUMP_BUF);
	int r;

	if (!buf)
		return -ENOMEM;
	if (own)
		nl_rx_busy = true;
	nl_extack_msg[0] = '\0';
	nl_ended = false;
	s->dirty = true;
	nlh->nlmsg_seq = ++s->seq;
	nlh->nlmsg_pid = 0;
	if (mnl_socket_sendto(s->mnl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s->mnl, buf, NL_DUMP_BUF);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
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
