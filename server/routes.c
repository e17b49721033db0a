/* The route table: every (method, path) the API answers (OPTIONS, for CORS
 * preflights, is answered from it for every path), and the query
 * parameters each accepts. The OpenAPI document lists exactly these
 * (openapi/check_routes.py checks it). */
#include "router.h"

#include "../handlers/address.h"
#include "../handlers/bridge.h"
#include "../handlers/link.h"
#include "../handlers/link_new.h"
#include "../handlers/links_all.h"
#include "../handlers/namespace.h"
#include "../handlers/route.h"
#include "../handlers/state.h"
#include "../handlers/sysctl.h"
#include "../handlers/veth.h"
#include "dashboard.h"
#include "events_http.h"
#include "service.h"

#define NS    "/v1/namespaces/{ns}"
#define LINK  NS "/links/{link}"
#define BR    NS "/bridges/{br}"
#define ROUTE NS "/routes/{dst}/{prefixlen}"

const struct route router_routes[] = {
	{ "GET", "/healthz", service_handle_healthz, ROUTE_NO_LOCK, 0 },
	{ "GET", "/readyz", service_handle_readyz, ROUTE_NO_LOCK, 0 },
	{ "GET", "/metrics", service_handle_metrics, ROUTE_NO_LOCK | ROUTE_LONG,
	  0 },
	{ "GET", "/openapi.yaml", service_handle_openapi, ROUTE_NO_LOCK, 0 },

	{ "GET", "/v1/namespaces", ns_handle_list, ROUTE_LONG, 0 },
	{ "POST", "/v1/namespaces", ns_handle_create, ROUTE_MUTATES,
	  ROUTE_QUERY_DRY_RUN },
	{ "GET", NS, ns_handle_get, 0, 0 },
	{ "PUT", NS, ns_handle_put, ROUTE_MUTATES, ROUTE_QUERY_DRY_RUN },
	{ "DELETE", NS, ns_handle_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },

	{ "GET", "/v1/links", links_all_handle_list, ROUTE_LONG,
	  ROUTE_QUERY_NAMESPACE | ROUTE_QUERY_KIND | ROUTE_QUERY_MANAGED |
		  ROUTE_QUERY_IN_SYNC },

	{ "GET", NS "/links", link_handle_list, 0, 0 },
	{ "POST", NS "/links", link_handle_create, ROUTE_MUTATES,
	  ROUTE_QUERY_DRY_RUN },
	{ "GET", LINK, link_handle_get, 0, 0 },
	{ "PUT", LINK, link_handle_put, ROUTE_MUTATES, ROUTE_QUERY_DRY_RUN },
	{ "PATCH", LINK, link_handle_patch, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "DELETE", LINK, link_handle_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },

	{ "GET", LINK "/addresses", address_handle_list, 0, 0 },
	{ "POST", LINK "/addresses", address_handle_create, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "GET", LINK "/addresses/{ip}/{prefixlen}", address_handle_get, 0, 0 },
	{ "PUT", LINK "/addresses/{ip}/{prefixlen}", address_handle_put,
	  ROUTE_MUTATES, ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "DELETE", LINK "/addresses/{ip}/{prefixlen}", address_handle_delete,
	  ROUTE_MUTATES, ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },

	{ "GET", NS "/routes", route_handle_list, 0, 0 },
	{ "POST", NS "/routes", route_handle_create, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "GET", ROUTE, route_handle_get, 0,
	  ROUTE_QUERY_TABLE | ROUTE_QUERY_METRIC },
	{ "PUT", ROUTE, route_handle_put, ROUTE_MUTATES,
	  ROUTE_QUERY_TABLE | ROUTE_QUERY_METRIC | ROUTE_QUERY_FORCE |
		  ROUTE_QUERY_DRY_RUN },
	{ "DELETE", ROUTE, route_handle_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_TABLE | ROUTE_QUERY_METRIC | ROUTE_QUERY_FORCE |
		  ROUTE_QUERY_DRY_RUN },

	{ "GET", NS "/veths", veth_handle_list, 0, 0 },
	{ "POST", NS "/veths", veth_handle_create, ROUTE_MUTATES,
	  ROUTE_QUERY_DRY_RUN },
	{ "GET", NS "/veths/{name}", veth_handle_get, 0, 0 },
	{ "PUT", NS "/veths/{name}", veth_handle_put, ROUTE_MUTATES,
	  ROUTE_QUERY_DRY_RUN },
	{ "DELETE", NS "/veths/{name}", veth_handle_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },

	{ "GET", NS "/bridges", bridge_handle_list, 0, 0 },
	{ "POST", NS "/bridges", bridge_handle_create, ROUTE_MUTATES,
	  ROUTE_QUERY_DRY_RUN },
	{ "GET", BR, bridge_handle_get, 0, 0 },
	{ "PUT", BR, bridge_handle_put, ROUTE_MUTATES, ROUTE_QUERY_DRY_RUN },
	{ "PATCH", BR, bridge_handle_patch, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "DELETE", BR, bridge_handle_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "GET", BR "/ports", bridge_handle_ports, 0, 0 },
	{ "GET", BR "/ports/{link}", bridge_handle_port_get, 0, 0 },
	{ "PUT", BR "/ports/{link}", bridge_handle_port_put, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "DELETE", BR "/ports/{link}", bridge_handle_port_delete,
	  ROUTE_MUTATES, ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },

	{ "GET", "/v1/events", events_handle_stream,
	  ROUTE_NO_LOCK | ROUTE_STREAM,
	  ROUTE_QUERY_SINCE | ROUTE_QUERY_NAMESPACE | ROUTE_QUERY_TYPES |
		  ROUTE_QUERY_TICKET },
	{ "POST", "/v1/events/tickets", events_handle_ticket, ROUTE_NO_LOCK,
	  0 },

	{ "GET", NS "/sysctls", sysctl_handle_list, 0, 0 },
	{ "GET", NS "/sysctls/{key}", sysctl_handle_get, 0, 0 },
	{ "PUT", NS "/sysctls/{key}", sysctl_handle_put, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },
	{ "DELETE", NS "/sysctls/{key}", sysctl_handle_delete, ROUTE_MUTATES,
	  ROUTE_QUERY_FORCE | ROUTE_QUERY_DRY_RUN },

	{ "GET", "/v1/state", state_handle_get, ROUTE_LONG, 0 },
	{ "PUT", "/v1/state", state_handle_put,
	  ROUTE_MUTATES | ROUTE_EXCLUSIVE | ROUTE_LONG,
	  ROUTE_QUERY_DRY_RUN | ROUTE_QUERY_CONFIRM },
	{ "POST", "/v1/state/confirm", state_handle_confirm,
	  ROUTE_MUTATES | ROUTE_EXCLUSIVE | ROUTE_LONG, 0 },
	{ "POST", "/v1/reconcile", service_handle_reconcile,
	  ROUTE_MUTATES | ROUTE_EXCLUSIVE | ROUTE_LONG, 0 },

	{ "GET", "/", dashboard_handle_page, ROUTE_NO_LOCK, 0 },
	{ "GET", "/app.js", dashboard_handle_script, ROUTE_NO_LOCK, 0 },
	{ "GET", "/app.css", dashboard_handle_style, ROUTE_NO_LOCK, 0 },
};

const size_t router_n_routes = sizeof(router_routes) / sizeof(router_routes[0]);
