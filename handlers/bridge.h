#ifndef NETNSD_HANDLER_BRIDGE_H
#define NETNSD_HANDLER_BRIDGE_H

#include "../api/request.h"

int bridge_handle_list(struct request *req, struct reply *rep);
int bridge_handle_create(struct request *req, struct reply *rep);
int bridge_handle_put(struct request *req, struct reply *rep);
int bridge_handle_get(struct request *req, struct reply *rep);
int bridge_handle_patch(struct request *req, struct reply *rep);
int bridge_handle_delete(struct request *req, struct reply *rep);
int bridge_handle_ports(struct request *req, struct reply *rep);
int bridge_handle_port_get(struct request *req, struct reply *rep);
int bridge_handle_port_put(struct request *req, struct reply *rep);
int bridge_handle_port_delete(struct request *req, struct reply *rep);

#endif
