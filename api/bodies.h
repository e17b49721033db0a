/* The request bodies of the API, one table each (api/body.h): the handlers
 * check bodies against them, the body fuzzer feeds them, and
 * openapi/check_routes.py compares each with its schema in
 * openapi/openapi.yaml (the schema named in body_schemas[]). */
#ifndef NETNSD_BODIES_H
#define NETNSD_BODIES_H

#include <stddef.h>

#include "body.h"

extern const struct body_field body_empty[];
extern const struct body_field body_ns_create[];
extern const struct body_field body_ns_put[];
extern const struct body_field body_link_patch[];
/* Every member a link of the kind table may have; its kind's own are
 * checked after (state/link_kind.h). */
extern const struct body_field body_link_new[];
/* What every link of the kind table has. */
extern const struct body_field body_link_new_base[];
extern const struct body_field body_address_create[];
extern const struct body_field body_veth[];
extern const struct body_field body_veth_peer[];
extern const struct body_field body_bridge[];
extern const struct body_field body_bridge_patch[];
extern const struct body_field body_route[];
extern const struct body_field body_sysctl[];

/* A table and the OpenAPI schema (components/schemas) it implements. */
struct body_schema {
	const char *schema;
	const struct body_field *fields;
};

extern const struct body_schema body_schemas[];
extern const size_t body_n_schemas;

#endif
