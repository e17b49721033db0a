#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../api/jsonbuf.h"
#include "../state/store.h"

/* One event of the history: its frame, ready to send, and what filters
 * look at. */
struct events_slot {
	uint64_t id;
	unsigned type;
	char ns[65]; /* "" for none */
	char *frame;
	size_t len;
};

struct events_sub {
	struct events_sub *next, **pprev;
	struct events_filter filter;
	uint64_t cursor; /* the next id to look at */
	/* Events it wants from the cursor on, not yet read: what it is
	 * behind by (others' events, filtered out, are not). */
	size_t unread;
	size_t off;    /* bytes of the cursor's frame already sent */
	char *pending; /* a frame of its own (resync, comments) */
	size_t pending_len, pending_off;
	bool ending;	      /* the pending frame is its last */
	bool overflowed;      /* fell behind: resync, then the end */
	bool waiting;	      /* asleep until woken */
	bool due;	      /* ... and to be woken at the next flush */
	bool beat;	      /* a heartbeat is due */
	struct timespec last; /* of its latest write */
	struct events_waker waker;
};

static pthread_mutex_t events_mu = PTHREAD_MUTEX_INITIALIZER;
static struct events_slot *events_ring;
static size_t events_cap, events_lag_max;
static uint64_t events_next_id = 1, events_first_id = 1;
static struct events_sub *events_subs;
static unsigned events_n_subs, events_max_subs;
static bool events_stopping;
static struct store *events_store;

/* Wake-ups are coalesced (README.md, "Watching"): a subscriber asleep is
 * woken at most once every EVENTS_COALESCE_MS, and then reads every event
 * since in one go (one buffer, one send), rather than one wake-up and one
 * send per event. An event after a quiet spell wakes its subscribers at
 * once; those that follow within the interval wait for the flusher
 * thread, which wakes them all at its end. */
#define EVENTS_COALESCE_MS 10
static pthread_cond_t events_flush_cv;
static pthread_t events_flusher;
static bool events_flusher_on;
static bool events_flush_armed; /* some are due: the flusher will wake them */
static bool events_any_due;
static struct timespec events_last_flush;
/* A batch: at most a buffer's worth of events (about 64 frames of a
 * link), and a quarter of a subscriber's budget, so that being held
 * asleep never brings it near its end. */
#define EVENTS_BATCH_MAX 64
static size_t events_batch_max;
static int events_flusher_start(void);
static void events_flusher_stop(void);

static const char *const events_names[] = {
	"namespace", "link",  "address", "route",
	"sysctl",    "state", "drift",	 "resync",
};

unsigned events_type_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(events_names) / sizeof(*events_names);
	     i++)
		if (strlen(events_names[i]) == len &&
		    !strncmp(events_names[i], name, len))
			return 1u << i;
	return 0;
}

const char *events_type_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(events_names) / sizeof(*events_names);
	     i++)
		if (bit == 1u << i)
			return events_names[i];
	return "state";
}

int events_init(struct store *store, size_t history, size_t lag_max,
		unsigned max_subscribers)
{
	if (history < 2 || !lag_max)
		return -EINVAL;
	events_ring = calloc(history, sizeof(*events_ring));
	if (!events_ring)
		return -ENOMEM;
	events_store = store;
	events_cap = history;
	/* Behind by more than the history, a subscriber's place would be
	 * overwritten under it. */
	events_lag_max = lag_max < history / 2 ? lag_max : history / 2;
	events_max_subs = max_subscribers;
	events_batch_max = events_lag_max / 4 < EVENTS_BATCH_MAX
				   ? events_lag_max / 4
				   : EVENTS_BATCH_MAX;
	if (!events_batch_max)
		events_batch_max = 1;
	events_last_flush = (struct timespec){ 0 };
	events_stopping = false;
	return events_flusher_start();
}

void events_free(void)
{
	events_flusher_stop();
	for (size_t i = 0; i < events_cap; i++)
		free(events_ring[i].frame);
	free(events_ring);
	events_ring = NULL;
	events_cap = 0;
}

static const char *events_source_name(enum events_source s)
{
	return s == EVENTS_SOURCE_KERNEL      ? "kernel"
	       : s == EVENTS_SOURCE_RECONCILE ? "reconcile"
					      : "api";
}

/* The frame of event `id`: "id: N\nevent: T\ndata: {...}\n\n", its data
 * one line, as SSE needs. Trimmed to its size: the history holds
 * thousands. */
static char *events_frame(uint64_t id, unsigned type, const char *action,
			  const char *ns, const char *name, const char *object,
			  enum events_source source, size_t *ret_len)
{
	struct jsonbuf b = JSONBUF_INIT;
	char *frame;

	jsonbuf_lit(&b, "id: ");
	jsonbuf_int(&b, (long long)id);
	jsonbuf_lit(&b, "\nevent: ");
	jsonbuf_lit(&b, events_type_name(type));
	jsonbuf_lit(&b, "\ndata: {\"action\":");
	jsonbuf_str(&b, action);
	jsonbuf_lit(&b, ",\"namespace\":");
	jsonbuf_str(&b, ns);
	jsonbuf_lit(&b, ",\"name\":");
	jsonbuf_str(&b, name);
	jsonbuf_lit(&b, ",\"object\":");
	jsonbuf_lit(&b, object ? object : "null");
	jsonbuf_lit(&b, ",\"source\":");
	jsonbuf_str(&b, events_source_name(source));
	jsonbuf_lit(&b, ",\"revision\":");
	jsonbuf_int(&b, (long long)(events_store ? store_revision(events_store)
						 : 0));
	jsonbuf_lit(&b, "}\n\n");
	/* Copied out, not trimmed in place: a realloc that shrinks leaves
	 * the rest of the writer's block as a hole between frames that live
	 * long, and the heap grows around the history as it turns over. */
	if (b.err) {
		jsonbuf_free(&b);
		return NULL;
	}
	frame = malloc(b.len + 1);
	if (frame) {
		memcpy(frame, b.data, b.len);
		frame[b.len] = '\0';
		*ret_len = b.len;
	}
	jsonbuf_free(&b);
	return frame;
}

static bool events_wanted(const struct events_filter *f, unsigned type,
			  const char *ns)
{
	/* A resync concerns every client: whatever it filters, it lost
	 * something it may have wanted. */
	if (type == EVENTS_RESYNC)
		return true;
	if (f->types && !(f->types & type))
		return false;
	if (!f->n_ns)
		return true;
	for (size_t i = 0; i < f->n_ns; i++)
		if (!strcmp(f->ns[i], ns))
			return true;
	return false;
}

/* The oldest id the history still holds. Under events_mu. */
static uint64_t events_oldest(void)
{
	return events_next_id - events_first_id > events_cap
		       ? events_next_id - events_cap
		       : events_first_id;
}

void events_set_first_id(uint64_t id)
{
	pthread_mutex_lock(&events_mu);
	if (events_next_id == events_first_id && id > 0)
		events_next_id = events_first_id = id;
	pthread_mutex_unlock(&events_mu);
}

static void events_wake(struct events_sub *s)
{
	s->due = false;
	if (s->waiting) {
		s->waiting = false;
		s->waker.wake(s->waker.cls);
	}
}

static long long events_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000LL +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* Wakes every subscriber due. Under events_mu. */
static void events_flush(void)
{
	struct events_sub *s;

	if (events_any_due)
		for (s = events_subs; s; s = s->next)
			if (s->due)
				events_wake(s);
	events_any_due = false;
	events_flush_armed = false;
	clock_gettime(CLOCK_MONOTONIC, &events_last_flush);
}

/* After a publication: the subscribers it concerns are woken now if none
 * was for an interval, else by the flusher at the interval's end. Under
 * events_mu. */
static void events_flush_soon(void)
{
	if (!events_any_due || events_flush_armed)
		return;
	if (!events_flusher_on ||
	    events_ms_since(&events_last_flush) >= EVENTS_COALESCE_MS) {
		events_flush();
		return;
	}
	events_flush_armed = true;
	pthread_cond_signal(&events_flush_cv);
}

/* The flusher: asleep (no timer, no polling) until a flush is armed, then
 * until the interval since the last one has passed. */
static void *events_flusher_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&events_mu);
	while (events_flusher_on) {
		struct timespec at = events_last_flush;

		if (!events_flush_armed) {
			pthread_cond_wait(&events_flush_cv, &events_mu);
			continue;
		}
		at.tv_nsec += EVENTS_COALESCE_MS * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&events_flush_cv, &events_mu, &at) ==
		    ETIMEDOUT)
			events_flush();
	}
	pthread_mutex_unlock(&events_mu);
	return NULL;
}

static int events_flusher_start(void)
{
	pthread_condattr_t attr;
	int r;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&events_flush_cv, &attr);
	pthread_condattr_destroy(&attr);
	events_flusher_on = true;
	r = pthread_create(&events_flusher, NULL, events_flusher_main, NULL);
	if (r) {
		events_flusher_on = false;
		return -r;
	}
	return 0;
}

/* Ends the flusher, after which every wake is made at once. */
static void events_flusher_stop(void)
{
	bool on;

	pthread_mutex_lock(&events_mu);
	on = events_flusher_on;
	events_flusher_on = false;
	events_flush();
	pthread_cond_signal(&events_flush_cv);
	pthread_mutex_unlock(&events_mu);
	if (on)
		pthread_join(events_flusher, NULL);
}

/* Sets a subscriber's own next frame; returns false when out of memory. */
static bool events_pending(struct events_sub *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool events_pending(struct events_sub *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	free(s->pending);
	s->pending = NULL;
	va_start(ap, fmt);
	n = vasprintf(&s->pending, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->pending = NULL;
		return false;
	}
	s->pending_len = (size_t)n;
	s->pending_off = 0;
	return true;
}

/* A resync of the stream itself (not in the history): `id` is where the
 * client resumes once it has re-read. */
static void events_sub_resync(struct events_sub *s, uint64_t id,
			      const char *reason)
{
	events_pending(
		s,
		"id: %llu\nevent: resync\ndata: {\"action\":\"changed\",\"namespace\":null,\"name\":null,\"object\":{\"reason\":\"%s\"},\"source\":\"api\",\"revision\":%llu}\n\n",
		(unsigned long long)id, reason,
		(unsigned long long)(events_store ? store_revision(events_store)
						  : 0));
}

static void events_publish(unsigned type, const char *ns, char *frame,
			   size_t len, uint64_t id)
{
	struct events_slot *slot = &events_ring[(id - 1) % events_cap];
	struct events_sub *s;
	bool wanted;

	free(slot->frame);
	slot->id = id;
	slot->type = type;
	snprintf(slot->ns, sizeof(slot->ns), "%s", ns ? ns : "");
	slot->frame = frame;
	slot->len = len;
	for (s = events_subs; s; s = s->next) {
		if (s->overflowed || s->ending)
			continue;
		wanted = events_wanted(&s->filter, type, slot->ns);
		s->unread += wanted;
		/* Too far behind on what it asked for, or about to lose its
		 * place in the history: it is told to re-read, and its stream
		 * ends, rather than hold the history or slow anyone. */
		if (s->unread >= events_lag_max ||
		    id - s->cursor >= events_cap) {
			s->overflowed = true;
			s->ending = true;
			events_sub_resync(s, id, "slow");
			events_wake(s);
			continue;
		}
		if (wanted) {
			if (s->waiting && !s->due)
				s->due = events_any_due = true;
			/* Held asleep, it must not fall behind: with a
			 * batch's worth waiting it is woken at once. */
			if (s->due && s->unread >= events_batch_max)
				events_wake(s);
		} else if (s->waiting && s->cursor == id)
			s->cursor++; /* caught up: passed over, not behind */
	}
}

void events_emit(unsigned type, const char *action, const char *ns,
		 const char *name, json_t *object, enum events_source source)
{
	char *text = NULL;

	if (object) {
		text = json_dumps(object, JSON_COMPACT | JSON_ENSURE_ASCII |
						  JSON_ENCODE_ANY);
		if (!text)
			return;
	}
	events_emit_text(type, action, ns, name, text, source);
	free(text);
}

void events_emit_text(unsigned type, const char *action, const char *ns,
		      const char *name, const char *object,
		      enum events_source source)
{
	char *frame;
	size_t len;
	uint64_t id;

	pthread_mutex_lock(&events_mu);
	if (!events_ring) {
		pthread_mutex_unlock(&events_mu);
		return;
	}
	id = events_next_id;
	frame = events_frame(id, type, action, ns, name, object, source, &len);
	if (frame) {
		events_next_id++;
		events_publish(type, ns, frame, len, id);
		events_flush_soon();
	}
	pthread_mutex_unlock(&events_mu);
}

void events_resync(const char *ns, const char *why)
{
	json_t *o = json_pack("{s:s}", "reason", why);

	events_emit(EVENTS_RESYNC, "changed", ns, NULL, o,
		    EVENTS_SOURCE_KERNEL);
	json_decref(o);
}

uint64_t events_last_id(void)
{
	uint64_t id;

	pthread_mutex_lock(&events_mu);
	id = events_next_id - 1;
	pthread_mutex_unlock(&events_mu);
	return id;
}

int events_subscribe(const struct events_filter *f, bool has_since,
		     uint64_t since, const struct events_waker *waker,
		     struct events_sub **ret)
{
	struct events_sub *s = calloc(1, sizeof(*s));
	int r = 0;

	if (!s)
		return -ENOMEM;
	s->filter = *f;
	s->waker = *waker;
	clock_gettime(CLOCK_MONOTONIC, &s->last);
	pthread_mutex_lock(&events_mu);
	if (events_stopping || events_n_subs >= events_max_subs) {
		r = events_stopping ? -ESHUTDOWN : -EBUSY;
		goto out;
	}
	/* An id from the future is taken as "now": it can only come from
	 * another run of the daemon, whose events are gone. */
	if (!has_since || since >= events_next_id) {
		s->cursor = events_next_id;
		if (has_since && since >= events_next_id)
			events_sub_resync(s, events_next_id - 1, "unknown-id");
	} else if (since + 1 < events_oldest()) {
		/* Older than the history: what came between is lost. */
		s->cursor = events_next_id;
		events_sub_resync(s, events_next_id - 1, "history");
	} else {
		s->cursor = since + 1;
		for (uint64_t id = s->cursor; id < events_next_id; id++) {
			const struct events_slot *slot =
				&events_ring[(id - 1) % events_cap];

			s->unread +=
				events_wanted(&s->filter, slot->type, slot->ns);
		}
	}
	if (!s->pending)
		events_pending(s, ": netnsd events\n\n");
	s->next = events_subs;
	s->pprev = &events_subs;
	if (events_subs)
		events_subs->pprev = &s->next;
	events_subs = s;
	events_n_subs++;
out:
	pthread_mutex_unlock(&events_mu);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void events_unsubscribe(struct events_sub *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&events_mu);
	*s->pprev = s->next;
	if (s->next)
		s->next->pprev = s->pprev;
	events_n_subs--;
	pthread_mutex_unlock(&events_mu);
	free(s->pending);
	free(s);
}

static size_t events_copy(char *dst, size_t max, const char *src, size_t len,
			  size_t *off)
{
	size_t n = len - *off < max ? len - *off : max;

	memcpy(dst, src + *off, n);
	*off += n;
	return n;
}

/* Copies history frames from the subscriber's place. Under events_mu. */
static size_t events_read_history(struct events_sub *s, char *buf, size_t max)
{
	size_t used = 0;

	while (used < max && s->cursor < events_next_id) {
		struct events_slot *slot =
			&events_ring[(s->cursor - 1) % events_cap];

		if (!events_wanted(&s->filter, slot->type, slot->ns)) {
			s->cursor++;
			continue;
		}
		/* Whole frames when they fit, so that a frame is never
		 * split needlessly; one larger than the buffer goes in
		 * pieces. */
		if (s->off == 0 && used && slot->len > max - used)
			break;
		used += events_copy(buf + used, max - used, slot->frame,
				    slot->len, &s->off);
		if (s->off == slot->len) {
			s->off = 0;
			s->cursor++;
			s->unread--;
		}
	}
	return used;
}

long events_read(struct events_sub *s, char *buf, size_t max, bool *waits)
{
	size_t used = 0;
	long r;

	*waits = false;
	pthread_mutex_lock(&events_mu);
	if (s->pending) {
		used = events_copy(buf, max, s->pending, s->pending_len,
				   &s->pending_off);
		if (s->pending_off == s->pending_len) {
			free(s->pending);
			s->pending = NULL;
		}
		r = (long)used;
		goto out;
	}
	if (s->ending || events_stopping) {
		r = -1;
		goto out;
	}
	used = events_read_history(s, buf, max);
	if (!used && s->beat) {
		static const char beat[] = ": keep-alive\n\n";

		used = sizeof(beat) - 1 < max ? sizeof(beat) - 1 : max;
		memcpy(buf, beat, used);
	}
	s->beat = false;
	if (used)
		clock_gettime(CLOCK_MONOTONIC, &s->last);
	else {
		/* Asleep before the lock is let go: a wake cannot come
		 * first. */
		s->waker.sleep(s->waker.cls);
		s->waiting = *waits = true;
	}
	r = (long)used;
out:
	pthread_mutex_unlock(&events_mu);
	return r;
}

void events_poke(struct events_sub *s)
{
	pthread_mutex_lock(&events_mu);
	s->beat = true;
	events_wake(s);
	pthread_mutex_unlock(&events_mu);
}

void events_hangup(struct events_sub *s)
{
	pthread_mutex_lock(&events_mu);
	s->ending = true;
	events_wake(s);
	pthread_mutex_unlock(&events_mu);
}

void events_tick(void)
{
	struct timespec now;
	struct events_sub *s;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&events_mu);
	for (s = events_subs; s; s = s->next)
		if (now.tv_sec - s->last.tv_sec >= EVENTS_HEARTBEAT_S) {
			s->beat = true;
			s->last = now;
			events_wake(s);
		}
	pthread_mutex_unlock(&events_mu);
}

void events_stop(void)
{
	struct events_sub *s;

	events_flusher_stop();
	pthread_mutex_lock(&events_mu);
	events_stopping = true;
	for (s = events_subs; s; s = s->next)
		events_wake(s);
	pthread_mutex_unlock(&events_mu);
}

size_t events_subscribers(void)
{
	size_t n;

	pthread_mutex_lock(&events_mu);
	n = events_n_subs;
	pthread_mutex_unlock(&events_mu);
	return n;
}

/* Tickets: few, short-lived, and each good once. */
#define EVENTS_TICKETS_MAX 256
static struct {
	char value[EVENTS_TICKET_LEN + 1];
	time_t expires;
} events_tickets[EVENTS_TICKETS_MAX];
static pthread_mutex_t events_tickets_mu = PTHREAD_MUTEX_INITIALIZER;

static time_t events_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

int events_ticket_new(char *ret, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[EVENTS_TICKET_LEN / 2];
	time_t now = events_now();
	int slot = -1;

	if (len < EVENTS_TICKET_LEN + 1)
		return -EINVAL;
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++) {
		ret[2 * i] = hex[raw[i] >> 4];
		ret[2 * i + 1] = hex[raw[i] & 15];
	}
	ret[EVENTS_TICKET_LEN] = '\0';
	pthread_mutex_lock(&events_tickets_mu);
	for (int i = 0; i < EVENTS_TICKETS_MAX && slot < 0; i++)
		if (!events_tickets[i].value[0] ||
		    events_tickets[i].expires <= now)
			slot = i;
	if (slot >= 0) {
		memcpy(events_tickets[slot].value, ret, EVENTS_TICKET_LEN + 1);
		events_tickets[slot].expires = now + EVENTS_TICKET_S;
	}
	pthread_mutex_unlock(&events_tickets_mu);
	return slot < 0 ? -EBUSY : 0;
}

/* Compared in full, byte by byte, whatever matches: no timing tells how
 * much of a guess was right. */
static bool events_ticket_equal(const char *a, const char *b)
{
	unsigned char d = 0;

	for (size_t i = 0; i < EVENTS_TICKET_LEN; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Whether `ticket` is one given and not run out; `take` uses it up. */
static bool events_ticket_find(const char *ticket, bool take)
{
	time_t now = events_now();
	bool ok = false;

	if (!ticket || strlen(ticket) != EVENTS_TICKET_LEN)
		return false;
	pthread_mutex_lock(&events_tickets_mu);
	for (int i = 0; i < EVENTS_TICKETS_MAX; i++) {
		if (!events_tickets[i].value[0] ||
		    events_tickets[i].expires <= now)
			continue;
		if (events_ticket_equal(events_tickets[i].value, ticket)) {
			if (take)
				memset(&events_tickets[i], 0,
				       sizeof(events_tickets[i]));
			ok = true;
		}
	}
	pthread_mutex_unlock(&events_tickets_mu);
	return ok;
}

bool events_ticket_valid(const char *ticket)
{
	return events_ticket_find(ticket, false);
}

bool events_ticket_use(const char *ticket)
{
	return events_ticket_find(ticket, true);
}
