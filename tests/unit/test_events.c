/* Unit tests of server/events.c, the event stream's history and its
 * subscribers: ids that only grow, a bounded history, resuming inside it
 * and from before it (resync), filters, a subscriber that falls behind
 * (resync, then the end) while another keeps up, one that filters
 * everything out and so never falls behind, the subscriber limit, the
 * sleep/wake hand-over, wake-ups coalesced, one-use tickets, and an
 * object given as text told as the same bytes as the json_t it was printed
 * from. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/events.h"

#include "check.h"

/* Wakes come from the flusher's thread too. */
static atomic_int n_sleeps, n_wakes;

static void t_sleep(void *cls)
{
	(void)cls;
	n_sleeps++;
}

static void t_wake(void *cls)
{
	(void)cls;
	n_wakes++;
}

static const struct events_waker waker = { t_sleep, t_wake, NULL };

/* Everything the subscriber has to give now, as one string. */
static long drain(struct events_sub *s, char *out, size_t len, bool *ended)
{
	char buf[256];
	size_t used = 0;
	bool waits = false;
	long n;

	*ended = false;
	out[0] = '\0';
	for (;;) {
		n = events_read(s, buf, sizeof(buf), &waits);
		if (n < 0) {
			*ended = true;
			break;
		}
		if (n == 0)
			break;
		if (used + (size_t)n < len) {
			memcpy(out + used, buf, (size_t)n);
			used += (size_t)n;
			out[used] = '\0';
		}
	}
	return (long)used;
}

static void emit_link(const char *ns, const char *name)
{
	events_emit(EVENTS_LINK, "changed", ns, name, NULL,
		    EVENTS_SOURCE_KERNEL);
}

static int count(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void test_ids_history_resume(void)
{
	struct events_filter all = { 0 };
	struct events_sub *s;
	char out[8192];
	bool ended;

	CHECK(events_init(NULL, 8, 4, 2) == 0);
	CHECK(events_last_id() == 0);
	for (int i = 0; i < 5; i++)
		emit_link("red", "va");
	CHECK(events_last_id() == 5);

	/* Inside the history: exactly the events after `since`. */
	CHECK(events_subscribe(&all, true, 2, &waker, &s) == 0);
	drain(s, out, sizeof(out), &ended);
	CHECK(!ended);
	CHECK(!strstr(out, "id: 2\n") && strstr(out, "id: 3\n") &&
	      strstr(out, "id: 5\n") && count(out, "event: link") == 3);
	CHECK(strstr(out, "\"source\":\"kernel\"") &&
	      strstr(out, "\"namespace\":\"red\"") &&
	      strstr(out, "\"object\":null"));
	CHECK(n_sleeps == 1); /* nothing left: it sleeps */
	emit_link("red", "va");
	CHECK(n_wakes == 1); /* and is woken by the next */
	drain(s, out, sizeof(out), &ended);
	CHECK(strstr(out, "id: 6\n") && count(out, "event:") == 1);
	events_unsubscribe(s);

	/* Before the history (8 kept): a resync first, then what is new. */
	for (int i = 0; i < 10; i++)
		emit_link("red", "va");
	CHECK(events_subscribe(&all, true, 1, &waker, &s) == 0);
	drain(s, out, sizeof(out), &ended);
	CHECK(strstr(out, "event: resync") && strstr(out, "\"history\"") &&
	      strstr(out, "id: 16\n"));
	CHECK(count(out, "event: link") == 0);
	emit_link("red", "va");
	drain(s, out, sizeof(out), &ended);
	CHECK(strstr(out, "id: 17\n"));
	events_unsubscribe(s);

	/* An id never given (another run of the daemon): resync. */
	CHECK(events_subscribe(&all, true, 999, &waker, &s) == 0);
	drain(s, out, sizeof(out), &ended);
	CHECK(strstr(out, "\"unknown-id\""));
	events_unsubscribe(s);
	events_free();
}

static void test_filters_and_lag(void)
{
	struct events_filter blue = { .n_ns = 1 }, types = { 0 }, all = { 0 };
	struct events_sub *b, *t, *slow, *fast;
	char out[16384];
	bool ended;

	strcpy(blue.ns[0], "blue");
	types.types = events_type_bit("drift", 5) | events_type_bit("link", 4);
	CHECK(types.types && !events_type_bit("links", 5));
	CHECK(events_init(NULL, 64, 4, 8) == 0);
	CHECK(events_subscribe(&blue, false, 0, &waker, &b) == 0);
	CHECK(events_subscribe(&types, false, 0, &waker, &t) == 0);
	CHECK(events_subscribe(&all, false, 0, &waker, &slow) == 0);
	CHECK(events_subscribe(&all, false, 0, &waker, &fast) == 0);
	drain(b, out, sizeof(out), &ended);
	drain(t, out, sizeof(out), &ended);
	drain(fast, out, sizeof(out), &ended);

	/* Twenty events nobody filtering on blue wants: the blue one is
	 * passed over, never behind. The slow one reads nothing. */
	for (int i = 0; i < 20; i++) {
		events_emit(EVENTS_ADDRESS, "added", "red", "va/198.18.0.1/24",
			    NULL, EVENTS_SOURCE_API);
		drain(fast, out, sizeof(out), &ended);
		CHECK(!ended && count(out, "event: address") == 1);
	}
	emit_link("blue", "vb");
	events_resync("red", "kernel-overflow");
	drain(b, out, sizeof(out), &ended);
	CHECK(!ended && count(out, "event: link") == 1 &&
	      count(out, "event: address") == 0 &&
	      count(out, "event: resync") == 1); /* resync passes filters */
	drain(t, out, sizeof(out), &ended);
	CHECK(!ended && count(out, "event: link") == 1 &&
	      count(out, "event: address") == 0);
	drain(fast, out, sizeof(out), &ended);
	CHECK(!ended && count(out, "event:") == 2);

	/* The slow one fell behind by more than 4: resync, then the end. */
	drain(slow, out, sizeof(out), &ended);
	CHECK(ended && count(out, "event: resync") == 1 &&
	      strstr(out, "\"slow\"") && count(out, "event: address") == 0);
	events_unsubscribe(slow);
	events_unsubscribe(fast);
	events_unsubscribe(t);

	/* Behind by one event it wants, while twenty others it filters out
	 * come: it is behind by one, not twenty, and is not cut. */
	emit_link("blue", "vc");
	for (int i = 0; i < 20; i++)
		events_emit(EVENTS_ADDRESS, "added", "red", "va/198.18.0.1/24",
			    NULL, EVENTS_SOURCE_API);
	drain(b, out, sizeof(out), &ended);
	CHECK(!ended && count(out, "event: link") == 1 &&
	      count(out, "event: resync") == 0);

	/* The limit (8 here). */
	struct events_sub *many[8];
	int made = 0, r = 0;

	while (made < 8 &&
	       (r = events_subscribe(&all, false, 0, &waker, &many[made])) == 0)
		made++;
	CHECK(made == 7); /* b is still there */
	CHECK(r == -EBUSY);
	for (int i = 0; i < made; i++)
		events_unsubscribe(many[i]);
	CHECK(events_subscribers() == 1);

	/* Shutdown ends every stream. */
	events_stop();
	drain(b, out, sizeof(out), &ended);
	CHECK(ended);
	events_unsubscribe(b);
	events_free();
}

static long long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000LL +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* An event after a quiet spell wakes its subscriber at once; those that
 * follow within the interval wake it once, at the interval's end, and it
 * then reads them all in one go. */
static void test_coalesced_wakes(void)
{
	struct timespec t0, t1, nap = { 0, 50 * 1000 * 1000 };
	struct events_filter all = { 0 };
	struct events_sub *s;
	char out[8192];
	bool ended;
	int w;

	CHECK(events_init(NULL, 64, 32, 2) == 0);
	CHECK(events_subscribe(&all, false, 0, &waker, &s) == 0);
	drain(s, out, sizeof(out), &ended); /* the opening comment; asleep */
	w = n_wakes;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	emit_link("red", "va");
	CHECK(n_wakes == w + 1); /* at once */
	drain(s, out, sizeof(out), &ended);
	CHECK(count(out, "event: link") == 1);
	emit_link("red", "vb");
	emit_link("red", "vc");
	emit_link("red", "vd");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Not yet, unless this thread was held up past the interval. */
	if (ms_between(&t0, &t1) < 4)
		CHECK(n_wakes == w + 1);
	/* The flusher's turn comes after the interval: waited for, bounded
	 * (a loaded or sanitised build may be slow to get there). */
	for (int i = 0; i < 2000 && n_wakes < w + 2; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	CHECK(n_wakes == w + 2); /* once for the three */
	drain(s, out, sizeof(out), &ended);
	CHECK(!ended && count(out, "event: link") == 3);

	/* Held asleep, it is woken once a batch is waiting (a quarter of
	 * its budget of 32 here): batching never costs it its stream. */
	nanosleep(&nap, NULL);
	emit_link("red", "va"); /* at once */
	drain(s, out, sizeof(out), &ended);
	w = n_wakes;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 17; i++)
		emit_link("red", "va");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (ms_between(&t0, &t1) < 4)
		CHECK(n_wakes == w + 1);
	drain(s, out, sizeof(out), &ended);
	CHECK(!ended && count(out, "event: link") == 17);
	events_unsubscribe(s);
	events_free();
}

static void test_tickets(void)
{
	char t1[EVENTS_TICKET_LEN + 1], t2[EVENTS_TICKET_LEN + 1];

	CHECK(events_ticket_new(t1, sizeof(t1)) == 0);
	CHECK(events_ticket_new(t2, sizeof(t2)) == 0);
	CHECK(strlen(t1) == EVENTS_TICKET_LEN && strcmp(t1, t2));
	CHECK(!events_ticket_use("0123456789abcdef0123456789abcdef"));
	CHECK(!events_ticket_use(NULL) && !events_ticket_use("short"));
	CHECK(events_ticket_use(t1));
	CHECK(!events_ticket_use(t1)); /* once */
	CHECK(events_ticket_use(t2));
	CHECK(events_ticket_new(t1, 8) == -EINVAL);
}

/* Frame `id` of `out` without its id line: "event: ...\n\n". */
static size_t frame_of(const char *out, uint64_t id, const char **ret)
{
	char head[32];
	const char *p, *end;

	snprintf(head, sizeof(head), "id: %llu\n", (unsigned long long)id);
	p = strstr(out, head);
	if (!p)
		return 0;
	p += strlen(head);
	end = strstr(p, "\n\nid: ");
	*ret = p;
	return end ? (size_t)(end + 2 - p) : strlen(p);
}

static bool same_frames(const char *out, uint64_t id1)
{
	const char *a = NULL, *b = NULL;
	size_t na = frame_of(out, id1, &a), nb = frame_of(out, id1 + 1, &b);

	return na && na == nb && !memcmp(a, b, na);
}

/* An object given as text (an answer's, rendered once) is told as the same
 * bytes as the json_t it could have been: members in the order they always
 * had, null ones in their place, strings escaped alike. */
static void test_text_object(void)
{
	struct events_filter all = { 0 };
	struct events_sub *s;
	json_t *o =
		json_pack("{s:s, s:i, s:[s], s:n}", "name", "v\"0\xc3\xa9",
			  "mtu", 1400, "addresses", "198.18.0.1/24", "master");
	char out[8192], *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	uint64_t first;
	bool ended;

	CHECK(o && text);
	CHECK(events_init(NULL, 16, 8, 2) == 0);
	CHECK(events_subscribe(&all, false, 0, &waker, &s) == 0);
	first = events_last_id() + 1;
	events_emit(EVENTS_LINK, "added", "a", "v\"0", o, EVENTS_SOURCE_API);
	events_emit_text(EVENTS_LINK, "added", "a", "v\"0", text,
			 EVENTS_SOURCE_API);
	events_emit(EVENTS_DRIFT, "changed", "a", NULL, o,
		    EVENTS_SOURCE_KERNEL);
	events_emit_text(EVENTS_DRIFT, "changed", "a", NULL, text,
			 EVENTS_SOURCE_KERNEL);
	events_emit(EVENTS_STATE, "changed", NULL, NULL, NULL,
		    EVENTS_SOURCE_RECONCILE);
	events_emit_text(EVENTS_STATE, "changed", NULL, NULL, NULL,
			 EVENTS_SOURCE_RECONCILE);
	drain(s, out, sizeof(out), &ended);
	CHECK(same_frames(out, first));
	CHECK(same_frames(out, first + 2));
	CHECK(same_frames(out, first + 4));
	CHECK(strstr(
		out,
		"\nevent: link\ndata: {\"action\":\"added\",\"namespace\":\"a\",\"name\":\"v\\\"0\",\"object\":{\"name\":\"v\\\"0\\u00E9\",\"mtu\":1400,\"addresses\":[\"198.18.0.1/24\"],\"master\":null},\"source\":\"api\",\"revision\":0}\n\n"));
	CHECK(strstr(
		out,
		"\nevent: state\ndata: {\"action\":\"changed\",\"namespace\":null,\"name\":null,\"object\":null,\"source\":\"reconcile\",\"revision\":0}\n\n"));
	events_unsubscribe(s);
	events_free();
	free(text);
	json_decref(o);
}

int main(void)
{
	test_ids_history_resume();
	test_text_object(); /* before events_stop() */
	test_filters_and_lag();
	test_coalesced_wakes();
	test_tickets();
	return check_report();
}
