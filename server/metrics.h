/* Prometheus metrics: counted as requests and reconciles happen, rendered in
 * the text exposition format on GET /metrics. */
#ifndef NETNSD_METRICS_H
#define NETNSD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct route;
struct store;

/* `route` is the matched entry of router_routes, or NULL when nothing
 * matched. */
void metrics_request(const struct route *route, const char *method, int status,
		     double seconds);
void metrics_reconcile(size_t actions, size_t failures);

/* The whole exposition; free() it. */
char *metrics_render(struct store *store, size_t *ret_len);

#endif
