/* POST /v1/namespaces/{ns}/links and PUT /v1/namespaces/{ns}/links/{link}:
 * a link of the kind table (state/link_kind.h) made or converged
 * (openapi/openapi.yaml, createLink and ensureLink). */
#ifndef NETNSD_HANDLER_LINK_NEW_H
#define NETNSD_HANDLER_LINK_NEW_H

#include "../api/request.h"

int link_handle_create(struct request *req, struct reply *rep);
int link_handle_put(struct request *req, struct reply *rep);

#endif
