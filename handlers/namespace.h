#ifndef NETNSD_HANDLER_NAMESPACE_H
#define NETNSD_HANDLER_NAMESPACE_H

#include "../api/request.h"

int ns_handle_list(struct request *req, struct reply *rep);
int ns_handle_create(struct request *req, struct reply *rep);
int ns_handle_put(struct request *req, struct reply *rep);
int ns_handle_get(struct request *req, struct reply *rep);
int ns_handle_delete(struct request *req, struct reply *rep);

#endif
