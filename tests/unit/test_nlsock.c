/* Unit tests of netlink/sock.c's bounds: a wait for an answer that never
 * comes ends after the timeout with -ETIMEDOUT and words that name the
 * message, leaves the socket dirty (never to be pooled), and is waited out
 * once per request; a late answer to an earlier request is skipped, never
 * taken for the current one. Only RTM_GETLINK of "lo" is sent: it reads,
 * and works unprivileged in any namespace. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <linux/rtnetlink.h>

#include "netlink/sock.h"

#include "check.h"

static char found[IFNAMSIZ];

static int getlink_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	(void)data;
	mnl_attr_for_each(a, nlh,
			  sizeof(struct ifinfomsg)) if (mnl_attr_get_type(a) ==
							IFLA_IFNAME)
		snprintf(found, sizeof(found), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static struct nlmsghdr *getlink_lo(char *buf)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, NL_REQ_SIZE); /* attribute padding goes out too */
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = RTM_GETLINK;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
	return nlh;
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_answer(struct nl_sock *s)
{
	char buf[NL_REQ_SIZE];

	found[0] = '\0';
	CHECK(nl_sock_request(s, getlink_lo(buf), getlink_cb, NULL) == 0);
	CHECK(!strcmp(found, "lo"));
	CHECK(!s->dirty);
}

/* An answer to a request sent behind nl_sock's back, with another sequence
 * number, sits in the socket first: it is skipped. */
static void test_stale_answer_skipped(struct nl_sock *s)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh = getlink_lo(buf);

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = s->seq - 1000;
	CHECK(mnl_socket_sendto(s->mnl, nlh, nlh->nlmsg_len) > 0);
	test_answer(s);
}

static void test_timeout(void)
{
	char buf[NL_REQ_SIZE];
	struct nl_sock *s = NULL;
	struct timespec t0;
	double secs;

	CHECK(nl_sock_open(NL_SOCK_HERE, &s) == 0);
	if (!s)
		return;
	s->stall = true; /* the request is never sent */
	nl_request_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(nl_sock_request(s, getlink_lo(buf), getlink_cb, NULL) ==
	      -ETIMEDOUT);
	secs = since(&t0);
	CHECK(secs > 0.9 && secs < 3);
	CHECK(!strcmp(nl_extack(),
		      "the kernel did not answer RTM_GETLINK within 1 s"));
	CHECK(s->dirty);
	/* Given up on for the rest of the request: at once, same words. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(nl_sock_request(s, getlink_lo(buf), getlink_cb, NULL) ==
	      -ETIMEDOUT);
	CHECK(since(&t0) < 0.5);
	CHECK(strstr(nl_extack(), "RTM_GETLINK within 1 s") != NULL);
	/* A new request waits again. */
	nl_request_begin();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(nl_sock_request(s, getlink_lo(buf), getlink_cb, NULL) ==
	      -ETIMEDOUT);
	CHECK(since(&t0) > 0.9);
	nl_sock_close(s);
}

int main(void)
{
	struct nl_sock *s = NULL;

	nl_set_timeout(1);
	CHECK(nl_host_init() == 0);
	CHECK(nl_sock_open(NL_SOCK_HERE, &s) == 0);
	if (s) {
		test_answer(s);
		test_stale_answer_skipped(s);
		test_answer(s);
		nl_sock_close(s);
	}
	test_timeout();
	return check_report();
}
