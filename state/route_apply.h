/* Desired routes against the kernel: the one place that decides whether a
 * route is as desired, how it differs, and converges it, for the API's
 * requests and for start-up and POST /v1/reconcile alike (README.md,
 * "Routes"). */
#ifndef NETNSD_ROUTE_APPLY_H
#define NETNSD_ROUTE_APPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../netlink/route.h"
#include "record.h"
#include "store.h"

/* What route_apply() found, and did. */
enum route_outcome {
	ROUTE_MATCHED,	/* netnsd's route was there as desired: nothing done */
	ROUTE_CREATED,	/* there was none: added */
	ROUTE_REPLACED, /* it differed, or (forced) was another's: replaced */
	ROUTE_FOREIGN,	/* a route netnsd did not make holds its place */
};

/* The API path of route `r` of namespace `ns` (README.md, "Routes"):
 * its table and metric in the query when they are not the defaults (254;
 * 0 for IPv4, 1024 for IPv6). */
void route_path(char buf[256], const char *ns, const struct record_route *r);

/* The kernel's form of record `r`, on link `ifindex` (0: none). */
void route_to_nl(const struct record_route *r, int ifindex,
		 struct nl_route *ret);

/* Whether `have` is netnsd's route as `r` desires it, `ifindex` being the
 * index of r->dev (ignored when r->dev is NULL). */
bool route_matches(const struct record_route *r, int ifindex,
		   const struct nl_route *have);

/* How `have` (NULL: no route of that identity) differs from `r`, in the
 * words the API shows (openapi/openapi.yaml, "Route.drift"): a new array,
 * empty when in sync. `have_dev` is the name of have->ifindex, or NULL. */
json_t *route_drift(const struct record_route *r, const struct nl_route *have,
		    const char *have_dev);

/* Converges the kernel of the namespace of `s` to record `r`, given the
 * routes the kernel has there now: adds it when missing, replaces it when
 * it differs. A route of that identity netnsd did not make is replaced
 * only when `force`, else left alone (ROUTE_FOREIGN). Returns 0 or a
 * negative errno: -ENODEV when r->dev is not there, a kernel refusal (the
 * kernel's words are in nl_extack()). */
int route_apply(struct nl_sock *s, const struct record_route *r,
		const struct nl_route *routes, size_t n, bool force,
		enum route_outcome *ret);

/* Whether desired route `r`, absent (`have` NULL), waits for its link to
 * come up: the kernel takes no route through a link that is down, and
 * netnsd puts it back when the link comes up. Not drift. */
struct link_index;
bool route_waits_for_link(const struct record_route *r,
			  const struct nl_route *have,
			  const struct link_index *links);

/* How many desired routes of namespace `ns` differ from its kernel,
 * reading its routes through `s` (NULL: unreadable, every one counts as
 * missing), with `links` to name their devices; the words of each appended
 * to `words` ("route 198.18.8.0/24: missing"). */
struct link_index;
size_t route_drift_ns(struct store *store, const char *ns, struct nl_sock *s,
		      const struct link_index *links, json_t *words);

/* The reconciler's pass over every desired route, after namespaces, links
 * and addresses: each converged with route_apply() (never forced), what
 * it did appended to `actions` as words, what failed to `failures` as
 * {"object", "error", "transient"} (state/reconcile.h); none in a
 * namespace `blocked` names ("ns/<ns>": reconcile left it alone). */
void route_reconcile(struct store *store, json_t *actions, json_t *failures,
		     json_t *blocked);

#endif
