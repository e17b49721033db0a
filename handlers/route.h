#ifndef NETNSD_HANDLER_ROUTE_H
#define NETNSD_HANDLER_ROUTE_H

#include "../api/request.h"

/* Routes of a namespace (README.md, "Routes"). */
int route_handle_list(struct request *req, struct reply *rep);
int route_handle_create(struct request *req, struct reply *rep);
int route_handle_get(struct request *req, struct reply *rep);
int route_handle_put(struct request *req, struct reply *rep);
int route_handle_delete(struct request *req, struct reply *rep);

#endif
