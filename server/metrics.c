#include "metrics.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../netlink/sock.h"
#include "../state/drift.h"
#include "../state/store.h"

static const double metrics_buckets[] = { 0.0005, 0.001, 0.0025, 0.005,
					  0.01,	  0.025, 0.05,	 0.1,
					  0.25,	  0.5,	 1,	 2.5 };
#define METRICS_NB (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

struct metrics_counter {
	struct metrics_counter *next;
	char route[96];
	char method[8];
	int status;
	uint64_t count;
};

struct metrics_hist {
	struct metrics_hist *next;
	char route[96];
	uint64_t buckets[METRICS_NB];
	uint64_t count;
	double sum;
};

static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_counter *metrics_requests;
static struct metrics_hist *metrics_latency;
static uint64_t metrics_reconcile_runs, metrics_reconcile_actions,
	metrics_reconcile_failures;

void metrics_request(const char *route, const char *method, int status,
		     double seconds)
{
	struct metrics_counter *c;
	struct metrics_hist *h;

	if (!route)
		route = "unmatched";
	pthread_mutex_lock(&metrics_mu);
	for (c = metrics_requests; c; c = c->next)
		if (c->status == status && !strcmp(c->route, route) &&
		    !strcmp(c->method, method))
			break;
	if (!c && (c = calloc(1, sizeof(*c)))) {
		snprintf(c->route, sizeof(c->route), "%s", route);
		/* An unknown method is one label, not one per client. */
		snprintf(c->method, sizeof(c->method), "%s",
			 strlen(method) < sizeof(c->method) ? method : "OTHER");
		c->status = status;
		c->next = metrics_requests;
		metrics_requests = c;
	}
	if (c)
		c->count++;
	for (h = metrics_latency; h; h = h->next)
		if (!strcmp(h->route, route))
			break;
	if (!h && (h = calloc(1, sizeof(*h)))) {
		snprintf(h->route, sizeof(h->route), "%s", route);
		h->next = metrics_latency;
		metrics_latency = h;
	}
	if (h) {
		for (size_t i = 0; i < METRICS_NB; i++)
			if (seconds <= metrics_buckets[i])
				h->buckets[i]++;
		h->count++;
		h->sum += seconds;
	}
	pthread_mutex_unlock(&metrics_mu);
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
	size_t ns, veth, bridge, other, addr;
};

static int metrics_count_one(const char *key, json_t *v, void *userdata)
{
	struct metrics_counts *n = userdata;
	const char *kind = json_string_value(json_object_get(v, "kind"));

	if (!strncmp(key, "ns/", 3))
		n->ns++;
	else if (!strncmp(key, "addr/", 5))
		n->addr++;
	else if (strncmp(key, "link/", 5))
		return 0; /* a change in flight (key.h) */
	else if (kind && !strcmp(kind, "veth"))
		n->veth++;
	else if (kind && !strcmp(kind, "bridge"))
		n->bridge++;
	else
		n->other++;
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
		"netnsd_managed_objects{kind=\"address\"} %zu\n",
		n.ns, n.veth, n.bridge, n.other, n.addr);
}

char *metrics_render(struct store *store, size_t *ret_len)
{
	struct metrics_buf b = { 0 };
	struct metrics_counter *c;
	struct metrics_hist *h;
	uint64_t errs[NL_ERRNO_MAX];
	size_t drifted = 0;

	metrics_printf(
		&b,
		"# HELP netnsd_http_requests_total HTTP requests answered, by route, method and status.\n"
		"# TYPE netnsd_http_requests_total counter\n");
	pthread_mutex_lock(&metrics_mu);
	for (c = metrics_requests; c; c = c->next)
		metrics_printf(
			&b,
			"netnsd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
			c->route, c->method, c->status,
			(unsigned long long)c->count);
	metrics_printf(
		&b,
		"# HELP netnsd_http_request_duration_seconds Time to answer a request, by route.\n"
		"# TYPE netnsd_http_request_duration_seconds histogram\n");
	for (h = metrics_latency; h; h = h->next) {
		for (size_t i = 0; i < METRICS_NB; i++)
			metrics_printf(
				&b,
				"netnsd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				h->route, metrics_buckets[i],
				(unsigned long long)h->buckets[i]);
		metrics_printf(
			&b,
			"netnsd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
			"netnsd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
			"netnsd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
			h->route, (unsigned long long)h->count, h->route,
			h->sum, h->route, (unsigned long long)h->count);
	}
	metrics_printf(
		&b,
		"# HELP netnsd_reconcile_runs_total Reconcile runs, at start-up and on request.\n"
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

	nl_error_counts(errs, NL_ERRNO_MAX);
	metrics_printf(
		&b,
		"# HELP netnsd_netlink_errors_total Kernel refusals of netlink requests, by errno.\n"
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
	drift_count(store, &drifted);
	metrics_printf(
		&b,
		"# HELP netnsd_drifted_objects Managed objects that differ from their desired state now.\n"
		"# TYPE netnsd_drifted_objects gauge\n"
		"netnsd_drifted_objects %zu\n",
		drifted);
	*ret_len = b.len;
	return b.text;
}
