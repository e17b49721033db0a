/* bench/evstream: subscribers of netnsd's event stream (GET /v1/events),
 * for scenario 10.
 *
 *   evstream lat PORT PREFIX NNS SAMPLES
 *       one subscriber; then SAMPLES times: set the MTU of lo in namespace
 *       PREFIX<k> (k spread over 0..NNS-1) over a netlink socket opened
 *       inside it, and wait until the stream shows that link with that MTU.
 *       The change and the receipt are timed by this one process
 *       (CLOCK_MONOTONIC): from just before the request is sent to the end
 *       of the event's data line. Each sample sets a MTU no sample set
 *       before (60000 + i), so an event names its sample. JSON out:
 *       percentiles in microseconds, lost samples (none within 2 s,
 *       counted in the percentiles at the time waited), and
 *       how many came with a source other than "kernel".
 *   evstream sub PORT N MARKER TIMEOUT
 *       N subscribers on one epoll loop; prints "ready" once every stream
 *       has begun, then reads them all until each has shown an event whose
 *       data names MARKER ("name":"MARKER"), or TIMEOUT seconds. JSON out:
 *       events per subscriber (least, most), first and last ids, gaps in
 *       the ids, resyncs; "complete" counts the subscribers that saw every
 *       id from the first any of them saw up to the marker, in order, and
 *       "resynced" those told with a resync that they missed some.
 *
 * Streams are decoded properly (HTTP/1.1 chunked or not); only the first
 * 4 KiB of a line is looked at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_KEEP 4096

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum cstate { C_SIZE, C_DATA, C_CRLF };

struct conn {
	int fd;
	int hdr_done, chunked, ended, failed;
	char hdr[8192];
	size_t hdr_len;
	enum cstate cs;
	size_t chunk_left;
	char size_line[32];
	size_t size_len;
	char line[LINE_KEEP + 1];
	size_t line_len; /* may exceed LINE_KEEP: the rest is not kept */
	/* what the stream showed */
	int begun; /* the ": netnsd events" comment: subscribed */
	unsigned long long events, first_id, last_id, gaps, resyncs;
	int marked;
	double t_line; /* when the current line ended */
	void (*on_data)(struct conn *c, const char *data, size_t len);
};

static const char *marker_pat;

static void on_line(struct conn *c, const char *l, size_t len)
{
	if (len && l[len - 1] == '\r')
		len--;
	if (len >= 4 && !memcmp(l, "id: ", 4)) {
		unsigned long long id = strtoull(l + 4, NULL, 10);

		if (c->last_id && id != c->last_id + 1)
			c->gaps++;
		if (!c->first_id)
			c->first_id = id;
		c->last_id = id;
		c->events++;
	} else if (len >= 13 && !memcmp(l, "event: resync", 13)) {
		c->resyncs++;
	} else if (len >= 1 && l[0] == ':') {
		c->begun = 1;
	} else if (len >= 6 && !memcmp(l, "data: ", 6) && c->on_data) {
		c->on_data(c, l + 6, len - 6);
	}
}

static void body(struct conn *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			size_t keep = c->line_len < LINE_KEEP ? c->line_len
							      : LINE_KEEP;

			c->line[keep] = 0;
			c->t_line = now_s();
			on_line(c, c->line, keep);
			c->line_len = 0;
			continue;
		}
		if (c->line_len < LINE_KEEP)
			c->line[c->line_len] = p[i];
		c->line_len++;
	}
}

/* The body after the headers, chunked or not. */
static void unchunk(struct conn *c, const char *p, size_t n)
{
	if (!c->chunked) {
		body(c, p, n);
		return;
	}
	while (n && !c->ended) {
		if (c->cs == C_SIZE) {
			if (*p == '\n') {
				c->size_line[c->size_len] = 0;
				c->chunk_left = strtoul(c->size_line, NULL, 16);
				c->size_len = 0;
				c->cs = c->chunk_left ? C_DATA : C_CRLF;
				if (!c->chunk_left)
					c->ended = 1;
			} else if (c->size_len + 1 < sizeof(c->size_line)) {
				c->size_line[c->size_len++] = *p;
			}
			p++;
			n--;
		} else if (c->cs == C_DATA) {
			size_t k = n < c->chunk_left ? n : c->chunk_left;

			body(c, p, k);
			p += k;
			n -= k;
			c->chunk_left -= k;
			if (!c->chunk_left) {
				c->cs = C_CRLF;
				c->chunk_left = 2;
			}
		} else {
			/* the CRLF after a chunk's data */
			p++;
			n--;
			if (!--c->chunk_left)
				c->cs = C_SIZE;
		}
	}
}

static void feed(struct conn *c, const char *p, size_t n)
{
	if (!c->hdr_done) {
		char *end, *te;
		size_t take = sizeof(c->hdr) - 1 - c->hdr_len;

		if (take > n)
			take = n;
		memcpy(c->hdr + c->hdr_len, p, take);
		c->hdr_len += take;
		c->hdr[c->hdr_len] = 0;
		end = strstr(c->hdr, "\r\n\r\n");
		if (!end) {
			if (c->hdr_len == sizeof(c->hdr) - 1)
				c->failed = 1;
			return;
		}
		if (strncmp(c->hdr, "HTTP/1.1 200", 12)) {
			fprintf(stderr, "evstream: %.*s\n",
				(int)strcspn(c->hdr, "\r"), c->hdr);
			c->failed = 1;
			return;
		}
		te = strcasestr(c->hdr, "transfer-encoding: chunked");
		c->chunked = te && te < end;
		c->hdr_done = 1;
		/* what came after the headers in this read */
		size_t used = (size_t)(end + 4 - c->hdr) - (c->hdr_len - take);

		unchunk(c, p + used, n - used);
		return;
	}
	unchunk(c, p, n);
}

static int conn_open(struct conn *c, int port, const char *query)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	char req[512];
	int one = 1, len;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (void *)&a, sizeof(a)) < 0) {
		perror("connect");
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	len = snprintf(req, sizeof(req),
		       "GET /v1/events%s HTTP/1.1\r\nHost: localhost\r\n"
		       "Accept: text/event-stream\r\n\r\n",
		       query);
	if (write(c->fd, req, len) != len) {
		perror("write");
		return -1;
	}
	return 0;
}

static char rbuf[1 << 16];

/* One read; -1 when the stream is over or broken. */
static int conn_read(struct conn *c)
{
	ssize_t n = read(c->fd, rbuf, sizeof(rbuf));

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		c->ended = 1;
		return -1;
	}
	feed(c, rbuf, n);
	return c->failed || c->ended ? -1 : 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
	double k = p * (n - 1);
	int lo = (int)k;

	if (!n)
		return 0;
	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (k - lo) * (v[lo + 1] - v[lo]);
}

/* ---- lat ---- */

static unsigned lat_want_mtu;
static int lat_got, lat_kernel;

static void lat_data(struct conn *c, const char *d, size_t len)
{
	const char *o = strstr(d, "\"object\":{");
	const char *m;
	char want[32];

	(void)c;
	(void)len;
	if (!o || strncmp(o + 10, "\"name\":\"lo\"", 11))
		return;
	m = strstr(o, "\"mtu\":");
	snprintf(want, sizeof(want), "%u", lat_want_mtu);
	if (!m || strncmp(m + 6, want, strlen(want)) ||
	    (m[6 + strlen(want)] != ',' && m[6 + strlen(want)] != '}'))
		return;
	lat_got = 1;
	lat_kernel = strstr(d, "\"source\":\"kernel\"") != NULL;
}

static int set_mtu(const char *prefix, int k, unsigned mtu, double *t0)
{
	char path[512], buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int home, fd, r = -1;

	snprintf(path, sizeof(path), "/run/netns/%s%d", prefix, k);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (home < 0 || fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		perror(path);
		exit(2);
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (setns(home, CLONE_NEWNET) < 0 || !nl ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink socket");
		exit(2);
	}
	close(fd);
	close(home);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = 1; /* lo */
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	*t0 = now_s();
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

	if (n > 0 &&
	    mnl_cb_run(buf, n, 1, mnl_socket_get_portid(nl), NULL, NULL) >= 0)
		r = 0;
out:
	if (r < 0)
		perror("set mtu");
	mnl_socket_close(nl);
	return r;
}

static int cmd_lat(int port, const char *prefix, int nns, int samples)
{
	struct conn c = { .on_data = lat_data };
	double *lat = calloc(samples, sizeof(double));
	int got = 0, lost = 0, not_kernel = 0;
	struct timespec gap;

	if (!lat || conn_open(&c, port, "?types=link") < 0)
		return 2;
	while (!c.begun)
		if (conn_read(&c) < 0)
			return 2;
	srand(17);
	for (int i = 0; i < samples; i++) {
		/* a different namespace each time, spread over all of them */
		int k = (int)(((long long)i * 7919) % nns);
		double t0, deadline;

		lat_want_mtu = 60000 + i;
		lat_got = 0;
		if (set_mtu(prefix, k, lat_want_mtu, &t0) < 0)
			return 2;
		deadline = t0 + 2.0;
		while (!lat_got) {
			struct pollfd p = { .fd = c.fd, .events = POLLIN };
			int ms = (int)((deadline - now_s()) * 1000);

			if (ms <= 0 || poll(&p, 1, ms) <= 0)
				break;
			if (conn_read(&c) < 0)
				return 2;
		}
		if (!lat_got) {
			/* counted at the wait's bound, so that the tail
			 * shows it */
			lost++;
			lat[got++] = (now_s() - t0) * 1e6;
			continue;
		}
		lat[got++] = (c.t_line - t0) * 1e6;
		if (!lat_kernel)
			not_kernel++;
		/* 5-15 ms between changes: no two in flight, not periodic */
		gap.tv_sec = 0;
		gap.tv_nsec = (5 + rand() % 11) * 1000000L;
		nanosleep(&gap, NULL);
	}
	qsort(lat, got, sizeof(double), cmp_d);
	printf("{\"samples\":%d,\"lost\":%d,\"not_kernel\":%d,"
	       "\"resyncs\":%llu,\"lat_us\":{\"median\":%.1f,\"p90\":%.1f,"
	       "\"p99\":%.1f,\"max\":%.1f,\"min\":%.1f}}\n",
	       got, lost, not_kernel, c.resyncs, pct(lat, got, 0.5),
	       pct(lat, got, 0.9), pct(lat, got, 0.99), got ? lat[got - 1] : 0,
	       got ? lat[0] : 0);
	close(c.fd);
	free(lat);
	return 0;
}

/* ---- sub ---- */

static void sub_data(struct conn *c, const char *d, size_t len)
{
	(void)len;
	if (strstr(d, marker_pat))
		c->marked = 1;
}

static int cmd_sub(int port, int n, const char *marker, double timeout)
{
	struct conn *cs = calloc(n, sizeof(*cs));
	int ep = epoll_create1(EPOLL_CLOEXEC), begun = 0, marked = 0, live;
	double t_end = 0, deadline;
	char pat[256];

	snprintf(pat, sizeof(pat), "\"name\":\"%s\"", marker);
	marker_pat = pat;
	if (!cs || ep < 0)
		return 2;
	for (int i = 0; i < n; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u32 = i };

		cs[i].on_data = sub_data;
		if (conn_open(&cs[i], port, "") < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e) < 0)
			return 2;
	}
	live = n;
	deadline = now_s() + timeout;
	while (live && marked < n && now_s() < deadline) {
		struct epoll_event ev[64];
		int k = epoll_wait(ep, ev, 64, 100);

		for (int j = 0; j < k; j++) {
			struct conn *c = &cs[ev[j].data.u32];
			int was_begun = c->begun, was_marked = c->marked;

			if (conn_read(c) < 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				live--;
			}
			if (c->begun && !was_begun && ++begun == n) {
				printf("ready\n");
				fflush(stdout);
			}
			if (c->marked && !was_marked) {
				marked++;
				t_end = now_s();
			}
		}
	}
	unsigned long long ev_min = ~0ULL, ev_max = 0, gaps = 0, resyncs = 0;
	unsigned long long first_min = ~0ULL, first_max = 0, last_min = ~0ULL,
			   last_max = 0;
	int failed = 0, complete = 0, resynced = 0;

	for (int i = 0; i < n; i++)
		if (cs[i].first_id && cs[i].first_id < first_min)
			first_min = cs[i].first_id;
	for (int i = 0; i < n; i++) {
		struct conn *c = &cs[i];

		/* every event since the first any subscriber saw, in order,
		 * up to the marker; or told it missed some */
		if (c->resyncs)
			resynced++;
		else if (c->marked && !c->gaps && c->first_id == first_min)
			complete++;
		failed += c->failed;
#define MINMAX(v, lo, hi)           \
	do {                        \
		if ((v) < (lo))     \
			(lo) = (v); \
		if ((v) > (hi))     \
			(hi) = (v); \
	} while (0)
		MINMAX(c->events, ev_min, ev_max);
		if (c->first_id > first_max)
			first_max = c->first_id;
		MINMAX(c->last_id, last_min, last_max);
		gaps += c->gaps;
		resyncs += c->resyncs;
		close(c->fd);
	}
	printf("{\"subscribers\":%d,\"begun\":%d,\"marked\":%d,\"failed\":%d,"
	       "\"complete\":%d,\"resynced\":%d,"
	       "\"events_min\":%llu,\"events_max\":%llu,\"first_id_min\":%llu,"
	       "\"first_id_max\":%llu,\"last_id_min\":%llu,"
	       "\"last_id_max\":%llu,\"gaps\":%llu,\"resyncs\":%llu,"
	       "\"t_marked\":%.6f}\n",
	       n, begun, marked, failed, complete, resynced, ev_min, ev_max,
	       first_min, first_max, last_min, last_max, gaps, resyncs, t_end);
	free(cs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "lat"))
		return cmd_lat(atoi(argv[2]), argv[3], atoi(argv[4]),
			       atoi(argv[5]));
	if (argc == 6 && !strcmp(argv[1], "sub"))
		return cmd_sub(atoi(argv[2]), atoi(argv[3]), argv[4],
			       atof(argv[5]));
	fprintf(stderr, "usage: evstream lat PORT PREFIX NNS SAMPLES\n"
			"       evstream sub PORT N MARKER TIMEOUT\n");
	return 2;
}
