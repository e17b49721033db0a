/* The event stream's core (openapi/openapi.yaml, GET /v1/events; README.md,
 * "Watching"): a bounded history of events with ids that only grow, and the
 * subscribers that read it, each at its own place. An event is formatted
 * once, as the bytes of its text/event-stream frame, and shared by every
 * subscriber; a subscriber holds only its place in the history. */
#ifndef NETNSD_EVENTS_H
#define NETNSD_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

/* The event types of the contract, one bit each (for ?types=). */
enum events_type {
	EVENTS_NAMESPACE = 1 << 0,
	EVENTS_LINK = 1 << 1,
	EVENTS_ADDRESS = 1 << 2,
	EVENTS_ROUTE = 1 << 3,
	EVENTS_SYSCTL = 1 << 4,
	EVENTS_STATE = 1 << 5,
	EVENTS_DRIFT = 1 << 6,
	EVENTS_RESYNC = 1 << 7,
};
#define EVENTS_ALL_TYPES 0xffu

enum events_source {
	EVENTS_SOURCE_API,
	EVENTS_SOURCE_KERNEL,
	EVENTS_SOURCE_RECONCILE
};

/* Bounds: the history kept (at least EVENTS_HISTORY_MIN events), how far a
 * subscriber may fall behind before it is given `resync` and closed, and
 * how many may be connected at once. */
#define EVENTS_HISTORY_MIN 10000
#define EVENTS_HEARTBEAT_S 15
int events_init(struct store *store, size_t history, size_t lag_max,
		unsigned max_subscribers);
void events_free(void);

/* "link" and so on; 0 for an unknown name. */
unsigned events_type_bit(const char *name, size_t len);
const char *events_type_name(unsigned bit);

/* Publishes one event: `object` (borrowed, NULL for null) as GET shows the
 * item. `ns` may be NULL (an event of the whole daemon). */
void events_emit(unsigned type, const char *action, const char *ns,
		 const char *name, json_t *object, enum events_source source);
/* The same with the object as JSON text on one line (NULL for null): an
 * object rendered once, as an answer's body was, is not built again. */
void events_emit_text(unsigned type, const char *action, const char *ns,
		      const char *name, const char *object,
		      enum events_source source);
/* Tells every subscriber that events were lost (the kernel dropped
 * notifications of `ns`): clients re-read. */
void events_resync(const char *ns, const char *why);
uint64_t events_last_id(void);
/* The id of this run's first event, before there is any (events_init
 * starts at 1). The daemon starts each run past every id of the runs
 * before (server/main.c), so that an id from one of them is older than
 * the history, and a client resuming with it is told `resync`. */
void events_set_first_id(uint64_t id);

/* A subscriber. The filters are set before events_subscribe(). */
#define EVENTS_NS_FILTER_MAX 16
struct events_sub;
struct events_filter {
	unsigned types; /* bits; 0 means all */
	char ns[EVENTS_NS_FILTER_MAX][65];
	size_t n_ns;
};
/* How a subscriber's reader sleeps and is woken: `sleep` is called by
 * events_read() when it has nothing to give, `wake` when there is something
 * new after that; both with events' lock held, so a wake never comes
 * before its sleep. */
struct events_waker {
	void (*sleep)(void *cls);
	void (*wake)(void *cls);
	void *cls;
};
/* Registers a subscriber that starts after event `since` (has_since false:
 * from now on). -EBUSY at the subscriber limit. */
int events_subscribe(const struct events_filter *f, bool has_since,
		     uint64_t since, const struct events_waker *waker,
		     struct events_sub **ret);
void events_unsubscribe(struct events_sub *s);
/* A heartbeat now, as if one were due (a write that tells whether the
 * client is still there). */
void events_poke(struct events_sub *s);
/* The subscriber's client has gone (its connection was closed): its next
 * read ends the stream, and a reader asleep is woken for it. */
void events_hangup(struct events_sub *s);
/* Copies the subscriber's next frames into buf (whole frames only; a frame
 * larger than `max` is sent in pieces). Returns bytes written; 0 with
 * *waits when there is nothing to send (the caller sleeps until `wake`),
 * -1 when the stream is to end (after its resync, or at shutdown). The
 * caller serialises its calls for one subscriber. */
long events_read(struct events_sub *s, char *buf, size_t max, bool *waits);
/* Wakes subscribers due a heartbeat, every second from the main loop. */
void events_tick(void);
/* Ends every stream (shutdown): each is woken and reads its end. */
void events_stop(void);

/* One-use tickets for browsers (POST /v1/events/tickets): a random string,
 * valid EVENTS_TICKET_S seconds. */
#define EVENTS_TICKET_S	  60
#define EVENTS_TICKET_LEN 32
int events_ticket_new(char *ret, size_t len);
bool events_ticket_use(const char *ticket);
/* The same without using it up: a stream refused (a bad query, the
 * subscriber limit) leaves its ticket good for a retry. */
bool events_ticket_valid(const char *ticket);

/* For tests and metrics. */
size_t events_subscribers(void);

#endif
