#ifndef NETNSD_HANDLER_VETH_H
#define NETNSD_HANDLER_VETH_H

#include "../api/request.h"

int veth_handle_list(struct request *req, struct reply *rep);
int veth_handle_create(struct request *req, struct reply *rep);
int veth_handle_put(struct request *req, struct reply *rep);
int veth_handle_get(struct request *req, struct reply *rep);
int veth_handle_delete(struct request *req, struct reply *rep);

#endif
