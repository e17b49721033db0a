/* bench/client: a small HTTP/1.1 keep-alive load client for netnsd.
 *
 * Replays a request script, one request per line:
 *
 *     METHOD PATH [BODY]
 *
 * (BODY is the rest of the line, sent as application/json; lines starting
 * with '#' and blank lines are skipped). With -t N the script is cut into N
 * contiguous slices, one per thread, each thread keeping one keep-alive
 * connection and sending its requests one after another. It reports, as one
 * JSON object on stdout, the number of requests, errors (non-2xx answers or
 * broken connections), wall time, throughput and latency percentiles.
 *
 *     client [-a ADDR] [-p PORT] [-t THREADS] [-r REPEAT] [-L FILE] [-k] SCRIPT|-
 *
 *   -a ADDR    server IPv4 address (default 127.0.0.1)
 *   -p PORT    server port (default 8080)
 *   -t N       threads, one connection each (default 1)
 *   -r N       each thread replays its slice N times (default 1)
 *   -L FILE    write each request's latency in microseconds, one a line, in
 *              script order (repeat-major)
 *   -k         keep going and exit 0 even when answers are not 2xx
 *   -q         no error bodies on stderr
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct req {
	char *method, *path, *body;
	size_t body_len;
};

struct worker {
	pthread_t tid;
	size_t first, count; /* slice of the script */
	uint64_t *lat;	     /* ns, per request of this slice x repeat */
	size_t done;
	size_t errors;
	unsigned status_count[6]; /* 1xx..5xx, [0] = transport failure */
	int fail;
};

static struct req *reqs;
static size_t n_reqs;
static struct sockaddr_in server;
static int repeat = 1;
static int keep_going, quiet;
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static int errors_printed;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *msg)
{
	perror(msg);
	exit(2);
}

static void load_script(FILE *f)
{
	size_t cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;

	while ((len = getline(&line, &lcap, f)) >= 0) {
		char *p = line, *m, *path, *body;

		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		m = p;
		p = strchr(p, ' ');
		if (!p) {
			fprintf(stderr, "client: bad script line: %s\n", line);
			exit(2);
		}
		*p++ = '\0';
		path = p;
		p = strchr(p, ' ');
		body = NULL;
		if (p) {
			*p++ = '\0';
			body = p;
		}
		if (n_reqs == cap) {
			cap = cap ? cap * 2 : 1024;
			reqs = realloc(reqs, cap * sizeof(*reqs));
			if (!reqs)
				die("realloc");
		}
		reqs[n_reqs].method = strdup(m);
		reqs[n_reqs].path = strdup(path);
		reqs[n_reqs].body = body ? strdup(body) : NULL;
		reqs[n_reqs].body_len = body ? strlen(body) : 0;
		n_reqs++;
	}
	free(line);
}

static int conn_open(void)
{
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A growable receive buffer holding one response at a time. */
struct rbuf {
	char *data;
	size_t len, cap;
};

static int rbuf_fill(int fd, struct rbuf *b)
{
	ssize_t n;

	if (b->cap - b->len < 65536) {
		b->cap = b->cap ? b->cap * 2 : 262144;
		b->data = realloc(b->data, b->cap);
		if (!b->data)
			die("realloc");
	}
	do
		n = recv(fd, b->data + b->len, b->cap - b->len - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	b->len += (size_t)n;
	b->data[b->len] = '\0';
	return 0;
}

/* Reads one response. Sets *status, *close_after, and the body span. On
 * return, the bytes of this response are consumed from b. */
static int read_response(int fd, struct rbuf *b, int *status, int *close_after,
			 const char **body, size_t *body_len, size_t *consumed)
{
	char *hdr_end, *p;
	size_t hlen, clen = 0;
	int chunked = 0, have_len = 0;

	while (!(hdr_end = strstr(b->data ? b->data : "", "\r\n\r\n")))
		if (rbuf_fill(fd, b) < 0)
			return -1;
	hlen = (size_t)(hdr_end - b->data) + 4;
	if (sscanf(b->data, "HTTP/1.%*d %d", status) != 1)
		return -1;
	*close_after = !strncmp(b->data, "HTTP/1.0", 8);
	for (p = strstr(b->data, "\r\n") + 2; p < hdr_end;) {
		char *eol = strstr(p, "\r\n");

		if (!strncasecmp(p, "Content-Length:", 15)) {
			clen = strtoul(p + 15, NULL, 10);
			have_len = 1;
		} else if (!strncasecmp(p, "Transfer-Encoding:", 18) &&
			   strstr(p, "chunked") && strstr(p, "chunked") < eol) {
			chunked = 1;
		} else if (!strncasecmp(p, "Connection:", 11)) {
			char *v = p + 11;

			while (*v == ' ')
				v++;
			if (!strncasecmp(v, "close", 5))
				*close_after = 1;
		}
		p = eol + 2;
	}
	if (*status == 204 || *status == 304 ||
	    (*status >= 100 && *status < 200))
		have_len = 1, clen = 0;
	if (chunked) {
		/* Decode in place: chunks are copied down over their headers. */
		size_t rd = hlen, wr = hlen;

		for (;;) {
			char *eol;
			size_t sz;

			while (!(eol = strstr(b->data + rd, "\r\n")))
				if (rbuf_fill(fd, b) < 0)
					return -1;
			sz = strtoul(b->data + rd, NULL, 16);
			rd = (size_t)(eol - b->data) + 2;
			while (b->len < rd + sz + 2)
				if (rbuf_fill(fd, b) < 0)
					return -1;
			memmove(b->data + wr, b->data + rd, sz);
			wr += sz;
			rd += sz + 2;
			if (sz == 0)
				break;
		}
		*body = b->data + hlen;
		*body_len = wr - hlen;
		*consumed = rd;
		return 0;
	}
	if (!have_len) {
		/* Until the connection closes. */
		while (rbuf_fill(fd, b) == 0)
			;
		*close_after = 1;
		clen = b->len - hlen;
	}
	while (b->len < hlen + clen)
		if (rbuf_fill(fd, b) < 0)
			return -1;
	*body = b->data + hlen;
	*body_len = clen;
	*consumed = hlen + clen;
	return 0;
}

static void report_error(const struct req *r, int status, const char *body,
			 size_t len)
{
	if (quiet)
		return;
	pthread_mutex_lock(&err_mu);
	if (errors_printed++ < 5)
		fprintf(stderr, "client: %s %s -> %d %.*s\n", r->method,
			r->path, status, (int)(len > 400 ? 400 : len),
			body ? body : "");
	pthread_mutex_unlock(&err_mu);
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct rbuf b = { 0 };
	char *out = NULL;
	size_t out_cap = 0;
	int fd = -1;

	for (int rep = 0; rep < repeat; rep++) {
		for (size_t i = 0; i < w->count; i++) {
			const struct req *r = &reqs[w->first + i];
			size_t need = strlen(r->method) + strlen(r->path) +
				      r->body_len + 256,
			       hl, consumed, blen;
			const char *body;
			int status, close_after, tries = 0;
			uint64_t t0;

			if (need > out_cap) {
				out_cap = need * 2;
				out = realloc(out, out_cap);
				if (!out)
					die("realloc");
			}
			if (r->body)
				hl = (size_t)snprintf(
					out, out_cap,
					"%s %s HTTP/1.1\r\nHost: localhost\r\n"
					"Content-Type: application/json\r\n"
					"Content-Length: %zu\r\n\r\n%s",
					r->method, r->path, r->body_len,
					r->body);
			else
				hl = (size_t)snprintf(
					out, out_cap,
					"%s %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
					r->method, r->path);
		again:
			if (fd < 0 && (fd = conn_open()) < 0) {
				w->fail = 1;
				w->status_count[0]++;
				w->errors++;
				goto end;
			}
			t0 = now_ns();
			/* One response at a time: nothing of the last is kept. */
			b.len = 0;
			if (b.data)
				b.data[0] = '\0';
			if (send_all(fd, out, hl) < 0 ||
			    read_response(fd, &b, &status, &close_after, &body,
					  &blen, &consumed) < 0) {
				close(fd);
				fd = -1;
				/* A keep-alive connection the server closed
				 * while idle: retry once on a fresh one. */
				if (tries++ == 0)
					goto again;
				w->status_count[0]++;
				w->errors++;
				w->lat[rep * w->count + i] = now_ns() - t0;
				w->done++;
				continue;
			}
			w->lat[rep * w->count + i] = now_ns() - t0;
			w->done++;
			if (status >= 100 && status < 600)
				w->status_count[status / 100]++;
			if (status < 200 || status >= 300) {
				w->errors++;
				report_error(r, status, body, blen);
			}
			if (close_after) {
				close(fd);
				fd = -1;
			}
			(void)consumed;
		}
	}
end:
	if (fd >= 0)
		close(fd);
	free(b.data);
	free(out);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *sorted, size_t n, double p)
{
	double rank;
	size_t lo;

	if (!n)
		return 0;
	rank = p * (double)(n - 1);
	lo = (size_t)rank;
	if (lo + 1 >= n)
		return (double)sorted[n - 1];
	return (double)sorted[lo] +
	       (rank - (double)lo) * (double)(sorted[lo + 1] - sorted[lo]);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *latfile = NULL;
	int port = 8080, threads = 1, opt;
	struct worker *w;
	uint64_t t0, t1, *all, sum = 0;
	size_t total = 0, errors = 0, k = 0;
	unsigned status_count[6] = { 0 };
	FILE *f;

	while ((opt = getopt(argc, argv, "a:p:t:r:L:kq")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'r': repeat = atoi(optarg); break;
		case 'L': latfile = optarg; break;
		case 'k': keep_going = 1; break;
		case 'q': quiet = 1; break;
		default:
			fprintf(stderr,
				"usage: %s [-a ADDR] [-p PORT] [-t THREADS] [-r REPEAT] [-L LATFILE] [-k] [-q] SCRIPT|-\n",
				argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1 || threads < 1 || repeat < 1) {
		fprintf(stderr, "client: one script file (or -) expected\n");
		return 2;
	}
	f = strcmp(argv[optind], "-") ? fopen(argv[optind], "r") : stdin;
	if (!f)
		die(argv[optind]);
	load_script(f);
	if (f != stdin)
		fclose(f);
	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &server.sin_addr) != 1) {
		fprintf(stderr, "client: bad address %s\n", addr);
		return 2;
	}
	if ((size_t)threads > n_reqs && n_reqs)
		threads = (int)n_reqs;

	w = calloc((size_t)threads, sizeof(*w));
	for (int i = 0; i < threads; i++) {
		w[i].first = n_reqs * (size_t)i / (size_t)threads;
		w[i].count =
			n_reqs * (size_t)(i + 1) / (size_t)threads - w[i].first;
		w[i].lat = calloc(w[i].count * (size_t)repeat + 1,
				  sizeof(uint64_t));
	}
	t0 = now_ns();
	for (int i = 0; i < threads; i++)
		if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]))
			die("pthread_create");
	for (int i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	t1 = now_ns();

	for (int i = 0; i < threads; i++) {
		total += w[i].done;
		errors += w[i].errors;
		for (int s = 0; s < 6; s++)
			status_count[s] += w[i].status_count[s];
	}
	all = calloc(total + 1, sizeof(*all));
	if (latfile) {
		FILE *lf = fopen(latfile, "w");

		if (!lf)
			die(latfile);
		/* Script order, repeat-major. */
		for (int rep = 0; rep < repeat; rep++)
			for (int i = 0; i < threads; i++)
				for (size_t j = 0; j < w[i].count; j++)
					if (rep * w[i].count + j < w[i].done)
						fprintf(lf, "%.1f\n",
							(double)w[i].lat[rep * w[i].count +
									 j] /
								1e3);
		fclose(lf);
	}
	for (int i = 0; i < threads; i++)
		for (size_t j = 0; j < w[i].done; j++) {
			all[k++] = w[i].lat[j];
			sum += w[i].lat[j];
		}
	qsort(all, k, sizeof(*all), cmp_u64);
	printf("{\"requests\": %zu, \"errors\": %zu, \"threads\": %d, "
	       "\"elapsed_s\": %.6f, \"rps\": %.1f, "
	       "\"t_start\": %.6f, \"t_end\": %.6f, "
	       "\"lat_us\": {\"mean\": %.1f, \"median\": %.1f, \"p90\": %.1f, "
	       "\"p99\": %.1f, \"min\": %.1f, \"max\": %.1f}, "
	       "\"status\": {\"fail\": %u, \"1xx\": %u, \"2xx\": %u, \"3xx\": %u, "
	       "\"4xx\": %u, \"5xx\": %u}}\n",
	       total, errors, threads, (double)(t1 - t0) / 1e9,
	       t1 > t0 ? (double)total * 1e9 / (double)(t1 - t0) : 0.0,
	       (double)t0 / 1e9, (double)t1 / 1e9,
	       k ? (double)sum / (double)k / 1e3 : 0.0, pct(all, k, 0.5) / 1e3,
	       pct(all, k, 0.9) / 1e3, pct(all, k, 0.99) / 1e3,
	       k ? (double)all[0] / 1e3 : 0.0,
	       k ? (double)all[k - 1] / 1e3 : 0.0, status_count[0],
	       status_count[1], status_count[2], status_count[3],
	       status_count[4], status_count[5]);
	for (int i = 0; i < threads; i++)
		free(w[i].lat);
	free(w);
	free(all);
	if (errors && !keep_going)
		return 1;
	return 0;
}
