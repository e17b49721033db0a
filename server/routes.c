/* The route table: every (method, path) the API answers. */
#include "router.h"

#include "../handlers/health.h"
#include "../handlers/namespace.h"

const struct route router_routes[] = {
	{ "GET", "/healthz", health_handle_healthz, 0 },

	{ "GET", "/v1/namespaces", ns_handle_list, 0 },
	{ "POST", "/v1/namespaces", ns_handle_create, ROUTE_MUTATES },
	{ "GET", "/v1/namespaces/{ns}", ns_handle_get, 0 },
	{ "PUT", "/v1/namespaces/{ns}", ns_handle_put, ROUTE_MUTATES },
	{ "DELETE", "/v1/namespaces/{ns}", ns_handle_delete, ROUTE_MUTATES },
};

const size_t router_n_routes = sizeof(router_routes) / sizeof(router_routes[0]);
