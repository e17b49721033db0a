/* bench/rawnl: raw rtnetlink baselines with libmnl, the kernel's own cost
 * without any daemon or iproute2 in between.
 *
 *   rawnl dump NS REPS [addr]     dump every link of NS (and with "addr"
 *                                 every address too), REPS times; reports
 *                                 per-dump latency percentiles as JSON
 *   rawnl veth-add NSA NSB PA PB N  create N veth pairs PA<i> in NSA with
 *                                 peer PB<i> in NSB, one request and ACK
 *                                 each, the ends created in place with one
 *                                 transmit and receive queue each, as
 *                                 netnsd makes them
 *   rawnl watch-del NS COUNT TIMEOUT  subscribe to link notifications in NS,
 *                                 print "ready", then wait until COUNT links
 *                                 were deleted; prints CLOCK_MONOTONIC times
 *                                 of the first and last deletion
 *   rawnl count NS                number of links in NS
 *   rawnl ns-add PREFIX N         create N namespaces PREFIX<i> under
 *                                 /run/netns as netnsd does: the file, a
 *                                 new namespace bound on it, and lo brought
 *                                 up over a netlink socket opened inside
 *
 * NS is "host" (this process's namespace) or a name under /run/netns.
 */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <poll.h>
#include <sys/mount.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int ns_fd(const char *ns)
{
	char path[512];
	int fd;

	if (!strcmp(ns, "host"))
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

/* A socket in NS; the thread goes back to where it was afterwards. */
static struct mnl_socket *sock_in(const char *ns, unsigned groups)
{
	struct mnl_socket *nl;
	int home = ns_fd("host"), fd = ns_fd(ns);

	if (setns(fd, CLONE_NEWNET) < 0) {
		perror("setns");
		exit(2);
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		perror("mnl_socket");
		exit(2);
	}
	if (setns(home, CLONE_NEWNET) < 0) {
		perror("setns home");
		exit(2);
	}
	close(fd);
	close(home);
	return nl;
}

struct parse_ctx {
	unsigned n;
	size_t name_bytes;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;

	if (mnl_attr_get_type(a) == IFLA_IFNAME)
		c->name_bytes += strlen(mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parse_ctx *c = data;

	c->n++;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), attr_cb, c);
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parse_ctx *c = data;

	c->n++;
	mnl_attr_parse(nlh, sizeof(struct ifaddrmsg), attr_cb, c);
	return MNL_CB_OK;
}

static char buf[1 << 16];

static int run(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data)
{
	unsigned portid = mnl_socket_get_portid(nl), seq = nlh->nlmsg_seq;
	int r;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		if (r == MNL_CB_ERROR)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static unsigned dump(struct mnl_socket *nl, int type, unsigned seq,
		     int with_addr)
{
	char req[256];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct parse_ctx c = { 0 };

	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (type == RTM_GETLINK) {
		struct ifinfomsg *ifi =
			mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

		ifi->ifi_family = AF_UNSPEC;
		/* As iproute2 asks: no per-VF data. */
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_VF);
		if (run(nl, nlh, link_cb, &c) < 0) {
			perror("link dump");
			exit(1);
		}
	} else {
		struct ifaddrmsg *ifa =
			mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

		ifa->ifa_family = AF_UNSPEC;
		if (run(nl, nlh, addr_cb, &c) < 0) {
			perror("addr dump");
			exit(1);
		}
	}
	(void)with_addr;
	return c.n;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
	double rank = p * (n - 1);
	int lo = (int)rank;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (rank - lo) * (v[lo + 1] - v[lo]);
}

static int cmd_dump(const char *ns, int reps, int with_addr)
{
	struct mnl_socket *nl = sock_in(ns, 0);
	double *lat = calloc((size_t)reps, sizeof(double)), sum = 0, t0;
	unsigned links = 0, addrs = 0;

	for (int i = 0; i < reps; i++) {
		t0 = now_s();
		links = dump(nl, RTM_GETLINK, (unsigned)(2 * i + 1), 0);
		if (with_addr)
			addrs = dump(nl, RTM_GETADDR, (unsigned)(2 * i + 2), 1);
		lat[i] = (now_s() - t0) * 1e6;
		sum += lat[i];
	}
	qsort(lat, (size_t)reps, sizeof(double), cmp_d);
	printf("{\"links\": %u, \"addrs\": %u, \"reps\": %d, \"lat_us\": "
	       "{\"mean\": %.1f, \"median\": %.1f, \"p90\": %.1f, \"p99\": %.1f, "
	       "\"min\": %.1f}, \"rps\": %.1f}\n",
	       links, addrs, reps, sum / reps, pct(lat, reps, 0.5),
	       pct(lat, reps, 0.9), pct(lat, reps, 0.99), lat[0],
	       reps / (sum / 1e6));
	mnl_socket_close(nl);
	free(lat);
	return 0;
}

static void put_one_queue(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, 1);
	mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, 1);
}

static int cmd_veth_add(const char *nsa, const char *nsb, const char *pa,
			const char *pb, int n)
{
	struct mnl_socket *nl = sock_in(nsa, 0);
	int fdb = ns_fd(nsb);
	char req[1024], name[IFNAMSIZ + 1];
	double t0 = now_s(), t;

	for (int i = 0; i < n; i++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
		struct ifinfomsg *ifi;
		struct nlattr *li, *data, *peer;

		nlh->nlmsg_type = RTM_NEWLINK;
		nlh->nlmsg_flags =
			NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
		nlh->nlmsg_seq = (unsigned)i + 1;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		snprintf(name, sizeof(name), "%s%d", pa, i);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		put_one_queue(nlh);
		li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
		data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		snprintf(name, sizeof(name), "%s%d", pb, i);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		put_one_queue(nlh);
		if (strcmp(nsa, nsb))
			mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)fdb);
		mnl_attr_nest_end(nlh, peer);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, li);
		if (run(nl, nlh, NULL, NULL) < 0) {
			fprintf(stderr, "rawnl: creating %s: %s\n", name,
				strerror(errno));
			return 1;
		}
	}
	t = now_s() - t0;
	printf("{\"n\": %d, \"elapsed_s\": %.6f, \"per_op_us\": %.1f}\n", n, t,
	       t * 1e6 / n);
	mnl_socket_close(nl);
	close(fdb);
	return 0;
}

/* The kernel's own cost of what netnsd does for POST /v1/namespaces. */
static int cmd_ns_add(const char *prefix, int n)
{
	static const char self[] = "/proc/self/ns/net";
	int home = ns_fd("host");
	char path[512], req[256];
	double t0 = now_s(), t;

	for (int i = 0; i < n; i++) {
		struct mnl_socket *nl;
		struct nlmsghdr *nlh;
		struct ifinfomsg *ifi;
		int fd;

		snprintf(path, sizeof(path), "/run/netns/%s%d", prefix, i);
		fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
		if (fd >= 0)
			close(fd);
		if (fd < 0 || unshare(CLONE_NEWNET) < 0 ||
		    mount(self, path, "none", MS_BIND, NULL) < 0) {
			perror(path);
			return 1;
		}
		nl = mnl_socket_open(NETLINK_ROUTE);
		if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
		    setns(home, CLONE_NEWNET) < 0) {
			perror("rawnl: socket");
			return 1;
		}
		nlh = mnl_nlmsg_put_header(req);
		nlh->nlmsg_type = RTM_NEWLINK;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		nlh->nlmsg_seq = 1;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = 1; /* lo */
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = IFF_UP;
		if (run(nl, nlh, NULL, NULL) < 0) {
			fprintf(stderr, "rawnl: lo up in %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		mnl_socket_close(nl);
	}
	t = now_s() - t0;
	printf("{\"n\": %d, \"elapsed_s\": %.6f, \"per_op_us\": %.1f}\n", n, t,
	       t * 1e6 / n);
	close(home);
	return 0;
}

static int cmd_watch_del(const char *ns, int count, double timeout)
{
	struct mnl_socket *nl = sock_in(ns, RTMGRP_LINK);
	int size = 64 << 20, seen = 0, overflow = 0;
	double first = 0, last = 0, deadline;
	struct pollfd pfd;

	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		   sizeof(size));
	printf("ready\n");
	fflush(stdout);
	deadline = now_s() + timeout;
	pfd.fd = mnl_socket_get_fd(nl);
	pfd.events = POLLIN;
	while (seen < count) {
		double left = deadline - now_s();
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				overflow = 1;
				continue;
			}
			if (errno == EAGAIN || errno == EINTR)
				continue;
			perror("recv");
			break;
		}
		int len = (int)n;

		for (struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != RTM_DELLINK)
				continue;
			last = now_s();
			if (!seen++)
				first = last;
		}
	}
	printf("{\"deleted\": %d, \"t_first\": %.6f, \"t_last\": %.6f, "
	       "\"overflow\": %s}\n",
	       seen, first, last, overflow ? "true" : "false");
	mnl_socket_close(nl);
	return seen >= count ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "dump"))
		return cmd_dump(argv[2], atoi(argv[3]),
				argc > 4 && !strcmp(argv[4], "addr"));
	if (argc == 7 && !strcmp(argv[1], "veth-add"))
		return cmd_veth_add(argv[2], argv[3], argv[4], argv[5],
				    atoi(argv[6]));
	if (argc == 5 && !strcmp(argv[1], "watch-del"))
		return cmd_watch_del(argv[2], atoi(argv[3]), atof(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "ns-add"))
		return cmd_ns_add(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "count")) {
		struct mnl_socket *nl = sock_in(argv[2], 0);

		printf("%u\n", dump(nl, RTM_GETLINK, 1, 0));
		return 0;
	}
	fprintf(stderr,
		"usage: rawnl dump NS REPS [addr] | veth-add NSA NSB PA PB N | "
		"watch-del NS COUNT TIMEOUT | count NS | ns-add PREFIX N\n");
	return 2;
}
