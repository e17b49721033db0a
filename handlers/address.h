#ifndef NETNSD_HANDLER_ADDRESS_H
#define NETNSD_HANDLER_ADDRESS_H

#include "../api/request.h"

int address_handle_list(struct request *req, struct reply *rep);
int address_handle_create(struct request *req, struct reply *rep);
int address_handle_put(struct request *req, struct reply *rep);
int address_handle_get(struct request *req, struct reply *rep);
int address_handle_delete(struct request *req, struct reply *rep);

#endif
