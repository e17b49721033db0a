#include "events_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../api/name.h"
#include "events.h"

/* Frames are copied into libmicrohttpd's buffer of this size. */
#define EVENTS_HTTP_BLOCK 16384

struct events_http_stream {
	struct MHD_Connection *conn;
	struct events_sub *sub;
	uint64_t id; /* its key in the hang-up watch */
	int fd;	     /* the connection's socket, -1 when not watched */
	bool poked;  /* its client shut its side: a heartbeat was sent */
	struct events_http_stream *next, **pprev;
};

/* A client that goes away is seen at once, not at the next heartbeat:
 * a suspended connection is polled by no one, so each stream's socket is
 * watched on an epoll descriptor that wakes the main loop
 * (events_http_reap). The peer's FIN (EPOLLRDHUP) may be a close or only
 * a shutdown of its sending side, after which a client may still read:
 * it gets a heartbeat at once, which a closed peer answers with a reset
 * (EPOLLHUP, EPOLLERR), and only that ends the stream. The watch names a
 * stream by id, looked up under eh_mu, so that an event seen as the
 * stream ends never reaches freed memory. Lock order: eh_mu, then
 * events' own. */
static pthread_mutex_t eh_mu = PTHREAD_MUTEX_INITIALIZER;
static struct events_http_stream *eh_streams;
static uint64_t eh_next_id = 1;
static int eh_epoll = -1;

int events_http_init(void)
{
	eh_epoll = epoll_create1(EPOLL_CLOEXEC);
	return eh_epoll < 0 ? -errno : eh_epoll;
}

static void events_http_watch(struct events_http_stream *st)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		st->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct epoll_event ev = { .events = EPOLLRDHUP | EPOLLONESHOT };

	st->fd = -1;
	pthread_mutex_lock(&eh_mu);
	st->id = eh_next_id++;
	ev.data.u64 = st->id;
	/* Unwatched (no descriptor, no epoll), the heartbeat finds it. */
	if (ci && eh_epoll >= 0 &&
	    epoll_ctl(eh_epoll, EPOLL_CTL_ADD, ci->connect_fd, &ev) == 0)
		st->fd = ci->connect_fd;
	st->next = eh_streams;
	st->pprev = &eh_streams;
	if (eh_streams)
		eh_streams->pprev = &st->next;
	eh_streams = st;
	pthread_mutex_unlock(&eh_mu);
}

/* Out of the watch; before libmicrohttpd closes the socket (it frees the
 * response first), so the descriptor is still this stream's. */
static void events_http_unwatch(struct events_http_stream *st)
{
	pthread_mutex_lock(&eh_mu);
	if (st->fd >= 0)
		epoll_ctl(eh_epoll, EPOLL_CTL_DEL, st->fd, NULL);
	*st->pprev = st->next;
	if (st->next)
		st->next->pprev = st->pprev;
	pthread_mutex_unlock(&eh_mu);
}

void events_http_reap(void)
{
	struct epoll_event ev[32];
	struct events_http_stream *st;
	int n;

	if (eh_epoll < 0)
		return;
	n = epoll_wait(eh_epoll, ev, 32, 0);
	pthread_mutex_lock(&eh_mu);
	for (int i = 0; i < n; i++) {
		for (st = eh_streams; st && st->id != ev[i].data.u64;)
			st = st->next;
		if (!st)
			continue;
		if (ev[i].events & (EPOLLHUP | EPOLLERR)) {
			events_hangup(st->sub);
		} else if (!st->poked) {
			struct epoll_event again = { .events = EPOLLONESHOT,
						     .data.u64 = st->id };

			/* Armed again for the reset alone (EPOLLHUP and
			 * EPOLLERR are always watched). */
			st->poked = true;
			epoll_ctl(eh_epoll, EPOLL_CTL_MOD, st->fd, &again);
			events_poke(st->sub);
		}
	}
	pthread_mutex_unlock(&eh_mu);
}

/* A stream with nothing to send is suspended, not polled: it holds no
 * worker thread while it waits (libmicrohttpd runs a pool of --threads),
 * and the publisher's wake resumes it. */
static void events_http_sleep(void *cls)
{
	struct events_http_stream *st = cls;

	MHD_suspend_connection(st->conn);
}

static void events_http_wake(void *cls)
{
	struct events_http_stream *st = cls;

	MHD_resume_connection(st->conn);
}

static ssize_t events_http_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct events_http_stream *st = cls;
	bool waits;
	long n;

	(void)pos;
	n = events_read(st->sub, buf, max, &waits);
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return (ssize_t)n;
}

static void events_http_free(void *cls)
{
	struct events_http_stream *st = cls;

	if (st->pprev)
		events_http_unwatch(st);
	events_unsubscribe(st->sub);
	free(st);
}

struct events_http_query {
	struct events_filter filter;
	bool has_since;
	uint64_t since;
	struct problem *p;
};

/* An event id as a client sends it: decimal digits, no sign. */
static int events_http_id(const char *text, uint64_t *ret)
{
	char *end;

	if (!text || !*text || strspn(text, "0123456789") != strlen(text) ||
	    strlen(text) > 19)
		return -EINVAL;
	*ret = strtoull(text, &end, 10);
	return 0;
}

static void events_http_types(struct events_http_query *q, const char *v)
{
	const char *s = v ? v : "";

	if (!*s) {
		problem_field(q->p, "query.types",
			      "must list event types, separated by commas");
		return;
	}
	while (*s) {
		size_t len = strcspn(s, ",");
		unsigned bit = events_type_bit(s, len);

		if (!bit) {
			problem_field(
				q->p, "query.types",
				"has an unknown type; the types are namespace, link, address, route, sysctl, state, drift and resync");
			return;
		}
		q->filter.types |= bit;
		s += len;
		if (*s == ',' && !*++s) {
			problem_field(q->p, "query.types",
				      "must not end with a comma");
			return;
		}
	}
}

static enum MHD_Result events_http_arg(void *cls, enum MHD_ValueKind kind,
				       const char *key, const char *value)
{
	struct events_http_query *q = cls;

	(void)kind;
	if (!strcmp(key, "since")) {
		if (events_http_id(value, &q->since) < 0)
			problem_field(q->p, "query.since",
				      "must be an event id (a decimal number)");
		q->has_since = true;
	} else if (!strcmp(key, "namespace")) {
		if (!value || name_check_namespace(value))
			problem_field(q->p, "query.namespace",
				      "must be a namespace name");
		else if (q->filter.n_ns == EVENTS_NS_FILTER_MAX)
			problem_field(q->p, "query.namespace",
				      "is given more than %d times",
				      EVENTS_NS_FILTER_MAX);
		else
			snprintf(q->filter.ns[q->filter.n_ns++],
				 sizeof(q->filter.ns[0]), "%s", value);
	} else if (!strcmp(key, "types")) {
		events_http_types(q, value);
	}
	/* ticket was read with the headers; the router refused any other. */
	return MHD_YES;
}

int events_http_open(struct MHD_Connection *conn, struct MHD_Response **ret,
		     struct problem *p)
{
	struct events_http_query q = { .p = p };
	struct events_waker waker = { events_http_sleep, events_http_wake,
				      NULL };
	struct events_http_stream *st;
	struct MHD_Response *resp;
	const char *last;
	int r;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, events_http_arg,
				  &q);
	/* A reconnecting EventSource sends the last id it saw; ?since= is
	 * the same for clients that cannot set headers, and wins. */
	last = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   "Last-Event-ID");
	if (last && !q.has_since) {
		if (events_http_id(last, &q.since) < 0)
			problem_field(p, "header.Last-Event-ID",
				      "must be an event id (a decimal number)");
		q.has_since = true;
	}
	if (p->status)
		return -p->status;
	st = calloc(1, sizeof(*st));
	if (!st)
		return problem_set(p, 500, "internal", "out of memory");
	st->conn = conn;
	waker.cls = st;
	r = events_subscribe(&q.filter, q.has_since, q.since, &waker, &st->sub);
	if (r < 0) {
		free(st);
		if (r == -EBUSY)
			return problem_set(
				p, 503, "busy",
				"netnsd serves as many event subscribers as --max-subscribers allows; try again later");
		return problem_set(p, 503, "busy", "netnsd is shutting down");
	}
	resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, EVENTS_HTTP_BLOCK, events_http_read, st,
		events_http_free);
	if (!resp) {
		events_http_free(st);
		return problem_set(p, 500, "internal", "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type",
				"text/event-stream; charset=utf-8");
	/* A buffering proxy would hold events back. */
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	events_http_watch(st);
	*ret = resp;
	return 0;
}

int events_handle_stream(struct request *req, struct reply *rep)
{
	(void)req;
	return problem_set(&rep->problem, 500, "internal",
			   "the event stream is answered by the HTTP layer");
}

int events_handle_ticket(struct request *req, struct reply *rep)
{
	char ticket[EVENTS_TICKET_LEN + 1];

	(void)req;
	if (events_ticket_new(ticket, sizeof(ticket)) < 0) {
		return problem_set(
			&rep->problem, 503, "busy",
			"too many tickets are waiting to be used; try again later");
	}
	rep->json = json_pack("{s:s, s:i}", "ticket", ticket, "expires_in",
			      EVENTS_TICKET_S);
	return rep->json ? 0
			 : problem_set(&rep->problem, 500, "internal",
				       "out of memory");
}
