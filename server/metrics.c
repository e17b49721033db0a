#include "metrics.h"

#include "autoheal.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../netlink/sock.h"
#include "autoheal.h"
#include "converge.h"
#include "router.h"
#include "../state/drift.h"
#include "watch.h"
#include "../state/record.h"
#include "../state/store.h"

static const double metrics_buckets[] = { 0.0005, 0.001, 0.0025, 0.005,
					  0.01,	  0.025, 0.05,	 0.1,
					  0.25,	  0.5,	 1,	 2.5 };
#define METRICS_NB (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

/* The label set is fixed, whatever clients send: the methods the API knows
 * and OTHER, the route table's patterns and "unmatched", and the statuses
 * HTTP defines (100-599). Every series has its counter from the start, found
 * by index, so a request neither allocates nor scans, and no request can add
 * a series (README.md, "Running in production", Metrics). */
static const char *const metrics_methods[] = { "GET",	  "HEAD",  "POST",
					       "PUT",	  "PATCH", "DELETE",
					       "OPTIONS", "OTHER" };
#define METRICS_NM	   (sizeof(metrics_methods) / sizeof(metrics_methods[0]))
#define METRICS_STATUS_MIN 100
#define METRICS_NS	   500 /* 100 to 599 */

struct metrics_hist {
	_Atomic uint64_t buckets[METRICS_NB];
	_Atomic uint64_t count;
	_Atomic uint64_t sum_ns;
};

/* One slot per distinct pattern of router_routes (several methods share a
 * pattern), and a last one for "unmatched". */
static size_t *metrics_slot_of;	     /* route index -> slot */
static const char **metrics_pattern; /* slot -> label */
static size_t metrics_n_slots;
static _Atomic uint64_t (*metrics_requests)[METRICS_NM][METRICS_NS];
static struct metrics_hist *metrics_latency;
static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t metrics_reconcile_runs, metrics_reconcile_actions,
	metrics_reconcile_failures;

/* Allocated once, for the life of the process; the counters' pages are
 * touched only as series are used. On failure nothing is counted. */
static void metrics_setup(void)
{
	size_t n = 0;

	metrics_slot_of = calloc(router_n_routes, sizeof(*metrics_slot_of));
	metrics_pattern = calloc(router_n_routes + 1, sizeof(*metrics_pattern));
	if (!metrics_slot_of || !metrics_pattern)
		return;
	for (size_t i = 0; i < router_n_routes; i++) {
		size_t k = 0;

		while (k < n &&
		       strcmp(metrics_pattern[k], router_routes[i].pattern))
			k++;
		if (k == n)
			metrics_pattern[n++] = router_routes[i].pattern;
		metrics_slot_of[i] = k;
	}
	metrics_pattern[n++] = "unmatched";
	metrics_requests = calloc(n, sizeof(*metrics_requests));
	metrics_latency = calloc(n, sizeof(*metrics_latency));
	if (metrics_requests && metrics_latency)
		metrics_n_slots = n;
}

static size_t metrics_method_index(const char *method)
{
	for (size_t i = 0; i + 1 < METRICS_NM; i++)
		if (!strcmp(method, metrics_methods[i]))
			return i;
	return METRICS_NM - 1; /* OTHER */
}

void metrics_request(const struct route *route, const char *method, int status,
		     double seconds)
{
	struct metrics_hist *h;
	size_t slot;

	pthread_once(&metrics_once, metrics_setup);
	if (!metrics_n_slots)
		return;
	slot = route ? metrics_slot_of[route - router_routes]
		     : metrics_n_slots - 1;
	/* Only libmicrohttpd's and the handlers' statuses reach here, all in
	 * range; anything else would have no label to go under. */
	if (status >= METRICS_STATUS_MIN &&
	    status < METRICS_STATUS_MIN + METRICS_NS)
		atomic_fetch_add_explicit(
			&metrics_requests[slot][metrics_method_index(method)]
					 [status - METRICS_STATUS_MIN],
			1, memory_order_relaxed);
	h = &metrics_latency[slot];
	for (size_t i = 0; i < METRICS_NB; i++)
		if (seconds <= metrics_buckets[i])
			atomic_fetch_add_explicit(&h->buckets[i], 1,
						  memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ns,
				  seconds > 0 ? (uint64_t)(seconds * 1e9) : 0,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void metrics_reconcile(size_t actions, size_t failures)
{
	pthread_mutex_lock(&metrics_mu);
	metrics_reconcile_runs++;
	metrics_reconcile_actions += actions;
	metrics_reconcile_failures += failures;
	pthread_mutex_unlock(&metrics_mu);
}

struct metrics_buf {
	char *text;
	size_t len, cap;
};

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->text ? b->text + b->len : NULL,
			      b->text ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->text && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 8192;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *grown = realloc(b->text, cap);
		if (!grown)
			return;
		b->text = grown;
		b->cap = cap;
	}
}

struct metrics_counts {
	size_t ns, veth, bridge, other, addr, route, sysctl;
};

static void metrics_count_link(struct metrics_counts *n, enum record_kind k)
{
	if (k == RECORD_KIND_VETH)
		n->veth++;
	else if (k == RECORD_KIND_BRIDGE)
		n->bridge++;
	else
		n->other++;
}

static int metrics_count_one(const char *key, json_t *v, void *userdata)
{
	struct metrics_counts *n = userdata;
	enum record_type type;

	if (record_type_of_key(key, &type) < 0)
		return 0; /* a change in flight (key.h) */
	if (type == RECORD_NS)
		n->ns++;
	else if (type == RECORD_ADDR)
		n->addr++;
	else if (type == RECORD_ROUTE)
		n->route++;
	else if (type == RECORD_SYSCTL)
		n->sysctl++;
	else if (type == RECORD_LINK)
		metrics_count_link(n, record_link_kind_of(v));
	return 0;
}

static void metrics_objects(struct metrics_buf *b, struct store *store)
{
	struct metrics_counts n = { 0 };

	store_foreach(store, "", metrics_count_one, &n);
	metrics_printf(
		b,
		"# HELP netnsd_managed_objects Objects in the desired state, by kind.\n"
		"# TYPE netnsd_managed_objects gauge\n"
		"netnsd_managed_objects{kind=\"namespace\"} %zu\n"
		"netnsd_managed_objects{kind=\"veth\"} %zu\n"
		"netnsd_managed_objects{kind=\"bridge\"} %zu\n"
		"netnsd_managed_objects{kind=\"link\"} %zu\n"
		"netnsd_managed_objects{kind=\"address\"} %zu\n"
		"netnsd_managed_objects{kind=\"route\"} %zu\n"
		"netnsd_managed_objects{kind=\"sysctl\"} %zu\n",
		n.ns, n.veth, n.bridge, n.other, n.addr, n.route, n.sysctl);
}

static void metrics_convergence_render(struct metrics_buf *b)
{
	struct converge_status st;

	converge_status(&st); /* the convergence's own record, not a copy */
	metrics_printf(
		b,
		"# HELP netnsd_reconcile_converged 1 when the latest reconcile run left no failure.\n"
		"# TYPE netnsd_reconcile_converged gauge\n"
		"netnsd_reconcile_converged %d\n"
		"# HELP netnsd_reconcile_pending_items Failures of the latest reconcile run that are being retried.\n"
		"# TYPE netnsd_reconcile_pending_items gauge\n"
		"netnsd_reconcile_pending_items %zu\n",
		st.converged ? 1 : 0, st.pending);
}

static void metrics_requests_render(struct metrics_buf *b)
{
	uint64_t n;

	metrics_printf(
		b,
		"# HELP netnsd_http_requests_total HTTP requests answered, by route, method and status.\n"
		"# TYPE netnsd_http_requests_total counter\n");
	for (size_t k = 0; k < metrics_n_slots; k++)
		for (size_t m = 0; m < METRICS_NM; m++)
			for (size_t s = 0; s < METRICS_NS; s++) {
				n = atomic_load_explicit(
					&metrics_requests[k][m][s],
					memory_order_relaxed);
				if (!n)
					continue; /* a series not seen yet */
				metrics_printf(
					b,
					"netnsd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%zu\"} %llu\n",
					metrics_pattern[k], metrics_methods[m],
					s + METRICS_STATUS_MIN,
					(unsigned long long)n);
			}
}

static void metrics_latency_render(struct metrics_buf *b)
{
	const char *route;
	struct metrics_hist *h;
	uint64_t count;

	metrics_printf(
		b,
		"# HELP netnsd_http_request_duration_seconds Time to answer a request, by route.\n"
		"# TYPE netnsd_http_request_duration_seconds histogram\n");
	for (size_t k = 0; k < metrics_n_slots; k++) {
		h = &metrics_latency[k];
		route = metrics_pattern[k];
		count = atomic_load_explicit(&h->count, memory_order_relaxed);
		if (!count)
			continue;
		for (size_t i = 0; i < METRICS_NB; i++)
			metrics_printf(
				b,
				"netnsd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				route, metrics_buckets[i],
				(unsigned long long)atomic_load_explicit(
					&h->buckets[i], memory_order_relaxed));
		metrics_printf(
			b,
			"netnsd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
			"netnsd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
			"netnsd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
			route, (unsigned long long)count, route,
			(double)atomic_load_explicit(&h->sum_ns,
						     memory_order_relaxed) /
				1e9,
			route, (unsigned long long)count);
	}
}

char *metrics_render(struct store *store, size_t *ret_len)
{
	struct metrics_buf b = { 0 };
	uint64_t errs[NL_ERRNO_MAX];
	size_t drifted = 0;

	pthread_once(&metrics_once, metrics_setup);
	metrics_requests_render(&b);
	metrics_latency_render(&b);
	pthread_mutex_lock(&metrics_mu);
	metrics_printf(
		&b,
		"# HELP netnsd_reconcile_runs_total Reconcile runs, at start-up, on request and retries.\n"
		"# TYPE netnsd_reconcile_runs_total counter\n"
		"netnsd_reconcile_runs_total %llu\n"
		"# HELP netnsd_reconcile_actions_total Changes reconcile runs made.\n"
		"# TYPE netnsd_reconcile_actions_total counter\n"
		"netnsd_reconcile_actions_total %llu\n"
		"# HELP netnsd_reconcile_failures_total Items reconcile runs could not repair.\n"
		"# TYPE netnsd_reconcile_failures_total counter\n"
		"netnsd_reconcile_failures_total %llu\n",
		(unsigned long long)metrics_reconcile_runs,
		(unsigned long long)metrics_reconcile_actions,
		(unsigned long long)metrics_reconcile_failures);
	pthread_mutex_unlock(&metrics_mu);
	{
		uint64_t repairs, deferred;

		autoheal_counts(&repairs, &deferred);
		metrics_printf(
			&b,
			"# HELP netnsd_selfheal_repairs_total Drifts repaired by --reconcile=auto.\n"
			"# TYPE netnsd_selfheal_repairs_total counter\n"
			"netnsd_selfheal_repairs_total %llu\n"
			"# HELP netnsd_selfheal_deferred_total Drifts of an object changed again soon after its repair, repaired after a growing wait.\n"
			"# TYPE netnsd_selfheal_deferred_total counter\n"
			"netnsd_selfheal_deferred_total %llu\n",
			(unsigned long long)repairs,
			(unsigned long long)deferred);
	}

	nl_error_counts(errs, NL_ERRNO_MAX);
	metrics_printf(
		&b,
		"# HELP netnsd_netlink_errors_total Netlink requests the kernel refused or did not answer in time (ETIMEDOUT), by errno.\n"
		"# TYPE netnsd_netlink_errors_total counter\n");
	for (int i = 1; i < NL_ERRNO_MAX; i++)
		if (errs[i])
			metrics_printf(
				&b,
				"netnsd_netlink_errors_total{errno=\"%d\",name=\"%s\"} %llu\n",
				i,
				strerrorname_np(i) ? strerrorname_np(i)
						   : "unknown",
				(unsigned long long)errs[i]);
	metrics_objects(&b, store);
	/* Kept from events (server/watch.c); counted here without them. */
	if (!watch_drifted(&drifted))
		drift_count(store, &drifted);
	metrics_printf(
		&b,
		"# HELP netnsd_drifted_objects Managed objects that differ from their desired state now.\n"
		"# TYPE netnsd_drifted_objects gauge\n"
		"netnsd_drifted_objects %zu\n",
		drifted);
	metrics_convergence_render(&b);
	*ret_len = b.len;
	return b.text;
}
